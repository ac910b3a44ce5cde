package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"hopnhat/internal/platform/browsertest"
)

// stepTimeout bounds every single browser action.
const stepTimeout = 15 * time.Second

// TestBrowser drives a real `hopnhat serve` through headless Chromium, as a
// provincial officer would: Vietnamese sign-in, the dashboard, the language
// switch, the admin pages, an API key shown once, sign-out, a forged
// cross-site POST, and the first start without demo data.
func TestBrowser(t *testing.T) {
	browser := browsertest.Browser(t, 2*time.Minute)
	bin := browsertest.Build(t)
	demo := browsertest.Serve(t, bin, "--demo")
	fresh := browsertest.Serve(t, bin)
	if demo.Password == "" || fresh.Password == "" {
		t.Fatalf("no password printed:\n--demo:\n%s\nfirst start:\n%s", demo.Stdout, fresh.Stdout)
	}

	t.Run("demo", func(t *testing.T) {
		p := newTab(t, browser, demo.URL)
		steps := []struct {
			name string
			fn   func(t *testing.T, p *tab, s *browsertest.Server)
		}{
			{"sign in in Vietnamese", browserSignIn},
			{"language toggle", browserLanguage},
			{"admin pages and API key", browserAdminPages},
			{"the demo gateway", browserDemoGateway},
			{"forged cross-site POST refused", browserCrossSite},
			{"sign out", browserSignOut},
		}
		for _, s := range steps {
			if !t.Run(s.name, func(t *testing.T) { p.t = t; s.fn(t, p, demo) }) {
				return // each step stands on the previous one's session
			}
		}
	})
	t.Run("first start", func(t *testing.T) {
		browserFirstStart(t, newTab(t, browser, fresh.URL), fresh)
	})
}

// browserDemoGateway opens the demo's gateway: its four services, the legacy
// LGSP's hosts failing their health checks (they never resolve), and the
// board that says the old LGSP cannot be switched off yet.
func browserDemoGateway(t *testing.T, p *tab, s *browsertest.Server) {
	p.open("/gateway")
	p.wantBody("Tra cứu tình trạng hồ sơ thủ tục hành chính", "Đăng ký hộ tịch (khai sinh, kết hôn, khai tử)",
		"Cơ sở dữ liệu đất đai", "Liên thông văn bản điện tử", "https://lgsp.haiduong.example/ho-tich")
	deadline := time.Now().Add(20 * time.Second) // the first health checks run at start
	for !strings.Contains(p.body(), "Kiểm tra sức khỏe không đạt") {
		if time.Now().After(deadline) {
			t.Fatal("the legacy LGSP's unreachable hosts are not shown failing their health checks")
		}
		time.Sleep(500 * time.Millisecond)
		p.open("/gateway")
	}
	if strings.Contains(p.body(), "127.0.0.1:0/") {
		t.Error("the demo's tracking service points at port 0, not at the server")
	}
	p.noRawKeys()
	p.shot("demo_gateway.png")
	p.open("/gateway/board")
	p.wantBody("Chưa chuyển", "Cổng dịch vụ công thành phố", "Hệ thống thông tin giải quyết TTHC (một cửa)")
	if strings.Contains(p.body(), "Có thể tắt LGSP cũ.") {
		t.Error("the demo board says the old LGSP can be switched off; three services still use it")
	}
	p.noRawKeys()
	p.shot("demo_gateway_board.png")
}

func browserSignIn(t *testing.T, p *tab, s *browsertest.Server) {
	p.open("/")
	p.wantPath("/login")
	if got := p.attr("html", "lang"); got != "vi" {
		t.Errorf("html lang: got %q, want vi", got)
	}
	p.wantText("h1", "Đăng nhập")
	p.wantBody("Tên đăng nhập", "Mật khẩu", "Dùng tài khoản do quản trị viên hệ thống cấp.")
	if got := p.title(); !strings.Contains(got, "Đăng nhập") {
		t.Errorf("title: got %q, want it to name Đăng nhập", got)
	}

	p.fill("username", "admin")
	p.fill("password", "sai-mat-khau-roi")
	if got := p.submit("login-submit"); got != http.StatusUnauthorized {
		t.Errorf("wrong password: got status %d, want 401", got)
	}
	p.wantText("#login-error", "Tên đăng nhập hoặc mật khẩu không đúng.")
	if got := p.value("username"); got != "admin" {
		t.Errorf("username after a refused sign-in: got %q, want it kept", got)
	}
	if got := p.value("password"); got != "" {
		t.Errorf("password field after a refused sign-in: got %q, want empty", got)
	}

	p.fill("password", s.Password)
	if got := p.submit("login-submit"); got != http.StatusOK {
		t.Errorf("sign in: got status %d, want 200", got)
	}
	p.wantPath("/")
	p.wantText("h1", "Xin chào, Quản trị hệ thống")
	p.wantBody("Tài khoản đang hoạt động", "Phiên đăng nhập đang mở", "Bản ghi nhật ký kiểm toán", "Đăng nhập sai trong 24 giờ")
	if n := p.count("#tiles .tile"); n < 4 {
		t.Errorf("dashboard tiles: got %d, want at least 4", n)
	}
	// The wrong password above is one failed sign-in of the last 24 hours.
	if got := p.eval(`[...document.querySelectorAll("#tiles .tile")].find(e => e.innerText.includes("Đăng nhập sai")).querySelector(".num").innerText`); got != "1" {
		t.Errorf("failed sign-ins tile: got %q, want 1", got)
	}
	if got := p.eval(`[...document.querySelectorAll("#tiles .tile")].find(e => e.innerText.includes("Tài khoản đang hoạt động")).querySelector(".num").innerText`); got != "6" {
		t.Errorf("active accounts tile: got %q, want 6 (the demo accounts)", got)
	}
}

func browserLanguage(t *testing.T, p *tab, _ *browsertest.Server) {
	p.click("lang-toggle")
	p.wantPath("/")
	if got := p.attr("html", "lang"); got != "en" {
		t.Errorf("html lang after the toggle: got %q, want en", got)
	}
	p.wantText("h1", "Hello")
	p.wantText("#logout", "Sign out")
	p.wantText("#lang-toggle", "Tiếng Việt")
	p.noRawKeys()

	p.click("lang-toggle")
	p.wantPath("/")
	p.wantText("h1", "Xin chào")
	p.wantText("#logout", "Đăng xuất")
	p.wantText("#lang-toggle", "English")
}

func browserAdminPages(t *testing.T, p *tab, _ *browsertest.Server) {
	pages := []struct{ path, h1, body string }{
		{"/users", "Quản lý tài khoản", "Nguyễn Văn Hùng"},
		{"/apikeys", "Khóa API", "Tạo khóa mới"},
		{"/audit", "Nhật ký kiểm toán", "session.login_failed"},
		{"/account", "Tài khoản của tôi", "Đổi mật khẩu"},
		{"/users/new", "Thêm tài khoản", "Mật khẩu ban đầu"},
	}
	for _, pg := range pages {
		if got := p.open(pg.path); got != http.StatusOK {
			t.Errorf("GET %s: got status %d, want 200", pg.path, got)
		}
		p.wantPath(pg.path)
		p.wantText("h1", pg.h1)
		p.wantBody(pg.body)
		p.noRawKeys()
	}

	p.open("/apikeys")
	p.run(chromedp.SetValue(chromedp.CSS(`input[name="name"]`), "LGSP Hải Dương (dự phòng)"))
	if got := p.submitSel(`form[action="/apikeys"] button[type="submit"]`); got != http.StatusCreated {
		t.Errorf("create API key: got status %d, want 201", got)
	}
	secret := p.text("#api-key-secret")
	if !strings.HasPrefix(secret, "hnk_") || len(secret) < 20 {
		t.Errorf("API key secret: got %q, want hnk_…", secret)
	}
	p.wantBody("Đã tạo khóa API", "LGSP Hải Dương (dự phòng)")
	p.open("/apikeys")
	if n := p.count("#api-key-secret"); n != 0 {
		t.Error("the API key secret is shown again after reloading /apikeys")
	}
	if body := p.body(); strings.Contains(body, secret) {
		t.Error("the API key secret appears on /apikeys after creation")
	}
}

// browserCrossSite serves a page from another origin whose form posts to
// hopnhat while the admin is signed in there, as a malicious site would.
func browserCrossSite(t *testing.T, p *tab, s *browsertest.Server) {
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		attackerPage(w, s.URL+"/logout", nil)
	})
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		attackerPage(w, s.URL+"/users", map[string]string{
			"username": "ke.gian", "full_name": "Kẻ Gian", "role": "admin", "scope_kind": "province", "password": "mat-khau-ke-gian-123",
		})
	})
	mux.HandleFunc("GET /attack.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.getElementById("f").submit();`)
	})
	evil := httptest.NewServer(mux)
	t.Cleanup(evil.Close)
	evilURL, _ := url.Parse(evil.URL)

	attacks := []struct {
		name, origin, path string
		cookie             bool // the browser attaches the SameSite=Lax session cookie
	}{
		// localhost and 127.0.0.1 are different sites: Sec-Fetch-Site is
		// cross-site and the Lax cookie stays home.
		{"cross-site sign-out", "http://localhost:" + evilURL.Port(), "/logout", false},
		// Another port of the same host is the same site but another origin:
		// the session cookie goes along, so only the origin check stops it.
		{"same-site other-origin user creation", "http://" + target.Hostname() + ":" + evilURL.Port(), "/users", true},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			p.t = t
			f := p.followAutoSubmit(a.origin+a.path, s.URL+a.path)
			if f.status != http.StatusForbidden {
				t.Errorf("forged POST %s from %s: got status %d, want 403", a.path, a.origin, f.status)
			}
			if f.withCookie != a.cookie {
				t.Errorf("forged POST %s from %s carried the session cookie: got %v, want %v", a.path, a.origin, f.withCookie, a.cookie)
			}
			if !strings.HasPrefix(f.landed, s.URL) {
				t.Errorf("after the forged POST the tab is at %q, want hopnhat's refusal page", f.landed)
			}
			p.wantText("#error-message", "Yêu cầu bị từ chối vì được gửi từ một trang web khác")
		})
	}
	p.t = t

	p.open("/")
	p.wantPath("/")
	p.wantText("h1", "Xin chào")
	p.open("/users?q=ke.gian")
	p.wantBody("Không có tài khoản nào phù hợp.")
	if strings.Contains(p.body(), "Kẻ Gian") {
		t.Error("the forged POST /users created an account")
	}
}

func attackerPage(w http.ResponseWriter, action string, fields map[string]string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><meta charset="utf-8"><title>Khuyến mãi</title><form id="f" method="post" action="%s">`, action)
	for k, v := range fields {
		fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, k, v)
	}
	b.WriteString(`</form><script src="/attack.js"></script>`)
	fmt.Fprint(w, b.String())
}

func browserSignOut(t *testing.T, p *tab, _ *browsertest.Server) {
	p.open("/")
	if got := p.submit("logout"); got != http.StatusOK {
		t.Errorf("sign out: got status %d, want 200", got)
	}
	p.wantPath("/login")
	p.wantText(".flash.ok", "Bạn đã đăng xuất.")
	p.wantText("h1", "Đăng nhập")
	if n := p.count("#logout"); n != 0 {
		t.Error("the sign-out button is still shown after signing out")
	}
	p.open("/users")
	p.wantPath("/login")
	if got := p.eval(`location.search`); got != "?next=%2Fusers" {
		t.Errorf("redirect after sign-out: got %q, want ?next=%%2Fusers", got)
	}
}

// browserFirstStart is the first start of an empty install: the printed
// administrator password works once, then must be changed.
func browserFirstStart(t *testing.T, p *tab, s *browsertest.Server) {
	p.open("/")
	p.wantPath("/login")
	p.fill("username", "admin")
	p.fill("password", s.Password)
	p.submit("login-submit")
	p.wantPath("/account")
	if got := p.eval(`location.search`); got != "?must=1" {
		t.Errorf("first sign-in: got %q, want /account?must=1", got)
	}
	p.wantText(".flash.err", "Bạn cần đổi mật khẩu được cấp")
	// Every other page sends the administrator back until the password changes.
	p.open("/users")
	p.wantPath("/account")

	const next = "Hai-Phong-2025-moi"
	p.fill("current_password", s.Password)
	p.fill("new_password", next)
	p.fill("confirm_password", next+"x")
	if got := p.submitSel(`form[action="/account/password"] button[type="submit"]`); got != http.StatusBadRequest {
		t.Errorf("mismatched confirmation: got status %d, want 400", got)
	}
	p.wantText("#form-error", "kiểm tra các trường được đánh dấu")
	p.wantText("#err-confirm_password", "Hai lần nhập mật khẩu mới không khớp nhau.")

	p.fill("current_password", s.Password)
	p.fill("new_password", next)
	p.fill("confirm_password", next)
	if got := p.submitSel(`form[action="/account/password"] button[type="submit"]`); got != http.StatusOK {
		t.Errorf("change password: got status %d, want 200", got)
	}
	p.wantText(".flash.ok", "Đã đổi mật khẩu.")
	if n := p.count(".flash.err"); n != 0 {
		t.Errorf("the must-change warning is still shown after the change: %q", p.text(".flash.err"))
	}
	p.open("/")
	p.wantPath("/")
	p.wantText("h1", "Xin chào, Quản trị hệ thống")
	p.open("/users")
	p.wantPath("/users")
}

// tab is one browser tab on one hopnhat server; its methods fail the test
// they belong to and bound every action with stepTimeout.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// newTab opens a tab with its own cookies (cookies ignore the port, so two
// servers on 127.0.0.1 would otherwise share the session cookie).
func newTab(t *testing.T, browser context.Context, base string) *tab {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first action opens the tab and binds it to the context it runs on,
	// so it gets the tab's own context (bounded by the browser's budget).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	p := &tab{t: t, ctx: ctx, base: base}
	p.run(chromedp.EmulateViewport(1280, 900))
	return p
}

func (p *tab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, stepTimeout)
}

func (p *tab) run(a chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	if err := chromedp.Do(ctx, a); err != nil {
		p.t.Fatalf("browser at %s: %v", p.location(), err)
	}
}

// open loads path and returns the status of the final document.
func (p *tab) open(path string) int {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(p.base+path))
	if err != nil {
		p.t.Fatalf("open %s: %v", path, err)
	}
	return int(resp.Status)
}

// click clicks the element with id and waits for the page it leads to.
func (p *tab) click(id string) int { p.t.Helper(); return p.follow(chromedp.Click(chromedp.ID(id))) }

// submit clicks the submit button with id and returns the final status.
func (p *tab) submit(id string) int { p.t.Helper(); return p.click(id) }

// submitSel clicks the submit button matched by a CSS selector.
func (p *tab) submitSel(css string) int {
	p.t.Helper()
	return p.follow(chromedp.Click(chromedp.CSS(css)))
}

func (p *tab) follow(a chromedp.Action[chromedp.Void]) int {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, a)
	if err != nil {
		p.t.Fatalf("at %s: %v", p.location(), err)
	}
	return int(resp.Status)
}

// forged is what became of a forged POST.
type forged struct {
	status     int    // hopnhat's answer
	withCookie bool   // the browser sent the session cookie along
	landed     string // where the tab ended up
}

// followAutoSubmit opens a page that submits itself to want and reports what
// hopnhat answered.
func (p *tab) followAutoSubmit(page, want string) forged {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	responses := chromedp.Events(ctx, network.ResponseReceived)
	// The headers the browser really sent (cookies included) come in their
	// own event, in no fixed order with the response.
	var mu sync.Mutex
	sent := map[network.RequestID]network.Headers{}
	extra := chromedp.Events(ctx, network.RequestWillBeSentExtraInfo)
	go func() {
		for ev, err := range extra {
			if err != nil {
				return
			}
			mu.Lock()
			sent[ev.RequestID] = ev.Headers
			mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		p.t.Fatalf("open %s: %v", page, err)
	}
	var f forged
	var id network.RequestID
	for ev, err := range responses {
		if err != nil {
			p.t.Fatalf("no response from %s after the forged form on %s: %v", want, page, err)
		}
		if ev.Type == network.ResourceTypeDocument && ev.Response.URL == want {
			f.status, id = int(ev.Response.Status), ev.RequestID
			break
		}
	}
	// The refusal page is the document once its message is there.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("error-message"))); err != nil {
		p.t.Fatalf("after the forged POST to %s: %v (at %s)", want, err, p.location())
	}
	mu.Lock()
	h := sent[id]
	mu.Unlock()
	cookie, _ := h["Cookie"].(string)
	f.withCookie = strings.Contains(cookie, "hopnhat_session=")
	f.landed = p.location()
	return f
}

func (p *tab) fill(id, v string) {
	p.t.Helper()
	p.run(chromedp.SetValue(chromedp.ID(id), v))
}

func (p *tab) value(id string) string {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID(id)))
	if err != nil {
		p.t.Fatalf("value of #%s: %v", id, err)
	}
	return v
}

func (p *tab) eval(js string) string {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		p.t.Fatalf("evaluate %s at %s: %v", js, p.location(), err)
	}
	return v
}

func (p *tab) location() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return loc
}

func (p *tab) title() string {
	p.t.Helper()
	return p.eval(`document.title`)
}

func (p *tab) body() string {
	p.t.Helper()
	return p.eval(`document.body.innerText`)
}

func (p *tab) text(css string) string {
	p.t.Helper()
	b := strconv.Quote(css)
	return p.eval(`(e => e ? e.innerText.trim() : "<no " + ` + b + ` + ">")(document.querySelector(` + b + `))`)
}

func (p *tab) attr(css, name string) string {
	p.t.Helper()
	c, n := strconv.Quote(css), strconv.Quote(name)
	return p.eval(`(document.querySelector(` + c + `) || {getAttribute: () => ""}).getAttribute(` + n + `) || ""`)
}

func (p *tab) count(css string) int {
	p.t.Helper()
	c := strconv.Quote(css)
	ctx, cancel := p.step()
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+c+`).length`))
	if err != nil {
		p.t.Fatalf("count %s: %v", css, err)
	}
	return n
}

func (p *tab) wantPath(path string) {
	p.t.Helper()
	if got := p.eval(`location.pathname`); got != path {
		p.t.Errorf("path: got %s, want %s", got, path)
	}
}

func (p *tab) wantText(css, want string) {
	p.t.Helper()
	if got := p.text(css); !strings.Contains(got, want) {
		p.t.Errorf("%s on %s: got %q, want it to contain %q", css, p.location(), got, want)
	}
}

func (p *tab) wantBody(want ...string) {
	p.t.Helper()
	body := p.body()
	for _, w := range want {
		if !strings.Contains(body, w) {
			p.t.Errorf("page %s lacks %q; it shows:\n%s", p.location(), w, body)
		}
	}
}

// noRawKeys fails when the page shows an i18n key instead of its text: an
// unknown key is rendered as itself ("user.xxx").
func (p *tab) noRawKeys() {
	p.t.Helper()
	// The audit table holds actions ("user.created", "apikey.created") as data.
	js := `[...document.body.innerText.replace((document.getElementById("audit-table") || {innerText: ""}).innerText, "").matchAll(/\b(?:account|apikeys?|app|audit|auth|common|error|flash|home|layout|login|nav|role|scope|status|tile|users?)\.[a-z_]+\b/g)].map(m => m[0]).join(" ")`
	if got := p.eval(js); got != "" {
		p.t.Errorf("page %s shows untranslated keys: %s", p.location(), got)
	}
}
