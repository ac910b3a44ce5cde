package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"sync"

	"github.com/spf13/cobra"

	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

func serveCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "chạy máy chủ web — run the web server",
		Long: `Chạy máy chủ web, áp dụng các bản cập nhật cơ sở dữ liệu còn thiếu, tạo tài khoản quản trị đầu tiên
nếu chưa có (mật khẩu in ra một lần) và chạy các tác vụ nền.

Runs the web server, applies pending migrations, creates the first administrator if there
is none (its password is printed once) and runs background jobs. SIGTERM or Ctrl-C stops
it gracefully: in-flight requests finish first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addServeFlags(cmd.Flags(), cfg)
	return cmd
}

// openApp checks the settings, opens and migrates the database, marks it in
// use and builds the app; close releases and closes it.
func openApp(ctx context.Context, cfg *config, errw io.Writer) (a *app, close func(), err error) {
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	log, err := newLogger(errw, cfg)
	if err != nil {
		return nil, nil, err
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	release, err := d.HoldInUse()
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	close = func() {
		release()
		d.Close()
	}
	if a, err = newApp(d, cfg, log); err != nil {
		close()
		return nil, nil, err
	}
	return a, close, nil
}

func runServe(ctx context.Context, cfg *config, out, errw io.Writer) error {
	a, closeApp, err := openApp(ctx, cfg, errw)
	if err != nil {
		return err
	}
	defer closeApp()
	log := a.log
	sctx := reqctx.WithActor(ctx, "system:serve")
	if cfg.Demo {
		if err := loadDemo(sctx, a, out); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	if err := ensureAdmin(sctx, a, out); err != nil {
		return err
	}
	// Everything below stops together: on a signal, or when the server cannot
	// listen, so a failed start never leaves the job runner running alone.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	runner, err := newJobRunner(a)
	if err != nil {
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := runner.Run(ctx); err != nil {
			log.Error("job runner stopped", "err", err)
		}
	}()
	// The gateway's background work stops after the servers: it writes the
	// message-log records of the last calls they finished.
	gw := startGateway(context.WithoutCancel(ctx), a)
	defer gw()
	main := listener{addr: cfg.Addr, handler: a.handler, tlsCert: cfg.TLSCert, tlsKey: cfg.TLSKey, what: "hopnhat"}
	if cfg.Demo {
		main.listening = func(addr net.Addr) { demoGatewayListening(sctx, a, addr) }
	}
	listeners := []listener{main}
	if cfg.GatewayAddr != "" {
		l, err := gatewayListener(cfg, a, cfg.GatewayAddr)
		if err != nil {
			return err
		}
		listeners = append(listeners, l)
	}
	err = serveAll(ctx, cfg, log, out, listeners)
	stop()
	wg.Wait()
	return err
}

// listener is one address hopnhat serves.
type listener struct {
	addr, tlsCert, tlsKey string
	handler               http.Handler
	clientCAs             *x509.CertPool
	what                  string         // how the start line names it
	listening             func(net.Addr) // called once it listens (may be nil)
}

// gatewayListener is the gateway's own address, with its TLS and client
// authorities.
func gatewayListener(cfg *config, a *app, addr string) (listener, error) {
	cas, err := cfg.gatewayClientCAs()
	if err != nil {
		return listener{}, err
	}
	return listener{addr: addr, handler: a.gatewayHandler(), tlsCert: cfg.GatewayCert, tlsKey: cfg.GatewayKey,
		clientCAs: cas, what: "hopnhat gateway"}, nil
}

// serveAll serves every listener until ctx is done, then shuts them all down
// gracefully; the first to fail stops the others.
func serveAll(ctx context.Context, cfg *config, log *slog.Logger, out io.Writer, ls []listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(ls))
	var mu sync.Mutex // one start line at a time
	for _, l := range ls {
		go func() {
			srv := web.NewServer(l.addr, l.handler, log)
			err := web.Serve(ctx, srv, web.ServerConfig{Addr: l.addr, TLSCert: l.tlsCert, TLSKey: l.tlsKey,
				ShutdownTimeout: cfg.ShutdownTimeout, ClientCAs: l.clientCAs, ReusePort: cfg.ReusePort}, log,
				func(addr net.Addr) {
					scheme := "http"
					if l.tlsCert != "" {
						scheme = "https"
					}
					log.Info("listening", "what", l.what, "addr", addr.String())
					if l.listening != nil {
						l.listening(addr)
					}
					mu.Lock()
					fmt.Fprintf(out, "%s đang chạy / is running: %s://%s\n", l.what, scheme, addr)
					mu.Unlock()
				})
			cancel()
			errs <- err
		}()
	}
	var first error
	for range ls {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// startGateway runs the gateway's background work (message log, catalogue
// poll, health checks, retention); the returned func stops it and waits.
func startGateway(ctx context.Context, a *app) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.xchg.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// ensureAdmin creates the first administrator when there is no account at all
// and prints its password once; it must be changed at first sign-in.
func ensureAdmin(ctx context.Context, a *app, out io.Writer) error {
	n, err := a.auth.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw := generatePassword()
	if _, err := a.auth.CreateUser(ctx, auth.NewUser{Username: "admin", FullName: "Quản trị hệ thống", Role: reqctx.RoleAdmin,
		Scope: reqctx.Scope{Kind: reqctx.ScopeProvince}, Password: pw, MustChangePassword: true}); err != nil {
		return fmt.Errorf("create first admin: %w", err)
	}
	fmt.Fprintf(out, `Tài khoản quản trị đầu tiên / first administrator account (chỉ in một lần / printed once):
  tên đăng nhập / username: admin
  mật khẩu / password: %s
`, pw)
	return nil
}

// cliActor names the operator of a CLI command in the audit trail.
func cliActor(ctx context.Context) context.Context {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		name += "@" + h
	}
	return reqctx.WithActor(ctx, "cli:"+name)
}
