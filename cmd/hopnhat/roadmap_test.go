package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"hopnhat/internal/merger"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

// roadmapNow is the clock of the roadmap tests: six weeks after the Hải
// Phòng merger took effect, when the template's preparation steps are past.
var roadmapNow = time.Date(2025, 8, 15, 3, 0, 0, 0, time.UTC)

const scriptTask = "<script>alert(1)</script> Rà soát <b>tài khoản</b>"

// taskByTitle finds a task of a merger's roadmap.
func taskByTitle(t *testing.T, a *app, mergerID, title string) merger.Task {
	t.Helper()
	ts, err := a.merger.Tasks(context.Background(), mergerID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		if x.Title == title {
			return x
		}
	}
	t.Fatalf("no task %q among %d", title, len(ts))
	return merger.Task{}
}

// getPage fetches a page as role and returns its body.
func getPage(t *testing.T, a *app, p principals, role reqctx.Role, path string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: login(t, a, p.users[role].Username)})
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: got status %d, want 200", path, rec.Code)
	}
	return rec.Body.String()
}

func TestRoadmapScenarios(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		d.SetClock(func() time.Time { return roadmapNow })
		a := testApp(t, d)
		p := seed(t, a)
		const coord, viewer = reqctx.RoleCoordinator, reqctx.RoleViewer
		form := func(v url.Values) string { return v.Encode() }

		runScenarios(t, a, p, []scenario{
			{name: "create the merger", method: "POST", path: "/api/v1/mergers", useKey: true, contentType: jsonCT,
				body: hpMergerJSON, wantStatus: 201},
			{name: "create one without a date", method: "POST", path: "/api/v1/mergers", useKey: true, contentType: jsonCT,
				body: `{"name":"Tỉnh Ninh Bình","province_code":"37","sources":[{"province_code":"37","name":"Ninh Bình"}]}`, wantStatus: 201},
		})
		hp := mergerByProvince(t, a, "31")
		nb := mergerByProvince(t, a, "37")
		rm := "/mergers/" + hp.ID + "/roadmap"

		runScenarios(t, a, p, []scenario{
			{name: "the merger page links its roadmap", method: "GET", path: "/mergers/" + hp.ID, as: viewer,
				wantStatus: 200, wantText: `href="/mergers/` + hp.ID + `/roadmap"`},
			{name: "an empty roadmap tells a coordinator how to start", method: "GET", path: rm, as: coord,
				wantStatus: 200, wantType: "text/html", wantText: "Tạo lộ trình theo mẫu"},
			{name: "a reader sees no template button", method: "GET", path: rm, as: viewer,
				wantStatus: 200, wantText: `<p class="empty" id="roadmap-empty">Lộ trình chưa có nhiệm vụ nào.</p>`},
			{name: "a reader cannot apply the template", method: "POST", path: rm + "/template", as: viewer, contentType: formCT,
				wantStatus: 403},
			{name: "the template needs the effective date", method: "POST", path: "/mergers/" + nb.ID + "/roadmap/template", as: coord,
				contentType: formCT, wantStatus: 422, wantText: "Cần ngày hiệu lực của việc sáp nhập"},
			{name: "a coordinator applies the template", method: "POST", path: rm + "/template", as: coord, contentType: formCT,
				wantStatus: 303, wantLocation: rm + "?ok=flash.roadmap_created"},
			{name: "the template is refused twice", method: "POST", path: rm + "/template", as: coord, contentType: formCT,
				wantStatus: 409, wantType: "text/html", wantText: `id="roadmap-error">Lộ trình đã có nhiệm vụ; mẫu chỉ áp dụng cho lộ trình trống.`},
			{name: "a past deadline is overdue on the roadmap", method: "GET", path: rm, as: viewer,
				wantStatus: 200, wantText: `<span class="badge off">Quá hạn</span>`},
			{name: "statuses are in Vietnamese", method: "GET", path: rm, as: viewer,
				wantStatus: 200, wantText: `<td data-label="Trạng thái">Chưa bắt đầu</td>`},
			{name: "days are written dd/mm/yyyy", method: "GET", path: rm, as: viewer,
				wantStatus: 200, wantText: `<td data-label="Hạn hoàn thành" class="nowrap">10/05/2025</td>`},
			{name: "a reader cannot open the task form", method: "GET", path: "/mergers/" + hp.ID + "/tasks/new", as: viewer, wantStatus: 403},
			{name: "the task form offers the roadmap's tasks as dependencies", method: "GET", path: "/mergers/" + hp.ID + "/tasks/new", as: coord,
				wantStatus: 200, wantText: `<select id="depends_on" name="depends_on" multiple`},
			{name: "a refused task names every bad field", method: "POST", path: "/mergers/" + hp.ID + "/tasks", as: coord, contentType: formCT,
				body:       form(url.Values{"title": {""}, "deadline": {"31/02/2025"}, "progress": {"nhiều"}, "category": {"nope"}}),
				wantStatus: 422, wantText: `<p class="field-error" id="err-deadline">`},
			{name: "every field error is there", method: "POST", path: "/mergers/" + hp.ID + "/tasks", as: coord, contentType: formCT,
				body:       form(url.Values{"title": {""}, "deadline": {"31/02/2025"}, "progress": {"nhiều"}, "category": {"nope"}}),
				wantStatus: 422, wantText: `id="err-title"`},
			{name: "a deadline before the start is refused", method: "POST", path: "/mergers/" + hp.ID + "/tasks", as: coord, contentType: formCT,
				body:       form(url.Values{"title": {"Kiểm thử"}, "start": {"01/09/2025"}, "deadline": {"01/08/2025"}, "progress": {"10"}}),
				wantStatus: 422, wantText: "Hạn hoàn thành phải sau ngày bắt đầu."},
			{name: "an unknown dependency is refused", method: "POST", path: "/mergers/" + hp.ID + "/tasks", as: coord, contentType: formCT,
				body: form(url.Values{"title": {"Kiểm thử"}, "depends_on": {"tk_nope"}}), wantStatus: 422, wantText: `id="err-depends_on"`},
			{name: "a refused task keeps what was typed", method: "POST", path: "/mergers/" + hp.ID + "/tasks", as: coord, contentType: formCT,
				body: form(url.Values{"title": {"Kiểm thử"}, "progress": {"120"}}), wantStatus: 422, wantText: `value="Kiểm thử"`},
			{name: "a coordinator adds a task", method: "POST", path: "/mergers/" + hp.ID + "/tasks", as: coord, contentType: formCT,
				body: form(url.Values{"title": {scriptTask}, "phase": {"Chuẩn bị"}, "category": {"email"}, "owner_agency": {"ag_stttt"},
					"assignee": {"Phòng CNTT"}, "start": {"01/08/2025"}, "deadline": {"20/08/2025"}, "status": {"in_progress"}, "progress": {"10"}}),
				wantStatus: 303, wantLocation: rm + "?ok=flash.task_created"},
			{name: "a title is escaped on the roadmap", method: "GET", path: rm, as: viewer,
				wantStatus: 200, wantText: "<strong>&lt;script&gt;alert(1)&lt;/script&gt; Rà soát &lt;b&gt;tài khoản&lt;/b&gt;</strong>"},
			{name: "a task due within a week is at risk", method: "GET", path: rm, as: viewer,
				wantStatus: 200, wantText: `<span class="badge">Có nguy cơ chậm</span>`},
			{name: "the dashboard draws the timeline", method: "GET", path: "/mergers/" + hp.ID + "/dashboard", as: viewer,
				wantStatus: 200, wantType: "text/html", wantText: `<svg id="gantt"`},
			{name: "the dashboard names the phases", method: "GET", path: "/mergers/" + hp.ID + "/dashboard", as: viewer,
				wantStatus: 200, wantText: "<strong>Quản lý văn bản</strong>"},
			{name: "the dashboard marks today", method: "GET", path: "/mergers/" + hp.ID + "/dashboard", as: viewer,
				wantStatus: 200, wantText: `id="gantt-today"`},
			{name: "the dashboard escapes a title in the chart", method: "GET", path: "/mergers/" + hp.ID + "/dashboard", as: viewer,
				wantStatus: 200, wantText: "<title>&lt;script&gt;alert(1)&lt;/script&gt; Rà soát"},
			{name: "an empty roadmap's dashboard says so", method: "GET", path: "/mergers/" + nb.ID + "/dashboard", as: viewer,
				wantStatus: 200, wantText: `id="dashboard-empty"`},
			{name: "an unknown merger's roadmap is 404", method: "GET", path: "/mergers/mg_nope/roadmap", as: viewer, wantStatus: 404},
			{name: "an unknown task is 404", method: "GET", path: "/tasks/tk_nope/edit", as: coord, wantStatus: 404},

			{name: "the API lists the tasks", method: "GET", path: "/api/v1/mergers/" + hp.ID + "/tasks", as: viewer,
				wantStatus: 200, wantType: "application/json", wantText: `"overdue":true`},
			{name: "the API gives days as YYYY-MM-DD", method: "GET", path: "/api/v1/mergers/" + hp.ID + "/tasks", as: viewer,
				wantStatus: 200, wantText: `"deadline":"2025-05-10"`},
			{name: "the API sums up the phases", method: "GET", path: "/api/v1/mergers/" + hp.ID + "/progress", as: viewer,
				wantStatus: 200, wantText: `"phase":"Chuẩn bị"`},
			{name: "an unknown merger's tasks are 404", method: "GET", path: "/api/v1/mergers/mg_nope/tasks", as: viewer,
				wantStatus: 404, wantType: "application/problem+json", wantCode: "merger.not_found"},
			{name: "bad task fields are listed in errors[]", method: "POST", path: "/api/v1/mergers/" + hp.ID + "/tasks", useKey: true,
				contentType: jsonCT, body: `{"title":"","deadline":"2025-13-01","progress":150,"status":"nope"}`,
				wantStatus: 400, wantType: "application/problem+json", wantCode: "error.invalid_input", wantText: `"field":"deadline"`},
			{name: "an unknown JSON field is refused", method: "POST", path: "/api/v1/mergers/" + hp.ID + "/tasks", useKey: true,
				contentType: jsonCT, body: `{"title":"X","owner":"y"}`, wantStatus: 400, wantCode: "error.json_malformed"},
			{name: "a reader cannot add a task through the API", method: "POST", path: "/api/v1/mergers/" + hp.ID + "/tasks", as: viewer,
				contentType: jsonCT, body: `{"title":"X"}`, wantStatus: 403, wantCode: "error.forbidden"},
			{name: "a task added through the API", method: "POST", path: "/api/v1/mergers/" + hp.ID + "/tasks", useKey: true,
				contentType: jsonCT, body: `{"title":"Chuyển dữ liệu đất đai","phase":"Dữ liệu chuyên ngành","start":"2025-08-01","deadline":"2025-12-31","progress":5}`,
				wantStatus: 201, wantText: `"deadline":"2025-12-31"`},
		})

		task := taskByTitle(t, a, hp.ID, scriptTask)
		tp := "/tasks/" + task.ID
		v := strconv.FormatInt(task.Version, 10)
		edit := func(version, status, progress string) string {
			return form(url.Values{"version": {version}, "title": {"Rà soát tài khoản"}, "phase": {"Chuẩn bị"}, "category": {"email"},
				"start": {"01/08/2025"}, "deadline": {"20/08/2025"}, "status": {status}, "progress": {progress}, "evidence": {"Biên bản số 12"}})
		}
		runScenarios(t, a, p, []scenario{
			{name: "a reader cannot edit a task", method: "POST", path: tp, as: viewer, contentType: formCT, body: edit(v, "done", "0"), wantStatus: 403},
			{name: "the edit form shows the stored task", method: "GET", path: tp + "/edit", as: coord,
				wantStatus: 200, wantText: `<input type="hidden" name="version" value="` + v + `">`},
			{name: "a bad progress on edit is named", method: "POST", path: tp, as: coord, contentType: formCT, body: edit(v, "in_progress", "150"),
				wantStatus: 422, wantText: `id="err-progress"`},
			{name: "a coordinator marks the task done", method: "POST", path: tp, as: coord, contentType: formCT, body: edit(v, "done", "30"),
				wantStatus: 303, wantLocation: rm + "?ok=flash.task_saved#task-" + task.ID},
			{name: "a save over someone else's is refused", method: "POST", path: tp, as: coord, contentType: formCT, body: edit(v, "blocked", "30"),
				wantStatus: 409, wantText: "Người khác vừa sửa nhiệm vụ này"},
			{name: "the refused save shows what is stored", method: "POST", path: tp, as: coord, contentType: formCT, body: edit(v, "blocked", "30"),
				wantStatus: 409, wantText: `<tr><th>Trạng thái</th><td>Hoàn thành</td></tr>`},
			{name: "a PUT without a version is refused", method: "PUT", path: "/api/v1" + tp, useKey: true, contentType: jsonCT,
				body: `{"title":"X"}`, wantStatus: 400, wantText: `"field":"version"`},
			{name: "a stale PUT is 409", method: "PUT", path: "/api/v1" + tp, useKey: true, contentType: jsonCT,
				body: `{"title":"X","version":` + v + `}`, wantStatus: 409, wantCode: "merger.task_stale"},
			{name: "a reader cannot PUT", method: "PUT", path: "/api/v1" + tp, as: viewer, contentType: jsonCT,
				body: `{"title":"X","version":2}`, wantStatus: 403},
			{name: "a PUT with the current version", method: "PUT", path: "/api/v1" + tp, useKey: true, contentType: jsonCT,
				body: `{"title":"Rà soát tài khoản","status":"done","version":2}`, wantStatus: 200, wantText: `"progress":100`},
		})
		if got := taskByTitle(t, a, hp.ID, "Rà soát tài khoản"); got.Status != merger.Done || got.Progress != 100 || got.Version != 3 {
			t.Errorf("edited task: got %s %d%% v%d, want done 100%% v3", got.Status, got.Progress, got.Version)
		}
		if body := getPage(t, a, p, viewer, "/mergers/"+hp.ID+"/dashboard"); strings.Contains(body, "<script>alert") {
			t.Errorf("dashboard shows a raw script tag")
		}
	})
}
