package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hopnhat/internal/adminunit/refdata/refdatatest"
	"hopnhat/internal/adminunit/register"
	"hopnhat/internal/platform/browsertest"
	"hopnhat/internal/platform/dbtest"
)

// TestAdminUnitPagesBrowser drives the administrative-unit register's pages
// through headless Chromium as a ward officer would: search, a legacy ward and
// the new ward it went to, pasting addresses to convert, and deciding the
// address that fell into a divided legacy ward.
func TestAdminUnitPagesBrowser(t *testing.T) {
	browser := browsertest.Browser(t, 2*time.Minute)
	reg := refdatatest.Register(t)

	d := dbtest.SQLite(t, modules())
	if _, err := register.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil))).Import(context.Background(), reg); err != nil {
		t.Fatalf("import the register: %v", err)
	}
	a := testApp(t, d)
	seed(t, a)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)

	p := newTab(t, browser, srv.URL)
	steps := []struct {
		name string
		fn   func(t *testing.T, p *tab)
	}{
		{"sign in as an officer", adminUnitSignIn},
		{"search and unit pages", adminUnitSearchAndUnits},
		{"convert pasted addresses", adminUnitConvert},
		{"review a divided ward", adminUnitReview},
		{"convert an uploaded spreadsheet", adminUnitUpload},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { p.t = t; s.fn(t, p) }) {
			return // each step stands on the previous one's session and data
		}
	}
}

func adminUnitSignIn(t *testing.T, p *tab) {
	p.open("/adminunits")
	p.wantPath("/login")
	p.fill("username", "u.officer")
	p.fill("password", testPassword)
	if got := p.submit("login-submit"); got != http.StatusOK {
		t.Fatalf("sign in: got status %d, want 200", got)
	}
	p.wantPath("/adminunits")
}

func adminUnitSearchAndUnits(t *testing.T, p *tab) {
	if got := p.open("/adminunits?q=ben+nghe"); got != http.StatusOK {
		t.Errorf("search: got status %d, want 200", got)
	}
	p.wantText("#units", "Phường Bến Nghé")
	p.noRawKeys()
	p.shot("adminunits.png")

	if got := p.open("/adminunits/legacy-ward/26740"); got != http.StatusOK {
		t.Errorf("legacy ward: got status %d, want 200", got)
	}
	p.wantText("h1", "Phường Bến Nghé")
	p.wantText("#relations", "Phường Sài Gòn")
	p.noRawKeys()
	p.shot("unit_legacy.png")

	if got := p.open("/adminunits/ward/26740"); got != http.StatusOK {
		t.Errorf("new ward: got status %d, want 200", got)
	}
	p.wantText("h1", "Phường Sài Gòn")
	p.wantText("#relations", "Phường Bến Nghé")
	p.noRawKeys()
	p.shot("unit_new.png")
}

func adminUnitConvert(t *testing.T, p *tab) {
	if got := p.open("/adminunits/convert"); got != http.StatusOK {
		t.Fatalf("convert page: got status %d, want 200", got)
	}
	p.fill("addresses", "12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM\nSố 5 Lê Văn Lương, Phường Dương Nội, Quận Hà Đông, Hà Nội")
	p.run(chromedp.Click(chromedp.CSS(`#convert-form input[name="review"]`)))
	if got := p.eval(`String(document.querySelector('#convert-form input[name="review"]').checked)`); got != "true" {
		t.Fatalf("review checkbox: got checked=%s, want true", got)
	}
	if got := p.submitSel(`#convert-form button[type="submit"]`); got != http.StatusOK {
		t.Errorf("convert: got status %d, want 200", got)
	}
	if n := p.count("#results tbody tr"); n != 2 {
		t.Errorf("result rows: got %d, want 2", n)
	}
	p.wantText("#results", "Phường Sài Gòn")
	p.wantText("#results", "Xã cũ bị chia tách")
	p.noRawKeys()
	p.shot("convert.png")

	// The same results on a phone.
	p.run(chromedp.EmulateViewport(390, 844))
	// clientWidth leaves out the vertical scrollbar.
	if got := p.eval(`(e => e.scrollWidth > e.clientWidth ? e.scrollWidth + "px in " + e.clientWidth + "px" : "")(document.documentElement)`); got != "" {
		t.Errorf("convert results on a phone scroll sideways: %s", got)
	}
	p.shot("convert_phone.png")
	p.run(chromedp.EmulateViewport(1280, 900))
}

func adminUnitReview(t *testing.T, p *tab) {
	if got := p.open("/adminunits/review"); got != http.StatusOK {
		t.Fatalf("review page: got status %d, want 200", got)
	}
	p.wantText("#pending-count", "1 địa chỉ đang chờ duyệt")
	if n := p.count("#reviews tbody tr"); n < 1 {
		t.Fatalf("review rows: got %d, want at least 1", n)
	}
	p.wantText("#reviews", "Phường Dương Nội")
	p.noRawKeys()
	p.shot("review.png")

	const sel = `#reviews tbody tr:first-child select[name="ward_code"]`
	t.Logf("choices of the first review: %s", p.eval(`[...document.querySelector(`+strconv.Quote(sel)+`).options].map(o => o.value + "=" + o.text).join(" | ")`))
	choice := p.eval(`document.querySelector(` + strconv.Quote(sel) + `).options[1].value`)
	if choice == "" {
		t.Fatal("the first review has no candidate to pick")
	}
	p.run(chromedp.SetValue(chromedp.CSS(sel), choice))
	if got := p.submitSel(`#reviews tbody tr:first-child button[type="submit"]`); got != http.StatusOK {
		t.Errorf("decide: got status %d, want 200", got)
	}
	p.wantPath("/adminunits/review")
	p.wantText(".flash.ok", "Đã lưu lựa chọn")
	p.wantText("#pending-count", "0 địa chỉ đang chờ duyệt")
	if n := p.count("#review-empty"); n != 1 {
		t.Errorf("after the last decision: got %d empty-state notes, want 1", n)
	}
	p.noRawKeys()
	p.shot("review_done.png")

	p.open("/adminunits/review?status=decided")
	if !strings.Contains(p.text("#reviews"), choice) && p.count(`#reviews a[href="/adminunits/ward/`+choice+`"]`) == 0 {
		t.Errorf("decided reviews do not show the chosen ward %s:\n%s", choice, p.body())
	}
}

func adminUnitUpload(t *testing.T, p *tab) {
	in := filepath.Join(t.TempDir(), "danh_sach.csv")
	csv := "STT,Họ tên,Địa chỉ thường trú\n1,Nguyễn Văn A,\"Số 3 Lê Lợi, Phường Bến Nghé, Quận 1, TP.HCM\"\n2,Trần Thị B,\"Thôn Đông, Xã Gia Lương, Huyện Gia Lộc, Hải Dương\"\n3,Lê Văn C,không rõ\n"
	if err := os.WriteFile(in, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := p.open("/adminunits/convert"); got != http.StatusOK {
		t.Fatalf("convert page: got status %d, want 200", got)
	}
	p.run(chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{in}))
	p.fill("upload-column", "Địa chỉ thường trú")
	if got := p.submit("upload-submit"); got != http.StatusOK {
		t.Fatalf("upload: got status %d, want 200", got)
	}
	if !strings.Contains(p.location(), "/adminunits/convert/file/ex_") {
		t.Fatalf("after the upload: at %s, want the export page", p.location())
	}
	p.wantText("h1", "Đã chuyển đổi tệp")
	p.wantText("main", "Đã chuyển 3 dòng")
	p.wantText("#download", "danh_sach-dvhc-moi.csv")
	p.noRawKeys()
	p.shot("export.png")
	// Fetch the file as the browser would, with the session.
	body := p.eval(`(() => { const x = new XMLHttpRequest(); x.open("GET", document.querySelector("#download").href, false); x.send(); return x.responseText })()`)
	if !strings.Contains(body, "Địa chỉ thường trú,province_code,ward_code,status") || !strings.Contains(body, ",79,26740,exact,") {
		t.Errorf("downloaded file: %.300q", body)
	}

	// A file whose column is not there comes back with the columns it has.
	p.open("/adminunits/convert")
	p.run(chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{in}))
	p.fill("upload-column", "Địa chỉ")
	p.submit("upload-submit")
	p.wantText("#upload-error", `"Địa chỉ thường trú"`)
	p.shot("upload_error.png")
}

// shot saves a PNG of the whole page in HOPNHAT_SHOTS_DIR, when set, for a
// person to look at: the viewport grows to the page's height for the
// capture, then goes back.
func (p *tab) shot(name string) {
	p.t.Helper()
	dir := os.Getenv("HOPNHAT_SHOTS_DIR")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	size := func(js string) int64 {
		n, err := strconv.ParseInt(p.eval(js), 10, 64)
		if err != nil {
			p.t.Fatalf("%s: %v", js, err)
		}
		return n
	}
	w, vh := size(`String(window.innerWidth)`), size(`String(window.innerHeight)`)
	h := max(vh, size(`String(document.documentElement.scrollHeight)`))
	p.run(chromedp.EmulateViewport(w, h))
	ctx, cancel := p.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s at %s: %v", name, p.location(), err)
	}
	p.run(chromedp.EmulateViewport(w, vh))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}
