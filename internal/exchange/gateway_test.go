package exchange_test

import (
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hopnhat/internal/exchange"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
)

// running starts s's background work (the message log above all) and returns
// the function that stops it and waits, as a graceful shutdown does.
func running(t *testing.T, s *exchange.Service) (stop func()) {
	t.Helper()
	s.SetFlushEvery(20 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// rigOn is newRig on the database d.
func rigOn(t *testing.T, d *db.DB) *rig {
	s, clock := setup(t, d)
	gw := httptest.NewServer(s.Proxy(discard()))
	t.Cleanup(gw.Close)
	c := mustConsumer(t, s, "Cổng dịch vụ công")
	key, _ := mustKey(t, s, c.ID)
	return &rig{t: t, s: s, clock: clock, gw: gw, c: c, key: key}
}

// counted is an upstream that counts its calls and answers with status and body.
func counted(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.UserAgent() != "hopnhat-gateway-health" {
			n.Add(1)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func allMessages(t *testing.T, s *exchange.Service, f exchange.MessageFilter) []exchange.Message {
	t.Helper()
	var out []exchange.Message
	seen := map[string]bool{}
	for {
		page, next, err := s.Messages(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			if seen[m.ID] {
				t.Fatalf("message %s on two pages", m.ID)
			}
			seen[m.ID] = true
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		f.After = next
	}
}

func TestMessageLogKeepsEveryCall(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		r := rigOn(t, d)
		stop := running(t, r.s)
		up := echo(t, "primary")
		r.service("ho-tich", up.URL, "", "GET", "POST")

		const workers, each = 8, 40
		var wg sync.WaitGroup
		var ok, refused atomic.Int64
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					path, key := "/gw/ho-tich/giay-khai-sinh/"+strconv.Itoa(w*each+i), r.key
					if i%10 == 9 {
						key = "xk_" + strings.Repeat("a", 32) // unknown key: 401, logged too
					}
					req, _ := http.NewRequest("POST", r.gw.URL+path, strings.NewReader("noi-dung"))
					req.Header.Set("Authorization", "Bearer "+key)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 403 {
						t.Logf("403: %s", body)
					}
					switch resp.StatusCode {
					case 200:
						ok.Add(1)
					case 401:
						refused.Add(1)
					default:
						t.Errorf("status %d: %s", resp.StatusCode, resp.Header.Get("X-Request-Id"))
					}
				}
			}()
		}
		wg.Wait()
		stop() // a graceful stop writes every record still buffered

		all := allMessages(t, r.s, exchange.MessageFilter{Limit: 37})
		if len(all) != workers*each {
			t.Fatalf("records: got %d, want one per call (%d)", len(all), workers*each)
		}
		if n := len(allMessages(t, r.s, exchange.MessageFilter{StatusClass: 4})); int64(n) != refused.Load() {
			t.Fatalf("4xx records: got %d, want %d", n, refused.Load())
		}
		mine := allMessages(t, r.s, exchange.MessageFilter{ConsumerID: r.c.ID, Service: "ho-tich"})
		if int64(len(mine)) != ok.Load() {
			t.Fatalf("the consumer's records: got %d, want %d", len(mine), ok.Load())
		}
		m := mine[0]
		if m.Method != "POST" || m.Status != 200 || m.Upstream != "primary" || m.BytesIn != int64(len("noi-dung")) || m.BytesOut == 0 ||
			m.RequestID == "" || !strings.HasPrefix(m.Path, "/gw/ho-tich/giay-khai-sinh/") || m.Latency <= 0 || m.Problem != "" {
			t.Fatalf("record: got %+v", m)
		}
		for _, m := range all {
			if m.Status == 401 && (m.ConsumerID != "" || m.Problem != "exchange.key_invalid" || m.Upstream != "") {
				t.Fatalf("refused call's record: got %+v", m)
			}
		}
		// Newest first, and a request id finds its call.
		for i := 1; i < len(all); i++ {
			if all[i].At.After(all[i-1].At) {
				t.Fatalf("order: %v after %v", all[i].At, all[i-1].At)
			}
		}
		if got := allMessages(t, r.s, exchange.MessageFilter{RequestID: m.RequestID}); len(got) != 1 || got[0].ID != m.ID {
			t.Fatalf("by request id: got %d records", len(got))
		}

		// The board counts the same calls, and keeps them after the log's retention.
		b, err := r.s.MigrationBoard(context.Background(), 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Services) != 1 || b.Services[0].Calls != ok.Load() || b.Services[0].LegacyCalls != 0 || !b.Services[0].Moved {
			t.Fatalf("board: got %+v", b.Services)
		}
		n, err := r.s.Purge(context.Background(), time.Now().Add(time.Hour))
		if err != nil || n != int64(workers*each) {
			t.Fatalf("purge: got %d, %v", n, err)
		}
		if left := allMessages(t, r.s, exchange.MessageFilter{}); len(left) != 0 {
			t.Fatalf("after purge: %d records left", len(left))
		}
		if b, _ := r.s.MigrationBoard(context.Background(), 7); b.Services[0].Calls != ok.Load() {
			t.Fatalf("board after purge: got %d calls, want %d", b.Services[0].Calls, ok.Load())
		}
	})
}

func TestRateLimitPerConsumerAndService(t *testing.T) {
	r := newRig(t)
	up := echo(t, "primary")
	d := r.service("thue", up.URL, "")
	r.service("dat-dai", up.URL, "", "GET")
	if _, err := r.s.Grant(ctx, r.c.ID, d.ID, []string{"GET"}, 3); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if resp := r.do("GET", "/gw/thue/a", nil); resp.StatusCode != 200 {
			t.Fatalf("call %d within the rate: got %d", i+1, resp.StatusCode)
		}
	}
	resp := r.do("GET", "/gw/thue/a", nil)
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if ra < 1 || ra > 20 {
		t.Fatalf("Retry-After: got %q, want about 20 s (one call in 20 s at 3 a minute)", resp.Header.Get("Retry-After"))
	}
	wantProblem(t, resp, http.StatusTooManyRequests, "exchange.rate_limited")
	// Another service of the same consumer has its own bucket (no limit there).
	if resp := r.do("GET", "/gw/dat-dai/a", nil); resp.StatusCode != 200 {
		t.Fatalf("another service: got %d", resp.StatusCode)
	}
	// Another consumer of the same service has its own bucket.
	c2 := mustConsumer(t, r.s, "Hệ thống một cửa")
	key2, _ := mustKey(t, r.s, c2.ID)
	if _, err := r.s.Grant(ctx, c2.ID, d.ID, []string{"GET"}, 3); err != nil {
		t.Fatal(err)
	}
	if resp := r.do("GET", "/gw/thue/a", nil, "Authorization", "Bearer "+key2); resp.StatusCode != 200 {
		t.Fatalf("another consumer: got %d", resp.StatusCode)
	}
	// Raising the rate takes effect at once.
	if _, err := r.s.Grant(ctx, r.c.ID, d.ID, []string{"GET"}, 600); err != nil {
		t.Fatal(err)
	}
	if resp := r.do("GET", "/gw/thue/a", nil); resp.StatusCode != 200 {
		t.Fatalf("after raising the rate: got %d", resp.StatusCode)
	}
}

func TestCatalogueChangeReachesAnotherProcess(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		r := rigOn(t, d)
		up := echo(t, "primary")
		r.service("bhxh", up.URL, "", "GET")
		running(t, r.s)
		if resp := r.do("GET", "/gw/bhxh/a", nil); resp.StatusCode != 200 {
			t.Fatalf("before: got %d", resp.StatusCode)
		}
		// Another gateway process on the same database revokes the key.
		other := exchange.NewService(d, discard())
		keys, err := other.Keys(ctx, r.c.ID)
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys: %v %v", keys, err)
		}
		if err := other.RevokeKey(ctx, keys[0].ID); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp := r.do("GET", "/gw/bhxh/a", nil)
			if resp.StatusCode == 401 {
				wantProblem(t, resp, 401, "exchange.key_revoked")
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the key revoked elsewhere still works after 5 s (status %d)", resp.StatusCode)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

func TestCircuitBreaker(t *testing.T) {
	r := newRig(t)
	failing, primaryCalls := counted(t, http.StatusServiceUnavailable, `{"loi":"qua tai"}`)
	backup, backupCalls := counted(t, 200, `{"nguon":"du-phong"}`)
	r.service("cu-tru", failing.URL, backup.URL, "POST")
	r.service("mot-nguon", failing.URL, "", "GET")

	// A POST without Idempotency-Key that reached the primary is not sent
	// again: the caller gets the primary's 503, five times.
	for i := range 5 {
		resp := r.do("POST", "/gw/cu-tru/a", strings.NewReader("x"))
		if resp.StatusCode != 503 || resp.Header.Get("X-Upstream") != "primary" {
			t.Fatalf("call %d: got %d from %q", i+1, resp.StatusCode, resp.Header.Get("X-Upstream"))
		}
	}
	// Five failures in a row open the primary's circuit: the next calls go
	// straight to the backup, and the primary is left alone.
	before := primaryCalls.Load()
	for i := range 3 {
		resp := r.do("POST", "/gw/cu-tru/a", strings.NewReader("x"))
		if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != "backup" {
			t.Fatalf("call %d with the circuit open: got %d from %q", i+1, resp.StatusCode, resp.Header.Get("X-Upstream"))
		}
	}
	if primaryCalls.Load() != before || backupCalls.Load() != 3 {
		t.Fatalf("with the circuit open: primary got %d more calls, backup %d", primaryCalls.Load()-before, backupCalls.Load())
	}
	if st := r.s.State(failing.URL); !st.Open {
		t.Fatalf("state: got %+v, want open", st)
	}
	// A service with no other upstream is refused at once while its circuit
	// is open, with the time to wait.
	resp := r.do("GET", "/gw/mot-nguon/a", nil)
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 || ra > 10 {
		t.Fatalf("Retry-After: got %q", resp.Header.Get("Retry-After"))
	}
	wantProblem(t, resp, http.StatusServiceUnavailable, "exchange.circuit_open")
	if primaryCalls.Load() != before {
		t.Fatal("a call reached the upstream whose circuit is open")
	}
}

func TestCutoverModes(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		r := rigOn(t, d)
		stop := running(t, r.s)
		newSys, newCalls := counted(t, 200, `{"ho_ten":"Nguyễn Văn A","so":1}`)
		legacy, legacyCalls := counted(t, 200, `{"so": 1, "ho_ten": "Nguyễn Văn A"}`) // same JSON, other order and spacing
		legacyOther, _ := counted(t, 200, `{"ho_ten":"Nguyen Van A","so":1}`)
		for _, sv := range []struct {
			code    string
			cutover exchange.Cutover
			legacy  string
		}{{"cu", exchange.CutoverOld, legacy.URL}, {"song-song", exchange.CutoverShadow, legacy.URL},
			{"lech", exchange.CutoverShadow, legacyOther.URL}, {"moi", exchange.CutoverNew, legacy.URL}} {
			def := mustService(t, r.s, exchange.ServiceInput{Code: sv.code, Name: sv.code, PrimaryURL: newSys.URL, BackupURL: sv.legacy,
				Cutover: sv.cutover, TimeoutMS: 2000})
			if _, err := r.s.Grant(ctx, r.c.ID, def.ID, []string{"GET", "POST"}, 0); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct{ path, method, want string }{
			{"/gw/cu/a", "GET", "backup"}, {"/gw/moi/a", "GET", "primary"}, {"/gw/song-song/a", "GET", "backup"},
			{"/gw/lech/a", "GET", "backup"}, {"/gw/song-song/a", "POST", "backup"},
		} {
			resp := r.do(tc.method, tc.path, nil)
			if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != tc.want {
				t.Fatalf("%s %s: got %d from %q, want %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("X-Upstream"), tc.want)
			}
			_, _ = io.ReadAll(resp.Body)
		}
		stop()
		// old: legacy only; new: new only; shadow: the legacy answers and the
		// two GETs were repeated to the new system, the POST was not.
		if legacyCalls.Load() != 3 || newCalls.Load() != 3 {
			t.Fatalf("calls: legacy %d (want 3), new %d (want 3: the new-mode call and two shadow GETs)", legacyCalls.Load(), newCalls.Load())
		}
		if diffs, err := r.s.ShadowDiffs(context.Background(), "song-song", 10); err != nil || len(diffs) != 0 {
			t.Fatalf("same JSON in another order: got diffs %+v, %v", diffs, err)
		}
		diffs, err := r.s.ShadowDiffs(context.Background(), "lech", 10)
		if err != nil || len(diffs) != 1 {
			t.Fatalf("differing answers: got %+v, %v", diffs, err)
		}
		if df := diffs[0]; df.Reason != "body" || df.LegacyStatus != 200 || df.NewStatus != 200 || !strings.Contains(df.LegacySample, "Nguyen Van A") ||
			!strings.Contains(df.NewSample, "Nguyễn Văn A") || df.ConsumerID != r.c.ID || df.Method != "GET" {
			t.Fatalf("diff: got %+v", df)
		}
		b, err := r.s.MigrationBoard(context.Background(), 7)
		if err != nil {
			t.Fatal(err)
		}
		byCode := map[string]exchange.BoardService{}
		for _, s := range b.Services {
			byCode[s.Service.Code] = s
		}
		if s := byCode["song-song"]; s.Compared != 1 || s.Differed != 0 || s.LegacyCalls != 2 || s.Moved {
			t.Fatalf("board, shadow service: got %+v", s)
		}
		if s := byCode["lech"]; s.Compared != 1 || s.Differed != 1 {
			t.Fatalf("board, differing service: got %+v", s)
		}
		if s := byCode["moi"]; !s.Moved || s.LegacyCalls != 0 {
			t.Fatalf("board, moved service: got %+v", s)
		}
		if s := byCode["cu"]; s.Moved || len(s.Consumers) != 1 || s.Consumers[0].LegacyCalls != 1 || s.Consumers[0].LastLegacy.IsZero() {
			t.Fatalf("board, legacy service: got %+v", s)
		}
		if b.CanRetire || b.Moved != 1 {
			t.Fatalf("board verdict: got can retire %v, moved %d", b.CanRetire, b.Moved)
		}
	})
}

// testCA issues certificates for the mutual-TLS test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA tỉnh thử nghiệm"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) issue(t *testing.T, cn string, serial int64, server bool) (tls.Certificate, []byte) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tpl.DNSNames = []string{"localhost"}
		tpl.IPAddresses = nil
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestMutualTLS(t *testing.T) {
	r := newRig(t)
	up := echo(t, "primary")
	r.service("ho-tich", up.URL, "", "GET")
	ca := newTestCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)

	gw := httptest.NewUnstartedServer(r.s.Proxy(discard()))
	gw.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
	gw.StartTLS()
	t.Cleanup(gw.Close)

	registered, registeredPEM := ca.issue(t, "mot-cua.tinh.gov.vn", 2, false)
	stranger, _ := ca.issue(t, "la.tinh.gov.vn", 3, false)
	cert, err := r.s.AddCert(ctx, r.c.ID, registeredPEM)
	if err != nil || cert.Subject != "CN=mot-cua.tinh.gov.vn" || len(cert.Fingerprint) != 64 {
		t.Fatalf("add cert: got %+v, %v", cert, err)
	}
	if _, err := r.s.AddCert(ctx, r.c.ID, registeredPEM); fieldOf(err, "cert") != "exchange.cert_taken" {
		t.Fatalf("the same certificate twice: got %v", err)
	}
	if _, err := r.s.AddCert(ctx, r.c.ID, []byte("-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n")); fieldOf(err, "cert") != "exchange.cert_invalid" {
		t.Fatalf("garbage: got %v", err)
	}
	call := func(c *tls.Certificate) *http.Response {
		t.Helper()
		tr := gw.Client().Transport.(*http.Transport).Clone()
		if c != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*c}
		}
		resp, err := (&http.Client{Transport: tr}).Get(gw.URL + "/gw/ho-tich/a")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := call(&registered); resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("registered certificate, no key: got %d %s", resp.StatusCode, b)
	}
	wantProblem(t, call(&stranger), 401, "exchange.cert_unknown")
	wantProblem(t, call(nil), 401, "exchange.key_missing")
	if err := r.s.RevokeCert(ctx, cert.ID); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, call(&registered), 401, "exchange.cert_unknown")
}

// TestReviewFixes covers what a review found: callers cannot open a circuit
// with bad bodies, the half-open state lets one call through, the timeout
// counts from the written request, a repeatable write is not sent to the
// other system after a 504, X-Request-Id comes once, and a renamed service
// keeps its board.
func TestReviewFixes(t *testing.T) {
	t.Run("bad bodies do not open the circuit", func(t *testing.T) {
		r := newRig(t)
		up := echo(t, "primary")
		d := mustService(t, r.s, exchange.ServiceInput{Code: "nop", Name: "Nộp", PrimaryURL: up.URL, MaxBodyBytes: 1024, TimeoutMS: 2000})
		if _, err := r.s.Grant(ctx, r.c.ID, d.ID, []string{"GET", "POST"}, 0); err != nil {
			t.Fatal(err)
		}
		for range 8 {
			req, _ := http.NewRequest("POST", r.gw.URL+"/gw/nop/a", io.MultiReader(strings.NewReader(strings.Repeat("x", 5000))))
			req.ContentLength = -1 // chunked: the limit is found while reading
			req.Header.Set("Authorization", "Bearer "+r.key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("oversized chunked body: got %d, want 413", resp.StatusCode)
			}
		}
		if st := r.s.State(up.URL); st.Open || st.Fails != 0 {
			t.Fatalf("after callers' oversized bodies: %+v, want the circuit closed", st)
		}
		if resp := r.do("GET", "/gw/nop/a", nil); resp.StatusCode != 200 {
			t.Fatalf("another caller: got %d", resp.StatusCode)
		}
	})

	t.Run("the timeout starts once the body is sent", func(t *testing.T) {
		r := newRig(t)
		up := echo(t, "primary")
		d := mustService(t, r.s, exchange.ServiceInput{Code: "cham", Name: "Chậm", PrimaryURL: up.URL, TimeoutMS: 300})
		if _, err := r.s.Grant(ctx, r.c.ID, d.ID, []string{"POST"}, 0); err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		go func() {
			for range 6 { // 600 ms of upload, twice the timeout
				_, _ = pw.Write([]byte("phan "))
				time.Sleep(100 * time.Millisecond)
			}
			pw.Close()
		}()
		resp := r.do("POST", "/gw/cham/a", pr)
		if resp.StatusCode != 200 {
			t.Fatalf("slow upload to a fast upstream: got %d, want 200", resp.StatusCode)
		}
		if e := decodeEcho(t, resp); e.Body != strings.Repeat("phan ", 6) {
			t.Fatalf("body: %q", e.Body)
		}
	})

	t.Run("a write is not repeated to the other system after a 504", func(t *testing.T) {
		r := newRig(t)
		primary, primaryCalls := counted(t, http.StatusGatewayTimeout, `{}`)
		backup, backupCalls := counted(t, 201, `{}`)
		r.service("ghi", primary.URL, backup.URL, "POST", "GET")
		resp := r.do("POST", "/gw/ghi/a", strings.NewReader("x"), "Idempotency-Key", "k-504")
		if resp.StatusCode != http.StatusGatewayTimeout || primaryCalls.Load() != 1 || backupCalls.Load() != 0 {
			t.Fatalf("POST with Idempotency-Key after a 504: got %d, primary %d, backup %d calls", resp.StatusCode,
				primaryCalls.Load(), backupCalls.Load())
		}
		if resp := r.do("GET", "/gw/ghi/a", nil); resp.StatusCode != 201 || resp.Header.Get("X-Upstream") != "backup" {
			t.Fatalf("GET after a 504: got %d from %q, want the backup", resp.StatusCode, resp.Header.Get("X-Upstream"))
		}
	})

	t.Run("one X-Request-Id", func(t *testing.T) {
		r := newRig(t)
		up := echo(t, "primary")
		r.service("mot", up.URL, "", "GET")
		resp := r.do("GET", "/gw/mot/a", nil, "X-Request-Id", "abc-123")
		if got := resp.Header.Values("X-Request-Id"); len(got) != 1 || got[0] != "abc-123" {
			t.Fatalf("X-Request-Id: got %q", got)
		}
		resp = r.do("GET", "/gw/khong/a", nil, "X-Request-Id", "abc-124")
		if got := resp.Header.Values("X-Request-Id"); len(got) != 1 || got[0] != "abc-124" {
			t.Fatalf("X-Request-Id on a problem: got %q", got)
		}
	})

	t.Run("a renamed service keeps its board", func(t *testing.T) {
		dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
			r := rigOn(t, d)
			stop := running(t, r.s)
			legacy := echo(t, "legacy")
			def := mustService(t, r.s, exchange.ServiceInput{Code: "cu", Name: "Cũ", PrimaryURL: legacy.URL, BackupURL: legacy.URL,
				Cutover: exchange.CutoverOld})
			if _, err := r.s.Grant(ctx, r.c.ID, def.ID, []string{"GET"}, 0); err != nil {
				t.Fatal(err)
			}
			if resp := r.do("GET", "/gw/cu/a", nil); resp.StatusCode != 200 {
				t.Fatalf("got %d", resp.StatusCode)
			}
			stop()
			in := exchange.ServiceInput{Code: "moi", Name: "Mới", PrimaryURL: legacy.URL, BackupURL: legacy.URL, Cutover: exchange.CutoverNew}
			if _, err := r.s.UpdateService(ctx, def.ID, in, def.Version); err != nil {
				t.Fatal(err)
			}
			b, err := r.s.MigrationBoard(context.Background(), 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Services) != 1 || b.Services[0].LegacyCalls != 1 || b.Services[0].Moved || b.CanRetire {
				t.Fatalf("board after the rename: %+v, can retire %v", b.Services, b.CanRetire)
			}
		})
	})
}

func TestShadowComparesWhatAnswersSay(t *testing.T) {
	r := rigOn(t, dbtest.SQLite(t, modules))
	stop := running(t, r.s)
	gz := func(level int, body string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			zw, _ := gzip.NewWriterLevel(w, level)
			_, _ = io.WriteString(zw, body)
			zw.Close()
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	plain := func(body string) *httptest.Server {
		srv, _ := counted(t, 200, body)
		return srv
	}
	for _, sv := range []struct{ code, legacy, new string }{
		{"nen", gz(gzip.BestSpeed, `{"ho_ten":"Trần Thị B"}`).URL, gz(gzip.BestCompression, `{"ho_ten":"Trần Thị B"}`).URL},
		{"so-lon", plain(`{"so_ho_so":900719925474099312}`).URL, plain(`{"so_ho_so":900719925474099313}`).URL},
	} {
		def := mustService(t, r.s, exchange.ServiceInput{Code: sv.code, Name: sv.code, PrimaryURL: sv.new, BackupURL: sv.legacy,
			Cutover: exchange.CutoverShadow})
		if _, err := r.s.Grant(ctx, r.c.ID, def.ID, []string{"GET"}, 0); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", r.gw.URL+"/gw/"+sv.code+"/a", nil)
		req.Header.Set("Authorization", "Bearer "+r.key)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	stop()
	if diffs, _ := r.s.ShadowDiffs(context.Background(), "nen", 10); len(diffs) != 0 {
		t.Fatalf("the same JSON gzipped at two levels: got differences %+v", diffs)
	}
	if diffs, _ := r.s.ShadowDiffs(context.Background(), "so-lon", 10); len(diffs) != 1 || diffs[0].Reason != "body" {
		t.Fatalf("two large identifiers one apart: got %+v, want a body difference", diffs)
	}
}
