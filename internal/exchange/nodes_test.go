package exchange

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

// TestRateSharedByProcesses: two gateway processes on one database each allow
// half a grant's rate while both are alive, and the one left takes the whole
// rate once the other has stopped.
func TestRateSharedByProcesses(t *testing.T) {
	oldEvery, oldGone := nodeEvery, nodeGone
	nodeEvery, nodeGone = 20*time.Millisecond, 60*time.Millisecond
	t.Cleanup(func() { nodeEvery, nodeGone = oldEvery, oldGone })

	dbtest.Each(t, []db.Module{audit.Migrations, Migrations}, func(t *testing.T, d *db.DB) {
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		t.Cleanup(up.Close)
		ctx := reqctx.WithActor(context.Background(), "user:quantri")
		a, b := NewService(d, slog.New(slog.DiscardHandler)), NewService(d, slog.New(slog.DiscardHandler))
		def, err := a.CreateService(ctx, ServiceInput{Code: "chia-se", Name: "Chia sẻ", PrimaryURL: up.URL})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := a.CreateConsumer(ctx, ConsumerInput{Name: "Hệ thống gọi"})
		key, _, _ := a.IssueKey(ctx, c.ID)
		if _, err := a.Grant(ctx, c.ID, def.ID, []string{"GET"}, 6); err != nil {
			t.Fatal(err)
		}
		run := func(s *Service) (stop func()) {
			rctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); s.Run(rctx) }()
			return func() { cancel(); <-done }
		}
		stopA, stopB := run(a), run(b)
		defer stopA()
		for deadline := time.Now().Add(5 * time.Second); a.Nodes() != 2 || b.Nodes() != 2; {
			if time.Now().After(deadline) {
				t.Fatalf("processes counted: a %d, b %d, want 2 each", a.Nodes(), b.Nodes())
			}
			time.Sleep(10 * time.Millisecond)
		}
		calls := func(s *Service, n int) (ok int) {
			gw := httptest.NewServer(s.Proxy(slog.New(slog.DiscardHandler)))
			defer gw.Close()
			for range n {
				req, _ := http.NewRequest("GET", gw.URL+"/gw/chia-se/a", nil)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok++
				}
			}
			return ok
		}
		if okA, okB := calls(a, 6), calls(b, 6); okA != 3 || okB != 3 {
			t.Fatalf("6 a minute shared by two processes: a allowed %d, b %d, want 3 each", okA, okB)
		}
		stopB()
		for deadline := time.Now().Add(5 * time.Second); a.Nodes() != 1; {
			if time.Now().After(deadline) {
				t.Fatalf("after b stopped, a counts %d processes", a.Nodes())
			}
			time.Sleep(10 * time.Millisecond)
		}
		// Alone, a's share is the whole rate: 3 more calls fit in its bucket.
		if ok := calls(a, 4); ok != 3 {
			t.Fatalf("a alone: allowed %d more, want 3", ok)
		}
	})
}
