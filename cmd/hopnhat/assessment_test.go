package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"hopnhat/internal/merger"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

const scriptText = "<script>alert(1)</script>"

func TestAssessmentScenarios(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		p := seed(t, a)
		const coord, viewer = reqctx.RoleCoordinator, reqctx.RoleViewer
		form := func(v url.Values) string { return v.Encode() }
		ctx := reqctx.WithActor(context.Background(), "user:test")
		m, err := a.merger.CreateMerger(ctx, merger.MergerInput{Name: "Thành phố Hải Phòng", ProvinceCode: "31",
			Sources: []merger.Source{{ProvinceCode: "31", Name: "Hải Phòng"}, {ProvinceCode: "30", Name: "Hải Dương"}}})
		if err != nil {
			t.Fatal(err)
		}
		add := func(cat merger.Category, province, name string) merger.System {
			x, err := a.merger.CreateSystem(ctx, merger.System{MergerID: m.ID, Category: cat, ProvinceCode: province, Name: name})
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		hp := add(merger.CatPortal, "31", "Cổng thông tin Hải Phòng")
		hd := add(merger.CatPortal, "30", "Cổng thông tin Hải Dương")
		mail := add(merger.CatEmail, "30", "Thư điện tử Hải Dương")
		cmp := "/mergers/" + m.ID + "/compare/portal"
		weights := func(fn, tech string) string {
			v := url.Values{"category": {"portal"}, "functions": {fn}, "technology": {tech}}
			for _, c := range []string{"deployment", "investment", "users", "database"} {
				v.Set(c, "0")
			}
			return form(v)
		}
		score := func(c, s, ev string) string {
			return form(url.Values{"criterion": {c}, "score": {s}, "evidence": {ev}})
		}

		runScenarios(t, a, p, []scenario{
			// The comparison before anything is scored.
			{name: "the matrix links a category with systems to its comparison", method: "GET", path: "/mergers/" + m.ID, as: viewer,
				wantStatus: 200, wantText: `href="/mergers/` + m.ID + `/compare/portal" id="compare-portal"`},
			{name: "unscored candidates are flagged, not hidden", method: "GET", path: cmp, as: viewer,
				wantStatus: 200, wantType: "text/html", wantText: "<strong>Còn thiếu điểm:</strong>\n  Chức năng, tính năng, Nền tảng công nghệ, Thời gian triển khai"},
			{name: "the comparison has a column per candidate", method: "GET", path: cmp, as: viewer,
				wantStatus: 200, wantText: `<th id="head-` + hd.ID + `"><a href="/systems/` + hd.ID + `">Cổng thông tin Hải Dương</a>`},
			{name: "an unknown category is 404", method: "GET", path: "/mergers/" + m.ID + "/compare/erp", as: viewer,
				wantStatus: 404, wantText: "Không có nhóm hệ thống này."},
			{name: "the comparison of an unknown merger is 404", method: "GET", path: "/mergers/mg_nope/compare/portal", as: viewer, wantStatus: 404},
			{name: "an unknown category through the API is 404", method: "GET", path: "/api/v1/mergers/" + m.ID + "/compare/erp", as: viewer,
				wantStatus: 404, wantType: "application/problem+json", wantCode: "merger.category_not_found"},
			{name: "a reader gets no scoring form", method: "GET", path: cmp, as: viewer, wantStatus: 200, wantText: "Tổng điểm có trọng số"},

			// Weights.
			{name: "a reader cannot set the weights", method: "POST", path: "/mergers/" + m.ID + "/weights", as: viewer, contentType: formCT,
				body: weights("2", "1"), wantStatus: 403},
			{name: "a weight that does not read is named", method: "POST", path: "/mergers/" + m.ID + "/weights", as: coord, contentType: formCT,
				body: weights("nhiều", "1"), wantStatus: 422, wantText: `<p class="field-error" id="err-weight-functions">Chức năng, tính năng: Trọng số từ 0 đến 100.</p>`},
			{name: "a weight over 100 is named", method: "POST", path: "/mergers/" + m.ID + "/weights", as: coord, contentType: formCT,
				body: weights("101", "1"), wantStatus: 422, wantText: `id="err-weight-functions"`},
			{name: "all weights zero is refused", method: "POST", path: "/mergers/" + m.ID + "/weights", as: coord, contentType: formCT,
				body: weights("0", "0"), wantStatus: 422, wantText: "Cần ít nhất một tiêu chí có trọng số lớn hơn 0."},
			{name: "a coordinator sets the weights", method: "POST", path: "/mergers/" + m.ID + "/weights", as: coord, contentType: formCT,
				body: weights("2", "1"), wantStatus: 303, wantLocation: cmp + "?ok=flash.weights_saved"},
			{name: "the weights through the API", method: "PUT", path: "/api/v1/mergers/" + m.ID + "/weights", useKey: true, contentType: jsonCT,
				body: `{"weights":{"functions":2,"technology":1}}`, wantStatus: 200, wantText: `"functions":2`},
			{name: "an unknown criterion in the weights is 400", method: "PUT", path: "/api/v1/mergers/" + m.ID + "/weights", useKey: true, contentType: jsonCT,
				body: `{"weights":{"beauty":2}}`, wantStatus: 400, wantText: `"field":"weights"`},
			{name: "a reader cannot PUT the weights", method: "PUT", path: "/api/v1/mergers/" + m.ID + "/weights", as: viewer, contentType: jsonCT,
				body: `{"weights":{"functions":2}}`, wantStatus: 403, wantCode: "error.forbidden"},

			// Scores: a tie first.
			{name: "a coordinator scores on the page", method: "POST", path: "/systems/" + hp.ID + "/scores", as: coord, contentType: formCT,
				body: score("functions", "4", scriptText+" đủ chức năng"), wantStatus: 303, wantLocation: cmp + "?ok=flash.score_saved#cand-" + hp.ID},
			{name: "a score out of range is refused", method: "POST", path: "/systems/" + hp.ID + "/scores", as: coord, contentType: formCT,
				body: score("technology", "9", ""), wantStatus: 422, wantText: "Điểm từ 1 đến 5."},
			{name: "a reader cannot score", method: "POST", path: "/systems/" + hp.ID + "/scores", as: viewer, contentType: formCT,
				body: score("technology", "3", ""), wantStatus: 403},
			{name: "scoring an unknown system is 404", method: "POST", path: "/systems/sy_nope/scores", as: coord, contentType: formCT,
				body: score("technology", "3", ""), wantStatus: 404},
			{name: "a score through the API", method: "PUT", path: "/api/v1/systems/" + hp.ID + "/scores/technology", useKey: true, contentType: jsonCT,
				body: `{"score":3,"evidence":"Java, PostgreSQL"}`, wantStatus: 200, wantText: `"score":3`},
			{name: "an unknown criterion through the API is 404", method: "PUT", path: "/api/v1/systems/" + hp.ID + "/scores/beauty", useKey: true, contentType: jsonCT,
				body: `{"score":3}`, wantStatus: 404, wantCode: "merger.criterion_not_found"},
			{name: "a score of 0 through the API is 400", method: "PUT", path: "/api/v1/systems/" + hp.ID + "/scores/users", useKey: true, contentType: jsonCT,
				body: `{"score":0}`, wantStatus: 400, wantText: `"field":"score"`},
			{name: "a score of an unknown system through the API is 404", method: "PUT", path: "/api/v1/systems/sy_nope/scores/users", useKey: true, contentType: jsonCT,
				body: `{"score":3}`, wantStatus: 404, wantCode: "merger.system_not_found"},
			{name: "a reader cannot PUT a score", method: "PUT", path: "/api/v1/systems/" + hp.ID + "/scores/users", as: viewer, contentType: jsonCT,
				body: `{"score":3}`, wantStatus: 403},
			{name: "score the other candidate's functions", method: "PUT", path: "/api/v1/systems/" + hd.ID + "/scores/functions", as: coord, contentType: jsonCT,
				body: `{"score":4,"evidence":"đủ"}`, wantStatus: 200},
			{name: "one candidate still lacks a score", method: "GET", path: cmp, as: viewer,
				wantStatus: 200, wantText: "<strong>Còn thiếu điểm:</strong>\n  Nền tảng công nghệ của Cổng thông tin Hải Dương"},
			{name: "score the other candidate's technology", method: "POST", path: "/systems/" + hd.ID + "/scores", as: coord, contentType: formCT,
				body: score("technology", "3", ""), wantStatus: 303},
			{name: "equal totals are a tie", method: "GET", path: cmp, as: viewer,
				wantStatus: 200, wantText: `<p class="flash err" role="alert" id="flag-tie"><strong>Hòa điểm — chưa có đề xuất</strong>`},
			{name: "totals in Vietnamese notation", method: "GET", path: cmp, as: viewer,
				wantStatus: 200, wantText: `<strong id="total-` + hd.ID + `">3,67</strong>`},
			{name: "evidence with markup is escaped", method: "GET", path: cmp, as: viewer,
				wantStatus: 200, wantText: "&lt;script&gt;alert(1)&lt;/script&gt; đủ chức năng"},

			// A better score makes a recommendation.
			{name: "a better score for one candidate", method: "POST", path: "/systems/" + hd.ID + "/scores", as: coord, contentType: formCT,
				body: score("technology", "5", "Nền tảng mới"), wantStatus: 303},
			{name: "the weighted best is recommended", method: "GET", path: cmp, as: viewer,
				wantStatus: 200, wantText: "<strong>Đề xuất: Cổng thông tin Hải Dương</strong>\n  (Hải Dương) · tổng điểm 4,33"},
			{name: "the comparison through the API", method: "GET", path: "/api/v1/mergers/" + m.ID + "/compare/portal", as: viewer,
				wantStatus: 200, wantType: "application/json", wantText: `"incomplete":false,"recommended":"` + hd.ID + `","tie":false`},

			// Decisions.
			{name: "the decisions table starts undecided", method: "GET", path: "/mergers/" + m.ID, as: viewer,
				wantStatus: 200, wantText: `<span class="muted">chưa quyết định</span>`},
			{name: "an undecided system says so", method: "GET", path: "/systems/" + hd.ID, as: viewer,
				wantStatus: 200, wantText: `id="undecided">Hệ thống này chưa có quyết định.`},
			{name: "a first decision's form has version 0", method: "GET", path: "/systems/" + hd.ID, as: coord,
				wantStatus: 200, wantText: `<input type="hidden" name="version" value="0">`},
			{name: "a reader cannot decide", method: "POST", path: "/systems/" + hd.ID + "/decision", as: viewer, contentType: formCT,
				body: form(url.Values{"outcome": {"keep"}, "version": {"0"}}), wantStatus: 403},
			{name: "a backup needs its date", method: "POST", path: "/systems/" + hd.ID + "/decision", as: coord, contentType: formCT,
				body: form(url.Values{"outcome": {"backup"}, "version": {"0"}}), wantStatus: 422, wantText: `<p class="field-error" id="err-until">Phương án dự phòng cần ngày kết thúc.`},
			{name: "a bad document date is named", method: "POST", path: "/systems/" + hd.ID + "/decision", as: coord, contentType: formCT,
				body: form(url.Values{"outcome": {"keep"}, "doc_date": {"31/02/2025"}, "version": {"0"}}), wantStatus: 422, wantText: `id="err-doc_date"`},
			{name: "a coordinator decides", method: "POST", path: "/systems/" + hd.ID + "/decision", as: coord, contentType: formCT,
				body: form(url.Values{"outcome": {"keep"}, "doc_number": {"1234/QĐ-UBND"}, "doc_date": {"15/06/2025"},
					"signer": {"Chủ tịch UBND tỉnh"}, "rationale": {scriptText + " điểm cao nhất"}, "version": {"0"}}),
				wantStatus: 303, wantLocation: "/systems/" + hd.ID + "?ok=flash.decision_saved#decision"},
			{name: "the decision is on the system page", method: "GET", path: "/systems/" + hd.ID, as: viewer,
				wantStatus: 200, wantText: `<strong id="decision-outcome">Giữ làm hệ thống dùng chung</strong>`},
			{name: "the rationale with markup is escaped", method: "GET", path: "/systems/" + hd.ID, as: viewer,
				wantStatus: 200, wantText: "&lt;script&gt;alert(1)&lt;/script&gt; điểm cao nhất"},
			{name: "a second first decision is a conflict", method: "POST", path: "/systems/" + hd.ID + "/decision", as: coord, contentType: formCT,
				body:       form(url.Values{"outcome": {"retire"}, "version": {"0"}}),
				wantStatus: 409, wantType: "text/html", wantText: "Quyết định này vừa được người khác thay đổi"},
			{name: "the conflict shows what is stored", method: "POST", path: "/systems/" + hd.ID + "/decision", as: coord, contentType: formCT,
				body: form(url.Values{"outcome": {"retire"}, "version": {"0"}}), wantStatus: 409, wantText: "<td>1234/QĐ-UBND</td>"},
			{name: "the decision changes to a backup", method: "POST", path: "/systems/" + hd.ID + "/decision", as: coord, contentType: formCT,
				body: form(url.Values{"outcome": {"backup"}, "until": {"31/12/2025"}, "doc_number": {"1500/QĐ-UBND"}, "doc_date": {"01/07/2025"},
					"signer": {"Chủ tịch UBND thành phố"}, "rationale": {"Giữ dự phòng"}, "version": {"1"}}),
				wantStatus: 303},
			{name: "the changed decision shows its date", method: "GET", path: "/systems/" + hd.ID, as: viewer,
				wantStatus: 200, wantText: `<strong id="decision-outcome">Dự phòng đến ngày</strong> 31/12/2025`},
			{name: "the history keeps the first version", method: "GET", path: "/systems/" + hd.ID, as: viewer,
				wantStatus: 200, wantText: `<td data-label="Văn bản quyết định">1234/QĐ-UBND · 15/06/2025</td>`},
			{name: "the decisions table names the outcome", method: "GET", path: "/mergers/" + m.ID, as: viewer,
				wantStatus: 200, wantText: `<strong>Dự phòng đến ngày</strong> 31/12/2025`},
			{name: "the decision through the API", method: "GET", path: "/api/v1/systems/" + hd.ID + "/decision", as: viewer,
				wantStatus: 200, wantType: "application/json", wantText: `"until":"2025-12-31"`},
			{name: "the history through the API", method: "GET", path: "/api/v1/systems/" + hd.ID + "/decision", as: viewer,
				wantStatus: 200, wantText: `"outcome":"keep"`},
			{name: "an undecided system through the API", method: "GET", path: "/api/v1/systems/" + mail.ID + "/decision", as: viewer,
				wantStatus: 200, wantText: `"decision":null,"history":[]`},
			{name: "the decision of an unknown system is 404", method: "GET", path: "/api/v1/systems/sy_nope/decision", as: viewer,
				wantStatus: 404, wantCode: "merger.system_not_found"},
			{name: "deciding an unknown system on the page is 404", method: "POST", path: "/systems/sy_nope/decision", as: coord, contentType: formCT,
				body: form(url.Values{"outcome": {"keep"}, "version": {"0"}}), wantStatus: 404},
			{name: "a stale decision through the API is 409", method: "PUT", path: "/api/v1/systems/" + hd.ID + "/decision", useKey: true, contentType: jsonCT,
				body: `{"outcome":"retire","version":1}`, wantStatus: 409, wantType: "application/problem+json", wantCode: "merger.decision_changed"},
			{name: "a decision without a version is refused", method: "PUT", path: "/api/v1/systems/" + hd.ID + "/decision", useKey: true, contentType: jsonCT,
				body: `{"outcome":"retire"}`, wantStatus: 400, wantText: `"code":"merger.version_required"`},
			{name: "a bad date through the API is named", method: "PUT", path: "/api/v1/systems/" + hd.ID + "/decision", useKey: true, contentType: jsonCT,
				body: `{"outcome":"keep","doc_date":"2025-02-30","version":2}`, wantStatus: 400, wantText: `"field":"doc_date"`},
			{name: "an unknown outcome is named", method: "PUT", path: "/api/v1/systems/" + hd.ID + "/decision", useKey: true, contentType: jsonCT,
				body: `{"outcome":"sell","version":2}`, wantStatus: 400, wantText: `"field":"outcome"`},
			{name: "a reader cannot PUT a decision", method: "PUT", path: "/api/v1/systems/" + hd.ID + "/decision", as: viewer, contentType: jsonCT,
				body: `{"outcome":"keep","version":2}`, wantStatus: 403, wantCode: "error.forbidden"},
			{name: "a current decision through the API", method: "PUT", path: "/api/v1/systems/" + hd.ID + "/decision", useKey: true, contentType: jsonCT,
				body: `{"outcome":"keep","doc_number":"1600/QĐ-UBND","doc_date":"2025-07-15","version":2}`, wantStatus: 200, wantText: `"version":3`},
		})

		// Newest first; a reader sees no form.
		page := pageAs(t, a, p, viewer, "/systems/"+hd.ID)
		i3, i2, i1 := strings.Index(page, `id="history-3"`), strings.Index(page, `id="history-2"`), strings.Index(page, `id="history-1"`)
		if i3 < 0 || i2 < i3 || i1 < i2 {
			t.Errorf("decision history: got versions at %d, %d, %d, want 3, 2, 1 in that order", i3, i2, i1)
		}
		if strings.Contains(page, `id="decision-form"`) {
			t.Error("a reader's system page has the decision form")
		}
		if page := pageAs(t, a, p, viewer, cmp); strings.Contains(page, `id="score-form-`) || strings.Contains(page, `id="weights-form"`) {
			t.Error("a reader's comparison has the scoring or weights form")
		}
		if page := pageAs(t, a, p, viewer, "/mergers/"+m.ID); strings.Contains(page, `id="compare-email"`) == false || strings.Contains(page, `id="compare-ioc"`) {
			t.Error("the matrix links only the categories with systems to their comparison")
		}
	})
}
