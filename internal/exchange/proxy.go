package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
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

// call is what the proxy knows about one request while it is forwarded.
type call struct {
	def         ServiceDef
	reqID       string
	primary     *url.URL
	backup      *url.URL // nil: no failover for this call
	replay      []byte   // the whole request body, when backup is set
	dialTimeout time.Duration
	tooLarge    atomic.Bool
	headers     *time.Timer // fires errUpstreamTimeout; stopped when headers arrive
}

// gateway is the proxy handler.
type gateway struct {
	s   *Service
	log *slog.Logger
	rp  *httputil.ReverseProxy
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
	base := &http.Transport{
		Proxy: nil, // upstreams are reached directly, never through an environment proxy
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			// With a backup, give up on a silent primary early enough to try it.
			if c, ok := ctx.Value(callKey{}).(*call); ok && c.dialTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.dialTimeout)
				defer cancel()
			}
			return dialer.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	g.rp = &httputil.ReverseProxy{
		Rewrite:        g.rewrite,
		Transport:      &failover{base: base, log: log},
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
		if err != nil || (ds == "" && i != len(segs)-1) || ds == "." || ds == ".." || strings.ContainsAny(ds, "/\\\x00") {
			return "", "", "", bad
		}
	}
	rest, _ = url.PathUnescape(erest)
	return code, erest, rest, nil
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
	return n, err
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := r.Header.Get("X-Request-Id")
	if !requestIDRE.MatchString(reqID) {
		reqID = strings.ToLower(rand.Text())
	}
	w.Header().Set("X-Request-Id", reqID)
	code, erest, rest, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		g.fail(w, r, reqID, err)
		return
	}
	key := presentedKey(r)
	if key == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hopnhat-gw"`)
		g.fail(w, r, reqID, apperr.New(apperr.Unauthenticated, "exchange.key_missing"))
		return
	}
	consumer, def, _, err := g.s.Authorize(r.Context(), key, code, r.Method)
	if err != nil {
		if apperr.Is(err, apperr.Unauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hopnhat-gw", error="invalid_token"`)
		}
		g.fail(w, r, reqID, err)
		return
	}
	c := &call{def: def, reqID: reqID}
	if c.primary, err = target(def.PrimaryURL, erest, rest, r.URL.RawQuery); err != nil {
		g.fail(w, r, reqID, err)
		return
	}
	if r.ContentLength > def.MaxBodyBytes {
		g.fail(w, r, reqID, apperr.New(apperr.TooLarge, "exchange.body_too_large"))
		return
	}
	r.Body = watchedBody{http.MaxBytesReader(w, r.Body, def.MaxBodyBytes), c}
	if def.BackupURL != "" && retryable(r) {
		if c.backup, err = target(def.BackupURL, erest, rest, r.URL.RawQuery); err != nil {
			g.fail(w, r, reqID, err)
			return
		}
		if !g.bufferBody(w, r, c) {
			return
		}
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	c.headers = time.AfterFunc(def.Timeout(), func() { cancel(errUpstreamTimeout) })
	defer c.headers.Stop()
	if c.backup != nil {
		c.dialTimeout = min(def.Timeout()/2, 5*time.Second)
	}
	g.log.DebugContext(ctx, "gateway call", "request_id", reqID, "service", def.Code, "consumer_id", consumer.ID, "method", r.Method)
	g.rp.ServeHTTP(w, r.WithContext(context.WithValue(ctx, callKey{}, c)))
}

// bufferBody reads a body of up to replayLimit into c.replay so it can be
// sent again; a larger body is streamed as usual and not retried. It writes
// the error and returns false when the body cannot be read.
func (g *gateway) bufferBody(w http.ResponseWriter, r *http.Request, c *call) bool {
	if r.ContentLength > replayLimit {
		c.backup = nil
		return true
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, replayLimit+1))
	if err != nil {
		if c.tooLarge.Load() {
			g.fail(w, r, c.reqID, apperr.New(apperr.TooLarge, "exchange.body_too_large"))
		} else {
			g.fail(w, r, c.reqID, apperr.Wrapf(apperr.Invalid, "exchange.body_unreadable", err))
		}
		return false
	}
	if len(buf) > replayLimit {
		c.backup = nil
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
		return true
	}
	c.replay = buf
	r.Body = io.NopCloser(bytes.NewReader(buf))
	r.ContentLength = int64(len(buf))
	return true
}

func (g *gateway) rewrite(pr *httputil.ProxyRequest) {
	c := pr.In.Context().Value(callKey{}).(*call)
	u := *c.primary
	pr.Out.URL = &u
	pr.Out.Host = ""
	pr.SetXForwarded()
	// The consumer's key is for the gateway; the upstream must never see it,
	// nor the cookies of the pages the gateway may share a host with.
	pr.Out.Header.Del("Authorization")
	pr.Out.Header.Del("X-API-Key")
	pr.Out.Header.Del("Cookie")
	pr.Out.Header.Set("X-Request-Id", c.reqID)
}

func (g *gateway) modifyResponse(resp *http.Response) error {
	if c, ok := resp.Request.Context().Value(callKey{}).(*call); ok {
		resp.Header.Set("X-Request-Id", c.reqID)
	}
	return nil
}

func (g *gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	c, ok := r.Context().Value(callKey{}).(*call)
	if !ok {
		c = &call{}
	}
	var mbe *http.MaxBytesError
	switch {
	case c.tooLarge.Load() || errors.As(err, &mbe):
		g.fail(w, r, c.reqID, apperr.New(apperr.TooLarge, "exchange.body_too_large"))
	case errors.Is(context.Cause(r.Context()), errUpstreamTimeout):
		g.log.WarnContext(r.Context(), "gateway upstream timeout", "request_id", c.reqID, "service", c.def.Code)
		g.fail(w, r, c.reqID, apperr.New(apperr.Unavailable, "exchange.upstream_timeout"))
	default:
		g.log.WarnContext(r.Context(), "gateway upstream failed", "request_id", c.reqID, "service", c.def.Code, "err", err)
		g.fail(w, r, c.reqID, apperr.Wrapf(apperr.Unavailable, "exchange.upstream_unavailable", err))
	}
}

// failover sends a call to the primary upstream and, once, to the backup.
type failover struct {
	base http.RoundTripper
	log  *slog.Logger
}

// primaryDown reports whether the primary could not take the call: it could
// not be reached, or a proxy in front of it said so.
func primaryDown(resp *http.Response, err error) bool {
	if err != nil {
		var op *net.OpError
		return errors.As(err, &op) && op.Op == "dial"
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (f *failover) RoundTrip(req *http.Request) (*http.Response, error) {
	c, ok := req.Context().Value(callKey{}).(*call)
	if !ok {
		return f.base.RoundTrip(req)
	}
	upstream := "primary"
	resp, err := f.base.RoundTrip(req)
	if c.backup != nil && primaryDown(resp, err) && req.Context().Err() == nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		f.log.WarnContext(req.Context(), "gateway failover to backup", "request_id", c.reqID, "service", c.def.Code,
			"primary_status", status, "err", err)
		b := req.Clone(req.Context())
		u := *c.backup
		b.URL, b.Host = &u, ""
		b.Body, b.GetBody, b.ContentLength = nil, nil, int64(len(c.replay))
		if len(c.replay) > 0 {
			b.Body = io.NopCloser(bytes.NewReader(c.replay))
		}
		upstream = "backup"
		resp, err = f.base.RoundTrip(b)
	}
	c.headers.Stop()
	if resp != nil {
		resp.Header.Set("X-Upstream", upstream)
	}
	return resp, err
}

// Vietnamese texts of the problems the gateway answers with.
var problemText = map[string]string{
	"exchange.key_missing":          "Thiếu khóa truy cập (Authorization: Bearer hoặc X-API-Key).",
	"exchange.key_invalid":          "Khóa truy cập không hợp lệ.",
	"exchange.key_expired":          "Khóa truy cập đã hết hạn.",
	"exchange.key_revoked":          "Khóa truy cập đã bị thu hồi.",
	"exchange.consumer_disabled":    "Hệ thống gọi dịch vụ đang bị tạm dừng.",
	"exchange.no_grant":             "Hệ thống chưa được cấp quyền gọi dịch vụ này.",
	"exchange.method_not_granted":   "Hệ thống chưa được cấp quyền dùng phương thức này với dịch vụ.",
	"exchange.service_not_found":    "Không tìm thấy dịch vụ.",
	"exchange.path_invalid":         "Đường dẫn không hợp lệ.",
	"exchange.body_too_large":       "Nội dung yêu cầu vượt quá dung lượng cho phép của dịch vụ.",
	"exchange.body_unreadable":      "Không đọc được nội dung yêu cầu.",
	"exchange.upstream_timeout":     "Hệ thống cung cấp dịch vụ không trả lời kịp thời.",
	"exchange.upstream_unavailable": "Không kết nối được hệ thống cung cấp dịch vụ.",
	"error.internal":                "Đã có lỗi xảy ra. Vui lòng thử lại sau.",
}

var problemTitle = map[int]string{
	http.StatusBadRequest:            "Yêu cầu không hợp lệ",
	http.StatusUnauthorized:          "Chưa xác thực",
	http.StatusForbidden:             "Không có quyền",
	http.StatusNotFound:              "Không tìm thấy",
	http.StatusRequestEntityTooLarge: "Nội dung quá lớn",
	http.StatusInternalServerError:   "Lỗi hệ thống",
	http.StatusBadGateway:            "Lỗi cổng kết nối",
	http.StatusGatewayTimeout:        "Hết thời gian chờ",
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
	case apperr.Unavailable:
		if e.Key == "exchange.upstream_timeout" {
			return http.StatusGatewayTimeout, e.Key
		}
		return http.StatusBadGateway, e.Key
	}
	return http.StatusInternalServerError, "error.internal"
}

// fail writes err as problem+json. Unclassified errors are logged and shown
// as a generic 500.
func (g *gateway) fail(w http.ResponseWriter, r *http.Request, reqID string, err error) {
	status, key := statusOf(err)
	if status == http.StatusInternalServerError {
		g.log.ErrorContext(r.Context(), "gateway call failed", "request_id", reqID, "method", r.Method, "err", err)
	}
	title := problemTitle[status]
	if title == "" {
		title = http.StatusText(status)
	}
	h := w.Header()
	h.Del("X-Upstream")
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "urn:hopnhat:problem:" + key, Title: title, Status: status,
		Detail: problemText[key], Instance: r.URL.Path, Code: key, RequestID: reqID})
}
