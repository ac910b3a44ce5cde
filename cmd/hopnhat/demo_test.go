package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"hopnhat/internal/adminunit/refdata/refdatatest"
	"hopnhat/internal/exchange"
	"hopnhat/internal/merger"
	"hopnhat/internal/org"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/procedure"
)

// rawKey finds a message key shown instead of its text.
var rawKey = regexp.MustCompile(`>\s*(?:procedure|dossier|stats|track|merger|org|nav|flash|error|common|exchange|gateway)\.[a-z_]+(?:\.[a-z_]+)*\s*<`)

// TestDemoLoads runs what serve --demo runs on an empty database, twice,
// and checks what the brief says the demo holds.
func TestDemoLoads(t *testing.T) {
	dbtest.Each(t, modules(), func(t *testing.T, d *db.DB) {
		a := testApp(t, d)
		a.cfg.AdminUnitsDir = refdatatest.Dir(t)
		srv := httptest.NewServer(a.handler) // the demo's tracking service points at this server
		t.Cleanup(srv.Close)
		a.cfg.Addr = strings.TrimPrefix(srv.URL, "http://")
		ctx := context.Background()
		var out strings.Builder
		for range 2 { // the second run changes nothing
			if err := loadDemo(ctx, a, &out); err != nil {
				t.Fatalf("load the demo: %v\n%s", err, out.String())
			}
		}
		if _, err := a.units.Index(ctx); err != nil {
			t.Fatalf("the demo imports the administrative units: %v", err)
		}
		hp := mergerByProvince(t, a, "31")
		if len(hp.Sources) != 2 || hp.Sources[1].Name != "Hải Dương" {
			t.Fatalf("the Hải Phòng merger: %+v", hp)
		}
		xs, err := a.merger.Systems(ctx, hp.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		per := map[string]int{}
		for _, x := range xs {
			per[x.ProvinceCode]++
		}
		if len(xs) != 25 || per["31"] != 13 || per["30"] != 12 {
			t.Fatalf("systems: got %d (%v), want 13 of Hải Phòng and 12 of Hải Dương", len(xs), per)
		}
		kept := map[merger.Category]string{}
		for _, x := range xs {
			dec, err := a.merger.Decision(ctx, x.ID)
			if err != nil {
				t.Fatalf("no decision on %s: %v", x.Name, err)
			}
			if dec.Outcome == merger.Keep {
				kept[x.Category] = x.ProvinceCode
			}
			if x.Category == merger.CatLGSP && x.ProvinceCode == "30" && dec.Outcome != merger.Backup {
				t.Errorf("Hải Dương's LGSP: got %s, want backup", dec.Outcome)
			}
		}
		for _, c := range []merger.Category{merger.CatDataCenter, merger.CatIOC, merger.CatSOC, merger.CatVideoConference, merger.CatDataNetwork} {
			if kept[c] != "30" {
				t.Errorf("%s: kept from %q, want Hải Dương", c, kept[c])
			}
		}
		if kept[merger.CatDocuments] != "31" {
			t.Errorf("document management: kept from %q, want Hải Phòng", kept[merger.CatDocuments])
		}
		ts, err := a.merger.Tasks(ctx, hp.ID)
		if err != nil {
			t.Fatal(err)
		}
		owners, err := a.org.List(ctx, org.Filter{Period: org.Current, ProvinceCode: "31"})
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]string{}
		for _, o := range owners {
			names[o.ID] = o.Name
		}
		done, led := 0, 0
		for _, tk := range ts {
			if tk.Status == merger.Done {
				done++
			}
			if names[tk.OwnerAgency] != "" {
				led++
			}
		}
		if len(ts) != 12 || done != 10 || led != 12 {
			t.Fatalf("roadmap: %d tasks, %d done, %d led by a registered agency; want 12, 10, 12", len(ts), done, led)
		}
		hcm := mergerByProvince(t, a, "79")
		if len(hcm.Sources) != 3 {
			t.Fatalf("the HCMC merger: %+v", hcm)
		}
		if c, err := a.procs.CountProcedures(ctx); err != nil || c.Total != 12 {
			t.Fatalf("demo procedures: %+v, %v", c, err)
		}
		f, err := a.procs.Stats(ctx, "", procedure.StatFilter{})
		if err != nil || len(f) != 1 || f[0].Received != 3003 || f[0].OnTimeRate() < 80 {
			t.Fatalf("demo statistics: %+v, %v", f, err)
		}
		mine, err := a.procs.Dossiers(ctx, procedure.DossierFilter{Q: "031095004321"})
		if err != nil || len(mine) != 1 || mine[0].WardCode != "11383" {
			t.Fatalf("today's dossier at Lê Chân: %+v, %v", mine, err)
		}
		if tr, err := a.procs.Track(ctx, mine[0].Code, "3456"); err != nil || tr.Procedure != "Đăng ký khai sinh" {
			t.Fatalf("tracking the demo dossier: %+v, %v", tr, err)
		}
		if n, _ := a.auth.CountUsers(ctx); n == 0 {
			t.Fatal("no demo accounts")
		}
		// The demo gateway: four services in the three cutover modes, and the
		// printed key tracks the demo dossier through /gw/.
		svcs, err := a.xchg.Services(ctx)
		if err != nil || len(svcs) != 4 {
			t.Fatalf("demo gateway services: %d, %v", len(svcs), err)
		}
		modes := map[exchange.Cutover]int{}
		for _, s := range svcs {
			modes[s.Cutover]++
		}
		if modes[exchange.CutoverOld] != 1 || modes[exchange.CutoverShadow] != 1 || modes[exchange.CutoverNew] != 2 {
			t.Fatalf("cutover modes: %v", modes)
		}
		key := regexp.MustCompile(`xk_[a-z2-7]{32}`).FindString(out.String())
		if key == "" {
			t.Fatalf("the demo prints no gateway key:\n%s", out.String())
		}
		req, _ := http.NewRequest("POST", srv.URL+"/gw/tra-cuu-ho-so/track",
			strings.NewReader(`{"code":"`+mine[0].Code+`","factor":"3456"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != "primary" || !strings.Contains(string(body), "Đăng ký khai sinh") {
			t.Fatalf("tracking through the demo gateway: %d %q %s", resp.StatusCode, resp.Header.Get("X-Upstream"), body)
		}
		// Every main page answers with the demo's data, in Vietnamese, with
		// no raw message key.
		p := seed(t, a)
		if !rawKey.MatchString("<td> stats.on_time_rate </td>") {
			t.Fatal("the raw-key check matches nothing")
		}
		for _, path := range []string{"/", "/procedures", "/procedures/calendar?year=2026", "/dossiers", "/dossiers?state=overdue",
			"/dossiers/stats", "/dossiers/" + mine[0].ID, "/dossiers/" + mine[0].ID + "/receipt", "/mergers/" + hp.ID + "/dashboard",
			"/mergers/" + hp.ID + "/report", "/agencies", "/gateway", "/gateway/board", "/gateway/consumers"} {
			body := getPage(t, a, p, reqctx.RoleAdmin, path)
			if k := rawKey.FindString(body); k != "" {
				t.Errorf("%s shows the raw key %q", path, k)
			}
		}
	})
}
