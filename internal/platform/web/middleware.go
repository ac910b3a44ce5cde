package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/reqctx"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies mws so the first is the outermost.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// reqInfo is filled in as a request travels inward, for the outer middleware
// to log and count: the router records the matched pattern.
type reqInfo struct{ pattern string }

type infoKey struct{}

func infoOf(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(infoKey{}).(*reqInfo)
	return i
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy's fast path (sendfile, splice) for proxied bodies.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.bytes += n
	return n, err
}

// Flush lets streaming handlers flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func newRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Metrics are the HTTP server's Prometheus series.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

// NewMetrics registers the HTTP series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hopnhat_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hopnhat_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hopnhat_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inflight)
	return m
}

// Observe is the outermost middleware: it gives the request an id, recovers a
// panic as a logged 500 carrying that id, then logs and counts the request.
func Observe(log *slog.Logger, m *Metrics, ui *UI, proxies TrustedProxies) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get("X-Request-Id")
			if !validRequestID(id) {
				id = newRequestID()
			}
			info := &reqInfo{}
			ctx := context.WithValue(r.Context(), infoKey{}, info)
			ctx = reqctx.WithRequestID(ctx, id)
			ctx = reqctx.WithClient(ctx, proxies.ClientIP(r))
			r = r.WithContext(ctx)
			w.Header().Set("X-Request-Id", id)
			sw := &statusWriter{ResponseWriter: w}
			m.inflight.Inc()
			defer func() {
				m.inflight.Dec()
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.ErrorContext(ctx, "panic", "request_id", id, "method", r.Method, "path", r.URL.Path,
						"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					if sw.status == 0 {
						ui.Fail(sw, r, fmt.Errorf("panic: %v", p))
					}
				}
				route := info.pattern
				if route == "" {
					route = "unmatched"
				}
				status := sw.status
				if status == 0 {
					status = http.StatusOK
				}
				d := time.Since(start)
				m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
				m.duration.WithLabelValues(route, r.Method).Observe(d.Seconds())
				lvl := slog.LevelInfo
				if route == "GET /healthz" || route == "GET /readyz" || route == "GET /metrics" || route == "GET /static/" {
					lvl = slog.LevelDebug
				}
				if !log.Enabled(ctx, lvl) {
					return
				}
				log.Log(ctx, lvl, "http request", "request_id", id, "method", r.Method, "route", route,
					"path", r.URL.Path, "status", status, "bytes", sw.bytes, "duration_ms", float64(d.Microseconds())/1000,
					"client", reqctx.Client(ctx))
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// TrustedProxies are the addresses of reverse proxies in front of hopnhat whose
// X-Forwarded-For is believed. With none, the peer address is the client.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads a comma-separated list of CIDRs or addresses.
func ParseTrustedProxies(s string) (TrustedProxies, error) {
	var out TrustedProxies
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (tp TrustedProxies) trusts(a netip.Addr) bool {
	for _, p := range tp {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// ClientIP returns the address sign-in throttling and logs attribute r to:
// the peer, or, when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one (the ones further left a client can forge).
func (tp TrustedProxies) ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || len(tp) == 0 || !tp.trusts(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host
		}
		if !tp.trusts(a) {
			return a.Unmap().String()
		}
	}
	return host
}

// ContentSecurityPolicy allows nothing inline and nothing from elsewhere.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

var (
	cspValue         = []string{ContentSecurityPolicy}
	nosniffValue     = []string{"nosniff"}
	referrerValue    = []string{"same-origin"}
	denyValue        = []string{"DENY"}
	permissionsValue = []string{"camera=(), microphone=(), geolocation=()"}
	hstsValue        = []string{"max-age=31536000"}
)

// SecurityHeaders sets the headers every response carries; hsts adds
// Strict-Transport-Security when the server speaks TLS.
func SecurityHeaders(hsts bool) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Shared, never-modified value slices: no allocation per request.
			h := w.Header()
			h["Content-Security-Policy"] = cspValue
			h["X-Content-Type-Options"] = nosniffValue
			h["Referrer-Policy"] = referrerValue
			h["X-Frame-Options"] = denyValue
			h["Permissions-Policy"] = permissionsValue
			if hsts {
				h["Strict-Transport-Security"] = hstsValue
			}
			next.ServeHTTP(w, r)
		})
	}
}

// CrossOrigin refuses state-changing requests a browser sends from another site
// (CSRF), using the Sec-Fetch-Site and Origin headers browsers always send.
// Clients that are not browsers send neither and pass; they authenticate with
// API keys, which a foreign page cannot attach.
func CrossOrigin(ui *UI) Middleware {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ui.Fail(w, r, apperr.New(apperr.Forbidden, "error.cross_origin"))
	}))
	return cop.Handler
}

// LimitBody caps request bodies at limit bytes (413 beyond it) and refuses a
// query string carrying a NUL byte or broken UTF-8, which no field may hold.
//
// Paths in larger get their own limit: batch and upload endpoints.
func LimitBody(limit int64, ui *UI, larger map[string]int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if q := r.URL.RawQuery; q != "" {
				if v, err := url.QueryUnescape(q); err == nil && (strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v)) {
					ui.Fail(w, r, apperr.New(apperr.Invalid, "error.text_invalid"))
					return
				}
			}
			n := limit
			if l, ok := larger[r.URL.Path]; ok && l > n {
				n = l
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}
