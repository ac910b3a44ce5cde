package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/merger"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

// The weekly report: a printable page and a workbook that reads back with
// the same figures.
func TestWeeklyReport(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		clock := &dbtest.Clock{T: time.Date(2025, 8, 20, 3, 0, 0, 0, time.UTC)}
		d.SetClock(clock.Now)
		a := testApp(t, d)
		p := seed(t, a)
		ctx := reqctx.WithActor(context.Background(), "user:u.coordinator")
		m, err := a.merger.CreateMerger(ctx, merger.MergerInput{Name: "Thành phố Hải Phòng", ProvinceCode: "31",
			EffectiveOn: time.Date(2025, 6, 30, 17, 0, 0, 0, time.UTC),
			Sources:     []merger.Source{{ProvinceCode: "31", Name: "Hải Phòng"}, {ProvinceCode: "30", Name: "Hải Dương"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.merger.ApplyTemplate(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		x, err := a.merger.CreateSystem(ctx, merger.System{MergerID: m.ID, Category: merger.CatLGSP, ProvinceCode: "30", Name: "LGSP Hải Dương"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.merger.Decide(ctx, merger.Decision{SystemID: x.ID, Outcome: merger.Backup, Until: time.Date(2025, 8, 30, 17, 0, 0, 0, time.UTC)}, 0); err != nil {
			t.Fatal(err)
		}
		tasks, _ := a.merger.Tasks(ctx, m.ID)
		first := tasks[0]
		first.Status = merger.Done
		if _, err := a.merger.UpdateTask(ctx, first.ID, first, first.Version); err != nil {
			t.Fatal(err)
		}
		runScenarios(t, a, p, []scenario{
			{name: "report page", method: "GET", path: "/mergers/" + m.ID + "/report", as: reqctx.RoleLeader, wantStatus: 200, wantText: "Báo cáo tuần"},
			{name: "report lists the overdue", method: "GET", path: "/mergers/" + m.ID + "/report", as: reqctx.RoleLeader, wantStatus: 200,
				wantText: `id="report-overdue"`},
			{name: "report shows the decision", method: "GET", path: "/mergers/" + m.ID + "/report", as: reqctx.RoleLeader, wantStatus: 200,
				wantText: "Dự phòng đến ngày 31/08/2025"},
			{name: "unknown merger", method: "GET", path: "/mergers/mg_nope/report.xlsx", as: reqctx.RoleLeader, wantStatus: 404},
		})
		req := httptest.NewRequest("GET", "/mergers/"+m.ID+"/report.xlsx", nil)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[reqctx.RoleLeader].Username)})
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("workbook: got %d", rec.Code)
		}
		f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.GetSheetList(); len(got) != 3 || got[0] != "Tiến độ theo giai đoạn" || got[2] != "Quyết định" {
			t.Fatalf("sheets: %v", got)
		}
		prog, _ := f.GetRows("Tiến độ theo giai đoạn")
		if len(prog) < 3 || prog[1][0] != "Giai đoạn" || prog[2][0] != "Chuẩn bị" || prog[2][2] != "1" {
			t.Fatalf("progress sheet: %v", prog)
		}
		dec, _ := f.GetRows("Quyết định")
		if len(dec) != 2 || dec[1][0] != "LGSP Hải Dương" || !strings.HasPrefix(dec[1][2], "Dự phòng") || dec[1][3] != "31/08/2025" {
			t.Fatalf("decisions sheet: %v", dec)
		}
		tasksSheet, _ := f.GetRows("Nhiệm vụ")
		found := false
		for _, r := range tasksSheet {
			if len(r) > 7 && r[0] == first.Title && r[7] == "Hoàn thành trong tuần" {
				found = true
			}
		}
		if !found {
			t.Fatalf("the task done this week is not in the workbook: %v", tasksSheet)
		}
	})
}

// The inventory and roadmap workbook: downloaded, filled in, uploaded; a bad
// one is answered with its problems.
func TestMergerWorkbookPages(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		p := seed(t, a)
		ctx := reqctx.WithActor(context.Background(), "user:u.coordinator")
		m, err := a.merger.CreateMerger(ctx, merger.MergerInput{Name: "Thành phố Hải Phòng", ProvinceCode: "31",
			Sources: []merger.Source{{ProvinceCode: "31", Name: "Hải Phòng"}, {ProvinceCode: "30", Name: "Hải Dương"}}})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/mergers/"+m.ID+"/workbook.xlsx", nil)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[reqctx.RoleViewer].Username)})
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
		if rec.Code != 200 || err != nil {
			t.Fatalf("template: %d %v", rec.Code, err)
		}
		f.SetSheetRow("Hệ thống", "A2", &[]any{"", "lgsp", "30", "LGSP Hải Dương"})
		var good bytes.Buffer
		f.Write(&good)
		f.SetSheetRow("Hệ thống", "A3", &[]any{"", "lgsp", "99", ""})
		var bad bytes.Buffer
		f.Write(&bad)
		goodBody, goodCT := multipartBody(t, "mau.xlsx", good.String(), nil)
		badBody, badCT := multipartBody(t, "mau.xlsx", bad.String(), nil)
		runScenarios(t, a, p, []scenario{
			{name: "import page", method: "GET", path: "/mergers/" + m.ID + "/import", as: reqctx.RoleCoordinator, wantStatus: 200, wantText: "Kiểm tra và nhập"},
			{name: "bad workbook", method: "POST", path: "/mergers/" + m.ID + "/import", as: reqctx.RoleCoordinator,
				contentType: badCT, body: badBody, wantStatus: 422, wantText: "Tệp có 2 lỗi"},
			{name: "good workbook", method: "POST", path: "/mergers/" + m.ID + "/import", as: reqctx.RoleCoordinator,
				contentType: goodCT, body: goodBody, wantStatus: 303},
			{name: "viewers may not import", method: "POST", path: "/mergers/" + m.ID + "/import", as: reqctx.RoleViewer,
				contentType: goodCT, body: goodBody, wantStatus: 403},
		})
		if all, _ := a.merger.Systems(ctx, m.ID, ""); len(all) != 1 || all[0].Name != "LGSP Hải Dương" {
			t.Fatalf("after the imports: %+v", all)
		}
	})
}
