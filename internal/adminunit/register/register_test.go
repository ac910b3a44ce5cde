package register_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata/refdatatest"
	"hopnhat/internal/adminunit/register"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

var modules = []db.Module{audit.Migrations, register.Migrations}

func newService(_ testing.TB, d *db.DB) *register.Service {
	return register.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func ctxAs(name string) context.Context {
	return reqctx.WithPrincipal(context.Background(), &reqctx.Principal{Kind: "user", ID: "u_" + name, Name: name})
}

func TestImportAndIndex(t *testing.T) {
	reg := refdatatest.Register(t)
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		ctx := ctxAs("admin")
		s := newService(t, d)
		if _, err := s.Index(ctx); !errors.Is(err, register.ErrNotImported) {
			t.Fatalf("Index before import: got %v, want ErrNotImported", err)
		}
		res, err := s.Import(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		if res.UnitsInserted != len(reg.Units) || res.UnitsUpdated != 0 || res.LinksInserted != len(reg.Links) {
			t.Fatalf("first import: got %+v, want %d units and %d links inserted", res, len(reg.Units), len(reg.Links))
		}
		// An admin edits a ward link's basis; a re-import keeps it and duplicates nothing.
		ref := register.LinkRef{FromLevel: adminunit.LevelLegacyWard, FromCode: "00001", ToLevel: adminunit.LevelWard, ToCode: "00097"}
		v, err := s.LinkVersion(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetBasis(ctx, ref, "Nghị quyết 1656/NQ-UBTVQH15", v); err != nil {
			t.Fatal(err)
		}
		if err := s.SetBasis(ctx, ref, "stale edit", v); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("edit with an old version: got %v, want Conflict", err)
		}
		res, err = s.Import(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		if res.UnitsInserted != 0 || res.UnitsUpdated != len(reg.Units) || res.LinksInserted != 0 || res.BasisKept != 1 {
			t.Fatalf("re-import: got %+v, want everything updated in place and one basis kept", res)
		}
		var units, links int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM adminunit_unit`).Scan(&units); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM adminunit_link`).Scan(&links); err != nil {
			t.Fatal(err)
		}
		if units != len(reg.Units) || links != len(reg.Links) {
			t.Fatalf("rows after two imports: %d units, %d links; want %d, %d", units, links, len(reg.Units), len(reg.Links))
		}
		idx, err := s.Index(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The code 26740 means Bến Nghé before the reform and Sài Gòn after.
		before, ok1 := idx.CodeAt("26740", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
		after, ok2 := idx.CodeAt("26740", time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC))
		if !ok1 || !ok2 || before.Name != "Phường Bến Nghé" || after.Name != "Phường Sài Gòn" {
			t.Fatalf("26740 on 1/1/2025 and today: got %v, %v", before, after)
		}
		if a := idx.Aliases(adminunit.LevelLegacyWard, "03244"); !slices.Contains(a, "Xã Xá Nhè") {
			t.Fatalf("aliases of Sáng Nhè after the round trip: got %v, want Xã Xá Nhè", a)
		}
		succ := idx.Successors(adminunit.LevelLegacyWard, "00001")
		if len(succ) != 1 || succ[0].Link.Basis != "Nghị quyết 1656/NQ-UBTVQH15" || succ[0].Kind != adminunit.LinkMerged {
			t.Fatalf("successor of Phúc Xá: got %+v", succ)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('adminunit.import', 'adminunit.basis')`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("audit entries: %d (%v), want 3", n, err)
		}
	})
}

func TestReviewQueue(t *testing.T) {
	reg := refdatatest.Register(t)
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		ctx := ctxAs("motcua")
		s := newService(t, d)
		if _, err := s.Import(ctx, reg); err != nil {
			t.Fatal(err)
		}
		// Dương Nội (Hà Đông) was divided among four new wards.
		addrs := []string{
			"Số 5 đường Lê Văn Lương, Phường Dương Nội, Quận Hà Đông, Hà Nội",
			"12 Le Van Luong, P. Duong Noi, Q. Ha Dong, HN",
			"Thôn La Dương, Phường Dương Nội, Quận Hà Đông, Hà Nội",
			"Phường Phúc Xá, Quận Ba Đình, Hà Nội",
		}
		out, err := s.Convert(ctx, addrs, register.ConvertOptions{Review: true, Source: "dossier", Refs: []string{"d1", "d2", "d3", "d4"}})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if out[i].Status != adminunit.StatusSplit || out[i].ReviewID == "" {
				t.Fatalf("address %d: got %s review %q, want split and queued", i, out[i].Status, out[i].ReviewID)
			}
		}
		if out[3].Status != adminunit.StatusExact || out[3].ReviewID != "" {
			t.Fatalf("exact address queued: %+v", out[3])
		}
		// Queuing the same records again adds nothing.
		again, err := s.Convert(ctx, addrs[:1], register.ConvertOptions{Review: true, Source: "dossier", Refs: []string{"d1"}})
		if err != nil || again[0].ReviewID != out[0].ReviewID {
			t.Fatalf("re-queue: got %v %v, want the same review", again, err)
		}
		if n, _ := s.CountPending(ctx); n != 3 {
			t.Fatalf("pending: got %d, want 3", n)
		}
		if _, err := s.Decide(ctx, out[0].ReviewID, "99999"); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("deciding a ward that is not a candidate: got %v, want Invalid", err)
		}
		ward := out[0].Candidates[1]
		dec, err := s.Decide(ctx, out[0].ReviewID, ward)
		if err != nil {
			t.Fatal(err)
		}
		// The second address names the same street: it is settled by the rule.
		if dec.AlsoSettled != 1 || dec.Review.Rule != string(adminunit.RuleOfficer) || dec.Review.DecidedBy != "user:motcua" {
			t.Fatalf("decision: got %+v", dec)
		}
		if _, err := s.Decide(ctx, out[0].ReviewID, ward); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("deciding twice: got %v, want Conflict", err)
		}
		r2, err := s.Review(ctx, out[1].ReviewID)
		if err != nil || r2.Status != "decided" || r2.WardCode != ward || r2.Rule != string(adminunit.RuleStreet) {
			t.Fatalf("same-street review: got %+v %v", r2, err)
		}
		if n, _ := s.CountPending(ctx); n != 1 {
			t.Fatalf("pending after the decision: got %d, want 1 (the other street)", n)
		}
		// The next address on that street converts by itself, with the rule named.
		next, err := s.Convert(ctx, []string{"số 99 Lê Văn Lương, phường Dương Nội, quận Hà Đông, Hà Nội"}, register.ConvertOptions{Review: true})
		if err != nil {
			t.Fatal(err)
		}
		if next[0].WardCode != ward || next[0].Rule != adminunit.RuleStreet || next[0].ReviewID != "" {
			t.Fatalf("next address on the street: got %+v, want ward %s by street_rule", next[0].Result, ward)
		}
		pending, err := s.Reviews(ctx, register.ReviewFilter{Status: "pending"})
		if err != nil || len(pending) != 1 || pending[0].ID != out[2].ReviewID {
			t.Fatalf("pending list: got %+v %v", pending, err)
		}
	})
}

func TestConvertRejectsBadInput(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s := newService(t, d)
		ctx := ctxAs("api")
		if _, err := s.Convert(ctx, nil, register.ConvertOptions{}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("empty batch: got %v, want Invalid", err)
		}
		if _, err := s.Convert(ctx, make([]string, register.MaxBatch+1), register.ConvertOptions{}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("oversized batch: got %v, want Invalid", err)
		}
		if _, err := s.Convert(ctx, []string{"x"}, register.ConvertOptions{Form: "old"}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("unknown form: got %v, want Invalid", err)
		}
		if _, err := s.Convert(ctx, []string{"x"}, register.ConvertOptions{}); !errors.Is(err, register.ErrNotImported) {
			t.Errorf("before import: got %v, want ErrNotImported", err)
		}
	})
}

func TestConvertFileKeepsADay(t *testing.T) {
	reg := refdatatest.Register(t)
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		clock := &dbtest.Clock{T: time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)}
		d.SetClock(clock.Now)
		s := newService(t, d)
		ctx := ctxAs("motcua")
		if _, err := s.Import(ctx, reg); err != nil {
			t.Fatal(err)
		}
		in := "Mã,Địa chỉ\nA1,\"Phường Phúc Xá, Quận Ba Đình, Hà Nội\"\nA2,\"Phường Dương Nội, Quận Hà Đông, Hà Nội\"\nA3,không rõ\n"
		e, err := s.ConvertFile(ctx, `C:\hồ sơ\ds.csv`, strings.NewReader(in), int64(len(in)), register.FileOptions{Column: "B", Review: true})
		if err != nil {
			t.Fatal(err)
		}
		if e.FileName != "ds-dvhc-moi.csv" || e.Summary.Rows != 3 || e.Summary.Exact != 1 || e.Summary.Split != 1 || e.Summary.NotFound != 1 || e.Queued != 1 {
			t.Fatalf("export: got %+v", e)
		}
		got, err := s.ExportFile(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(got.Content), "Mã,Địa chỉ,province_code,ward_code,status") || !strings.Contains(string(got.Content), "A1,\"Phường Phúc Xá, Quận Ba Đình, Hà Nội\",01,00097,exact") {
			t.Fatalf("content: %.300q", got.Content)
		}
		// The split row went to the queue under the file's name and its row number.
		rv, err := s.Reviews(ctx, register.ReviewFilter{Status: "pending"})
		if err != nil || len(rv) != 1 || rv[0].Source != "file:ds.csv" || rv[0].Ref != "3" {
			t.Fatalf("queued: got %+v %v", rv, err)
		}
		if _, err := s.ExportOf(ctxAs("someone"), e.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another user's export: got %v, want NotFound", err)
		}
		clock.Advance(register.ExportKeep + time.Minute)
		if _, err := s.ExportOf(ctx, e.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("expired export: got %v, want NotFound", err)
		}
		if n, err := s.PurgeExports(ctx); err != nil || n != 1 {
			t.Fatalf("purge: got %d, %v; want 1", n, err)
		}
	})
}

// BenchmarkIndexLoad reads the whole register from the database and builds
// the index, as a replica does at start; it reports the heap the index holds.
func BenchmarkIndexLoad(b *testing.B) {
	reg := refdatatest.Register(b)
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var d *db.DB
			if engine == "sqlite" {
				d = dbtest.SQLite(b, modules)
			} else {
				if dbtest.PostgresURL() == "" {
					b.Skip("HOPNHAT_TEST_POSTGRES not set")
				}
				d = dbtest.Postgres(b, modules)
			}
			if _, err := newService(nil, d).Import(ctxAs("bench"), reg); err != nil {
				b.Fatal(err)
			}
			var heap uint64
			b.ReportAllocs()
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				idx, err := newService(nil, d).Index(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap = after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
				runtime.KeepAlive(idx)
			}
			b.ReportMetric(float64(heap)/(1<<20), "MB-held")
		})
	}
}

func TestSetProvinceBasis(t *testing.T) {
	reg := refdatatest.Register(t)
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		ctx := ctxAs("admin")
		s := newService(t, d)
		if _, err := s.Import(ctx, reg); err != nil {
			t.Fatal(err)
		}
		// One link of Hải Phòng was edited by hand before.
		ref := register.LinkRef{FromLevel: adminunit.LevelLegacyWard, FromCode: "11008", ToLevel: adminunit.LevelWard}
		for _, r := range reg.Links {
			if r.FromLevel == ref.FromLevel && r.FromCode == ref.FromCode {
				ref.ToCode = r.ToCode
			}
		}
		v, err := s.LinkVersion(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetBasis(ctx, ref, "ghi tay", v); err != nil {
			t.Fatal(err)
		}
		n, err := s.SetProvinceBasis(ctx, "31", "Nghị quyết 1669/NQ-UBTVQH15", false)
		if err != nil {
			t.Fatal(err)
		}
		var want, other int
		for _, l := range reg.Links {
			if l.ToLevel != adminunit.LevelWard {
				continue
			}
			for _, u := range reg.Units {
				if u.Level == adminunit.LevelWard && u.Code == l.ToCode && u.ProvinceCode == "31" {
					want++
				}
			}
		}
		if n != want-1 || n < 100 {
			t.Fatalf("links changed: got %d, want %d (all of Hải Phòng's but the edited one)", n, want-1)
		}
		idx, err := s.Index(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range idx.Successors(adminunit.LevelLegacyWard, "11008") {
			if r.Unit.Code == ref.ToCode && r.Link.Basis != "ghi tay" {
				t.Fatalf("the hand-edited basis was overwritten: %q", r.Link.Basis)
			}
		}
		for _, r := range idx.Successors(adminunit.LevelLegacyWard, "00001") {
			if r.Link.Basis != "" {
				other++
			}
		}
		if other != 0 {
			t.Fatal("a link outside the province changed")
		}
		if n, err := s.SetProvinceBasis(ctx, "31", "Nghị quyết 1669/NQ-UBTVQH15", true); err != nil || n != want {
			t.Fatalf("with replace: got %d, %v; want %d", n, err, want)
		}
		if _, err := s.SetProvinceBasis(ctx, "99", "x", false); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown province: got %v, want NotFound", err)
		}
		if _, err := s.SetProvinceBasis(ctx, "31", " ", false); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("empty basis: got %v, want Invalid", err)
		}
	})
}

// Two officers deciding one review at once: exactly one wins, and the rule
// and the audit trail agree with the review. Generation bumps all count.
func TestConcurrentDecides(t *testing.T) {
	reg := refdatatest.Register(t)
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s := newService(t, d)
		ctx := ctxAs("motcua")
		if _, err := s.Import(ctx, reg); err != nil {
			t.Fatal(err)
		}
		var addrs []string
		for i := range 8 {
			addrs = append(addrs, fmt.Sprintf("Số 5 phố Hàng %c, Phường Dương Nội, Quận Hà Đông, Hà Nội", rune('A'+i)))
		}
		out, err := s.Convert(ctx, addrs, register.ConvertOptions{Review: true, Source: "race"})
		if err != nil {
			t.Fatal(err)
		}
		var before, after string
		if err := d.QueryRowContext(ctx, `SELECT value FROM adminunit_meta WHERE key = 'generation'`).Scan(&before); err != nil {
			t.Fatal(err)
		}
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		for _, o := range out {
			for k := range 2 {
				wg.Go(func() {
					_, err := s.Decide(ctxAs(fmt.Sprintf("officer%d", k)), o.ReviewID, o.Candidates[k])
					switch {
					case err == nil:
						wins.Add(1)
					case apperr.Is(err, apperr.Conflict):
						conflicts.Add(1)
					default:
						t.Errorf("decide: %v", err)
					}
				})
			}
		}
		wg.Wait()
		if wins.Load() != int32(len(out)) || conflicts.Load() != int32(len(out)) {
			t.Fatalf("got %d wins and %d conflicts, want %d of each", wins.Load(), conflicts.Load(), len(out))
		}
		for _, o := range out {
			r, err := s.Review(ctx, o.ReviewID)
			if err != nil {
				t.Fatal(err)
			}
			var rule string
			if err := d.QueryRowContext(ctx, `SELECT ward_code FROM adminunit_street_rule WHERE legacy_code = $1 AND street_key = $2`,
				r.LegacyWardCode, r.StreetKey).Scan(&rule); err != nil || rule != r.WardCode {
				t.Errorf("review %s decided %s but its street rule says %q (%v)", r.ID, r.WardCode, rule, err)
			}
		}
		if err := d.QueryRowContext(ctx, `SELECT value FROM adminunit_meta WHERE key = 'generation'`).Scan(&after); err != nil {
			t.Fatal(err)
		}
		b, _ := strconv.Atoi(before)
		if a, _ := strconv.Atoi(after); a != b+len(out) {
			t.Errorf("generation went from %d to %d, want +%d (one per decision)", b, a, len(out))
		}
	})
}

// The queue lists oldest first, pages by cursor, and an officer scoped to a
// ward sees only the reviews that could land in that ward.
func TestReviewOrderAndScope(t *testing.T) {
	reg := refdatatest.Register(t)
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		clock := &dbtest.Clock{T: time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)}
		d.SetClock(clock.Now)
		s := newService(t, d)
		ctx := ctxAs("admin")
		if _, err := s.Import(ctx, reg); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for i := range 5 {
			out, err := s.Convert(ctx, []string{fmt.Sprintf("Số %d, Phường Dương Nội, Quận Hà Đông, Hà Nội", i)}, register.ConvertOptions{Review: true})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, out[0].ReviewID)
			clock.Advance(time.Minute)
		}
		var got []string
		for after := ""; ; {
			page, err := s.Reviews(ctx, register.ReviewFilter{Status: "pending", After: after, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				got = append(got, r.ID)
			}
			after = page[len(page)-1].ID
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("queue order: got %v, want %v (oldest first)", got, ids)
		}
		cand := "00637" // Đại Mỗ received part of Dương Nội
		in := reqctx.WithPrincipal(context.Background(), &reqctx.Principal{Kind: "user", ID: "u_w", Name: "w", Role: reqctx.RoleOfficer,
			Scope: reqctx.Scope{Kind: reqctx.ScopeWard, Code: cand}})
		out := reqctx.WithPrincipal(context.Background(), &reqctx.Principal{Kind: "user", ID: "u_o", Name: "o", Role: reqctx.RoleOfficer,
			Scope: reqctx.Scope{Kind: reqctx.ScopeWard, Code: "00097"}})
		if n, _ := s.CountPending(in); n != 5 {
			t.Errorf("officer of a candidate ward: %d pending, want 5", n)
		}
		if n, _ := s.CountPending(out); n != 0 {
			t.Errorf("officer of another ward: %d pending, want 0", n)
		}
		if list, _ := s.Reviews(out, register.ReviewFilter{}); len(list) != 0 {
			t.Errorf("officer of another ward lists %d reviews", len(list))
		}
		if _, err := s.Decide(out, ids[0], cand); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("officer of another ward decides: got %v, want NotFound", err)
		}
		if _, err := s.Decide(in, ids[0], cand); err != nil {
			t.Errorf("officer of a candidate ward decides: %v", err)
		}
	})
}
