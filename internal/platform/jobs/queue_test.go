package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/jobs"
)

type importArgs struct {
	File  string `json:"file"`
	Wards int    `json:"wards"`
}

func TestEnqueueRejectsBadInput(t *testing.T) {
	cases := []struct {
		name    string
		kind    string
		payload any
		opts    jobs.EnqueueOptions
		field   string
	}{
		{name: "empty kind", kind: "", field: "kind"},
		{name: "kind too long", kind: string(make([]byte, 101)), field: "kind"},
		{name: "negative max attempts", kind: "x", opts: jobs.EnqueueOptions{MaxAttempts: -1}, field: "max_attempts"},
		{name: "raw payload that is not JSON", kind: "x", payload: []byte("{nope"), field: "payload"},
		{name: "payload that cannot be encoded", kind: "x", payload: func() {}, field: "payload"},
	}
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, _ := setup(t, d)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := q.Enqueue(context.Background(), tc.kind, tc.payload, tc.opts)
				var ae *apperr.Error
				if !errors.As(err, &ae) || ae.Kind != apperr.Invalid {
					t.Fatalf("got %v, want an Invalid apperr", err)
				}
				if _, ok := ae.Field[tc.field]; !ok {
					t.Errorf("got fields %v, want %q", ae.Field, tc.field)
				}
			})
		}
		if js, err := q.List(context.Background(), jobs.Filter{}); err != nil || len(js) != 0 {
			t.Errorf("got %d jobs (err %v), want none stored", len(js), err)
		}
	})
}

func TestEnqueueStoresPendingJob(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, c := setup(t, d)
		later := c.Now().Add(time.Hour)
		cases := []struct {
			name        string
			payload     any
			opts        jobs.EnqueueOptions
			wantPayload string
			wantMax     int
			wantAfter   time.Time
		}{
			{name: "struct payload and defaults", payload: importArgs{File: "phường.csv", Wards: 3}, wantPayload: `{"file":"phường.csv","wards":3}`, wantMax: jobs.DefaultMaxAttempts, wantAfter: c.Now()},
			{name: "raw JSON kept as is", payload: json.RawMessage(`{"b":1, "a":2}`), wantPayload: `{"b":1, "a":2}`, wantMax: jobs.DefaultMaxAttempts, wantAfter: c.Now()},
			{name: "nil payload is null", payload: nil, wantPayload: `null`, wantMax: jobs.DefaultMaxAttempts, wantAfter: c.Now()},
			{name: "options kept", payload: 1, opts: jobs.EnqueueOptions{MaxAttempts: 2, RunAfter: later}, wantPayload: `1`, wantMax: 2, wantAfter: later},
		}
		var first string
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				j := mustEnqueue(t, q, "import.wards", tc.payload, tc.opts)
				if first == "" {
					first = j.ID
				}
				got := mustGet(t, q, j.ID)
				if got.State != jobs.Pending || got.Kind != "import.wards" || got.Attempts != 0 {
					t.Errorf("got state %s kind %s attempts %d, want pending import.wards 0", got.State, got.Kind, got.Attempts)
				}
				if string(got.Payload) != tc.wantPayload {
					t.Errorf("got payload %s, want %s", got.Payload, tc.wantPayload)
				}
				if got.MaxAttempts != tc.wantMax || !got.RunAfter.Equal(tc.wantAfter) {
					t.Errorf("got max %d run_after %v, want %d %v", got.MaxAttempts, got.RunAfter, tc.wantMax, tc.wantAfter)
				}
				if !got.CreatedAt.Equal(c.Now()) || !got.UpdatedAt.Equal(c.Now()) || !got.StartedAt.IsZero() || !got.FinishedAt.IsZero() {
					t.Errorf("got created %v updated %v started %v finished %v, want created = updated = %v and no start or finish", got.CreatedAt, got.UpdatedAt, got.StartedAt, got.FinishedAt, c.Now())
				}
				if got.Checkpoint != nil || got.Owner != "" || !got.LeaseUntil.IsZero() || got.CancelRequested {
					t.Errorf("got checkpoint %q owner %q lease %v cancel %v, want none", got.Checkpoint, got.Owner, got.LeaseUntil, got.CancelRequested)
				}
				if got.ID != j.ID || !got.RunAfter.Equal(j.RunAfter) || string(got.Payload) != string(j.Payload) {
					t.Errorf("returned job %+v differs from stored %+v", j, got)
				}
			})
		}
		var args importArgs
		j := mustGet(t, q, first)
		if err := j.Decode(&args); err != nil || args.File != "phường.csv" || args.Wards != 3 {
			t.Errorf("decode got %+v, %v; want phường.csv 3", args, err)
		}
	})
}

func TestGetUnknownJobIsNotFound(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, _ := setup(t, d)
		if _, err := q.Get(context.Background(), "no-such-job"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("got %v, want NotFound", err)
		}
		if _, err := q.Cancel(context.Background(), "no-such-job"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("cancel got %v, want NotFound", err)
		}
	})
}

func TestUniqueKeyDedupesLiveJobs(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, _ := setup(t, d)
		opts := jobs.EnqueueOptions{UniqueKey: "import:hai-duong"}
		first := mustEnqueue(t, q, "import", 1, opts)
		again := mustEnqueue(t, q, "import", 2, opts)
		if again.ID != first.ID || string(again.Payload) != "1" {
			t.Fatalf("got job %s payload %s, want the pending job %s payload 1", again.ID, again.Payload, first.ID)
		}
		other := mustEnqueue(t, q, "other", 3, jobs.EnqueueOptions{UniqueKey: "import:hai-phong"})
		if other.ID == first.ID {
			t.Fatalf("another key got the same job %s", other.ID)
		}
		noKey1 := mustEnqueue(t, q, "other", 4, jobs.EnqueueOptions{})
		noKey2 := mustEnqueue(t, q, "other", 4, jobs.EnqueueOptions{})
		if noKey1.ID == noKey2.ID {
			t.Fatalf("jobs without a key were deduped")
		}

		// Still deduped while running.
		started, release := make(chan struct{}), make(chan struct{})
		r := newRunner(t, q, jobs.RunnerConfig{Owner: "a"}, map[string]jobs.Handler{
			"import": func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
				close(started)
				<-release
				return nil
			},
		})
		done := make(chan bool)
		go func() { ran, _ := r.RunNext(context.Background()); done <- ran }()
		recv(t, started, "handler start")
		if j := mustEnqueue(t, q, "import", 5, opts); j.ID != first.ID {
			t.Errorf("while running got job %s, want %s", j.ID, first.ID)
		}
		close(release)
		if !recv(t, done, "run next") {
			t.Fatal("run next ran nothing")
		}
		if got := mustGet(t, q, first.ID); got.State != jobs.Succeeded {
			t.Fatalf("got state %s, want succeeded", got.State)
		}
		// A finished job frees its key.
		next := mustEnqueue(t, q, "import", 6, opts)
		if next.ID == first.ID || next.State != jobs.Pending {
			t.Fatalf("after finish got job %s in %s, want a new pending job", next.ID, next.State)
		}
		js, err := q.List(context.Background(), jobs.Filter{UniqueKey: opts.UniqueKey})
		if err != nil || len(js) != 2 {
			t.Fatalf("got %d jobs with the key (err %v), want 2", len(js), err)
		}
	})
}

func TestUniqueKeyDedupesConcurrentEnqueues(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, _ := setup(t, d)
		const n = 8
		ids := make(chan string, n)
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				j, err := q.Enqueue(context.Background(), "import", nil, jobs.EnqueueOptions{UniqueKey: "import:once"})
				errs <- err
				ids <- j.ID
			})
		}
		wg.Wait()
		close(ids)
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		for id := range ids {
			seen[id] = true
		}
		if len(seen) != 1 {
			t.Fatalf("got %d distinct jobs for one key, want 1", len(seen))
		}
	})
}

func TestEnqueueTxCommitsWithTheCaller(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, _ := setup(t, d)
		ctx := context.Background()
		var rolledBack, committed jobs.Job
		boom := errors.New("boom")
		err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			if rolledBack, err = q.EnqueueTx(ctx, tx, "import", nil, jobs.EnqueueOptions{UniqueKey: "k"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want boom", err)
		}
		if _, err := q.Get(ctx, rolledBack.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("rolled back job: got %v, want NotFound", err)
		}
		err = d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			committed, err = q.EnqueueTx(ctx, tx, "import", nil, jobs.EnqueueOptions{UniqueKey: "k"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, q, committed.ID); got.State != jobs.Pending || got.UniqueKey != "k" {
			t.Fatalf("got %s key %q, want pending k", got.State, got.UniqueKey)
		}
	})
}

func TestListFilters(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, c := setup(t, d)
		var ids []string
		for i := range 5 {
			kind := "a"
			if i%2 == 1 {
				kind = "b"
			}
			ids = append(ids, mustEnqueue(t, q, kind, i, jobs.EnqueueOptions{}).ID)
			c.Advance(time.Second)
		}
		if _, err := q.Cancel(context.Background(), ids[0]); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			f    jobs.Filter
			want []string
		}{
			{name: "all newest first", f: jobs.Filter{}, want: []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
			{name: "by kind", f: jobs.Filter{Kind: "b"}, want: []string{ids[3], ids[1]}},
			{name: "by state", f: jobs.Filter{State: jobs.Cancelled}, want: []string{ids[0]}},
			{name: "kind and state", f: jobs.Filter{Kind: "a", State: jobs.Pending}, want: []string{ids[4], ids[2]}},
			{name: "page", f: jobs.Filter{Limit: 2, Offset: 1}, want: []string{ids[3], ids[2]}},
			{name: "nothing", f: jobs.Filter{Kind: "c"}, want: []string{}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				js, err := q.List(context.Background(), tc.f)
				if err != nil {
					t.Fatal(err)
				}
				got := []string{}
				for _, j := range js {
					got = append(got, j.ID)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Fatalf("got %v, want %v", got, tc.want)
					}
				}
			})
		}
		for _, f := range []jobs.Filter{{State: "sleeping"}, {Limit: -1}} {
			if _, err := q.List(context.Background(), f); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("filter %+v: got %v, want Invalid", f, err)
			}
		}
	})
}

func TestCancelPendingJob(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, c := setup(t, d)
		ctx := context.Background()
		j := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{})
		c.Advance(time.Minute)
		got, err := q.Cancel(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != jobs.Cancelled || !got.FinishedAt.Equal(c.Now()) {
			t.Fatalf("got %s finished %v, want cancelled at %v", got.State, got.FinishedAt, c.Now())
		}
		if again, err := q.Cancel(ctx, j.ID); err != nil || again.State != jobs.Cancelled {
			t.Fatalf("second cancel got %s, %v; want cancelled, nil", again.State, err)
		}
		called := false
		r := newRunner(t, q, jobs.RunnerConfig{Owner: "a"}, map[string]jobs.Handler{
			"import": func(context.Context, *jobs.Job, jobs.Progress) error { called = true; return nil },
		})
		if runNext(t, r) || called {
			t.Fatal("a cancelled job ran")
		}

		done := mustEnqueue(t, q, "import", nil, jobs.EnqueueOptions{})
		if !runNext(t, r) {
			t.Fatal("nothing ran")
		}
		if _, err := q.Cancel(ctx, done.ID); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("cancel of a succeeded job: got %v, want Conflict", err)
		}
		if got := mustGet(t, q, done.ID); got.State != jobs.Succeeded {
			t.Fatalf("got %s, want succeeded kept", got.State)
		}
	})
}

func TestStatsCountsJobs(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		q, c := setup(t, d)
		ctx := context.Background()
		oldest := c.Now()
		a := mustEnqueue(t, q, "a", nil, jobs.EnqueueOptions{})
		c.Advance(time.Second)
		mustEnqueue(t, q, "a", nil, jobs.EnqueueOptions{})
		mustEnqueue(t, q, "b", nil, jobs.EnqueueOptions{})
		mustEnqueue(t, q, "b", nil, jobs.EnqueueOptions{RunAfter: c.Now().Add(time.Hour)})
		if _, err := q.Cancel(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		s, err := q.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[jobs.State]int64{jobs.Pending: 3, jobs.Running: 0, jobs.Succeeded: 0, jobs.Failed: 0, jobs.Cancelled: 1}
		for st, n := range want {
			if s.ByState[st] != n {
				t.Errorf("got %d %s, want %d", s.ByState[st], st, n)
			}
		}
		if s.ByKind["a"][jobs.Pending] != 1 || s.ByKind["a"][jobs.Cancelled] != 1 || s.ByKind["b"][jobs.Pending] != 2 {
			t.Errorf("got by kind %v, want a: 1 pending 1 cancelled, b: 2 pending", s.ByKind)
		}
		if want := oldest.Add(time.Second); !s.OldestReady.Equal(want) {
			t.Errorf("got oldest ready %v, want %v", s.OldestReady, want)
		}

		c.Advance(48 * time.Hour)
		n, err := q.Purge(ctx, c.Now().Add(-24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("purge got %d, %v; want 1 (the cancelled job)", n, err)
		}
		if _, err := q.Get(ctx, a.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("purged job: got %v, want NotFound", err)
		}
	})
}
