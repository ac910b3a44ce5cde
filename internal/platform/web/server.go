package web

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServerConfig holds the listener settings.
type ServerConfig struct {
	Addr            string
	TLSCert, TLSKey string
	ShutdownTimeout time.Duration // how long in-flight requests get on SIGTERM
	// ClientCAs, with TLS, asks callers for a client certificate and accepts
	// one these authorities issued (a caller may also come without one).
	ClientCAs *x509.CertPool
	// ReusePort lets a new process listen on the same address before this one
	// stops (SO_REUSEPORT), for restarts that refuse no connection.
	ReusePort bool
}

// NewServer returns an http.Server with timeouts set against slow clients.
func NewServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Serve listens and serves until ctx is done, then shuts down gracefully:
// it stops accepting, lets in-flight requests finish (up to the timeout) and
// returns. ready is called once the listener is open (may be nil).
func Serve(ctx context.Context, srv *http.Server, cfg ServerConfig, log *slog.Logger, ready func(addr net.Addr)) error {
	var lc net.ListenConfig
	if cfg.ReusePort {
		lc.Control = reusePort
	}
	if cfg.ClientCAs != nil {
		if srv.TLSConfig == nil {
			srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		srv.TLSConfig.ClientCAs = cfg.ClientCAs
		srv.TLSConfig.ClientAuth = tls.VerifyClientCertIfGiven
	}
	ln, err := lc.Listen(ctx, "tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", srv.Addr, err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	timeout := cfg.ShutdownTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	log.Info("shutting down", "addr", ln.Addr().String(), "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
