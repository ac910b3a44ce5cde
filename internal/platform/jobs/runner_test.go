package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/jobs"
)

func TestNewRunnerRejectsBadConfig(t *testing.T) {
	d := dbtest.SQLite(t, modules)
	q := jobs.NewQueue(d, testLogger(t))
	ok := map[string]jobs.Handler{"a": func(context.Context, *jobs.Job, jobs.Progress) error { return nil }}
	cases := []struct {
		name     string
		cfg      jobs.RunnerConfig
		handlers map[string]jobs.Handler
	}{
		{name: "no handlers", handlers: nil},
		{name: "nil handler", handlers: map[string]jobs.Handler{"a": nil}},
		{name: "negative lease", cfg: jobs.RunnerConfig{Lease: -time.Second}, handlers: ok},
		{name: "heartbeat not shorter than lease", cfg: jobs.RunnerConfig{Lease: time.Second, Heartbeat: time.Second}, handlers: ok},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := jobs.NewRunner(q, tc.cfg, tc.handlers); err == nil {
				t.Fatal("got no error, want one")
			}
		})
	}
	r, err := jobs.NewRunner(q, jobs.RunnerConfig{}, ok)
	if err != nil {
		t.Fatal(err)
	}
	if r.Owner() == "" || !strings.Contains(r.Owner(), "-") {
		t.Errorf("got default owner %q, want hostname-pid-random", r.Owner())
	}
	r2, _ := jobs.NewRunner(q, jobs.RunnerConfig{}, ok)
	if r2.Owner() == r.Owner() {
		t.Errorf("two runners in one process share owner %q", r.Owner())
	}
}

func TestRunNextSucceeds(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, c := setup(t, d)
		j := mustEnqueue(t, q, "import", importArgs{File: "xa.csv"}, jobs.EnqueueOptions{})
		c.Advance(time.Minute)
		var seen jobs.Job
		r := newRunner(t, q, jobs.RunnerConfig{Owner: "runner-a"}, map[string]jobs.Handler{
			"import": func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
				seen = *j
				return nil
			},
		})
		if !runNext(t, r) {
			t.Fatal("nothing ran")
		}
		var args importArgs
		if err := seen.Decode(&args); err != nil || args.File != "xa.csv" {
			t.Errorf("handler got payload %s, want xa.csv", seen.Payload)
		}
		if seen.State != jobs.Running || seen.Attempts != 1 || seen.Owner != "runner-a" || !seen.LeaseUntil.Equal(c.Now().Add(30*time.Second)) {
			t.Errorf("handler got %s attempt %d owner %q lease %v, want running 1 runner-a %v", seen.State, seen.Attempts, seen.Owner, seen.LeaseUntil, c.Now().Add(30*time.Second))
		}
		got := mustGet(t, q, j.ID)
		if got.State != jobs.Succeeded || got.Attempts != 1 || got.LastError != "" {
			t.Errorf("got %s attempts %d error %q, want succeeded 1 none", got.State, got.Attempts, got.LastError)
		}
		if !got.StartedAt.Equal(c.Now()) || !got.FinishedAt.Equal(c.Now()) || !got.LeaseUntil.IsZero() {
			t.Errorf("got started %v finished %v lease %v, want %v %v none", got.StartedAt, got.FinishedAt, got.LeaseUntil, c.Now(), c.Now())
		}
		if runNext(t, r) {
			t.Fatal("a succeeded job ran again")
		}
	})
}

func TestRunnerOnlyClaimsItsKinds(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, _ := setup(t, d)
		j := mustEnqueue(t, q, "mail.send", nil, jobs.EnqueueOptions{})
		r := newRunner(t, q, jobs.RunnerConfig{Owner: "a"}, map[string]jobs.Handler{
			"import": func(context.Context, *jobs.Job, jobs.Progress) error { return nil },
		})
		if runNext(t, r) {
			t.Fatal("runner claimed a kind it has no handler for")
		}
		if got := mustGet(t, q, j.ID); got.State != jobs.Pending {
			t.Fatalf("got %s, want pending", got.State)
		}
	})
}

func TestRetryWithBackoffThenFailed(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, c := setup(t, d)
		j := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{MaxAttempts: 3})
		r := newRunner(t, q, jobs.RunnerConfig{Owner: "a"}, map[string]jobs.Handler{
			"import": func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
				return fmt.Errorf("upstream down (attempt %d)", j.Attempts)
			},
		})
		// DefaultBackoff: 5s, then 10s, each with jitter down to half.
		steps := []struct {
			attempt int
			lo, hi  time.Duration
		}{{1, 2500 * time.Millisecond, 5 * time.Second}, {2, 5 * time.Second, 10 * time.Second}}
		for _, s := range steps {
			if !runNext(t, r) {
				t.Fatalf("attempt %d did not run", s.attempt)
			}
			got := mustGet(t, q, j.ID)
			wait := got.RunAfter.Sub(c.Now())
			if got.State != jobs.Pending || got.Attempts != s.attempt || wait < s.lo || wait > s.hi {
				t.Fatalf("after attempt %d got %s attempts %d retry in %s, want pending %d in [%s, %s]", s.attempt, got.State, got.Attempts, wait, s.attempt, s.lo, s.hi)
			}
			if want := fmt.Sprintf("upstream down (attempt %d)", s.attempt); got.LastError != want {
				t.Errorf("got error %q, want %q", got.LastError, want)
			}
			if runNext(t, r) {
				t.Fatalf("retry %d ran before its backoff", s.attempt)
			}
			c.Advance(wait)
		}
		if !runNext(t, r) {
			t.Fatal("attempt 3 did not run")
		}
		got := mustGet(t, q, j.ID)
		if got.State != jobs.Failed || got.Attempts != 3 || got.LastError != "upstream down (attempt 3)" || !got.FinishedAt.Equal(c.Now()) {
			t.Fatalf("got %s attempts %d error %q finished %v, want failed 3 with the last error at %v", got.State, got.Attempts, got.LastError, got.FinishedAt, c.Now())
		}
		c.Advance(24 * time.Hour)
		if runNext(t, r) {
			t.Fatal("a failed job ran again")
		}
	})
}

func TestDefaultBackoffGrowsWithJitterAndCap(t *testing.T) {
	for attempt := 1; attempt <= 40; attempt++ {
		ceiling := min(5*time.Second<<min(attempt-1, 20), time.Hour)
		seen := map[time.Duration]bool{}
		for range 50 {
			got := jobs.DefaultBackoff(attempt)
			if got < ceiling/2 || got > ceiling {
				t.Fatalf("attempt %d: got %s, want within [%s, %s]", attempt, got, ceiling/2, ceiling)
			}
			seen[got] = true
		}
		if len(seen) < 2 {
			t.Fatalf("attempt %d: 50 backoffs all %v, want jitter", attempt, seen)
		}
	}
}

func TestPermanentErrorFailsWithoutRetry(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, _ := setup(t, d)
		j := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{MaxAttempts: 5})
		bad := errors.New("file is not a ward list")
		r := newRunner(t, q, jobs.RunnerConfig{Owner: "a"}, map[string]jobs.Handler{
			"import": func(context.Context, *jobs.Job, jobs.Progress) error {
				return jobs.Permanent(fmt.Errorf("read header: %w", bad))
			},
		})
		if !runNext(t, r) {
			t.Fatal("nothing ran")
		}
		got := mustGet(t, q, j.ID)
		if got.State != jobs.Failed || got.Attempts != 1 || got.LastError != "read header: file is not a ward list" {
			t.Fatalf("got %s attempts %d error %q, want failed after 1 with the error", got.State, got.Attempts, got.LastError)
		}
	})
	p := jobs.Permanent(errors.New("x"))
	if !jobs.IsPermanent(fmt.Errorf("wrapped: %w", p)) || jobs.IsPermanent(errors.New("x")) || jobs.Permanent(nil) != nil {
		t.Error("Permanent/IsPermanent disagree")
	}
}

func TestHandlerPanicIsRetried(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, _ := setup(t, d)
		j := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{MaxAttempts: 2})
		r := newRunner(t, q, jobs.RunnerConfig{Owner: "a"}, map[string]jobs.Handler{
			"import": func(context.Context, *jobs.Job, jobs.Progress) error { panic("nil map") },
		})
		if !runNext(t, r) {
			t.Fatal("nothing ran")
		}
		got := mustGet(t, q, j.ID)
		if got.State != jobs.Pending || got.Attempts != 1 || !strings.Contains(got.LastError, "nil map") {
			t.Fatalf("got %s attempts %d error %q, want pending for retry with the panic", got.State, got.Attempts, got.LastError)
		}
	})
}

func TestCancelRunningJobStopsHandler(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, _ := setup(t, d)
		j := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{})
		started, cause := make(chan struct{}), make(chan error, 1)
		r := newRunner(t, q, jobs.RunnerConfig{Owner: "a", Heartbeat: 10 * time.Millisecond}, map[string]jobs.Handler{
			"import": func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
				close(started)
				<-ctx.Done()
				cause <- context.Cause(ctx)
				return ctx.Err()
			},
		})
		done := make(chan bool)
		go func() { ran, _ := r.RunNext(context.Background()); done <- ran }()
		recv(t, started, "handler start")
		got, err := q.Cancel(context.Background(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != jobs.Running || !got.CancelRequested {
			t.Fatalf("got %s cancel_requested %v, want running with the request", got.State, got.CancelRequested)
		}
		if c := recv(t, cause, "handler stop"); !errors.Is(c, jobs.ErrCancelled) {
			t.Errorf("handler stopped with %v, want ErrCancelled", c)
		}
		recv(t, done, "run next")
		if got := mustGet(t, q, j.ID); got.State != jobs.Cancelled || got.FinishedAt.IsZero() {
			t.Fatalf("got %s finished %v, want cancelled", got.State, got.FinishedAt)
		}
	})
}

func TestCancelOfJobWhoseRunnerDiedIsImmediate(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, c := setup(t, d)
		ctx := context.Background()
		j := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{})
		// Runner A claims, asks for a cancel it never sees, and dies; B finds the
		// job with its lease lapsed and the request pending.
		started, stop := make(chan struct{}), make(chan struct{})
		a := newRunner(t, q, jobs.RunnerConfig{Owner: "a", Heartbeat: time.Hour, Lease: 2 * time.Hour}, map[string]jobs.Handler{
			"import": func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
				close(started)
				<-stop
				return nil
			},
		})
		done := make(chan bool)
		go func() { ran, _ := a.RunNext(ctx); done <- ran }()
		recv(t, started, "handler start")
		if _, err := q.Cancel(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		c.Advance(3 * time.Hour)
		ran := false
		b := newRunner(t, q, jobs.RunnerConfig{Owner: "b"}, map[string]jobs.Handler{
			"import": func(context.Context, *jobs.Job, jobs.Progress) error { ran = true; return nil },
		})
		if !runNext(t, b) || ran {
			t.Fatalf("b should have claimed the job and cancelled it without running it (ran handler: %v)", ran)
		}
		if got := mustGet(t, q, j.ID); got.State != jobs.Cancelled {
			t.Fatalf("got %s, want cancelled", got.State)
		}
		close(stop)
		recv(t, done, "runner a")
		if got := mustGet(t, q, j.ID); got.State != jobs.Cancelled {
			t.Fatalf("after a's late finish got %s, want cancelled kept", got.State)
		}

		// Cancel of a running job whose lease lapsed needs no runner at all.
		j2 := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{})
		started, stop = make(chan struct{}), make(chan struct{})
		go func() { ran, _ := a.RunNext(ctx); done <- ran }()
		recv(t, started, "handler start")
		c.Advance(3 * time.Hour)
		if got, err := q.Cancel(ctx, j2.ID); err != nil || got.State != jobs.Cancelled {
			t.Fatalf("got %s, %v; want cancelled at once", got.State, err)
		}
		close(stop)
		recv(t, done, "runner a")
		if got := mustGet(t, q, j2.ID); got.State != jobs.Cancelled {
			t.Fatalf("after a's late finish got %s, want cancelled kept", got.State)
		}
	})
}

func TestProgressAndCheckpointPersist(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, c := setup(t, d)
		j := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{})
		var resumedFrom []byte
		r := newRunner(t, q, jobs.RunnerConfig{Owner: "a"}, map[string]jobs.Handler{
			"import": func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
				if j.Attempts == 1 {
					if err := p.Report(ctx, 3, 10, "lô 3 / 10"); err != nil {
						return err
					}
					if err := p.Checkpoint(ctx, []byte{0, 3, 0xff}); err != nil {
						return err
					}
					// A checkpoint in a transaction that rolls back is not kept.
					rollback := errors.New("rollback")
					err := d.InTx(ctx, func(tx *db.Tx) error {
						if err := p.CheckpointTx(ctx, tx, []byte("not kept")); err != nil {
							return err
						}
						return rollback
					})
					if !errors.Is(err, rollback) {
						return jobs.Permanent(err)
					}
					return errors.New("connection reset")
				}
				resumedFrom = j.Checkpoint
				return d.InTx(ctx, func(tx *db.Tx) error {
					if err := p.CheckpointTx(ctx, tx, []byte("done")); err != nil {
						return err
					}
					return nil
				})
			},
		})
		if !runNext(t, r) {
			t.Fatal("nothing ran")
		}
		got := mustGet(t, q, j.ID)
		if got.State != jobs.Pending || got.Done != 3 || got.Total != 10 || got.Message != "lô 3 / 10" || string(got.Checkpoint) != "\x00\x03\xff" {
			t.Fatalf("got %s progress %d/%d %q checkpoint %q, want pending 3/10 \"lô 3 / 10\" \\x00\\x03\\xff", got.State, got.Done, got.Total, got.Message, got.Checkpoint)
		}
		c.Advance(time.Minute)
		if !runNext(t, r) {
			t.Fatal("retry did not run")
		}
		if string(resumedFrom) != "\x00\x03\xff" {
			t.Errorf("retry resumed from %q, want the saved checkpoint", resumedFrom)
		}
		got = mustGet(t, q, j.ID)
		if got.State != jobs.Succeeded || string(got.Checkpoint) != "done" || got.Attempts != 2 {
			t.Fatalf("got %s checkpoint %q attempts %d, want succeeded done 2", got.State, got.Checkpoint, got.Attempts)
		}
	})
}

func TestLapsedLeaseIsClaimedAgainAndResumes(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, c := setup(t, d)
		ctx := context.Background()
		j := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{MaxAttempts: 3})
		cfg := jobs.RunnerConfig{Lease: 30 * time.Second, Heartbeat: 10 * time.Millisecond}

		aStarted, aCause, aLate := make(chan struct{}), make(chan error, 1), make(chan error, 1)
		cfg.Owner = "runner-a"
		a := newRunner(t, q, cfg, map[string]jobs.Handler{
			"import": func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
				if err := p.Checkpoint(ctx, []byte("row 300")); err != nil {
					return err
				}
				close(aStarted)
				<-ctx.Done()
				aCause <- context.Cause(ctx)
				aLate <- p.Checkpoint(context.Background(), []byte("row 999 by a"))
				return ctx.Err()
			},
		})
		aDone := make(chan bool)
		go func() { ran, _ := a.RunNext(ctx); aDone <- ran }()
		recv(t, aStarted, "a's handler start")

		// A stalls past its lease (as if paused or cut off); B takes the job.
		c.Advance(31 * time.Second)
		var bSaw jobs.Job
		var bSawStored jobs.Job
		cfg.Owner = "runner-b"
		b := newRunner(t, q, cfg, map[string]jobs.Handler{
			"import": func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
				bSaw = *j
				bSawStored = mustGet(t, q, j.ID)
				// Let A notice it lost the job before B finishes.
				recv(t, aDone, "runner a to stop")
				return p.Checkpoint(ctx, []byte("row 1000 by b"))
			},
		})
		if !runNext(t, b) {
			t.Fatal("b claimed nothing")
		}
		if string(bSaw.Checkpoint) != "row 300" || bSaw.Attempts != 2 || bSaw.Owner != "runner-b" {
			t.Errorf("b got checkpoint %q attempt %d owner %q, want row 300, 2, runner-b", bSaw.Checkpoint, bSaw.Attempts, bSaw.Owner)
		}
		if want := "lease of runner-a lapsed during attempt 1"; bSawStored.LastError != want {
			t.Errorf("while b ran, got last error %q, want %q", bSawStored.LastError, want)
		}
		if cause := <-aCause; !errors.Is(cause, jobs.ErrLeaseLost) {
			t.Errorf("a stopped with %v, want ErrLeaseLost", cause)
		}
		if err := <-aLate; !errors.Is(err, jobs.ErrLeaseLost) {
			t.Errorf("a's late checkpoint got %v, want ErrLeaseLost", err)
		}
		got := mustGet(t, q, j.ID)
		if got.State != jobs.Succeeded || got.Attempts != 2 || got.Owner != "runner-b" || string(got.Checkpoint) != "row 1000 by b" {
			t.Fatalf("got %s attempts %d owner %q checkpoint %q, want succeeded 2 runner-b \"row 1000 by b\"", got.State, got.Attempts, got.Owner, got.Checkpoint)
		}
	})
}

func TestLapsedLeaseOnLastAttemptFails(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, c := setup(t, d)
		ctx := context.Background()
		j := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{MaxAttempts: 1})
		started, stop := make(chan struct{}), make(chan struct{})
		a := newRunner(t, q, jobs.RunnerConfig{Owner: "a", Lease: time.Hour, Heartbeat: time.Hour - 1}, map[string]jobs.Handler{
			"import": func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
				close(started)
				<-stop
				return nil
			},
		})
		aDone := make(chan bool)
		go func() { ran, _ := a.RunNext(ctx); aDone <- ran }()
		recv(t, started, "handler start")
		c.Advance(2 * time.Hour)
		ran := false
		b := newRunner(t, q, jobs.RunnerConfig{Owner: "b"}, map[string]jobs.Handler{
			"import": func(context.Context, *jobs.Job, jobs.Progress) error { ran = true; return nil },
		})
		if !runNext(t, b) || ran {
			t.Fatalf("b should claim the job and fail it without running it (ran: %v)", ran)
		}
		got := mustGet(t, q, j.ID)
		if got.State != jobs.Failed || got.Attempts != 2 || got.LastError != "lease of a lapsed during attempt 1" {
			t.Fatalf("got %s attempts %d error %q, want failed 2 with the lapsed lease", got.State, got.Attempts, got.LastError)
		}
		close(stop)
		recv(t, aDone, "runner a")
		if got := mustGet(t, q, j.ID); got.State != jobs.Failed {
			t.Fatalf("a's late success overwrote the outcome: got %s", got.State)
		}
	})
}

func TestShutdownHandsJobBack(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, _ := setup(t, d)
		j := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{MaxAttempts: 1})
		started, cause := make(chan struct{}), make(chan error, 1)
		r := newRunner(t, q, jobs.RunnerConfig{Owner: "a", Poll: 5 * time.Millisecond}, map[string]jobs.Handler{
			"import": func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
				close(started)
				<-ctx.Done()
				cause <- context.Cause(ctx)
				return ctx.Err()
			},
		})
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan error)
		go func() { stopped <- r.Run(ctx) }()
		recv(t, started, "handler start")
		if err := r.Run(ctx); err == nil {
			t.Error("a second Run of one runner was allowed")
		}
		cancel()
		if err := recv(t, stopped, "runner stop"); err != nil {
			t.Fatalf("run returned %v, want nil", err)
		}
		if c := <-cause; !errors.Is(c, context.Canceled) {
			t.Errorf("handler stopped with %v, want context.Canceled", c)
		}
		got := mustGet(t, q, j.ID)
		if got.State != jobs.Pending || got.Attempts != 0 || !got.LeaseUntil.IsZero() {
			t.Fatalf("got %s attempts %d lease %v, want pending with the attempt given back", got.State, got.Attempts, got.LeaseUntil)
		}
	})
}

func TestManyRunnersRunEachJobOnce(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q := jobs.NewQueue(d, testLogger(t))
		const n = 200
		for i := range n {
			mustEnqueue(t, q, "import", i, jobs.EnqueueOptions{})
		}
		var mu sync.Mutex
		runs := map[string]int{}
		active := map[string]bool{}
		var overlaps []string
		handler := func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
			mu.Lock()
			runs[j.ID]++
			if active[j.ID] {
				overlaps = append(overlaps, j.ID)
			}
			active[j.ID] = true
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			active[j.ID] = false
			mu.Unlock()
			return nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := range 4 {
			r := newRunner(t, q, jobs.RunnerConfig{Owner: fmt.Sprintf("runner-%d", i), Concurrency: 4, Poll: 5 * time.Millisecond, Lease: time.Minute},
				map[string]jobs.Handler{"import": handler})
			wg.Go(func() {
				if err := r.Run(ctx); err != nil {
					t.Errorf("run: %v", err)
				}
			})
		}
		waitFor(t, 45*time.Second, "all jobs to succeed", func() bool {
			s, err := q.Stats(context.Background())
			return err == nil && s.ByState[jobs.Succeeded] == n
		})
		cancel()
		wg.Wait()
		js, err := q.List(context.Background(), jobs.Filter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(js) != n {
			t.Fatalf("got %d jobs, want %d", len(js), n)
		}
		owners := map[string]int{}
		for _, j := range js {
			if j.State != jobs.Succeeded || j.Attempts != 1 || runs[j.ID] != 1 {
				t.Errorf("job %s: got %s attempts %d runs %d, want succeeded once", j.ID, j.State, j.Attempts, runs[j.ID])
			}
			owners[j.Owner]++
		}
		if len(overlaps) > 0 {
			t.Errorf("jobs run twice at once: %v", overlaps)
		}
		t.Logf("jobs per runner: %v", owners)
	})
}
