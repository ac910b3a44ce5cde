//go:build unix

// The procedure benchmarks measure the system at scale: public tracking
// against a bare net/http handler running the very same SELECTs on the same
// database (the target is ≥ 0.7× its requests/s), and the leaders'
// statistics.
//
//	go test ./cmd/hopnhat/ -run '^$' -bench 'Track|ProcedureStats' -benchtime 10s
//
// The data: HOPNHAT_BENCH_DB names an existing database generated with
// `hopnhat generate dossiers` (a PostgreSQL URL, or an SQLite data
// directory); without it, HOPNHAT_BENCH_DOSSIERS dossiers (100,000) are
// generated into a fresh SQLite database first. bench/procedure.sh runs both
// and prints the ratio and p99.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
	"hopnhat/internal/procedure"
)

// procBench is a database full of dossiers and the app on it.
type procBench struct {
	d       *db.DB
	a       *app
	probes  []trackProbe // codes and factors of existing dossiers
	session string       // a leader's session, for the statistics page
}

type trackProbe struct{ code, factor string }

var (
	procBenchOnce sync.Once
	procBenchEnv  *procBench
	procBenchErr  error
)

// procBenchData opens (or generates) the benchmark's database once per run.
func procBenchData(b *testing.B) *procBench {
	b.Helper()
	procBenchOnce.Do(func() { procBenchEnv, procBenchErr = openProcBench(b) })
	if procBenchErr != nil {
		b.Fatal(procBenchErr)
	}
	return procBenchEnv
}

func openProcBench(b *testing.B) (*procBench, error) {
	ctx := reqctx.WithActor(context.Background(), "system:bench")
	var d *db.DB
	if src := os.Getenv("HOPNHAT_BENCH_DB"); src != "" {
		cfg := db.Config{DataDir: src}
		if strings.HasPrefix(src, "postgres") {
			cfg = db.Config{URL: src}
		}
		var err error
		if d, err = db.Open(ctx, cfg); err != nil {
			return nil, err
		}
		if err := d.Migrate(ctx, modules()); err != nil {
			return nil, err
		}
	} else {
		// The fresh database outlives this benchmark: the others share it.
		dir, err := os.MkdirTemp("", "hopnhat-procbench-")
		if err != nil {
			return nil, err
		}
		if d, err = db.Open(ctx, db.Config{DataDir: dir}); err != nil {
			return nil, err
		}
		if err := d.Migrate(ctx, modules()); err != nil {
			return nil, err
		}
		n := 100_000
		if v, err := strconv.Atoi(os.Getenv("HOPNHAT_BENCH_DOSSIERS")); err == nil && v > 0 {
			n = v
		}
		opt, err := generateAgencies(ctx, d, 114)
		if err != nil {
			return nil, err
		}
		opt.Dossiers, opt.Seed = n, 1
		start := time.Now()
		if _, err := procedure.Generate(ctx, d, opt); err != nil {
			return nil, err
		}
		b.Logf("generated %d dossiers into %s in %s", n, dir, time.Since(start).Round(time.Millisecond))
	}
	cfg := &config{BodyLimit: 1 << 20, SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, TrackRate: 1 << 30}
	a, err := newApp(d, cfg, benchLogger())
	if err != nil {
		return nil, err
	}
	e := &procBench{d: d, a: a}
	leader := fmt.Sprintf("bench-lanhdao-%d", time.Now().UnixNano())
	if _, err := a.auth.CreateUser(ctx, auth.NewUser{Username: leader, FullName: "Lãnh đạo đo tải", Role: reqctx.RoleLeader,
		Scope: reqctx.Scope{Kind: reqctx.ScopeProvince}, Password: benchPassword}); err != nil {
		return nil, err
	}
	if e.session, _, err = a.auth.Login(ctx, auth.Credentials{Username: leader, Password: benchPassword, Client: "127.0.0.1",
		UserAgent: "hopnhat-bench"}); err != nil {
		return nil, err
	}
	// Probes: dossiers picked at random by their generated ids.
	var total int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM proc_dossier`).Scan(&total); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for len(e.probes) < 2000 && total > 0 {
		var code, phone string
		err := d.QueryRowContext(ctx, `SELECT code, phone FROM proc_dossier WHERE id = $1`, fmt.Sprintf("hs_gen%09d", rng.IntN(total))).Scan(&code, &phone)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		e.probes = append(e.probes, trackProbe{code, phone[len(phone)-4:]})
	}
	if len(e.probes) == 0 {
		return nil, fmt.Errorf("no generated dossiers to track")
	}
	return e, nil
}

// bareTrack answers a tracking request with the very SELECTs the service
// runs (procedure.TrackQuery: the dossier with its procedure's name by code
// or old code; then procedure.StepsQuery) and a JSON answer, with nothing of
// ours around it: no router, middleware, rate limit, clock or agency names.
func bareTrack(d *db.DB) http.Handler {
	lookup, steps := procedure.TrackQuery, procedure.StepsQuery
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Code, Factor string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var id, code, proc, agency, ward, channel, applicant, cid, phone, addr, addrWard, papers, status, name string
		var days, received, due, pausedDays, late, version, created, updated int64
		var paused, finished, returned sql.NullInt64
		err := d.QueryRowContext(r.Context(), lookup, strings.ToUpper(strings.TrimSpace(in.Code))).Scan(&id, &code, &proc, &agency, &ward, &channel, &applicant,
			&cid, &phone, &addr, &addrWard, &papers, &status, &days, &received, &due, &paused, &pausedDays, &finished, &returned, &late,
			&version, &created, &updated, &name)
		if err != nil || !strings.HasSuffix(phone, in.Factor) {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		rows, err := d.QueryContext(r.Context(), steps, id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		type step struct {
			Action, Status, Agency string
			At                     int64
		}
		var out []step
		for rows.Next() {
			var s step
			var seq int64
			var actor, note string
			if err := rows.Scan(&seq, &s.Action, &s.Status, &s.Agency, &actor, &s.At, &note); err != nil {
				rows.Close()
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			out = append(out, s)
		}
		rows.Close()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "procedure": name, "status": status, "steps": out})
	})
}

// BenchmarkTrack sends tracking lookups over keep-alive connections on
// 127.0.0.1 to the bare handler and to the app's POST /api/v1/track, and
// reports req/s and p99 for each.
func BenchmarkTrack(b *testing.B) {
	e := procBenchData(b)
	for _, target := range []struct {
		name string
		h    http.Handler
		path string
	}{{"bare", bareTrack(e.d), "/track"}, {"app", e.a.handler, "/api/v1/track"}} {
		ts := httptest.NewUnstartedServer(target.h)
		ts.Config = web.NewServer(ts.Listener.Addr().String(), target.h, benchLogger())
		ts.Start()
		url := ts.URL + target.path
		client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024,
			IdleConnTimeout: time.Minute, DisableCompression: true}, Timeout: 30 * time.Second}
		post := func(p trackProbe) (int, []byte, error) {
			body, _ := json.Marshal(map[string]string{"code": p.code, "factor": p.factor})
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				return 0, nil, err
			}
			defer resp.Body.Close()
			out, err := io.ReadAll(resp.Body)
			return resp.StatusCode, out, err
		}
		b.Run(target.name, func(b *testing.B) {
			for _, p := range e.probes[:100] { // every probe must be found
				status, body, err := post(p)
				if err != nil || status != http.StatusOK || !bytes.Contains(body, []byte(p.code)) {
					b.Fatalf("%s %s: %d %s %v", target.name, p.code, status, body, err)
				}
			}
			var mu sync.Mutex
			var lat []time.Duration
			var next int64
			b.SetParallelism(32) // 64 clients on 2 cores
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				i := int(next)
				mu.Lock()
				next += 997
				mu.Unlock()
				for pb.Next() {
					p := e.probes[i%len(e.probes)]
					i++
					t := time.Now()
					status, _, err := post(p)
					mine = append(mine, time.Since(t))
					if err != nil || status != http.StatusOK {
						b.Errorf("%s: %d %v", p.code, status, err)
						return
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			el := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			}
			b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
		})
		client.CloseIdleConnections()
		ts.Close()
	}
}

// BenchmarkProcedureStats times what the leaders' dashboard asks at scale.
func BenchmarkProcedureStats(b *testing.B) {
	e := procBenchData(b)
	ctx := reqctx.WithActor(context.Background(), "system:bench")
	for _, c := range []struct {
		name string
		fn   func() error
	}{
		{"total", func() error { _, err := e.a.procs.Stats(ctx, "", procedure.StatFilter{}); return err }},
		{"by-agency", func() error { _, err := e.a.procs.Stats(ctx, "agency", procedure.StatFilter{}); return err }},
		{"by-month", func() error { _, err := e.a.procs.Stats(ctx, "month", procedure.StatFilter{}); return err }},
		{"by-procedure", func() error { _, err := e.a.procs.Stats(ctx, "procedure", procedure.StatFilter{}); return err }},
		{"backlog-by-agency", func() error { _, err := e.a.procs.Backlogs(ctx, "agency"); return err }},
		{"backlog-by-ward", func() error { _, err := e.a.procs.Backlogs(ctx, "ward"); return err }},
		{"overdue-list", func() error {
			_, err := e.a.procs.Dossiers(ctx, procedure.DossierFilter{State: "overdue", Limit: 50})
			return err
		}},
		{"newest-list", func() error { _, err := e.a.procs.Dossiers(ctx, procedure.DossierFilter{Limit: 50}); return err }},
		{"stats-page", func() error {
			req := httptest.NewRequest(http.MethodGet, "/dossiers/stats", nil)
			req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: e.session})
			rec := httptest.NewRecorder()
			e.a.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				return fmt.Errorf("stats page: %d", rec.Code)
			}
			return nil
		}},
		{"by-citizen-id", func() error {
			_, err := e.a.procs.Dossiers(ctx, procedure.DossierFilter{Q: "031190001234", Limit: 50})
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
