package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"hopnhat/internal/adminunit/refdata/refdatatest"
	"hopnhat/internal/adminunit/register"
	"hopnhat/internal/platform/browsertest"
	"hopnhat/internal/platform/dbtest"
)

// TestDossierPagesBrowser drives the dossiers through headless Chromium: an
// officer at the one-stop desk receives a dossier (refused once for a short
// citizen ID), prints the receipt with its QR code, asks for a supplement,
// records it, approves the dossier and returns the result; the citizen, not
// signed in, tracks it on /tra-cuu with its code and the last 4 digits of the
// phone; a leader reads the statistics. Every page is also checked at a
// phone's width.
func TestDossierPagesBrowser(t *testing.T) {
	reg := refdatatest.Register(t)
	browser := browsertest.Browser(t, 3*time.Minute)
	d := dbtest.SQLite(t, modules())
	a := testApp(t, d)
	seed(t, a)
	if _, err := register.NewService(d, slog.New(slog.DiscardHandler)).Import(context.Background(), reg); err != nil {
		t.Fatal(err)
	}
	w := &dossierWalk{world: dossierSeed(t, a)}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	w.base = srv.URL

	officer := newTab(t, browser, srv.URL)
	steps := []struct {
		name string
		p    func() *tab
		fn   func(t *testing.T, p *tab)
	}{
		{"sign in at the one-stop desk", func() *tab { return officer }, w.signIn},
		{"receive a dossier, refused once", func() *tab { return officer }, w.receive},
		{"print the receipt", func() *tab { return officer }, w.receipt},
		{"request a supplement", func() *tab { return officer }, w.requestSupplement},
		{"record the supplement, approve, return", func() *tab { return officer }, w.finish},
		{"the pages on a phone", func() *tab { return officer }, w.phone},
		{"a citizen tracks the dossier", func() *tab { return newTab(t, browser, srv.URL) }, w.track},
		{"a leader reads the statistics", func() *tab { return newTab(t, browser, srv.URL) }, w.stats},
	}
	for _, s := range steps {
		p := s.p()
		if !t.Run(s.name, func(t *testing.T) { p.t = t; s.fn(t, p) }) {
			return // each step stands on the previous one's data
		}
	}
}

// dossierWalk carries what one step made to the next.
type dossierWalk struct {
	world    dossierWorld
	base     string
	id, code string
}

// noRawDossierKeys fails when the page shows a key of the dossier pages
// instead of its text.
func noRawDossierKeys(p *tab) {
	p.t.Helper()
	if got := p.eval(`[...document.body.innerText.matchAll(/\b(?:dossier|track|stats|flash|procedure|common|error)\.[a-z_.]+\b/g)].map(m => m[0]).join(" ")`); got != "" {
		p.t.Errorf("page %s shows untranslated keys: %s", p.location(), got)
	}
}

func (w *dossierWalk) signIn(t *testing.T, p *tab) {
	p.open("/dossiers")
	p.wantPath("/login")
	p.fill("username", "u.officer")
	p.fill("password", testPassword)
	if got := p.submit("login-submit"); got != http.StatusOK {
		t.Fatalf("sign in: got status %d, want 200", got)
	}
	p.wantPath("/dossiers")
	p.wantText("h1", "Hồ sơ thủ tục hành chính")
	p.wantText("#dossiers-empty", "Chưa có hồ sơ nào.")
	p.wantText(".main-nav", "Hồ sơ")
	noRawDossierKeys(p)
	p.shot("dossiers_empty.png")
}

func (w *dossierWalk) receive(t *testing.T, p *tab) {
	if got := p.click("receive-link"); got != http.StatusOK {
		t.Fatalf("the receive form: got %d", got)
	}
	p.wantPath("/dossiers/new")
	p.wantText("#procedure-facts", "Chọn thủ tục để hiện thành phần hồ sơ")
	// Picking the procedure brings its papers in without a reload.
	p.eval(`(e => { e.value = "` + w.world.birth.ID + `"; e.dispatchEvent(new Event("change", {bubbles: true})); return "" })(document.getElementById("procedure_id"))`)
	p.run(chromedp.WaitVisible(chromedp.CSS("#papers")))
	p.wantText("#papers", "Tờ khai đăng ký khai sinh")
	p.wantText("#papers", "Giấy chứng sinh")
	p.wantText("#procedure-facts", "Thời hạn giải quyết: 3 ngày làm việc")
	p.run(chromedp.Click(chromedp.CSS("#paper-1"))) // the birth certificate is missing today
	p.fill("applicant", "Nguyễn Thị Hoa")
	p.fill("citizen_id", "03119000432") // one digit short
	p.fill("phone", "0912 345 678")
	p.fill("address", "Số 5 Điện Biên Phủ, P. Minh Khai, Q. Hồng Bàng, Hải Phòng")
	p.fill("other_papers", "Bản sao CCCD của mẹ")
	if got := p.submit("receive-submit"); got != http.StatusUnprocessableEntity {
		t.Errorf("a short citizen ID: got status %d, want 422", got)
	}
	p.wantText("#form-error", "kiểm tra các trường được đánh dấu")
	p.wantText("#err-citizen_id", "Số định danh cá nhân phải đủ 12 chữ số.")
	if got := p.value("address"); got != "Số 5 Điện Biên Phủ, P. Minh Khai, Q. Hồng Bàng, Hải Phòng" {
		t.Errorf("the address after a refusal: got %q, want it kept", got)
	}
	if got := p.eval(`String(document.getElementById("paper-1").checked) + " " + document.getElementById("paper-0").checked`); got != "false true" {
		t.Errorf("the papers ticked after a refusal: got %s, want false true", got)
	}
	noRawDossierKeys(p)
	p.shot("dossier_form_error.png")

	p.fill("citizen_id", "031190004321")
	if got := p.submit("receive-submit"); got != http.StatusOK {
		t.Fatalf("receive: got status %d, want 200", got)
	}
	path := p.eval(`location.pathname`)
	if !strings.HasPrefix(path, "/dossiers/hs_") {
		t.Fatalf("after receiving: at %s, want the dossier's page", p.location())
	}
	w.id = strings.TrimPrefix(path, "/dossiers/")
	w.code = p.text("#dossier-code")
	if !dossierCodeRE.MatchString(w.code) {
		t.Fatalf("dossier code: got %q", w.code)
	}
	p.wantText(".flash.ok", "Đã tiếp nhận hồ sơ")
	p.wantText("#dossier-status", "Mới tiếp nhận")
	p.wantText("#state", "Đúng hạn")
	p.wantText("#address-ward", "Phường Hồng Bàng") // the old address, read into the new ward
	p.wantText("#dossier-papers", "Tờ khai đăng ký khai sinh")
	p.wantText("#dossier-papers", "Bản sao CCCD của mẹ")
	if strings.Contains(p.text("#dossier-papers"), "Giấy chứng sinh") {
		t.Error("the unticked paper is recorded as received")
	}
	p.wantText("#steps", "Tiếp nhận hồ sơ")
	noRawDossierKeys(p)
	p.shot("dossier_received.png")
}

func (w *dossierWalk) receipt(t *testing.T, p *tab) {
	if got := p.click("receipt-link"); got != http.StatusOK {
		t.Fatalf("the receipt: got %d", got)
	}
	p.wantText("#receipt-heading", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ")
	p.wantText("#receipt-code", w.code)
	p.wantText("#receipt-applicant", "Nguyễn Thị Hoa")
	p.wantText("#receipt-track", w.base+"/tra-cuu")
	p.wantBody("4 số cuối điện thoại hoặc số định danh", "UBND phường Lê Chân", "Người tiếp nhận")
	if n := p.count("#print-receipt[data-print]"); n != 1 {
		t.Error("no print button")
	}
	// The QR code is square, big enough to scan from paper, and reads back
	// as the tracking address of this dossier.
	size := p.eval(`(r => Math.round(r.width) + "x" + Math.round(r.height))(document.querySelector("#receipt-qr svg").getBoundingClientRect())`)
	wh := strings.Split(size, "x")
	if len(wh) != 2 || wh[0] != wh[1] {
		t.Errorf("QR code box: got %s, want a square", size)
	} else if n, _ := strconv.Atoi(wh[0]); n < 120 {
		t.Errorf("QR code: %s px, want at least 120 px a side", size)
	}
	noRawDossierKeys(p)
	p.shot("receipt.png")
	if zbar, err := exec.LookPath("zbarimg"); err != nil {
		t.Log("zbarimg not installed: the QR code is not read back")
	} else {
		ctx, cancel := p.step()
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#receipt-qr svg")))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "qr.png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbar, "--quiet", "--raw", file).Output()
		if want := w.base + "/tra-cuu?ma=" + w.code; err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("the QR code reads %q (%v), want %q", out, err, want)
		}
	}
	// On paper: no header, navigation or buttons.
	media(p, "print")
	if got := p.eval(`[".top", ".main-nav", "#print-receipt", ".foot"].map(s => document.querySelector(s).getClientRects().length).join(" ")`); got != "0 0 0 0" {
		t.Errorf("printed, the receipt still shows the page's chrome: %s", got)
	}
	p.shot("receipt_print.png")
	media(p, "")
}

// media emulates a CSS media type ("print"; "" for the screen again).
func media(p *tab, m string) {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m}); err != nil {
		p.t.Fatalf("emulate media %q: %v", m, err)
	}
}

func (w *dossierWalk) requestSupplement(t *testing.T, p *tab) {
	p.open("/dossiers/" + w.id)
	if got := p.submit("do-start"); got != http.StatusOK {
		t.Fatalf("start: got %d", got)
	}
	p.wantText(".flash.ok", "Đã bắt đầu xử lý hồ sơ.")
	p.wantText("#dossier-status", "Đang xử lý")
	p.fill("note-request_supplement", "Bổ sung bản chính giấy chứng sinh")
	if got := p.submit("do-request_supplement"); got != http.StatusOK {
		t.Fatalf("request a supplement: got %d", got)
	}
	p.wantText(".flash.ok", "Đã yêu cầu bổ sung; đồng hồ tạm dừng.")
	p.wantText("#dossier-status", "Chờ bổ sung")
	p.wantText("#due", "Tạm dừng chờ bổ sung — hạn trả lùi theo ngày nhận đủ bổ sung")
	p.wantText("#steps", "Bổ sung bản chính giấy chứng sinh")
	if n := p.count("#form-approve"); n != 0 {
		t.Error("a paused dossier offers approval")
	}
	noRawDossierKeys(p)
	p.shot("dossier_paused.png")
}

func (w *dossierWalk) finish(t *testing.T, p *tab) {
	for _, s := range []struct{ button, flash, status string }{
		{"do-supplement", "Đã ghi nhận hồ sơ bổ sung", "Đang xử lý"},
		{"do-approve", "Đã phê duyệt hồ sơ.", "Đã có kết quả"},
		{"do-return", "Đã trả kết quả cho công dân.", "Đã trả kết quả"},
	} {
		if got := p.submit(s.button); got != http.StatusOK {
			t.Fatalf("%s: got %d", s.button, got)
		}
		p.wantText(".flash.ok", s.flash)
		p.wantText("#dossier-status", s.status)
	}
	p.wantText("#state", "Đúng hạn")
	if n := p.count("#act"); n != 0 {
		t.Error("a returned dossier still offers actions")
	}
	if n := p.count("#steps tbody tr"); n != 6 {
		t.Errorf("steps: got %d rows, want 6", n)
	}
	p.wantText("#shares", "UBND phường Lê Chân")
	noRawDossierKeys(p)
	p.shot("dossier_returned.png")
}

func (w *dossierWalk) phone(t *testing.T, p *tab) {
	p.run(chromedp.EmulateViewport(390, 844))
	for _, pg := range []struct{ path, shot string }{
		{"/dossiers/" + w.id, "dossier_phone.png"},
		{"/dossiers/" + w.id + "/receipt", "receipt_phone.png"},
		{"/dossiers", "dossiers_phone.png"},
		{"/dossiers/new?procedure_id=" + w.world.birth.ID, "dossier_form_phone.png"},
	} {
		if got := p.open(pg.path); got != http.StatusOK {
			t.Errorf("GET %s: got %d", pg.path, got)
		}
		noSideScroll(p)
		p.shot(pg.shot)
	}
	p.run(chromedp.EmulateViewport(1280, 900))
}

func (w *dossierWalk) track(t *testing.T, p *tab) {
	// The QR code's address: no sign-in, the code filled in.
	p.run(chromedp.EmulateViewport(390, 844))
	if got := p.open("/tra-cuu?ma=" + strings.ToLower(w.code)); got != http.StatusOK {
		t.Fatalf("GET /tra-cuu: got %d", got)
	}
	p.wantPath("/tra-cuu")
	p.wantText("h1", "Tra cứu hồ sơ")
	if got := p.value("code"); got != w.code {
		t.Errorf("the code field: got %q, want %q", got, w.code)
	}
	p.fill("factor", "0000")
	if got := p.submit("track-submit"); got != http.StatusNotFound {
		t.Errorf("a wrong factor: got %d, want 404", got)
	}
	p.wantText("#track-error", "Không tìm thấy hồ sơ với mã và 4 số cuối đã nhập")
	if got := p.value("factor"); got != "" {
		t.Errorf("the factor after a refusal: got %q, want it cleared", got)
	}
	p.shot("track_not_found_phone.png")
	p.fill("factor", "5678")
	if got := p.submit("track-submit"); got != http.StatusOK {
		t.Fatalf("track: got %d", got)
	}
	if strings.Contains(p.eval(`location.href`), "5678") {
		t.Error("the factor is in the address")
	}
	p.wantText("#track-code", w.code)
	p.wantText("#track-procedure", "Đăng ký khai sinh")
	p.wantText("#track-status", "Đã trả kết quả")
	p.wantText("#track-state", "Đúng hạn")
	p.wantText("#track-steps", "Yêu cầu bổ sung hồ sơ")
	p.wantText("#track-steps", "Bổ sung bản chính giấy chứng sinh")
	p.wantText("#track-steps", "Trả kết quả")
	p.wantText("#track-steps", "UBND phường Lê Chân")
	if body := p.body(); strings.Contains(body, "Nguyễn Thị Hoa") || strings.Contains(body, "031190004321") || strings.Contains(body, "Điện Biên Phủ") {
		t.Error("the public page shows the applicant's personal data")
	}
	noSideScroll(p)
	noRawDossierKeys(p)
	p.shot("track_phone.png")
	p.run(chromedp.EmulateViewport(1280, 900))
	p.shot("track.png")
}

func (w *dossierWalk) stats(t *testing.T, p *tab) {
	p.open("/dossiers/stats")
	p.wantPath("/login")
	p.fill("username", "u.leader")
	p.fill("password", testPassword)
	if got := p.submit("login-submit"); got != http.StatusOK {
		t.Fatalf("sign in: got %d", got)
	}
	p.wantPath("/dossiers/stats")
	p.wantText("h1", "Thống kê hồ sơ thủ tục hành chính")
	if n := p.count("#tiles .tile"); n != 8 {
		t.Errorf("tiles: got %d, want 8", n)
	}
	p.wantText("#tile-on-time", "100,0 %")
	p.wantText("#tile-on-time", "Đạt")
	p.wantText("#tile-received", "1")
	p.wantText("#tile-procedures", "2 / 2")
	p.wantText("#by-agency", "UBND phường Lê Chân")
	p.wantText("#by-channel", "Trực tiếp tại bộ phận một cửa")
	if n := p.count("#receipt-link"); n != 0 {
		t.Error("the statistics show a receipt link")
	}
	noRawDossierKeys(p)
	p.shot("stats.png")
	p.run(chromedp.EmulateViewport(390, 844))
	noSideScroll(p)
	p.shot("stats_phone.png")
	p.run(chromedp.EmulateViewport(1280, 900))
	// A leader reads a dossier but has no forms to act.
	p.open("/dossiers/" + w.id)
	p.wantText("#dossier-code", w.code)
	if n := p.count("#act"); n != 0 {
		t.Error("a leader is offered actions")
	}
}
