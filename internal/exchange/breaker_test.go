package exchange

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

// TestBreakerHalfOpen: after the open period one call tries the upstream;
// its failure reopens the circuit, its success closes it.
func TestBreakerHalfOpen(t *testing.T) {
	old := breakerOpen
	breakerOpen = 100 * time.Millisecond
	t.Cleanup(func() { breakerOpen = old })

	var status atomic.Int64
	status.Store(http.StatusServiceUnavailable)
	var calls atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(up.Close)

	ctx := reqctx.WithActor(context.Background(), "user:quantri")
	d := dbtest.SQLite(t, []db.Module{audit.Migrations, Migrations})
	s := NewService(d, slog.New(slog.DiscardHandler))
	def, err := s.CreateService(ctx, ServiceInput{Code: "mot-nguon", Name: "Một nguồn", PrimaryURL: up.URL, TimeoutMS: 2000})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s.CreateConsumer(ctx, ConsumerInput{Name: "Hệ thống gọi"})
	key, _, _ := s.IssueKey(ctx, c.ID)
	if _, err := s.Grant(ctx, c.ID, def.ID, []string{"GET"}, 0); err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(s.Proxy(slog.New(slog.DiscardHandler)))
	t.Cleanup(gw.Close)
	get := func() int {
		req, _ := http.NewRequest("GET", gw.URL+"/gw/mot-nguon/a", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for range breakerTrips {
		get()
	}
	if n := calls.Load(); n != breakerTrips {
		t.Fatalf("upstream calls before the circuit opened: %d", n)
	}
	if st := get(); st != http.StatusServiceUnavailable || calls.Load() != breakerTrips {
		t.Fatalf("open circuit: got %d with %d upstream calls, want the gateway's 503 and no call", st, calls.Load())
	}
	time.Sleep(150 * time.Millisecond)
	get() // the trial fails: open again
	if calls.Load() != breakerTrips+1 {
		t.Fatalf("the trial: %d upstream calls, want %d", calls.Load(), breakerTrips+1)
	}
	get()
	if calls.Load() != breakerTrips+1 {
		t.Fatal("a failed trial did not reopen the circuit")
	}
	status.Store(http.StatusOK)
	time.Sleep(150 * time.Millisecond)
	if st := get(); st != http.StatusOK {
		t.Fatalf("a good trial: got %d", st)
	}
	for range 3 {
		if st := get(); st != http.StatusOK {
			t.Fatalf("after a good trial the circuit is closed: got %d", st)
		}
	}
	if s.State(up.URL).Open {
		t.Fatal("state still open")
	}
}

// TestHalfOpenLetsOneCallThrough: a burst right after the open period sends
// one call to the upstream, not all of them.
func TestHalfOpenLetsOneCallThrough(t *testing.T) {
	old := breakerOpen
	breakerOpen = 50 * time.Millisecond
	t.Cleanup(func() { breakerOpen = old })
	release := make(chan struct{})
	var calls atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) > breakerTrips {
			<-release // the trial call waits while the burst arrives
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(up.Close)
	t.Cleanup(func() { close(release) })
	ctx := reqctx.WithActor(context.Background(), "user:quantri")
	s := NewService(dbtest.SQLite(t, []db.Module{audit.Migrations, Migrations}), slog.New(slog.DiscardHandler))
	def, _ := s.CreateService(ctx, ServiceInput{Code: "mot-nguon", Name: "Một nguồn", PrimaryURL: up.URL, TimeoutMS: 5000})
	c, _ := s.CreateConsumer(ctx, ConsumerInput{Name: "Hệ thống gọi"})
	key, _, _ := s.IssueKey(ctx, c.ID)
	if _, err := s.Grant(ctx, c.ID, def.ID, []string{"GET"}, 0); err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(s.Proxy(slog.New(slog.DiscardHandler)))
	t.Cleanup(gw.Close)
	get := func() int {
		req, _ := http.NewRequest("GET", gw.URL+"/gw/mot-nguon/a", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range breakerTrips {
		get()
	}
	time.Sleep(80 * time.Millisecond)
	go get() // the trial
	for calls.Load() != breakerTrips+1 {
		time.Sleep(time.Millisecond)
	}
	for i := range 20 {
		if st := get(); st != http.StatusServiceUnavailable {
			t.Fatalf("burst call %d while the trial is out: got %d", i, st)
		}
	}
	if n := calls.Load(); n != breakerTrips+1 {
		t.Fatalf("upstream calls: %d, want the %d that opened the circuit and one trial", n, breakerTrips+1)
	}
}
