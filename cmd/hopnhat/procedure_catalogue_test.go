package main

import (
	"bytes"
	"context"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/org"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/procedure"
	"hopnhat/internal/procedure/workday"
)

// The catalogue's, the calendar's and the reassignment's routes and who
// may use them: everyone signed in reads; coordinators and admins keep.
func init() {
	moreRouteAccess = append(moreRouteAccess, map[string]access{
		"GET /procedures":                       signedIn,
		"GET /procedures/new":                   writers,
		"POST /procedures":                      writers,
		"GET /procedures/import":                writers,
		"POST /procedures/import":               writers,
		"GET /procedures/template.xlsx":         signedIn,
		"GET /procedures/export.xlsx":           signedIn,
		"GET /procedures/export.csv":            signedIn,
		"GET /procedures/calendar":              signedIn,
		"POST /procedures/calendar":             writers,
		"POST /procedures/calendar/{id}/delete": writers,
		"GET /procedures/reassign":              writers,
		"POST /procedures/reassign":             writers,
		"POST /procedures/reassign/ward":        writers,
		"GET /procedures/{id}":                  signedIn,
		"GET /procedures/{id}/edit":             writers,
		"POST /procedures/{id}":                 writers,
		"POST /procedures/{id}/active":          writers,
		"GET /api/v1/procedures":                signedIn,
		"POST /api/v1/procedures":               writers,
		"POST /api/v1/procedures/reassign":      writers,
		"GET /api/v1/procedures/{id}":           signedIn,
		"PUT /api/v1/procedures/{id}":           writers,
		"GET /api/v1/calendar":                  signedIn,
		"PUT /api/v1/calendar/days/{id}":        writers,
		"DELETE /api/v1/calendar/days/{id}":     writers,
	})
}

// catalogueNow is the clock of the catalogue's tests: a Monday in January
// 2026, the year after the merger, a month before Tết Bính Ngọ.
var catalogueNow = time.Date(2026, 1, 12, 2, 0, 0, 0, time.UTC)

// catalogueWorld is a merged city's agency register and catalogue: Sở Tư
// pháp and UBND phường Lê Chân of the merged city, Hải Dương's Sở Tư pháp
// (merged into Sở Tư pháp) and Sở Nội vụ (no successor recorded yet).
type catalogueWorld struct {
	stp, lechan, stpHD, snvHD org.Agency
	birth, permit, copies     procedure.Procedure
	dossier                   procedure.Dossier // received for copies, held by Hải Dương's department
}

func catalogueSeed(t testing.TB, a *app) catalogueWorld {
	t.Helper()
	ctx := reqctx.WithActor(context.Background(), "user:test")
	mk := func(in org.Input) org.Agency {
		ag, err := a.org.Create(ctx, in)
		if err != nil {
			t.Fatalf("agency %s: %v", in.Name, err)
		}
		return ag
	}
	var w catalogueWorld
	w.stp = mk(org.Input{Name: "Sở Tư pháp", Kind: org.KindDepartment, Period: org.Current, ProvinceCode: "31", Code: "000.00.10.H31",
		ValidFrom: adminunit.ReformDate})
	w.lechan = mk(org.Input{Name: "UBND phường Lê Chân", Kind: org.KindWardCommittee, Period: org.Current, ProvinceCode: "31",
		WardCode: "11383", Code: "000.21.01.H31", ValidFrom: adminunit.ReformDate})
	w.stpHD = mk(org.Input{Name: "Sở Tư pháp Hải Dương", Kind: org.KindDepartment, Period: org.Legacy, ProvinceCode: "30",
		Code: "000.00.10.H26", ValidTo: adminunit.ReformDate})
	w.snvHD = mk(org.Input{Name: "Sở Nội vụ Hải Dương", Kind: org.KindDepartment, Period: org.Legacy, ProvinceCode: "30",
		Code: "000.00.11.H26", ValidTo: adminunit.ReformDate})
	if err := a.org.AddLink(ctx, org.Link{FromID: w.stpHD.ID, ToID: w.stp.ID, Kind: org.LinkMergedInto}); err != nil {
		t.Fatal(err)
	}
	mkp := func(p procedure.Procedure) procedure.Procedure {
		out, err := a.procs.CreateProcedure(ctx, p)
		if err != nil {
			t.Fatalf("procedure %s: %v", p.Name, err)
		}
		return out
	}
	w.birth = mkp(procedure.Procedure{Code: "1.001193.000.00.00.H31", Name: "Đăng ký khai sinh", Field: "Hộ tịch", Level: procedure.LevelCommune,
		AgencyID: w.lechan.ID, Days: 3, Fee: "Miễn lệ phí", Online: procedure.OnlineFull,
		Papers: []string{"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"}})
	w.permit = mkp(procedure.Procedure{Code: "1.009994.000.00.00.H31", Name: "Cấp giấy phép xây dựng nhà ở riêng lẻ", Field: "Xây dựng",
		Level: procedure.LevelProvince, AgencyID: w.stp.ID, Days: 15, Fee: "75.000 đồng/giấy phép", Online: procedure.OnlinePartial})
	w.copies = mkp(procedure.Procedure{Code: "2.000815.000.00.00.H26", Name: "Chứng thực bản sao từ bản chính", Field: "Chứng thực",
		Level: procedure.LevelProvince, AgencyID: w.stpHD.ID, Days: 1, Online: procedure.OnlineOffline})
	var err error
	// A dossier of the old department, brought over from Hải Dương's system
	// with its old code: it waits there for the reassignment.
	if w.dossier, err = a.procs.Receive(ctx, procedure.ReceiveInput{ProcedureID: w.copies.ID, Channel: procedure.Desk,
		Applicant: "Nguyễn Thị Lan", Phone: "0912345678", Papers: []string{"Bản chính"},
		ReceivedAt: catalogueNow.Add(-24 * time.Hour), OldCodes: []string{"000.00.10.H26-250620-0001"}}); err != nil {
		t.Fatal(err)
	}
	return w
}

// multipartFile is a form with one file, as a browser uploads it.
func multipartFile(t testing.TB, name string, content []byte) (body, contentType string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if name != "" {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	}
	mw.Close()
	return b.String(), mw.FormDataContentType()
}

const catalogueHeader = "Mã thủ tục,Tên thủ tục,Lĩnh vực,Cấp thực hiện,Cơ quan thực hiện,Thời hạn (ngày làm việc),\"Phí, lệ phí\",Mức độ trực tuyến,Thành phần hồ sơ,Trạng thái\n"

func TestProcedureCatalogueScenarios(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		d.SetClock(func() time.Time { return catalogueNow })
		a := testApp(t, d)
		p := seed(t, a)
		w := catalogueSeed(t, a)
		const coord, viewer, officer = reqctx.RoleCoordinator, reqctx.RoleViewer, reqctx.RoleOfficer
		form := func(v url.Values) string { return v.Encode() }
		procForm := func(version int64, name, days string) string {
			return form(url.Values{"version": {strconv.FormatInt(version, 10)}, "code": {w.permit.Code}, "name": {name},
				"field": {"Xây dựng"}, "level": {"province"}, "agency_id": {w.stp.ID}, "days": {days}, "fee": {"75.000 đồng/giấy phép"},
				"online": {"partial"}, "papers": {"Đơn đề nghị cấp giấy phép\nBản vẽ thiết kế"}})
		}

		runScenarios(t, a, p, []scenario{
			{name: "the catalogue sums up what is in use", method: "GET", path: "/procedures", as: viewer, wantStatus: 200, wantType: "text/html",
				wantText: `<p id="catalogue-summary">Đang áp dụng 3 thủ tục: 1 trực tuyến toàn trình, 1 trực tuyến một phần.</p>`},
			{name: "a row names its agency", method: "GET", path: "/procedures", as: viewer, wantStatus: 200,
				wantText: `<td data-label="Cơ quan thực hiện">UBND phường Lê Chân</td>`},
			{name: "online levels in Vietnamese", method: "GET", path: "/procedures", as: viewer, wantStatus: 200,
				wantText: `<span class="badge on">Toàn trình</span>`},
			{name: "search without diacritics", method: "GET", path: "/procedures?q=dang+ky+KHAI+sinh", as: viewer, wantStatus: 200,
				wantText: `<a href="/procedures/` + w.birth.ID + `">Đăng ký khai sinh</a>`},
			{name: "search by a piece of the code", method: "GET", path: "/procedures?q=009994", as: viewer, wantStatus: 200,
				wantText: w.permit.Name},
			{name: "a search that finds nothing says so", method: "GET", path: "/procedures?q=ho+chieu", as: viewer, wantStatus: 200,
				wantText: `Không tìm thấy thủ tục nào với “ho chieu”.`},
			{name: "an unknown level is refused", method: "GET", path: "/procedures?level=district", as: viewer, wantStatus: 400,
				wantText: "Cấp thực hiện phải là cấp tỉnh hoặc cấp xã."},
			{name: "a procedure's page", method: "GET", path: "/procedures/" + w.birth.ID, as: viewer, wantStatus: 200,
				wantText: `<td id="procedure-days">3 ngày làm việc`},
			{name: "its agency by name", method: "GET", path: "/procedures/" + w.birth.ID, as: viewer, wantStatus: 200,
				wantText: `<a href="/agencies/` + w.lechan.ID + `">UBND phường Lê Chân</a>`},
			{name: "its papers", method: "GET", path: "/procedures/" + w.birth.ID, as: viewer, wantStatus: 200,
				wantText: "<li>Tờ khai đăng ký khai sinh</li><li>Giấy chứng sinh</li>"},
			{name: "an old province's agency is marked", method: "GET", path: "/procedures/" + w.copies.ID, as: coord, wantStatus: 200,
				wantText: `<a href="/procedures/reassign?from=` + w.stpHD.ID + `" id="reassign-agency">`},
			{name: "an unknown procedure is 404", method: "GET", path: "/procedures/tt_nope", as: viewer, wantStatus: 404,
				wantText: "Không tìm thấy thủ tục."},
			{name: "a reader cannot open the form", method: "GET", path: "/procedures/new", as: viewer, wantStatus: 403},
			{name: "an officer cannot open the form", method: "GET", path: "/procedures/" + w.birth.ID + "/edit", as: officer, wantStatus: 403},
			{name: "the form offers the merged city's agencies", method: "GET", path: "/procedures/new", as: coord, wantStatus: 200,
				wantText: `<option value="` + w.stp.ID + `">Sở Tư pháp</option>`},
			{name: "a refused procedure names its fields in Vietnamese", method: "POST", path: "/procedures", as: coord, contentType: formCT,
				body:       form(url.Values{"code": {"1.23"}, "name": {"Cấp bản sao trích lục hộ tịch"}, "level": {"commune"}, "days": {"ba"}, "online": {"full"}}),
				wantStatus: 422, wantText: `<p class="field-error" id="err-code">Mã thủ tục phải theo dạng mã quốc gia`},
			{name: "every field at once", method: "POST", path: "/procedures", as: coord, contentType: formCT,
				body:       form(url.Values{"code": {"1.23"}, "name": {"Cấp bản sao trích lục hộ tịch"}, "level": {"commune"}, "days": {"ba"}, "online": {"full"}}),
				wantStatus: 422, wantText: `<p class="field-error" id="err-agency_id">Cần chọn cơ quan.</p>`},
			{name: "days that do not read", method: "POST", path: "/procedures", as: coord, contentType: formCT,
				body:       form(url.Values{"code": {"1.23"}, "name": {"Cấp bản sao trích lục hộ tịch"}, "level": {"commune"}, "days": {"ba"}, "online": {"full"}}),
				wantStatus: 422, wantText: `id="err-days">Thời hạn giải quyết từ 0 đến 365 ngày làm việc.`},
			{name: "what was typed is kept", method: "POST", path: "/procedures", as: coord, contentType: formCT,
				body:       form(url.Values{"code": {"1.23"}, "name": {"Cấp bản sao trích lục hộ tịch"}, "level": {"commune"}, "days": {"ba"}, "online": {"full"}}),
				wantStatus: 422, wantText: `value="Cấp bản sao trích lục hộ tịch"`},
			{name: "a taken code", method: "POST", path: "/procedures", as: coord, contentType: formCT,
				body:       form(url.Values{"code": {w.birth.Code}, "name": {"X"}, "level": {"commune"}, "agency_id": {w.lechan.ID}, "days": {"1"}, "online": {"full"}}),
				wantStatus: 422, wantText: `id="err-code">Mã thủ tục này đã có trong danh mục.`},
			{name: "a coordinator adds a procedure", method: "POST", path: "/procedures", as: coord, contentType: formCT,
				body: form(url.Values{"code": {"1.004884.000.00.00.h31"}, "name": {"Đăng ký kết hôn"}, "field": {"Hộ tịch"}, "level": {"commune"},
					"agency_id": {w.lechan.ID}, "days": {"5"}, "online": {"full"}, "papers": {"Tờ khai đăng ký kết hôn\n\nGiấy xác nhận tình trạng hôn nhân"}}),
				wantStatus: 303},
		})
		marriage, err := a.procs.ProcedureByCode(context.Background(), "1.004884.000.00.00.H31")
		if err != nil || len(marriage.Papers) != 2 || marriage.Days != 5 {
			t.Fatalf("the added procedure: %+v, %v", marriage, err)
		}
		// Someone else saves the permit meanwhile.
		ctx := reqctx.WithActor(context.Background(), "user:other")
		other := w.permit
		other.Days = 20
		if _, err := a.procs.UpdateProcedure(ctx, w.permit.ID, other, w.permit.Version); err != nil {
			t.Fatal(err)
		}
		edit := "/procedures/" + w.permit.ID
		runScenarios(t, a, p, []scenario{
			{name: "the edit form holds the papers one per line", method: "GET", path: "/procedures/" + w.birth.ID + "/edit", as: coord,
				wantStatus: 200, wantText: "Tờ khai đăng ký khai sinh\nGiấy chứng sinh</textarea>"},
			{name: "a stale save shows what is stored", method: "POST", path: edit, as: coord, contentType: formCT,
				body: procForm(w.permit.Version, "Cấp giấy phép xây dựng", "12"), wantStatus: 409, wantText: `<section class="card" id="stored">`},
			{name: "the stored days", method: "POST", path: edit, as: coord, contentType: formCT,
				body: procForm(w.permit.Version, "Cấp giấy phép xây dựng", "12"), wantStatus: 409, wantText: "<td>20 ngày làm việc</td>"},
			{name: "and keeps what was typed", method: "POST", path: edit, as: coord, contentType: formCT,
				body: procForm(w.permit.Version, "Cấp giấy phép xây dựng", "12"), wantStatus: 409, wantText: `value="12"`},
			{name: "with the new version, to save after seeing it", method: "POST", path: edit, as: coord, contentType: formCT,
				body: procForm(w.permit.Version, "Cấp giấy phép xây dựng", "12"), wantStatus: 409,
				wantText: `<input type="hidden" name="version" value="` + strconv.FormatInt(w.permit.Version+1, 10) + `">`},
			{name: "the save with the new version", method: "POST", path: edit, as: coord, contentType: formCT,
				body: procForm(w.permit.Version+1, "Cấp giấy phép xây dựng", "12"), wantStatus: 303, wantLocation: edit + "?ok=flash.procedure_saved"},
			{name: "the saved flash", method: "GET", path: edit + "?ok=flash.procedure_saved", as: viewer, wantStatus: 200,
				wantText: "Đã lưu thay đổi của thủ tục."},
			{name: "a reader cannot take it out of use", method: "POST", path: edit + "/active", as: viewer, contentType: formCT,
				body: "active=0&version=3", wantStatus: 403},
			{name: "a stale version does not take it out of use", method: "POST", path: edit + "/active", as: coord, contentType: formCT,
				body: "active=0&version=1", wantStatus: 409, wantText: `id="form-error">Người khác vừa sửa thủ tục này.`},
			{name: "a coordinator takes it out of use", method: "POST", path: edit + "/active", as: coord, contentType: formCT,
				body: "active=0&version=3", wantStatus: 303, wantLocation: edit + "?ok=flash.procedure_deactivated"},
			{name: "the page says so", method: "GET", path: edit, as: viewer, wantStatus: 200,
				wantText: `<span class="badge off">Ngừng áp dụng</span>`},
			{name: "the list marks it", method: "GET", path: "/procedures?level=province", as: viewer, wantStatus: 200,
				wantText: `Cấp giấy phép xây dựng</a> <span class="badge off">Ngừng áp dụng</span>`},
			{name: "the summary no longer counts it", method: "GET", path: "/procedures", as: viewer, wantStatus: 200,
				wantText: "Đang áp dụng 3 thủ tục: 2 trực tuyến toàn trình, 0 trực tuyến một phần."},
		})
		if body := getPage(t, a, p, viewer, "/procedures"); strings.Contains(body, `id="new-procedure"`) || strings.Contains(body, `id="import-link"`) {
			t.Error("a reader is offered the catalogue's forms")
		}
		if body := getPage(t, a, p, viewer, "/procedures?q=khai+sinh"); strings.Contains(body, w.permit.Name) || !strings.Contains(body, w.birth.Name) {
			t.Error("the search for khai sinh does not find exactly the birth registration")
		}
		if body := getPage(t, a, p, viewer, "/procedures?level=province&active=1"); strings.Contains(body, "Cấp giấy phép xây dựng") ||
			!strings.Contains(body, w.copies.Name) {
			t.Error("the filter on procedures in use shows the wrong ones")
		}
	})
}

func TestProcedureCatalogueAPI(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		d.SetClock(func() time.Time { return catalogueNow })
		a := testApp(t, d)
		p := seed(t, a)
		w := catalogueSeed(t, a)
		const coord, viewer = reqctx.RoleCoordinator, reqctx.RoleViewer
		newProc := `{"code":"1.004884.000.00.00.H31","name":"Đăng ký kết hôn","field":"Hộ tịch","level":"commune","agency_id":"` + w.lechan.ID +
			`","days":5,"fee":"Miễn lệ phí","online":"full","papers":["Tờ khai"]}`
		runScenarios(t, a, p, []scenario{
			{name: "the list without diacritics", method: "GET", path: "/api/v1/procedures?q=khai+sinh", as: viewer, wantStatus: 200,
				wantType: "application/json", wantText: `"code":"1.001193.000.00.00.H31","name":"Đăng ký khai sinh"`},
			{name: "with the agency's name", method: "GET", path: "/api/v1/procedures?agency_id=" + w.lechan.ID, as: viewer, wantStatus: 200,
				wantText: `"agency":"UBND phường Lê Chân"`},
			{name: "filtered by online level", method: "GET", path: "/api/v1/procedures?online=offline&limit=1", as: viewer, wantStatus: 200,
				wantText: `"procedures":[{"id":"` + w.copies.ID + `"`},
			{name: "a wrong online level is a field problem", method: "GET", path: "/api/v1/procedures?online=web", as: viewer, wantStatus: 400,
				wantType: "application/problem+json", wantCode: "error.invalid_input", wantText: `"field":"online"`},
			{name: "a wrong limit is a field problem", method: "GET", path: "/api/v1/procedures?limit=-1", as: viewer, wantStatus: 400,
				wantCode: "error.invalid_input", wantText: `"field":"limit"`},
			{name: "one procedure", method: "GET", path: "/api/v1/procedures/" + w.permit.ID, as: viewer, wantStatus: 200,
				wantText: `"agency":"Sở Tư pháp"`},
			{name: "an unknown one", method: "GET", path: "/api/v1/procedures/tt_nope", as: viewer, wantStatus: 404, wantCode: "procedure.not_found"},
			{name: "a reader cannot add", method: "POST", path: "/api/v1/procedures", as: viewer, contentType: jsonCT, body: newProc, wantStatus: 403},
			{name: "a bad code is a field problem", method: "POST", path: "/api/v1/procedures", as: coord, contentType: jsonCT,
				body: strings.Replace(newProc, "1.004884.000.00.00.H31", "x", 1), wantStatus: 400, wantCode: "error.invalid_input",
				wantText: `"field":"code","code":"procedure.code_invalid"`},
			{name: "an unknown field is refused", method: "POST", path: "/api/v1/procedures", as: coord, contentType: jsonCT,
				body: `{"code":"x","district":"y"}`, wantStatus: 400, wantCode: "error.json_malformed"},
			{name: "a coordinator adds one", method: "POST", path: "/api/v1/procedures", as: coord, contentType: jsonCT, body: newProc,
				wantStatus: 201, wantText: `"active":true,"version":1`},
			{name: "the same code again", method: "POST", path: "/api/v1/procedures", as: coord, contentType: jsonCT, body: newProc,
				wantStatus: 400, wantText: `"code":"procedure.code_taken"`},
			{name: "an update needs the version", method: "PUT", path: "/api/v1/procedures/" + w.birth.ID, as: coord, contentType: jsonCT,
				body: newProc, wantStatus: 400, wantText: `"field":"version"`},
			{name: "a stale version is a conflict", method: "PUT", path: "/api/v1/procedures/" + w.birth.ID, as: coord, contentType: jsonCT,
				body: `{"code":"1.001193.000.00.00.H31","name":"Đăng ký khai sinh","level":"commune","agency_id":"` + w.lechan.ID +
					`","days":2,"online":"full","version":7}`, wantStatus: 409, wantCode: "procedure.stale"},
			{name: "an update with the version", method: "PUT", path: "/api/v1/procedures/" + w.birth.ID, as: coord, contentType: jsonCT,
				body: `{"code":"1.001193.000.00.00.H31","name":"Đăng ký khai sinh","level":"commune","agency_id":"` + w.lechan.ID +
					`","days":2,"online":"full","active":false,"version":1}`, wantStatus: 200, wantText: `"days":2,"fee":"","online":"full","papers":[],"active":false,"version":2`},
		})
	})
}

func TestProcedureCatalogueImport(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		d.SetClock(func() time.Time { return catalogueNow })
		a := testApp(t, d)
		p := seed(t, a)
		w := catalogueSeed(t, a)
		const coord, viewer = reqctx.RoleCoordinator, reqctx.RoleViewer
		good := catalogueHeader +
			"1.001193.000.00.00.H31,Đăng ký khai sinh,Hộ tịch,Xã,ubnd phuong le chan,3,Miễn lệ phí,Toàn trình,\"Tờ khai\nGiấy chứng sinh\",\n" +
			"1.000894.000.00.00.H31,Đăng ký khai tử,Hộ tịch,xã,UBND phường Lê Chân,3,,toàn trình,Tờ khai; Giấy báo tử,Đang áp dụng\n"
		bad := good + "1.000656.000.00.00.H31,Thay đổi cải chính hộ tịch,Hộ tịch,Huyện,Sở Tư pháp Hải Dương,mười,,Toàn trình,,\n"
		withErrors, ct := multipartFile(t, "danh-muc.csv", []byte(bad))
		okBody, okCT := multipartFile(t, "danh-muc.csv", []byte("\xEF\xBB\xBF"+good))
		latin, latinCT := multipartFile(t, "danh-muc.csv", []byte(catalogueHeader+"1.001193.000.00.00.H31,\xD0\xE3ng k\xFD\n"))
		none, noneCT := multipartFile(t, "", nil)
		runScenarios(t, a, p, []scenario{
			{name: "a reader cannot import", method: "GET", path: "/procedures/import", as: viewer, wantStatus: 403},
			{name: "the import page links the template", method: "GET", path: "/procedures/import", as: coord, wantStatus: 200,
				wantText: `href="/procedures/template.xlsx" id="template"`},
			{name: "problems by row and column", method: "POST", path: "/procedures/import", as: coord, contentType: ct, body: withErrors,
				wantStatus: 422, wantText: `<td data-label="Dòng">4</td>
      <td data-label="Cột">D</td>
      <td data-label="Lỗi">Không còn cấp huyện từ 01/7/2025 (“Huyện”); ghi Tỉnh hoặc Xã.</td>`},
			{name: "an old agency is named", method: "POST", path: "/procedures/import", as: coord, contentType: ct, body: withErrors,
				wantStatus: 422, wantText: "“Sở Tư pháp Hải Dương” là cơ quan của tỉnh cũ; ghi cơ quan kế thừa của tỉnh mới."},
			{name: "how many problems, and that nothing was imported", method: "POST", path: "/procedures/import", as: coord, contentType: ct,
				body: withErrors, wantStatus: 422, wantText: "Tệp có 3 lỗi; chưa nhập dòng nào."},
			{name: "a file that is not UTF-8", method: "POST", path: "/procedures/import", as: coord, contentType: latinCT, body: latin,
				wantStatus: 422, wantText: "Tệp CSV không phải mã hóa UTF-8 (lỗi từ dòng 2)"},
			{name: "no file", method: "POST", path: "/procedures/import", as: coord, contentType: noneCT, body: none,
				wantStatus: 422, wantText: "Chưa chọn tệp để tải lên."},
			{name: "a form that is not multipart", method: "POST", path: "/procedures/import", as: coord, contentType: formCT, body: "file=x",
				wantStatus: 400},
			{name: "the good file", method: "POST", path: "/procedures/import", as: coord, contentType: okCT, body: okBody,
				wantStatus: 303, wantLocation: "/procedures?imported=1&created=1&updated=1&unchanged=0"},
			{name: "the counts after it", method: "GET", path: "/procedures?imported=1&created=1&updated=1&unchanged=0", as: coord, wantStatus: 200,
				wantText: `id="import-done">Đã nhập danh mục: thêm 1, cập nhật 1, giữ nguyên 0 thủ tục.</p>`},
			{name: "the template", method: "GET", path: "/procedures/template.xlsx", as: viewer, wantStatus: 200,
				wantType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
			{name: "the export as CSV for Excel", method: "GET", path: "/procedures/export.csv", as: viewer, wantStatus: 200,
				wantType: "text/csv", wantText: "\xEF\xBB\xBFMã thủ tục,Tên thủ tục,Lĩnh vực,Cấp thực hiện,Cơ quan thực hiện"},
			{name: "the export names agencies", method: "GET", path: "/procedures/export.csv", as: viewer, wantStatus: 200,
				wantText: "1.000894.000.00.00.H31,Đăng ký khai tử,Hộ tịch,Xã,UBND phường Lê Chân,3,,Toàn trình,\"Tờ khai\r\nGiấy báo tử\",Đang áp dụng"},
		})
		death, err := a.procs.ProcedureByCode(context.Background(), "1.000894.000.00.00.H31")
		if err != nil || death.AgencyID != w.lechan.ID || len(death.Papers) != 2 {
			t.Fatalf("the imported procedure: %+v, %v", death, err)
		}
		var n int
		if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'procedure.import'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("imports audited: %d, %v; want 1", n, err)
		}
		// The workbook export reads as a workbook, with the words the import takes.
		req := httptest.NewRequest("GET", "/procedures/export.xlsx", nil)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, "u.viewer")})
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		f, err := excelize.OpenReader(rec.Body)
		if err != nil {
			t.Fatalf("the exported workbook: %v", err)
		}
		defer f.Close()
		rows, err := f.GetRows("Thủ tục")
		if err != nil || len(rows) != 5 {
			t.Fatalf("exported rows: %d, %v; want the header and 4", len(rows), err)
		}
		for _, r := range rows {
			if r[0] == w.copies.Code && (r[4] != w.stpHD.ID || r[3] != "Tỉnh" || r[7] != "Trực tiếp") {
				t.Errorf("the old agency's procedure: got %q, want its agency by id", r)
			}
		}
		if procedure.LargerBodies()["/procedures/import"] < 8<<20 {
			t.Error("the upload route has no larger body limit")
		}
	})
}

func TestProcedureCalendarScenarios(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		d.SetClock(func() time.Time { return catalogueNow })
		a := testApp(t, d)
		p := seed(t, a)
		const coord, viewer = reqctx.RoleCoordinator, reqctx.RoleViewer
		day := func(d, kind, note string) string {
			return url.Values{"day": {d}, "kind": {kind}, "note": {note}, "year": {"2026"}}.Encode()
		}
		runScenarios(t, a, p, []scenario{
			{name: "this year by default", method: "GET", path: "/procedures/calendar", as: viewer, wantStatus: 200,
				wantText: "<h1>Lịch làm việc năm 2026</h1>"},
			{name: "Tết Bính Ngọ", method: "GET", path: "/procedures/calendar?year=2026", as: viewer, wantStatus: 200,
				wantText: `<tr id="day-2026-02-17" class="kind-public">
    <td data-label="Ngày" class="nowrap">17/02/2026</td>
    <td data-label="Thứ">Thứ Ba</td>
    <td data-label="Tên ngày">Tết Nguyên đán</td>`},
			{name: "the Hùng Kings' day", method: "GET", path: "/procedures/calendar?year=2026", as: viewer, wantStatus: 200,
				wantText: `<td data-label="Tên ngày">Giỗ Tổ Hùng Vương</td>`},
			{name: "a compensatory day", method: "GET", path: "/procedures/calendar?year=2026", as: viewer, wantStatus: 200,
				wantText: `<tr id="day-2026-04-27" class="kind-compensatory">`},
			{name: "named for its holiday", method: "GET", path: "/procedures/calendar?year=2026", as: viewer, wantStatus: 200,
				wantText: `<td data-label="Tên ngày">Nghỉ bù Giỗ Tổ Hùng Vương</td>`},
			{name: "how deadlines are counted, with Tết", method: "GET", path: "/procedures/calendar?year=2026", as: viewer, wantStatus: 200,
				wantText: "Ví dụ: hồ sơ tiếp nhận ngày 13/02/2026 (Thứ Sáu), thời hạn 3 ngày làm việc, có hạn giải quyết là ngày 25/02/2026 (Thứ Tư)."},
			{name: "the clock pauses for a supplement", method: "GET", path: "/procedures/calendar?year=2026", as: viewer, wantStatus: 200,
				wantText: "thời hạn tạm dừng"},
			{name: "in English", method: "GET", path: "/procedures/calendar?year=2026", as: viewer, header: map[string]string{"Cookie": "lang=en"},
				wantStatus: 200, wantText: "Compensatory day off for Hùng Kings&#39; Commemoration Day"},
			{name: "a year that does not read", method: "GET", path: "/procedures/calendar?year=hai", as: viewer, wantStatus: 400,
				wantText: "Năm phải từ 2000 đến 2100."},
			{name: "a reader cannot add a day", method: "POST", path: "/procedures/calendar", as: viewer, contentType: formCT,
				body: day("02/01/2026", "off", "Nghỉ bù"), wantStatus: 403},
			{name: "a day that does not read", method: "POST", path: "/procedures/calendar", as: coord, contentType: formCT,
				body: day("31/02/2026", "off", ""), wantStatus: 422, wantText: `id="err-day">Ngày không hợp lệ`},
			{name: "the note is needed", method: "POST", path: "/procedures/calendar", as: coord, contentType: formCT,
				body: day("31/02/2026", "off", ""), wantStatus: 422, wantText: `id="err-note">Cần ghi lý do hoặc căn cứ`},
			{name: "a coordinator adds a day off", method: "POST", path: "/procedures/calendar", as: coord, contentType: formCT,
				body: day("02/01/2026", "off", "Nghỉ hoán đổi, làm bù thứ Bảy 10/01"), wantStatus: 303,
				wantLocation: "/procedures/calendar?year=2026&ok=flash.procedure_calendar_set#day-2026-01-02"},
			{name: "and the Saturday worked", method: "POST", path: "/procedures/calendar", as: coord, contentType: formCT,
				body: day("10/01/2026", "work", "Làm bù cho ngày 02/01"), wantStatus: 303},
			{name: "both are listed, removable", method: "GET", path: "/procedures/calendar?year=2026", as: coord, wantStatus: 200,
				wantText: `<button type="submit" class="btn secondary small" id="delete-2026-01-10">`},
			{name: "the worked day is marked", method: "GET", path: "/procedures/calendar?year=2026", as: viewer, wantStatus: 200,
				wantText: `<span class="badge on">Làm việc (điều chỉnh)</span>`},
			{name: "a coordinator removes one", method: "POST", path: "/procedures/calendar/2026-01-10/delete", as: coord, contentType: formCT,
				wantStatus: 303, wantLocation: "/procedures/calendar?year=2026&ok=flash.procedure_calendar_deleted"},
			{name: "removing it twice", method: "POST", path: "/procedures/calendar/2026-01-10/delete", as: coord, contentType: formCT,
				wantStatus: 404, wantText: "Ngày này không có trong danh sách điều chỉnh."},
			{name: "the API lists the year", method: "GET", path: "/api/v1/calendar?year=2026", as: viewer, wantStatus: 200,
				wantType: "application/json", wantText: `{"day":"2026-01-02","weekday":5,"name":"Nghỉ hoán đổi, làm bù thứ Bảy 10/01","kind":"off","override":true}`},
			{name: "a reader cannot set a day", method: "PUT", path: "/api/v1/calendar/days/2026-04-29", as: viewer, contentType: jsonCT,
				body: `{"off":true,"note":"Nghỉ"}`, wantStatus: 403},
			{name: "a day that is not one", method: "PUT", path: "/api/v1/calendar/days/29-04-2026", as: coord, contentType: jsonCT,
				body: `{"off":true,"note":"Nghỉ"}`, wantStatus: 400, wantText: `"field":"day"`},
			{name: "off is needed", method: "PUT", path: "/api/v1/calendar/days/2026-04-29", as: coord, contentType: jsonCT,
				body: `{"note":"Nghỉ"}`, wantStatus: 400, wantText: `"field":"off"`},
			{name: "the API sets a day", method: "PUT", path: "/api/v1/calendar/days/2026-04-29", as: coord, contentType: jsonCT,
				body: `{"off":true,"note":"Nghỉ hoán đổi"}`, wantStatus: 200, wantText: `"day":{"day":"2026-04-29","note":"Nghỉ hoán đổi","off":true}`},
			{name: "and removes it", method: "DELETE", path: "/api/v1/calendar/days/2026-04-29", as: coord, wantStatus: 204},
			{name: "an unknown day", method: "DELETE", path: "/api/v1/calendar/days/2026-04-29", as: coord, wantStatus: 404,
				wantCode: "procedure.calendar_day_not_found"},
		})
		if body := getPage(t, a, p, viewer, "/procedures/calendar?year=2026"); strings.Contains(body, `id="calendar-form"`) {
			t.Error("a reader is offered the calendar form")
		}
		// The day off counts: a dossier of 3 working days received on
		// 31/12/2025 is due on 7/1/2026 (1/1 is a holiday, 2/1 off, 3–4/1 a
		// weekend), not on 6/1.
		cal, err := a.procs.Calendar(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := cal.AddWorkingDays(workday.Date(2025, time.December, 31), 3); got != workday.Date(2026, time.January, 7) {
			t.Errorf("3 working days after 31/12/2025 with 2/1 off: got %s, want 2026-01-07", got)
		}
	})
}

func TestProcedureReassignScenarios(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		d.SetClock(func() time.Time { return catalogueNow })
		a := testApp(t, d)
		p := seed(t, a)
		w := catalogueSeed(t, a)
		const coord, viewer, officer = reqctx.RoleCoordinator, reqctx.RoleViewer, reqctx.RoleOfficer
		form := func(v url.Values) string { return v.Encode() }
		runScenarios(t, a, p, []scenario{
			{name: "a reader cannot open it", method: "GET", path: "/procedures/reassign", as: viewer, wantStatus: 403},
			{name: "nor an officer", method: "GET", path: "/procedures/reassign", as: officer, wantStatus: 403},
			{name: "the old agencies to pick from", method: "GET", path: "/procedures/reassign", as: coord, wantStatus: 200,
				wantText: `<option value="` + w.stpHD.ID + `">Sở Tư pháp Hải Dương</option>`},
			{name: "the preview names the successor", method: "GET", path: "/procedures/reassign?from=" + w.stpHD.ID, as: coord, wantStatus: 200,
				wantText: `<p id="targets">Theo danh mục cơ quan, công việc của cơ quan này nay do: <strong>Sở Tư pháp</strong></p>`},
			{name: "and what would move", method: "GET", path: "/procedures/reassign?from=" + w.stpHD.ID, as: coord, wantStatus: 200,
				wantText: "Sẽ chuyển 1 thủ tục và 1 hồ sơ đang giải quyết."},
			{name: "with a sample of dossiers", method: "GET", path: "/procedures/reassign?from=" + w.stpHD.ID, as: coord, wantStatus: 200,
				wantText: `<a href="/dossiers/` + w.dossier.ID + `" class="mono">` + w.dossier.Code + `</a>`},
			{name: "the successor is chosen already", method: "GET", path: "/procedures/reassign?from=" + w.stpHD.ID, as: coord, wantStatus: 200,
				wantText: `<option value="` + w.stp.ID + `" selected>Sở Tư pháp</option>`},
			{name: "without a successor, any agency of the merged city", method: "GET", path: "/procedures/reassign?from=" + w.snvHD.ID, as: coord,
				wantStatus: 200, wantText: "Danh mục cơ quan chưa ghi cơ quan kế thừa"},
			{name: "an unknown agency", method: "GET", path: "/procedures/reassign?from=ag_nope", as: coord, wantStatus: 404},
			{name: "the dry run through the API", method: "POST", path: "/api/v1/procedures/reassign", as: coord, contentType: jsonCT,
				body: `{"from":"` + w.stpHD.ID + `","dry_run":true}`, wantStatus: 200, wantText: `"open_dossiers":1,"procedures":1`},
			{name: "the API needs the target", method: "POST", path: "/api/v1/procedures/reassign", as: coord, contentType: jsonCT,
				body: `{"from":"` + w.stpHD.ID + `"}`, wantStatus: 400, wantText: `"field":"to"`},
			{name: "not to an agency that is not the successor", method: "POST", path: "/procedures/reassign", as: coord, contentType: formCT,
				body:       form(url.Values{"from": {w.stpHD.ID}, "to": {w.lechan.ID}}),
				wantStatus: 422, wantText: `id="err-to">Cơ quan này không phải cơ quan kế thừa theo danh mục cơ quan.`},
			{name: "a coordinator moves the work", method: "POST", path: "/procedures/reassign", as: coord, contentType: formCT,
				body: form(url.Values{"from": {w.stpHD.ID}, "to": {w.stp.ID}}), wantStatus: 303,
				wantLocation: "/procedures/reassign?" + url.Values{"from": {w.stpHD.ID}, "to": {w.stp.ID}, "moved": {"1"}, "procedures": {"1"}, "dossiers": {"1"}}.Encode()},
			{name: "the result with its counts", method: "GET", path: "/procedures/reassign?" + url.Values{"from": {w.stpHD.ID}, "to": {w.stp.ID},
				"moved": {"1"}, "procedures": {"1"}, "dossiers": {"1"}}.Encode(), as: coord, wantStatus: 200,
				wantText: `id="reassign-done">Đã chuyển 1 thủ tục và 1 hồ sơ đang giải quyết từ Sở Tư pháp Hải Dương sang Sở Tư pháp.</p>`},
			{name: "nothing is left to move", method: "GET", path: "/procedures/reassign?from=" + w.stpHD.ID, as: coord, wantStatus: 200,
				wantText: `id="nothing-to-move"`},
			{name: "a ward code that does not read", method: "POST", path: "/procedures/reassign/ward", as: coord, contentType: formCT,
				body: form(url.Values{"from_ward": {"abc"}, "to_ward": {"11383"}}), wantStatus: 422,
				wantText: `id="err-from_ward">Mã xã, phường gồm đúng 5 chữ số.`},
			{name: "the same ward", method: "POST", path: "/procedures/reassign/ward", as: coord, contentType: formCT,
				body: form(url.Values{"from_ward": {"11383"}, "to_ward": {"11383"}}), wantStatus: 422, wantText: `id="err-to_ward"`},
			{name: "a coordinator moves an old ward's dossiers", method: "POST", path: "/procedures/reassign/ward", as: coord, contentType: formCT,
				body: form(url.Values{"from_ward": {"11386"}, "to_ward": {"11383"}}), wantStatus: 303,
				wantLocation: "/procedures/reassign?from_ward=11386&to_ward=11383&ward_moved=0"},
			{name: "its result", method: "GET", path: "/procedures/reassign?from_ward=11386&to_ward=11383&ward_moved=0", as: coord, wantStatus: 200,
				wantText: `id="ward-done">Đã chuyển 0 hồ sơ đang giải quyết của mã xã cũ 11386 về 11383 (11383).`},
		})
		moved, err := a.procs.Procedure(context.Background(), w.copies.ID)
		if err != nil || moved.AgencyID != w.stp.ID {
			t.Fatalf("the old agency's procedure: %+v, %v; want it with Sở Tư pháp", moved, err)
		}
		x, err := a.procs.Dossier(context.Background(), w.dossier.ID)
		if err != nil || x.AgencyID != w.stp.ID {
			t.Fatalf("the old agency's dossier: %+v, %v; want it with Sở Tư pháp", x, err)
		}
	})
}

// TestProcedureCLI imports and exports the catalogue on the command line.
func TestProcedureCLI(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "migrate", "up")
	ctx := reqctx.WithActor(context.Background(), "cli:test")
	d, err := openDB(ctx, &config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := org.NewService(d, slog.New(slog.DiscardHandler)).Create(ctx, org.Input{Name: "Sở Tư pháp", Kind: org.KindDepartment, Period: org.Current,
		ProvinceCode: "31", ValidFrom: adminunit.ReformDate}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	in := filepath.Join(dir, "danh-muc.csv")
	good := catalogueHeader + "1.000656.000.00.00.H31,Thay đổi cải chính hộ tịch,Hộ tịch,Tỉnh,Sở Tư pháp,5,,Một phần,,\n"
	if err := os.WriteFile(in, []byte(good+"1.000657.000.00.00.H31,Ghi chú ly hôn,Hộ tịch,Tỉnh,Sở Tài chính,5,,Một phần,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := run(t, dir, "", "procedure", "import", "--file", in)
	if err == nil || !strings.Contains(err.Error(), "1 lỗi, không nhập gì") ||
		!strings.Contains(stderr, "dòng 3, cột E: Không có cơ quan “Sở Tài chính” trong danh mục cơ quan.") {
		t.Fatalf("a file with a problem: got %v\n%s", err, stderr)
	}
	if err := os.WriteFile(in, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, dir, "", "procedure", "import", "--file", in); !strings.Contains(out, "thêm 1, cập nhật 0, giữ nguyên 0") {
		t.Fatalf("import: %q", out)
	}
	xlsx := filepath.Join(dir, "xuat.xlsx")
	mustRun(t, dir, "", "procedure", "export", "--out", xlsx)
	if out := mustRun(t, dir, "", "procedure", "import", "--file", xlsx); !strings.Contains(out, "giữ nguyên 1") {
		t.Fatalf("the export read back: %q", out)
	}
	csv := filepath.Join(dir, "xuat.csv")
	mustRun(t, dir, "", "procedure", "export", "--out", csv)
	if b, _ := os.ReadFile(csv); !bytes.HasPrefix(b, []byte("\xEF\xBB\xBFMã thủ tục,")) || !bytes.Contains(b, []byte("Thay đổi cải chính hộ tịch,Hộ tịch,Tỉnh,Sở Tư pháp,5")) {
		t.Fatalf("the CSV export: %q", b)
	}
	if _, _, err := run(t, dir, "", "procedure", "export", "--out", filepath.Join(dir, "x.pdf")); err == nil {
		t.Fatal("an export to .pdf: want an error")
	}
	if _, _, err := run(t, dir, "", "procedure", "import"); err == nil {
		t.Fatal("an import without --file: want an error")
	}
}

func TestProcedureCataloguePaging(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		d.SetClock(func() time.Time { return catalogueNow })
		a := testApp(t, d)
		p := seed(t, a)
		w := catalogueSeed(t, a)
		ctx := reqctx.WithActor(context.Background(), "user:test")
		for i := range 52 {
			if _, err := a.procs.CreateProcedure(ctx, procedure.Procedure{Code: "1.0100" + strconv.Itoa(10+i) + ".000.00.00.H31",
				Name: "Thủ tục thử " + strconv.Itoa(10+i), Level: procedure.LevelProvince, AgencyID: w.stp.ID, Days: 5,
				Online: procedure.OnlineOffline}); err != nil {
				t.Fatal(err)
			}
		}
		const viewer = reqctx.RoleViewer
		runScenarios(t, a, p, []scenario{
			{name: "the first page links the next", method: "GET", path: "/procedures?field=&q=", as: viewer, wantStatus: 200,
				wantText: `<a href="/procedures?offset=50" id="page-next">`},
			{name: "a filtered page keeps its filters", method: "GET", path: "/procedures?agency_id=" + w.stp.ID, as: viewer, wantStatus: 200,
				wantText: `<a href="/procedures?agency_id=` + w.stp.ID + `&amp;offset=50" id="page-next">`},
			{name: "the second page", method: "GET", path: "/procedures?offset=50", as: viewer, wantStatus: 200,
				wantText: "Thủ tục thứ 51 đến 55"},
			{name: "it links back", method: "GET", path: "/procedures?offset=50", as: viewer, wantStatus: 200,
				wantText: `<a href="/procedures" id="page-prev">`},
			{name: "past the end", method: "GET", path: "/procedures?offset=500", as: viewer, wantStatus: 200,
				wantText: `id="no-results"`},
			{name: "a negative offset", method: "GET", path: "/procedures?offset=-5", as: viewer, wantStatus: 400},
		})
		if body := getPage(t, a, p, viewer, "/procedures?offset=50"); strings.Contains(body, `id="page-next"`) {
			t.Error("the last page links a next one")
		}
	})
}
