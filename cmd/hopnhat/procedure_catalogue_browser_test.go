package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"hopnhat/internal/platform/browsertest"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

// TestProcedureCataloguePagesBrowser drives the catalogue through headless
// Chromium as a provincial coordinator would: find a procedure typed without
// diacritics, open it, edit it and save over someone else's change, import a
// file with a mistake and then a good workbook, read the 2026 calendar with
// Tết and add a day off, and move an old department's work to its successor.
func TestProcedureCataloguePagesBrowser(t *testing.T) {
	browser := browsertest.Browser(t, 3*time.Minute)
	d := dbtest.SQLite(t, modules())
	d.SetClock(func() time.Time { return catalogueNow })
	a := testApp(t, d)
	seed(t, a)
	w := &catalogueWalk{a: a, world: catalogueSeed(t, a)}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)

	p := newTab(t, browser, srv.URL)
	// Accept the confirmation a form asks for (data-confirm), as a person
	// clicking OK would.
	dialogs := chromedp.Events(p.ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	steps := []struct {
		name string
		fn   func(t *testing.T, p *tab)
	}{
		{"sign in as a coordinator", catalogueSignIn},
		{"search without diacritics", w.search},
		{"open a procedure", w.open},
		{"edit it, and save after someone else", w.edit},
		{"import a file with a mistake, then a good one", w.importFiles},
		{"the 2026 calendar with Tết, and a day off", w.calendar},
		{"move an old department's work", w.reassign},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { p.t = t; s.fn(t, p) }) {
			return // each step stands on the previous one's session and data
		}
	}
}

// catalogueWalk carries what one step of the walk made to the next.
type catalogueWalk struct {
	a     *app
	world catalogueWorld
}

// noRawCatalogueKeys fails when the page shows one of the module's i18n
// keys instead of its text.
func noRawCatalogueKeys(p *tab) {
	p.t.Helper()
	if got := p.eval(`[...document.body.innerText.matchAll(/\b(?:procedure|flash|common|error|workbook|nav)\.[a-z_.]+\b/g)].map(m => m[0]).join(" ")`); got != "" {
		p.t.Errorf("page %s shows untranslated keys: %s", p.location(), got)
	}
}

// onPhone checks the page at a phone's width: nothing off the right edge.
func onPhone(p *tab, shot string) {
	p.t.Helper()
	p.run(chromedp.EmulateViewport(390, 844))
	noSideScroll(p)
	p.shot(shot)
	p.run(chromedp.EmulateViewport(1280, 900))
}

func catalogueSignIn(t *testing.T, p *tab) {
	p.open("/procedures")
	p.wantPath("/login")
	p.fill("username", "u.coordinator")
	p.fill("password", testPassword)
	if got := p.submit("login-submit"); got != http.StatusOK {
		t.Fatalf("sign in: got status %d, want 200", got)
	}
	p.wantPath("/procedures")
	p.wantText("h1", "Thủ tục hành chính")
	p.wantText("#catalogue-summary", "Đang áp dụng 3 thủ tục: 1 trực tuyến toàn trình, 1 trực tuyến một phần.")
	noRawCatalogueKeys(p)
	p.shot("procedures.png")
	onPhone(p, "procedures_phone.png")
}

func (w *catalogueWalk) search(t *testing.T, p *tab) {
	p.fill("q", "dang ky khai sinh")
	if got := p.submit("search-submit"); got != http.StatusOK {
		t.Fatalf("search: got status %d, want 200", got)
	}
	if n := p.count("#procedures tbody tr"); n != 1 {
		t.Errorf("rows for dang ky khai sinh: got %d, want 1", n)
	}
	p.wantText("#procedures", "Đăng ký khai sinh")
	p.wantText("#procedures", "UBND phường Lê Chân")
	if got := p.value("q"); got != "dang ky khai sinh" {
		t.Errorf("the search box after searching: got %q", got)
	}
	noRawCatalogueKeys(p)
	p.shot("procedures_search.png")

	p.fill("q", "ho chieu")
	p.submit("search-submit")
	p.wantText("#no-results", "Không tìm thấy thủ tục nào với “ho chieu”.")
	p.click("clear-filters")
	if n := p.count("#procedures tbody tr"); n != 3 {
		t.Errorf("the whole catalogue: got %d rows, want 3", n)
	}
}

func (w *catalogueWalk) open(t *testing.T, p *tab) {
	p.open("/procedures?q=khai+sinh")
	if got := p.submitSel(`#procedures a[href="/procedures/` + w.world.birth.ID + `"]`); got != http.StatusOK {
		t.Fatalf("open the procedure: got status %d, want 200", got)
	}
	p.wantPath("/procedures/" + w.world.birth.ID)
	p.wantText("h1", "Đăng ký khai sinh")
	p.wantText("#procedure-code", "1.001193.000.00.00.H31")
	p.wantText("#procedure-agency", "UBND phường Lê Chân")
	p.wantText("#procedure-days", "3 ngày làm việc")
	p.wantText("#procedure-online", "Toàn trình")
	p.wantText("#papers", "Giấy chứng sinh")
	p.wantText("#procedure-status", "Đang áp dụng")
	noRawCatalogueKeys(p)
	p.shot("procedure.png")
	onPhone(p, "procedure_phone.png")
}

func (w *catalogueWalk) edit(t *testing.T, p *tab) {
	id := w.world.birth.ID
	p.open("/procedures/" + id)
	if got := p.click("edit-procedure"); got != http.StatusOK {
		t.Fatalf("the edit form: got status %d, want 200", got)
	}
	p.wantText("h1", "Sửa thủ tục: Đăng ký khai sinh")
	if got := p.value("agency_id"); got != w.world.lechan.ID {
		t.Errorf("the agency in the form: got %q, want UBND phường Lê Chân's id", got)
	}
	p.fill("days", "bốn")
	if got := p.submit("save-procedure"); got != http.StatusUnprocessableEntity {
		t.Errorf("days in words: got status %d, want 422", got)
	}
	p.wantText("#err-days", "Thời hạn giải quyết từ 0 đến 365 ngày làm việc.")
	p.fill("days", "4")
	if got := p.submit("save-procedure"); got != http.StatusOK {
		t.Fatalf("save: got status %d, want 200", got)
	}
	p.wantPath("/procedures/" + id)
	p.wantText(".flash.ok", "Đã lưu thay đổi của thủ tục.")
	p.wantText("#procedure-days", "4 ngày làm việc")

	// Another coordinator saves while this form is open.
	p.open("/procedures/" + id + "/edit")
	ctx := reqctx.WithActor(context.Background(), "user:other")
	x, err := w.a.procs.Procedure(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	x.Fee = "8.000 đồng"
	if _, err := w.a.procs.UpdateProcedure(ctx, id, x, x.Version); err != nil {
		t.Fatal(err)
	}
	p.fill("fee", "Miễn lệ phí đăng ký khai sinh đúng hạn")
	if got := p.submit("save-procedure"); got != http.StatusConflict {
		t.Errorf("a save after someone else's: got status %d, want 409", got)
	}
	p.wantText("#form-error", "Người khác vừa sửa thủ tục này")
	p.wantText("#stored", "8.000 đồng")
	if got := p.value("fee"); got != "Miễn lệ phí đăng ký khai sinh đúng hạn" {
		t.Errorf("the fee after the conflict: got %q, want what was typed", got)
	}
	noRawCatalogueKeys(p)
	p.shot("procedure_form_conflict.png")
	onPhone(p, "procedure_form_phone.png")
	// Saving again, having seen the other change, goes through.
	if got := p.submit("save-procedure"); got != http.StatusOK {
		t.Fatalf("save again: got status %d, want 200", got)
	}
	p.wantText("#procedure-fields", "Miễn lệ phí đăng ký khai sinh đúng hạn")
	p.wantText("#procedure-fields", "phiên bản 4")
}

func (w *catalogueWalk) importFiles(t *testing.T, p *tab) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "danh-muc-loi.csv")
	if err := os.WriteFile(bad, []byte("\xEF\xBB\xBF"+catalogueHeader+
		"1.000894.000.00.00.H31,Đăng ký khai tử,Hộ tịch,Xã,UBND phường Lê Chân,3,,Toàn trình,Tờ khai,\n"+
		"1.000656.000.00.00.H31,Thay đổi cải chính hộ tịch,Hộ tịch,Huyện,Sở Tư pháp,5,,Một phần,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.open("/procedures")
	if got := p.click("import-link"); got != http.StatusOK {
		t.Fatalf("the import page: got status %d, want 200", got)
	}
	p.wantText("h1", "Nhập danh mục từ tệp")
	p.run(chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{bad}))
	if got := p.submit("import-submit"); got != http.StatusUnprocessableEntity {
		t.Errorf("a file with a district level: got status %d, want 422", got)
	}
	p.wantText("#import-problems", "Tệp có 1 lỗi; chưa nhập dòng nào.")
	if got := p.eval(`[...document.querySelectorAll("#problems tbody td")].map(td => td.innerText.trim()).join(" | ")`); got !=
		"3 | D | Không còn cấp huyện từ 01/7/2025 (“Huyện”); ghi Tỉnh hoặc Xã." {
		t.Errorf("the problem: got %q", got)
	}
	if _, err := w.a.procs.ProcedureByCode(context.Background(), "1.000894.000.00.00.H31"); err == nil {
		t.Error("a row of the refused file was imported")
	}
	noRawCatalogueKeys(p)
	p.shot("import_problems.png")
	onPhone(p, "import_problems_phone.png")

	// The corrected file, as a workbook, the agency typed without diacritics.
	good := filepath.Join(dir, "danh-muc.xlsx")
	f := excelize.NewFile()
	rows := [][]any{
		{"Mã thủ tục", "Tên thủ tục", "Lĩnh vực", "Cấp thực hiện", "Cơ quan thực hiện", "Thời hạn (ngày làm việc)", "Phí, lệ phí", "Mức độ trực tuyến", "Thành phần hồ sơ"},
		{"1.000894.000.00.00.H31", "Đăng ký khai tử", "Hộ tịch", "Xã", "ubnd phuong le chan", "3", "", "Toàn trình", "Tờ khai\nGiấy báo tử"},
		{"1.000656.000.00.00.H31", "Thay đổi cải chính hộ tịch", "Hộ tịch", "Tỉnh", "Sở Tư pháp", "5", "", "Một phần", ""},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(good); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p.run(chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{good}))
	if got := p.submit("import-submit"); got != http.StatusOK {
		t.Fatalf("the good workbook: got status %d, want 200", got)
	}
	p.wantPath("/procedures")
	p.wantText("#import-done", "Đã nhập danh mục: thêm 2, cập nhật 0, giữ nguyên 0 thủ tục.")
	p.wantText("#catalogue-summary", "Đang áp dụng 5 thủ tục")
	noRawCatalogueKeys(p)
	p.shot("import_done.png")

	// The export the page links, as the browser downloads it (its decoder
	// takes the byte-order mark off).
	body := p.eval(`(() => { const x = new XMLHttpRequest(); x.open("GET", document.querySelector("#export-csv").href, false); x.send(); return x.responseText })()`)
	if !strings.HasPrefix(body, "Mã thủ tục,Tên thủ tục") || !strings.Contains(body, "Đăng ký khai tử,Hộ tịch,Xã,UBND phường Lê Chân,3") {
		t.Errorf("the CSV export: %.300q", body)
	}
}

func (w *catalogueWalk) calendar(t *testing.T, p *tab) {
	p.open("/procedures")
	if got := p.click("calendar-link"); got != http.StatusOK {
		t.Fatalf("the calendar: got status %d, want 200", got)
	}
	p.wantText("h1", "Lịch làm việc năm 2026")
	for _, day := range []string{"2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20"} {
		p.wantText("#day-"+day, "Tết Nguyên đán")
	}
	p.wantText("#day-2026-04-27", "Nghỉ bù Giỗ Tổ Hùng Vương")
	p.wantText("#example", "hạn giải quyết là ngày 25/02/2026 (Thứ Tư)")
	p.wantText("#example", "Các ngày nghỉ từ 14/02/2026 đến 22/02/2026 không tính.")
	p.wantText("#how-counted", "Ngày tiếp nhận hồ sơ không tính")
	p.wantText("#how-counted", "thời hạn tạm dừng")
	noRawCatalogueKeys(p)

	p.fill("day", "02/01/2026")
	p.fill("note", "Nghỉ hoán đổi, làm bù thứ Bảy 10/01/2026")
	if got := p.submit("save-day"); got != http.StatusOK {
		t.Fatalf("add a day off: got status %d, want 200", got)
	}
	p.wantText(".flash.ok", "Đã lưu ngày điều chỉnh trong lịch làm việc.")
	p.wantText("#day-2026-01-02", "Nghỉ hoán đổi, làm bù thứ Bảy 10/01/2026")
	p.wantText("#day-2026-01-02", "Nghỉ thêm (điều chỉnh)")
	if n := p.count("#delete-2026-01-02"); n != 1 {
		t.Error("the added day cannot be removed from the page")
	}
	p.wantText("#calendar-summary", "Năm 2026 có 249 ngày làm việc")
	noRawCatalogueKeys(p)
	p.shot("calendar.png")
	onPhone(p, "calendar_phone.png")

	p.click("lang-toggle")
	p.wantText("h1", "Working calendar 2026")
	p.wantText("#day-2026-02-17", "Lunar New Year (Tết)")
	p.shot("calendar_en.png")
	p.click("lang-toggle")
	p.wantText("h1", "Lịch làm việc năm 2026")
}

func (w *catalogueWalk) reassign(t *testing.T, p *tab) {
	p.open("/procedures")
	if got := p.click("reassign-link"); got != http.StatusOK {
		t.Fatalf("the reassignment page: got status %d, want 200", got)
	}
	p.fill("from", w.world.stpHD.ID)
	if got := p.submit("preview"); got != http.StatusOK {
		t.Fatalf("preview: got status %d, want 200", got)
	}
	p.wantText("#targets", "Sở Tư pháp")
	p.wantText("#reassign-counts", "Sẽ chuyển 1 thủ tục và 1 hồ sơ đang giải quyết.")
	p.wantText("#reassign-sample", w.world.dossier.Code)
	if got := p.value("to"); got != w.world.stp.ID {
		t.Errorf("the successor is not chosen: got %q", got)
	}
	noRawCatalogueKeys(p)
	p.shot("reassign_preview.png")
	onPhone(p, "reassign_phone.png")
	if got := p.submit("reassign-submit"); got != http.StatusOK {
		t.Fatalf("confirm: got status %d, want 200", got)
	}
	p.wantText("#reassign-done", "Đã chuyển 1 thủ tục và 1 hồ sơ đang giải quyết từ Sở Tư pháp Hải Dương sang Sở Tư pháp.")
	p.wantText("#nothing-to-move", "không còn thủ tục hay hồ sơ")
	p.shot("reassign_done.png")
	p.open("/procedures/" + w.world.copies.ID)
	p.wantText("#procedure-agency", "Sở Tư pháp")
	if n := p.count("#reassign-agency"); n != 0 {
		t.Error("the moved procedure still offers to move its agency's work")
	}
}
