package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hopnhat/internal/org"
	"hopnhat/internal/platform/browsertest"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

// TestAgencyPagesBrowser drives the agency register through headless
// Chromium as a merger coordinator would: add an agency of the merged
// province and one of an old province through the forms, record that the old
// one was dissolved into the new one, see who is responsible now, and check
// the trees and the mapping.
func TestAgencyPagesBrowser(t *testing.T) {
	browser := browsertest.Browser(t, 2*time.Minute)
	d := dbtest.SQLite(t, modules())
	a := testApp(t, d)
	seed(t, a)
	// The two province committees the new agencies sit under, and an old
	// department nobody has mapped yet.
	ctx := reqctx.WithActor(context.Background(), "user:test")
	mk := func(in org.Input) org.Agency {
		ag, err := a.org.Create(ctx, in)
		if err != nil {
			t.Fatalf("create %s: %v", in.Name, err)
		}
		return ag
	}
	hd := mk(org.Input{Name: "UBND tỉnh Hải Dương", Kind: org.KindProvinceCommittee, Period: org.Legacy, ProvinceCode: "30", Code: "000.00.00.H26"})
	hp := mk(org.Input{Name: "UBND thành phố Hải Phòng", Kind: org.KindProvinceCommittee, Period: org.Current, ProvinceCode: "31", Code: "000.00.00.H31"})
	mk(org.Input{Name: "Sở Tài chính Hải Dương", Kind: org.KindDepartment, Period: org.Legacy, ProvinceCode: "30", ParentID: hd.ID, Code: "000.00.11.H26"})
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)

	w := &agencyWalk{hd: hd, hp: hp}
	p := newTab(t, browser, srv.URL)
	steps := []struct {
		name string
		fn   func(t *testing.T, p *tab)
	}{
		{"sign in as a coordinator", agencySignIn},
		{"add an agency of the merged province", w.addCurrent},
		{"add an agency of an old province", w.addLegacy},
		{"record that it was dissolved", w.addLink},
		{"the trees before and after", w.trees},
		{"the mapping", w.mapping},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { p.t = t; s.fn(t, p) }) {
			return // each step stands on the previous one's session and data
		}
	}
}

// agencyWalk carries what one step of the walk made to the next.
type agencyWalk struct {
	hd, hp           org.Agency
	currentID, oldID string
}

// noRawOrgKeys fails when the page shows one of the register's i18n keys
// instead of its text.
func noRawOrgKeys(p *tab) {
	p.t.Helper()
	if got := p.eval(`[...document.body.innerText.matchAll(/\b(?:org|nav|flash|confirm)\.[a-z_.]+\b/g)].map(m => m[0]).join(" ")`); got != "" {
		p.t.Errorf("page %s shows untranslated keys: %s", p.location(), got)
	}
}

func agencySignIn(t *testing.T, p *tab) {
	p.open("/agencies")
	p.wantPath("/login")
	p.fill("username", "u.coordinator")
	p.fill("password", testPassword)
	if got := p.submit("login-submit"); got != http.StatusOK {
		t.Fatalf("sign in: got status %d, want 200", got)
	}
	p.wantPath("/agencies")
	p.wantText("h1", "Cơ quan, đơn vị")
	p.wantText(".main-nav", "Ánh xạ cơ quan")
}

func (w *agencyWalk) addCurrent(t *testing.T, p *tab) {
	if got := p.click("new-agency"); got != http.StatusOK {
		t.Fatalf("new agency form: got status %d, want 200", got)
	}
	p.wantPath("/agencies/new")
	p.wantText("h1", "Thêm cơ quan")
	p.fill("name", "UBND xã Gia Lộc")
	p.fill("period", "current")
	p.fill("kind", "ward_committee")
	p.fill("parent_id", w.hp.ID)
	p.fill("province_code", "3") // one digit: refused
	p.fill("ward_code", "10999")
	p.fill("valid_from", "01/07/2025")
	if got := p.submit("save-agency"); got != http.StatusUnprocessableEntity {
		t.Errorf("a one-digit province code: got status %d, want 422", got)
	}
	p.wantText("#form-error", "kiểm tra các trường được đánh dấu")
	p.wantText("#err-province_code", "Mã tỉnh gồm đúng 2 chữ số.")
	if got := p.value("name"); got != "UBND xã Gia Lộc" {
		t.Errorf("name after a refused save: got %q, want it kept", got)
	}
	if got := p.value("parent_id"); got != w.hp.ID {
		t.Errorf("parent after a refused save: got %q, want it kept", got)
	}
	noRawOrgKeys(p)
	p.shot("agency_form_error.png")

	p.fill("province_code", "31")
	if got := p.submit("save-agency"); got != http.StatusOK {
		t.Fatalf("save: got status %d, want 200", got)
	}
	w.currentID = strings.TrimPrefix(p.eval(`location.pathname`), "/agencies/")
	if !strings.HasPrefix(w.currentID, "ag_") {
		t.Fatalf("after saving: at %s, want the agency's page", p.location())
	}
	p.wantText(".flash.ok", "Đã thêm cơ quan.")
	p.wantText("h1", "UBND xã Gia Lộc")
	p.wantText("#agency-period", "Cơ quan tỉnh mới")
	p.wantText("#agency-fields", "UBND thành phố Hải Phòng")
	p.wantText("#agency-fields", "từ 01/07/2025")
	// An agency of the merged province in force answers for itself.
	p.wantText("#responsible-now", "UBND xã Gia Lộc · UBND xã, phường, đặc khu (chính cơ quan này)")
	noRawOrgKeys(p)
	p.shot("agency_current.png")
}

func (w *agencyWalk) addLegacy(t *testing.T, p *tab) {
	p.open("/agencies/new?period=legacy")
	if got := p.value("period"); got != "legacy" {
		t.Errorf("period of /agencies/new?period=legacy: got %q", got)
	}
	p.fill("name", "UBND huyện Gia Lộc")
	p.fill("kind", "district_committee")
	p.fill("parent_id", w.hd.ID)
	p.fill("code", "000.20.30.h26")
	p.fill("province_code", "30")
	p.fill("valid_to", "01/07/2025")
	if got := p.submit("save-agency"); got != http.StatusOK {
		t.Fatalf("save: got status %d, want 200", got)
	}
	w.oldID = strings.TrimPrefix(p.eval(`location.pathname`), "/agencies/")
	p.wantText("h1", "UBND huyện Gia Lộc")
	p.wantText("h1", "000.20.30.H26")
	p.wantText("#agency-period", "Cơ quan tỉnh cũ")
	p.wantText("#agency-fields", "hết hiệu lực từ 01/07/2025")
	p.wantText("#no-successors", "Chưa ghi nhận đơn vị kế thừa nào.")
	p.wantText("#responsible-none", "Chưa xác định")
	noRawOrgKeys(p)
}

func (w *agencyWalk) addLink(t *testing.T, p *tab) {
	p.open("/agencies/" + w.oldID)
	// Narrow the choices by a name typed without diacritics.
	p.fill("to_q", "gia loc")
	if got := p.submit("target-search-submit"); got != http.StatusOK {
		t.Fatalf("narrow the choices: got status %d, want 200", got)
	}
	if got := p.eval(`[...document.querySelectorAll("#to_id option")].filter(o => o.value).map(o => o.text).join(" | ")`); got != "UBND xã Gia Lộc" {
		t.Errorf("choices after searching gia loc: got %q, want only UBND xã Gia Lộc", got)
	}
	p.fill("to_id", w.currentID)
	p.fill("link_kind", "dissolved")
	p.fill("note", "Nhiệm vụ của huyện chuyển về các xã từ 01/7/2025")
	if got := p.submit("add-link-submit"); got != http.StatusOK {
		t.Fatalf("add the link: got status %d, want 200", got)
	}
	p.wantPath("/agencies/" + w.oldID)
	p.wantText(".flash.ok", "Đã thêm đơn vị kế thừa.")
	p.wantText("#successors", "Giải thể, nhiệm vụ chuyển về")
	p.wantText("#successors", "Nhiệm vụ của huyện chuyển về các xã")
	p.wantText("#responsible-now h2", "Ai chịu trách nhiệm hiện nay")
	p.wantText("#responsible-now", "UBND xã Gia Lộc")
	if n := p.count("#responsible-none"); n != 0 {
		t.Error("the page still says nobody is responsible")
	}
	noRawOrgKeys(p)
	p.shot("agency_legacy.png")

	// The new agency names what it took over from.
	p.open("/agencies/" + w.currentID)
	p.wantText("#predecessors", "UBND huyện Gia Lộc")
	p.shot("agency_current_linked.png")
}

func (w *agencyWalk) trees(t *testing.T, p *tab) {
	p.open("/agencies")
	p.wantText("#tree-legacy h2", "Trước sáp nhập")
	p.wantText("#tree-current h2", "Sau sáp nhập")
	// Children follow their parent, drawn indented.
	if got := p.eval(`[...document.querySelectorAll("#agencies-legacy tbody tr td:first-child")].map(td => td.innerText.trim()).join(" | ")`); got != "UBND tỉnh Hải Dương | └\u00a0Sở Tài chính Hải Dương | └\u00a0UBND huyện Gia Lộc" {
		t.Errorf("legacy tree: got %q", got)
	}
	p.wantText("#agencies-legacy", "1 đơn vị kế thừa")
	p.wantText("#agencies-legacy", "chưa có đơn vị kế thừa")
	p.wantText("#agencies-current", "tiếp nhận từ 1 cơ quan cũ")
	noRawOrgKeys(p)
	p.shot("agencies.png")

	p.open("/agencies?q=so+tai+chinh")
	p.wantText("#agencies", "Sở Tài chính Hải Dương")
	p.wantText("#result-count", "1 cơ quan phù hợp")
	p.shot("agencies_search.png")

	// The trees on a phone: one card per row, nothing off the right edge.
	p.open("/agencies")
	p.run(chromedp.EmulateViewport(390, 844))
	if got := p.eval(`(e => e.scrollWidth > e.clientWidth ? e.scrollWidth + "px in " + e.clientWidth + "px" : "")(document.documentElement)`); got != "" {
		t.Errorf("the trees on a phone scroll sideways: %s", got)
	}
	p.shot("agencies_phone.png")
	p.open("/agencies/" + w.oldID)
	if got := p.eval(`(e => e.scrollWidth > e.clientWidth ? e.scrollWidth + "px in " + e.clientWidth + "px" : "")(document.documentElement)`); got != "" {
		t.Errorf("an agency page on a phone scrolls sideways: %s", got)
	}
	p.shot("agency_phone.png")
	p.run(chromedp.EmulateViewport(1280, 900))

	p.open("/agencies")
	p.click("lang-toggle")
	p.wantText("h1", "Agencies")
	p.wantText("#tree-legacy h2", "Before the merger")
	noRawOrgKeys(p)
	p.shot("agencies_en.png")
	p.click("lang-toggle")
	p.wantText("h1", "Cơ quan, đơn vị")
}

func (w *agencyWalk) mapping(t *testing.T, p *tab) {
	p.open("/agencies")
	p.click("mapping-link")
	p.wantPath("/agencies/mapping")
	p.wantText("h1", "Bảng ánh xạ cơ quan cũ → mới")
	p.wantText("#mapping-summary", "1/3 cơ quan cũ đã có đơn vị kế thừa; còn 2 cơ quan chưa có.")
	if n := p.count("#mapping tr.unmapped"); n != 2 {
		t.Errorf("rows marked as left to map: got %d, want 2", n)
	}
	p.wantText("#mapping", "Giải thể, nhiệm vụ chuyển về UBND xã Gia Lộc")
	noRawOrgKeys(p)
	p.shot("mapping.png")

	p.open("/agencies/mapping?left=1")
	if n := p.count("#mapping tbody tr"); n != 2 {
		t.Errorf("only what is left: got %d rows, want 2", n)
	}
	p.wantText("#mapping", "chưa có đơn vị kế thừa")
}
