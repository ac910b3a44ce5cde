package jobs_test

import (
	"bytes"
	"context"
	"hopnhat/internal/platform/audit"
	"log/slog"
	"sync"
	"testing"
	"time"

	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/jobs"
)

var modules = []db.Module{audit.Migrations, jobs.Migrations}

// clock is a settable clock safe to read from runner goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testLogger logs into a buffer that is printed when the test fails.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	buf := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// setup gives a queue on d whose clock the test moves.
func setup(t *testing.T, d *db.DB) (*jobs.Queue, *clock) {
	t.Helper()
	c := newClock()
	d.SetClock(c.Now)
	return jobs.NewQueue(d, testLogger(t)), c
}

func newRunner(t *testing.T, q *jobs.Queue, cfg jobs.RunnerConfig, handlers map[string]jobs.Handler) *jobs.Runner {
	t.Helper()
	r, err := jobs.NewRunner(q, cfg, handlers)
	if err != nil {
		t.Fatalf("new runner: %v", err)
	}
	return r
}

func mustEnqueue(t *testing.T, q *jobs.Queue, kind string, payload any, opts jobs.EnqueueOptions) jobs.Job {
	t.Helper()
	j, err := q.Enqueue(context.Background(), kind, payload, opts)
	if err != nil {
		t.Fatalf("enqueue %s: %v", kind, err)
	}
	return j
}

func mustGet(t *testing.T, q *jobs.Queue, id string) jobs.Job {
	t.Helper()
	j, err := q.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return j
}

func runNext(t *testing.T, r *jobs.Runner) bool {
	t.Helper()
	ran, err := r.RunNext(context.Background())
	if err != nil {
		t.Fatalf("run next: %v", err)
	}
	return ran
}

// waitFor polls cond until it holds, failing the test after timeout. It waits
// for events, not for speed: the timeout only guards against a hang.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recv waits for a value on ch, failing the test after timeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
