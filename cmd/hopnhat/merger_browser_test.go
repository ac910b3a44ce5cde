package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/merger"
	"hopnhat/internal/org"
	"hopnhat/internal/platform/browsertest"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

// TestMergerPagesBrowser drives the merger workspace through headless
// Chromium as a merger coordinator would: record the Hải Phòng + Hải Dương
// merger, add Hải Dương's document-management system with two functions of
// its checklist, find it in the inventory matrix, and edit it; then score it
// and Hải Phòng's against each other, see the recommendation, and record a
// decision, change it and find both versions in its history; fill the
// roadmap from the template, finish one task and follow it on the dashboard;
// add a late task for an agency of the register and find it overdue there;
// download the weekly report's workbook and read its cells; rename the
// merger.
func TestMergerPagesBrowser(t *testing.T) {
	browser := browsertest.Browser(t, 2*time.Minute)
	d := dbtest.SQLite(t, modules())
	a := testApp(t, d)
	seed(t, a)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)

	w := &mergerWalk{a: a}
	p := newTab(t, browser, srv.URL)
	steps := []struct {
		name string
		fn   func(t *testing.T, p *tab)
	}{
		{"sign in as a coordinator", mergerSignIn},
		{"record the merger", w.create},
		{"add a system of an old province", w.addSystem},
		{"see it in the matrix", w.matrix},
		{"edit it", w.edit},
		{"a save after someone else's", w.stale},
		{"score two candidates and compare them", w.compare},
		{"record a decision and change it", w.decide},
		{"apply the roadmap template and finish a task", w.roadmap},
		{"follow the roadmap on the dashboard", w.dashboard},
		{"add a late task for an agency and see it overdue", w.lateTask},
		{"export the weekly report and read the workbook", w.reportWorkbook},
		{"rename the merger", w.renameMerger},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { p.t = t; s.fn(t, p) }) {
			return // each step stands on the previous one's session and data
		}
	}
}

// mergerWalk carries what one step of the walk made to the next.
type mergerWalk struct {
	a                          *app
	mergerID, systemID, taskID string
}

// noRawMergerKeys fails when the page shows one of the workspace's i18n
// keys instead of its text.
func noRawMergerKeys(p *tab) {
	p.t.Helper()
	if got := p.eval(`[...document.body.innerText.matchAll(/\b(?:merger|nav|flash|confirm|common|error)\.[a-z_.]+\b/g)].map(m => m[0]).join(" ")`); got != "" {
		p.t.Errorf("page %s shows untranslated keys: %s", p.location(), got)
	}
}

// noSideScroll fails when the page is wider than the window.
func noSideScroll(p *tab) {
	p.t.Helper()
	if got := p.eval(`(e => e.scrollWidth > e.clientWidth ? e.scrollWidth + "px in " + e.clientWidth + "px" : "")(document.documentElement)`); got != "" {
		p.t.Errorf("%s scrolls sideways: %s", p.location(), got)
	}
}

func mergerSignIn(t *testing.T, p *tab) {
	p.open("/mergers")
	p.wantPath("/login")
	p.fill("username", "u.coordinator")
	p.fill("password", testPassword)
	if got := p.submit("login-submit"); got != http.StatusOK {
		t.Fatalf("sign in: got status %d, want 200", got)
	}
	p.wantPath("/mergers")
	p.wantText("h1", "Sáp nhập tỉnh")
	p.wantText(".main-nav", "Sáp nhập tỉnh")
	p.wantText("#mergers-empty", "Chưa có cuộc sáp nhập nào được khai báo.")
	noRawMergerKeys(p)
	p.shot("mergers_empty.png")
}

func (w *mergerWalk) create(t *testing.T, p *tab) {
	p.fill("name", "Thành phố Hải Phòng")
	p.fill("province_code", "3") // one digit: refused
	p.fill("effective_on", "01/07/2025")
	p.fill("sources", "31 Hải Phòng\n30 Hải Dương")
	if got := p.submit("create-merger"); got != http.StatusUnprocessableEntity {
		t.Errorf("a one-digit province code: got status %d, want 422", got)
	}
	p.wantText("#form-error", "kiểm tra các trường được đánh dấu")
	p.wantText("#err-province_code", "Mã tỉnh gồm đúng 2 chữ số.")
	if got := p.value("sources"); got != "31 Hải Phòng\n30 Hải Dương" {
		t.Errorf("old provinces after a refused save: got %q, want them kept", got)
	}
	noRawMergerKeys(p)
	p.shot("merger_form_error.png")

	p.fill("province_code", "31")
	if got := p.submit("create-merger"); got != http.StatusOK {
		t.Fatalf("record the merger: got status %d, want 200", got)
	}
	w.mergerID = strings.TrimPrefix(p.eval(`location.pathname`), "/mergers/")
	if !strings.HasPrefix(w.mergerID, "mg_") {
		t.Fatalf("after recording: at %s, want the merger's page", p.location())
	}
	p.wantText(".flash.ok", "Đã khai báo sáp nhập.")
	p.wantText("h1", "Thành phố Hải Phòng")
	p.wantText("#merger-facts", "hiệu lực từ 01/07/2025")
	p.wantText("#merger-facts", "Hải Phòng 31, Hải Dương 30")
	if n := p.count("#inventory tbody tr"); n != 18 {
		t.Errorf("matrix rows: got %d, want the 18 categories", n)
	}
	p.wantText("#row-ioc", "IOC – Trung tâm điều hành thông minh")
	p.wantText("#row-feedback_1022", "Phản ánh kiến nghị 1022")
	p.wantText("#inventory-summary", "Đã khai báo 0 hệ thống; còn 34 ô")
	noRawMergerKeys(p)
}

func (w *mergerWalk) addSystem(t *testing.T, p *tab) {
	if got := p.click("add-system-30"); got != http.StatusOK {
		t.Fatalf("the system form: got status %d, want 200", got)
	}
	p.wantPath("/mergers/" + w.mergerID + "/systems/new")
	p.wantText("h1", "Thêm hệ thống")
	if got := p.value("province_code"); got != "30" {
		t.Errorf("old province of the column's link: got %q, want 30", got)
	}
	p.wantText("#checklist-pick", "Chọn nhóm hệ thống")
	// Choosing the category fetches its checklist into the form.
	p.fill("category", "documents")
	p.eval(`document.getElementById("category").dispatchEvent(new Event("change", {bubbles: true})), ""`)
	p.run(chromedp.WaitVisible(chromedp.ID("fn-0")))
	if got := p.eval(`[...document.querySelectorAll("#functions input[type=checkbox]")].map(e => e.value).join(" | ")`); !strings.HasPrefix(got, "Văn bản đến | Văn bản đi | Chữ ký số") {
		t.Errorf("the documents checklist: got %q", got)
	}
	p.fill("name", "Quản lý văn bản và điều hành Hải Dương")
	p.fill("vendor", "VNPT")
	p.fill("technology", ".NET, SQL Server")
	p.fill("deployed_year", "2016")
	p.fill("investment", "leased")
	p.fill("users", "6.200")
	p.fill("db_engine", "SQL Server")
	p.fill("db_size_mb", "900000")
	p.fill("records", "2.100.000")
	p.run(chromedp.Click(chromedp.ID("fn-0")))
	p.run(chromedp.Click(chromedp.ID("fn-1")))
	p.fill("other_functions", "Ký số trên thiết bị di động")
	p.fill("integrations", "LGSP Hải Dương\nTrục liên thông văn bản quốc gia")
	p.fill("contract_end", "31/12/2025")
	p.fill("deployed_year", "216") // a typo: refused
	p.fill("db_size_mb", "900 GB") // not a number: refused
	if got := p.submit("save-system"); got != http.StatusUnprocessableEntity {
		t.Errorf("a bad year and size: got status %d, want 422", got)
	}
	p.wantText("#err-deployed_year", "Năm triển khai là một năm từ 1990 đến 2100")
	p.wantText("#err-db_size_mb", "Số không hợp lệ.")
	if got := p.eval(`[...document.querySelectorAll("#functions input:checked")].map(e => e.value).join(" | ")`); got != "Văn bản đến | Văn bản đi" {
		t.Errorf("ticked functions after a refused save: got %q, want them kept", got)
	}
	noRawMergerKeys(p)
	p.shot("system_form_error.png")
	p.fill("deployed_year", "2016")
	p.fill("db_size_mb", "900000")
	p.shot("system_form.png")
	if got := p.submit("save-system"); got != http.StatusOK {
		t.Fatalf("save: got status %d, want 200", got)
	}
	w.systemID = strings.TrimPrefix(p.eval(`location.pathname`), "/systems/")
	if !strings.HasPrefix(w.systemID, "sy_") {
		t.Fatalf("after saving: at %s, want the system's page", p.location())
	}
	p.wantText(".flash.ok", "Đã thêm hệ thống vào danh mục hiện trạng.")
	p.wantText("h1", "Quản lý văn bản và điều hành Hải Dương")
	p.wantText("#system-category", "Quản lý văn bản và điều hành")
	p.wantText("#system-fields", "Thuê dịch vụ")
	p.wantText("#system-fields", "6.200")
	p.wantText("#system-fields", "31/12/2025")
	p.wantText("#system-database", "2.100.000")
	if got := p.eval(`[...document.querySelectorAll("#functions-list li")].map(e => e.innerText).join(" | ")`); got != "Văn bản đến | Văn bản đi | Ký số trên thiết bị di động" {
		t.Errorf("functions: got %q", got)
	}
	p.wantText("#system-functions", "Liên thông văn bản quốc gia")
	noRawMergerKeys(p)
	p.shot("system.png")
}

func (w *mergerWalk) matrix(t *testing.T, p *tab) {
	p.open("/mergers/" + w.mergerID)
	cell := func(cat, province string) string {
		return p.eval(`(td => td ? td.innerText.trim() : "<none>")(document.querySelector("#row-` + cat + ` td[data-label='` + province + `']"))`)
	}
	if got := cell("documents", "Hải Dương"); !strings.Contains(got, "Quản lý văn bản và điều hành Hải Dương") || !strings.Contains(got, "VNPT · năm 2016 · 6.200 người dùng") {
		t.Errorf("documents of Hải Dương: got %q", got)
	}
	if got := cell("documents", "Hải Phòng"); !strings.HasPrefix(got, "chưa khai báo") {
		t.Errorf("documents of Hải Phòng: got %q, want it not recorded", got)
	}
	p.wantText("#col-30", "1 hệ thống")
	p.wantText("#inventory-summary", "Đã khai báo 1 hệ thống; còn 33 ô")
	noRawMergerKeys(p)
	p.shot("merger_matrix.png")

	p.open("/mergers")
	p.wantText("#mergers", "Thành phố Hải Phòng")
	p.wantText("#mergers", "01/07/2025")
	p.shot("mergers.png")

	// On a phone: one card per category, nothing off the right edge.
	p.run(chromedp.EmulateViewport(390, 844))
	p.open("/mergers/" + w.mergerID)
	noSideScroll(p)
	p.shot("merger_matrix_phone.png")
	p.open("/systems/" + w.systemID)
	noSideScroll(p)
	p.shot("system_phone.png")
	p.open("/systems/" + w.systemID + "/edit")
	noSideScroll(p)
	p.shot("system_form_phone.png")
	p.open("/mergers")
	noSideScroll(p)
	p.shot("mergers_phone.png")
	p.run(chromedp.EmulateViewport(1280, 900))

	p.open("/mergers/" + w.mergerID)
	p.click("lang-toggle")
	p.wantText("#row-documents", "Document management and direction")
	p.wantText("#row-documents", "VNPT · deployed 2016 · 6,200 users")
	noRawMergerKeys(p)
	p.shot("merger_matrix_en.png")
	p.click("lang-toggle")
	p.wantText("h2", "Hiện trạng hệ thống dùng chung")
}

func (w *mergerWalk) edit(t *testing.T, p *tab) {
	p.open("/systems/" + w.systemID)
	if got := p.click("edit-system"); got != http.StatusOK {
		t.Fatalf("the edit form: got status %d, want 200", got)
	}
	p.wantPath("/systems/" + w.systemID + "/edit")
	p.wantText("h1", "Sửa hệ thống: Quản lý văn bản và điều hành Hải Dương")
	if got := p.eval(`document.querySelector("input[name=version]").value`); got != "1" {
		t.Errorf("version in the form: got %q, want 1", got)
	}
	if got := p.eval(`[...document.querySelectorAll("#functions input:checked")].map(e => e.value).join(" | ")`); got != "Văn bản đến | Văn bản đi" {
		t.Errorf("ticked functions: got %q", got)
	}
	if got := p.value("users"); got != "6200" {
		t.Errorf("users in the form: got %q, want 6200", got)
	}
	p.fill("users", "6400")
	p.run(chromedp.Click(chromedp.ID("fn-1"))) // Văn bản đi no longer
	p.run(chromedp.Click(chromedp.ID("fn-2"))) // Chữ ký số
	if got := p.submit("save-system"); got != http.StatusOK {
		t.Fatalf("save: got status %d, want 200", got)
	}
	p.wantPath("/systems/" + w.systemID)
	p.wantText(".flash.ok", "Đã lưu thông tin hệ thống.")
	p.wantText("#system-fields", "6.400")
	p.wantText("#system-fields", "phiên bản 2")
	if got := p.eval(`[...document.querySelectorAll("#functions-list li")].map(e => e.innerText).join(" | ")`); got != "Văn bản đến | Chữ ký số | Ký số trên thiết bị di động" {
		t.Errorf("functions after the edit: got %q", got)
	}
	noRawMergerKeys(p)
	p.shot("system_edited.png")

	p.open("/mergers/" + w.mergerID)
	p.wantText("#row-documents", "6.400 người dùng")
}

func (w *mergerWalk) stale(t *testing.T, p *tab) {
	p.open("/systems/" + w.systemID + "/edit")
	// Another coordinator saves while this form is open.
	ctx := reqctx.WithActor(context.Background(), "user:other")
	x, err := w.a.merger.System(ctx, w.systemID)
	if err != nil {
		t.Fatal(err)
	}
	x.Vendor = "VNPT Hải Dương"
	if _, err := w.a.merger.UpdateSystem(ctx, x.ID, x, x.Version); err != nil {
		t.Fatal(err)
	}
	p.fill("vendor", "VNPT-IT")
	if got := p.submit("save-system"); got != http.StatusConflict {
		t.Errorf("a save after someone else's: got status %d, want 409", got)
	}
	p.wantText("#form-error", "Người khác vừa sửa hệ thống này")
	p.wantText("#stored", "VNPT Hải Dương")
	if got := p.value("vendor"); got != "VNPT-IT" {
		t.Errorf("vendor after the conflict: got %q, want what was typed", got)
	}
	noRawMergerKeys(p)
	p.shot("system_form_conflict.png")
	// Saving again, having seen the other change, goes through.
	if got := p.submit("save-system"); got != http.StatusOK {
		t.Fatalf("save again: got status %d, want 200", got)
	}
	p.wantText("#system-fields", "VNPT-IT")
	p.wantText("#system-fields", "phiên bản 4")
}

func (w *mergerWalk) compare(t *testing.T, p *tab) {
	ctx := reqctx.WithActor(context.Background(), "user:other")
	hp, err := w.a.merger.CreateSystem(ctx, merger.System{MergerID: w.mergerID, Category: merger.CatDocuments, ProvinceCode: "31",
		Name: "Quản lý văn bản Hải Phòng", Vendor: "Viettel"})
	if err != nil {
		t.Fatal(err)
	}
	p.open("/mergers/" + w.mergerID)
	if got := p.click("compare-documents"); got != http.StatusOK {
		t.Fatalf("the comparison: got status %d, want 200", got)
	}
	p.wantPath("/mergers/" + w.mergerID + "/compare/documents")
	p.wantText("#flag-missing-"+hp.ID, "Còn thiếu điểm: Chức năng, tính năng")
	p.shot("compare_unscored.png")

	// Only functions and technology count, functions three times as much.
	for c, v := range map[string]string{"functions": "3", "technology": "1", "deployment": "0", "investment": "0", "users": "0", "database": "0"} {
		p.fill("weight-"+c, v)
	}
	if got := p.submit("save-weights"); got != http.StatusOK {
		t.Fatalf("save the weights: got status %d, want 200", got)
	}
	p.wantText(".flash.ok", "Đã lưu trọng số các tiêu chí.")
	for _, s := range []struct{ id, crit, score, evidence string }{
		{w.systemID, "functions", "5", "Đủ chức năng, liên thông văn bản quốc gia"},
		{w.systemID, "technology", "4", ".NET, SQL Server"},
		{hp.ID, "functions", "3", "Thiếu ký số trên di động"},
		{hp.ID, "technology", "4", "Java, PostgreSQL"},
	} {
		p.fill("score-criterion-"+s.id, s.crit)
		p.fill("score-value-"+s.id, s.score)
		p.fill("score-evidence-"+s.id, s.evidence)
		if got := p.submit("save-score-" + s.id); got != http.StatusOK {
			t.Fatalf("score %s: got status %d, want 200", s.crit, got)
		}
		p.wantText(".flash.ok", "Đã lưu điểm.")
	}
	p.wantText("#recommended", "Đề xuất: Quản lý văn bản và điều hành Hải Dương")
	p.wantText("#total-"+w.systemID, "4,75")
	p.wantText("#total-"+hp.ID, "3,25")
	p.wantText("#crit-functions", "Thiếu ký số trên di động")
	p.wantText("#crit-users", "chưa chấm")
	if n := p.count("[id^=flag-]"); n != 0 {
		t.Errorf("flags once every weighted criterion is scored: got %d, want 0", n)
	}
	noRawMergerKeys(p)
	p.shot("compare.png")

	p.run(chromedp.EmulateViewport(390, 844))
	p.open("/mergers/" + w.mergerID + "/compare/documents")
	noSideScroll(p)
	p.shot("compare_phone.png")
	p.run(chromedp.EmulateViewport(1280, 900))
}

func (w *mergerWalk) decide(t *testing.T, p *tab) {
	p.open("/systems/" + w.systemID)
	p.wantText("#undecided", "Hệ thống này chưa có quyết định.")
	p.fill("outcome", "keep")
	p.fill("doc_number", "1234/QĐ-UBND")
	p.fill("doc_date", "15/06/2025")
	p.fill("signer", "Chủ tịch UBND thành phố")
	p.fill("rationale", "Điểm cao nhất khi so sánh")
	if got := p.submit("save-decision"); got != http.StatusOK {
		t.Fatalf("decide: got status %d, want 200", got)
	}
	p.wantText(".flash.ok", "Đã ghi quyết định.")
	p.wantText("#decision-outcome", "Giữ làm hệ thống dùng chung")
	p.wantText("#decision-current", "15/06/2025")

	p.fill("outcome", "backup")
	p.fill("until", "31/12/2025")
	p.fill("doc_number", "1500/QĐ-UBND")
	p.fill("doc_date", "01/07/2025")
	if got := p.submit("save-decision"); got != http.StatusOK {
		t.Fatalf("change the decision: got status %d, want 200", got)
	}
	p.wantText("#decision-current", "Dự phòng đến ngày 31/12/2025")
	if got := p.eval(`[...document.querySelectorAll("#decision-history tbody tr")].map(r => r.id).join(" ")`); got != "history-2 history-1" {
		t.Errorf("decision history: got %q, want both versions, newest first", got)
	}
	p.wantText("#history-1", "1234/QĐ-UBND")
	p.wantText("#history-2", "1500/QĐ-UBND")
	noRawMergerKeys(p)
	p.shot("system_decision.png")

	p.run(chromedp.EmulateViewport(390, 844))
	p.open("/systems/" + w.systemID)
	noSideScroll(p)
	p.shot("system_decision_phone.png")
	p.open("/mergers/" + w.mergerID)
	noSideScroll(p)
	p.shot("merger_decisions_phone.png")
	p.run(chromedp.EmulateViewport(1280, 900))

	p.open("/mergers/" + w.mergerID)
	p.wantText("#decision-"+w.systemID, "Dự phòng đến ngày 31/12/2025")
	p.wantText("#decisions", "chưa quyết định")
	p.shot("merger_decisions.png")
}

func (w *mergerWalk) roadmap(t *testing.T, p *tab) {
	p.open("/mergers/" + w.mergerID)
	if got := p.click("open-roadmap"); got != http.StatusOK {
		t.Fatalf("open the roadmap: got status %d, want 200", got)
	}
	p.wantPath("/mergers/" + w.mergerID + "/roadmap")
	p.wantText("#roadmap-empty", "Tạo lộ trình theo mẫu")
	if got := p.submit("apply-template"); got != http.StatusOK {
		t.Fatalf("apply the template: got status %d, want 200", got)
	}
	p.wantText(".flash.ok", "Đã tạo lộ trình theo mẫu.")
	if n := p.count("#tasks tbody tr"); n != 12 {
		t.Errorf("roadmap rows: got %d, want the template's 12 steps", n)
	}
	p.wantText("#tasks", "Chưa bắt đầu")
	noRawMergerKeys(p)
	p.shot("roadmap.png")

	if got := p.submit("apply-template"); got != http.StatusConflict {
		t.Errorf("the template twice: got status %d, want 409", got)
	}
	p.wantText("#roadmap-error", "Lộ trình đã có nhiệm vụ")

	w.taskID = p.attr("#tasks tbody tr", "id")[len("task-"):]
	if got := p.click("edit-" + w.taskID); got != http.StatusOK {
		t.Fatalf("open the task form: got status %d, want 200", got)
	}
	p.fill("status", "done")
	p.fill("evidence", "Danh sách thư điện tử đã gửi ngày 10/05/2025")
	p.fill("progress", "200") // refused, even though done counts as 100
	if got := p.submit("save-task"); got != http.StatusUnprocessableEntity {
		t.Errorf("a progress of 200: got status %d, want 422", got)
	}
	p.wantText("#err-progress", "Tiến độ từ 0 đến 100 %.")
	noRawMergerKeys(p)
	p.shot("task_form_error.png")
	p.fill("progress", "100")
	if got := p.submit("save-task"); got != http.StatusOK {
		t.Fatalf("save the task: got status %d, want 200", got)
	}
	p.wantText(".flash.ok", "Đã lưu nhiệm vụ.")
	p.wantText("#task-"+w.taskID, "Hoàn thành")
	p.wantText("#task-"+w.taskID, "100 %")

	p.run(chromedp.EmulateViewport(390, 844))
	p.open("/mergers/" + w.mergerID + "/roadmap")
	noSideScroll(p)
	p.shot("roadmap_phone.png")
	p.open("/tasks/" + w.taskID + "/edit")
	noSideScroll(p)
	p.shot("task_form_phone.png")
	p.run(chromedp.EmulateViewport(1280, 900))
}

func (w *mergerWalk) dashboard(t *testing.T, p *tab) {
	p.open("/mergers/" + w.mergerID + "/roadmap")
	if got := p.click("open-dashboard"); got != http.StatusOK {
		t.Fatalf("open the dashboard: got status %d, want 200", got)
	}
	p.wantPath("/mergers/" + w.mergerID + "/dashboard")
	p.wantText("h1", "Bảng theo dõi tiến độ")
	p.wantText("#phases", "Chuẩn bị")
	if n := p.count("#phases svg.progress-bar"); n == 0 {
		t.Errorf("progress bars: got none, want one per phase")
	}
	// The template's first phase has three steps, one of them done.
	p.wantText("#phase-0", "33 %")
	if got := p.attr("#phase-0 svg.progress-bar rect:last-child", "width"); got != "33.3" {
		t.Errorf("first phase's bar: got width %q, want 33.3", got)
	}
	if n := p.count("#gantt g[id^=bar-]"); n != 12 {
		t.Errorf("timeline rows: got %d, want 12", n)
	}
	if got := p.eval(`String(document.querySelector("#gantt").getBoundingClientRect().width > 0)`); got != "true" {
		t.Errorf("the timeline is not drawn")
	}
	noRawMergerKeys(p)
	p.shot("dashboard.png")

	p.run(chromedp.EmulateViewport(390, 844))
	p.open("/mergers/" + w.mergerID + "/dashboard")
	noSideScroll(p)
	p.shot("dashboard_phone.png")
	p.run(chromedp.EmulateViewport(1280, 900))
}

func (w *mergerWalk) lateTask(t *testing.T, p *tab) {
	// The register has the merged city's agencies: the form offers them.
	ctx := reqctx.WithActor(context.Background(), "user:test")
	if _, err := w.a.org.Create(ctx, org.Input{Name: "Sở Tư pháp", Kind: org.KindDepartment, Period: org.Current,
		ProvinceCode: "31", ValidFrom: adminunit.ReformDate}); err != nil {
		t.Fatal(err)
	}
	p.open("/mergers/" + w.mergerID + "/roadmap")
	if got := p.click("add-task"); got != http.StatusOK {
		t.Fatalf("open the new task form: got status %d, want 200", got)
	}
	p.fill("title", "Chuyển dữ liệu hộ tịch của Hải Dương")
	p.fill("phase", "Dữ liệu chuyên ngành")
	p.fill("owner_agency", p.eval(`[...document.querySelectorAll("#owner_agency option")].find(o => o.text === "Sở Tư pháp").value`))
	yesterday := time.Now().In(vnTime).AddDate(0, 0, -1)
	p.fill("start", yesterday.AddDate(0, -1, 0).Format("02/01/2006"))
	p.fill("deadline", yesterday.Format("02/01/2006"))
	p.fill("status", "in_progress")
	p.fill("progress", "70")
	if got := p.submit("save-task"); got != http.StatusOK {
		t.Fatalf("save the task: got status %d, want 200", got)
	}
	p.wantText(".flash.ok", "Đã thêm nhiệm vụ")

	p.open("/mergers/" + w.mergerID + "/dashboard")
	p.wantText("#overdue-list", "Chuyển dữ liệu hộ tịch của Hải Dương")
	p.wantText("#overdue-list", "Sở Tư pháp")
	p.wantText("#agencies", "Sở Tư pháp")
	if got := p.eval(`[...document.querySelectorAll("#agencies tbody tr")].find(r => r.innerText.includes("Sở Tư pháp")).querySelector(".pct").innerText`); got != "70 %" {
		t.Errorf("the agency's progress: got %q, want 70 %%", got)
	}
	noRawMergerKeys(p)
	p.shot("dashboard_agencies.png")
}

// vnTime is Vietnam's clock, for the days typed into forms.
var vnTime = time.FixedZone("ICT", 7*3600)

func (w *mergerWalk) reportWorkbook(t *testing.T, p *tab) {
	p.open("/mergers/" + w.mergerID)
	if got := p.click("open-report"); got != http.StatusOK {
		t.Fatalf("open the report: got status %d, want 200", got)
	}
	p.wantText("#report-overdue", "Chuyển dữ liệu hộ tịch của Hải Dương")
	p.wantText("#report-agencies", "Sở Tư pháp")
	noRawMergerKeys(p)
	p.shot("report.png")

	// Download the workbook the page links, with the browser's session.
	href := p.attr("#report-xlsx", "href")
	ctx, cancel := p.step()
	defer cancel()
	b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+strconv.Quote(href)+`).then(r => {
  if (!r.ok || !r.headers.get("Content-Type").startsWith("application/vnd.openxmlformats")) throw new Error("status " + r.status);
  return r.arrayBuffer();
}).then(b => { let s = ""; for (const x of new Uint8Array(b)) s += String.fromCharCode(x); return btoa(s); })`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download %s: %v", href, err)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("open the downloaded workbook: %v", err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 3 || got[0] != "Tiến độ theo giai đoạn" || got[1] != "Nhiệm vụ" {
		t.Fatalf("sheets: got %q", got)
	}
	if v, _ := f.GetCellValue("Tiến độ theo giai đoạn", "B1"); v != "Thành phố Hải Phòng" {
		t.Errorf("the report names the merger: B1 = %q", v)
	}
	if v, _ := f.GetCellValue("Tiến độ theo giai đoạn", "A3"); v != "Chuẩn bị" {
		t.Errorf("the first phase: A3 = %q", v)
	}
	rows, err := f.GetRows("Nhiệm vụ")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if len(r) > 7 && r[0] == "Chuyển dữ liệu hộ tịch của Hải Dương" {
			found = true
			if r[2] != "Sở Tư pháp" || r[6] != "70" || r[7] != "Quá hạn" {
				t.Errorf("the late task's row: got %q", r)
			}
		}
	}
	if !found {
		t.Errorf("the late task is not in the workbook: %q", rows)
	}
}

func (w *mergerWalk) renameMerger(t *testing.T, p *tab) {
	p.open("/mergers/" + w.mergerID)
	if got := p.click("edit-merger"); got != http.StatusOK {
		t.Fatalf("open the merger form: got status %d, want 200", got)
	}
	p.wantText("#delete-refused", "xóa chúng trước")
	p.fill("sources", "31 Hải Phòng")
	if got := p.submit("save-merger"); got != http.StatusUnprocessableEntity {
		t.Fatalf("taking out Hải Dương, which has systems: got status %d, want 422", got)
	}
	p.wantText("#err-sources", "Không thể bỏ một tỉnh cũ đã có hệ thống")
	p.fill("sources", "31 Hải Phòng\n30 Hải Dương")
	p.fill("name", "Thành phố Hải Phòng (sau hợp nhất)")
	if got := p.submit("save-merger"); got != http.StatusOK {
		t.Fatalf("save the merger: got status %d, want 200", got)
	}
	p.wantText(".flash.ok", "Đã lưu thông tin sáp nhập.")
	p.wantText("h1", "Thành phố Hải Phòng (sau hợp nhất)")
	noRawMergerKeys(p)
}
