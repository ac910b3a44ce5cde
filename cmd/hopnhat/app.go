package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/register"
	"hopnhat/internal/exchange"
	"hopnhat/internal/merger"
	"hopnhat/internal/org"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/jobs"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
	"hopnhat/internal/procedure"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// modules lists every module's migrations, in the order they apply.
func modules() []db.Module {
	return []db.Module{audit.Migrations, auth.Migrations, jobs.Migrations, register.Migrations, org.Migrations, merger.Migrations,
		procedure.Migrations, exchange.Migrations}
}

// app is hopnhat assembled: the database, the services and the HTTP handler.
type app struct {
	cfg      *config
	log      *slog.Logger
	db       *db.DB
	auth     *auth.Service
	jobs     *jobs.Queue
	units    *register.Service
	org      *org.Service
	merger   *merger.Service
	procs    *procedure.Service
	xchg     *exchange.Service
	gateway  http.Handler // /gw/…: the exchange gateway, with its own keys, limits and log
	ui       *web.UI
	router   *web.Router
	registry *prometheus.Registry
	handler  http.Handler
	migrated atomic.Bool
}

// openDB opens the configured database and applies pending migrations.
func openDB(ctx context.Context, cfg *config) (*db.DB, error) {
	d, err := db.Open(ctx, db.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx, modules()); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// newAuth builds the accounts service; ward scopes are checked against, and
// named from, the administrative-unit register.
func newAuth(d *db.DB, log *slog.Logger, cfg *config, units *register.Service) (*auth.Service, error) {
	return auth.NewService(d, log, auth.Config{SessionIdle: cfg.SessionIdle, SessionAbsolute: cfg.SessionMax, Argon2: cfg.argon2,
		Scopes: units})
}

// newApp builds the services and the router on an open database. It refuses a
// router with any route lacking an access rule.
func newApp(d *db.DB, cfg *config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log, db: d, registry: prometheus.NewRegistry()}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(d.Writer(), "writer"))
	if d.Reader() != d.Writer() {
		a.registry.MustRegister(collectors.NewDBStatsCollector(d.Reader(), "reader"))
	}
	var err error
	a.units = register.NewService(d, log)
	a.org = org.NewService(d, log)
	a.merger = merger.NewService(d, log)
	a.merger.UseAgencies(mergerAgencies{a.org})
	a.procs = procedure.NewService(d, log, procedureAgencies{a.org}, procedureAddresses{a.units})
	a.xchg = exchange.NewService(d, log)
	a.xchg.UseMetrics(exchange.NewMetrics(a.registry, a.xchg))
	a.xchg.SetRetention(cmp.Or(cfg.GatewayLogDays, exchange.DefaultRetentionDays))
	a.gateway = a.xchg.Proxy(log)
	if a.auth, err = newAuth(d, log, cfg, a.units); err != nil {
		return nil, err
	}
	if a.ui, err = web.NewUI(log); err != nil {
		return nil, err
	}
	a.router = web.NewRouter(a.ui)
	if err := a.ui.RegisterShell(a.router, web.ShellConfig{Ready: a.ready, Registry: a.registry, Version: version}); err != nil {
		return nil, err
	}
	authH, err := auth.NewHandlers(a.auth, a.ui, cfg.SecureCookies || cfg.TLSCert != "")
	if err != nil {
		return nil, err
	}
	authH.Register(a.router)
	auditH, err := audit.NewHandlers(d, a.ui)
	if err != nil {
		return nil, err
	}
	auditH.Register(a.router)
	a.jobs = jobs.NewQueue(d, log)
	jobsH, err := jobs.NewHandlers(a.jobs, a.ui)
	if err != nil {
		return nil, err
	}
	jobsH.Register(a.router)
	unitsH, err := register.NewHandlers(a.units, a.ui)
	if err != nil {
		return nil, err
	}
	unitsH.Register(a.router)
	orgH, err := org.NewHandlers(a.org, a.ui)
	if err != nil {
		return nil, err
	}
	orgH.Register(a.router)
	mergerH, err := merger.NewHandlers(a.merger, a.ui)
	if err != nil {
		return nil, err
	}
	mergerH.Register(a.router)
	procH, err := procedure.NewHandlers(a.procs, a.ui)
	if err != nil {
		return nil, err
	}
	procH.LimitTracking(cfg.TrackRate)
	procH.Register(a.router)
	xchgH, err := exchange.NewHandlers(a.xchg, a.ui)
	if err != nil {
		return nil, err
	}
	xchgH.Register(a.router)

	if err := a.router.Validate(); err != nil {
		return nil, err
	}
	if missing := a.ui.Catalog.Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("catalogue keys missing a translation: %v", missing)
	}
	proxies, err := web.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	a.handler = web.Chain(a.router,
		web.Observe(log, web.NewMetrics(a.registry), a.ui, proxies),
		web.SecurityHeaders(cfg.TLSCert != ""),
		web.CrossOrigin(a.ui),
		web.LimitBody(cfg.BodyLimit, a.ui, largerBodies(register.LargerBodies(), org.LargerBodies(), procedure.LargerBodies())),
		auth.Middleware(a.auth, a.ui),
	)
	if cfg.GatewayAddr == "" {
		a.handler = withGateway(a.handler, a.gateway)
	}
	return a, nil
}

// withGateway sends /gw/… to the gateway, which checks its own keys and limits
// and writes its own log, and everything else to the pages. It does not go
// through a ServeMux, which would clean the path and redirect.
func withGateway(pages, gateway http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, exchange.PathPrefix) {
			gateway.ServeHTTP(w, r)
			return
		}
		pages.ServeHTTP(w, r)
	})
}

// gatewayHandler is what the gateway's own listener serves: /gw/…, and
// /healthz, /readyz and /metrics for the load balancer and monitoring.
func (a *app) gatewayHandler() http.Handler {
	metrics := promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, exchange.PathPrefix):
			a.gateway.ServeHTTP(w, r)
		case r.URL.Path == "/healthz" && r.Method == http.MethodGet:
			_ = web.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version})
		case r.URL.Path == "/readyz" && r.Method == http.MethodGet:
			ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
			defer cancel()
			if err := a.ready(ctx); err != nil {
				_ = web.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
				return
			}
			_ = web.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		case r.URL.Path == "/metrics" && r.Method == http.MethodGet:
			metrics.ServeHTTP(w, r)
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"type":"about:blank","title":"Không tìm thấy","status":404,"detail":"Cổng trao đổi chỉ phục vụ /gw/{dịch vụ}/…"}`+"\n")
		}
	})
}

// largerBodies merges the modules' lists of paths with larger body limits.
func largerBodies(lists ...map[string]int64) map[string]int64 {
	m := map[string]int64{}
	for _, l := range lists {
		for p, n := range l {
			m[p] = n
		}
	}
	return m
}

// ready reports whether the database answers and every migration is applied.
// Migrations are looked up until they are found applied (they do not come
// undone); after that a probe costs one ping of a reader, never the writer.
func (a *app) ready(ctx context.Context) error {
	if err := a.db.Reader().PingContext(ctx); err != nil {
		return err
	}
	if a.migrated.Load() {
		return nil
	}
	pending, err := a.db.Pending(ctx, modules())
	if err != nil {
		return err
	}
	if pending {
		return fmt.Errorf("migrations pending")
	}
	a.migrated.Store(true)
	return nil
}

// mergerAgencies lets the merger workspace name the agencies of the merged
// province that lead its roadmap tasks.
type mergerAgencies struct{ org *org.Service }

func (m mergerAgencies) Owners(ctx context.Context, provinceCode string) ([]merger.AgencyRef, error) {
	list, err := m.org.List(ctx, org.Filter{Period: org.Current, ProvinceCode: provinceCode, Limit: 5000})
	if err != nil {
		return nil, err
	}
	out := make([]merger.AgencyRef, len(list))
	for i, a := range list {
		out[i] = merger.AgencyRef{ID: a.ID, Name: a.Name}
	}
	return out, nil
}

// procedureAgencies lets the procedure system ask the agency register.
type procedureAgencies struct{ org *org.Service }

func procAgency(a org.Agency, now time.Time) procedure.Agency {
	current := a.Period == org.Current && (a.ValidTo.IsZero() || now.Before(a.ValidTo))
	return procedure.Agency{ID: a.ID, Name: a.Name, Code: a.Code, WardCode: a.WardCode, Current: current}
}

func (p procedureAgencies) Agency(ctx context.Context, id string) (procedure.Agency, error) {
	a, err := p.org.Agency(ctx, id)
	return procAgency(a, time.Now()), err
}

func (p procedureAgencies) ByCode(ctx context.Context, code string) (procedure.Agency, error) {
	a, err := p.org.ByCode(ctx, code)
	return procAgency(a, time.Now()), err
}

func (p procedureAgencies) ResponsibleNow(ctx context.Context, id string) ([]procedure.Agency, error) {
	list, err := p.org.ResponsibleNow(ctx, id)
	out := make([]procedure.Agency, len(list))
	for i, a := range list {
		out[i] = procAgency(a, time.Now())
	}
	return out, err
}

func (p procedureAgencies) Current(ctx context.Context) ([]procedure.Agency, error) {
	list, err := p.org.List(ctx, org.Filter{Period: org.Current, Limit: 5000})
	out := make([]procedure.Agency, 0, len(list))
	for _, a := range list {
		if pa := procAgency(a, time.Now()); pa.Current {
			out = append(out, pa)
		}
	}
	return out, err
}

func (p procedureAgencies) Former(ctx context.Context) ([]procedure.Agency, error) {
	list, err := p.org.List(ctx, org.Filter{Period: org.Legacy, Limit: 5000})
	out := make([]procedure.Agency, len(list))
	for i, a := range list {
		out[i] = procAgency(a, time.Now())
	}
	return out, err
}

// procedureAddresses lets the procedure system read addresses with the
// administrative-unit register.
type procedureAddresses struct{ units *register.Service }

func (p procedureAddresses) Locate(ctx context.Context, address string) (string, error) {
	idx, err := p.units.Index(ctx)
	if errors.Is(err, register.ErrNotImported) {
		return "", nil // nothing to convert with yet
	}
	if err != nil {
		return "", err
	}
	return idx.Convert(address, adminunit.Options{}).WardCode, nil
}

func (p procedureAddresses) WardName(ctx context.Context, code string) string {
	sc := reqctx.Scope{Kind: reqctx.ScopeWard, Code: code}
	if p.units.CheckScope(ctx, sc) != "" {
		return ""
	}
	if n := p.units.ScopeName(ctx, sc); n != "" {
		return n
	}
	return code // the register is not imported yet: any code stands
}
