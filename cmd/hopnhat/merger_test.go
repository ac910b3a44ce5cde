package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"hopnhat/internal/merger"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

// hpMergerJSON is the Hải Phòng + Hải Dương merger as the API takes it.
const hpMergerJSON = `{"name":"Thành phố Hải Phòng","province_code":"31","effective_on":"2025-07-01",
"sources":[{"province_code":"31","name":"Hải Phòng"},{"province_code":"30","name":"Hải Dương"}]}`

// mergerByProvince finds the merger into a new province.
func mergerByProvince(t *testing.T, a *app, code string) merger.Merger {
	t.Helper()
	ms, err := a.merger.Mergers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ProvinceCode == code {
			return m
		}
	}
	t.Fatalf("no merger into province %s among %d", code, len(ms))
	return merger.Merger{}
}

// systemByName finds a system of a merger's inventory.
func systemByName(t *testing.T, a *app, mergerID, name string) merger.System {
	t.Helper()
	xs, err := a.merger.Systems(context.Background(), mergerID, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range xs {
		if x.Name == name {
			return x
		}
	}
	t.Fatalf("no system %q among %d", name, len(xs))
	return merger.System{}
}

// matrixCell returns the HTML of the inventory cell of a category and an
// old province, or "" when the page has none.
func matrixCell(page string, cat merger.Category, province string) string {
	row := regexp.MustCompile(`(?s)<tr id="row-` + string(cat) + `">(.*?)</tr>`).FindStringSubmatch(page)
	if row == nil {
		return ""
	}
	cell := regexp.MustCompile(`(?s)<td data-label="` + regexp.QuoteMeta(province) + `">(.*?)</td>`).FindStringSubmatch(row[1])
	if cell == nil {
		return ""
	}
	return cell[1]
}

const scriptSystem = "<script>alert(1)</script> Quản lý <b>tài sản</b>"

func TestMergerScenarios(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		p := seed(t, a)
		const coord, viewer = reqctx.RoleCoordinator, reqctx.RoleViewer
		form := func(v url.Values) string { return v.Encode() }

		// Mergers: created through the API and the page.
		runScenarios(t, a, p, []scenario{
			{name: "no merger yet tells a coordinator how to start", method: "GET", path: "/mergers", as: coord,
				wantStatus: 200, wantType: "text/html", wantText: "Điền biểu mẫu “Khai báo sáp nhập” bên dưới"},
			{name: "no merger yet tells a reader who records them", method: "GET", path: "/mergers", as: viewer,
				wantStatus: 200, wantText: "Điều phối viên sáp nhập hoặc quản trị viên hệ thống khai báo"},
			{name: "create a merger through the API", method: "POST", path: "/api/v1/mergers", useKey: true, contentType: jsonCT,
				body: hpMergerJSON, wantStatus: 201, wantType: "application/json", wantText: `"effective_on":"2025-07-01"`},
			{name: "bad merger fields are listed in errors[]", method: "POST", path: "/api/v1/mergers", useKey: true, contentType: jsonCT,
				body:       `{"name":"","province_code":"3","sources":[{"province_code":"30","name":"Hải Dương"},{"province_code":"30","name":"Hải Dương"}]}`,
				wantStatus: 400, wantType: "application/problem+json", wantCode: "error.invalid_input", wantText: `"field":"sources"`},
			{name: "a merger without old provinces is refused", method: "POST", path: "/api/v1/mergers", useKey: true, contentType: jsonCT,
				body: `{"name":"Tỉnh Ninh Bình","province_code":"37"}`, wantStatus: 400, wantText: `"code":"merger.sources_invalid"`},
			{name: "a bad effective date is a field error", method: "POST", path: "/api/v1/mergers", useKey: true, contentType: jsonCT,
				body:       `{"name":"Tỉnh Ninh Bình","province_code":"37","effective_on":"2025-02-30","sources":[{"province_code":"37","name":"Ninh Bình"}]}`,
				wantStatus: 400, wantCode: "error.invalid_input", wantText: `"field":"effective_on"`},
			{name: "a second merger into the same province is refused", method: "POST", path: "/api/v1/mergers", useKey: true, contentType: jsonCT,
				body: hpMergerJSON, wantStatus: 400, wantText: `"code":"merger.province_taken"`},
			{name: "an unknown JSON field is 400", method: "POST", path: "/api/v1/mergers", useKey: true, contentType: jsonCT,
				body: `{"name":"X","province_code":"37","sources":[],"admin":true}`, wantStatus: 400, wantCode: "error.json_malformed"},
			{name: "a reader cannot create a merger through the API", method: "POST", path: "/api/v1/mergers", as: viewer, contentType: jsonCT,
				body: hpMergerJSON, wantStatus: 403, wantCode: "error.forbidden"},
			{name: "a reader cannot post the merger form", method: "POST", path: "/mergers", as: viewer, contentType: formCT,
				body: form(url.Values{"name": {"Tỉnh Ninh Bình"}, "province_code": {"37"}, "sources": {"37 Ninh Bình"}}), wantStatus: 403},
			{name: "an officer cannot post it either", method: "POST", path: "/mergers", as: reqctx.RoleOfficer, contentType: formCT,
				body: form(url.Values{"name": {"Tỉnh Ninh Bình"}, "province_code": {"37"}, "sources": {"37 Ninh Bình"}}), wantStatus: 403},
			{name: "a refused merger form comes back with its messages", method: "POST", path: "/mergers", as: coord, contentType: formCT,
				body:       form(url.Values{"name": {"Thành phố Hồ Chí Minh"}, "province_code": {"79"}, "sources": {"79 TP. Hồ Chí Minh\nBình Dương"}}),
				wantStatus: 422, wantType: "text/html", wantText: `<p class="field-error" id="err-sources">Hãy ghi ít nhất một tỉnh cũ`},
			{name: "a refused merger form keeps what was typed", method: "POST", path: "/mergers", as: coord, contentType: formCT,
				body:       form(url.Values{"name": {"Thành phố Hồ Chí Minh"}, "province_code": {"7"}, "sources": {"79 TP. Hồ Chí Minh"}}),
				wantStatus: 422, wantText: `value="Thành phố Hồ Chí Minh"`},
			{name: "a bad date on the form is named", method: "POST", path: "/mergers", as: coord, contentType: formCT,
				body:       form(url.Values{"name": {"Thành phố Hồ Chí Minh"}, "province_code": {"79"}, "effective_on": {"31/06/2025"}, "sources": {"79 TP. Hồ Chí Minh"}}),
				wantStatus: 422, wantText: `id="err-effective_on"`},
			{name: "a coordinator records a three-way merger on the page", method: "POST", path: "/mergers", as: coord, contentType: formCT,
				body: form(url.Values{"name": {"Thành phố Hồ Chí Minh"}, "province_code": {"79"}, "effective_on": {"01/07/2025"},
					"sources": {"79 TP. Hồ Chí Minh\r\n74\tBình Dương\r\n77 - Bà Rịa – Vũng Tàu\r\n"}}),
				wantStatus: 303},
			{name: "the list names the old provinces", method: "GET", path: "/mergers", as: viewer,
				wantStatus: 200, wantText: `Bình Dương <span class="mono muted small">74</span>, Bà Rịa – Vũng Tàu <span class="mono muted small">77</span>`},
			{name: "the list gives the effective date as a day", method: "GET", path: "/mergers", as: viewer,
				wantStatus: 200, wantText: `<td data-label="Ngày có hiệu lực">01/07/2025</td>`},
			{name: "the list in English", method: "GET", path: "/mergers", as: viewer, header: map[string]string{"Cookie": "lang=en"},
				wantStatus: 200, wantText: "Province mergers"},
			{name: "the API lists the mergers", method: "GET", path: "/api/v1/mergers", as: viewer,
				wantStatus: 200, wantText: `"name":"Thành phố Hồ Chí Minh"`},
			{name: "an unknown merger page is 404", method: "GET", path: "/mergers/mg_nope", as: viewer,
				wantStatus: 404, wantType: "text/html", wantText: "Không tìm thấy cuộc sáp nhập này."},
			{name: "an unknown merger through the API is 404", method: "GET", path: "/api/v1/mergers/mg_nope", useKey: true,
				wantStatus: 404, wantType: "application/problem+json", wantCode: "merger.not_found"},
		})
		hp := mergerByProvince(t, a, "31")
		hcm := mergerByProvince(t, a, "79")
		// In the order typed.
		if len(hcm.Sources) != 3 || hcm.Sources[0].Name != "TP. Hồ Chí Minh" || hcm.Sources[1].Name != "Bình Dương" || hcm.Sources[2].Name != "Bà Rịa – Vũng Tàu" {
			t.Fatalf("old provinces read from the form: got %+v, want them in the order typed", hcm.Sources)
		}

		// The inventory: systems added through the API and the form.
		sysPath := "/mergers/" + hp.ID + "/systems"
		runScenarios(t, a, p, []scenario{
			{name: "the merger through the API has its old provinces", method: "GET", path: "/api/v1/mergers/" + hp.ID, as: viewer,
				wantStatus: 200, wantText: `"sources":[{"province_code":"31","name":"Hải Phòng"},{"province_code":"30","name":"Hải Dương"}]`},
			{name: "an empty inventory lists every category as not recorded", method: "GET", path: "/mergers/" + hp.ID, as: viewer,
				wantStatus: 200, wantText: "Đã khai báo 0 hệ thống; còn 34 ô (nhóm × tỉnh cũ) chưa khai báo."},
			{name: "add a system through the API", method: "POST", path: "/api/v1" + sysPath, as: coord, contentType: jsonCT,
				body: `{"category":"documents","province_code":"30","name":"Quản lý văn bản và điều hành Hải Dương","vendor":"VNPT",
"technology":".NET, SQL Server","deployed_year":2016,"investment":"leased","users":6200,"db_engine":"SQL Server","db_size_mb":900000,
"records":2100000,"functions":["Văn bản đến","Văn bản đi","Ký số trên di động"],"contract_end":"2025-12-31"}`,
				wantStatus: 201, wantType: "application/json", wantText: `"contract_end":"2025-12-31"`},
			{name: "bad system fields are listed in errors[]", method: "POST", path: "/api/v1" + sysPath, useKey: true, contentType: jsonCT,
				body:       `{"category":"erp","province_code":"01","name":"X","deployed_year":3025,"users":-1,"contract_end":"31/13/2025"}`,
				wantStatus: 400, wantCode: "error.invalid_input", wantText: `"field":"contract_end"`},
			{name: "a province outside the merger is named", method: "POST", path: "/api/v1" + sysPath, useKey: true, contentType: jsonCT,
				body: `{"category":"email","province_code":"01","name":"X"}`, wantStatus: 400, wantText: `"code":"merger.province_not_in_merger"`},
			{name: "a number given as text is 400", method: "POST", path: "/api/v1" + sysPath, useKey: true, contentType: jsonCT,
				body: `{"category":"email","province_code":"30","name":"X","users":"nhiều"}`, wantStatus: 400, wantCode: "error.json_field_type"},
			{name: "a system of an unknown merger is 404", method: "POST", path: "/api/v1/mergers/mg_nope/systems", useKey: true, contentType: jsonCT,
				body: `{"category":"email","province_code":"30","name":"X"}`, wantStatus: 404, wantCode: "merger.not_found"},
			{name: "a reader cannot add a system through the API", method: "POST", path: "/api/v1" + sysPath, as: viewer, contentType: jsonCT,
				body: `{"category":"email","province_code":"30","name":"X"}`, wantStatus: 403, wantCode: "error.forbidden"},
			{name: "the system form from a matrix cell", method: "GET", path: sysPath + "/new?category=documents&province=30", as: coord,
				wantStatus: 200, wantText: `<input type="checkbox" name="functions" value="Văn bản đến" id="fn-0">`},
			{name: "the form preselects the old province", method: "GET", path: sysPath + "/new?category=documents&province=30", as: coord,
				wantStatus: 200, wantText: `<option value="30" selected>Hải Dương (30)</option>`},
			{name: "the investment forms are in Vietnamese", method: "GET", path: sysPath + "/new?province=31", as: coord,
				wantStatus: 200, wantText: `<option value="leased">Thuê dịch vụ</option>`},
			{name: "without a category the form asks for one", method: "GET", path: sysPath + "/new?province=31", as: coord,
				wantStatus: 200, wantText: `id="checklist-pick"`},
			{name: "another category keeps the ticked functions as free lines", method: "GET", as: coord,
				path:       sysPath + "/new?" + url.Values{"category": {"email"}, "functions": {"Văn bản đến"}, "other_functions": {"Lưu trữ"}}.Encode(),
				wantStatus: 200, wantText: ">Lưu trữ\nVăn bản đến</textarea>"},
			{name: "a free line that is on the checklist is ticked", method: "GET", as: coord,
				path:       sysPath + "/new?" + url.Values{"category": {"email"}, "other_functions": {"Hộp thư công vụ"}}.Encode(),
				wantStatus: 200, wantText: `value="Hộp thư công vụ" id="fn-0" checked>`},
			{name: "a reader gets no system form", method: "GET", path: sysPath + "/new", as: viewer, wantStatus: 403},
			{name: "the form of an unknown merger is 404", method: "GET", path: "/mergers/mg_nope/systems/new", as: coord, wantStatus: 404},
			{name: "a refused system form names every problem", method: "POST", path: sysPath, as: coord, contentType: formCT,
				body: form(url.Values{"category": {"documents"}, "province_code": {"30"}, "name": {""}, "users": {"nhiều"},
					"contract_end": {"31/02/2025"}, "functions": {"Văn bản đến"}}),
				wantStatus: 422, wantType: "text/html", wantText: `<p class="field-error" id="err-name">Hãy nhập tên hệ thống`},
			{name: "a number that does not read is named", method: "POST", path: sysPath, as: coord, contentType: formCT,
				body:       form(url.Values{"category": {"documents"}, "province_code": {"30"}, "name": {""}, "users": {"nhiều"}}),
				wantStatus: 422, wantText: `<p class="field-error" id="err-users">Số không hợp lệ.</p>`},
			{name: "a bad contract date is named with the rest", method: "POST", path: sysPath, as: coord, contentType: formCT,
				body:       form(url.Values{"category": {"documents"}, "province_code": {"30"}, "name": {""}, "contract_end": {"31/02/2025"}}),
				wantStatus: 422, wantText: `id="err-contract_end"`},
			{name: "a refused form keeps the ticked functions", method: "POST", path: sysPath, as: coord, contentType: formCT,
				body:       form(url.Values{"category": {"documents"}, "province_code": {"30"}, "name": {""}, "functions": {"Văn bản đến"}}),
				wantStatus: 422, wantText: `value="Văn bản đến" id="fn-0" checked>`},
			{name: "a custom category needs its name", method: "POST", path: sysPath, as: coord, contentType: formCT,
				body:       form(url.Values{"category": {"custom"}, "province_code": {"31"}, "name": {"Quản lý tài sản công"}}),
				wantStatus: 422, wantText: `<p class="field-error" id="err-custom_category">Với nhóm “Khác”, hãy đặt tên nhóm`},
			{name: "a coordinator adds a custom system with markup in its name", method: "POST", path: sysPath, as: coord, contentType: formCT,
				body: form(url.Values{"category": {"custom"}, "custom_category": {"Quản lý tài sản công"}, "province_code": {"31"},
					"name": {scriptSystem}, "users": {"5.200"}, "deployed_year": {"2019"}, "other_functions": {"Kiểm kê\n\nBáo cáo tài sản\n"}}),
				wantStatus: 303},
			{name: "a system of an unknown merger on the form is 404", method: "POST", path: "/mergers/mg_nope/systems", as: coord, contentType: formCT,
				body: form(url.Values{"category": {"email"}, "province_code": {"30"}, "name": {"X"}}), wantStatus: 404},
			{name: "an unknown category filter is 400", method: "GET", path: "/api/v1" + sysPath + "?category=erp", as: viewer,
				wantStatus: 400, wantCode: "error.invalid_input", wantText: `"field":"category"`},
			{name: "the systems of an unknown merger are 404", method: "GET", path: "/api/v1/mergers/mg_nope/systems", as: viewer,
				wantStatus: 404, wantCode: "merger.not_found"},
			{name: "the systems of a category", method: "GET", path: "/api/v1" + sysPath + "?category=documents", as: viewer,
				wantStatus: 200, wantText: `"functions":["Văn bản đến","Văn bản đi","Ký số trên di động"]`},
		})
		doc := systemByName(t, a, hp.ID, "Quản lý văn bản và điều hành Hải Dương")
		script := systemByName(t, a, hp.ID, scriptSystem)
		if script.Users != 5200 || len(script.Functions) != 2 || script.CustomCategory != "Quản lý tài sản công" {
			t.Errorf("the system added on the form: got %+v", script)
		}

		runScenarios(t, a, p, []scenario{
			// The matrix and the system page.
			{name: "the matrix counts what is recorded", method: "GET", path: "/mergers/" + hp.ID, as: viewer,
				wantStatus: 200, wantText: "Đã khai báo 2 hệ thống; còn 33 ô (nhóm × tỉnh cũ) chưa khai báo."},
			{name: "the matrix names the categories in Vietnamese", method: "GET", path: "/mergers/" + hp.ID, as: viewer,
				wantStatus: 200, wantText: "<strong>SOC – Trung tâm giám sát an toàn thông tin</strong>"},
			{name: "the matrix gives figures in Vietnamese notation", method: "GET", path: "/mergers/" + hp.ID, as: viewer,
				wantStatus: 200, wantText: "VNPT · năm 2016 · 6.200 người dùng"},
			{name: "the matrix escapes a name with markup", method: "GET", path: "/mergers/" + hp.ID, as: viewer,
				wantStatus: 200, wantText: "&lt;script&gt;alert(1)&lt;/script&gt; Quản lý &lt;b&gt;tài sản&lt;/b&gt;</a>"},
			{name: "a coordinator gets the add links", method: "GET", path: "/mergers/" + hp.ID, as: coord,
				wantStatus: 200, wantText: `href="/mergers/` + hp.ID + `/systems/new?category=email&amp;province=30"`},
			{name: "the matrix in English", method: "GET", path: "/mergers/" + hp.ID, as: viewer, header: map[string]string{"Cookie": "lang=en"},
				wantStatus: 200, wantText: "VNPT · deployed 2016 · 6,200 users"},
			{name: "the system page escapes a name with markup", method: "GET", path: "/systems/" + script.ID, as: viewer,
				wantStatus: 200, wantText: "<h1>&lt;script&gt;alert(1)&lt;/script&gt; Quản lý &lt;b&gt;tài sản&lt;/b&gt;</h1>"},
			{name: "the system page names the custom category", method: "GET", path: "/systems/" + script.ID, as: viewer,
				wantStatus: 200, wantText: "Khác: Quản lý tài sản công"},
			{name: "the system page lists the functions", method: "GET", path: "/systems/" + doc.ID, as: viewer,
				wantStatus: 200, wantText: "<li>Ký số trên di động</li>"},
			{name: "the system page names the usual functions it lacks", method: "GET", path: "/systems/" + doc.ID, as: viewer,
				wantStatus: 200, wantText: "<li>Liên thông văn bản quốc gia</li>"},
			{name: "the system page gives the database in Vietnamese notation", method: "GET", path: "/systems/" + doc.ID, as: viewer,
				wantStatus: 200, wantText: "<td>2.100.000</td>"},
			{name: "the system page gives the contract end as a day", method: "GET", path: "/systems/" + doc.ID, as: viewer,
				wantStatus: 200, wantText: "<td>31/12/2025</td>"},
			{name: "a coordinator may delete after confirming", method: "GET", path: "/systems/" + doc.ID, as: coord,
				wantStatus: 200, wantText: `data-confirm="Xóa hệ thống “Quản lý văn bản và điều hành Hải Dương” khỏi danh mục hiện trạng?"`},
			{name: "an unknown system page is 404", method: "GET", path: "/systems/sy_nope", as: viewer,
				wantStatus: 404, wantType: "text/html", wantText: "Không tìm thấy hệ thống này."},
			{name: "an unknown system's form is 404", method: "GET", path: "/systems/sy_nope/edit", as: coord, wantStatus: 404},
			{name: "an unknown system through the API is 404", method: "GET", path: "/api/v1/systems/sy_nope", useKey: true,
				wantStatus: 404, wantType: "application/problem+json", wantCode: "merger.system_not_found"},
			{name: "a system through the API", method: "GET", path: "/api/v1/systems/" + script.ID, as: viewer,
				wantStatus: 200, wantText: `"functions":["Kiểm kê","Báo cáo tài sản"]`},

			// Edits, with the version.
			{name: "the edit form carries the version", method: "GET", path: "/systems/" + doc.ID + "/edit", as: coord,
				wantStatus: 200, wantText: `<input type="hidden" name="version" value="1">`},
			{name: "the edit form ticks the stored functions", method: "GET", path: "/systems/" + doc.ID + "/edit", as: coord,
				wantStatus: 200, wantText: `value="Văn bản đi" id="fn-1" checked>`},
			{name: "the edit form keeps the other functions as lines", method: "GET", path: "/systems/" + doc.ID + "/edit", as: coord,
				wantStatus: 200, wantText: ">Ký số trên di động</textarea>"},
			{name: "the edit form reloaded for a custom category asks its name", method: "GET", as: coord,
				path:       "/systems/" + doc.ID + "/edit?" + url.Values{"category": {"custom"}, "version": {"1"}, "name": {"QLVB"}}.Encode(),
				wantStatus: 200, wantText: `id="custom_category" name="custom_category"`},
			{name: "a reader gets no edit form", method: "GET", path: "/systems/" + doc.ID + "/edit", as: viewer, wantStatus: 403},
			{name: "a stale save shows the conflict", method: "POST", path: "/systems/" + doc.ID, as: coord, contentType: formCT,
				body:       form(url.Values{"category": {"documents"}, "province_code": {"30"}, "name": {"QLVB Hải Dương"}, "version": {"7"}}),
				wantStatus: 409, wantType: "text/html", wantText: "Người khác vừa sửa hệ thống này sau khi bạn mở trang."},
			{name: "a current save goes through", method: "POST", path: "/systems/" + doc.ID, as: coord, contentType: formCT,
				body: form(url.Values{"category": {"documents"}, "province_code": {"30"}, "name": {"Quản lý văn bản và điều hành Hải Dương"},
					"vendor": {"VNPT"}, "users": {"6.400"}, "functions": {"Văn bản đến", "Văn bản đi", "Chữ ký số"}, "version": {"1"}}),
				wantStatus: 303, wantLocation: "/systems/" + doc.ID + "?ok=flash.system_saved"},
			{name: "a reader cannot save", method: "POST", path: "/systems/" + doc.ID, as: viewer, contentType: formCT,
				body: form(url.Values{"name": {"X"}, "version": {"2"}}), wantStatus: 403},
			{name: "saving an unknown system is 404", method: "POST", path: "/systems/sy_nope", as: coord, contentType: formCT,
				body: form(url.Values{"name": {"X"}, "version": {"1"}}), wantStatus: 404},
			{name: "PUT with the current version saves", method: "PUT", path: "/api/v1/systems/" + doc.ID, useKey: true, contentType: jsonCT,
				body:       `{"category":"documents","province_code":"30","name":"Quản lý văn bản và điều hành Hải Dương","users":6500,"version":2}`,
				wantStatus: 200, wantText: `"version":3`},
			{name: "PUT with a stale version is 409", method: "PUT", path: "/api/v1/systems/" + doc.ID, useKey: true, contentType: jsonCT,
				body:       `{"category":"documents","province_code":"30","name":"QLVB","version":2}`,
				wantStatus: 409, wantType: "application/problem+json", wantCode: "merger.stale_version"},
			{name: "PUT without a version is refused", method: "PUT", path: "/api/v1/systems/" + doc.ID, useKey: true, contentType: jsonCT,
				body: `{"category":"documents","province_code":"30","name":"QLVB"}`, wantStatus: 400, wantText: `"code":"merger.version_required"`},
			{name: "PUT with bad fields names them", method: "PUT", path: "/api/v1/systems/" + doc.ID, useKey: true, contentType: jsonCT,
				body: `{"category":"documents","province_code":"30","name":"QLVB","investment":"gift","version":3}`, wantStatus: 400, wantText: `"field":"investment"`},
			{name: "PUT to an unknown system is 404", method: "PUT", path: "/api/v1/systems/sy_nope", useKey: true, contentType: jsonCT,
				body: `{"category":"documents","province_code":"30","name":"QLVB","version":1}`, wantStatus: 404, wantCode: "merger.system_not_found"},
			{name: "a reader cannot PUT", method: "PUT", path: "/api/v1/systems/" + doc.ID, as: viewer, contentType: jsonCT,
				body: `{"category":"documents","province_code":"30","name":"QLVB","version":3}`, wantStatus: 403, wantCode: "error.forbidden"},
			{name: "the audit trail names the inventory's changes", method: "GET", path: "/audit?object_type=merger_system&object_id=" + doc.ID,
				as: reqctx.RoleAdmin, wantStatus: 200, wantText: "Sửa thông tin hệ thống"},

			// Deletions, with the version.
			{name: "a stale delete on the page shows what is stored", method: "POST", path: "/systems/" + script.ID + "/delete", as: coord,
				contentType: formCT, body: form(url.Values{"version": {"9"}}), wantStatus: 409, wantText: "Người khác vừa sửa hệ thống này"},
			{name: "a reader cannot delete on the page", method: "POST", path: "/systems/" + script.ID + "/delete", as: viewer,
				contentType: formCT, body: form(url.Values{"version": {"1"}}), wantStatus: 403},
			{name: "a coordinator deletes on the page", method: "POST", path: "/systems/" + script.ID + "/delete", as: coord,
				contentType: formCT, body: form(url.Values{"version": {"1"}}), wantStatus: 303, wantLocation: "/mergers/" + hp.ID + "?ok=flash.system_deleted"},
			{name: "deleting it again is 404", method: "POST", path: "/systems/" + script.ID + "/delete", as: coord,
				contentType: formCT, body: form(url.Values{"version": {"1"}}), wantStatus: 404},
			{name: "DELETE without a version is refused", method: "DELETE", path: "/api/v1/systems/" + doc.ID, useKey: true,
				wantStatus: 400, wantText: `"code":"merger.version_required"`},
			{name: "DELETE with a stale version is 409", method: "DELETE", path: "/api/v1/systems/" + doc.ID + "?version=2", useKey: true,
				wantStatus: 409, wantCode: "merger.stale_version"},
			{name: "a reader cannot DELETE", method: "DELETE", path: "/api/v1/systems/" + doc.ID + "?version=3", as: viewer,
				wantStatus: 403, wantCode: "error.forbidden"},
			{name: "DELETE with the current version", method: "DELETE", path: "/api/v1/systems/" + doc.ID + "?version=3", useKey: true,
				wantStatus: 204},
			{name: "DELETE again is 404", method: "DELETE", path: "/api/v1/systems/" + doc.ID + "?version=3", useKey: true,
				wantStatus: 404, wantCode: "merger.system_not_found"},
		})

		// The API's answer carries every field a client needs.
		rec := apiGet(t, a, p, "/api/v1/mergers/"+hcm.ID)
		var got struct {
			Merger struct {
				ID, Name, ProvinceCode, EffectiveOn string
				Sources                             []struct{ ProvinceCode, Name string }
				Version                             int64
			} `json:"merger"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Merger.Name != "Thành phố Hồ Chí Minh" || len(got.Merger.Sources) != 3 || got.Merger.Version != 1 {
			t.Errorf("merger through the API: got %+v", got)
		}
	})
}

// A system shows up in the matrix in its category's row and its old
// province's column, and nowhere else.
func TestMergerMatrixPlacesSystems(t *testing.T) {
	d := dbtest.SQLite(t, modules())
	a := testApp(t, d)
	p := seed(t, a)
	ctx := reqctx.WithActor(context.Background(), "user:test")
	m, err := a.merger.CreateMerger(ctx, merger.MergerInput{Name: "Thành phố Hải Phòng", ProvinceCode: "31",
		Sources: []merger.Source{{ProvinceCode: "31", Name: "Hải Phòng"}, {ProvinceCode: "30", Name: "Hải Dương"}}})
	if err != nil {
		t.Fatal(err)
	}
	x, err := a.merger.CreateSystem(ctx, merger.System{MergerID: m.ID, Category: merger.CatLGSP, ProvinceCode: "30", Name: "LGSP Hải Dương",
		Users: 1234567})
	if err != nil {
		t.Fatal(err)
	}
	page := pageAs(t, a, p, reqctx.RoleViewer, "/mergers/"+m.ID)
	link := `<a href="/systems/` + x.ID + `">LGSP Hải Dương</a>`
	if cell := matrixCell(page, merger.CatLGSP, "Hải Dương"); !strings.Contains(cell, link) || !strings.Contains(cell, "1.234.567 người dùng") {
		t.Errorf("the LGSP cell of Hải Dương: got %q, want the system with its users", cell)
	}
	for _, c := range []struct {
		cat      merger.Category
		province string
	}{{merger.CatLGSP, "Hải Phòng"}, {merger.CatDocuments, "Hải Dương"}, {merger.CatCustom, "Hải Dương"}} {
		cell := matrixCell(page, c.cat, c.province)
		if strings.Contains(cell, x.ID) || !strings.Contains(cell, "chưa khai báo") {
			t.Errorf("the %s cell of %s: got %q, want it not recorded", c.cat, c.province, cell)
		}
	}
	// Every category has its row, in the order of the catalogue.
	var rows []string
	for _, m := range regexp.MustCompile(`<tr id="row-([a-z_0-9]+)">`).FindAllStringSubmatch(page, -1) {
		rows = append(rows, m[1])
	}
	var want []string
	for _, c := range merger.Categories {
		want = append(want, string(c))
	}
	if strings.Join(rows, " ") != strings.Join(want, " ") {
		t.Errorf("matrix rows: got %v, want %v", rows, want)
	}
}

// A stale save through the page keeps what the editor typed and shows what
// the other coordinator stored, with its new version in the form.
func TestSystemStaleSaveKeepsTheEdit(t *testing.T) {
	d := dbtest.SQLite(t, modules())
	a := testApp(t, d)
	p := seed(t, a)
	ctx := reqctx.WithActor(context.Background(), "user:other")
	m, err := a.merger.CreateMerger(ctx, merger.MergerInput{Name: "Thành phố Hải Phòng", ProvinceCode: "31",
		Sources: []merger.Source{{ProvinceCode: "31", Name: "Hải Phòng"}, {ProvinceCode: "30", Name: "Hải Dương"}}})
	if err != nil {
		t.Fatal(err)
	}
	x, err := a.merger.CreateSystem(ctx, merger.System{MergerID: m.ID, Category: merger.CatEmail, ProvinceCode: "30", Name: "Thư điện tử Hải Dương"})
	if err != nil {
		t.Fatal(err)
	}
	other := x
	other.Users = 7000
	if _, err := a.merger.UpdateSystem(ctx, x.ID, other, 1); err != nil {
		t.Fatal(err)
	}
	body := url.Values{"category": {"email"}, "province_code": {"30"}, "name": {"Thư điện tử công vụ Hải Dương"}, "users": {"6900"},
		"functions": {"Hộp thư công vụ"}, "version": {"1"}}
	req := httptest.NewRequest("POST", "/systems/"+x.ID, strings.NewReader(body.Encode()))
	req.Header.Set("Content-Type", formCT)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[reqctx.RoleCoordinator].Username)})
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	page := rec.Body.String()
	for _, want := range []string{
		`id="form-error">Người khác vừa sửa hệ thống này`,
		`value="Thư điện tử công vụ Hải Dương"`,      // what the editor typed
		`value="Hộp thư công vụ" id="fn-0" checked>`, // what the editor ticked
		`<td>7.000</td>`, // what is stored
		`<input type="hidden" name="version" value="2">`, // saving again is a choice
	} {
		if !strings.Contains(page, want) {
			t.Errorf("stale save page lacks %q", want)
		}
	}
	if rec.Code != http.StatusConflict {
		t.Errorf("stale save: got %d, want 409", rec.Code)
	}
	if got, _ := a.merger.System(context.Background(), x.ID); got.Name != "Thư điện tử Hải Dương" || got.Users != 7000 {
		t.Errorf("after the stale save: got %q with %d users, want the other coordinator's", got.Name, got.Users)
	}
}

// pageAs returns the page at path as a user of role, failing unless it is 200.
func pageAs(t *testing.T, a *app, p principals, role reqctx.Role, path string) string {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[role].Username)})
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200: %.300s", path, rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}
