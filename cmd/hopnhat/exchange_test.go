package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"hopnhat/internal/exchange"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

// The gateway's routes and who may use them: admins and coordinators keep
// the catalogue, the consumers, their keys, grants and certificates; leaders
// also read the catalogue, the log and the board.
var exchangeRouteAccess = map[string]access{
	"GET /gateway":                                           gatewayReaders,
	"GET /gateway/services/new":                              writers,
	"POST /gateway/services":                                 writers,
	"GET /gateway/services/{id}":                             gatewayReaders,
	"GET /gateway/services/{id}/edit":                        writers,
	"POST /gateway/services/{id}":                            writers,
	"GET /gateway/consumers":                                 writers,
	"GET /gateway/consumers/new":                             writers,
	"POST /gateway/consumers":                                writers,
	"GET /gateway/consumers/{id}":                            writers,
	"POST /gateway/consumers/{id}":                           writers,
	"POST /gateway/consumers/{id}/keys":                      writers,
	"POST /gateway/consumers/{id}/keys/rotate":               writers,
	"POST /gateway/consumers/{id}/keys/{key}/revoke":         writers,
	"POST /gateway/consumers/{id}/grants":                    writers,
	"POST /gateway/consumers/{id}/grants/{service}/delete":   writers,
	"POST /gateway/consumers/{id}/certs":                     writers,
	"POST /gateway/consumers/{id}/certs/{cert}/revoke":       writers,
	"GET /gateway/log":                                       gatewayReaders,
	"GET /gateway/board":                                     gatewayReaders,
	"GET /api/v1/gateway/services":                           gatewayReaders,
	"POST /api/v1/gateway/services":                          writers,
	"GET /api/v1/gateway/services/{id}":                      gatewayReaders,
	"PUT /api/v1/gateway/services/{id}":                      writers,
	"GET /api/v1/gateway/consumers":                          writers,
	"POST /api/v1/gateway/consumers":                         writers,
	"GET /api/v1/gateway/consumers/{id}":                     writers,
	"PUT /api/v1/gateway/consumers/{id}":                     writers,
	"POST /api/v1/gateway/consumers/{id}/keys":               writers,
	"DELETE /api/v1/gateway/keys/{id}":                       writers,
	"PUT /api/v1/gateway/consumers/{id}/grants/{service}":    writers,
	"DELETE /api/v1/gateway/consumers/{id}/grants/{service}": writers,
	"POST /api/v1/gateway/consumers/{id}/certs":              writers,
	"DELETE /api/v1/gateway/certs/{id}":                      writers,
	"GET /api/v1/gateway/messages":                           gatewayReaders,
	"GET /api/v1/gateway/board":                              gatewayReaders,
}

func init() {
	moreRouteAccess = append(moreRouteAccess, exchangeRouteAccess)
}

// xchgRun starts the gateway's background work (the message log's
// writer above all) for the length of the test, flushing every 10 ms.
func xchgRun(t *testing.T, a *app) {
	t.Helper()
	a.xchg.SetFlushEvery(10 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.xchg.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// xchgUpstream is a provider's system that answers every call with its name
// and what it was asked.
func xchgUpstream(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"system": name, "method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
			"authorization": r.Header.Get("Authorization")})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// xchgReq sends one request to the app as role (or with the admin API key when
// role is "key") and returns the answer.
func xchgReq(t *testing.T, a *app, p principals, role reqctx.Role, method, path, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	switch role {
	case "":
	case "key":
		req.Header.Set("Authorization", "Bearer "+p.key)
	default:
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[role].Username)})
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec
}

// xchgCall calls /gw/… through the app's handler with a consumer's key.
func xchgCall(t *testing.T, a *app, method, path, key string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec
}

var (
	xchgSecretRE   = regexp.MustCompile(`id="new-key-secret">(xk_[a-z2-7]{32})<`)
	xchgLocationRE = regexp.MustCompile(`^/gateway/(?:services|consumers)/([a-z0-9_]+)\?ok=`)
)

// xchgCreated returns the id in a redirect to a new record's page.
func xchgCreated(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	m := xchgLocationRE.FindStringSubmatch(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || m == nil {
		t.Fatalf("got %d to %q, want 303 to the new record; body: %.400s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	return m[1]
}

// xchgWaitMessages polls the log's API until it lists want calls matching q.
func xchgWaitMessages(t *testing.T, a *app, p principals, q string, want int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec := xchgReq(t, a, p, "key", "GET", "/api/v1/gateway/messages?"+q, "", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("messages?%s: got %d: %s", q, rec.Code, rec.Body.String())
		}
		var out struct {
			Messages []map[string]any `json:"messages"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) >= want {
			return out.Messages
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages?%s: got %d calls after 5 s, want %d", q, len(out.Messages), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestExchangeScenarios walks the gateway as a coordinator sets it up: a
// service added through its form (refused once, then right), edited over
// someone else's save, a consumer with a key shown once and a grant, a real
// call through /gw/ to an upstream, and that call in the log and on the
// board.
func TestExchangeScenarios(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		p := seed(t, a)
		xchgRun(t, a)
		newSys := xchgUpstream(t, "hệ thống mới")
		const coord, leader = reqctx.RoleCoordinator, reqctx.RoleLeader
		form := func(v url.Values) string { return v.Encode() }

		runScenarios(t, a, p, []scenario{
			{name: "an empty catalogue says how to add a service", method: "GET", path: "/gateway", as: coord,
				wantStatus: 200, wantType: "text/html", wantText: "Danh mục chưa có dịch vụ nào."},
			{name: "an empty catalogue tells a leader who fills it", method: "GET", path: "/gateway", as: leader,
				wantStatus: 200, wantText: "Quản trị viên hoặc điều phối viên sáp nhập thêm dịch vụ"},
			{name: "no consumers yet", method: "GET", path: "/gateway/consumers", as: coord,
				wantStatus: 200, wantText: "Chưa có hệ thống kết nối nào."},
			{name: "an empty log", method: "GET", path: "/gateway/log", as: leader,
				wantStatus: 200, wantText: "Chưa có cuộc gọi nào qua cổng."},
			{name: "an empty board", method: "GET", path: "/gateway/board", as: leader,
				wantStatus: 200, wantText: "Khi danh mục có dịch vụ, bảng cho biết"},
			{name: "the new service form starts on the legacy LGSP", method: "GET", path: "/gateway/services/new", as: coord,
				wantStatus: 200, wantText: `<option value="old" selected>LGSP cũ</option>`},
			{name: "a leader may not add a service", method: "GET", path: "/gateway/services/new", as: leader, wantStatus: 403},
			{name: "a leader may not open the consumers", method: "GET", path: "/gateway/consumers", as: leader, wantStatus: 403},
			{name: "an officer may not read the gateway", method: "GET", path: "/gateway", as: reqctx.RoleOfficer, wantStatus: 403},
			{name: "a refused service comes back with every message on its field", method: "POST", path: "/gateway/services", as: coord,
				contentType: formCT, body: form(url.Values{"code": {"Hộ Tịch"}, "name": {"Tra cứu hộ tịch"}, "primary_url": {"ftp://hotich.local"},
					"timeout_ms": {"ba mươi"}, "cutover": {"new"}, "status": {"active"}}),
				wantStatus: 422, wantType: "text/html", wantText: `<p class="field-error" id="err-code">Mã dịch vụ chỉ gồm chữ thường không dấu`},
			{name: "the refused form keeps what was typed", method: "POST", path: "/gateway/services", as: coord,
				contentType: formCT, body: form(url.Values{"code": {"Hộ Tịch"}, "name": {"Tra cứu hộ tịch"}, "primary_url": {"ftp://hotich.local"},
					"timeout_ms": {"ba mươi"}, "cutover": {"new"}}),
				wantStatus: 422, wantText: `value="ba mươi"`},
			{name: "a number that is not one is named on its field", method: "POST", path: "/gateway/services", as: coord,
				contentType: formCT, body: form(url.Values{"code": {"ho-tich"}, "name": {"Tra cứu hộ tịch"}, "primary_url": {newSys.URL},
					"timeout_ms": {"ba mươi"}, "cutover": {"new"}}),
				wantStatus: 422, wantText: `id="err-timeout_ms">Thời gian chờ phải là số nguyên`},
			{name: "the legacy mode needs the legacy LGSP's address", method: "POST", path: "/gateway/services", as: coord,
				contentType: formCT, body: form(url.Values{"code": {"ho-tich"}, "name": {"Tra cứu hộ tịch"}, "primary_url": {newSys.URL}, "cutover": {"old"}}),
				wantStatus: 422, wantText: `id="err-backup_url">Chế độ “LGSP cũ” và “Chạy song song (so sánh)” gửi cuộc gọi tới LGSP cũ`},
		})

		rec := xchgReq(t, a, p, coord, "POST", "/gateway/services", formCT, form(url.Values{"code": {"ho-tich"}, "name": {"Tra cứu hộ tịch"},
			"owner_agency_id": {"Sở Tư pháp"}, "primary_url": {newSys.URL}, "cutover": {"new"}, "status": {"active"}, "timeout_ms": {"5000"},
			"max_body_bytes": {""}, "health_path": {"/health"}}))
		svcID := xchgCreated(t, rec)
		runScenarios(t, a, p, []scenario{
			{name: "the same code twice is refused on its field", method: "POST", path: "/gateway/services", as: coord,
				contentType: formCT, body: form(url.Values{"code": {"ho-tich"}, "name": {"Hộ tịch bản sao"}, "primary_url": {newSys.URL}, "cutover": {"new"}}),
				wantStatus: 422, wantText: `id="err-code">Mã này đã được dùng cho một dịch vụ khác.`},
			{name: "the service's page gives its call address", method: "GET", path: "/gateway/services/" + svcID + "?ok=flash.gateway_service_created", as: leader,
				wantStatus: 200, wantText: `<p class="secret" id="call-path">/gw/ho-tich/…</p>`},
			{name: "the service's page says who may call it", method: "GET", path: "/gateway/services/" + svcID, as: leader,
				wantStatus: 200, wantText: "Chưa hệ thống nào được cấp quyền gọi dịch vụ này."},
			{name: "the catalogue lists it with its mode and its upstream", method: "GET", path: "/gateway", as: leader,
				wantStatus: 200, wantText: `<span class="badge on">Hệ thống mới</span>`},
			{name: "the edit form carries the version", method: "GET", path: "/gateway/services/" + svcID + "/edit", as: coord,
				wantStatus: 200, wantText: `<input type="hidden" name="version" value="1">`},
			{name: "an unknown service is 404", method: "GET", path: "/gateway/services/xs_nope", as: leader,
				wantStatus: 404, wantType: "text/html", wantText: "Không tìm thấy dịch vụ."},
		})

		// Two people edit the service from version 1: the second save is
		// refused, keeps what was typed and shows what the first saved.
		edit := func(name, version string) *httptest.ResponseRecorder {
			return xchgReq(t, a, p, coord, "POST", "/gateway/services/"+svcID, formCT, form(url.Values{"code": {"ho-tich"}, "name": {name},
				"primary_url": {newSys.URL}, "cutover": {"new"}, "status": {"active"}, "timeout_ms": {"5000"}, "version": {version}}))
		}
		if rec := edit("Tra cứu, trích lục hộ tịch", "1"); rec.Code != http.StatusSeeOther ||
			rec.Header().Get("Location") != "/gateway/services/"+svcID+"?ok=flash.gateway_service_saved" {
			t.Fatalf("first save: got %d to %q", rec.Code, rec.Header().Get("Location"))
		}
		rec = edit("Hộ tịch điện tử", "1")
		body := rec.Body.String()
		if rec.Code != http.StatusConflict {
			t.Fatalf("stale save: got %d, want 409", rec.Code)
		}
		for _, want := range []string{"Người khác vừa sửa bản ghi này sau khi bạn mở trang.", `value="Hộ tịch điện tử"`,
			`<section class="card" id="stored">`, "<td>Tra cứu, trích lục hộ tịch</td>", `<input type="hidden" name="version" value="2">`} {
			if !strings.Contains(body, want) {
				t.Errorf("stale save lacks %q", want)
			}
		}

		// A consumer: refused without a name, then registered.
		runScenarios(t, a, p, []scenario{
			{name: "a consumer needs a name", method: "POST", path: "/gateway/consumers", as: coord, contentType: formCT,
				body: form(url.Values{"name": {"  "}, "owner_agency_id": {"Sở TT&TT"}}), wantStatus: 422,
				wantText: `<p class="field-error" id="err-name">Hãy nhập tên (tối đa 300 ký tự).</p>`},
		})
		consumerID := xchgCreated(t, xchgReq(t, a, p, coord, "POST", "/gateway/consumers", formCT,
			form(url.Values{"name": {"Cổng dịch vụ công tỉnh"}, "owner_agency_id": {"Văn phòng UBND tỉnh"}})))
		cpage := "/gateway/consumers/" + consumerID
		runScenarios(t, a, p, []scenario{
			{name: "a new consumer has no key", method: "GET", path: cpage, as: coord, wantStatus: 200, wantText: "Hệ thống chưa có khóa truy cập nào."},
			{name: "a stale consumer save is a conflict on the page", method: "POST", path: cpage, as: coord, contentType: formCT,
				body: form(url.Values{"name": {"Cổng DVC"}, "status": {"active"}, "version": {"7"}}), wantStatus: 409,
				wantText: `value="Cổng DVC"`},
		})

		// The key is on the page that issued it, and never again.
		rec = xchgReq(t, a, p, coord, "POST", cpage+"/keys", formCT, "")
		m := xchgSecretRE.FindStringSubmatch(rec.Body.String())
		if rec.Code != http.StatusOK || m == nil {
			t.Fatalf("issue a key: got %d; %.500s", rec.Code, rec.Body.String())
		}
		key := m[1]
		if !strings.Contains(rec.Body.String(), "khóa chỉ hiển thị một lần này và sẽ không được hiển thị lại") {
			t.Errorf("the issued key comes without its copy-it-now note")
		}
		again := xchgReq(t, a, p, coord, "GET", cpage, "", "").Body.String()
		if strings.Contains(again, key) || strings.Contains(again, "new-key-secret") {
			t.Errorf("the consumer's page shows the key again")
		}
		if !strings.Contains(again, `<span class="mono">`+key[:9]+`…</span>`) {
			t.Errorf("the keys table lacks the key's prefix %s…", key[:9])
		}

		// Until granted, a call with the key is refused.
		if rec := xchgCall(t, a, "GET", "/gw/ho-tich/ping", key); rec.Code != http.StatusForbidden {
			t.Errorf("call before the grant: got %d, want 403", rec.Code)
		}
		runScenarios(t, a, p, []scenario{
			{name: "a grant without a method or a readable rate is refused on both fields", method: "POST", path: cpage + "/grants", as: coord,
				contentType: formCT, body: form(url.Values{"service_id": {svcID}, "rate_per_minute": {"nhiều"}}), wantStatus: 422,
				wantText: `<p class="field-error" id="err-rate_per_minute">Số lần gọi mỗi phút phải là số nguyên`},
			{name: "a grant without a method names the methods", method: "POST", path: cpage + "/grants", as: coord,
				contentType: formCT, body: form(url.Values{"service_id": {svcID}}), wantStatus: 422,
				wantText: `<p class="field-error" id="err-methods">Hãy chọn ít nhất một phương thức HTTP.</p>`},
			{name: "a grant on no service asks for one", method: "POST", path: cpage + "/grants", as: coord,
				contentType: formCT, body: form(url.Values{"methods": {"GET"}}), wantStatus: 422,
				wantText: `id="err-service_id">Hãy chọn một dịch vụ trong danh mục.`},
			{name: "a coordinator grants GET", method: "POST", path: cpage + "/grants", as: coord,
				contentType: formCT, body: form(url.Values{"service_id": {svcID}, "methods": {"GET"}, "rate_per_minute": {""}}),
				wantStatus: 303, wantLocation: cpage + "?ok=flash.gateway_grant_saved#grants"},
			{name: "the grant shows with its boxes ticked", method: "GET", path: cpage, as: coord, wantStatus: 200,
				wantText: `id="g-ho-tich-GET" checked>`},
			{name: "the service lists its consumer", method: "GET", path: "/gateway/services/" + svcID, as: leader, wantStatus: 200,
				wantText: "Cổng dịch vụ công tỉnh"},
		})

		// A real call through the gateway, answered by the new system.
		rec = xchgCall(t, a, "GET", "/gw/ho-tich/ping?so=12", key)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"path":"/ping"`) ||
			!strings.Contains(rec.Body.String(), `"query":"so=12"`) || strings.Contains(rec.Body.String(), key) {
			t.Fatalf("the call through the gateway: got %d %s", rec.Code, rec.Body.String())
		}
		if rec := xchgCall(t, a, "POST", "/gw/ho-tich/ping", key); rec.Code != http.StatusForbidden {
			t.Errorf("POST with a GET grant: got %d, want 403", rec.Code)
		}
		calls := xchgWaitMessages(t, a, p, "service=ho-tich&status=2xx", 1)
		c := calls[0]
		if c["consumer"] != "Cổng dịch vụ công tỉnh" || c["method"] != "GET" || c["path"] != "/gw/ho-tich/ping" ||
			c["status"] != float64(200) || c["upstream"] != "primary" {
			t.Errorf("the call in the log: got %v", c)
		}
		refused := xchgWaitMessages(t, a, p, "service=ho-tich&status=4xx&method=post", 1)
		if refused[0]["problem"] != "exchange.method_not_granted" {
			t.Errorf("the refused call's problem: got %v", refused[0]["problem"])
		}
		runScenarios(t, a, p, []scenario{
			{name: "the log page lists the call", method: "GET", path: "/gateway/log?service=ho-tich", as: leader, wantStatus: 200,
				wantText: `<span class="mono">GET /gw/ho-tich/ping</span>`},
			{name: "the log page says who answered", method: "GET", path: "/gateway/log?status=2xx", as: leader, wantStatus: 200,
				wantText: `<td data-label="Nơi trả lời">Hệ thống mới</td>`},
			{name: "the log page says how long it keeps", method: "GET", path: "/gateway/log", as: leader, wantStatus: 200,
				wantText: "Nhật ký được giữ 90 ngày."},
			{name: "the log page shows the refused call's problem", method: "GET", path: "/gateway/log?status=4xx", as: leader, wantStatus: 200,
				wantText: `Hệ thống chưa được cấp quyền dùng phương thức này với dịch vụ.<br><span class="mono muted small problem-code">exchange.method_not_granted</span>`},
			{name: "a filter with no match says so", method: "GET", path: "/gateway/log?method=DELETE", as: leader, wantStatus: 200,
				wantText: "Không có cuộc gọi nào phù hợp với bộ lọc."},
			{name: "a bad date in the log's filter is named on its field", method: "GET", path: "/gateway/log?from=31/02/2026", as: leader,
				wantStatus: 400, wantText: `aria-describedby="err-from"`},
			{name: "the board lists the consumer and the moved service", method: "GET", path: "/gateway/board", as: leader, wantStatus: 200,
				wantText: `<span class="badge on" id="moved-ho-tich">Đã chuyển</span>`},
			{name: "with every service moved the board says the legacy LGSP can go", method: "GET", path: "/gateway/board?days=30", as: leader,
				wantStatus: 200, wantText: "Có thể tắt LGSP cũ."},
			{name: "a bad window is named on its field", method: "GET", path: "/gateway/board?days=0", as: leader, wantStatus: 400,
				wantText: `id="err-days">Số ngày phải là số nguyên từ 1 đến 366.`},
		})
		// A page holds 50 calls, newest first; "Trang sau" goes on from
		// the last one shown. With the refused GET before the grant and the
		// refused POST, the service has 53 calls.
		for range 50 {
			if rec := xchgCall(t, a, "GET", "/gw/ho-tich/ping", key); rec.Code != http.StatusOK {
				t.Fatalf("call: got %d", rec.Code)
			}
		}
		xchgWaitMessages(t, a, p, "service=ho-tich&limit=500", 53)
		first := xchgReq(t, a, p, leader, "GET", "/gateway/log?service=ho-tich", "", "").Body.String()
		next := regexp.MustCompile(`<a href="([^"]+)" id="page-next">Trang sau →</a>`).FindStringSubmatch(first)
		if next == nil || strings.Count(first, `<tr id="msg-`) != 50 {
			t.Fatalf("the first page: %d rows, next link %v", strings.Count(first, `<tr id="msg-`), next)
		}
		second := xchgReq(t, a, p, leader, "GET", html.UnescapeString(next[1]), "", "").Body.String()
		if n := strings.Count(second, `<tr id="msg-`); n != 3 || !strings.Contains(second, `id="page-first"`) ||
			strings.Contains(second, `id="page-next"`) || !strings.Contains(next[1], "service=ho-tich") {
			t.Errorf("the second page: got %d rows (want 3), from %s", n, next[1])
		}
		var page struct {
			Messages []map[string]any `json:"messages"`
			Next     string           `json:"next"`
		}
		rec = xchgReq(t, a, p, leader, "GET", "/api/v1/gateway/messages?service=ho-tich&limit=40", "", "")
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Messages) != 40 || page.Next == "" {
			t.Fatalf("the API's first page: %d calls, next %q, %v", len(page.Messages), page.Next, err)
		}
		lastID := page.Messages[39]["id"]
		rec = xchgReq(t, a, p, leader, "GET", "/api/v1/gateway/messages?service=ho-tich&limit=40&after="+url.QueryEscape(page.Next), "", "")
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Messages) != 13 || page.Next != "" || page.Messages[0]["id"] == lastID {
			t.Errorf("the API's second page: %d calls (want 13), next %q, %v", len(page.Messages), page.Next, err)
		}

		board := xchgReq(t, a, p, leader, "GET", "/gateway/board", "", "").Body.String()
		if !strings.Contains(board, "Cổng dịch vụ công tỉnh") {
			t.Errorf("the board lacks the consumer")
		}

		// A service still on the legacy LGSP keeps it from being switched off.
		legacy := xchgUpstream(t, "LGSP cũ")
		xchgCreated(t, xchgReq(t, a, p, coord, "POST", "/gateway/services", formCT, form(url.Values{"code": {"dat-dai"}, "name": {"Thông tin đất đai"},
			"primary_url": {newSys.URL}, "backup_url": {legacy.URL}, "cutover": {"old"}, "status": {"active"}})))
		runScenarios(t, a, p, []scenario{
			{name: "the board counts the services still on the legacy LGSP", method: "GET", path: "/gateway/board", as: leader, wantStatus: 200,
				wantText: "Còn 1 dịch vụ dùng LGSP cũ."},
		})

		// Revoking the key stops the calls at once.
		keys := xchgReq(t, a, p, coord, "GET", cpage, "", "").Body.String()
		keyID := regexp.MustCompile(`id="key-(xk[a-z0-9]+)"`).FindStringSubmatch(keys)
		if keyID == nil {
			t.Fatal("no key row on the consumer's page")
		}
		if rec := xchgReq(t, a, p, coord, "POST", cpage+"/keys/"+keyID[1]+"/revoke", formCT, ""); rec.Code != http.StatusSeeOther {
			t.Fatalf("revoke: got %d", rec.Code)
		}
		if rec := xchgCall(t, a, "GET", "/gw/ho-tich/ping", key); rec.Code != http.StatusUnauthorized {
			t.Errorf("call with a revoked key: got %d, want 401", rec.Code)
		}
		runScenarios(t, a, p, []scenario{
			{name: "a revoked key says so", method: "GET", path: cpage, as: coord, wantStatus: 200, wantText: "Đã thu hồi"},
			{name: "another consumer's key cannot be revoked from this page", method: "POST", path: "/gateway/consumers/xc_other/keys/" + keyID[1] + "/revoke",
				as: coord, contentType: formCT, wantStatus: 404},
			{name: "a bad overlap is named on its field", method: "POST", path: cpage + "/keys/rotate", as: coord, contentType: formCT,
				body: form(url.Values{"overlap": {"-3"}}), wantStatus: 422, wantText: `id="err-overlap">Thời gian chồng lấn phải là số giờ nguyên`},
			{name: "rotating shows the new key once", method: "POST", path: cpage + "/keys/rotate", as: coord, contentType: formCT,
				body: form(url.Values{"overlap": {"24"}}), wantStatus: 200, wantText: "Đã đổi khóa"},
			{name: "a certificate that is not one is refused on its field", method: "POST", path: cpage + "/certs", as: coord, contentType: formCT,
				body: form(url.Values{"cert": {"không phải chứng thư"}}), wantStatus: 422, wantText: `id="err-cert">Không đọc được chứng thư`},
			{name: "a certificate is added", method: "POST", path: cpage + "/certs", as: coord, contentType: formCT,
				body: form(url.Values{"cert": {xchgCertPEM(t)}}), wantStatus: 303, wantLocation: cpage + "?ok=flash.gateway_cert_added#certs"},
			{name: "the certificate is listed with its subject", method: "GET", path: cpage, as: coord, wantStatus: 200,
				wantText: "CN=cong-dvc.haiphong.gov.vn"},
			{name: "the page in English", method: "GET", path: "/gateway", as: leader, header: map[string]string{"Cookie": "lang=en"},
				wantStatus: 200, wantText: "Data exchange gateway (LGSP)"},
		})
	})
}

// xchgCertPEM is a fresh self-signed client certificate, valid for a year.
func xchgCertPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "cong-dvc.haiphong.gov.vn"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// xchgAPI sends a JSON request with the admin API key and decodes the answer.
func xchgAPI(t *testing.T, a *app, p principals, method, path, body string, want int) map[string]any {
	t.Helper()
	ct := ""
	if body != "" {
		ct = jsonCT
	}
	rec := xchgReq(t, a, p, "key", method, path, ct, body)
	if rec.Code != want {
		t.Fatalf("%s %s: got %d, want %d; %s", method, path, rec.Code, want, rec.Body.String())
	}
	out := map[string]any{}
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return out
}

func TestExchangeAPI(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		p := seed(t, a)
		const svcBody = `{"code":"ho-tich","name":"Tra cứu hộ tịch","primary_url":"https://hotich.haiphong.gov.vn/api",
			"backup_url":"https://lgsp.haiduong.gov.vn/hotich","cutover":"shadow"}`
		runScenarios(t, a, p, []scenario{
			{name: "bad JSON is a problem", method: "POST", path: "/api/v1/gateway/services", useKey: true, contentType: jsonCT,
				body: `{"code":`, wantStatus: 400, wantType: "application/problem+json", wantCode: "error.json_malformed"},
			{name: "an unknown field is a problem", method: "POST", path: "/api/v1/gateway/services", useKey: true, contentType: jsonCT,
				body: `{"code":"x","owner":"y"}`, wantStatus: 400, wantCode: "error.json_malformed"},
			{name: "a wrong type names its field", method: "POST", path: "/api/v1/gateway/services", useKey: true, contentType: jsonCT,
				body: `{"timeout_ms":"lâu"}`, wantStatus: 400, wantCode: "error.json_field_type", wantText: `"field":"timeout_ms"`},
			{name: "bad fields are listed", method: "POST", path: "/api/v1/gateway/services", useKey: true, contentType: jsonCT,
				body: `{"code":"Hộ Tịch","name":"x","primary_url":"https://a.example"}`, wantStatus: 400, wantCode: "error.invalid_input",
				wantText: `"field":"code","code":"exchange.code_invalid"`},
			{name: "an unknown service is 404", method: "GET", path: "/api/v1/gateway/services/xs_nope", useKey: true,
				wantStatus: 404, wantType: "application/problem+json", wantCode: "exchange.service_not_found"},
			{name: "an unknown consumer is 404", method: "GET", path: "/api/v1/gateway/consumers/xc_nope", useKey: true,
				wantStatus: 404, wantCode: "exchange.consumer_not_found"},
			{name: "a leader may read the catalogue", method: "GET", path: "/api/v1/gateway/services", as: reqctx.RoleLeader,
				wantStatus: 200, wantText: `"services":[]`},
			{name: "a leader may not add a service", method: "POST", path: "/api/v1/gateway/services", as: reqctx.RoleLeader,
				contentType: jsonCT, body: svcBody, wantStatus: 403, wantCode: "error.forbidden"},
			{name: "a bad status class is a field problem", method: "GET", path: "/api/v1/gateway/messages?status=9xx", useKey: true,
				wantStatus: 400, wantCode: "error.invalid_input", wantText: `"field":"status"`},
			{name: "a bad date is a field problem", method: "GET", path: "/api/v1/gateway/messages?from=31/02/2026", useKey: true,
				wantStatus: 400, wantText: `"field":"from"`},
			{name: "a bad window is a field problem", method: "GET", path: "/api/v1/gateway/board?days=abc", useKey: true,
				wantStatus: 400, wantText: `"field":"days"`},
		})

		svc := xchgAPI(t, a, p, "POST", "/api/v1/gateway/services", svcBody, 201)["service"].(map[string]any)
		svcID := svc["id"].(string)
		if svc["version"] != float64(1) || svc["call_path"] != "/gw/ho-tich/" || svc["timeout_ms"] != float64(30000) {
			t.Errorf("created service: got %v", svc)
		}
		upd := `{"code":"ho-tich","name":"Hộ tịch điện tử","primary_url":"https://hotich.haiphong.gov.vn/api","cutover":"new","version":%s}`
		runScenarios(t, a, p, []scenario{
			{name: "the same code twice is a field problem", method: "POST", path: "/api/v1/gateway/services", useKey: true, contentType: jsonCT,
				body: svcBody, wantStatus: 400, wantText: `"code":"exchange.code_taken"`},
			{name: "a save without its version is refused", method: "PUT", path: "/api/v1/gateway/services/" + svcID, useKey: true,
				contentType: jsonCT, body: strings.Replace(upd, `,"version":%s`, "", 1), wantStatus: 400, wantText: `"field":"version"`},
			{name: "a stale version is 409", method: "PUT", path: "/api/v1/gateway/services/" + svcID, useKey: true,
				contentType: jsonCT, body: strings.Replace(upd, "%s", "9", 1), wantStatus: 409, wantType: "application/problem+json",
				wantCode: "exchange.stale_version"},
			{name: "the current version saves", method: "PUT", path: "/api/v1/gateway/services/" + svcID, useKey: true,
				contentType: jsonCT, body: strings.Replace(upd, "%s", "1", 1), wantStatus: 200, wantText: `"version":2`},
			{name: "saving an unknown service is 404", method: "PUT", path: "/api/v1/gateway/services/xs_nope", useKey: true,
				contentType: jsonCT, body: strings.Replace(upd, "%s", "1", 1), wantStatus: 404, wantCode: "exchange.service_not_found"},
		})

		cons := xchgAPI(t, a, p, "POST", "/api/v1/gateway/consumers", `{"name":"Phần mềm một cửa","owner_agency_id":"000.00.31.H31"}`, 201)
		cid := cons["consumer"].(map[string]any)["id"].(string)
		runScenarios(t, a, p, []scenario{
			{name: "a consumer's stale version is 409", method: "PUT", path: "/api/v1/gateway/consumers/" + cid, useKey: true, contentType: jsonCT,
				body: `{"name":"Một cửa điện tử","version":4}`, wantStatus: 409, wantCode: "exchange.stale_version"},
			{name: "a consumer saves and keeps its status", method: "PUT", path: "/api/v1/gateway/consumers/" + cid, useKey: true, contentType: jsonCT,
				body: `{"name":"Một cửa điện tử","version":1}`, wantStatus: 200, wantText: `"status":"active","version":2`},
			{name: "an unknown status is a field problem", method: "PUT", path: "/api/v1/gateway/consumers/" + cid, useKey: true, contentType: jsonCT,
				body: `{"name":"Một cửa điện tử","status":"paused","version":2}`, wantStatus: 400, wantText: `"field":"status"`},
			{name: "a negative overlap is a field problem", method: "POST", path: "/api/v1/gateway/consumers/" + cid + "/keys", useKey: true,
				contentType: jsonCT, body: `{"rotate_overlap_hours":-1}`, wantStatus: 400, wantText: `"field":"rotate_overlap_hours"`},
			{name: "a key for an unknown consumer is 404", method: "POST", path: "/api/v1/gateway/consumers/xc_nope/keys", useKey: true,
				wantStatus: 404, wantCode: "exchange.consumer_not_found"},
			{name: "revoking an unknown key is 404", method: "DELETE", path: "/api/v1/gateway/keys/xknope", useKey: true,
				wantStatus: 404, wantCode: "exchange.key_not_found"},
		})

		first := xchgAPI(t, a, p, "POST", "/api/v1/gateway/consumers/"+cid+"/keys", "", 201)["key"].(map[string]any)
		if k, _ := first["key"].(string); !strings.HasPrefix(k, "xk_") || len(k) != 35 || first["active"] != true {
			t.Errorf("issued key: got %v", first)
		}
		second := xchgAPI(t, a, p, "POST", "/api/v1/gateway/consumers/"+cid+"/keys", `{"rotate_overlap_hours":2}`, 201)["key"].(map[string]any)
		if second["key"] == first["key"] || second["key"] == "" {
			t.Errorf("rotated key: got %v", second)
		}
		got := xchgAPI(t, a, p, "GET", "/api/v1/gateway/consumers/"+cid, "", 200)
		keys := got["keys"].([]any)
		if len(keys) != 2 {
			t.Fatalf("keys after a rotation: got %d, want 2", len(keys))
		}
		for _, k := range keys {
			k := k.(map[string]any)
			if _, shown := k["key"]; shown {
				t.Errorf("a listed key carries its plaintext: %v", k)
			}
			if k["id"] == first["id"] && k["expires_at"] == nil {
				t.Errorf("the old key has no end after the rotation: %v", k)
			}
		}
		xchgAPI(t, a, p, "DELETE", "/api/v1/gateway/keys/"+first["id"].(string), "", 204)

		grant := xchgAPI(t, a, p, "PUT", "/api/v1/gateway/consumers/"+cid+"/grants/"+svcID, `{"methods":["get","post"],"rate_per_minute":60}`, 200)
		if g := grant["grant"].(map[string]any); g["service_code"] != "ho-tich" || len(g["methods"].([]any)) != 2 || g["rate_per_minute"] != float64(60) {
			t.Errorf("grant: got %v", g)
		}
		runScenarios(t, a, p, []scenario{
			{name: "a grant with no method is a field problem", method: "PUT", path: "/api/v1/gateway/consumers/" + cid + "/grants/" + svcID, useKey: true,
				contentType: jsonCT, body: `{"methods":[]}`, wantStatus: 400, wantText: `"code":"exchange.methods_invalid"`},
			{name: "a grant on an unknown service is 404", method: "PUT", path: "/api/v1/gateway/consumers/" + cid + "/grants/xs_nope", useKey: true,
				contentType: jsonCT, body: `{"methods":["GET"]}`, wantStatus: 404, wantCode: "exchange.service_not_found"},
			{name: "a certificate that is not one is a field problem", method: "POST", path: "/api/v1/gateway/consumers/" + cid + "/certs", useKey: true,
				contentType: jsonCT, body: `{"pem":"-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----"}`, wantStatus: 400,
				wantText: `"field":"pem","code":"exchange.cert_invalid"`},
			{name: "revoking an unknown certificate is 404", method: "DELETE", path: "/api/v1/gateway/certs/xt_nope", useKey: true,
				wantStatus: 404, wantCode: "exchange.cert_not_found"},
		})
		xchgAPI(t, a, p, "DELETE", "/api/v1/gateway/consumers/"+cid+"/grants/"+svcID, "", 204)
		runScenarios(t, a, p, []scenario{
			{name: "removing a grant twice is 404", method: "DELETE", path: "/api/v1/gateway/consumers/" + cid + "/grants/" + svcID, useKey: true,
				wantStatus: 404, wantCode: "exchange.grant_not_found"},
		})
		pemBody, _ := json.Marshal(map[string]string{"pem": xchgCertPEM(t)})
		cert := xchgAPI(t, a, p, "POST", "/api/v1/gateway/consumers/"+cid+"/certs", string(pemBody), 201)["cert"].(map[string]any)
		if fp, _ := cert["fingerprint_sha256"].(string); len(fp) != 64 || cert["subject"] != "CN=cong-dvc.haiphong.gov.vn" {
			t.Errorf("certificate: got %v", cert)
		}
		xchgAPI(t, a, p, "DELETE", "/api/v1/gateway/certs/"+cert["id"].(string), "", 204)

		// The service moved to "new" with no backup left: nothing needs the
		// legacy LGSP any more.
		b := xchgAPI(t, a, p, "GET", "/api/v1/gateway/board?days=7", "", 200)
		if b["can_retire"] != true || b["still_on_legacy"] != float64(0) || b["days"] != float64(7) || len(b["services"].([]any)) != 1 {
			t.Errorf("board: got %v", b)
		}
		msgs := xchgAPI(t, a, p, "GET", "/api/v1/gateway/messages?limit=5", "", 200)
		if _, ok := msgs["next"]; !ok || msgs["retention_days"] != float64(exchange.DefaultRetentionDays) {
			t.Errorf("messages: got %v", msgs)
		}
	})
}
