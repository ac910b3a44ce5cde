package procedure_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/procedure"
	"hopnhat/internal/procedure/workday"
)

var modules = []db.Module{audit.Migrations, procedure.Migrations}

// register is a small agency register: two old departments merged into one
// new one, and a ward committee.
type register map[string]procedure.Agency

var agencies = register{
	"ag_stp":     {ID: "ag_stp", Name: "Sở Tư pháp", Code: "000.00.10.H31", Current: true},
	"ag_snv":     {ID: "ag_snv", Name: "Sở Nội vụ", Code: "000.00.11.H31", Current: true},
	"ag_lechan":  {ID: "ag_lechan", Name: "UBND phường Lê Chân", Code: "000.21.01.H31", WardCode: "11383", Current: true},
	"ag_stp_old": {ID: "ag_stp_old", Name: "Sở Tư pháp Hải Dương", Code: "000.00.10.H30"},
	"ag_q_lc":    {ID: "ag_q_lc", Name: "UBND quận Lê Chân", Code: "000.20.01.H31"},
}

func (r register) Agency(_ context.Context, id string) (procedure.Agency, error) {
	if a, ok := r[id]; ok {
		return a, nil
	}
	return procedure.Agency{}, apperr.New(apperr.NotFound, "org.agency_not_found")
}

func (r register) ByCode(_ context.Context, code string) (procedure.Agency, error) {
	for _, a := range r {
		if a.Code == code {
			return a, nil
		}
	}
	return procedure.Agency{}, apperr.New(apperr.NotFound, "org.agency_not_found")
}

func (r register) ResponsibleNow(_ context.Context, id string) ([]procedure.Agency, error) {
	switch id {
	case "ag_stp_old":
		return []procedure.Agency{r["ag_stp"]}, nil
	case "ag_q_lc":
		return []procedure.Agency{r["ag_lechan"]}, nil
	}
	return []procedure.Agency{r[id]}, nil
}

func (r register) Current(context.Context) ([]procedure.Agency, error) {
	return []procedure.Agency{r["ag_lechan"], r["ag_snv"], r["ag_stp"]}, nil
}

func (r register) Former(context.Context) ([]procedure.Agency, error) {
	return []procedure.Agency{r["ag_stp_old"], r["ag_q_lc"]}, nil
}

// wards reads addresses naming Lê Chân or An Biên.
type wards struct{}

func (wards) Locate(_ context.Context, a string) (string, error) {
	switch {
	case strings.Contains(a, "Lê Chân"):
		return "11383", nil
	case strings.Contains(a, "An Biên"):
		return "11407", nil
	}
	return "", nil
}

func (wards) WardName(_ context.Context, code string) string {
	return map[string]string{"11383": "Phường Lê Chân", "11407": "Phường An Biên"}[code]
}

// vn is a moment in Vietnam.
func vn(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, workday.Zone)
}

// setup returns a service on d whose clock reads *now.
func setup(t *testing.T, d *db.DB, now *time.Time) *procedure.Service {
	t.Helper()
	d.SetClock(func() time.Time { return *now })
	return procedure.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)), agencies, wards{})
}

var sys = reqctx.WithActor(context.Background(), "user:test")

func as(role reqctx.Role, sc reqctx.Scope) context.Context {
	return reqctx.WithPrincipal(reqctx.WithActor(context.Background(), "user:"+string(role)), &reqctx.Principal{Kind: "user", Name: string(role), Role: role, Scope: sc})
}

func birthCert(t *testing.T, s *procedure.Service) procedure.Procedure {
	t.Helper()
	p, err := s.CreateProcedure(sys, procedure.Procedure{Code: "1.001193.000.00.00.H31", Name: "Đăng ký khai sinh", Field: "Hộ tịch",
		Level: procedure.LevelCommune, AgencyID: "ag_lechan", Days: 3, Fee: "Miễn phí", Online: procedure.OnlineFull,
		Papers: []string{"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCatalogue(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		now := vn(2025, 9, 1, 9, 0)
		s := setup(t, d, &now)
		p := birthCert(t, s)
		for name, tc := range map[string]struct {
			p     procedure.Procedure
			field string
		}{
			"malformed code":  {procedure.Procedure{Code: "1.1193.H31", Name: "X", Level: "commune", Online: "full", AgencyID: "ag_stp"}, "code"},
			"taken code":      {procedure.Procedure{Code: p.Code, Name: "X", Level: "commune", Online: "full", AgencyID: "ag_stp"}, "code"},
			"no name":         {procedure.Procedure{Code: "1.000001.000.00.00.H31", Level: "commune", Online: "full", AgencyID: "ag_stp"}, "name"},
			"district level":  {procedure.Procedure{Code: "1.000002.000.00.00.H31", Name: "X", Level: "district", Online: "full", AgencyID: "ag_stp"}, "level"},
			"unknown agency":  {procedure.Procedure{Code: "1.000003.000.00.00.H31", Name: "X", Level: "province", Online: "full", AgencyID: "ag_nope"}, "agency_id"},
			"negative days":   {procedure.Procedure{Code: "1.000004.000.00.00.H31", Name: "X", Level: "province", Online: "full", AgencyID: "ag_stp", Days: -1}, "days"},
			"unknown online":  {procedure.Procedure{Code: "1.000005.000.00.00.H31", Name: "X", Level: "province", Online: "web", AgencyID: "ag_stp"}, "online"},
			"NUL in the name": {procedure.Procedure{Code: "1.000006.000.00.00.H31", Name: "X\x00", Level: "province", Online: "full", AgencyID: "ag_stp"}, "name"},
		} {
			if _, err := s.CreateProcedure(sys, tc.p); !fieldErr(err, tc.field) {
				t.Errorf("%s: got %v, want a problem with %s", name, err, tc.field)
			}
		}
		if _, err := s.CreateProcedure(sys, procedure.Procedure{Code: "2.000889.000.00.00.H31", Name: "Cấp giấy phép xây dựng",
			Field: "Xây dựng", Level: procedure.LevelProvince, AgencyID: "ag_snv", Days: 15, Online: procedure.OnlinePartial}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Procedures(sys, procedure.ProcedureFilter{Q: "dang ky KHAI SINH"})
		if err != nil || len(got) != 1 || got[0].ID != p.ID || len(got[0].Papers) != 2 {
			t.Fatalf("search without diacritics: got %+v, %v", got, err)
		}
		if got, _ := s.Procedures(sys, procedure.ProcedureFilter{Q: "000889"}); len(got) != 1 {
			t.Fatalf("search by code: got %d", len(got))
		}
		if got, _ := s.Procedures(sys, procedure.ProcedureFilter{Q: "100%_"}); len(got) != 0 {
			t.Fatalf("LIKE wildcards are text: got %d", len(got))
		}
		q := p
		q.Days = 5
		up, err := s.UpdateProcedure(sys, p.ID, q, p.Version)
		if err != nil || up.Days != 5 || up.Version != 2 {
			t.Fatalf("update: got %+v, %v", up, err)
		}
		if _, err := s.UpdateProcedure(sys, p.ID, q, p.Version); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("stale update: got %v", err)
		}
		c, err := s.CountProcedures(sys)
		if err != nil || c.Total != 2 || c.Online != 2 || c.FullOnline != 1 {
			t.Fatalf("counts: got %+v, %v", c, err)
		}
	})
}

func fieldErr(err error, field string) bool {
	var ae *apperr.Error
	return err != nil && asErr(err, &ae) && ae.Field[field] != ""
}

func receive(t *testing.T, s *procedure.Service, ctx context.Context, p procedure.Procedure, mut ...func(*procedure.ReceiveInput)) procedure.Dossier {
	t.Helper()
	in := procedure.ReceiveInput{ProcedureID: p.ID, Channel: procedure.Desk, Applicant: "Nguyễn Thị Lan", CitizenID: "031190001234",
		Phone: "0912 345 678", Address: "Số 5 Tô Hiệu, phường Lê Chân, Hải Phòng", Papers: []string{"Tờ khai"}}
	for _, m := range mut {
		m(&in)
	}
	d, err := s.Receive(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func act(t *testing.T, s *procedure.Service, ctx context.Context, d procedure.Dossier, a procedure.Action, note string) procedure.Dossier {
	t.Helper()
	out, err := s.Act(ctx, d.ID, procedure.ActInput{Action: a, Note: note, Version: d.Version})
	if err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	return out
}

func TestDossierClockAcrossTetAndPauses(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		// Friday 13/2/2026; Tết Bính Ngọ is off 16–20/2: three working days
		// after the receipt day are 23, 24 and 25/2.
		now := vn(2026, 2, 13, 10, 0)
		s := setup(t, d, &now)
		p := birthCert(t, s)
		x := receive(t, s, sys, p)
		if got := workday.Day(x.DueDay); got != workday.Date(2026, 2, 25) {
			t.Fatalf("due: got %s, want 2026-02-25", got)
		}
		if !strings.HasPrefix(x.Code, "HS2602-") || len(x.Code) != len("HS2602-XXXX-XXXX") || x.AddressWard != "11383" || x.WardCode != "11383" {
			t.Fatalf("dossier: %+v", x)
		}
		now = vn(2026, 2, 23, 8, 0)
		x = act(t, s, sys, x, procedure.ActStart, "")
		if _, err := s.Act(sys, x.ID, procedure.ActInput{Action: procedure.ActApprove, Version: x.Version - 1}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a stale action: got %v, want Conflict", err)
		}
		if _, err := s.Act(sys, x.ID, procedure.ActInput{Action: procedure.ActRequest, Version: x.Version}); !fieldErr(err, "note") {
			t.Fatalf("a supplement request without saying what: got %v", err)
		}
		// Requested Monday 23/2, supplied Wednesday 25/2: two working days
		// (24, 25) added, due 27/2.
		x = act(t, s, sys, x, procedure.ActRequest, "Bổ sung bản sao giấy chứng sinh")
		if x.PausedAt.IsZero() || x.Status != procedure.SupplementRequested {
			t.Fatalf("paused: %+v", x)
		}
		cal, _ := s.Calendar(sys)
		now = vn(2026, 3, 20, 9, 0) // long after the first due day: a paused dossier is not overdue
		if st := procedure.StateOf(cal, x, now); st != workday.Paused {
			t.Fatalf("paused state: got %s", st)
		}
		if late, _ := s.Dossiers(sys, procedure.DossierFilter{State: "overdue"}); len(late) != 0 {
			t.Fatalf("a paused dossier listed overdue")
		}
		now = vn(2026, 2, 25, 15, 0)
		x = act(t, s, sys, x, procedure.ActSupplement, "")
		if got := workday.Day(x.DueDay); got != workday.Date(2026, 2, 27) || x.PausedDays != 2 || !x.PausedAt.IsZero() {
			t.Fatalf("after the supplement: due %s, paused days %d", got, x.PausedDays)
		}
		if _, err := s.Act(sys, x.ID, procedure.ActInput{Action: procedure.ActReturn, Version: x.Version}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("returning an unfinished dossier: got %v", err)
		}
		// Approved at 23:59 on the due day: on time.
		now = vn(2026, 2, 27, 23, 59)
		x = act(t, s, sys, x, procedure.ActApprove, "")
		if x.FinishedAt.IsZero() || x.LateDays != 0 || procedure.StateOf(cal, x, now) != workday.OnTime {
			t.Fatalf("approved: %+v", x)
		}
		now = vn(2026, 3, 2, 9, 0)
		x = act(t, s, sys, x, procedure.ActReturn, "Trả tại bộ phận một cửa")
		st, _ := s.Steps(sys, x.ID)
		if len(st) != 6 || st[0].Action != procedure.ActReceive || st[5].Action != procedure.ActReturn || st[2].Note != "Bổ sung bản sao giấy chứng sinh" || st[1].Actor != "user:test" {
			t.Fatalf("steps: %+v", st)
		}
		c, err := s.ClockOf(sys, x, st)
		if err != nil || c.State != workday.OnTime || c.Due != workday.Date(2026, 2, 27) {
			t.Fatalf("clock from the steps: %+v, %v", c, err)
		}
		f, err := s.Stats(sys, "", procedure.StatFilter{})
		if err != nil || len(f) != 1 || f[0].Received != 1 || f[0].Finished != 1 || f[0].OnTime != 1 || f[0].OnTimeRate() != 100 {
			t.Fatalf("statistics: %+v, %v", f, err)
		}
	})
}

func TestTransferCountsOnceAndChargesTheLateHolder(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		now := vn(2025, 9, 8, 9, 0) // Monday
		s := setup(t, d, &now)
		p := birthCert(t, s)
		x := receive(t, s, sys, p, func(in *procedure.ReceiveInput) { in.Channel = procedure.ViaPortal })
		if got := workday.Day(x.DueDay); got != workday.Date(2025, 9, 11) {
			t.Fatalf("due: got %s, want Thursday 11/9", got)
		}
		if _, err := s.Act(sys, x.ID, procedure.ActInput{Action: procedure.ActTransfer, Note: "x", AgencyID: "ag_nope", Version: x.Version}); !fieldErr(err, "agency_id") {
			t.Fatalf("transfer to an unknown agency: %v", err)
		}
		if _, err := s.Act(sys, x.ID, procedure.ActInput{Action: procedure.ActTransfer, Note: "x", AgencyID: "ag_q_lc", Version: x.Version}); !fieldErr(err, "agency_id") {
			t.Fatalf("transfer to a dissolved district committee: %v", err)
		}
		now = vn(2025, 9, 10, 9, 0)
		x, err := s.Act(sys, x.ID, procedure.ActInput{Action: procedure.ActTransfer, Note: "Thuộc thẩm quyền Sở Tư pháp", AgencyID: "ag_stp", Version: x.Version})
		if err != nil || x.AgencyID != "ag_stp" || x.Status != procedure.Received {
			t.Fatalf("transfer: %+v, %v", x, err)
		}
		now = vn(2025, 9, 11, 9, 0)
		x = act(t, s, sys, x, procedure.ActStart, "")
		// Approved Tuesday 16/9: 12, 15 and 16/9 late, all Sở Tư pháp's.
		now = vn(2025, 9, 16, 16, 0)
		x = act(t, s, sys, x, procedure.ActApprove, "")
		if x.LateDays != 3 {
			t.Fatalf("late days: got %d, want 3", x.LateDays)
		}
		by, err := s.Stats(sys, "agency", procedure.StatFilter{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]procedure.Figures{}
		total := procedure.Figures{}
		for _, f := range by {
			got[f.Key] = f
			total.Received += f.Received
			total.Finished += f.Finished
		}
		if total.Received != 1 || total.Finished != 1 {
			t.Fatalf("counted more than once: %+v", by)
		}
		if r := got["ag_lechan"]; r.Received != 1 || r.Online != 1 || r.Finished != 0 || r.LateDays != 0 {
			t.Errorf("the receiving ward: %+v", r)
		}
		if r := got["ag_stp"]; r.Finished != 1 || r.OnTime != 0 || r.LateDays != 3 || r.OnTimeRate() != 0 {
			t.Errorf("the finishing department: %+v", r)
		}
		st, _ := s.Steps(sys, x.ID)
		c, _ := s.ClockOf(sys, x, st)
		if c.State != workday.Overdue || c.Late != 3 || len(c.Shares) != 2 || c.Shares[1].Holder != "ag_stp" || c.Shares[1].Late != 3 {
			t.Fatalf("clock: %+v", c)
		}
	})
}

func TestScopeTrackingAndReassignment(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		now := vn(2025, 9, 8, 9, 0)
		s := setup(t, d, &now)
		p := birthCert(t, s)
		lechan := as(reqctx.RoleOfficer, reqctx.Scope{Kind: reqctx.ScopeWard, Code: "11383"})
		anbien := as(reqctx.RoleOfficer, reqctx.Scope{Kind: reqctx.ScopeWard, Code: "11407"})
		mine := receive(t, s, lechan, p)
		theirs := receive(t, s, anbien, p, func(in *procedure.ReceiveInput) { in.Address = "12 Lạch Tray, An Biên" })
		if theirs.WardCode != "11407" {
			t.Fatalf("an officer's dossiers belong to the officer's ward: got %q", theirs.WardCode)
		}
		if _, err := s.Receive(lechan, procedure.ReceiveInput{ProcedureID: p.ID, Channel: procedure.Desk, Applicant: "A", Phone: "0912345678", WardCode: "11407"}); !fieldErr(err, "ward_code") {
			t.Fatalf("receiving for another ward: %v", err)
		}
		if _, err := s.Dossier(lechan, theirs.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another ward's dossier: got %v, want NotFound", err)
		}
		if _, err := s.Act(lechan, theirs.ID, procedure.ActInput{Action: procedure.ActStart, Version: 1}); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("acting on another ward's dossier: got %v", err)
		}
		if l, _ := s.Dossiers(lechan, procedure.DossierFilter{}); len(l) != 1 || l[0].ID != mine.ID {
			t.Fatalf("the list in scope: %+v", l)
		}
		if l, _ := s.Dossiers(sys, procedure.DossierFilter{}); len(l) != 2 {
			t.Fatalf("the whole province: %d", len(l))
		}
		if f, _ := s.Stats(lechan, "", procedure.StatFilter{}); len(f) != 1 || f[0].Received != 1 {
			t.Fatalf("statistics in scope: %+v", f)
		}
		if f, err := s.Stats(lechan, "procedure", procedure.StatFilter{}); err != nil || len(f) != 1 || f[0].Key != p.ID || f[0].Received != 1 {
			t.Fatalf("statistics by procedure in scope, from the dossiers: %+v, %v", f, err)
		}
		if f, err := s.Stats(sys, "procedure", procedure.StatFilter{FromMonth: 202509, ToMonth: 202509}); err != nil || len(f) != 1 || f[0].Received != 2 {
			t.Fatalf("statistics by procedure, from the summary: %+v, %v", f, err)
		}
		if f, _ := s.Stats(sys, "procedure", procedure.StatFilter{FromMonth: 202510}); len(f) != 0 {
			t.Fatalf("a month range with nothing: %+v", f)
		}
		if b, err := s.Backlogs(lechan, ""); err != nil || len(b) != 1 || b[0].Open != 1 {
			t.Fatalf("backlog in scope: %+v, %v", b, err)
		}
		if b, err := s.Backlogs(sys, "ward"); err != nil || len(b) != 2 || b[0].Key != "11383" || b[1].Open != 1 {
			t.Fatalf("backlog per ward: %+v, %v", b, err)
		}
		unknown := as(reqctx.RoleOfficer, reqctx.Scope{Kind: reqctx.ScopeAgency, Code: "nope"})
		if l, _ := s.Dossiers(unknown, procedure.DossierFilter{}); len(l) != 0 {
			t.Fatalf("an unknown agency scope sees nothing: %d", len(l))
		}
		ward := as(reqctx.RoleOfficer, reqctx.Scope{Kind: reqctx.ScopeAgency, Code: "000.21.01.H31"})
		if l, _ := s.Dossiers(ward, procedure.DossierFilter{}); len(l) != 2 {
			t.Fatalf("the ward committee holds both: %d", len(l))
		}

		// Tracking: the code and the last four digits of the phone or ID.
		anon := context.Background()
		if tr, err := s.Track(anon, strings.ToLower(mine.Code), "5678"); err != nil || tr.Procedure != "Đăng ký khai sinh" || len(tr.Steps) != 1 || tr.Steps[0].Agency != "UBND phường Lê Chân" {
			t.Fatalf("track by phone: %+v, %v", tr, err)
		}
		if _, err := s.Track(anon, strings.ReplaceAll(strings.ToLower(mine.Code), "-", " "), "5678"); err != nil {
			t.Fatalf("track a code typed with spaces for its dashes: %v", err)
		}
		if _, err := s.Track(anon, strings.ReplaceAll(mine.Code, "-", ""), "5678"); err != nil {
			t.Fatalf("track a code typed without its dashes: %v", err)
		}
		if _, err := s.Track(anon, mine.Code, "1234"); err != nil {
			t.Fatalf("track by citizen ID: %v", err)
		}
		_, wrong := s.Track(anon, mine.Code, "0000")
		_, unknownCode := s.Track(anon, "HS2509-0000-0000", "5678")
		if !apperr.Is(wrong, apperr.NotFound) || wrong.Error() != unknownCode.Error() {
			t.Fatalf("a wrong factor and an unknown code must answer alike: %v / %v", wrong, unknownCode)
		}
		if _, err := s.Track(anon, mine.Code, "56"); !fieldErr(err, "factor") {
			t.Fatalf("a short factor: %v", err)
		}
		old := receive(t, s, sys, p, func(in *procedure.ReceiveInput) {
			in.OldCodes = []string{"000.00.10.H30-250801-0007"}
			in.ReceivedAt = vn(2025, 8, 1, 9, 0)
			in.AgencyID = "ag_stp_old"
		})
		if tr, err := s.Track(anon, "000.00.10.h30-250801-0007", "5678"); err != nil || tr.Code != old.Code {
			t.Fatalf("track by an old code: %+v, %v", tr, err)
		}
		if _, err := s.Receive(sys, procedure.ReceiveInput{ProcedureID: p.ID, Channel: procedure.Desk, Applicant: "B", Phone: "0912345678",
			OldCodes: []string{"000.00.10.H30-250801-0007"}}); !fieldErr(err, "old_codes") {
			t.Fatalf("an old code twice: %v", err)
		}

		// The old department's work moves to its successor.
		pv, err := s.PreviewReassign(sys, "ag_stp_old")
		if err != nil || pv.OpenDossiers != 1 || len(pv.Targets) != 1 || pv.Targets[0].ID != "ag_stp" {
			t.Fatalf("preview: %+v, %v", pv, err)
		}
		if _, err := s.ReassignWard(anbien, "11383", "11407"); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a ward's officer moving another ward's dossiers: %v", err)
		}
		if _, _, err := s.ReassignAgency(ward, "ag_stp_old", "ag_lechan"); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("an agency's officer moving work: %v", err)
		}
		if _, err := s.PreviewReassign(sys, "ag_snv"); !fieldErr(err, "from") {
			t.Fatalf("moving a current agency's work: %v", err)
		}
		if _, err := s.ReassignWard(sys, "11383", "11407"); !fieldErr(err, "from") {
			t.Fatalf("moving a current ward's dossiers: %v", err)
		}
		if _, _, err := s.ReassignAgency(sys, "ag_stp_old", "ag_snv"); !fieldErr(err, "to") {
			t.Fatalf("reassigning to an agency that is not the successor: %v", err)
		}
		procs, moved, err := s.ReassignAgency(sys, "ag_stp_old", "ag_stp")
		if err != nil || procs != 0 || moved != 1 {
			t.Fatalf("reassign: %d, %d, %v", procs, moved, err)
		}
		x, _ := s.Dossier(sys, old.ID)
		st, _ := s.Steps(sys, old.ID)
		if x.AgencyID != "ag_stp" || st[len(st)-1].Action != procedure.ActReassign || x.Code != old.Code {
			t.Fatalf("the moved dossier: %+v %+v", x, st)
		}
		var n int
		if err := d.QueryRowContext(sys, `SELECT COUNT(*) FROM audit_log WHERE action = 'procedure.reassign'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("the reassignment is audited: %d, %v", n, err)
		}
	})
}

// TestListStateMatchesTheClock checks that the state lists and statistics
// read from the stored due day is the one the clock computes from the steps,
// over random histories.
func TestListStateMatchesTheClock(t *testing.T) {
	d := dbtest.SQLite(t, modules)
	now := vn(2026, 1, 5, 9, 0)
	s := setup(t, d, &now)
	p := birthCert(t, s)
	rng := rand.New(rand.NewPCG(1, 2))
	cal, _ := s.Calendar(sys)
	for i := range 120 {
		now = vn(2026, 1, 5, 9, 0).Add(time.Duration(rng.IntN(60*24)) * time.Hour)
		x := receive(t, s, sys, p)
		for range rng.IntN(6) {
			now = now.Add(time.Duration(1+rng.IntN(80)) * time.Hour)
			acts := procedure.Allowed(x.Status)
			if len(acts) == 0 {
				break
			}
			a := acts[rng.IntN(len(acts))]
			in := procedure.ActInput{Action: a, Note: "ghi chú", Version: x.Version}
			if a == procedure.ActTransfer {
				in.AgencyID = "ag_stp"
				if x.AgencyID == "ag_stp" {
					in.AgencyID = "ag_snv"
				}
			}
			var err error
			if x, err = s.Act(sys, x.ID, in); err != nil {
				t.Fatalf("dossier %d, %s: %v", i, a, err)
			}
		}
		later := now.Add(time.Duration(rng.IntN(200)) * time.Hour)
		st, _ := s.Steps(sys, x.ID)
		saved := now
		now = later
		c, err := s.ClockOf(sys, x, st)
		now = saved
		if err != nil {
			t.Fatal(err)
		}
		if got := procedure.StateOf(cal, x, later); got != c.State || (c.DueKnown && workday.Day(x.DueDay) != c.Due) {
			t.Fatalf("dossier %d (%s, steps %+v): list says %s due %s, clock says %s due %s", i, x.Status, st, got,
				workday.Day(x.DueDay), c.State, c.Due)
		}
	}
}

func TestCalendarDays(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		now := vn(2025, 4, 25, 9, 0) // Friday
		s := setup(t, d, &now)
		p := birthCert(t, s)
		// 2025: Saturday 26/4 worked, Friday 2/5 off (the announced swap).
		if err := s.SetCalendarDay(sys, procedure.CalendarDay{Day: workday.Date(2025, 4, 26), Note: "Làm bù cho 2/5"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCalendarDay(sys, procedure.CalendarDay{Day: workday.Date(2025, 5, 2), Off: true, Note: "Nghỉ hoán đổi"}); err != nil {
			t.Fatal(err)
		}
		// Three working days after Friday 25/4: Saturday 26/4 (worked),
		// Monday 28/4, Tuesday 29/4.
		if got := workday.Day(receive(t, s, sys, p).DueDay); got != workday.Date(2025, 4, 29) {
			t.Fatalf("due with the Saturday worked: got %s, want 2025-04-29", got)
		}
		if err := s.DeleteCalendarDay(sys, workday.Date(2025, 4, 26)); err != nil {
			t.Fatal(err)
		}
		// Without it: 28/4, 29/4, then 30/4, 1/5 and 2/5 off and the
		// weekend, so Monday 5/5.
		if got := workday.Day(receive(t, s, sys, p).DueDay); got != workday.Date(2025, 5, 5) {
			t.Fatalf("due with 2/5 off: got %s, want 2025-05-05", got)
		}
		// A day off added later moves the open dossiers it falls into at
		// once: received Monday 8/9, due Thursday 11/9; 10/9 off, due 12/9.
		now = vn(2025, 9, 8, 9, 0)
		open := receive(t, s, sys, p)
		done := act(t, s, sys, receive(t, s, sys, p), procedure.ActStart, "")
		now = vn(2025, 9, 9, 9, 0)
		done = act(t, s, sys, done, procedure.ActApprove, "")
		if err := s.SetCalendarDay(sys, procedure.CalendarDay{Day: workday.Date(2025, 9, 10), Off: true, Note: "Nghỉ đột xuất"}); err != nil {
			t.Fatal(err)
		}
		x, _ := s.Dossier(sys, open.ID)
		if workday.Day(x.DueDay) != workday.Date(2025, 9, 12) || x.Version != open.Version {
			t.Fatalf("after the day off: due %s, version %d (was %d)", workday.Day(x.DueDay), x.Version, open.Version)
		}
		if y, _ := s.Dossier(sys, done.ID); y.DueDay != done.DueDay {
			t.Fatalf("a finished dossier keeps its clock: %s, was %s", workday.Day(y.DueDay), workday.Day(done.DueDay))
		}
		if err := s.DeleteCalendarDay(sys, workday.Date(2025, 9, 10)); err != nil {
			t.Fatal(err)
		}
		if x, _ := s.Dossier(sys, open.ID); workday.Day(x.DueDay) != workday.Date(2025, 9, 11) {
			t.Fatalf("the day off removed: due %s", workday.Day(x.DueDay))
		}
		if days, _ := s.CalendarDays(sys); len(days) != 1 || !days[0].Off {
			t.Fatalf("days: %+v", days)
		}
		if err := s.DeleteCalendarDay(sys, workday.Date(2025, 4, 26)); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
	})
}

func TestCitizenID(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for id, want := range map[string]string{
		"031190001234": "",
		"079305000001": "", // born 2005, female, HCMC
		"03119000123":  "procedure.citizen_id_length",
		"03119000123a": "procedure.citizen_id_digits",
		"131190001234": "procedure.citizen_id_province",
		"003190001234": "procedure.citizen_id_province", // 03 is not a province code
		"031399001234": "procedure.citizen_id_year",     // born 2099
	} {
		if got := procedure.CheckCitizenID(id, now); got != want {
			t.Errorf("%s: got %q, want %q", id, got, want)
		}
	}
}
