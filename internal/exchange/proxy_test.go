package exchange_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hopnhat/internal/exchange"
	"hopnhat/internal/platform/dbtest"
)

// rig is a gateway on a fresh SQLite with one consumer and its key.
type rig struct {
	t     *testing.T
	s     *exchange.Service
	clock *dbtest.Clock
	gw    *httptest.Server
	c     exchange.Consumer
	key   string
}

func newRig(t *testing.T) *rig {
	d := dbtest.SQLite(t, modules)
	s, clock := setup(t, d)
	gw := httptest.NewServer(s.Proxy(discard()))
	t.Cleanup(gw.Close)
	c := mustConsumer(t, s, "Cổng dịch vụ công")
	key, _ := mustKey(t, s, c.ID)
	return &rig{t: t, s: s, clock: clock, gw: gw, c: c, key: key}
}

// service registers code with the given upstreams and grants methods on it.
func (r *rig) service(code, primary, backup string, methods ...string) exchange.ServiceDef {
	r.t.Helper()
	d := mustService(r.t, r.s, exchange.ServiceInput{Code: code, Name: code, PrimaryURL: primary, BackupURL: backup,
		TimeoutMS: 2000, MaxBodyBytes: 1 << 20})
	if len(methods) > 0 {
		if _, err := r.s.Grant(ctx, r.c.ID, d.ID, methods, 0); err != nil {
			r.t.Fatal(err)
		}
	}
	return d
}

func (r *rig) do(method, path string, body io.Reader, hdr ...string) *http.Response {
	r.t.Helper()
	req, err := http.NewRequest(method, r.gw.URL+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	r.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// echo is an upstream that answers with what it received.
type echoed struct {
	Name, Method, Path, RawPath, Query, Body, Auth, APIKey, RequestID, XFF, Cookie string
}

func echo(t *testing.T, name string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echoed{Name: name, Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(),
			Query: r.URL.RawQuery, Body: string(b), Auth: r.Header.Get("Authorization"), APIKey: r.Header.Get("X-API-Key"),
			RequestID: r.Header.Get("X-Request-Id"), XFF: r.Header.Get("X-Forwarded-For"), Cookie: r.Header.Get("Cookie")})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func decodeEcho(t *testing.T, resp *http.Response) echoed {
	t.Helper()
	var e echoed
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("decode upstream echo (status %d): %v", resp.StatusCode, err)
	}
	return e
}

type problemDoc struct {
	Type, Title, Detail, Code string
	Status                    int
}

func wantProblem(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status: got %d (%s), want %d", resp.StatusCode, b, status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type: got %q, want application/problem+json", ct)
	}
	var p problemDoc
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Status != status || p.Detail == "" || p.Title == "" || p.Type == "" || (code != "" && p.Code != code) {
		t.Fatalf("problem: got %+v, want status %d code %s", p, status, code)
	}
}

func TestProxyForwards(t *testing.T) {
	r := newRig(t)
	up := echo(t, "primary")
	r.service("ho-tich", up.URL+"/api/v2/", "", "GET", "POST")

	resp := r.do("POST", "/gw/ho-tich/giay-khai-sinh/so%20123?ma=HP&x=1", strings.NewReader(`{"ho_ten":"Nguyễn Văn A"}`),
		"X-API-Key", "xk_other", "X-Request-Id", "req-abc.1", "X-Forwarded-For", "6.6.6.6")
	if resp.StatusCode != 200 {
		t.Fatalf("status: got %d", resp.StatusCode)
	}
	e := decodeEcho(t, resp)
	want := echoed{Name: "primary", Method: "POST", Path: "/api/v2/giay-khai-sinh/so 123", RawPath: "/api/v2/giay-khai-sinh/so%20123",
		Query: "ma=HP&x=1", Body: `{"ho_ten":"Nguyễn Văn A"}`, RequestID: "req-abc.1", XFF: "127.0.0.1"}
	if e != want {
		t.Fatalf("upstream saw %+v, want %+v", e, want)
	}
	if got := resp.Header.Get("X-Request-Id"); got != "req-abc.1" {
		t.Fatalf("response X-Request-Id: got %q", got)
	}
	if got := resp.Header.Get("X-Upstream"); got != "primary" {
		t.Fatalf("X-Upstream: got %q, want primary", got)
	}

	// A key in X-API-Key works too; a request id that is not sane is replaced.
	resp = r.do("GET", "/gw/ho-tich/", nil, "Authorization", "", "X-API-Key", r.key, "X-Request-Id", "bad id <x>", "Cookie", "hopnhat_session=secret")
	e = decodeEcho(t, resp)
	if resp.StatusCode != 200 || e.Path != "/api/v2/" || e.RequestID == "" || e.RequestID == "bad id <x>" || e.APIKey != "" || e.Cookie != "" {
		t.Fatalf("X-API-Key call: got %d %+v", resp.StatusCode, e)
	}
	if resp.Header.Get("X-Request-Id") != e.RequestID {
		t.Fatalf("generated request id: response %q, upstream %q", resp.Header.Get("X-Request-Id"), e.RequestID)
	}
}

func TestProxyRefuses(t *testing.T) {
	r := newRig(t)
	up := echo(t, "primary")
	r.service("ho-tich", up.URL, "", "GET")
	r.service("khac", up.URL, "")
	mustService(t, r.s, exchange.ServiceInput{Code: "tam-dung", Name: "x", PrimaryURL: up.URL, Status: exchange.Disabled})
	other := mustConsumer(t, r.s, "Khác")
	revokedPlain, revoked := mustKey(t, r.s, other.ID)
	if err := r.s.RevokeKey(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, method, path string
		hdr                []string
		status             int
		code               string
	}{
		{"no key", "GET", "/gw/ho-tich/a", []string{"Authorization", ""}, 401, "exchange.key_missing"},
		{"bad key", "GET", "/gw/ho-tich/a", []string{"Authorization", "Bearer xk_nope"}, 401, "exchange.key_invalid"},
		{"revoked key", "GET", "/gw/ho-tich/a", []string{"Authorization", "Bearer " + revokedPlain}, 401, "exchange.key_revoked"},
		{"no grant", "GET", "/gw/khac/a", nil, 403, "exchange.no_grant"},
		{"method not granted", "DELETE", "/gw/ho-tich/a", nil, 403, "exchange.method_not_granted"},
		{"unknown service", "GET", "/gw/khong-co/a", nil, 404, "exchange.service_not_found"},
		{"disabled service", "GET", "/gw/tam-dung/a", nil, 404, "exchange.service_not_found"},
		{"outside the gateway", "GET", "/other", nil, 404, "exchange.service_not_found"},
		{"dot-dot escape", "GET", "/gw/ho-tich/../khac/a", nil, 400, "exchange.path_invalid"},
		{"encoded dot-dot", "GET", "/gw/ho-tich/%2e%2e/x", nil, 400, "exchange.path_invalid"},
		{"encoded slash", "GET", "/gw/ho-tich/a%2F..%2F..%2Fb", nil, 400, "exchange.path_invalid"},
		{"absolute url", "GET", "/gw/ho-tich/http://evil.example/x", nil, 400, "exchange.path_invalid"},
		{"backslash", "GET", "/gw/ho-tich/a%5C..%5Cb", nil, 400, "exchange.path_invalid"},
		{"servlet dot-dot with ;", "GET", "/gw/ho-tich/..;/quan-tri/users", nil, 400, "exchange.path_invalid"},
		{"encoded servlet dot-dot", "GET", "/gw/ho-tich/%2e%2e%3bx/quan-tri", nil, 400, "exchange.path_invalid"},
		{"double-encoded dot-dot", "GET", "/gw/ho-tich/%252e%252e/quan-tri", nil, 400, "exchange.path_invalid"},
		{"double-encoded slash", "GET", "/gw/ho-tich/a%252f..%252fb", nil, 400, "exchange.path_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblem(t, r.do(tt.method, tt.path, nil, tt.hdr...), tt.status, tt.code)
		})
	}

	t.Run("expired key", func(t *testing.T) {
		if _, _, err := r.s.RotateKey(ctx, r.c.ID, time.Hour); err != nil {
			t.Fatal(err)
		}
		if resp := r.do("GET", "/gw/ho-tich/a", nil); resp.StatusCode != 200 {
			t.Fatalf("old key within the overlap: got %d, want 200", resp.StatusCode)
		}
		r.clock.Advance(time.Hour)
		wantProblem(t, r.do("GET", "/gw/ho-tich/a", nil), 401, "exchange.key_expired")
	})
}

func TestProxyLimits(t *testing.T) {
	r := newRig(t)
	up := echo(t, "primary")
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-req.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	mustGrant := func(d exchange.ServiceDef) {
		if _, err := r.s.Grant(ctx, r.c.ID, d.ID, []string{"GET", "POST"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	mustGrant(mustService(t, r.s, exchange.ServiceInput{Code: "nho", Name: "nho", PrimaryURL: up.URL, MaxBodyBytes: 1000}))
	mustGrant(mustService(t, r.s, exchange.ServiceInput{Code: "cham", Name: "cham", PrimaryURL: slow.URL, TimeoutMS: 200}))

	t.Run("declared body over the limit", func(t *testing.T) {
		wantProblem(t, r.do("POST", "/gw/nho/a", bytes.NewReader(make([]byte, 1001))), 413, "exchange.body_too_large")
	})
	t.Run("streamed body over the limit", func(t *testing.T) {
		// No Content-Length: the limit is found while forwarding.
		body := io.MultiReader(strings.NewReader(strings.Repeat("x", 5000)))
		wantProblem(t, r.do("POST", "/gw/nho/a", body), 413, "exchange.body_too_large")
	})
	t.Run("body at the limit passes", func(t *testing.T) {
		if resp := r.do("POST", "/gw/nho/a", bytes.NewReader(make([]byte, 1000))); resp.StatusCode != 200 {
			t.Fatalf("got %d, want 200", resp.StatusCode)
		}
	})
	t.Run("slow upstream times out", func(t *testing.T) {
		start := time.Now()
		wantProblem(t, r.do("GET", "/gw/cham/a", nil), 504, "exchange.upstream_timeout")
		if el := time.Since(start); el > 3*time.Second {
			t.Fatalf("timeout took %v, want about 200ms", el)
		}
	})
}

func TestProxyStreams(t *testing.T) {
	r := newRig(t)
	release := make(chan struct{})
	gotFirst := make(chan string, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == "POST" {
			// Read the first chunk while the caller is still sending.
			b := make([]byte, 5)
			_, _ = io.ReadFull(req.Body, b)
			gotFirst <- string(b)
			_, _ = io.Copy(io.Discard, req.Body)
			return
		}
		_, _ = w.Write([]byte("first"))
		w.(http.Flusher).Flush()
		<-release
		_, _ = w.Write([]byte("-last"))
	}))
	t.Cleanup(up.Close)
	r.service("luong", up.URL, "", "GET", "POST")

	t.Run("response", func(t *testing.T) {
		resp := r.do("GET", "/gw/luong/a", nil)
		b := make([]byte, 5)
		done := make(chan error, 1)
		go func() { _, err := io.ReadFull(resp.Body, b); done <- err }()
		select {
		case err := <-done:
			if err != nil || string(b) != "first" {
				t.Fatalf("first bytes: got %q, %v", b, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("first bytes did not arrive before the upstream finished: the response is buffered")
		}
		close(release)
		rest, _ := io.ReadAll(resp.Body)
		if string(rest) != "-last" {
			t.Fatalf("rest: got %q", rest)
		}
	})
	t.Run("request", func(t *testing.T) {
		pr, pw := io.Pipe()
		respc := make(chan *http.Response, 1)
		go func() { respc <- r.do("POST", "/gw/luong/a", pr) }()
		_, _ = pw.Write([]byte("hello"))
		select {
		case got := <-gotFirst:
			if got != "hello" {
				t.Fatalf("upstream got %q", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("upstream did not get the first bytes while the caller was still sending: the request is buffered")
		}
		pw.Close()
		if resp := <-respc; resp.StatusCode != 200 {
			t.Fatalf("got %d", resp.StatusCode)
		}
	})
}

func TestProxyFailover(t *testing.T) {
	r := newRig(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connection refused from now on
	backup := echo(t, "backup")
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(unavailable.Close)
	r.service("dung", deadURL, backup.URL, "GET", "POST", "PUT")
	r.service("qua-tai", unavailable.URL, backup.URL, "GET", "POST")
	r.service("khong-du-phong", deadURL, "", "GET")

	tests := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		upstream                 string
	}{
		{"GET goes to the backup", "GET", "/gw/dung/a?q=1", "", nil, 200, "backup"},
		{"PUT with its body goes to the backup", "PUT", "/gw/dung/a", "noi dung", nil, 200, "backup"},
		{"POST to an unreachable primary goes to the backup (it was never sent)", "POST", "/gw/dung/a", "x", nil, 200, "backup"},
		{"POST with Idempotency-Key is repeated", "POST", "/gw/dung/a", "mot lan", []string{"Idempotency-Key", "k-1"}, 200, "backup"},
		{"503 from the primary goes to the backup", "GET", "/gw/qua-tai/a", "", nil, 200, "backup"},
		{"no backup: 502", "GET", "/gw/khong-du-phong/a", "", nil, 502, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			resp := r.do(tt.method, tt.path, body, tt.hdr...)
			if tt.status != 200 {
				wantProblem(t, resp, tt.status, "exchange.upstream_unavailable")
				return
			}
			e := decodeEcho(t, resp)
			if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != tt.upstream || e.Name != "backup" || e.Body != tt.body || e.Method != tt.method {
				t.Fatalf("got %d X-Upstream=%q, upstream saw %+v", resp.StatusCode, resp.Header.Get("X-Upstream"), e)
			}
			if e.Auth != "" || e.RequestID == "" {
				t.Fatalf("backup saw Authorization %q, X-Request-Id %q", e.Auth, e.RequestID)
			}
		})
	}
	t.Run("POST without Idempotency-Key that reached the primary is not repeated", func(t *testing.T) {
		resp := r.do("POST", "/gw/qua-tai/a", strings.NewReader("x"))
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("X-Upstream") != "primary" {
			t.Fatalf("got %d X-Upstream=%q, want the primary's own 503", resp.StatusCode, resp.Header.Get("X-Upstream"))
		}
	})
}
