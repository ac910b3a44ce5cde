// Command bare is the reference server of bench/shell.sh: net/http alone,
// answering every GET with the small JSON hopnhat's /healthz answers, so wrk's
// figures for hopnhat read as a ratio to what this machine does with no
// middleware, router or database at all.
//
//	go run ./bench/bare -addr 127.0.0.1:0
//
// With -proxy URL it is instead the reference of bench/gateway.sh: Go's
// httputil.ReverseProxy alone in front of URL, with no key, grant, rate limit
// or log, so the gateway's figures read against what Go's own proxy does on
// this machine as well as against nginx.
//
//	go run ./bench/bare -addr 127.0.0.1:0 -proxy http://127.0.0.1:8081
//
// It prints "listening on http://ADDR" once the socket is open and stops on
// SIGINT or SIGTERM. It listens on (and proxies to) loopback addresses only.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only; port 0 picks a free one)")
	proxy := flag.String("proxy", "", "forward every call to this loopback URL with httputil.ReverseProxy")
	flag.Parse()
	if err := run(*addr, *proxy); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

// loopback reports whether host is a loopback address.
func loopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// reverseProxy is Go's reverse proxy to target with the transport settings
// the gateway uses.
func reverseProxy(target string) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !loopback(u.Hostname()) {
		return nil, fmt.Errorf("-proxy %q: a loopback http(s) URL", target)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
		},
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second,
			ForceAttemptHTTP2: true},
	}, nil
}

func run(addr, proxy string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if !loopback(host) {
		return fmt.Errorf("refusing to listen on %s: loopback addresses only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var handler http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := json.Marshal(map[string]string{"status": "ok", "version": "dev"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(append(b, '\n'))
	})
	if proxy != "" {
		if handler, err = reverseProxy(proxy); err != nil {
			return err
		}
	}
	// The same timeouts as hopnhat's server, so only the handler differs.
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("listening on http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
