package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hopnhat/internal/platform/apperr"
)

// replayLimit is the largest request body kept in memory so that a failed
// call can be sent again to the backup upstream.
const replayLimit = 1 << 20

// PathPrefix is where the gateway serves services: /gw/{service}/{rest...}.
const PathPrefix = "/gw/"

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

var errUpstreamTimeout = errors.New("upstream did not answer in time")

type callKey struct{}

// upstreamTarget is one upstream a call may go to.
type upstreamTarget struct {
	role string // primary or backup
	base string // the service's URL for it, the breaker's key
	url  *url.URL
}

// call is what the proxy knows about one request while it is forwarded.
type call struct {
	def         ServiceDef
	consumerID  string
	reqID       string
	targets     []upstreamTarget // in the order to try; the second only on failover
	replay      []byte           // the whole request body, when there is a second target
	canReplay   bool             // replay holds the body (or there is none)
	dialTimeout time.Duration
	tooLarge    atomic.Bool
	bodyFailed  atomic.Bool // reading the caller's body failed (too large, cut off)
	headers     *time.Timer // fires errUpstreamTimeout; armed once the request is written, stopped when headers arrive
	timerMu     sync.Mutex
	answered    bool // headers arrived: the timer is not armed again
	rec         *Message
	shadow      *shadowCapture // the legacy answer being kept for a shadow comparison
	trial       *upstream      // the half-open upstream this call took the trial of, until the breaker hears how it went
}

// arm starts the wait for the upstream's headers, unless they came already
// (an upstream may answer before it has read the whole body).
func (c *call) arm(d time.Duration) {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	if !c.answered {
		c.headers.Reset(d)
	}
}

// disarm stops the wait for good.
func (c *call) disarm() {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	c.answered = true
	c.headers.Stop()
}

// gateway is the proxy handler.
type gateway struct {
	s               *Service
	log             *slog.Logger
	rp              *httputil.ReverseProxy
	shadowTransport http.RoundTripper
}

// Proxy returns the gateway handler for /gw/{service}/{rest...}. It forwards a
// call with a valid key and grant to the service's primary upstream, and once
// to its backup when the primary cannot be reached or answers 502/503/504 and
// the call may be repeated (idempotent method or Idempotency-Key). The service
// timeout bounds the wait for the upstream's response headers; bodies stream
// both ways. Mount it at PathPrefix; it checks the path itself and never
// forwards outside the registered upstreams.
func (s *Service) Proxy(log *slog.Logger) http.Handler {
	g := &gateway{s: s, log: log}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		// With a backup, give up on a silent primary early enough to try it.
		if c, ok := ctx.Value(callKey{}).(*call); ok && c.dialTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.dialTimeout)
			defer cancel()
		}
		return dialer.DialContext(ctx, network, addr)
	}
	base := &http.Transport{
		Proxy:                 nil, // upstreams are reached directly, never through an environment proxy
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	g.shadowTransport = base
	g.rp = &httputil.ReverseProxy{
		Rewrite:        g.rewrite,
		Transport:      &failover{s: s, base: base, log: log},
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.proxyError,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return g
}

// splitPath takes /gw/{code}/{rest...} as sent (escaped) and returns the code,
// the escaped rest and its decoded form. It refuses dot segments, empty
// segments ("//", which is how an absolute URL would be smuggled in) and
// escaped slashes or backslashes, so rest stays below the upstream's path.
func splitPath(escaped string) (code, erest, rest string, err error) {
	p, ok := strings.CutPrefix(escaped, PathPrefix)
	if !ok {
		return "", "", "", errServiceNotFound
	}
	code, erest, _ = strings.Cut(p, "/")
	if !codeRE.MatchString(code) {
		return "", "", "", errServiceNotFound
	}
	bad := apperr.New(apperr.Invalid, "exchange.path_invalid")
	segs := strings.Split(erest, "/")
	for i, seg := range segs {
		ds, err := url.PathUnescape(seg)
		if err != nil || (ds == "" && i != len(segs)-1) || !safeSegment(ds) {
			return "", "", "", bad
		}
		// Decoded once more, for an upstream that decodes twice (%252e%252e).
		if dds, err := url.PathUnescape(ds); err == nil && dds != ds && !safeSegment(dds) {
			return "", "", "", bad
		}
	}
	rest, _ = url.PathUnescape(erest)
	return code, erest, rest, nil
}

// safeSegment reports whether a decoded path segment stays where it is: not
// "." or "..", also once cut at ";" (servlet containers read "..;x" as
// ".."), and holding no slash, backslash or NUL.
func safeSegment(ds string) bool {
	name, _, _ := strings.Cut(ds, ";")
	return name != "." && name != ".." && !strings.ContainsAny(ds, "/\\\x00")
}

// target is base with the caller's rest and query appended.
func target(base, erest, rest, rawQuery string) (*url.URL, error) {
	b, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u := &url.URL{Scheme: b.Scheme, Host: b.Host, RawQuery: rawQuery,
		Path:    strings.TrimSuffix(b.Path, "/") + "/" + rest,
		RawPath: strings.TrimSuffix(b.EscapedPath(), "/") + "/" + erest}
	return u, nil
}

// presentedKey returns the gateway key from Authorization: Bearer or X-API-Key.
func presentedKey(r *http.Request) string {
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, tok, _ := strings.Cut(a, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

// mayFailOver reports whether a call the first upstream did not take may go
// to the other. Nothing was sent when the first could not be reached: any
// call may go. A safe method (GET, HEAD, OPTIONS) may go after any failure.
// A call that is repeatable (PUT, DELETE, or with an Idempotency-Key) but
// changes something goes only when a proxy in front of the first upstream
// said 502 or 503, which means the call did not reach it; not after a 504
// or a connection lost mid-call, when it may have done the work: the other
// upstream is another system, which does not share its idempotency store.
func mayFailOver(req *http.Request, resp *http.Response, err error) bool {
	switch {
	case dialFailed(err):
		return true
	case req.Method == http.MethodGet || req.Method == http.MethodHead || req.Method == http.MethodOptions:
		return unavailable(resp, err)
	case retryable(req):
		return err == nil && (resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable)
	}
	return false
}

// retryable reports whether sending r twice is safe.
func retryable(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return r.Header.Get("Idempotency-Key") != ""
}

// watchedBody records that the body went over the service's limit, whatever
// error the transport then reports.
type watchedBody struct {
	io.ReadCloser
	c *call
}

func (b watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		b.c.tooLarge.Store(true)
	}
	if err != nil && err != io.EOF {
		b.c.bodyFailed.Store(true) // the caller's side failed, not the upstream
	}
	return n, err
}

// countingWriter counts what the caller receives and keeps the status.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingBody counts what the caller sent. The transport reads it on its
// own goroutine, hence the atomic.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// maxLoggedPath bounds the path kept in the message log.
const maxLoggedPath = 1000

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := r.Header.Get("X-Request-Id")
	if !requestIDRE.MatchString(reqID) {
		reqID = strings.ToLower(rand.Text())
	}
	path := r.URL.EscapedPath()
	if len(path) > maxLoggedPath {
		path = path[:maxLoggedPath]
	}
	rec := &Message{At: start.UTC(), Method: r.Method, Path: path, RequestID: reqID}
	cw := &countingWriter{ResponseWriter: w}
	var bytesIn atomic.Int64
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = countingBody{r.Body, &bytesIn}
	}
	c := &call{reqID: reqID, rec: rec}
	defer func() {
		rec.Status, rec.BytesOut, rec.BytesIn, rec.Latency = cw.status, cw.n, bytesIn.Load(), time.Since(start)
		if rec.Status == 0 { // the caller went away before an answer
			rec.Status = 499
		}
		if c.trial != nil { // refused before it reached the upstream: the trial is for another call
			c.trial.trial.Store(false)
		}
		rec.ID = g.s.msg.nextID(rec.At)
		g.s.metrics().observe(rec)
		g.s.msg.add(entry{msg: rec})
		if c.shadow != nil {
			g.shadowCall(r, c)
		}
	}()
	g.serve(cw, r, c)
}

// serve checks the call and forwards it.
func (g *gateway) serve(w http.ResponseWriter, r *http.Request, c *call) {
	code, erest, rest, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		g.fail(w, r, c, err)
		return
	}
	consumer, def, grant, err := g.authorize(r, code)
	c.rec.ConsumerID = consumer.ID
	if def.Code != "" {
		c.rec.ServiceCode = def.Code
	}
	if err != nil {
		if apperr.Is(err, apperr.Unauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hopnhat-gw", error="invalid_token"`)
		}
		g.fail(w, r, c, err)
		return
	}
	if grant.RatePerMinute > 0 {
		// This process's share of the rate (see nodes.go).
		rate := max(1, float64(grant.RatePerMinute)/float64(g.s.Nodes()))
		if ok, wait := g.s.lim.AllowRate(consumer.ID+"/"+def.ID, rate, rate); !ok {
			g.fail(w, r, c, &apperr.Error{Kind: apperr.TooManyRequests, Key: "exchange.rate_limited",
				RetryAfter: max(1, int(math.Ceil(wait.Seconds())))})
			return
		}
	}
	c.def, c.consumerID = def, consumer.ID
	if r.ContentLength > def.MaxBodyBytes {
		g.fail(w, r, c, apperr.New(apperr.TooLarge, "exchange.body_too_large"))
		return
	}
	if c.targets, c.trial, err = g.route(def, erest, rest, r.URL.RawQuery); err != nil {
		g.fail(w, r, c, err)
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = watchedBody{http.MaxBytesReader(w, r.Body, def.MaxBodyBytes), c}
	}
	if len(c.targets) > 1 && !g.bufferBody(w, r, c) {
		return
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	// The timeout runs from the moment the request is written (its body
	// included) until the upstream's headers arrive.
	c.headers = time.AfterFunc(time.Hour, func() { cancel(errUpstreamTimeout) })
	c.headers.Stop()
	defer c.disarm()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { c.arm(def.Timeout()) },
	})
	if len(c.targets) > 1 {
		c.dialTimeout = min(def.Timeout()/2, 5*time.Second)
	}
	g.rp.ServeHTTP(w, r.WithContext(context.WithValue(ctx, callKey{}, c)))
}

// authorize identifies the caller by its key or, without one, by a verified
// client certificate, and checks its grant.
func (g *gateway) authorize(r *http.Request, code string) (Consumer, ServiceDef, Grant, error) {
	if key := presentedKey(r); key != "" {
		return g.s.Authorize(r.Context(), key, code, r.Method)
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.PeerCertificates) > 0 {
		return g.s.AuthorizeCert(r.Context(), CertFingerprint(r.TLS.PeerCertificates[0].Raw), code, r.Method)
	}
	return Consumer{}, ServiceDef{}, Grant{}, apperr.New(apperr.Unauthenticated, "exchange.key_missing")
}

// route lists the upstreams to try, in order: the cutover mode decides
// which answers; one failing its health checks goes after one that passes;
// one whose circuit is open is left out, unless it is due for its trial call
// and no other call holds that trial. When none is left it refuses the call
// at once rather than keep a caller waiting on a dead upstream.
func (g *gateway) route(def ServiceDef, erest, rest, rawQuery string) ([]upstreamTarget, *upstream, error) {
	roles := []string{"primary", "backup"}
	if def.Cutover != CutoverNew {
		roles = []string{"backup", "primary"}
	}
	now := time.Now()
	var healthy, unhealthy []upstreamTarget
	var trial *upstream
	var openUntil int64
	for _, role := range roles {
		base := def.PrimaryURL
		if role == "backup" {
			base = def.BackupURL
		}
		if base == "" {
			continue
		}
		u := g.s.ups.get(base)
		ok, tookTrial := u.usable(now)
		if !ok {
			if until := u.openUntil.Load(); until != 0 {
				if openUntil == 0 || until < openUntil {
					openUntil = until
				}
				continue // open circuit, or its trial is out
			}
		}
		t, err := target(base, erest, rest, rawQuery)
		if err != nil {
			if tookTrial != nil {
				tookTrial.trial.Store(false)
			}
			return nil, nil, err
		}
		ut := upstreamTarget{role: role, base: base, url: t}
		if ok {
			healthy = append(healthy, ut)
		} else {
			unhealthy = append(unhealthy, ut)
		}
		if tookTrial != nil {
			if trial != nil { // one trial per call: hand back the second
				tookTrial.trial.Store(false)
			} else {
				trial = tookTrial
			}
		}
	}
	out := append(healthy, unhealthy...)
	if len(out) == 0 {
		wait := time.Until(time.Unix(0, openUntil))
		return nil, nil, &apperr.Error{Kind: apperr.Unavailable, Key: "exchange.circuit_open", RetryAfter: max(1, int(math.Ceil(wait.Seconds())))}
	}
	return out, trial, nil
}

// bufferBody reads a body of up to replayLimit into c.replay so it can be
// sent again; a larger body is streamed as usual and not retried. It writes
// the error and returns false when the body cannot be read.
func (g *gateway) bufferBody(w http.ResponseWriter, r *http.Request, c *call) bool {
	if r.Body == nil || r.Body == http.NoBody {
		c.canReplay = true
		return true
	}
	if r.ContentLength > replayLimit {
		return true
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, replayLimit+1))
	if err != nil {
		if c.tooLarge.Load() {
			g.fail(w, r, c, apperr.New(apperr.TooLarge, "exchange.body_too_large"))
		} else {
			g.fail(w, r, c, apperr.Wrapf(apperr.Invalid, "exchange.body_unreadable", err))
		}
		return false
	}
	if len(buf) > replayLimit {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
		return true
	}
	c.replay, c.canReplay = buf, true
	r.Body = io.NopCloser(bytes.NewReader(buf))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	r.ContentLength = int64(len(buf))
	return true
}

func (g *gateway) rewrite(pr *httputil.ProxyRequest) {
	c := pr.In.Context().Value(callKey{}).(*call)
	u := *c.targets[0].url
	pr.Out.URL = &u
	pr.Out.Host = ""
	pr.SetXForwarded()
	// The consumer's key is for the gateway; the upstream must never see it,
	// nor the cookies of the pages the gateway may share a host with.
	pr.Out.Header.Del("Authorization")
	pr.Out.Header.Del("X-API-Key")
	pr.Out.Header.Del("Cookie")
	pr.Out.Header.Del("X-Hopnhat-Shadow") // only the gateway's own shadow calls carry it
	pr.Out.Header.Set("X-Request-Id", c.reqID)
}

func (g *gateway) modifyResponse(resp *http.Response) error {
	c, ok := resp.Request.Context().Value(callKey{}).(*call)
	if !ok {
		return nil
	}
	resp.Header.Set("X-Request-Id", c.reqID)
	if c.def.Cutover == CutoverShadow && c.rec.Upstream == "backup" &&
		(resp.Request.Method == http.MethodGet || resp.Request.Method == http.MethodHead) {
		g.captureForShadow(resp, c)
	}
	return nil
}

func (g *gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	c, ok := r.Context().Value(callKey{}).(*call)
	if !ok {
		c = &call{rec: &Message{}}
	}
	c.rec.Upstream = ""
	var mbe *http.MaxBytesError
	switch {
	case c.tooLarge.Load() || errors.As(err, &mbe):
		g.fail(w, r, c, apperr.New(apperr.TooLarge, "exchange.body_too_large"))
	case errors.Is(context.Cause(r.Context()), errUpstreamTimeout):
		g.log.WarnContext(r.Context(), "gateway upstream timeout", "request_id", c.reqID, "service", c.def.Code)
		g.fail(w, r, c, apperr.New(apperr.Unavailable, "exchange.upstream_timeout"))
	case r.Context().Err() != nil:
		// The caller went away; there is no one to answer.
		c.rec.Problem = "exchange.client_gone"
	default:
		g.log.WarnContext(r.Context(), "gateway upstream failed", "request_id", c.reqID, "service", c.def.Code, "err", err)
		g.fail(w, r, c, apperr.Wrapf(apperr.Unavailable, "exchange.upstream_unavailable", err))
	}
}

// failover sends a call to its first upstream and, once, to the second.
type failover struct {
	s    *Service
	base http.RoundTripper
	log  *slog.Logger
}

// dialFailed reports whether err means the request never left: the upstream
// could not be reached, so sending it elsewhere is safe for any method.
func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// unavailable reports whether the upstream could not take the call: it
// could not be reached, failed before answering, or a proxy in front of it
// said so.
func unavailable(resp *http.Response, err error) bool {
	if err != nil {
		return true
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// note tells the breaker how an attempt went. A call the caller gave up on
// says nothing about the upstream.
func (f *failover) note(req *http.Request, c *call, t upstreamTarget, resp *http.Response, err error) {
	u := f.s.ups.get(t.base)
	if c.trial == u {
		c.trial = nil // this outcome settles the trial
	}
	if !unavailable(resp, err) {
		u.succeeded()
		return
	}
	callerSide := c.bodyFailed.Load() || (req.Context().Err() != nil && !errors.Is(context.Cause(req.Context()), errUpstreamTimeout))
	if err != nil && callerSide {
		u.trial.Store(false) // says nothing about the upstream
		return
	}
	if u.failed(time.Now()) {
		f.log.Warn("gateway circuit opened", "upstream", t.base, "for", breakerOpen.String())
		f.s.metrics().breaker.WithLabelValues(t.base).Inc()
	}
}

func (f *failover) RoundTrip(req *http.Request) (*http.Response, error) {
	c, ok := req.Context().Value(callKey{}).(*call)
	if !ok {
		return f.base.RoundTrip(req)
	}
	first := c.targets[0]
	resp, err := f.base.RoundTrip(req)
	f.note(req, c, first, resp, err)
	answered := first
	if len(c.targets) > 1 && c.canReplay && req.Context().Err() == nil && mayFailOver(req, resp, err) {
		status := 0
		if resp != nil {
			status = resp.StatusCode
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		second := c.targets[1]
		f.log.WarnContext(req.Context(), "gateway failover", "request_id", c.reqID, "service", c.def.Code,
			"from", first.role, "to", second.role, "status", status, "err", err)
		f.s.metrics().failovers.WithLabelValues(c.def.Code).Inc()
		b := req.Clone(req.Context())
		u := *second.url
		b.URL, b.Host = &u, ""
		b.Body, b.GetBody, b.ContentLength = nil, nil, int64(len(c.replay))
		if len(c.replay) > 0 {
			replay := c.replay
			b.Body = io.NopCloser(bytes.NewReader(replay))
			b.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(replay)), nil }
		}
		resp, err = f.base.RoundTrip(b)
		f.note(b, c, second, resp, err)
		answered = second
	}
	c.disarm()
	if resp != nil {
		resp.Header.Set("X-Upstream", answered.role)
		c.rec.Upstream = answered.role
	}
	return resp, err
}

// problemText is the Vietnamese text of each problem the gateway answers
// with, from the module's catalogue (the pages use the same texts).
var problemText = func() map[string]string {
	m := map[string]string{}
	if b, err := fs.ReadFile(Catalog(), "vi.json"); err == nil {
		_ = json.Unmarshal(b, &m) // the catalogue's own test checks it parses
	}
	m["error.internal"] = "Đã có lỗi xảy ra. Vui lòng thử lại sau."
	return m
}()

var problemTitle = map[int]string{
	http.StatusBadRequest:            "Yêu cầu không hợp lệ",
	http.StatusUnauthorized:          "Chưa xác thực",
	http.StatusForbidden:             "Không có quyền",
	http.StatusNotFound:              "Không tìm thấy",
	http.StatusRequestEntityTooLarge: "Nội dung quá lớn",
	http.StatusInternalServerError:   "Lỗi hệ thống",
	http.StatusBadGateway:            "Lỗi cổng kết nối",
	http.StatusGatewayTimeout:        "Hết thời gian chờ",
	http.StatusTooManyRequests:       "Quá nhiều yêu cầu",
	http.StatusServiceUnavailable:    "Dịch vụ tạm ngừng",
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance,omitempty"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
}

// statusOf maps the gateway's errors to a status. Upstream failures are a
// 502, or a 504 when the upstream was too slow.
func statusOf(err error) (int, string) {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError, "error.internal"
	}
	switch e.Kind {
	case apperr.NotFound:
		return http.StatusNotFound, e.Key
	case apperr.Invalid:
		return http.StatusBadRequest, e.Key
	case apperr.Forbidden:
		return http.StatusForbidden, e.Key
	case apperr.Unauthenticated:
		return http.StatusUnauthorized, e.Key
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge, e.Key
	case apperr.TooManyRequests:
		return http.StatusTooManyRequests, e.Key
	case apperr.Unavailable:
		switch e.Key {
		case "exchange.upstream_timeout":
			return http.StatusGatewayTimeout, e.Key
		case "exchange.circuit_open", "exchange.catalogue_unavailable":
			return http.StatusServiceUnavailable, e.Key
		}
		return http.StatusBadGateway, e.Key
	}
	return http.StatusInternalServerError, "error.internal"
}

// fail writes err as problem+json and notes its code in the call's record.
// Unclassified errors are logged and shown as a generic 500.
func (g *gateway) fail(w http.ResponseWriter, r *http.Request, c *call, err error) {
	status, key := statusOf(err)
	if status == http.StatusInternalServerError {
		g.log.ErrorContext(r.Context(), "gateway call failed", "request_id", c.reqID, "method", r.Method, "err", err)
	}
	c.rec.Problem = key
	title := problemTitle[status]
	if title == "" {
		title = http.StatusText(status)
	}
	h := w.Header()
	h.Del("X-Upstream")
	h.Set("X-Request-Id", c.reqID)
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	var e *apperr.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "urn:hopnhat:problem:" + key, Title: title, Status: status,
		Detail: problemText[key], Instance: c.rec.Path, Code: key, RequestID: c.reqID})
}
