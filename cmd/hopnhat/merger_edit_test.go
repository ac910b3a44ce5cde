package main

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/merger"
	"hopnhat/internal/org"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

func TestMergerEditScenarios(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		p := seed(t, a)
		const coord, viewer = reqctx.RoleCoordinator, reqctx.RoleViewer
		runScenarios(t, a, p, []scenario{
			{name: "create the merger", method: "POST", path: "/api/v1/mergers", useKey: true, contentType: jsonCT, body: hpMergerJSON, wantStatus: 201},
			{name: "create an empty one", method: "POST", path: "/api/v1/mergers", useKey: true, contentType: jsonCT,
				body: `{"name":"Tỉnh Ninh Bình","province_code":"37","sources":[{"province_code":"37","name":"Ninh Bình"}]}`, wantStatus: 201},
		})
		hp, nb := mergerByProvince(t, a, "31"), mergerByProvince(t, a, "37")
		if _, err := a.merger.CreateSystem(context.Background(), merger.System{MergerID: hp.ID, Category: merger.CatPortal,
			ProvinceCode: "30", Name: "Cổng thông tin Hải Dương"}); err != nil {
			t.Fatal(err)
		}
		edit := "/mergers/" + hp.ID
		form := func(version int64, name, sources string) string {
			return url.Values{"version": {strconv.FormatInt(version, 10)}, "name": {name}, "province_code": {"31"},
				"effective_on": {"01/07/2025"}, "sources": {sources}}.Encode()
		}
		runScenarios(t, a, p, []scenario{
			{name: "the merger page links the edit form", method: "GET", path: edit, as: coord, wantStatus: 200, wantText: `id="edit-merger"`},
			{name: "a reader sees no edit link", method: "GET", path: edit, as: viewer, wantStatus: 200, wantText: `id="merger-links"`},
			{name: "a reader cannot open the form", method: "GET", path: edit + "/edit", as: viewer, wantStatus: 403},
			{name: "the form holds the old provinces one per line", method: "GET", path: edit + "/edit", as: coord, wantStatus: 200,
				wantText: "31 Hải Phòng\n30 Hải Dương</textarea>"},
			{name: "a merger with systems cannot be deleted from the form", method: "GET", path: edit + "/edit", as: coord, wantStatus: 200,
				wantText: `id="delete-refused"`},
			{name: "a coordinator renames it", method: "POST", path: edit, as: coord, contentType: formCT,
				body: form(hp.Version, "Thành phố Hải Phòng mới", "31 Hải Phòng\n30 Hải Dương"), wantStatus: 303, wantLocation: edit + "?ok=flash.merger_saved"},
			{name: "a stale save shows what is stored and keeps what was typed", method: "POST", path: edit, as: coord, contentType: formCT,
				body: form(hp.Version, "Tên khác", "31 Hải Phòng\n30 Hải Dương"), wantStatus: 409, wantText: `value="Tên khác"`},
			{name: "the stale page shows the stored name", method: "POST", path: edit, as: coord, contentType: formCT,
				body: form(hp.Version, "Tên khác", "31 Hải Phòng\n30 Hải Dương"), wantStatus: 409, wantText: "<td>Thành phố Hải Phòng mới</td>"},
			{name: "taking out a province with systems is refused on the field", method: "POST", path: edit, as: coord, contentType: formCT,
				body: form(hp.Version+1, "Thành phố Hải Phòng mới", "31 Hải Phòng"), wantStatus: 422,
				wantText: `id="err-sources">Không thể bỏ một tỉnh cũ đã có hệ thống trong danh mục.`},
			{name: "the API needs the version", method: "PUT", path: "/api/v1/mergers/" + hp.ID, as: coord, contentType: jsonCT,
				body: hpMergerJSON, wantStatus: 400, wantCode: "error.invalid_input", wantText: `"field":"version"`},
			{name: "the API refuses a stale version", method: "PUT", path: "/api/v1/mergers/" + hp.ID, as: coord, contentType: jsonCT,
				body:       `{"version":1,"name":"X","province_code":"31","sources":[{"province_code":"31","name":"Hải Phòng"},{"province_code":"30","name":"Hải Dương"}]}`,
				wantStatus: 409, wantCode: "merger.merger_stale"},
			{name: "the API saves with the version", method: "PUT", path: "/api/v1/mergers/" + hp.ID, as: coord, contentType: jsonCT,
				body:       `{"version":2,"name":"Thành phố Hải Phòng","province_code":"31","effective_on":"2025-07-01","sources":[{"province_code":"31","name":"Hải Phòng"},{"province_code":"30","name":"Hải Dương"}]}`,
				wantStatus: 200, wantText: `"version":3`},
			{name: "the API refuses to delete a merger with systems", method: "DELETE", path: "/api/v1/mergers/" + hp.ID + "?version=3", as: coord,
				wantStatus: 409, wantCode: "merger.merger_not_empty"},
			{name: "a reader cannot delete", method: "DELETE", path: "/api/v1/mergers/" + nb.ID + "?version=1", as: viewer, wantStatus: 403},
			{name: "the empty merger's form offers deletion", method: "GET", path: "/mergers/" + nb.ID + "/edit", as: coord, wantStatus: 200,
				wantText: `id="delete-merger-button"`},
			{name: "a stale deletion is refused", method: "POST", path: "/mergers/" + nb.ID + "/delete", as: coord, contentType: formCT,
				body: "version=7", wantStatus: 409, wantText: `id="form-error">Người khác vừa sửa việc sáp nhập này.`},
			{name: "a coordinator deletes the empty merger", method: "POST", path: "/mergers/" + nb.ID + "/delete", as: coord, contentType: formCT,
				body: "version=1", wantStatus: 303, wantLocation: "/mergers?ok=flash.merger_deleted"},
			{name: "the deleted merger is gone", method: "GET", path: "/mergers/" + nb.ID, as: viewer, wantStatus: 404},
		})
	})
}

func TestRoadmapByAgency(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		d.SetClock(func() time.Time { return roadmapNow })
		a := testApp(t, d)
		p := seed(t, a)
		ctx := reqctx.WithActor(context.Background(), "user:test")
		const coord, viewer = reqctx.RoleCoordinator, reqctx.RoleViewer
		runScenarios(t, a, p, []scenario{
			{name: "create the merger", method: "POST", path: "/api/v1/mergers", useKey: true, contentType: jsonCT, body: hpMergerJSON, wantStatus: 201},
		})
		hp := mergerByProvince(t, a, "31")
		tasks := "/mergers/" + hp.ID + "/tasks"
		runScenarios(t, a, p, []scenario{
			{name: "with no agencies registered the lead agency is free text", method: "GET", path: tasks + "/new", as: coord,
				wantStatus: 200, wantText: `<input type="text" id="owner_agency" name="owner_agency"`},
		})
		snv, err := a.org.Create(ctx, org.Input{Name: "Sở Nội vụ", Kind: org.KindDepartment, Period: org.Current, ProvinceCode: "31",
			ValidFrom: adminunit.ReformDate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.org.Create(ctx, org.Input{Name: "Sở Nội vụ Hải Dương", Kind: org.KindDepartment, Period: org.Legacy,
			ProvinceCode: "30", ValidTo: adminunit.ReformDate}); err != nil {
			t.Fatal(err)
		}
		task := func(owner string) string {
			return url.Values{"title": {"Giai đoạn 2 cấp xã"}, "owner_agency": {owner}, "deadline": {"01/08/2025"}, "progress": {"40"},
				"status": {"in_progress"}}.Encode()
		}
		runScenarios(t, a, p, []scenario{
			{name: "the form offers the merged city's agencies", method: "GET", path: tasks + "/new", as: coord,
				wantStatus: 200, wantText: `<option value="` + snv.ID + `">Sở Nội vụ</option>`},
			{name: "an agency not in the register is refused", method: "POST", path: tasks, as: coord, contentType: formCT,
				body: task("ag_nope"), wantStatus: 422, wantText: `id="err-owner_agency">Cơ quan này không có trong danh mục cơ quan của tỉnh mới.`},
			{name: "an old province's agency is refused", method: "POST", path: tasks, as: coord, contentType: formCT,
				body: task("Sở Nội vụ Hải Dương"), wantStatus: 422, wantText: `id="err-owner_agency"`},
			{name: "a registered agency is taken", method: "POST", path: tasks, as: coord, contentType: formCT,
				body: task(snv.ID), wantStatus: 303},
			{name: "the dashboard sums up per agency", method: "GET", path: "/mergers/" + hp.ID + "/dashboard", as: viewer,
				wantStatus: 200, wantText: `<tr id="agency-0">
    <td data-label="Cơ quan chủ trì"><strong>Sở Nội vụ</strong></td>`},
			{name: "the overdue list names the agency", method: "GET", path: "/mergers/" + hp.ID + "/dashboard", as: viewer,
				wantStatus: 200, wantText: `<td data-label="Cơ quan chủ trì">Sở Nội vụ</td>`},
			{name: "the API sums up per agency", method: "GET", path: "/api/v1/mergers/" + hp.ID + "/progress", as: viewer,
				wantStatus: 200, wantText: `"agencies":[{"agency_id":"` + snv.ID + `","agency":"Sở Nội vụ","tasks":1,"done":0,"progress":40,"overdue":1`},
		})
	})
}
