package audit

import (
	"context"
	"testing"

	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
)

// A forger who knows the hash scheme moves an entry and recomputes its own
// hash: the entry is self-consistent but no longer follows its predecessor.
func TestVerifyFindsAReorderWithRecomputedHash(t *testing.T) {
	dbtest.Each(t, []db.Module{Migrations}, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for range 6 {
			if err := Log(ctx, d, Record{Action: "x.y"}); err != nil {
				t.Fatal(err)
			}
		}
		es, err := List(ctx, d, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var e4 Entry
		for _, e := range es {
			if e.Seq == 4 {
				e4 = e
			}
		}
		// Point entry 4 at entry 1 (skipping 2 and 3) and re-seal it.
		var h1 string
		if err := d.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE seq = 1`).Scan(&h1); err != nil {
			t.Fatal(err)
		}
		newHash := hashOf(4, db.Micros(e4.At), e4.Actor, e4.Action, e4.ObjectType, e4.ObjectID, e4.details, e4.RequestID, h1)
		if _, err := d.ExecContext(ctx, `UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = 4`, h1, newHash); err != nil {
			t.Fatal(err)
		}
		rep, err := Verify(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Problem == nil || rep.Problem.Seq != 4 || rep.Problem.Reason != "reordered" {
			t.Fatalf("got %+v, want reordered at 4", rep.Problem)
		}
	})
}
