package merger_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"hopnhat/internal/merger"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
)

func TestAssessmentAndDecisions(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s := merger.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		m := haiPhong(t, s)
		lgsp := func(prov, name string) merger.System {
			x, err := s.CreateSystem(ctx, merger.System{MergerID: m.ID, Category: merger.CatLGSP, ProvinceCode: prov, Name: name})
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		hp, hd := lgsp("31", "LGSP Hải Phòng"), lgsp("30", "LGSP Hải Dương")
		score := func(x merger.System, sc map[merger.Criterion]int) {
			for c, v := range sc {
				if err := s.SetScore(ctx, x.ID, c, v, "đánh giá của tổ công tác"); err != nil {
					t.Fatal(err)
				}
			}
		}
		all := func(v int) map[merger.Criterion]int {
			m := map[merger.Criterion]int{}
			for _, c := range merger.Criteria {
				m[c] = v
			}
			return m
		}
		// Hải Dương is missing a score: flagged, no recommendation.
		score(hp, all(4))
		partial := all(5)
		delete(partial, merger.CritDatabase)
		score(hd, partial)
		cmp, err := s.Compare(ctx, m.ID, merger.CatLGSP)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Incomplete || cmp.Recommended != "" || len(cmp.Candidates) != 2 {
			t.Fatalf("missing score: got %+v", cmp)
		}
		// Complete and equal: a tie, still no recommendation.
		score(hd, all(4))
		if cmp, _ = s.Compare(ctx, m.ID, merger.CatLGSP); !cmp.Tie || cmp.Recommended != "" || cmp.Incomplete {
			t.Fatalf("tie: got tie=%v recommended=%q incomplete=%v", cmp.Tie, cmp.Recommended, cmp.Incomplete)
		}
		// Weights decide: functions count triple, where Hải Phòng scores higher.
		score(hp, map[merger.Criterion]int{merger.CritFunctions: 5})
		score(hd, map[merger.Criterion]int{merger.CritUsers: 5})
		if err := s.SetWeights(ctx, m.ID, map[merger.Criterion]int{merger.CritFunctions: 3}); err != nil {
			t.Fatal(err)
		}
		cmp, _ = s.Compare(ctx, m.ID, merger.CatLGSP)
		if cmp.Recommended != hp.ID || cmp.Candidates[0].Total != (3*5+4*5)/8.0 {
			t.Fatalf("weighted: got recommended %q, totals %v / %v", cmp.Recommended, cmp.Candidates[0].Total, cmp.Candidates[1].Total)
		}
		if err := s.SetScore(ctx, hp.ID, merger.CritUsers, 6, ""); !fieldErr(err, "score") {
			t.Fatalf("score 6: got %v", err)
		}
		if err := s.SetWeights(ctx, m.ID, map[merger.Criterion]int{merger.CritFunctions: 0, merger.CritTechnology: 0, merger.CritDeployment: 0,
			merger.CritInvestment: 0, merger.CritUsers: 0, merger.CritDatabase: 0}); !fieldErr(err, "weights") {
			t.Fatalf("all weights 0: got %v", err)
		}

		// Decisions: keep Hải Phòng's, Hải Dương's as backup until the end of August.
		if _, err := s.Decide(ctx, merger.Decision{SystemID: hd.ID, Outcome: merger.Backup}, 0); !fieldErr(err, "until") {
			t.Fatalf("backup without a date: got %v", err)
		}
		until := time.Date(2025, 8, 31, 17, 0, 0, 0, time.UTC)
		d1, err := s.Decide(ctx, merger.Decision{SystemID: hd.ID, Outcome: merger.Backup, Until: until, DocNumber: "123/QĐ-UBND", Signer: "Chủ tịch UBND"}, 0)
		if err != nil || d1.Version != 1 {
			t.Fatalf("decide: got %+v, %v", d1, err)
		}
		if _, err := s.Decide(ctx, merger.Decision{SystemID: hd.ID, Outcome: merger.Retire}, 0); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a second first decision: got %v, want Conflict", err)
		}
		d2, err := s.Decide(ctx, merger.Decision{SystemID: hd.ID, Outcome: merger.MigrateRetire, DocNumber: "150/QĐ-UBND", Rationale: "đã chuyển xong tích hợp"}, d1.Version)
		if err != nil || d2.Version != 2 {
			t.Fatalf("change the decision: got %+v, %v", d2, err)
		}
		if _, err := s.Decide(ctx, merger.Decision{SystemID: hd.ID, Outcome: merger.Retire}, d1.Version); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a stale change: got %v, want Conflict", err)
		}
		hist, err := s.History(ctx, hd.ID)
		if err != nil || len(hist) != 2 || hist[0].Outcome != merger.MigrateRetire || hist[1].Outcome != merger.Backup || !hist[1].Until.Equal(until) {
			t.Fatalf("history: got %+v, %v", hist, err)
		}
		cur, err := s.Decision(ctx, hd.ID)
		if err != nil || cur.Outcome != merger.MigrateRetire || !cur.Until.IsZero() {
			t.Fatalf("current decision: got %+v, %v", cur, err)
		}
		if _, err := s.Decision(ctx, hp.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("undecided: got %v", err)
		}
	})
}
