package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hopnhat/internal/adminunit/refdata/refdatatest"
	"hopnhat/internal/adminunit/register"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

// multipartBody builds an upload form: the file and the other fields.
func multipartBody(t *testing.T, file, content string, fields map[string]string) (body, contentType string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != "" {
		fw, err := w.CreateFormFile("file", file)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(fw, content)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String(), w.FormDataContentType()
}

func TestAdminUnitScenarios(t *testing.T) {
	reg := refdatatest.Register(t)
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		p := seed(t, a)
		// Before the import every page says how to import, and the API says why it cannot answer.
		runScenarios(t, a, p, []scenario{
			{name: "search page before import", method: "GET", path: "/adminunits", as: reqctx.RoleViewer,
				wantStatus: 200, wantText: "hopnhat adminunit import"},
			{name: "API before import", method: "GET", path: "/api/v1/adminunits?q=a", useKey: true,
				wantStatus: 409, wantCode: "adminunit.not_imported"},
		})
		if _, err := register.NewService(d, slog.New(slog.DiscardHandler)).Import(context.Background(), reg); err != nil {
			t.Fatal(err)
		}
		// Ward scopes now name a current ward, shown by its name.
		_, err := a.auth.CreateUser(context.Background(), auth.NewUser{Username: "motcua.x", FullName: "Cán bộ X", Role: reqctx.RoleOfficer,
			Scope: reqctx.Scope{Kind: reqctx.ScopeWard, Code: "LE-CHAN"}, Password: testPassword})
		if ae := (*apperr.Error)(nil); !errors.As(err, &ae) || ae.Field["scope"] != "adminunit.scope_unknown_ward" {
			t.Fatalf("ward scope with an unknown code: got %v, want a scope field error", err)
		}
		if _, err := a.auth.CreateUser(context.Background(), auth.NewUser{Username: "motcua.lechan", FullName: "Cán bộ Lê Chân", Role: reqctx.RoleOfficer,
			Scope: reqctx.Scope{Kind: reqctx.ScopeWard, Code: "11383"}, Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		csvBody, csvCT := multipartBody(t, "hồ sơ.csv", "id,Địa chỉ\n1,\"Phường Phúc Xá, Quận Ba Đình, Hà Nội\"\n2,\"Phường Dương Nội, Quận Hà Đông, Hà Nội\"\n",
			map[string]string{"column": "Địa chỉ", "review": "1"})
		badType, badTypeCT := multipartBody(t, "a.ods", "x", map[string]string{"column": "A"})
		noColumn, noColumnCT := multipartBody(t, "a.csv", "id,dia_chi\n1,x\n", map[string]string{"column": "address"})
		badQuote, badQuoteCT := multipartBody(t, "q.csv", "id,dia_chi\n1,\"x\"y\n", map[string]string{"column": "2"})
		runScenarios(t, a, p, []scenario{
			{name: "ward scope shown by name", method: "GET", path: "/users?q=lechan", as: reqctx.RoleAdmin,
				wantStatus: 200, wantText: "Phường Lê Chân, Thành phố Hải Phòng"},
			{name: "search without diacritics", method: "GET", path: "/adminunits?q=ben+nghe", as: reqctx.RoleViewer,
				wantStatus: 200, wantText: "Phường Bến Nghé"},
			{name: "search shows where a legacy ward went", method: "GET", path: "/adminunits?q=ben+nghe", as: reqctx.RoleViewer,
				wantStatus: 200, wantText: `<a href="/adminunits/ward/26740">Phường Sài Gòn</a>`},
			{name: "a level listed without a query", method: "GET", path: "/adminunits?level=legacy-ward", as: reqctx.RoleViewer,
				wantStatus: 200, wantText: "Còn 9.835 đơn vị nữa"},
			{name: "unit page in Vietnamese numbers", method: "GET", path: "/adminunits/province/01", as: reqctx.RoleViewer,
				wantStatus: 200, wantText: "Diện tích 3.359,80 km²"},
			{name: "search finds nothing", method: "GET", path: "/adminunits?q=zzzz", as: reqctx.RoleViewer,
				wantStatus: 200, wantText: "Không tìm thấy đơn vị nào"},
			{name: "search page escapes the query", method: "GET", path: "/adminunits?q=%3Cscript%3E", as: reqctx.RoleViewer,
				wantStatus: 200, wantText: "&lt;script&gt;"},
			{name: "legacy ward shows where it went", method: "GET", path: "/adminunits/legacy-ward/26740", as: reqctx.RoleViewer,
				wantStatus: 200, wantText: "Phường Sài Gòn"},
			{name: "a ward's older name is shown", method: "GET", path: "/adminunits/legacy-ward/03244", as: reqctx.RoleViewer,
				wantStatus: 200, wantText: "Còn được ghi là: Xã Xá Nhè"},
			{name: "new ward shows what it was made of", method: "GET", path: "/adminunits/ward/26740", as: reqctx.RoleViewer,
				wantStatus: 200, wantText: "Phường Bến Nghé"},
			{name: "unknown unit page", method: "GET", path: "/adminunits/ward/99999", as: reqctx.RoleViewer,
				wantStatus: 404, wantText: "Không có đơn vị hành chính này"},
			{name: "unknown level", method: "GET", path: "/api/v1/adminunits/district/001", useKey: true,
				wantStatus: 404, wantCode: "adminunit.unit.not_found"},
			{name: "API search", method: "GET", path: "/api/v1/adminunits?q=hai+duong&level=legacy-province", useKey: true,
				wantStatus: 200, wantType: jsonCT, wantText: `"code":"30"`},
			{name: "API search needs q", method: "GET", path: "/api/v1/adminunits", useKey: true,
				wantStatus: 400, wantCode: "error.invalid_input"},
			{name: "code on a past day", method: "GET", path: "/api/v1/adminunits/code/26740?at=2025-01-01", useKey: true,
				wantStatus: 200, wantText: "Phường Bến Nghé"},
			{name: "code today", method: "GET", path: "/api/v1/adminunits/code/26740", useKey: true,
				wantStatus: 200, wantText: "Phường Sài Gòn"},
			{name: "bad date", method: "GET", path: "/api/v1/adminunits/code/26740?at=1%2F1%2F2025", useKey: true,
				wantStatus: 400, wantCode: "error.invalid_input"},
			{name: "unit with successors", method: "GET", path: "/api/v1/adminunits/legacy-province/30", useKey: true,
				wantStatus: 200, wantText: `"kind":"merged"`},
			{name: "batch convert", method: "POST", path: "/api/v1/addresses/convert", useKey: true, contentType: jsonCT,
				body: `{"addresses":["12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM"]}`, wantStatus: 200, wantText: `"ward_code":"26740","status":"exact"`},
			{name: "batch convert, malformed JSON", method: "POST", path: "/api/v1/addresses/convert", useKey: true, contentType: jsonCT,
				body: `{"addresses":[`, wantStatus: 400, wantCode: "error.json_malformed"},
			{name: "batch convert, empty", method: "POST", path: "/api/v1/addresses/convert", useKey: true, contentType: jsonCT,
				body: `{"addresses":[]}`, wantStatus: 400, wantCode: "error.invalid_input"},
			{name: "batch convert, unknown form", method: "POST", path: "/api/v1/addresses/convert", useKey: true, contentType: jsonCT,
				body: `{"addresses":["x"],"form":"old"}`, wantStatus: 400, wantCode: "error.invalid_input"},
			{name: "paste page converts", method: "POST", path: "/adminunits/convert", as: reqctx.RoleOfficer,
				contentType: "application/x-www-form-urlencoded", body: "addresses=Ph%C6%B0%E1%BB%9Dng+Ph%C3%BAc+X%C3%A1%2C+Ba+%C4%90%C3%ACnh%2C+H%C3%A0+N%E1%BB%99i",
				wantStatus: 200, wantText: "Phường Hồng Hà"},
			{name: "paste page, nothing pasted", method: "POST", path: "/adminunits/convert", as: reqctx.RoleOfficer,
				contentType: "application/x-www-form-urlencoded", body: "addresses=+", wantStatus: 422, wantText: "Hãy nhập ít nhất một địa chỉ"},
			{name: "upload of an unknown type", method: "POST", path: "/adminunits/convert/file", as: reqctx.RoleOfficer,
				contentType: badTypeCT, body: badType, wantStatus: 422, wantText: "Chỉ nhận tệp .csv hoặc .xlsx"},
			{name: "upload naming a missing column", method: "POST", path: "/adminunits/convert/file", as: reqctx.RoleOfficer,
				contentType: noColumnCT, body: noColumn, wantStatus: 422, wantText: "&#34;dia_chi&#34;"},
			{name: "upload with a broken quote", method: "POST", path: "/adminunits/convert/file", as: reqctx.RoleOfficer,
				contentType: badQuoteCT, body: badQuote, wantStatus: 422, wantText: "q.csv, dòng 2"},
			{name: "province basis form for admins", method: "GET", path: "/adminunits/province/31", as: reqctx.RoleAdmin,
				wantStatus: 200, wantText: `id="province-basis"`},
			{name: "province basis set through the API", method: "PUT", path: "/api/v1/adminunits/province/31/ward-basis", useKey: true,
				contentType: jsonCT, body: `{"basis":"Nghị quyết 1669/NQ-UBTVQH15"}`, wantStatus: 200, wantText: `"links_changed":`},
			{name: "province basis shows on a ward", method: "GET", path: "/adminunits/ward/10525", as: reqctx.RoleViewer,
				wantStatus: 200, wantText: "Nghị quyết 1669/NQ-UBTVQH15"},
			{name: "province basis for an unknown province", method: "PUT", path: "/api/v1/adminunits/province/99/ward-basis", useKey: true,
				contentType: jsonCT, body: `{"basis":"x"}`, wantStatus: 404, wantCode: "adminunit.unit.not_found"},
			{name: "reviewers only on the queue API", method: "GET", path: "/api/v1/adminunits/reviews", as: reqctx.RoleViewer,
				wantStatus: 403},
		})

		// A good upload: redirected to its summary, downloadable by its owner only.
		req := httptest.NewRequest("POST", "/adminunits/convert/file", strings.NewReader(csvBody))
		req.Header.Set("Content-Type", csvCT)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[reqctx.RoleOfficer].Username)})
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		loc := rec.Header().Get("Location")
		if rec.Code != 303 || !strings.HasPrefix(loc, "/adminunits/convert/file/ex_") {
			t.Fatalf("upload: got %d to %q; %.300s", rec.Code, loc, rec.Body.String())
		}
		runScenarios(t, a, p, []scenario{
			{name: "upload summary", method: "GET", path: loc, as: reqctx.RoleOfficer, wantStatus: 200, wantText: "Đã chuyển 2 dòng"},
			{name: "upload download", method: "GET", path: loc + "/download", as: reqctx.RoleOfficer, wantStatus: 200,
				wantType: "text/csv", wantText: "id,Địa chỉ,province_code,ward_code,status"},
			{name: "someone else's upload", method: "GET", path: loc + "/download", as: reqctx.RoleCoordinator, wantStatus: 404},
			{name: "upload queued the divided ward", method: "GET", path: "/adminunits/review", as: reqctx.RoleOfficer,
				wantStatus: 200, wantText: "1 địa chỉ đang chờ duyệt"},
		})
		rec = httptest.NewRecorder()
		req = httptest.NewRequest("GET", loc+"/download", nil)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[reqctx.RoleOfficer].Username)})
		a.handler.ServeHTTP(rec, req)
		if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, ".csv") {
			t.Errorf("Content-Disposition: got %q", cd)
		}
		if body := rec.Body.String(); !strings.Contains(body, ",01,00097,exact,") || !strings.Contains(body, ",split,") {
			t.Errorf("converted file: got %.400q", body)
		}
	})
}
