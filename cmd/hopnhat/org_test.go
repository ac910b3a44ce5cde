package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/org"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

const formCT = "application/x-www-form-urlencoded"

// orgFixture is a small merger: Hải Dương's agencies before, Hải Phòng's after.
type orgFixture struct {
	hd, giaLoc, stcHD, hp, stcHP, w1, w2, renamed, script org.Agency
}

func seedAgencies(t *testing.T, s *org.Service) orgFixture {
	t.Helper()
	ctx := reqctx.WithActor(context.Background(), "user:test")
	mk := func(in org.Input) org.Agency {
		t.Helper()
		a, err := s.Create(ctx, in)
		if err != nil {
			t.Fatalf("create %s: %v", in.Name, err)
		}
		return a
	}
	var f orgFixture
	f.hd = mk(org.Input{Name: "UBND tỉnh Hải Dương", Kind: org.KindProvinceCommittee, Period: org.Legacy, ProvinceCode: "30", Code: "000.00.00.H26"})
	f.giaLoc = mk(org.Input{Name: "UBND huyện Gia Lộc", Kind: org.KindDistrictCommittee, Period: org.Legacy, ProvinceCode: "30", ParentID: f.hd.ID})
	f.stcHD = mk(org.Input{Name: "Sở Tài chính Hải Dương", Kind: org.KindDepartment, Period: org.Legacy, ProvinceCode: "30", ParentID: f.hd.ID})
	f.hp = mk(org.Input{Name: "UBND thành phố Hải Phòng", Kind: org.KindProvinceCommittee, Period: org.Current, ProvinceCode: "31", Code: "000.00.00.H31"})
	f.stcHP = mk(org.Input{Name: "Sở Tài chính Hải Phòng", Kind: org.KindDepartment, Period: org.Current, ProvinceCode: "31", ParentID: f.hp.ID})
	f.w1 = mk(org.Input{Name: "UBND xã Gia Lộc", Kind: org.KindWardCommittee, Period: org.Current, ProvinceCode: "31", WardCode: "10999", ParentID: f.hp.ID})
	f.w2 = mk(org.Input{Name: "UBND xã Gia Phúc", Kind: org.KindWardCommittee, Period: org.Current, ProvinceCode: "31", WardCode: "11050", ParentID: f.hp.ID})
	f.renamed = mk(org.Input{Name: "Sở Khoa học và Công nghệ Hải Phòng", Kind: org.KindDepartment, Period: org.Current, ProvinceCode: "31",
		Code: "000.00.15.H31", OldCode: "000.00.15.H26", ParentID: f.hp.ID})
	f.script = mk(org.Input{Name: "<script>alert(1)</script> Ban <b>quản lý</b>", Kind: org.KindOther, Period: org.Legacy, ProvinceCode: "30"})
	return f
}

func TestAgencyScenarios(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		p := seed(t, a)
		const coord, viewer = reqctx.RoleCoordinator, reqctx.RoleViewer
		runScenarios(t, a, p, []scenario{
			{name: "an empty register says how to add or import", method: "GET", path: "/agencies", as: coord,
				wantStatus: 200, wantType: "text/html", wantText: "nạp cả danh sách từ tệp Excel (.xlsx)"},
			{name: "an empty register tells a reader who fills it", method: "GET", path: "/agencies", as: viewer,
				wantStatus: 200, wantText: "Điều phối viên sáp nhập hoặc quản trị viên"},
		})

		f := seedAgencies(t, a.org)
		form := func(v url.Values) string { return v.Encode() }
		runScenarios(t, a, p, []scenario{
			// The register as pages.
			{name: "the register shows both trees in Vietnamese", method: "GET", path: "/agencies", as: viewer,
				wantStatus: 200, wantType: "text/html", wantText: "Trước sáp nhập: cơ quan của các tỉnh cũ"},
			{name: "a child is drawn under its parent", method: "GET", path: "/agencies", as: viewer,
				wantStatus: 200, wantText: `└` + "\u00a0" + `</span><a href="/agencies/` + f.giaLoc.ID + `">UBND huyện Gia Lộc</a>`},
			{name: "a legacy agency with no successor is flagged", method: "GET", path: "/agencies?period=legacy", as: viewer,
				wantStatus: 200, wantText: "chưa có đơn vị kế thừa"},
			{name: "search without diacritics on the page", method: "GET", path: "/agencies?q=gia+loc", as: viewer,
				wantStatus: 200, wantText: "UBND huyện Gia Lộc"},
			{name: "search by an old code on the page", method: "GET", path: "/agencies?q=000.00.15.h26", as: viewer,
				wantStatus: 200, wantText: "Sở Khoa học và Công nghệ Hải Phòng"},
			{name: "a search with no match says so", method: "GET", path: "/agencies?q=bo+quoc+phong", as: viewer,
				wantStatus: 200, wantText: "Không có cơ quan nào phù hợp với “bo quoc phong”."},
			{name: "an unknown kind filter is 400, not an empty list", method: "GET", path: "/agencies?kind=ministry", as: viewer,
				wantStatus: 400, wantType: "text/html", wantText: "Hãy chọn một loại cơ quan"},
			{name: "the register in English", method: "GET", path: "/agencies", as: viewer, header: map[string]string{"Cookie": "lang=en"},
				wantStatus: 200, wantText: "Before the merger: agencies of the old provinces"},
			{name: "a name with markup is escaped in the list", method: "GET", path: "/agencies?q=script", as: viewer,
				wantStatus: 200, wantText: "&lt;script&gt;alert(1)&lt;/script&gt; Ban &lt;b&gt;quản lý&lt;/b&gt;"},
			{name: "a name with markup is escaped on its page", method: "GET", path: "/agencies/" + f.script.ID, as: coord,
				wantStatus: 200, wantText: "<h1>&lt;script&gt;alert(1)&lt;/script&gt; Ban &lt;b&gt;quản lý&lt;/b&gt;"},
			{name: "an agency page in Vietnamese", method: "GET", path: "/agencies/" + f.giaLoc.ID, as: viewer,
				wantStatus: 200, wantText: "Ai chịu trách nhiệm hiện nay"},
			{name: "a reader sees no forms", method: "GET", path: "/agencies/" + f.giaLoc.ID, as: viewer,
				wantStatus: 200, wantText: "Chưa ghi nhận đơn vị kế thừa nào."},
			{name: "a coordinator gets the successor form", method: "GET", path: "/agencies/" + f.giaLoc.ID, as: coord,
				wantStatus: 200, wantText: `<option value="` + f.w1.ID + `">UBND xã Gia Lộc</option>`},
			{name: "the successor choices narrow by a search without diacritics", method: "GET", path: "/agencies/" + f.giaLoc.ID + "?to_q=gia+phuc", as: coord,
				wantStatus: 200, wantText: `<option value="` + f.w2.ID + `">UBND xã Gia Phúc</option>`},
			{name: "an unknown agency page is 404", method: "GET", path: "/agencies/ag_nope", as: viewer,
				wantStatus: 404, wantType: "text/html", wantText: "Không tìm thấy cơ quan này."},
			{name: "the new agency form", method: "GET", path: "/agencies/new?period=legacy", as: coord,
				wantStatus: 200, wantText: `<option value="legacy" selected>Cơ quan tỉnh cũ</option>`},
			{name: "the edit form carries the version", method: "GET", path: "/agencies/" + f.stcHP.ID + "/edit", as: coord,
				wantStatus: 200, wantText: `<input type="hidden" name="version" value="1">`},

			// Writes through the forms.
			{name: "a reader cannot post the form", method: "POST", path: "/agencies", as: viewer, contentType: formCT,
				body: form(url.Values{"name": {"Sở Nội vụ"}, "kind": {"department"}, "period": {"current"}}), wantStatus: 403},
			{name: "an officer cannot post the form either", method: "POST", path: "/agencies", as: reqctx.RoleOfficer, contentType: formCT,
				body: form(url.Values{"name": {"Sở Nội vụ"}, "kind": {"department"}, "period": {"current"}}), wantStatus: 403},
			{name: "a refused form comes back with its messages", method: "POST", path: "/agencies", as: coord, contentType: formCT,
				body:       form(url.Values{"name": {""}, "kind": {"department"}, "period": {"current"}, "valid_from": {"31/02/2025"}, "code": {"Sở"}}),
				wantStatus: 422, wantType: "text/html", wantText: `<p class="field-error" id="err-name">Hãy nhập tên cơ quan`},
			{name: "a bad date is named with the other fields", method: "POST", path: "/agencies", as: coord, contentType: formCT,
				body:       form(url.Values{"name": {""}, "kind": {"department"}, "period": {"current"}, "valid_from": {"31/02/2025"}}),
				wantStatus: 422, wantText: `id="err-valid_from"`},
			{name: "a refused form keeps what was typed", method: "POST", path: "/agencies", as: coord, contentType: formCT,
				body:       form(url.Values{"name": {"Sở Nội vụ Hải Phòng"}, "kind": {"department"}, "period": {"current"}, "province_code": {"3"}}),
				wantStatus: 422, wantText: `value="Sở Nội vụ Hải Phòng"`},
			{name: "a coordinator adds an agency", method: "POST", path: "/agencies", as: coord, contentType: formCT,
				body:       form(url.Values{"name": {"Sở Nội vụ Hải Phòng"}, "kind": {"department"}, "period": {"current"}, "province_code": {"31"}, "parent_id": {f.hp.ID}, "valid_from": {"2025-07-01"}}),
				wantStatus: 303},
			{name: "a stale save shows the conflict and the form again", method: "POST", path: "/agencies/" + f.stcHD.ID, as: coord, contentType: formCT,
				body:       form(url.Values{"name": {"Sở Tài chính tỉnh Hải Dương"}, "kind": {"department"}, "period": {"legacy"}, "province_code": {"30"}, "version": {"7"}}),
				wantStatus: 409, wantType: "text/html", wantText: "Người khác vừa sửa cơ quan này sau khi bạn mở trang."},
			{name: "a current save goes through", method: "POST", path: "/agencies/" + f.stcHD.ID, as: coord, contentType: formCT,
				body:       form(url.Values{"name": {"Sở Tài chính tỉnh Hải Dương"}, "kind": {"department"}, "period": {"legacy"}, "province_code": {"30"}, "parent_id": {f.hd.ID}, "version": {"1"}}),
				wantStatus: 303, wantLocation: "/agencies/" + f.stcHD.ID + "?ok=flash.agency_saved"},
			{name: "saving an unknown agency is 404", method: "POST", path: "/agencies/ag_nope", as: coord, contentType: formCT,
				body: form(url.Values{"name": {"X"}, "version": {"1"}}), wantStatus: 404},
			{name: "a link form without a kind comes back with its message", method: "POST", path: "/agencies/" + f.stcHD.ID + "/links", as: coord, contentType: formCT,
				body: form(url.Values{"to_id": {f.stcHP.ID}}), wantStatus: 422, wantText: `id="err-kind"`},
			{name: "a coordinator adds a successor", method: "POST", path: "/agencies/" + f.stcHD.ID + "/links", as: coord, contentType: formCT,
				body:       form(url.Values{"to_id": {f.stcHP.ID}, "kind": {"merged_into"}, "note": {"Nghị quyết 1669/NQ-UBTVQH15"}}),
				wantStatus: 303, wantLocation: "/agencies/" + f.stcHD.ID + "?ok=flash.link_added"},
			{name: "the same successor twice is a conflict on the page", method: "POST", path: "/agencies/" + f.stcHD.ID + "/links", as: coord, contentType: formCT,
				body: form(url.Values{"to_id": {f.stcHP.ID}, "kind": {"merged_into"}}), wantStatus: 409, wantText: "Liên kết kế thừa này đã có."},
			{name: "the successor is shown with its kind in Vietnamese", method: "GET", path: "/agencies/" + f.stcHD.ID, as: viewer,
				wantStatus: 200, wantText: `<span class="badge">Hợp nhất vào</span>`},
			{name: "the successor lists its predecessor", method: "GET", path: "/agencies/" + f.stcHP.ID, as: viewer,
				wantStatus: 200, wantText: "Sở Tài chính tỉnh Hải Dương"},
			{name: "a coordinator removes a successor", method: "POST", path: "/agencies/" + f.stcHD.ID + "/links/" + f.stcHP.ID + "/delete", as: coord,
				contentType: formCT, wantStatus: 303, wantLocation: "/agencies/" + f.stcHD.ID + "?ok=flash.link_removed"},
			{name: "removing it again is 404", method: "POST", path: "/agencies/" + f.stcHD.ID + "/links/" + f.stcHP.ID + "/delete", as: coord,
				contentType: formCT, wantStatus: 404, wantText: "Không có liên kết kế thừa này."},

			// The API.
			{name: "create through the API", method: "POST", path: "/api/v1/agencies", useKey: true, contentType: jsonCT,
				body:       `{"name":"Sở Nội vụ Hải Dương","kind":"department","period":"legacy","province_code":"30","parent_id":"` + f.hd.ID + `","code":"000.00.12.h26","valid_to":"2025-06-30"}`,
				wantStatus: 201, wantType: "application/json", wantText: `"code":"000.00.12.H26"`},
			{name: "dates come back as YYYY-MM-DD", method: "GET", path: "/api/v1/agencies/code/000.00.12.H26", useKey: true,
				wantStatus: 200, wantText: `"valid_to":"2025-06-30"`},
			{name: "bad fields are listed in errors[]", method: "POST", path: "/api/v1/agencies", useKey: true, contentType: jsonCT,
				body:       `{"name":"","kind":"ministry","period":"current","code":"h31 <b>","valid_from":"2025-13-01"}`,
				wantStatus: 400, wantType: "application/problem+json", wantCode: "error.invalid_input", wantText: `"field":"kind"`},
			{name: "a bad date is one of the errors[]", method: "POST", path: "/api/v1/agencies", useKey: true, contentType: jsonCT,
				body: `{"name":"X","kind":"other","period":"current","valid_from":"2025-13-01"}`, wantStatus: 400, wantText: `"field":"valid_from"`},
			{name: "a taken code is a field error", method: "POST", path: "/api/v1/agencies", useKey: true, contentType: jsonCT,
				body: `{"name":"X","kind":"other","period":"current","code":"000.00.00.H31"}`, wantStatus: 400, wantText: `"code":"org.code_taken"`},
			{name: "a parent on the other side is refused", method: "POST", path: "/api/v1/agencies", useKey: true, contentType: jsonCT,
				body: `{"name":"X","kind":"other","period":"current","parent_id":"` + f.hd.ID + `"}`, wantStatus: 400, wantText: `"code":"org.parent_other_period"`},
			{name: "an unknown JSON field is 400", method: "POST", path: "/api/v1/agencies", useKey: true, contentType: jsonCT,
				body: `{"name":"X","kind":"other","period":"current","admin":true}`, wantStatus: 400, wantCode: "error.json_malformed"},
			{name: "a reader cannot POST to the API", method: "POST", path: "/api/v1/agencies", as: viewer, contentType: jsonCT,
				body: `{"name":"X","kind":"other","period":"current"}`, wantStatus: 403, wantCode: "error.forbidden"},
			{name: "a coordinator may POST to the API", method: "POST", path: "/api/v1/agencies", as: coord, contentType: jsonCT,
				body: `{"name":"Trung tâm Phục vụ hành chính công","kind":"public_service","period":"current","province_code":"31"}`, wantStatus: 201},
			{name: "PUT with the current version saves", method: "PUT", path: "/api/v1/agencies/" + f.stcHP.ID, useKey: true, contentType: jsonCT,
				body:       `{"name":"Sở Tài chính thành phố Hải Phòng","kind":"department","period":"current","province_code":"31","parent_id":"` + f.hp.ID + `","version":1}`,
				wantStatus: 200, wantText: `"version":2`},
			{name: "PUT with a stale version is 409", method: "PUT", path: "/api/v1/agencies/" + f.stcHP.ID, useKey: true, contentType: jsonCT,
				body:       `{"name":"Sở Tài chính Hải Phòng","kind":"department","period":"current","version":1}`,
				wantStatus: 409, wantType: "application/problem+json", wantCode: "org.stale_version"},
			{name: "PUT without a version is refused", method: "PUT", path: "/api/v1/agencies/" + f.stcHP.ID, useKey: true, contentType: jsonCT,
				body: `{"name":"Sở Tài chính Hải Phòng","kind":"department","period":"current"}`, wantStatus: 400, wantText: `"code":"org.version_required"`},
			{name: "PUT to an unknown agency is 404", method: "PUT", path: "/api/v1/agencies/ag_nope", useKey: true, contentType: jsonCT,
				body: `{"name":"X","kind":"other","period":"current","version":1}`, wantStatus: 404, wantCode: "org.agency_not_found"},
			{name: "search without diacritics through the API", method: "GET", path: "/api/v1/agencies?q=tai+chinh&period=legacy", useKey: true,
				wantStatus: 200, wantText: `"name":"Sở Tài chính tỉnh Hải Dương"`},
			{name: "an unknown period filter is 400", method: "GET", path: "/api/v1/agencies?period=future", useKey: true,
				wantStatus: 400, wantCode: "error.invalid_input", wantText: `"field":"period"`},
			{name: "nobody is responsible yet for a dissolved district", method: "GET", path: "/api/v1/agencies/" + f.giaLoc.ID, as: viewer,
				wantStatus: 200, wantText: `"responsible_now":[]`},
			{name: "a link the wrong way round is refused", method: "POST", path: "/api/v1/agencies/" + f.w1.ID + "/links", useKey: true, contentType: jsonCT,
				body: `{"to_id":"` + f.giaLoc.ID + `","kind":"dissolved"}`, wantStatus: 400, wantText: `"code":"org.link_direction"`},
			{name: "a link to an unknown agency names the field", method: "POST", path: "/api/v1/agencies/" + f.giaLoc.ID + "/links", useKey: true, contentType: jsonCT,
				body: `{"to_id":"ag_nope","kind":"dissolved"}`, wantStatus: 400, wantText: `"field":"to_id"`},
			{name: "a link from an unknown agency is 404", method: "POST", path: "/api/v1/agencies/ag_nope/links", useKey: true, contentType: jsonCT,
				body: `{"to_id":"` + f.w1.ID + `","kind":"dissolved"}`, wantStatus: 404, wantCode: "org.agency_not_found"},
			{name: "the district dissolved into the first ward", method: "POST", path: "/api/v1/agencies/" + f.giaLoc.ID + "/links", useKey: true, contentType: jsonCT,
				body:       `{"to_id":"` + f.w1.ID + `","kind":"dissolved","note":"nhiệm vụ chuyển về các xã"}`,
				wantStatus: 201, wantText: `"responsible_now":[{"id":"` + f.w1.ID + `"`},
			{name: "and into the second", method: "POST", path: "/api/v1/agencies/" + f.giaLoc.ID + "/links", as: coord, contentType: jsonCT,
				body: `{"to_id":"` + f.w2.ID + `","kind":"dissolved"}`, wantStatus: 201, wantText: `"kind":"dissolved","note":"nhiệm vụ chuyển về các xã"`},
			{name: "responsible now names both wards", method: "GET", path: "/api/v1/agencies/" + f.giaLoc.ID, as: viewer,
				wantStatus: 200, wantText: `"name":"UBND xã Gia Phúc"`},
			{name: "the ward lists the district it took over from", method: "GET", path: "/api/v1/agencies/" + f.w1.ID, useKey: true,
				wantStatus: 200, wantText: `"predecessors":[{"agency":{"id":"` + f.giaLoc.ID + `"`},
			{name: "the page names who is responsible now", method: "GET", path: "/agencies/" + f.giaLoc.ID, as: viewer,
				wantStatus: 200, wantText: `<li><a href="/agencies/` + f.w2.ID + `">UBND xã Gia Phúc</a>`},
			{name: "a link twice is 409", method: "POST", path: "/api/v1/agencies/" + f.giaLoc.ID + "/links", useKey: true, contentType: jsonCT,
				body: `{"to_id":"` + f.w2.ID + `","kind":"dissolved"}`, wantStatus: 409, wantCode: "org.link_exists"},
			{name: "a reader cannot remove a link", method: "DELETE", path: "/api/v1/agencies/" + f.giaLoc.ID + "/links/" + f.w2.ID, as: viewer,
				wantStatus: 403, wantCode: "error.forbidden"},
			{name: "a link removed through the API", method: "DELETE", path: "/api/v1/agencies/" + f.giaLoc.ID + "/links/" + f.w2.ID, useKey: true,
				wantStatus: 204},
			{name: "removing it again is 404 through the API", method: "DELETE", path: "/api/v1/agencies/" + f.giaLoc.ID + "/links/" + f.w2.ID, useKey: true,
				wantStatus: 404, wantCode: "org.link_not_found"},
			{name: "by the current code", method: "GET", path: "/api/v1/agencies/code/000.00.00.h31", as: viewer,
				wantStatus: 200, wantText: `"matched":"code"`},
			{name: "by the old code", method: "GET", path: "/api/v1/agencies/code/000.00.15.H26", as: viewer,
				wantStatus: 200, wantText: `"matched":"old_code"`},
			{name: "a blank code finds nothing", method: "GET", path: "/api/v1/agencies/code/%20", as: viewer,
				wantStatus: 404, wantCode: "org.agency_not_found"},
			{name: "an unknown id through the API is 404", method: "GET", path: "/api/v1/agencies/ag_nope", useKey: true,
				wantStatus: 404, wantType: "application/problem+json", wantCode: "org.agency_not_found"},
			{name: "anonymous API calls are 401", method: "GET", path: "/api/v1/agencies",
				wantStatus: 401, wantCode: "error.sign_in_required"},

			// The mapping.
			{name: "the mapping flags what is left", method: "GET", path: "/agencies/mapping", as: coord,
				wantStatus: 200, wantText: "1/5 cơ quan cũ đã có đơn vị kế thừa; còn 4 cơ quan chưa có."},
			{name: "the mapping shows a successor with its kind", method: "GET", path: "/agencies/mapping?province=30", as: viewer,
				wantStatus: 200, wantText: `<span class="badge">Giải thể, nhiệm vụ chuyển về</span> <a href="/agencies/` + f.w1.ID + `">UBND xã Gia Lộc</a>`},
			{name: "the audit log names the register's changes", method: "GET", path: "/audit?object_type=agency&object_id=" + f.giaLoc.ID, as: reqctx.RoleAdmin,
				wantStatus: 200, wantText: "Thêm đơn vị kế thừa"},
			{name: "the mapping can list only what is left", method: "GET", path: "/agencies/mapping?left=1", as: coord,
				wantStatus: 200, wantText: `<tr class="unmapped">`},
		})

		// The API's answer carries every field a client needs, dates as days.
		rec := apiGet(t, a, p, "/api/v1/agencies/code/000.00.12.H26")
		var got struct {
			Agency struct {
				ID, Name, Code, Period, ParentID, ValidTo string
				Version                                   int64
			} `json:"agency"`
			ResponsibleNow []json.RawMessage `json:"responsible_now"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Agency.Name != "Sở Nội vụ Hải Dương" || got.Agency.Period != "legacy" || got.Agency.Version != 1 || got.ResponsibleNow == nil {
			t.Errorf("agency by code: got %+v", got)
		}
	})
}

func apiGet(t *testing.T, a *app, p principals, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+p.key)
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200: %s", path, rec.Code, rec.Body.String())
	}
	return rec
}

// A stale save through the page keeps what the editor typed and shows what
// the other coordinator stored, with its new version in the form.
func TestAgencyStaleSaveKeepsTheEdit(t *testing.T) {
	d := dbtest.SQLite(t, modules())
	a := testApp(t, d)
	p := seed(t, a)
	f := seedAgencies(t, a.org)
	ctx := reqctx.WithActor(context.Background(), "user:other")
	if _, err := a.org.Update(ctx, f.stcHP.ID, org.Input{Name: "Sở Tài chính TP Hải Phòng", Kind: org.KindDepartment, Period: org.Current,
		ProvinceCode: "31"}, 1); err != nil {
		t.Fatal(err)
	}
	body := url.Values{"name": {"Sở Tài chính thành phố Hải Phòng"}, "kind": {"department"}, "period": {"current"}, "province_code": {"31"}, "version": {"1"}}
	req := httptest.NewRequest("POST", "/agencies/"+f.stcHP.ID, strings.NewReader(body.Encode()))
	req.Header.Set("Content-Type", formCT)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[reqctx.RoleCoordinator].Username)})
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	page := rec.Body.String()
	for _, want := range []string{
		`id="form-error">Người khác vừa sửa cơ quan này`,
		`value="Sở Tài chính thành phố Hải Phòng"`,       // what the editor typed
		`<td>Sở Tài chính TP Hải Phòng</td>`,             // what is stored
		`<input type="hidden" name="version" value="2">`, // saving again is a choice
	} {
		if !strings.Contains(page, want) {
			t.Errorf("stale save page lacks %q", want)
		}
	}
	if rec.Code != http.StatusConflict {
		t.Errorf("stale save: got %d, want 409", rec.Code)
	}
	if got, _ := a.org.Agency(context.Background(), f.stcHP.ID); got.Name != "Sở Tài chính TP Hải Phòng" {
		t.Errorf("after the stale save: name %q, want the other coordinator's", got.Name)
	}
}

// The register goes out as a workbook and comes back in; a bad workbook is
// answered with every problem and changes nothing.
func TestAgencyWorkbook(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		p := seed(t, a)
		ctx := reqctx.WithActor(context.Background(), "user:u.coordinator")
		if _, err := a.org.Create(ctx, org.Input{Name: "Ủy ban nhân dân tỉnh Hải Dương", Kind: org.KindProvinceCommittee, Period: org.Legacy, ProvinceCode: "30"}); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/agencies/export.xlsx", nil)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[reqctx.RoleViewer].Username)})
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/vnd.openxmlformats") {
			t.Fatalf("export: got %d %s", rec.Code, rec.Header().Get("Content-Type"))
		}
		wb, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := wb.GetRows("Cơ quan")
		if len(rows) != 2 || rows[1][3] != "Ủy ban nhân dân tỉnh Hải Dương" || rows[1][4] != "UBND tỉnh/thành phố" {
			t.Fatalf("exported rows: %v", rows)
		}
		// Add a row with two mistakes and upload it.
		wb.SetSheetRow("Cơ quan", "A3", &[]any{"", "", "", "Sở Tài chính", "Bộ", "", "Tỉnh cũ", "300"})
		var bad bytes.Buffer
		if err := wb.Write(&bad); err != nil {
			t.Fatal(err)
		}
		body, ct := multipartBody(t, "co-quan.xlsx", bad.String(), nil)
		good := rec.Body.String()
		goodBody, goodCT := multipartBody(t, "co-quan.xlsx", good, nil)
		runScenarios(t, a, p, []scenario{
			{name: "import page for coordinators", method: "GET", path: "/agencies/import", as: reqctx.RoleCoordinator, wantStatus: 200, wantText: "Kiểm tra và nhập"},
			{name: "bad workbook lists its problems", method: "POST", path: "/agencies/import", as: reqctx.RoleCoordinator,
				contentType: ct, body: body, wantStatus: 422, wantText: "Tệp có 2 lỗi"},
			{name: "garbage is not a workbook", method: "POST", path: "/agencies/import", as: reqctx.RoleCoordinator,
				contentType: ct, body: strings.Replace(body, "PK", "XX", -1), wantStatus: 422},
			{name: "the exported workbook imports cleanly", method: "POST", path: "/agencies/import", as: reqctx.RoleCoordinator,
				contentType: goodCT, body: goodBody, wantStatus: 303},
			{name: "viewers may not import", method: "POST", path: "/agencies/import", as: reqctx.RoleViewer,
				contentType: goodCT, body: goodBody, wantStatus: 403},
		})
		list, err := a.org.List(ctx, org.Filter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("after the imports: %d agencies (%v), want the one (the bad workbook added nothing)", len(list), err)
		}
	})
}
