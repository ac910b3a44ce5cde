package procedure_test

import (
	"testing"

	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/procedure"
	"hopnhat/internal/procedure/workday"
)

// TestGenerate checks that generated data keeps the invariants real data
// keeps: statistics match the dossiers, stored clocks match the steps, and
// tracking finds dossiers by code and old code.
func TestGenerate(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		now := vn(2026, 11, 20, 10, 0)
		s := setup(t, d, &now)
		res, err := procedure.Generate(sys, d, procedure.GenerateOptions{Dossiers: 3000, Procedures: 200, Now: now, Seed: 7,
			Departments: []string{"ag_stp", "ag_snv"}, Wards: []procedure.WardAgency{{WardCode: "11383", AgencyID: "ag_lechan"}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Dossiers != 3000 || res.Procedures != 200 || res.Aliases != 300 || res.Open == 0 || res.Late == 0 {
			t.Fatalf("result: %+v", res)
		}
		var n, finished, onTime, online int
		if err := d.QueryRowContext(sys, `SELECT COUNT(*), COUNT(finished_at),
  COALESCE(SUM(CASE WHEN finished_at IS NOT NULL AND late_days = 0 AND due_day >= 0 THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN channel = 'online' THEN 1 ELSE 0 END), 0) FROM proc_dossier`).Scan(&n, &finished, &onTime, &online); err != nil {
			t.Fatal(err)
		}
		f, err := s.Stats(sys, "", procedure.StatFilter{})
		if err != nil || len(f) != 1 {
			t.Fatalf("stats: %+v, %v", f, err)
		}
		if f[0].Received != n || f[0].Finished != finished || f[0].Online != online {
			t.Fatalf("statistics %+v do not match the dossiers: %d received, %d finished, %d online", f[0], n, finished, online)
		}
		if rate := f[0].OnTimeRate(); rate < 85 || rate > 99 {
			t.Errorf("on-time rate %.1f %%: want a realistic one", rate)
		}
		if rate := f[0].OnlineRate(); rate < 25 || rate > 45 {
			t.Errorf("online rate %.1f %%", rate)
		}
		cal, _ := s.Calendar(sys)
		list, err := s.Dossiers(sys, procedure.DossierFilter{Limit: 300})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range list {
			st, _ := s.Steps(sys, x.ID)
			c, err := s.ClockOf(sys, x, st)
			if err != nil {
				t.Fatal(err)
			}
			if got := procedure.StateOf(cal, x, now); got != c.State || (c.DueKnown && workday.Day(x.DueDay) != c.Due) {
				t.Fatalf("dossier %s: stored %s due %s, steps say %s due %s (%+v)", x.Code, got, workday.Day(x.DueDay), c.State, c.Due, st)
			}
		}
		x := list[0]
		if _, err := s.Track(sys, x.Code, x.Phone[len(x.Phone)-4:]); err != nil {
			t.Fatalf("track a generated dossier: %v", err)
		}
		var alias, phone string
		if err := d.QueryRowContext(sys, `SELECT a.code, d.phone FROM proc_dossier_alias a JOIN proc_dossier d ON d.id = a.dossier_id LIMIT 1`).Scan(&alias, &phone); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Track(sys, alias, phone[len(phone)-4:]); err != nil {
			t.Fatalf("track by an old code: %v", err)
		}
		if b, err := s.Backlogs(sys, "agency"); err != nil || len(b) == 0 {
			t.Fatalf("backlogs: %+v, %v", b, err)
		}
		if d.Dialect() == db.Postgres { // the list indexes dropped for the load are back
			var n int
			if err := d.QueryRowContext(sys, `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'proc_dossier'`).Scan(&n); err != nil || n != 10 {
				t.Fatalf("indexes on proc_dossier after the load: %d, %v", n, err)
			}
		}
		if _, err := procedure.Generate(sys, d, procedure.GenerateOptions{Dossiers: 1, Departments: []string{"ag_stp"},
			Wards: []procedure.WardAgency{{WardCode: "11383", AgencyID: "ag_lechan"}}}); err == nil {
			t.Fatal("a second generation into dossiers was not refused")
		}
	})
}

// TestGenerateCodesUnique checks that generated codes cannot collide: the
// 40 random-looking bits are a bijection of the dossier's number.
func TestGenerateCodesUnique(t *testing.T) {
	seen := make(map[string]int, 2_000_000)
	at := vn(2026, 1, 1, 9, 0)
	for i := range 2_000_000 {
		c := procedure.GenCodeForTest(i, at)
		if j, ok := seen[c]; ok {
			t.Fatalf("dossiers %d and %d share code %s", j, i, c)
		}
		seen[c] = i
	}
}
