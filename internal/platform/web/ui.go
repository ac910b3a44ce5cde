package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"hopnhat/internal/platform/reqctx"
)

//go:embed templates
var layoutFS embed.FS

//go:embed i18n/*.json
var i18nFS embed.FS

//go:embed static
var staticFS embed.FS

// NavLink is an entry of the main navigation, shown to those its rule admits.
type NavLink struct {
	Key  string // i18n key of the label
	Href string
	Rule Rule
}

// UI renders pages in the common layout and errors as pages or problems.
type UI struct {
	Catalog *Catalog
	Log     *slog.Logger
	Product string // shown in the header
	nav     []NavLink
	layout  *template.Template
	errPage *template.Template
	tiles   []Tile
}

// PlatformCatalog returns the catalogue of the platform's own strings.
func PlatformCatalog() (*Catalog, error) {
	c := NewCatalog()
	sub, _ := fs.Sub(i18nFS, "i18n")
	if err := c.Load(sub); err != nil {
		return nil, err
	}
	return c, nil
}

// NewUI loads the platform catalogue and the layout.
func NewUI(log *slog.Logger) (*UI, error) {
	c, err := PlatformCatalog()
	if err != nil {
		return nil, err
	}
	layout, err := template.New("layout").Funcs(funcs).ParseFS(layoutFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	u := &UI{Catalog: c, Log: log, layout: layout}
	ps, err := u.Pages(layoutFS, "templates/pages")
	if err != nil {
		return nil, err
	}
	u.errPage = ps.pages["error"]
	return u, nil
}

// AddNav appends navigation entries (modules call it while wiring).
func (u *UI) AddNav(links ...NavLink) { u.nav = append(u.nav, links...) }

var funcs = template.FuncMap{
	"trimPrefix": strings.TrimPrefix,
	"add":        func(a, b int) int { return a + b },
	// dict builds a map from key, value pairs, to pass several values to a
	// shared template: {{template "x" (dict "Root" $ "Rows" .Rows)}}.
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				m[k] = kv[i+1]
			}
		}
		return m
	},
}

// Pages is one module's set of page templates, each parsed with the layout.
type Pages struct {
	ui    *UI
	pages map[string]*template.Template
}

// Pages parses every *.html under dir in fsys as a page named by its base name
// without extension; a page defines "title" and "content". Files whose name
// starts with "_" are not pages: they hold templates every page of the
// module may use (form fields, say), parsed with each page.
func (u *UI) Pages(fsys fs.FS, dir string) (*Pages, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.html"))
	if err != nil {
		return nil, err
	}
	var shared, pages []string
	for _, f := range files {
		if strings.HasPrefix(path.Base(f), "_") {
			shared = append(shared, f)
		} else {
			pages = append(pages, f)
		}
	}
	ps := &Pages{ui: u, pages: map[string]*template.Template{}}
	for _, f := range pages {
		t, err := u.layout.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(fsys, append([]string{f}, shared...)...); err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		ps.pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return ps, nil
}

// View is what every page template receives.
type View struct {
	L         *Localizer
	User      *reqctx.Principal
	Nav       []NavLink
	Current   string // Href of the navigation entry this page belongs to
	Path      string
	Here      string // where the language switch returns to: this page, or home after a POST
	RequestID string
	Flash     string // i18n key of a one-line confirmation
	Data      any
	Status    int
}

// currentNav returns the Href of the entry that path belongs to: the longest
// one that is path or a parent of it, so /adminunits/review marks "Duyệt địa
// chỉ", not also "Đơn vị hành chính".
func currentNav(nav []NavLink, path string) string {
	best := ""
	for _, n := range nav {
		under := n.Href == path || (n.Href != "/" && strings.HasPrefix(path, strings.TrimSuffix(n.Href, "/")+"/"))
		if under && len(n.Href) > len(best) {
			best = n.Href
		}
	}
	return best
}

// NewView returns the view of r wrapping data.
func (u *UI) NewView(r *http.Request, data any) *View {
	p := reqctx.PrincipalOf(r.Context())
	var nav []NavLink
	for _, n := range u.nav {
		if p != nil && n.Rule.Admits(p) {
			nav = append(nav, n)
		}
	}
	v := &View{
		L: u.Catalog.For(LangOf(r)), User: p, Nav: nav, Path: r.URL.Path,
		RequestID: reqctx.RequestID(r.Context()), Data: data, Status: http.StatusOK,
	}
	v.Current = currentNav(nav, r.URL.Path)
	v.Here = "/"
	if r.Method == http.MethodGet {
		v.Here = r.URL.RequestURI()
	}
	if f := r.URL.Query().Get("ok"); f != "" && strings.HasPrefix(f, "flash.") && u.Catalog.Has(f) {
		v.Flash = f
	}
	return v
}

// Render writes page name with data, status 200.
func (ps *Pages) Render(w http.ResponseWriter, r *http.Request, name string, data any) error {
	return ps.RenderStatus(w, r, http.StatusOK, name, data)
}

// RenderStatus writes page name with data and status. The page is rendered to
// a buffer first, so a template error becomes a clean 500, not half a page.
func (ps *Pages) RenderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	t, ok := ps.pages[name]
	if !ok {
		return fmt.Errorf("no page %q", name)
	}
	v := ps.ui.NewView(r, data)
	v.Status = status
	return writeTemplate(w, t, status, v)
}

func writeTemplate(w http.ResponseWriter, t *template.Template, status int, v *View) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// StaticHandler serves the embedded assets under /static/.
func StaticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}
