package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

var modules = []db.Module{audit.Migrations}

func appendN(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := reqctx.WithActor(context.Background(), "user:tester")
	for i := range n {
		if err := audit.Log(ctx, d, audit.Record{Action: "thing.create", ObjectType: "thing", ObjectID: fmt.Sprint(i), Details: map[string]any{"tên": "Hải Phòng", "n": i}}); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper []string
		seq    int64
		reason string
	}{
		{name: "intact chain verifies", seq: 0},
		{name: "edited details are caught", tamper: []string{`UPDATE audit_log SET details = '{"n":3}' WHERE seq = 4`}, seq: 4, reason: "edited"},
		{name: "edited actor is caught", tamper: []string{`UPDATE audit_log SET actor = 'user:someone' WHERE seq = 2`}, seq: 2, reason: "edited"},
		{name: "removed entry is caught", tamper: []string{`DELETE FROM audit_log WHERE seq = 5`}, seq: 5, reason: "removed"},
		{name: "removed last entry is caught by the head", tamper: []string{`DELETE FROM audit_log WHERE seq = 10`}, seq: 10, reason: "head_mismatch"},
		{name: "swapped entries are caught", tamper: []string{
			`UPDATE audit_log SET seq = 1000 WHERE seq = 3`,
			`UPDATE audit_log SET seq = 3 WHERE seq = 6`,
			`UPDATE audit_log SET seq = 6 WHERE seq = 1000`,
		}, seq: 3, reason: "edited"},
		{name: "entry rebuilt with a valid hash but moved is caught", tamper: []string{
			// The forger recomputes nothing; a row copied over another keeps its
			// own prev_hash, which no longer names its predecessor.
			`UPDATE audit_log SET prev_hash = (SELECT prev_hash FROM audit_log WHERE seq = 2) WHERE seq = 7`,
		}, seq: 7, reason: "edited"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
				appendN(t, d, 10)
				ctx := context.Background()
				for _, q := range tc.tamper {
					if _, err := d.ExecContext(ctx, q); err != nil {
						t.Fatalf("tamper %q: %v", q, err)
					}
				}
				rep, err := audit.Verify(ctx, d)
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				if tc.reason == "" {
					if rep.Problem != nil {
						t.Fatalf("got problem %+v, want none", *rep.Problem)
					}
					if rep.Checked != 10 {
						t.Fatalf("checked %d, want 10", rep.Checked)
					}
					return
				}
				if rep.Problem == nil {
					t.Fatalf("got no problem, want %s at %d", tc.reason, tc.seq)
				}
				if rep.Problem.Seq != tc.seq || rep.Problem.Reason != tc.reason {
					t.Fatalf("got %s at %d, want %s at %d", rep.Problem.Reason, rep.Problem.Seq, tc.reason, tc.seq)
				}
			})
		})
	}
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const writers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					err := audit.Log(ctx, d, audit.Record{Action: "x.write", ObjectType: "x", ObjectID: fmt.Sprintf("%d-%d", w, i)})
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("append: %v", err)
		}
		rep, err := audit.Verify(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Problem != nil || rep.Checked != writers*each {
			t.Fatalf("got checked=%d problem=%+v, want %d intact", rep.Checked, rep.Problem, writers*each)
		}
	})
}

func TestAppendJoinsTheTransaction(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := audit.Append(ctx, tx, audit.Record{Action: "x.rolled_back"}); err != nil {
				return err
			}
			return fmt.Errorf("caller fails after auditing")
		})
		if err == nil {
			t.Fatal("want the caller's error")
		}
		got, err := audit.List(ctx, d, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("got %d entries after rollback, want 0", len(got))
		}
		appendN(t, d, 3)
		rep, _ := audit.Verify(ctx, d)
		if rep.Problem != nil {
			t.Fatalf("chain broken after a rolled-back append: %+v", rep.Problem)
		}
	})
}

func TestListFilters(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		clock := &dbtest.Clock{T: time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC)}
		d.SetClock(clock.Now)
		ctx := context.Background()
		for i, a := range []string{"user.create", "user.disable", "session.login", "user_x.create"} {
			clock.Advance(time.Hour)
			actor := "user:a"
			if i%2 == 1 {
				actor = "user:b"
			}
			if err := audit.Log(ctx, d, audit.Record{Actor: actor, Action: a, ObjectType: "user", ObjectID: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			name string
			f    audit.Filter
			want []int64
		}{
			{"all newest first", audit.Filter{}, []int64{4, 3, 2, 1}},
			{"action prefix does not treat _ as a wildcard", audit.Filter{Action: "user_"}, []int64{4}},
			{"action prefix", audit.Filter{Action: "user."}, []int64{2, 1}},
			{"actor", audit.Filter{Actor: "user:b"}, []int64{4, 2}},
			{"date range", audit.Filter{From: time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC), To: time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)}, []int64{3, 2}},
			{"keyset page", audit.Filter{BeforeSeq: 3, Limit: 1}, []int64{2}},
			{"object", audit.Filter{ObjectType: "user", ObjectID: "0"}, []int64{1}},
		}
		for _, tc := range cases {
			got, err := audit.List(ctx, d, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var seqs []int64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, seqs, tc.want)
			}
		}
	})
}

// benchAppend runs op from 8 goroutines on each database and reports audit
// entries appended per second (perOp entries each call).
func benchAppend(b *testing.B, perOp int, op func(ctx context.Context, d *db.DB) error) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var d *db.DB
			if name == "sqlite" {
				d = dbtest.SQLite(b, modules)
			} else {
				d = dbtest.Postgres(b, modules)
			}
			ctx := context.Background()
			b.SetParallelism(8 / max(1, runtimeProcs()))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := op(ctx, d); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

func BenchmarkAppendConcurrent(b *testing.B) {
	benchAppend(b, 1, func(ctx context.Context, d *db.DB) error {
		return audit.Log(ctx, d, audit.Record{Action: "bench.append", ObjectType: "x", ObjectID: "1"})
	})
}

func BenchmarkAppendBatch100(b *testing.B) {
	batch := make([]audit.Record, 100)
	for i := range batch {
		batch[i] = audit.Record{Action: "bench.call", ObjectType: "service", ObjectID: fmt.Sprint(i)}
	}
	benchAppend(b, len(batch), func(ctx context.Context, d *db.DB) error {
		return d.InTx(ctx, func(tx *db.Tx) error {
			_, err := audit.AppendAll(ctx, tx, batch)
			return err
		})
	})
}

func TestAppendAllChainsInOrder(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		appendN(t, d, 2)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			es, err := audit.AppendAll(ctx, tx, []audit.Record{{Action: "a.1"}, {Action: "a.2"}, {Action: "a.3"}})
			if err == nil && (es[0].Seq != 3 || es[2].Seq != 5 || es[1].PrevHash != es[0].Hash) {
				t.Errorf("batch entries not chained: %+v", es)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, d, 1)
		rep, err := audit.Verify(ctx, d)
		if err != nil || rep.Problem != nil || rep.Checked != 6 {
			t.Fatalf("after a batch: checked %d problem %+v err %v", rep.Checked, rep.Problem, err)
		}
	})
}
