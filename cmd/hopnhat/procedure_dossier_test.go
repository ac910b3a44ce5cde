package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata/refdatatest"
	"hopnhat/internal/adminunit/register"
	"hopnhat/internal/org"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
	"hopnhat/internal/procedure"
	"hopnhat/internal/procedure/workday"
)

func init() {
	moreRouteAccess = append(moreRouteAccess, map[string]access{
		"GET /dossiers":                      handlers,
		"GET /dossiers/new":                  reviewers,
		"POST /dossiers":                     reviewers,
		"GET /dossiers/{id}":                 handlers,
		"POST /dossiers/{id}/actions":        reviewers,
		"GET /dossiers/{id}/receipt":         handlers,
		"GET /dossiers/stats":                handlers,
		"GET /dossiers/stats.xlsx":           handlers,
		"GET /tra-cuu":                       everyone,
		"POST /tra-cuu":                      everyone,
		"POST /api/v1/track":                 everyone,
		"GET /api/v1/dossiers":               handlers,
		"POST /api/v1/dossiers":              reviewers,
		"GET /api/v1/dossiers/{id}":          handlers,
		"POST /api/v1/dossiers/{id}/actions": reviewers,
		"GET /api/v1/dossier-stats":          handlers,
	})
}

// wardOfficer is the key, among the seeded principals, of motcua.lechan: an
// officer of the one-stop desk of Phường Lê Chân (ward 11383).
const wardOfficer reqctx.Role = "officer@11383"

// dossierWorld is what the dossier tests receive dossiers for: Hải Phòng's
// Lê Chân and An Biên ward committees and its justice department, a
// commune-level and a province-level procedure.
type dossierWorld struct {
	lechan, anbien, justice org.Agency
	birth, record           procedure.Procedure
}

func dossierSeed(t *testing.T, a *app) dossierWorld {
	t.Helper()
	ctx := reqctx.WithActor(context.Background(), "user:test")
	var w dossierWorld
	var err error
	agency := func(name string, kind org.Kind, ward string) org.Agency {
		ag, err := a.org.Create(ctx, org.Input{Name: name, Kind: kind, Period: org.Current, ProvinceCode: "31", WardCode: ward,
			ValidFrom: adminunit.ReformDate})
		if err != nil {
			t.Fatal(err)
		}
		return ag
	}
	w.lechan = agency("UBND phường Lê Chân", org.KindWardCommittee, "11383")
	w.anbien = agency("UBND phường An Biên", org.KindWardCommittee, "11407")
	w.justice = agency("Sở Tư pháp", org.KindDepartment, "")
	if w.birth, err = a.procs.CreateProcedure(ctx, procedure.Procedure{Code: "1.001193.000.00.00.H31", Name: "Đăng ký khai sinh",
		Field: "Hộ tịch", Level: procedure.LevelCommune, AgencyID: w.lechan.ID, Days: 3, Fee: "Miễn phí", Online: procedure.OnlineFull,
		Papers: []string{"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"}}); err != nil {
		t.Fatal(err)
	}
	if w.record, err = a.procs.CreateProcedure(ctx, procedure.Procedure{Code: "2.000488.000.00.00.H31", Name: "Cấp Phiếu lý lịch tư pháp",
		Field: "Lý lịch tư pháp", Level: procedure.LevelProvince, AgencyID: w.justice.ID, Days: 10, Fee: "200.000 đồng",
		Online: procedure.OnlinePartial, Papers: []string{"Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp"}}); err != nil {
		t.Fatal(err)
	}
	return w
}

// dossierAt is a moment in Vietnam.
func dossierAt(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, workday.Zone)
}

// dossierCall sends one request as role ("" anonymous) from addr ("" the
// test default) and returns the answer.
func dossierCall(t *testing.T, a *app, p principals, as reqctx.Role, method, path, ctype, body string) *httptest.ResponseRecorder {
	t.Helper()
	return dossierCallFrom(t, a, p, as, "", method, path, ctype, body)
}

func dossierCallFrom(t *testing.T, a *app, p principals, as reqctx.Role, addr, method, path, ctype, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if addr != "" {
		req.RemoteAddr = addr + ":40000"
	}
	if as != "" {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[as].Username)})
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec
}

// dossierReply is the API's answer about one dossier.
type dossierReply struct {
	Dossier struct {
		ID              string   `json:"id"`
		Code            string   `json:"code"`
		OldCodes        []string `json:"old_codes"`
		AgencyID        string   `json:"agency_id"`
		AgencyName      string   `json:"agency_name"`
		WardCode        string   `json:"ward_code"`
		WardName        string   `json:"ward_name"`
		AddressWard     string   `json:"address_ward"`
		AddressWardName string   `json:"address_ward_name"`
		Status          string   `json:"status"`
		State           string   `json:"state"`
		DueDate         string   `json:"due_date"`
		DueKnown        bool     `json:"due_known"`
		Version         int64    `json:"version"`
		Allowed         []string `json:"allowed_actions"`
		Papers          []string `json:"papers"`
	} `json:"dossier"`
	Steps []struct {
		Action   string `json:"action"`
		Status   string `json:"status"`
		AgencyID string `json:"agency_id"`
		Actor    string `json:"actor"`
		Note     string `json:"note"`
	} `json:"steps"`
	Clock struct {
		State    string `json:"state"`
		DueDate  string `json:"due_date"`
		DueKnown bool   `json:"due_known"`
		LateDays int    `json:"late_days"`
		Shares   []struct {
			AgencyID string `json:"agency_id"`
			Days     int    `json:"days"`
			LateDays int    `json:"late_days"`
		} `json:"shares"`
	} `json:"clock"`
}

func decodeDossier(t *testing.T, rec *httptest.ResponseRecorder, want int) dossierReply {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("got status %d, want %d: %.400s", rec.Code, want, rec.Body.String())
	}
	var r dossierReply
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("not a dossier: %v: %.300s", err, rec.Body.String())
	}
	return r
}

// dossierReceive receives a dossier through the API as role.
func dossierReceive(t *testing.T, a *app, p principals, as reqctx.Role, in map[string]any) dossierReply {
	t.Helper()
	b, _ := json.Marshal(in)
	return decodeDossier(t, dossierCall(t, a, p, as, "POST", "/api/v1/dossiers", jsonCT, string(b)), http.StatusCreated)
}

// dossierAct posts an action through the API as role.
func dossierAct(t *testing.T, a *app, p principals, as reqctx.Role, id string, in map[string]any) *httptest.ResponseRecorder {
	t.Helper()
	b, _ := json.Marshal(in)
	return dossierCall(t, a, p, as, "POST", "/api/v1/dossiers/"+id+"/actions", jsonCT, string(b))
}

// problemOf reads a problem document, failing unless it has the status and code.
func problemOf(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) web.Problem {
	t.Helper()
	var prob web.Problem
	if rec.Code != status || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
		t.Fatalf("got %d %s, want %d problem+json: %.300s", rec.Code, rec.Header().Get("Content-Type"), status, rec.Body.String())
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &prob); err != nil || prob.Code != code {
		t.Fatalf("got problem %+v (%v), want code %s", prob, err, code)
	}
	return prob
}

// fieldCode is the code a problem gives for one field.
func fieldCode(prob web.Problem, field string) string {
	for _, f := range prob.Errors {
		if f.Field == field {
			return f.Code
		}
	}
	return ""
}

func TestDossierScenarios(t *testing.T) {
	reg := refdatatest.Register(t)
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		now := dossierAt(2025, 9, 8, 9, 0) // a Monday
		d.SetClock(func() time.Time { return now })
		a := testApp(t, d)
		p := seed(t, a)
		if _, err := register.NewService(d, slog.New(slog.DiscardHandler)).Import(context.Background(), reg); err != nil {
			t.Fatal(err)
		}
		u, err := a.auth.CreateUser(context.Background(), auth.NewUser{Username: "motcua.lechan", FullName: "Cán bộ Lê Chân",
			Role: reqctx.RoleOfficer, Scope: reqctx.Scope{Kind: reqctx.ScopeWard, Code: "11383"}, Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		p.users[wardOfficer] = u
		w := dossierSeed(t, a)
		const officer, leader, viewer = reqctx.RoleOfficer, reqctx.RoleLeader, reqctx.RoleViewer

		runScenarios(t, a, p, []scenario{
			{name: "no dossier yet", method: "GET", path: "/dossiers", as: officer, wantStatus: 200, wantText: "Chưa có hồ sơ nào."},
			{name: "the receive form lists the procedures", method: "GET", path: "/dossiers/new", as: officer, wantStatus: 200,
				wantText: "Đăng ký khai sinh (1.001193.000.00.00.H31)"},
			{name: "a chosen procedure shows its papers, ticked", method: "GET", path: "/dossiers/new?procedure_id=" + w.birth.ID, as: officer,
				wantStatus: 200, wantText: `value="Giấy chứng sinh" id="paper-1" checked`},
			{name: "a ward desk's form names the ward's committee", method: "GET", path: "/dossiers/new?procedure_id=" + w.birth.ID, as: wardOfficer,
				wantStatus: 200, wantText: `<option value="` + w.lechan.ID + `" selected>UBND phường Lê Chân</option>`},
			{name: "a viewer may not read dossiers", method: "GET", path: "/dossiers", as: viewer, wantStatus: 403},
			{name: "a leader may not receive", method: "GET", path: "/dossiers/new", as: leader, wantStatus: 403},
			{name: "a leader reads the list", method: "GET", path: "/dossiers", as: leader, wantStatus: 200, wantText: "Hồ sơ sẽ hiện ở đây"},
			{name: "an unknown state", method: "GET", path: "/dossiers?state=lost", as: officer, wantStatus: 400},
		})

		good := url.Values{"procedure_id": {w.birth.ID}, "channel": {"desk"}, "applicant": {"Nguyễn Văn An"}, "citizen_id": {"031090001234"},
			"phone": {"0912 345 678"}, "address": {"12 Lạch Tray, phường Lê Chân, Hải Phòng"}, "papers": {"Tờ khai đăng ký khai sinh"},
			"other_papers": {"Bản sao CCCD của cha\nBản sao CCCD của mẹ"}}
		with := func(kv ...string) string {
			v := url.Values{}
			for k, x := range good {
				v[k] = slices.Clone(x)
			}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v.Encode()
		}
		runScenarios(t, a, p, []scenario{
			{name: "a short citizen ID is refused in Vietnamese", method: "POST", path: "/dossiers", as: officer, contentType: formCT,
				body: with("citizen_id", "03109000"), wantStatus: 422, wantText: "Số định danh cá nhân phải đủ 12 chữ số."},
			{name: "a citizen ID of no province is refused", method: "POST", path: "/dossiers", as: officer, contentType: formCT,
				body: with("citizen_id", "099090001234"), wantStatus: 422, wantText: "Ba số đầu của số định danh"},
			{name: "letters in the citizen ID", method: "POST", path: "/dossiers", as: officer, contentType: formCT,
				body: with("citizen_id", "03109000123A"), wantStatus: 422, wantText: "chỉ gồm chữ số"},
			{name: "neither phone nor ID", method: "POST", path: "/dossiers", as: officer, contentType: formCT,
				body: with("citizen_id", "", "phone", ""), wantStatus: 422, wantText: "Cần số điện thoại hoặc số định danh để công dân tra cứu hồ sơ."},
			{name: "what was typed stays after a refusal", method: "POST", path: "/dossiers", as: officer, contentType: formCT,
				body: with("citizen_id", "1"), wantStatus: 422, wantText: `value="12 Lạch Tray, phường Lê Chân, Hải Phòng"`},
			{name: "no procedure", method: "POST", path: "/dossiers", as: officer, contentType: formCT,
				body: with("procedure_id", ""), wantStatus: 422, wantText: "Không tìm thấy thủ tục."},
			{name: "the API refuses a bad citizen ID", method: "POST", path: "/api/v1/dossiers", as: officer, contentType: jsonCT,
				body: `{"procedure_id":"` + w.birth.ID + `","channel":"desk","applicant":"A","citizen_id":"12"}`, wantStatus: 400,
				wantCode: "error.invalid_input", wantText: "procedure.citizen_id_length"},
			{name: "the API refuses an unknown channel", method: "POST", path: "/api/v1/dossiers", as: officer, contentType: jsonCT,
				body: `{"procedure_id":"` + w.birth.ID + `","channel":"fax","applicant":"A","phone":"0912345678"}`, wantStatus: 400,
				wantCode: "error.invalid_input", wantText: "procedure.channel_invalid"},
			{name: "the API refuses unknown fields", method: "POST", path: "/api/v1/dossiers", as: officer, contentType: jsonCT,
				body: `{"procedure":"x"}`, wantStatus: 400, wantCode: "error.json_malformed"},
			{name: "a leader may not receive through the API", method: "POST", path: "/api/v1/dossiers", as: leader, contentType: jsonCT,
				body: `{}`, wantStatus: 403, wantCode: "error.forbidden"},
		})

		// Received at the desk with markup in the name: it is shown as text.
		rec := dossierCall(t, a, p, officer, "POST", "/dossiers", formCT, with("applicant", `<script>alert(1)</script> Trần Thị Bình`))
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/dossiers/hs_") || !strings.HasSuffix(loc, "?ok=flash.dossier_received") {
			t.Fatalf("receive at the desk: got %d to %q, want 303 to the dossier: %.300s", rec.Code, loc, rec.Body.String())
		}
		deskID := strings.TrimSuffix(strings.TrimPrefix(loc, "/dossiers/"), "?ok=flash.dossier_received")
		desk := decodeDossier(t, dossierCall(t, a, p, officer, "GET", "/api/v1/dossiers/"+deskID, "", ""), 200)
		if desk.Dossier.AddressWard != "11383" || desk.Dossier.WardCode != "11383" || desk.Dossier.DueDate != "2025-09-11" ||
			!slices.Equal(desk.Dossier.Papers, []string{"Tờ khai đăng ký khai sinh", "Bản sao CCCD của cha", "Bản sao CCCD của mẹ"}) {
			t.Errorf("desk dossier: got ward %q, address ward %q, due %s, papers %q; want 11383, 11383, 2025-09-11 and three papers",
				desk.Dossier.WardCode, desk.Dossier.AddressWard, desk.Dossier.DueDate, desk.Dossier.Papers)
		}
		page := dossierCall(t, a, p, officer, "GET", loc, "", "").Body.String()
		for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt; Trần Thị Bình", "Đã tiếp nhận hồ sơ.", "Phường Lê Chân",
			"11/09/2025", "08/09/2025 09:00", "Bắt đầu xử lý", `href="/dossiers/` + deskID + `/receipt"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the dossier page lacks %q", want)
			}
		}
		if strings.Contains(page, "<script>alert") {
			t.Error("the applicant's markup reached the page unescaped")
		}
		receipt := dossierCall(t, a, p, officer, "GET", "/dossiers/"+deskID+"/receipt", "", "")
		for _, want := range []string{"GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", desk.Dossier.Code, "UBND phường Lê Chân", "Đăng ký khai sinh",
			"Bản sao CCCD của mẹ", "11/09/2025", "http://example.com/tra-cuu", "4 số cuối", `<svg xmlns="http://www.w3.org/2000/svg" role="img"`,
			"&lt;script&gt;"} {
			if !strings.Contains(receipt.Body.String(), want) {
				t.Errorf("the receipt lacks %q", want)
			}
		}

		// The workflow through the API, with one transfer: one dossier, one clock.
		x := dossierReceive(t, a, p, officer, map[string]any{"procedure_id": w.birth.ID, "channel": "online", "applicant": "Lê Văn Cường",
			"phone": "0987654321", "address": "20 Trần Phú, phường An Biên, thành phố Hải Phòng"})
		id := x.Dossier.ID
		if x.Dossier.State != "on_time" || x.Dossier.WardCode != "11407" || x.Dossier.AgencyID != w.lechan.ID || x.Dossier.Version != 1 ||
			!slices.Equal(x.Dossier.Allowed, []string{"start", "request_supplement", "reject", "transfer"}) || len(x.Steps) != 1 {
			t.Fatalf("received online: got %+v", x.Dossier)
		}
		act := func(action, note, agency string, version int64) *httptest.ResponseRecorder {
			return dossierAct(t, a, p, officer, id, map[string]any{"action": action, "note": note, "agency_id": agency, "version": version})
		}
		x = decodeDossier(t, act("start", "", "", 1), 200)
		problemOf(t, act("start", "", "", 1), 409, "procedure.dossier_stale")
		prob := problemOf(t, act("request_supplement", "", "", 2), 400, "error.invalid_input")
		if got := fieldCode(prob, "note"); got != "procedure.note_required" {
			t.Errorf("a supplement request without a note: got field code %q, want procedure.note_required", got)
		}
		problemOf(t, dossierAct(t, a, p, officer, id, map[string]any{"action": "start"}), 400, "error.invalid_input")
		problemOf(t, act("fly", "", "", 2), 400, "error.invalid_input")
		x = decodeDossier(t, act("request_supplement", "Bổ sung bản chính giấy chứng sinh", "", 2), 200)
		if x.Clock.State != "paused" || x.Clock.DueKnown || x.Dossier.Status != "supplement_requested" {
			t.Errorf("after the request: got clock %+v, status %s; want paused, due unknown", x.Clock, x.Dossier.Status)
		}
		problemOf(t, act("approve", "", "", 3), 409, "procedure.action_not_allowed")
		now = dossierAt(2025, 9, 9, 9, 0)
		x = decodeDossier(t, act("supplement", "", "", 3), 200)
		if x.Clock.State == "paused" || !x.Clock.DueKnown || x.Clock.DueDate <= "2025-09-11" {
			t.Errorf("after the supplement: got clock %+v, want running with the due date moved past 2025-09-11", x.Clock)
		}
		prob = problemOf(t, act("transfer", "Chuyển Sở Tư pháp cấp trích lục", "", 4), 400, "error.invalid_input")
		if got := fieldCode(prob, "agency_id"); got != "procedure.agency_required" {
			t.Errorf("a transfer with no agency: got field code %q", got)
		}
		x = decodeDossier(t, act("transfer", "Chuyển Sở Tư pháp cấp trích lục", w.justice.ID, 4), 200)
		if x.Dossier.AgencyID != w.justice.ID || x.Dossier.AgencyName != "Sở Tư pháp" || x.Dossier.Code == "" {
			t.Errorf("after the transfer: got holder %s %q", x.Dossier.AgencyID, x.Dossier.AgencyName)
		}
		now = dossierAt(2025, 9, 10, 15, 0)
		x = decodeDossier(t, act("approve", "", "", 5), 200)
		x = decodeDossier(t, act("return", "Đã trao trích lục", "", 6), 200)
		var actions []string
		for _, s := range x.Steps {
			actions = append(actions, s.Action)
		}
		if x.Dossier.Status != "returned" || x.Clock.State != "on_time" || len(x.Clock.Shares) != 2 ||
			!slices.Equal(actions, []string{"receive", "start", "request_supplement", "supplement", "transfer", "approve", "return"}) ||
			x.Steps[1].Actor != "user:u.officer" {
			t.Errorf("returned: got status %s, clock %+v, steps %v (actor %q)", x.Dossier.Status, x.Clock, actions, x.Steps[1].Actor)
		}

		// The workflow through the forms: a stale form and a missing note.
		actForm := func(as reqctx.Role, action, note string, version int64) *httptest.ResponseRecorder {
			return dossierCall(t, a, p, as, "POST", "/dossiers/"+deskID+"/actions", formCT,
				url.Values{"action": {action}, "note": {note}, "version": {strconv.FormatInt(version, 10)}}.Encode())
		}
		if rec := actForm(officer, "start", "", 1); rec.Code != 303 || rec.Header().Get("Location") != "/dossiers/"+deskID+"?ok=flash.dossier_start" {
			t.Fatalf("start by form: got %d to %q", rec.Code, rec.Header().Get("Location"))
		}
		rec = actForm(officer, "start", "", 1)
		if rec.Code != 409 || !strings.Contains(rec.Body.String(), "Người khác vừa xử lý hồ sơ này") ||
			!strings.Contains(rec.Body.String(), `name="version" value="2"`) {
			t.Errorf("a stale form: got %d, want 409 with the fresh state and version: %.300s", rec.Code, rec.Body.String())
		}
		rec = actForm(officer, "request_supplement", "", 2)
		if rec.Code != 422 || !strings.Contains(rec.Body.String(), `id="err-note-request_supplement">Cần ghi rõ lý do hoặc nội dung.`) {
			t.Errorf("a supplement request without a note: got %d: %.300s", rec.Code, rec.Body.String())
		}
		if rec := actForm(officer, "request_supplement", "Bổ sung giấy chứng sinh bản chính", 2); rec.Code != 303 {
			t.Fatalf("request a supplement by form: got %d", rec.Code)
		}
		runScenarios(t, a, p, []scenario{
			{name: "a paused dossier says the due date will move", method: "GET", path: "/dossiers/" + deskID, as: officer, wantStatus: 200,
				wantText: "Tạm dừng chờ bổ sung — hạn trả lùi theo ngày nhận đủ bổ sung"},
			{name: "the paused tab lists it", method: "GET", path: "/dossiers?state=paused", as: officer, wantStatus: 200, wantText: desk.Dossier.Code},
			{name: "search by code, typed loosely", method: "GET", path: "/dossiers?q=" + url.QueryEscape(strings.ToLower(desk.Dossier.Code)), as: officer,
				wantStatus: 200, wantText: desk.Dossier.Code},
			{name: "search by citizen ID", method: "GET", path: "/dossiers?q=031090001234", as: officer, wantStatus: 200, wantText: desk.Dossier.Code},
			{name: "search finds nothing", method: "GET", path: "/dossiers?q=HS0000-0000-0000", as: officer, wantStatus: 200,
				wantText: "Không có hồ sơ nào khớp"},
			{name: "a leader reads the dossier without the forms", method: "GET", path: "/dossiers/" + deskID, as: leader, wantStatus: 200,
				wantText: "Quá trình xử lý"},
			{name: "a leader may not act", method: "POST", path: "/dossiers/" + deskID + "/actions", as: leader, contentType: formCT,
				body: "action=supplement&version=3", wantStatus: 403},
			{name: "a leader may not act through the API", method: "POST", path: "/api/v1/dossiers/" + deskID + "/actions", as: leader,
				contentType: jsonCT, body: `{"action":"supplement","version":3}`, wantStatus: 403, wantCode: "error.forbidden"},
			{name: "a leader reads the API", method: "GET", path: "/api/v1/dossiers/" + deskID, as: leader, wantStatus: 200, wantText: `"state":"paused"`},
		})
		if body := dossierCall(t, a, p, leader, "GET", "/dossiers/"+deskID, "", "").Body.String(); strings.Contains(body, `id="act"`) {
			t.Error("a leader is shown the action forms")
		}

		// An old province's dossier is found by its old code.
		old, err := a.procs.Receive(reqctx.WithActor(context.Background(), "system:migrate"), procedure.ReceiveInput{ProcedureID: w.record.ID,
			Channel: procedure.Desk, Applicant: "Phạm Thị Dung", Phone: "0904111222", ReceivedAt: dossierAt(2025, 6, 20, 8, 0),
			OldCodes: []string{"H30.25-000123"}})
		if err != nil {
			t.Fatal(err)
		}
		runScenarios(t, a, p, []scenario{
			{name: "search by an old code", method: "GET", path: "/dossiers?q=h30.25-000123", as: officer, wantStatus: 200, wantText: old.Code},
			{name: "the old code is on the page", method: "GET", path: "/dossiers/" + old.ID, as: officer, wantStatus: 200, wantText: "H30.25-000123"},
			{name: "the migration step is named", method: "GET", path: "/dossiers/" + old.ID, as: officer, wantStatus: 200,
				wantText: "Chuyển từ hệ thống của tỉnh cũ"},
		})

		// A ward's officer sees and acts on the ward's dossiers only.
		mine := dossierReceive(t, a, p, wardOfficer, map[string]any{"procedure_id": w.birth.ID, "channel": "desk", "applicant": "Đỗ Minh Khoa",
			"citizen_id": "031200004321"})
		if mine.Dossier.WardCode != "11383" || mine.Dossier.AgencyID != w.lechan.ID {
			t.Errorf("received at the Lê Chân desk: got ward %q agency %q, want 11383 and its committee", mine.Dossier.WardCode, mine.Dossier.AgencyID)
		}
		prob = problemOf(t, dossierCall(t, a, p, wardOfficer, "POST", "/api/v1/dossiers", jsonCT,
			`{"procedure_id":"`+w.birth.ID+`","channel":"desk","applicant":"X","phone":"0912000111","ward_code":"11407"}`), 400, "error.invalid_input")
		if got := fieldCode(prob, "ward_code"); got != "procedure.ward_outside_scope" {
			t.Errorf("another ward's dossier at the Lê Chân desk: got field code %q, want procedure.ward_outside_scope", got)
		}
		runScenarios(t, a, p, []scenario{
			{name: "another ward's dossier is not found", method: "GET", path: "/dossiers/" + id, as: wardOfficer, wantStatus: 404},
			{name: "nor through the API", method: "GET", path: "/api/v1/dossiers/" + id, as: wardOfficer, wantStatus: 404,
				wantCode: "procedure.dossier_not_found"},
			{name: "nor its receipt", method: "GET", path: "/dossiers/" + id + "/receipt", as: wardOfficer, wantStatus: 404},
			{name: "nor may it be acted on", method: "POST", path: "/api/v1/dossiers/" + id + "/actions", as: wardOfficer, contentType: jsonCT,
				body: `{"action":"start","version":7}`, wantStatus: 404, wantCode: "procedure.dossier_not_found"},
			{name: "nor by form", method: "POST", path: "/dossiers/" + id + "/actions", as: wardOfficer, contentType: formCT,
				body: "action=start&version=7", wantStatus: 404},
			{name: "the ward's own dossier is", method: "GET", path: "/dossiers/" + mine.Dossier.ID, as: wardOfficer, wantStatus: 200,
				wantText: "Đỗ Minh Khoa"},
		})
		list := dossierCall(t, a, p, wardOfficer, "GET", "/api/v1/dossiers?limit=100", "", "")
		var got struct {
			Dossiers []struct {
				Code     string `json:"code"`
				WardCode string `json:"ward_code"`
			} `json:"dossiers"`
		}
		if err := json.Unmarshal(list.Body.Bytes(), &got); err != nil || len(got.Dossiers) != 2 {
			t.Fatalf("the ward's list: got %v %.300s, want its 2 dossiers", err, list.Body.String())
		}
		for _, x := range got.Dossiers {
			if x.WardCode != "11383" {
				t.Errorf("the Lê Chân list holds %s of ward %s", x.Code, x.WardCode)
			}
		}
		if body := dossierCall(t, a, p, wardOfficer, "GET", "/dossiers", "", "").Body.String(); strings.Contains(body, x.Dossier.Code) {
			t.Error("the Lê Chân list page shows An Biên's dossier")
		}
		// Every page speaks both languages: no key is shown instead of its text.
		for _, lang := range []string{"vi", "en"} {
			for _, path := range []string{"/dossiers", "/dossiers?state=overdue", "/dossiers?q=nothing", "/dossiers/new",
				"/dossiers/new?procedure_id=" + w.birth.ID, "/dossiers/" + id, "/dossiers/" + deskID, "/dossiers/" + mine.Dossier.ID,
				"/dossiers/" + old.ID, "/dossiers/" + deskID + "/receipt", "/dossiers/stats", "/tra-cuu"} {
				req := httptest.NewRequest("GET", path, nil)
				req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[officer].Username)})
				req.AddCookie(&http.Cookie{Name: web.LangCookie, Value: lang})
				rec := httptest.NewRecorder()
				a.handler.ServeHTTP(rec, req)
				if rec.Code != 200 {
					t.Errorf("%s in %s: got %d", path, lang, rec.Code)
				}
				if raw := dossierRawKey.FindAllString(rec.Body.String(), -1); len(raw) > 0 {
					t.Errorf("%s in %s shows keys instead of words: %q", path, lang, raw)
				}
			}
		}
		if body := dossierCall(t, a, p, officer, "GET", "/dossiers/"+deskID, "", "").Body.String(); !strings.Contains(body, `lang="vi"`) {
			t.Error("pages are not Vietnamese by default")
		}

		runScenarios(t, a, p, []scenario{
			{name: "the API list filters by state", method: "GET", path: "/api/v1/dossiers?state=paused", as: officer, wantStatus: 200,
				wantText: desk.Dossier.Code},
			{name: "the API refuses an unknown state", method: "GET", path: "/api/v1/dossiers?state=lost", as: officer, wantStatus: 400,
				wantCode: "error.invalid_input"},
			{name: "the API refuses a huge limit", method: "GET", path: "/api/v1/dossiers?limit=100000", as: officer, wantStatus: 400,
				wantCode: "error.invalid_input"},
			{name: "an unknown dossier", method: "GET", path: "/api/v1/dossiers/hs_nope", as: officer, wantStatus: 404,
				wantCode: "procedure.dossier_not_found"},
		})
	})
}

// dossierNoID removes a response's request id, which differs per request.
func dossierNoID(rec *httptest.ResponseRecorder) string {
	return strings.ReplaceAll(rec.Body.String(), rec.Header().Get("X-Request-Id"), "")
}

func TestDossierTracking(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		now := dossierAt(2025, 9, 8, 9, 0)
		d.SetClock(func() time.Time { return now })
		a := testApp(t, d)
		p := seed(t, a)
		w := dossierSeed(t, a)
		x := dossierReceive(t, a, p, reqctx.RoleOfficer, map[string]any{"procedure_id": w.birth.ID, "channel": "desk",
			"applicant": "Nguyễn Thị Hoa", "citizen_id": "031190004321", "phone": "0912 345 678", "address": "Số 3 Tô Hiệu, Lê Chân"})
		code := x.Dossier.Code
		now = dossierAt(2025, 9, 8, 14, 30)
		decodeDossier(t, dossierAct(t, a, p, reqctx.RoleOfficer, x.Dossier.ID, map[string]any{"action": "request_supplement",
			"note": "Bổ sung bản chính giấy chứng sinh", "version": 1}), 200)

		track := func(addr, c, factor string) *httptest.ResponseRecorder {
			return dossierCallFrom(t, a, p, "", addr, "POST", "/tra-cuu", formCT, url.Values{"code": {c}, "factor": {factor}}.Encode())
		}
		trackAPI := func(addr, c, factor string) *httptest.ResponseRecorder {
			b, _ := json.Marshal(map[string]string{"code": c, "factor": factor})
			return dossierCallFrom(t, a, p, "", addr, "POST", "/api/v1/track", jsonCT, string(b))
		}

		if rec := dossierCall(t, a, p, "", "GET", "/tra-cuu?ma="+strings.ToLower(code), "", ""); rec.Code != 200 ||
			!strings.Contains(rec.Body.String(), `name="code" value="`+code+`"`) {
			t.Errorf("the QR code's link: got %d, want the form with the code filled in: %.300s", rec.Code, rec.Body.String())
		}
		rec := track("203.0.113.1", code, "5678")
		body := rec.Body.String()
		if rec.Code != 200 {
			t.Fatalf("right factor: got %d: %.300s", rec.Code, body)
		}
		for _, want := range []string{"Đăng ký khai sinh", "Chờ bổ sung", "Tạm dừng", "Bổ sung bản chính giấy chứng sinh", "UBND phường Lê Chân",
			"08/09/2025 14:30", "Yêu cầu bổ sung hồ sơ", "Tiếp nhận hồ sơ"} {
			if !strings.Contains(body, want) {
				t.Errorf("the tracking page lacks %q", want)
			}
		}
		for _, secret := range []string{"Nguyễn Thị Hoa", "031190004321", "0912 345 678", "Tô Hiệu", `name="factor" value="5678"`} {
			if strings.Contains(body, secret) {
				t.Errorf("the tracking page shows %q", secret)
			}
		}
		if rec := track("203.0.113.1", " "+strings.ToLower(code)+" ", "4321"); rec.Code != 200 {
			t.Errorf("the ID's last digits, the code in lower case: got %d", rec.Code)
		}
		rec = trackAPI("203.0.113.1", code, "5678")
		var tr struct {
			Tracking struct {
				Code     string `json:"code"`
				State    string `json:"state"`
				DueKnown bool   `json:"due_known"`
				DueDate  string `json:"due_date"`
				Steps    []struct {
					Action string `json:"action"`
					Agency string `json:"agency"`
					Note   string `json:"note"`
				} `json:"steps"`
			} `json:"tracking"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || rec.Code != 200 || tr.Tracking.Code != code || tr.Tracking.State != "paused" ||
			tr.Tracking.DueKnown || tr.Tracking.DueDate != "" || len(tr.Tracking.Steps) != 2 || tr.Tracking.Steps[1].Note == "" ||
			tr.Tracking.Steps[0].Agency != "UBND phường Lê Chân" {
			t.Errorf("tracking JSON: got %d %+v (%v)", rec.Code, tr.Tracking, err)
		}
		if strings.Contains(rec.Body.String(), "Nguyễn Thị Hoa") || strings.Contains(rec.Body.String(), "0912") {
			t.Error("the tracking JSON holds personal data")
		}

		// An unknown code and a wrong factor answer alike, on the page and in the API.
		unknown := "HS2509-ZZZZ-ZZZZ"
		for _, c := range []struct {
			name       string
			send       func(addr, c, f string) *httptest.ResponseRecorder
			wantStatus int
		}{{"page", track, 404}, {"API", trackAPI, 404}} {
			wrong, none := c.send("203.0.113.2", code, "0000"), c.send("203.0.113.2", unknown, "0000")
			if wrong.Code != c.wantStatus || none.Code != c.wantStatus {
				t.Errorf("%s: wrong factor %d, unknown code %d; want both %d", c.name, wrong.Code, none.Code, c.wantStatus)
			}
			// The code typed is echoed in the form; with it the same, the answers are one.
			nb := strings.ReplaceAll(dossierNoID(none), unknown, code)
			if wb := dossierNoID(wrong); wb != nb {
				t.Errorf("%s: a wrong factor and an unknown code answer differently:\n%s\n---\n%s", c.name, wb, nb)
			}
			if !strings.Contains(wrong.Body.String(), "Không tìm thấy hồ sơ với mã và 4 số cuối đã nhập") &&
				!strings.Contains(wrong.Body.String(), "procedure.track_not_found") {
				t.Errorf("%s: the not-found answer says nothing useful: %.300s", c.name, wrong.Body.String())
			}
		}
		if rec := track("203.0.113.3", code, "12"); rec.Code != 422 || !strings.Contains(rec.Body.String(), "Nhập 4 số cuối") {
			t.Errorf("a 2-digit factor: got %d, want 422 with the field error", rec.Code)
		}
		problemOf(t, trackAPI("203.0.113.3", code, ""), 400, "error.invalid_input")

		// The 11th lookup in a minute from one address is refused, whatever it asks.
		for i := range 10 {
			var rec *httptest.ResponseRecorder
			other := fmt.Sprintf("HS2509-AAAA-%04d", i) // a fresh code each time: the code's own limit stays out of it
			if i%2 == 0 {
				rec = track("198.51.100.7", other, "0000")
			} else {
				rec = trackAPI("198.51.100.7", other, "5678")
			}
			if rec.Code == http.StatusTooManyRequests {
				t.Fatalf("lookup %d of 10: refused", i+1)
			}
		}
		rec = track("198.51.100.7", code, "5678")
		if s, _ := strconv.Atoi(rec.Header().Get("Retry-After")); rec.Code != 429 || s < 1 || s > 60 ||
			!strings.Contains(rec.Body.String(), "Bạn đã tra cứu quá nhiều lần") {
			t.Errorf("the 11th lookup: got %d, Retry-After %q, want 429 with a wait of 1–60 s: %.300s", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
		}
		rec = trackAPI("198.51.100.7", code, "5678")
		problemOf(t, rec, 429, "track.too_many")

		// One code, however many addresses ask: ten lookups, then it waits.
		probe := "HS2509-BBBB-CCCC"
		for i := range 10 {
			if rec := trackAPI(fmt.Sprintf("192.0.2.%d", 10+i), probe, "1234"); rec.Code == http.StatusTooManyRequests {
				t.Fatalf("lookup %d of one code: refused", i+1)
			}
		}
		problemOf(t, trackAPI("192.0.2.99", probe, "1234"), 429, "track.too_many")
		if rec.Header().Get("Retry-After") == "" {
			t.Error("the API's 429 has no Retry-After")
		}
		if rec := track("198.51.100.8", code, "5678"); rec.Code != 200 {
			t.Errorf("another address: got %d, want its own allowance", rec.Code)
		}
	})
}

func TestDossierStatistics(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		now := dossierAt(2025, 9, 8, 9, 0) // Monday: 3 working days make Thursday 11/9 the due date
		d.SetClock(func() time.Time { return now })
		a := testApp(t, d)
		p := seed(t, a)
		w := dossierSeed(t, a)
		const officer, leader = reqctx.RoleOfficer, reqctx.RoleLeader

		runScenarios(t, a, p, []scenario{
			{name: "statistics before any dossier", method: "GET", path: "/dossiers/stats", as: leader, wantStatus: 200,
				wantText: "Chưa có số liệu trong kỳ."},
			{name: "no backlog yet", method: "GET", path: "/dossiers/stats", as: leader, wantStatus: 200, wantText: "Không có hồ sơ đang giải quyết."},
		})

		// Four dossiers received on Monday: three finished, one of them late; one still open.
		recv := func(channel, phone string) dossierReply {
			return dossierReceive(t, a, p, officer, map[string]any{"procedure_id": w.birth.ID, "channel": channel, "applicant": "Công dân " + phone,
				"phone": phone})
		}
		da, db2, dc, dd := recv("desk", "0900000001"), recv("online", "0900000002"), recv("desk", "0900000003"), recv("post", "0900000004")
		finish := func(x dossierReply, at time.Time) {
			now = at
			decodeDossier(t, dossierAct(t, a, p, officer, x.Dossier.ID, map[string]any{"action": "start", "version": 1}), 200)
			decodeDossier(t, dossierAct(t, a, p, officer, x.Dossier.ID, map[string]any{"action": "approve", "version": 2}), 200)
		}
		finish(da, dossierAt(2025, 9, 9, 10, 0))
		finish(db2, dossierAt(2025, 9, 11, 16, 0)) // the due date itself: on time
		finish(dc, dossierAt(2025, 9, 15, 10, 0))  // Monday after: Friday and Monday late
		now = dossierAt(2025, 9, 15, 11, 0)

		var st struct {
			Rows []struct {
				Key        string         `json:"key"`
				Name       string         `json:"name"`
				Received   int            `json:"received"`
				Online     int            `json:"online"`
				Finished   int            `json:"finished"`
				OnTime     int            `json:"on_time"`
				LateDays   int            `json:"late_days"`
				OnTimeRate *float64       `json:"on_time_rate"`
				OnlineRate *float64       `json:"online_rate"`
				ByChannel  map[string]int `json:"by_channel"`
			} `json:"rows"`
			Backlog    map[string]int `json:"backlog"`
			Procedures map[string]int `json:"procedures"`
		}
		get := func(path string) {
			t.Helper()
			st.Rows = nil
			rec := dossierCall(t, a, p, leader, "GET", path, "", "")
			if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &st) != nil {
				t.Fatalf("GET %s: got %d: %.300s", path, rec.Code, rec.Body.String())
			}
		}
		get("/api/v1/dossier-stats?by=agency&from=202509&to=202509")
		if len(st.Rows) != 1 {
			t.Fatalf("by agency: got %d rows, want 1", len(st.Rows))
		}
		r := st.Rows[0]
		if r.Key != w.lechan.ID || r.Name != "UBND phường Lê Chân" || r.Received != 4 || r.Online != 1 || r.Finished != 3 || r.OnTime != 2 ||
			r.LateDays != 2 || r.OnTimeRate == nil || *r.OnTimeRate != 66.67 || r.OnlineRate == nil || *r.OnlineRate != 25 {
			t.Errorf("by agency: got %+v (rates %v %v); want 4 received, 1 online (25 %%), 3 finished, 2 on time (66.67 %%), 2 days late",
				r, deref(r.OnTimeRate), deref(r.OnlineRate))
		}
		if st.Backlog["open"] != 1 || st.Backlog["overdue"] != 1 || st.Procedures["total"] != 2 || st.Procedures["online"] != 2 || st.Procedures["full_online"] != 1 {
			t.Errorf("backlog %v, procedures %v; want 1 open and overdue, 2 procedures online, 1 fully", st.Backlog, st.Procedures)
		}
		get("/api/v1/dossier-stats?by=channel&from=2025-09&to=2025-09")
		channels := map[string]int{}
		for _, r := range st.Rows {
			channels[r.Key] = r.Received
		}
		if fmt.Sprint(channels) != "map[desk:2 online:1 post:1]" {
			t.Errorf("by channel: got %v", channels)
		}
		get("/api/v1/dossier-stats?by=month")
		if len(st.Rows) != 1 || st.Rows[0].Key != "202509" || st.Rows[0].Name != "09/2025" {
			t.Errorf("by month: got %+v", st.Rows)
		}
		get("/api/v1/dossier-stats?by=agency&from=202510")
		if len(st.Rows) != 0 {
			t.Errorf("October: got %+v, want no rows", st.Rows)
		}
		runScenarios(t, a, p, []scenario{
			{name: "a month with nothing has no rates", method: "GET", path: "/api/v1/dossier-stats?from=202510", as: leader, wantStatus: 200,
				wantText: `"on_time_rate":null`},
			{name: "an unknown grouping", method: "GET", path: "/api/v1/dossier-stats?by=province", as: leader, wantStatus: 400, wantCode: "error.invalid_input"},
			{name: "a month that is not", method: "GET", path: "/api/v1/dossier-stats?from=202513", as: leader, wantStatus: 400, wantCode: "error.invalid_input"},
			{name: "a range backwards", method: "GET", path: "/api/v1/dossier-stats?from=202512&to=202507", as: leader, wantStatus: 400,
				wantText: "stats.range_invalid"},
			{name: "a viewer may not read them", method: "GET", path: "/api/v1/dossier-stats", as: reqctx.RoleViewer, wantStatus: 403},
			{name: "the overdue list has the open one", method: "GET", path: "/dossiers?state=overdue", as: officer, wantStatus: 200, wantText: dd.Dossier.Code},
			{name: "the late one says how late", method: "GET", path: "/dossiers/" + dc.Dossier.ID, as: officer, wantStatus: 200,
				wantText: "Trễ 2 ngày làm việc"},
		})
		page := dossierCall(t, a, p, leader, "GET", "/dossiers/stats?from=2025-09&to=2025-09", "", "").Body.String()
		for _, want := range []string{"66,7 %", "25,0 %", "Chưa đạt", "Mục tiêu trên 90 %", "Mục tiêu 70 % (xuất phát 27,4 %)",
			"Từ tháng 09/2025 đến tháng 09/2025", "UBND phường Lê Chân", "2 / 2", `href="/dossiers?agency=` + w.lechan.ID + `&amp;state=overdue"`,
			"Qua dịch vụ bưu chính công ích", "Chưa xác định phường, xã", `href="/dossiers/stats.xlsx?from=09%2F2025&amp;to=09%2F2025"`, `value="09/2025"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the statistics page lacks %q", want)
			}
		}
		overdueTab := dossierCall(t, a, p, officer, "GET", "/dossiers?state=overdue", "", "").Body.String()
		for _, c := range []string{da.Dossier.Code, db2.Dossier.Code, dc.Dossier.Code} {
			if strings.Contains(overdueTab, c) {
				t.Errorf("the overdue tab lists the finished %s", c)
			}
		}

		// The workbook holds the same figures.
		for _, lang := range []struct {
			cookie, summary, byAgency, agencyHead string
		}{{"", "Tổng hợp", "Theo cơ quan", "Cơ quan"}, {"en", "Summary", "By agency", "Agency"}} {
			req := httptest.NewRequest("GET", "/dossiers/stats.xlsx?from=2025-09&to=2025-09", nil)
			req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[leader].Username)})
			if lang.cookie != "" {
				req.AddCookie(&http.Cookie{Name: web.LangCookie, Value: lang.cookie})
			}
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, req)
			if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Type"), "spreadsheetml") ||
				!strings.Contains(rec.Header().Get("Content-Disposition"), "thong-ke-ho-so-202509-202509.xlsx") {
				t.Fatalf("workbook: got %d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"))
			}
			f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if sheets := f.GetSheetList(); len(sheets) != 7 || sheets[0] != lang.summary || sheets[1] != lang.byAgency {
				t.Errorf("sheets: got %q", sheets)
			}
			rows, err := f.GetRows(lang.byAgency)
			if err != nil {
				t.Fatal(err)
			}
			want := [][]string{{lang.agencyHead}, {"UBND phường Lê Chân", "4", "1", "25", "3", "2", "66.7", "2"}}
			if len(rows) != 2 || rows[0][0] != want[0][0] || !slices.Equal(rows[1], want[1]) {
				t.Errorf("%s: got %q, want the header and %q", lang.byAgency, rows, want[1])
			}
			summary, _ := f.GetRows(lang.summary)
			if len(summary) < 5 || len(summary[3]) < 2 || summary[3][1] != "66.7" || summary[4][1] != "25" {
				t.Errorf("%s: got %q, want the on-time rate 66.7 and the online rate 25", lang.summary, summary)
			}
			f.Close()
		}
	})
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// dossierCodeRE finds dossier codes on a page.
var dossierCodeRE = regexp.MustCompile(`HS\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`)

// dossierRawKey finds an i18n key of the dossier pages shown as text: in an
// element or an attribute, not in a path ("/dossiers/stats.xlsx").
var dossierRawKey = regexp.MustCompile(`[>"\s](?:dossier|track|stats|flash|procedure|common|error|status)\.[a-z_.0-9]+[<"\s]`)
