package web

import (
	"context"
	"hopnhat/internal/platform/reqctx"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// LocalPath returns next when it is a path on this site, else "/": redirects
// after sign-in or a language switch never leave hopnhat.
func LocalPath(next string) string {
	// A backslash or control character has no business in a local path, and
	// browsers read "\\" as "/": refuse them anywhere.
	if next == "" || next[0] != '/' || strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil {
		return "/"
	}
	// http.Redirect cleans the path it sends; judge the path it will send,
	// decoded ("%5C" is a backslash there too).
	if strings.ContainsRune(u.Path, '\\') || strings.HasPrefix(path.Clean(u.Path), "//") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// Tile is one figure on the home dashboard, contributed by a module.
type Tile struct {
	Key   string // i18n key of the label
	Href  string // where clicking it leads; may be empty
	Rule  Rule
	Value func(ctx context.Context) (string, error)
}

// AddTile adds a dashboard tile.
func (u *UI) AddTile(t Tile) { u.tiles = append(u.tiles, t) }

// ShellConfig wires the shell's own routes.
type ShellConfig struct {
	Ready    func(ctx context.Context) error // nil error: the database answers and is migrated
	Registry *prometheus.Registry
	Version  string
}

type tileView struct {
	Key, Href, Value string
	Failed           bool
}

type homeView struct {
	Tiles   []tileView
	Version string
}

// RegisterShell adds the home dashboard, the language switch, static assets,
// health, readiness and metrics.
func (u *UI) RegisterShell(rt *Router, cfg ShellConfig) error {
	ps, err := u.Pages(layoutFS, "templates/shell")
	if err != nil {
		return err
	}
	u.AddNav(NavLink{Key: "nav.home", Href: "/", Rule: SignedIn})
	rt.Handle("GET /{$}", SignedIn, func(w http.ResponseWriter, r *http.Request) error {
		p := reqctx.PrincipalOf(r.Context())
		v := homeView{Version: cfg.Version}
		for _, t := range u.tiles {
			if !t.Rule.Admits(p) {
				continue
			}
			tv := tileView{Key: t.Key, Href: t.Href}
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			val, err := t.Value(ctx)
			cancel()
			if err != nil {
				// One slow or broken figure must not take the dashboard down.
				u.Log.WarnContext(r.Context(), "dashboard tile failed", "tile", t.Key, "err", err)
				tv.Failed = true
			}
			tv.Value = val
			v.Tiles = append(v.Tiles, tv)
		}
		return ps.Render(w, r, "home", v)
	})
	rt.Handle("GET /lang", Public, func(w http.ResponseWriter, r *http.Request) error {
		lang := Vietnamese
		if r.URL.Query().Get("to") == string(English) {
			lang = English
		}
		http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: string(lang), Path: "/", MaxAge: 365 * 24 * 3600,
			SameSite: http.SameSiteLaxMode, HttpOnly: true, Secure: r.TLS != nil})
		http.Redirect(w, r, LocalPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	})
	rt.HandleHTTP("GET /static/", Public, StaticHandler())
	rt.Handle("GET /healthz", Public, func(w http.ResponseWriter, r *http.Request) error {
		return WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": cfg.Version})
	})
	rt.Handle("GET /readyz", Public, func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := cfg.Ready(ctx); err != nil {
			u.Log.WarnContext(r.Context(), "not ready", "err", err)
			return WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		}
		return WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	rt.HandleHTTP("GET /metrics", Public, promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	return nil
}
