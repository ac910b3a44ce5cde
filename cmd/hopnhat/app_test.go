package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

// testApp builds the real app on d, with cheap password hashing.
func testApp(t testing.TB, d *db.DB) *app {
	t.Helper()
	cfg := &config{BodyLimit: 64 << 10, SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour,
		argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}}
	a, err := newApp(d, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const testPassword = "mat-khau-thu-nghiem"

// principals holds one signed-in user per role.
type principals struct {
	users map[reqctx.Role]auth.User
	key   string // an admin API key
	keyID string
}

func seed(t testing.TB, a *app) principals {
	t.Helper()
	ctx := context.Background()
	p := principals{users: map[reqctx.Role]auth.User{}}
	for _, r := range reqctx.Roles {
		u, err := a.auth.CreateUser(ctx, auth.NewUser{Username: "u." + string(r), FullName: "Người dùng " + string(r), Role: r,
			Scope: reqctx.Scope{Kind: reqctx.ScopeProvince}, Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		p.users[r] = u
	}
	key, k, err := a.auth.CreateAPIKey(ctx, auth.NewAPIKey{Name: "test", Role: reqctx.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	p.key, p.keyID = key, k.ID
	return p
}

func login(t testing.TB, a *app, username string) string {
	t.Helper()
	tok, _, err := a.auth.Login(context.Background(), auth.Credentials{Username: username, Password: testPassword, Client: "127.0.0.1"})
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return tok
}

// access is who a route is meant for; the table below is the contract.
type access int

const (
	everyone access = iota
	signedIn
	adminOnly
	reviewers      // admin, coordinator, officer
	writers        // admin, coordinator: the merger's registers
	handlers       // admin, coordinator, officer, leader: who may read dossiers
	gatewayReaders // admin, coordinator, leader: who reads the gateway's catalogue, log and board
)

// moreRouteAccess holds the audiences of modules' routes declared in their
// own test files (procedure_*_test.go); the matrix test reads them too.
var moreRouteAccess []map[string]access

// accessOf is the declared audience of a route pattern.
func accessOf(pattern string) (access, bool) {
	if a, ok := routeAccess[pattern]; ok {
		return a, true
	}
	for _, m := range moreRouteAccess {
		if a, ok := m[pattern]; ok {
			return a, true
		}
	}
	return 0, false
}

// routeAccess names every route and its intended audience. A route missing
// here fails the matrix test: adding a route means saying who may use it.
var routeAccess = map[string]access{
	"GET /{$}":                      signedIn,
	"GET /lang":                     everyone,
	"GET /static/":                  everyone,
	"GET /healthz":                  everyone,
	"GET /readyz":                   everyone,
	"GET /metrics":                  everyone,
	"GET /login":                    everyone,
	"POST /login":                   everyone,
	"POST /logout":                  signedIn,
	"GET /account":                  signedIn,
	"POST /account/password":        signedIn,
	"GET /account/password":         signedIn,
	"GET /users":                    adminOnly,
	"GET /users/new":                adminOnly,
	"POST /users":                   adminOnly,
	"GET /users/{id}":               adminOnly,
	"POST /users/{id}":              adminOnly,
	"POST /users/{id}/password":     adminOnly,
	"GET /apikeys":                  adminOnly,
	"POST /apikeys":                 adminOnly,
	"POST /apikeys/{id}/revoke":     adminOnly,
	"GET /api/v1/me":                signedIn,
	"GET /api/v1/users":             adminOnly,
	"POST /api/v1/users":            adminOnly,
	"GET /api/v1/users/{id}":        adminOnly,
	"PATCH /api/v1/users/{id}":      adminOnly,
	"GET /api/v1/apikeys":           adminOnly,
	"POST /api/v1/apikeys":          adminOnly,
	"DELETE /api/v1/apikeys/{id}":   adminOnly,
	"GET /jobs":                     adminOnly,
	"POST /jobs/{id}/cancel":        adminOnly,
	"GET /api/v1/jobs":              adminOnly,
	"GET /api/v1/jobs/{id}":         adminOnly,
	"POST /api/v1/jobs/{id}/cancel": adminOnly,
	"GET /audit":                    adminOnly,

	"GET /adminunits":                                                      signedIn,
	"GET /adminunits/convert":                                              signedIn,
	"POST /adminunits/convert":                                             signedIn,
	"POST /adminunits/convert/file":                                        signedIn,
	"GET /adminunits/convert/file/{id}":                                    signedIn,
	"GET /adminunits/convert/file/{id}/download":                           signedIn,
	"GET /adminunits/review":                                               reviewers,
	"POST /adminunits/review/{id}":                                         reviewers,
	"GET /adminunits/{level}/{code}":                                       signedIn,
	"POST /adminunits/{level}/{code}/basis":                                adminOnly,
	"POST /adminunits/province/{code}/ward-basis":                          adminOnly,
	"PUT /api/v1/adminunits/province/{code}/ward-basis":                    adminOnly,
	"GET /api/v1/adminunits":                                               signedIn,
	"GET /api/v1/adminunits/code/{code}":                                   signedIn,
	"GET /api/v1/adminunits/reviews":                                       reviewers,
	"POST /api/v1/adminunits/reviews/{id}":                                 reviewers,
	"GET /api/v1/adminunits/{level}/{code}":                                signedIn,
	"PUT /api/v1/adminunits/{level}/{code}/links/{toLevel}/{toCode}/basis": adminOnly,
	"POST /api/v1/addresses/convert":                                       signedIn,
	"GET /api/v1/audit":                                                    adminOnly,
	"GET /api/v1/audit/verify":                                             adminOnly,

	"GET /agencies":                           signedIn,
	"GET /agencies/mapping":                   signedIn,
	"GET /agencies/export.xlsx":               signedIn,
	"GET /agencies/import":                    writers,
	"POST /agencies/import":                   writers,
	"GET /agencies/new":                       writers,
	"POST /agencies":                          writers,
	"GET /agencies/{id}":                      signedIn,
	"GET /agencies/{id}/edit":                 writers,
	"POST /agencies/{id}":                     writers,
	"POST /agencies/{id}/links":               writers,
	"POST /agencies/{id}/links/{to}/delete":   writers,
	"GET /api/v1/agencies":                    signedIn,
	"GET /api/v1/agencies/code/{code}":        signedIn,
	"GET /api/v1/agencies/{id}":               signedIn,
	"POST /api/v1/agencies":                   writers,
	"PUT /api/v1/agencies/{id}":               writers,
	"POST /api/v1/agencies/{id}/links":        writers,
	"DELETE /api/v1/agencies/{id}/links/{to}": writers,

	"GET /mergers":                      signedIn,
	"POST /mergers":                     writers,
	"GET /mergers/{id}":                 signedIn,
	"GET /mergers/{id}/systems/new":     writers,
	"GET /mergers/{id}/edit":            writers,
	"POST /mergers/{id}":                writers,
	"POST /mergers/{id}/delete":         writers,
	"PUT /api/v1/mergers/{id}":          writers,
	"DELETE /api/v1/mergers/{id}":       writers,
	"POST /mergers/{id}/systems":        writers,
	"GET /systems/{id}":                 signedIn,
	"GET /systems/{id}/edit":            writers,
	"POST /systems/{id}":                writers,
	"POST /systems/{id}/delete":         writers,
	"GET /api/v1/mergers":               signedIn,
	"POST /api/v1/mergers":              writers,
	"GET /api/v1/mergers/{id}":          signedIn,
	"GET /api/v1/mergers/{id}/systems":  signedIn,
	"POST /api/v1/mergers/{id}/systems": writers,
	"GET /api/v1/systems/{id}":          signedIn,
	"PUT /api/v1/systems/{id}":          writers,
	"DELETE /api/v1/systems/{id}":       writers,

	// The assessment and the decisions (issue 6).
	"GET /mergers/{id}/compare/{category}":        signedIn,
	"POST /mergers/{id}/weights":                  writers,
	"POST /systems/{id}/scores":                   writers,
	"POST /systems/{id}/decision":                 writers,
	"GET /api/v1/mergers/{id}/compare/{category}": signedIn,
	"PUT /api/v1/mergers/{id}/weights":            writers,
	"PUT /api/v1/systems/{id}/scores/{criterion}": writers,
	"GET /api/v1/systems/{id}/decision":           signedIn,
	"PUT /api/v1/systems/{id}/decision":           writers,
	"GET /mergers/{id}/roadmap":                   signedIn,
	"POST /mergers/{id}/roadmap/template":         writers,
	"GET /mergers/{id}/dashboard":                 signedIn,
	"GET /mergers/{id}/report":                    signedIn,
	"GET /mergers/{id}/workbook.xlsx":             signedIn,
	"GET /mergers/{id}/import":                    writers,
	"POST /mergers/{id}/import":                   writers,
	"GET /mergers/{id}/report.xlsx":               signedIn,
	"GET /mergers/{id}/tasks/new":                 writers,
	"POST /mergers/{id}/tasks":                    writers,
	"GET /tasks/{id}/edit":                        writers,
	"POST /tasks/{id}":                            writers,
	"GET /api/v1/mergers/{id}/tasks":              signedIn,
	"POST /api/v1/mergers/{id}/tasks":             writers,
	"PUT /api/v1/tasks/{id}":                      writers,
	"GET /api/v1/mergers/{id}/progress":           signedIn,
}

// concrete turns a pattern into a request path with real ids.
func concrete(pattern string, p principals, role reqctx.Role) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.Replace(path, "{$}", "", 1)
	if strings.HasSuffix(path, "/static/") {
		path += "app.css"
	}
	id := p.users[reqctx.RoleViewer].ID
	if strings.Contains(path, "apikeys/{id}") {
		id = "kdoesnotexist"
	}
	path = strings.NewReplacer("{level}", "legacy-ward", "{code}", "00001", "{toLevel}", "ward", "{toCode}", "00097").Replace(path)
	return method, strings.Replace(path, "{id}", id, 1)
}

func TestRouteRoleMatrix(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		p := seed(t, a)
		registered := map[string]bool{}
		for _, rt := range a.router.Routes() {
			registered[rt.Pattern] = true
			want, ok := accessOf(rt.Pattern)
			if !ok {
				t.Errorf("route %q is not in routeAccess: say who may use it", rt.Pattern)
				continue
			}
			who := append([]reqctx.Role{""}, reqctx.Roles...) // "" is anonymous
			for _, role := range who {
				method, path := concrete(rt.Pattern, p, role)
				var body io.Reader
				if method != http.MethodGet {
					body = strings.NewReader("")
				}
				req := httptest.NewRequest(method, path, body)
				if strings.HasPrefix(path, "/api/") && method != http.MethodGet {
					req.Header.Set("Content-Type", "application/json")
					req.Body = io.NopCloser(strings.NewReader("{}"))
				} else if method == http.MethodPost {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				if role != "" {
					req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[role].Username)})
				}
				rec := httptest.NewRecorder()
				a.handler.ServeHTTP(rec, req)
				got := rec.Code
				admitted := want == everyone || want == signedIn && role != "" || want == adminOnly && role == reqctx.RoleAdmin ||
					want == reviewers && (role == reqctx.RoleAdmin || role == reqctx.RoleCoordinator || role == reqctx.RoleOfficer) ||
					want == writers && (role == reqctx.RoleAdmin || role == reqctx.RoleCoordinator) ||
					want == handlers && (role == reqctx.RoleAdmin || role == reqctx.RoleCoordinator || role == reqctx.RoleOfficer || role == reqctx.RoleLeader) ||
					want == gatewayReaders && (role == reqctx.RoleAdmin || role == reqctx.RoleCoordinator || role == reqctx.RoleLeader)
				switch {
				case got >= 500:
					t.Errorf("%s as %q: got %d, never want a 5xx", rt.Pattern, role, got)
				case admitted && refusedByGuard(rec):
					t.Errorf("%s as %q: got %d, want it admitted", rt.Pattern, role, got)
				case !admitted && role == "" && strings.HasPrefix(path, "/api/") && got != 401:
					t.Errorf("%s anonymous: got %d, want 401", rt.Pattern, got)
				case !admitted && role == "" && !strings.HasPrefix(path, "/api/") && method == http.MethodGet &&
					(got != 302 || !strings.HasPrefix(rec.Header().Get("Location"), "/login")):
					t.Errorf("%s anonymous: got %d to %q, want 302 to /login", rt.Pattern, got, rec.Header().Get("Location"))
				case !admitted && role == "" && method != http.MethodGet && got != 401:
					t.Errorf("%s anonymous: got %d, want 401", rt.Pattern, got)
				case !admitted && role != "" && got != 403:
					t.Errorf("%s as %s: got %d, want 403", rt.Pattern, role, got)
				}
			}
		}
		declared := maps.Clone(routeAccess)
		for _, m := range moreRouteAccess {
			maps.Copy(declared, m)
		}
		for pattern := range declared {
			if !registered[pattern] {
				t.Errorf("routeAccess names %q, which is not registered", pattern)
			}
		}
	})
}

// refusedByGuard reports whether the router's rule check (not the handler)
// turned the request away: a redirect to sign-in, or its 401/403 message.
func refusedByGuard(rec *httptest.ResponseRecorder) bool {
	if rec.Code == 302 && strings.HasPrefix(rec.Header().Get("Location"), "/login") {
		return true
	}
	b := rec.Body.String()
	return (rec.Code == 401 || rec.Code == 403) &&
		(strings.Contains(b, "error.sign_in_required") || strings.Contains(b, "error.forbidden") ||
			strings.Contains(b, "Bạn cần đăng nhập") || strings.Contains(b, "không có quyền dùng"))
}

func TestRouterRefusesRouteWithoutRule(t *testing.T) {
	ui, err := web.NewUI(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter(ui)
	rt.Handle("GET /ok", web.Public, func(http.ResponseWriter, *http.Request) error { return nil })
	if err := rt.Validate(); err != nil {
		t.Fatalf("router with rules: %v", err)
	}
	rt.Handle("GET /forgotten", web.Rule{}, func(http.ResponseWriter, *http.Request) error { return nil })
	if err := rt.Validate(); err == nil || !strings.Contains(err.Error(), "/forgotten") {
		t.Fatalf("got %v, want an error naming GET /forgotten", err)
	}
}

type scenario struct {
	name         string
	method       string
	path         string
	body         string
	contentType  string
	header       map[string]string
	as           reqctx.Role // "" anonymous; "key" is shown by useKey
	useKey       bool
	wantStatus   int
	wantType     string // prefix of Content-Type
	wantCode     string // problem code
	wantText     string // substring of the body
	wantLocation string
}

func runScenarios(t *testing.T, a *app, p principals, cases []scenario) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req := httptest.NewRequest(tc.method, tc.path, body)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			if tc.as != "" {
				req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[tc.as].Username)})
			}
			if tc.useKey {
				req.Header.Set("Authorization", "Bearer "+p.key)
			}
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("got status %d, want %d; body: %.300s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			if ct := rec.Header().Get("Content-Type"); tc.wantType != "" && !strings.HasPrefix(ct, tc.wantType) {
				t.Fatalf("got Content-Type %q, want %q", ct, tc.wantType)
			}
			if tc.wantCode != "" {
				var prob web.Problem
				if err := json.Unmarshal(rec.Body.Bytes(), &prob); err != nil {
					t.Fatalf("not a problem document: %v; %.300s", err, rec.Body.String())
				}
				if prob.Code != tc.wantCode || prob.Status != tc.wantStatus || prob.Type == "" || prob.Title == "" {
					t.Fatalf("got problem %+v, want code %s status %d", prob, tc.wantCode, tc.wantStatus)
				}
			}
			if tc.wantLocation != "" && rec.Header().Get("Location") != tc.wantLocation {
				t.Fatalf("got Location %q, want %q", rec.Header().Get("Location"), tc.wantLocation)
			}
			if tc.wantText != "" && !strings.Contains(rec.Body.String(), tc.wantText) {
				t.Fatalf("body lacks %q: %.500s", tc.wantText, rec.Body.String())
			}
			for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Request-Id"} {
				if rec.Header().Get(h) == "" {
					t.Errorf("response lacks %s", h)
				}
			}
		})
	}
}

const jsonCT = "application/json"

func TestHandlerScenarios(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		p := seed(t, a)
		a.router.Handle("GET /test/panic", web.Public, func(http.ResponseWriter, *http.Request) error { panic("boom") })
		a.router.Handle("GET /api/v1/test/panic", web.Public, func(http.ResponseWriter, *http.Request) error { panic("boom") })
		big := `{"username":"` + strings.Repeat("a", 70<<10) + `"}`
		runScenarios(t, a, p, []scenario{
			{name: "unknown page is a Vietnamese 404", method: "GET", path: "/khong-co-trang-nay", as: reqctx.RoleViewer,
				wantStatus: 404, wantType: "text/html", wantText: "Không tìm thấy trang"},
			{name: "unknown page in English after the toggle", method: "GET", path: "/nope", header: map[string]string{"Cookie": "lang=en"},
				wantStatus: 404, wantType: "text/html", wantText: "does not exist"},
			{name: "unknown API route is problem+json", method: "GET", path: "/api/v1/khong-co", useKey: true,
				wantStatus: 404, wantType: "application/problem+json", wantCode: "error.page_not_found"},
			{name: "wrong method is 405", method: "PUT", path: "/api/v1/users", useKey: true,
				wantStatus: 405, wantType: "application/problem+json", wantCode: "error.method_not_allowed"},
			{name: "malformed JSON is 400", method: "POST", path: "/api/v1/users", useKey: true, contentType: jsonCT, body: `{"username":`,
				wantStatus: 400, wantType: "application/problem+json", wantCode: "error.json_malformed"},
			{name: "unknown JSON field is 400", method: "POST", path: "/api/v1/users", useKey: true, contentType: jsonCT, body: `{"admin":true}`,
				wantStatus: 400, wantCode: "error.json_malformed"},
			{name: "wrong JSON type is 400 naming the field", method: "POST", path: "/api/v1/users", useKey: true, contentType: jsonCT, body: `{"username":5}`,
				wantStatus: 400, wantCode: "error.json_field_type", wantText: `"field":"username"`},
			{name: "trailing JSON is 400", method: "POST", path: "/api/v1/users", useKey: true, contentType: jsonCT, body: `{} {}`,
				wantStatus: 400, wantCode: "error.json_trailing"},
			{name: "form body to JSON API is 400", method: "POST", path: "/api/v1/users", useKey: true, contentType: "text/plain", body: `{}`,
				wantStatus: 400, wantCode: "error.json_content_type"},
			{name: "oversized body is 413", method: "POST", path: "/api/v1/users", useKey: true, contentType: jsonCT, body: big,
				wantStatus: 413, wantType: "application/problem+json", wantCode: "error.too_large"},
			{name: "invalid fields listed in errors[]", method: "POST", path: "/api/v1/users", useKey: true, contentType: jsonCT,
				body:       `{"username":"x","full_name":"","role":"viewer","password":"short"}`,
				wantStatus: 400, wantCode: "error.invalid_input", wantText: `"field":"password"`},
			{name: "HTML injection is escaped in the page", method: "POST", path: "/users", as: reqctx.RoleAdmin,
				contentType: "application/x-www-form-urlencoded",
				body:        url.Values{"username": {"<script>alert(1)</script>"}, "full_name": {"<b>x</b>"}, "role": {"viewer"}, "scope_kind": {"province"}, "password": {"0123456789"}}.Encode(),
				wantStatus:  400, wantType: "text/html", wantText: "&lt;script&gt;alert(1)&lt;/script&gt;"},
			{name: "SQL in a search is only text", method: "GET", path: "/api/v1/users?q=" + url.QueryEscape("' OR 1=1 --"), useKey: true,
				wantStatus: 200, wantText: `"total":0`},
			{name: "create user through the API", method: "POST", path: "/api/v1/users", useKey: true, contentType: jsonCT,
				body:       `{"username":"thu.ha","full_name":"Trần Thu Hà","role":"officer","scope":{"kind":"ward","code":"26740"},"password":"0123456789ab"}`,
				wantStatus: 201, wantType: "application/json", wantText: `"username":"thu.ha"`},
			{name: "duplicate username is 409", method: "POST", path: "/api/v1/users", useKey: true, contentType: jsonCT,
				body:       `{"username":"thu.ha","full_name":"Trần Thu Hà","role":"officer","password":"0123456789ab"}`,
				wantStatus: 409, wantCode: "user.username_taken"},
			{name: "a user by id through the API", method: "GET", path: "/api/v1/users/" + p.users[reqctx.RoleOfficer].ID, useKey: true,
				wantStatus: 200, wantText: `"username":"u.officer"`},
			{name: "a user's page by id", method: "GET", path: "/users/" + p.users[reqctx.RoleLeader].ID, as: reqctx.RoleAdmin,
				wantStatus: 200, wantText: "Sửa tài khoản: u.leader"},
			{name: "PATCH with a stale version is 409", method: "PATCH", path: "/api/v1/users/" + p.users[reqctx.RoleViewer].ID, useKey: true,
				contentType: jsonCT, body: `{"full_name":"Tên mới","version":99}`, wantStatus: 409, wantCode: "user.stale_version"},
			{name: "PATCH with the current version saves", method: "PATCH", path: "/api/v1/users/" + p.users[reqctx.RoleViewer].ID, useKey: true,
				contentType: jsonCT, body: `{"full_name":"Tên mới","version":1}`, wantStatus: 200, wantText: `"full_name":"Tên mới"`},
			{name: "revoking an unknown key is 404", method: "DELETE", path: "/api/v1/apikeys/knope", useKey: true,
				wantStatus: 404, wantCode: "apikey.not_found"},
			{name: "jobs list through the API", method: "GET", path: "/api/v1/jobs?state=pending", useKey: true,
				wantStatus: 200, wantText: `"jobs":`},
			{name: "a bad job state filter is 400", method: "GET", path: "/api/v1/jobs?state=lost", useKey: true,
				wantStatus: 400, wantCode: "error.invalid_input", wantText: `"code":"jobs.invalid_state"`},
			{name: "cancelling an unknown job is 404", method: "POST", path: "/api/v1/jobs/NOPE/cancel", useKey: true,
				wantStatus: 404, wantCode: "jobs.not_found"},
			{name: "jobs page in Vietnamese", method: "GET", path: "/jobs", as: reqctx.RoleAdmin,
				wantStatus: 200, wantText: "Tác vụ nền"},
			{name: "a NUL byte in a query is 400", method: "GET", path: "/api/v1/users?q=a%00b", useKey: true,
				wantStatus: 400, wantCode: "error.text_invalid"},
			{name: "broken UTF-8 in a query is 400", method: "GET", path: "/api/v1/audit?actor=%C3%28", useKey: true,
				wantStatus: 400, wantCode: "error.text_invalid"},
			{name: "a NUL byte in a sign-in form is 400, not 500", method: "POST", path: "/login", contentType: "application/x-www-form-urlencoded",
				body: "username=abc%00x&password=y", wantStatus: 400, wantText: "ký tự không hợp lệ"},
			{name: "a NUL escaped in JSON is 400, not 500", method: "POST", path: "/api/v1/users", useKey: true, contentType: jsonCT,
				body:       `{"username":"nul.user","full_name":"a\u0000b","role":"viewer","password":"0123456789ab"}`,
				wantStatus: 400, wantCode: "error.text_invalid"},
			{name: "the language switch never redirects off-site", method: "GET", path: "/lang?to=en&next=/./%5Cevil.example",
				wantStatus: 303, header: map[string]string{"Accept": "text/html"}, wantLocation: "/"},
			{name: "the language switch returns to the page with its query", method: "GET", path: "/lang?to=en&next=" + url.QueryEscape("/users?q=ha"),
				wantStatus: 303, wantLocation: "/users?q=ha"},
			{name: "unknown user is 404", method: "GET", path: "/api/v1/users/u_nope", useKey: true,
				wantStatus: 404, wantCode: "user.not_found"},
			{name: "bad API key is 401", method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": "Bearer hnk_x_y"},
				wantStatus: 401, wantCode: "auth.bad_api_key"},
			{name: "a non-Bearer Authorization is 401", method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": "Basic YWRtaW46eA=="},
				wantStatus: 401, wantCode: "auth.bad_api_key"},
			{name: "API key identifies the caller", method: "GET", path: "/api/v1/me", useKey: true,
				wantStatus: 200, wantText: `"kind":"apikey"`},
			{name: "bad audit date is a field error", method: "GET", path: "/api/v1/audit?from=31/02/2025", useKey: true,
				wantStatus: 400, wantCode: "error.invalid_input", wantText: `"field":"from"`},
			{name: "audit API lists entries", method: "GET", path: "/api/v1/audit?action=user.", useKey: true,
				wantStatus: 200, wantText: `"action":"user.create"`},
			{name: "audit verify through the API", method: "GET", path: "/api/v1/audit/verify", useKey: true,
				wantStatus: 200, wantText: `"ok":true`},
			{name: "a panic on a page is a 500 page with the request id", method: "GET", path: "/test/panic",
				wantStatus: 500, wantType: "text/html", wantText: "Mã yêu cầu"},
			{name: "a panic on the API is a 500 problem", method: "GET", path: "/api/v1/test/panic",
				wantStatus: 500, wantCode: "error.internal"},
			{name: "cross-site POST is refused", method: "POST", path: "/logout", as: reqctx.RoleViewer,
				header:     map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
				wantStatus: 403, wantText: "trang web khác"},
			{name: "cross-origin POST without fetch metadata is refused", method: "POST", path: "/api/v1/users", useKey: true,
				contentType: jsonCT, body: `{}`, header: map[string]string{"Origin": "http://evil.example"},
				wantStatus: 403, wantCode: "error.cross_origin"},
			{name: "same-origin POST passes the CSRF check", method: "POST", path: "/logout", as: reqctx.RoleViewer,
				header: map[string]string{"Sec-Fetch-Site": "same-origin"}, wantStatus: 303},
			{name: "health", method: "GET", path: "/healthz", wantStatus: 200, wantText: `"ok"`},
			{name: "ready when migrated", method: "GET", path: "/readyz", wantStatus: 200, wantText: `"ready"`},
			{name: "metrics in Prometheus format", method: "GET", path: "/metrics", wantStatus: 200, wantText: "hopnhat_http_requests_total"},
			{name: "dashboard in Vietnamese", method: "GET", path: "/", as: reqctx.RoleAdmin, wantStatus: 200, wantText: "Xin chào"},
			{name: "login page keeps a local next only", method: "GET", path: "/login?next=//evil.example/x", wantStatus: 200,
				wantText: `name="next" value="/"`},
		})
	})
}

func TestLoginFlowOverHTTP(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		seed(t, a)
		post := func(form url.Values, cookie string) *httptest.ResponseRecorder {
			req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if cookie != "" {
				req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: cookie})
			}
			rec := httptest.NewRecorder()
			a.handler.ServeHTTP(rec, req)
			return rec
		}
		rec := post(url.Values{"username": {"u.officer"}, "password": {"sai-mat-khau"}}, "")
		if rec.Code != 401 || !strings.Contains(rec.Body.String(), "Tên đăng nhập hoặc mật khẩu không đúng.") {
			t.Fatalf("wrong password: got %d", rec.Code)
		}
		rec = post(url.Values{"username": {"u.officer"}, "password": {testPassword}, "next": {"/account"}}, "")
		if rec.Code != 303 || rec.Header().Get("Location") != "/account" {
			t.Fatalf("login: got %d to %q, want 303 to /account", rec.Code, rec.Header().Get("Location"))
		}
		var c *http.Cookie
		for _, x := range rec.Result().Cookies() {
			if x.Name == auth.SessionCookie {
				c = x
			}
		}
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || len(c.Value) < 40 {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, a 256-bit token", c)
		}
		// Signing in again, with the old session still sent, gives a new token:
		// a token known before sign-in never becomes the signed-in session.
		rec = post(url.Values{"username": {"u.officer"}, "password": {testPassword}}, c.Value)
		var c2 *http.Cookie
		for _, x := range rec.Result().Cookies() {
			if x.Name == auth.SessionCookie {
				c2 = x
			}
		}
		if c2 == nil || c2.Value == c.Value {
			t.Fatalf("second sign-in kept the token %q", c.Value)
		}
		// Six failures on one account lock it, with a Retry-After.
		for range 6 {
			rec = post(url.Values{"username": {"u.viewer"}, "password": {"doan-bua-di"}}, "")
		}
		if rec.Code != 429 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "quá nhiều lần") {
			t.Fatalf("after repeated failures: got %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
		}
	})
}

// An administrator whose password was issued by someone else may do nothing
// but choose their own: not through a page, a form or the API.
func TestMustChangePasswordBlocksEverythingElse(t *testing.T) {
	d := dbtest.SQLite(t, modules())
	a := testApp(t, d)
	if _, err := a.auth.CreateUser(context.Background(), auth.NewUser{Username: "moi", FullName: "Quản trị mới", Role: reqctx.RoleAdmin,
		Scope: reqctx.Scope{Kind: reqctx.ScopeProvince}, Password: testPassword, MustChangePassword: true}); err != nil {
		t.Fatal(err)
	}
	tok := login(t, a, "moi")
	cases := []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/users", "", 302},
		{"GET", "/api/v1/users", "", 403},
		{"POST", "/apikeys", "name=x&role=admin", 403},
		{"POST", "/users", "username=ke.gian&full_name=x&role=admin&scope_kind=province&password=0123456789", 403},
		{"GET", "/account", "", 200},
		{"GET", "/static/app.css", "", 200},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: tok})
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s %s before the new password: got %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
	if _, err := a.auth.UserByName(context.Background(), "ke.gian"); err == nil {
		t.Fatal("a user was created before the password change")
	}
}

// A PATCH whose password is refused changes nothing else either.
func TestPatchWithBadPasswordChangesNothing(t *testing.T) {
	d := dbtest.SQLite(t, modules())
	a := testApp(t, d)
	p := seed(t, a)
	u := p.users[reqctx.RoleViewer]
	req := httptest.NewRequest("PATCH", "/api/v1/users/"+u.ID, strings.NewReader(`{"role":"admin","password":"short","version":1}`))
	req.Header.Set("Content-Type", jsonCT)
	req.Header.Set("Authorization", "Bearer "+p.key)
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	if rec.Code != 400 {
		t.Fatalf("got %d, want 400", rec.Code)
	}
	got, err := a.auth.User(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != reqctx.RoleViewer || got.Version != u.Version {
		t.Fatalf("role %s version %d after a refused PATCH, want viewer and %d", got.Role, got.Version, u.Version)
	}
}
