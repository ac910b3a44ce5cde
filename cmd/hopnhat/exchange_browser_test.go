package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hopnhat/internal/platform/browsertest"
	"hopnhat/internal/platform/dbtest"
)

// TestExchangePagesBrowser drives the gateway through headless Chromium as
// an administrator sets up an integration: add a service (refused once),
// register the system that calls it, issue its key and read it off the page,
// grant it GET, call the gateway with the key from outside, and find the
// call in the message log and the consumer on the migration board.
func TestExchangePagesBrowser(t *testing.T) {
	browser := browsertest.Browser(t, 3*time.Minute)
	d := dbtest.SQLite(t, modules())
	a := testApp(t, d)
	seed(t, a)
	xchgRun(t, a)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	w := &exchangeWalk{srv: srv, newSys: xchgUpstream(t, "hệ thống mới"), legacy: xchgUpstream(t, "LGSP cũ")}

	p := newTab(t, browser, srv.URL)
	steps := []struct {
		name string
		fn   func(t *testing.T, p *tab)
	}{
		{"sign in as an administrator", w.signIn},
		{"add a service, refused once", w.addService},
		{"register a consumer and issue its key", w.addConsumer},
		{"grant it GET", w.grant},
		{"call the gateway with the key", w.call},
		{"find the call in the log", w.log},
		{"the shadow comparison on the service's page", w.shadow},
		{"find the consumer on the board", w.board},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { p.t = t; s.fn(t, p) }) {
			return // each step stands on the previous one's session and data
		}
	}
}

// exchangeWalk carries what one step of the walk made to the next.
type exchangeWalk struct {
	srv            *httptest.Server
	newSys, legacy *httptest.Server
	serviceID      string
	consumerPath   string
	key            string
}

// noRawExchangeKeys fails when the page shows one of the gateway's i18n
// keys instead of its text. The log shows problem codes as data, next to
// their text.
func noRawExchangeKeys(p *tab) {
	p.t.Helper()
	js := `(() => { const b = document.body.cloneNode(true); b.querySelectorAll(".problem-code").forEach(e => e.remove());
		return [...b.innerText.matchAll(/\b(?:exchange|flash|nav|common|error|audit)\.[a-z_.]+\b/g)].map(m => m[0]).join(" "); })()`
	if got := p.eval(js); got != "" {
		p.t.Errorf("page %s shows untranslated keys: %s", p.location(), got)
	}
}

func (w *exchangeWalk) signIn(t *testing.T, p *tab) {
	p.open("/gateway")
	p.wantPath("/login")
	p.fill("username", "u.admin")
	p.fill("password", testPassword)
	if got := p.submit("login-submit"); got != http.StatusOK {
		t.Fatalf("sign in: got status %d, want 200", got)
	}
	p.wantPath("/gateway")
	p.wantText("h1", "Cổng trao đổi dữ liệu (LGSP)")
	p.wantText(".main-nav", "Cổng trao đổi LGSP")
	p.wantText("#services-empty", "Danh mục chưa có dịch vụ nào.")
	noRawExchangeKeys(p)
	p.shot("gateway_empty.png")
}

func (w *exchangeWalk) addService(t *testing.T, p *tab) {
	if got := p.click("new-service"); got != http.StatusOK {
		t.Fatalf("new service form: got status %d, want 200", got)
	}
	p.wantPath("/gateway/services/new")
	p.wantText("h1", "Thêm dịch vụ")
	p.fill("code", "Hộ tịch") // capitals, diacritics and a space: refused
	p.fill("name", "Tra cứu, trích lục hộ tịch")
	p.fill("owner_agency_id", "Sở Tư pháp thành phố Hải Phòng")
	p.fill("primary_url", w.newSys.URL+"/api/hotich")
	if got := p.submit("save-service"); got != http.StatusUnprocessableEntity {
		t.Errorf("a bad code: got status %d, want 422", got)
	}
	p.wantText("#form-error", "kiểm tra các trường được đánh dấu")
	p.wantText("#err-code", "Mã dịch vụ chỉ gồm chữ thường không dấu")
	p.wantText("#err-backup_url", "hãy nhập địa chỉ LGSP cũ")
	if got := p.value("name"); got != "Tra cứu, trích lục hộ tịch" {
		t.Errorf("the name after the refusal: got %q", got)
	}
	noRawExchangeKeys(p)
	p.shot("service_form_error.png")

	p.fill("code", "ho-tich")
	p.fill("cutover", "shadow")
	p.fill("backup_url", w.legacy.URL+"/lgsp/hotich")
	p.fill("health_path", "/health")
	if got := p.submit("save-service"); got != http.StatusOK {
		t.Fatalf("save the service: got status %d, want 200", got)
	}
	path := p.eval(`location.pathname`)
	if !strings.HasPrefix(path, "/gateway/services/xs_") {
		t.Fatalf("after saving: at %s, want the service's page", path)
	}
	w.serviceID = strings.TrimPrefix(path, "/gateway/services/")
	p.wantText(".flash.ok", "Đã thêm dịch vụ vào danh mục.")
	p.wantText("#call-path", "/gw/ho-tich/")
	p.wantText("#service-cutover", "Chạy song song (so sánh)")
	p.wantText("#no-grants", "Chưa hệ thống nào được cấp quyền gọi dịch vụ này.")
	noRawExchangeKeys(p)
	p.shot("service.png")

	p.open("/gateway")
	p.wantText("#service-ho-tich", "Chạy song song (so sánh)")
	p.wantText("#service-ho-tich", "Bình thường")
	p.shot("services.png")
	onPhone(p, "services_phone.png")
}

func (w *exchangeWalk) addConsumer(t *testing.T, p *tab) {
	p.click("tab-consumers")
	p.wantPath("/gateway/consumers")
	p.wantText("#consumers-empty", "Chưa có hệ thống kết nối nào.")
	p.shot("consumers_empty.png")
	p.click("new-consumer")
	p.fill("name", "Cổng dịch vụ công thành phố")
	p.fill("owner_agency_id", "Văn phòng UBND thành phố")
	if got := p.submit("save-consumer"); got != http.StatusOK {
		t.Fatalf("register the consumer: got status %d, want 200", got)
	}
	w.consumerPath = p.eval(`location.pathname`)
	p.wantText("h1", "Cổng dịch vụ công thành phố")
	p.wantText("#no-keys", "Hệ thống chưa có khóa truy cập nào.")

	if got := p.submit("issue-key"); got != http.StatusOK {
		t.Fatalf("issue a key: got status %d, want 200", got)
	}
	p.wantText("#new-key", "sẽ không được hiển thị lại")
	w.key = p.text("#new-key-secret")
	if !strings.HasPrefix(w.key, "xk_") || len(w.key) != 35 {
		t.Fatalf("the key on the page: got %q", w.key)
	}
	if n := p.count("#key-list tbody tr"); n != 1 {
		t.Errorf("keys listed: got %d, want 1", n)
	}
	noRawExchangeKeys(p)
	p.shot("consumer_key.png")

	// Loading the page again never shows the key.
	p.open(w.consumerPath)
	if n := p.count("#new-key"); n != 0 {
		t.Errorf("the key is shown again after a reload")
	}
	if strings.Contains(p.body(), w.key) {
		t.Errorf("the page holds the key after a reload")
	}
	p.wantText("#key-list", w.key[:9]+"…")
}

func (w *exchangeWalk) grant(t *testing.T, p *tab) {
	p.fill("service_id", w.serviceID)
	if got := p.eval(`String(document.getElementById("grant-method-GET").checked)`); got != "true" {
		t.Errorf("GET is not ticked by default")
	}
	if got := p.submit("add-grant"); got != http.StatusOK {
		t.Fatalf("grant: got status %d, want 200", got)
	}
	p.wantText(".flash.ok", "Đã lưu quyền gọi dịch vụ.")
	p.wantText("#grant-ho-tich", "Tra cứu, trích lục hộ tịch")
	if got := p.eval(`String(document.getElementById("g-ho-tich-GET").checked) + String(document.getElementById("g-ho-tich-POST").checked)`); got != "truefalse" {
		t.Errorf("the grant's boxes: got %s, want GET ticked, POST not", got)
	}
	noRawExchangeKeys(p)
	p.shot("consumer_grant.png")
	onPhone(p, "consumer_phone.png")

	p.open("/gateway/consumers")
	p.wantText("#consumers", "Cổng dịch vụ công thành phố")
	p.wantText("#consumers", "Văn phòng UBND thành phố")
	p.shot("consumers.png")
}

func (w *exchangeWalk) call(t *testing.T, _ *tab) {
	req, err := http.NewRequest("GET", w.srv.URL+"/gw/ho-tich/giay-khai-sinh?so=12", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	// A call with a wrong key is refused, and logged too.
	bad, err := http.NewRequest("GET", w.srv.URL+"/gw/ho-tich/giay-khai-sinh", nil)
	if err != nil {
		t.Fatal(err)
	}
	bad.Header.Set("X-API-Key", "xk_"+strings.Repeat("a", 32))
	refused, err := http.DefaultClient.Do(bad)
	if err != nil {
		t.Fatal(err)
	}
	refused.Body.Close()
	if refused.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong key: got %d, want 401", refused.StatusCode)
	}
	// In shadow mode the legacy LGSP answers.
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"system":"LGSP cũ"`) ||
		!strings.Contains(string(b), `"path":"/lgsp/hotich/giay-khai-sinh"`) {
		t.Fatalf("the call: got %d %s", resp.StatusCode, b)
	}
}

func (w *exchangeWalk) log(t *testing.T, p *tab) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.open("/gateway/log")
		if p.count("#messages tbody tr") > 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := p.count("#messages tbody tr"); n != 2 {
		t.Fatalf("calls in the log: got %d, want 2", n)
	}
	p.wantText("#messages tbody tr:first-child", "Khóa truy cập không hợp lệ.")
	p.wantText("#messages tbody tr:first-child", "401")
	p.wantText("h1", "Nhật ký trao đổi")
	p.wantText("#retention", "Nhật ký được giữ 90 ngày.")
	p.wantText("#messages", "Cổng dịch vụ công thành phố")
	p.wantText("#messages", "GET /gw/ho-tich/giay-khai-sinh")
	p.wantText("#messages", "LGSP cũ")
	p.wantText("#messages", "200")
	noRawExchangeKeys(p)
	p.shot("log.png")
	onPhone(p, "log_phone.png")

	// A filter that matches nothing says so.
	p.fill("f-status", "5xx")
	p.submit("log-submit")
	p.wantText("#no-results", "Không có cuộc gọi nào phù hợp với bộ lọc.")
}

func (w *exchangeWalk) shadow(t *testing.T, p *tab) {
	// The comparison with the new system runs after the answer.
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.open("/gateway/services/" + w.serviceID)
		if p.count("#shadow-diffs tbody tr") > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := p.count("#shadow-diffs tbody tr"); n != 1 {
		t.Fatalf("shadow differences: got %d, want 1", n)
	}
	p.wantText("#shadow-diffs", "Nội dung")
	p.wantText("#service-grants", "Cổng dịch vụ công thành phố")
	noRawExchangeKeys(p)
	p.shot("service_shadow.png")
}

func (w *exchangeWalk) board(t *testing.T, p *tab) {
	p.open("/gateway/board")
	p.wantPath("/gateway/board")
	p.wantText("h1", "Bảng theo dõi chuyển đổi LGSP")
	p.wantText("#verdict", "Còn 1 dịch vụ dùng LGSP cũ.")
	p.wantText("#consumers-ho-tich", "Cổng dịch vụ công thành phố")
	p.wantText("#consumers-ho-tich", "Còn gọi qua LGSP cũ")
	p.wantText("#figures-ho-tich", "1")
	noRawExchangeKeys(p)
	p.shot("board.png")
	onPhone(p, "board_phone.png")

	p.click("lang-toggle")
	p.wantText("h1", "LGSP migration board")
	p.wantText("#verdict", "Services still on the legacy LGSP: 1.")
	p.shot("board_en.png")
	p.click("lang-toggle")
	p.wantText("h1", "Bảng theo dõi chuyển đổi LGSP")
}
