//go:build unix

// The shell benchmarks measure what the web stack costs a request: the same
// small JSON answered by a bare net/http handler, by that handler behind the
// full middleware chain, and by the real app (public health check, API with a
// key, dashboard page with a session, API with a database list), on SQLite and,
// with HOPNHAT_TEST_POSTGRES set, on PostgreSQL.
//
//	go test ./cmd/hopnhat/ -run '^$' -bench Shell -benchtime 2s
//	HOPNHAT_TEST_POSTGRES=1 go test ./cmd/hopnhat/ -run '^$' -bench Shell -benchtime 2s
//
// BenchmarkShell calls the handler in process (no sockets: the difference to
// "bare" is the middleware, router and handler). BenchmarkShellTCP sends the
// same requests over keep-alive connections on 127.0.0.1 (adds net/http's
// parsing and the client). Besides ns/op (wall time per request with every
// core busy) each reports req/s and cpu-ns/op: CPU time of this process per
// request, read with getrusage, which on a machine with several cores is the
// honest "cost of one request" (for PostgreSQL it leaves out the server's CPU;
// over TCP it includes the client's).

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

const (
	benchUser     = "bench-admin"
	benchPassword = "mật-khẩu-đo-tải-2025"
	// benchUsers is how many accounts GET /api/v1/users lists.
	benchUsers = 10
	// benchWarmup requests run, and are checked, before the timer starts.
	benchWarmup = 200
	// In-process goroutines per core: enough that PostgreSQL round trips
	// overlap, as they do under a real load.
	benchParallelism = 4
	// Client goroutines (and connections) per core over TCP.
	benchParallelismTCP = 16
)

// benchCase is one request of the shell benchmarks and the answer it must get.
type benchCase struct {
	name     string
	target   string // which handler serves it: "bare" or "app"
	path     string
	cred     string // "", "key" (Authorization: Bearer) or "session" (cookie)
	ctype    string // Content-Type prefix the answer must have
	contains string // text the body must contain (checked during warm-up)
}

var benchCases = []benchCase{
	// The reference: net/http and a small JSON, nothing of ours.
	{name: "bare", target: "bare", path: "/healthz", ctype: "application/json", contains: `"status":"ok"`},
	// The same handler behind the app's middleware and router, anonymous; Observe
	// logs it at info, like every page and API request.
	{name: "chain", target: "app", path: "/bench/bare", ctype: "application/json", contains: `"status":"ok"`},
	// Middleware, router and the shell's own JSON; logged at debug, so not formatted.
	{name: "healthz", target: "app", path: "/healthz", ctype: "application/json", contains: `"status":"ok"`},
	// API key lookup (one indexed SELECT) and a small JSON.
	{name: "me", target: "app", path: "/api/v1/me", cred: "key", ctype: "application/json", contains: `"role":"admin"`},
	// Session lookup, the dashboard tiles' counts and the HTML layout.
	{name: "home", target: "app", path: "/", cred: "session", ctype: "text/html", contains: `class="tile"`},
	// API key lookup, COUNT and a page of users as JSON.
	{name: "users", target: "app", path: "/api/v1/users", cred: "key", ctype: "application/json",
		contains: fmt.Sprintf(`"total":%d`, benchUsers)},
}

// benchEnv is a built app with an administrator signed in by session and by key.
type benchEnv struct {
	handlers map[string]http.Handler // "bare", "app"
	key      string                  // plaintext API key, role admin
	session  string                  // session token of benchUser
}

func benchLogger() *slog.Logger {
	// Production logs JSON at info; writing it to io.Discard keeps the
	// formatting cost and leaves out the terminal's.
	return slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// bareHandler answers what /healthz answers, with net/http alone.
func bareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := json.Marshal(map[string]string{"status": "ok", "version": version})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(append(b, '\n'))
	})
}

func newBenchEnv(b *testing.B, d *db.DB) *benchEnv {
	b.Helper()
	log := benchLogger()
	cfg := &config{BodyLimit: 1 << 20, SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour}
	a, err := newApp(d, cfg, log)
	if err != nil {
		b.Fatalf("new app: %v", err)
	}
	ctx := reqctx.WithActor(context.Background(), "system:bench")
	province := reqctx.Scope{Kind: reqctx.ScopeProvince}
	if _, err := a.auth.CreateUser(ctx, auth.NewUser{Username: benchUser, FullName: "Quản trị đo tải",
		Role: reqctx.RoleAdmin, Scope: province, Password: benchPassword}); err != nil {
		b.Fatalf("create admin: %v", err)
	}
	for i := 1; i < benchUsers; i++ {
		if _, err := a.auth.CreateUser(ctx, auth.NewUser{Username: fmt.Sprintf("can-bo-%02d", i),
			FullName: fmt.Sprintf("Cán bộ số %d", i), Role: reqctx.RoleViewer, Scope: province,
			Password: benchPassword}); err != nil {
			b.Fatalf("create user %d: %v", i, err)
		}
	}
	tok, _, err := a.auth.Login(ctx, auth.Credentials{Username: benchUser, Password: benchPassword,
		Client: "127.0.0.1", UserAgent: "hopnhat-bench"})
	if err != nil {
		b.Fatalf("login: %v", err)
	}
	key, _, err := a.auth.CreateAPIKey(ctx, auth.NewAPIKey{Name: "bench", Role: reqctx.RoleAdmin, Scope: province})
	if err != nil {
		b.Fatalf("create api key: %v", err)
	}
	bare := bareHandler()
	// The bare handler mounted on the app's own router, so it runs behind
	// exactly the middleware newApp chains, whatever that becomes.
	a.router.Handle("GET /bench/bare", web.Public, func(w http.ResponseWriter, r *http.Request) error {
		bare.ServeHTTP(w, r)
		return nil
	})
	return &benchEnv{
		handlers: map[string]http.Handler{"bare": bare, "app": a.handler},
		key:      key, session: tok,
	}
}

// request returns a GET of c against base (scheme and host). It is safe to call
// from RunParallel's goroutines.
func (e *benchEnv) request(base string, c benchCase) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodGet, base+c.path, nil)
	if err != nil {
		return nil, err
	}
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("User-Agent", "hopnhat-bench")
	r.Header.Set("Accept", "*/*")
	switch c.cred {
	case "key":
		r.Header.Set("Authorization", "Bearer "+e.key)
	case "session":
		r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: e.session})
	}
	return r, nil
}

// verify checks a full answer: status 200, content type and body text.
func (c benchCase) verify(status int, h http.Header, body []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("%s: status %d (location %q), want 200; body: %.300s", c.path, status, h.Get("Location"), body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, c.ctype) {
		return fmt.Errorf("%s: Content-Type %q, want %s", c.path, ct, c.ctype)
	}
	if !strings.Contains(string(body), c.contains) {
		return fmt.Errorf("%s: body lacks %q: %.300s", c.path, c.contains, body)
	}
	return nil
}

// firstErr keeps the first failure of the parallel loop; b.Fatal may only be
// called from the benchmark's own goroutine.
type firstErr struct {
	once sync.Once
	err  error
}

func (f *firstErr) set(err error) { f.once.Do(func() { f.err = err }) }

// discardWriter is a ResponseWriter reused across requests: it keeps the
// status and drops the body, so the in-process figures carry no recorder cost.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds req/s and cpu-ns/op; call it after the timer stopped.
func report(b *testing.B, cpu time.Duration) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "req/s")
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkShell times the handlers in process, on SQLite and PostgreSQL.
func BenchmarkShell(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchShell(b, newBenchEnv(b, dbtest.SQLite(b, modules()))) })
	b.Run("postgres", func(b *testing.B) { benchShell(b, newBenchEnv(b, dbtest.Postgres(b, modules()))) })
}

func benchShell(b *testing.B, e *benchEnv) {
	const base = "http://127.0.0.1"
	for _, c := range benchCases {
		h := e.handlers[c.target]
		b.Run(c.name, func(b *testing.B) {
			tmpl, err := e.request(base, c)
			if err != nil {
				b.Fatal(err)
			}
			for range benchWarmup {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, tmpl.WithContext(tmpl.Context()))
				if err := c.verify(rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
					b.Fatalf("warm-up: %v", err)
				}
			}
			var fail firstErr
			b.SetParallelism(benchParallelism)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime(b)
			b.RunParallel(func(pb *testing.PB) {
				// Handlers only read the request, so the goroutines share tmpl.
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					w.reset()
					// A shallow copy per request, as a server gives each
					// request its own *http.Request.
					h.ServeHTTP(w, tmpl.WithContext(tmpl.Context()))
					if w.status != http.StatusOK || w.n == 0 {
						fail.set(fmt.Errorf("%s: status %d, %d bytes; want 200 with a body", c.path, w.status, w.n))
						return
					}
				}
			})
			b.StopTimer()
			if fail.err != nil {
				b.Fatal(fail.err)
			}
			report(b, cpuTime(b)-cpu)
		})
	}
}

// BenchmarkShellTCP sends the same requests over keep-alive connections on
// 127.0.0.1, to servers configured as `hopnhat serve` configures its own.
func BenchmarkShellTCP(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchShellTCP(b, newBenchEnv(b, dbtest.SQLite(b, modules()))) })
	b.Run("postgres", func(b *testing.B) { benchShellTCP(b, newBenchEnv(b, dbtest.Postgres(b, modules()))) })
}

func benchShellTCP(b *testing.B, e *benchEnv) {
	log := benchLogger()
	urls := map[string]string{}
	for name, h := range e.handlers {
		ts := httptest.NewUnstartedServer(h) // listens on 127.0.0.1
		ts.Config = web.NewServer(ts.Listener.Addr().String(), h, log)
		ts.Start()
		b.Cleanup(ts.Close)
		urls[name] = ts.URL
	}
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:               nil, // 127.0.0.1 only, whatever the environment says
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		// A redirect (to /login, to /account) is a failure, not a request to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	b.Cleanup(client.CloseIdleConnections)
	do := func(r *http.Request) (int, http.Header, []byte, error) {
		resp, err := client.Do(r)
		if err != nil {
			return 0, nil, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, body, err
	}
	for _, c := range benchCases {
		base := urls[c.target]
		b.Run(c.name, func(b *testing.B) {
			for range benchWarmup {
				r, err := e.request(base, c)
				if err != nil {
					b.Fatal(err)
				}
				status, h, body, err := do(r)
				if err != nil {
					b.Fatalf("warm-up: %s: %v", c.path, err)
				}
				if err := c.verify(status, h, body); err != nil {
					b.Fatalf("warm-up: %v", err)
				}
			}
			var fail firstErr
			b.SetParallelism(benchParallelismTCP)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime(b)
			b.RunParallel(func(pb *testing.PB) {
				// Reusing a GET without a body is allowed once its response
				// body is closed.
				r, err := e.request(base, c)
				if err != nil {
					fail.set(err)
					return
				}
				for pb.Next() {
					resp, err := client.Do(r)
					if err != nil {
						fail.set(fmt.Errorf("%s: %v", c.path, err))
						return
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || n == 0 {
						fail.set(fmt.Errorf("%s: status %d, %d bytes; want 200 with a body", c.path, resp.StatusCode, n))
						return
					}
				}
			})
			b.StopTimer()
			if fail.err != nil {
				b.Fatal(fail.err)
			}
			report(b, cpuTime(b)-cpu)
		})
	}
}
