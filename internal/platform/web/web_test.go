package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A request in flight when shutdown begins finishes with its full answer.
func TestServeFinishesInFlightRequestsOnShutdown(t *testing.T) {
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "xong")
	})
	srv := NewServer("127.0.0.1:0", h, quiet())
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, srv, ServerConfig{ShutdownTimeout: 5 * time.Second}, quiet(), func(a net.Addr) { addrc <- a })
	}()
	addr := <-addrc
	var body string
	var status int
	var reqErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, err := http.Get("http://" + addr.String() + "/")
		if err != nil {
			reqErr = err
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body, status = string(b), resp.StatusCode
	}()
	<-started
	cancel()
	wg.Wait()
	if reqErr != nil || status != 200 || body != "xong" {
		t.Fatalf("in-flight request: got %d %q %v, want 200 \"xong\"", status, body, reqErr)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := http.Get("http://" + addr.String() + "/"); err == nil {
		t.Fatal("server still accepts after shutdown")
	}
}

func testUI(t *testing.T) *UI {
	t.Helper()
	u, err := NewUI(quiet())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCatalogueIsComplete(t *testing.T) {
	u := testUI(t)
	if m := u.Catalog.Missing(); len(m) > 0 {
		t.Fatalf("keys without a translation: %v", m)
	}
	vi := u.Catalog.For(Vietnamese)
	if got := vi.T("auth.bad_credentials"); got != "Tên đăng nhập hoặc mật khẩu không đúng." {
		t.Fatalf("got %q", got)
	}
	if got := vi.T("no.such.key"); got != "no.such.key" {
		t.Fatalf("unknown key: got %q, want the key itself", got)
	}
}

func TestDates(t *testing.T) {
	l := testUI(t).Catalog.For(Vietnamese)
	// 17:30 UTC on 30/6 is already 1/7 in Vietnam.
	at := time.Date(2025, 6, 30, 17, 30, 0, 0, time.UTC)
	if got := l.Date(at); got != "01/07/2025" {
		t.Fatalf("Date: got %q, want 01/07/2025", got)
	}
	if got := l.DateTime(at); got != "01/07/2025 00:30" {
		t.Fatalf("DateTime: got %q", got)
	}
	for in, want := range map[string]string{"01/07/2025": "2025-07-01", "2025-07-01": "2025-07-01", " 1/7/2025 ": "2025-07-01"} {
		got, err := ParseDate(in)
		if err != nil || got.Format("2006-01-02") != want {
			t.Errorf("ParseDate(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"31/02/2025", "2025/07/01", "", "hôm nay"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q): want an error", bad)
		}
	}
}

func TestObserveSetsAndKeepsRequestID(t *testing.T) {
	u := testUI(t)
	reg := prometheus.NewRegistry()
	var seen string
	h := Observe(quiet(), NewMetrics(reg), u, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = w.Header().Get("X-Request-Id")
	}))
	cases := []struct {
		name, in string
		keep     bool
	}{
		{"a client's well-formed id is kept", "abc-123_X.y", true},
		{"a header-injection attempt is replaced", "evil\r\nSet-Cookie: x=1", false},
		{"an overlong id is replaced", strings.Repeat("a", 65), false},
		{"no id gets one", "", false},
	}
	for _, tc := range cases {
		req := httptest.NewRequest("GET", "/", nil)
		if tc.in != "" {
			req.Header.Set("X-Request-Id", tc.in)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if tc.keep && seen != tc.in || !tc.keep && (seen == tc.in || len(seen) != 20) {
			t.Errorf("%s: got %q", tc.name, seen)
		}
	}
}

func TestLimitBody(t *testing.T) {
	u := testUI(t)
	rt := NewRouter(u)
	rt.Handle("POST /api/x", Public, func(w http.ResponseWriter, r *http.Request) error {
		var v map[string]any
		if err := DecodeJSON(r, &v); err != nil {
			return err
		}
		return WriteJSON(w, 200, v)
	})
	h := LimitBody(100, u, nil)(rt)
	small := httptest.NewRequest("POST", "/api/x", strings.NewReader(`{"a":"b"}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, small)
	if rec.Code != 200 {
		t.Fatalf("small body: got %d", rec.Code)
	}
	big := httptest.NewRequest("POST", "/api/x", strings.NewReader(`{"a":"`+strings.Repeat("b", 200)+`"}`))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, big)
	if rec.Code != 413 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("big body: got %d %s, want 413 problem", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestClientIPBehindTrustedProxies(t *testing.T) {
	tp, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/99"); err == nil {
		t.Fatal("bad CIDR accepted")
	}
	cases := []struct {
		name, peer, xff, want string
	}{
		{"no proxy configured for this peer: peer is the client", "203.0.113.5:1000", "198.51.100.1", "203.0.113.5"},
		{"trusted proxy: the last untrusted hop", "10.1.2.3:1000", "198.51.100.1, 203.0.113.9, 10.9.9.9", "203.0.113.9"},
		{"a forged leftmost entry is ignored", "192.0.2.1:1000", "1.1.1.1, 198.51.100.7", "198.51.100.7"},
		{"garbage in the header falls back to the peer", "10.1.2.3:1000", "not-an-ip", "10.1.2.3"},
		{"only proxies: the peer", "10.1.2.3:1000", "10.0.0.1", "10.1.2.3"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		r.Header.Set("X-Forwarded-For", tc.xff)
		if got := tp.ClientIP(r); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestCurrentNav(t *testing.T) {
	nav := []NavLink{{Href: "/"}, {Href: "/adminunits"}, {Href: "/adminunits/review"}, {Href: "/users"}}
	for path, want := range map[string]string{
		"/":                   "/",
		"/adminunits":         "/adminunits",
		"/adminunits/ward/1":  "/adminunits",
		"/adminunits/review":  "/adminunits/review",
		"/adminunits/reviewx": "/adminunits",
		"/usersx":             "",
		"/audit":              "",
	} {
		if got := currentNav(nav, path); got != want {
			t.Errorf("currentNav(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestNumbers(t *testing.T) {
	c := NewCatalog()
	vi, en := c.For(Vietnamese), c.For(English)
	cases := []struct {
		f      float64
		prec   int
		vi, en string
	}{
		{3321, 0, "3.321", "3,321"}, {10035, 0, "10.035", "10,035"}, {999, 0, "999", "999"},
		{3.04, 2, "3,04", "3.04"}, {3359.8, 2, "3.359,80", "3,359.80"}, {-1234567, 0, "-1.234.567", "-1,234,567"}, {0, 0, "0", "0"},
	}
	for _, tc := range cases {
		if got := vi.Decimal(tc.f, tc.prec); got != tc.vi {
			t.Errorf("vi %v: got %q, want %q", tc.f, got, tc.vi)
		}
		if got := en.Decimal(tc.f, tc.prec); got != tc.en {
			t.Errorf("en %v: got %q, want %q", tc.f, got, tc.en)
		}
	}
	if got := vi.Number(8718000); got != "8.718.000" {
		t.Errorf("Number: got %q", got)
	}
}
