package merger

import (
	"context"
	"embed"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

//go:embed pages/*.html
var pageFS embed.FS

//go:embed i18n/*.json
var i18nFS embed.FS

// catalog returns the workspace's strings.
func catalog() fs.FS {
	sub, _ := fs.Sub(i18nFS, "i18n")
	return sub
}

// Handlers serves the merger workspace's pages and API.
type Handlers struct {
	s     *Service
	pages *web.Pages
	ui    *web.UI // for the words of workbooks, in the reader's language
}

// writers may change the workspace: the merger coordinators and the
// administrators.
var writers = web.Roles(reqctx.RoleAdmin, reqctx.RoleCoordinator)

// NewHandlers loads the workspace's strings and pages and adds its navigation.
func NewHandlers(s *Service, ui *web.UI) (*Handlers, error) {
	if err := ui.Catalog.Load(catalog()); err != nil {
		return nil, err
	}
	ps, err := ui.Pages(pageFS, "pages")
	if err != nil {
		return nil, err
	}
	ui.AddNav(web.NavLink{Key: "nav.mergers", Href: "/mergers", Rule: web.SignedIn})
	return &Handlers{s: s, pages: ps, ui: ui}, nil
}

// Register adds the routes.
func (h *Handlers) Register(rt *web.Router) {
	anyone := web.SignedIn
	rt.Handle("GET /mergers", anyone, h.listPage)
	rt.Handle("POST /mergers", writers, h.createForm)
	rt.Handle("GET /mergers/{id}/report", anyone, h.reportPage)
	rt.Handle("GET /mergers/{id}/workbook.xlsx", anyone, h.workbookXLSX)
	rt.Handle("GET /mergers/{id}/import", writers, h.importPage)
	rt.Handle("POST /mergers/{id}/import", writers, h.importForm)
	rt.Handle("GET /mergers/{id}/report.xlsx", anyone, h.reportXLSX)
	rt.Handle("GET /mergers/{id}", anyone, h.mergerPage)
	rt.Handle("GET /mergers/{id}/systems/new", writers, h.newSystemPage)
	rt.Handle("POST /mergers/{id}/systems", writers, h.createSystemForm)
	rt.Handle("GET /systems/{id}", anyone, h.systemPage)
	rt.Handle("GET /systems/{id}/edit", writers, h.editSystemPage)
	rt.Handle("POST /systems/{id}", writers, h.updateSystemForm)
	rt.Handle("POST /systems/{id}/delete", writers, h.deleteSystemForm)

	h.registerMergerEdit(rt)
	rt.Handle("GET /api/v1/mergers", anyone, h.apiList)
	rt.Handle("POST /api/v1/mergers", writers, h.apiCreate)
	rt.Handle("GET /api/v1/mergers/{id}", anyone, h.apiMerger)
	rt.Handle("GET /api/v1/mergers/{id}/systems", anyone, h.apiSystems)
	rt.Handle("POST /api/v1/mergers/{id}/systems", writers, h.apiCreateSystem)
	rt.Handle("GET /api/v1/systems/{id}", anyone, h.apiSystem)
	rt.Handle("PUT /api/v1/systems/{id}", writers, h.apiUpdateSystem)
	rt.Handle("DELETE /api/v1/systems/{id}", writers, h.apiDeleteSystem)
	h.registerAssessment(rt)
	h.registerRoadmap(rt)
}

// mayWrite reports whether the caller may write here, to show or hide the forms.
func mayWrite(ctx context.Context) bool { return web.Allowed(ctx, writers) }

// grouped is a whole number written with its thousands grouped, as figures
// are copied from reports: 5.200, 1,400,000.
var grouped = regexp.MustCompile(`^\d{1,3}([.,]\d{3})+$`)

// parseCount reads a whole number; "" is 0 (not known).
func parseCount(s string) (int64, bool) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return 0, true
	}
	if grouped.MatchString(s) {
		s = strings.NewReplacer(".", "", ",", "").Replace(s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// count writes n for a form field; 0 (not known) is left blank.
func count(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// lines splits a textarea into its non-blank lines.
func lines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// sourcesOf reads old provinces written one a line as "code name"
// ("30 Hải Dương"), as people list them; a tab from a spreadsheet or a dash
// after the code also separates. A line that does not read so is passed on
// as it is, for the service to refuse.
func sourcesOf(s string) []Source {
	var out []Source
	for _, l := range lines(s) {
		code, name := l, ""
		if i := strings.IndexFunc(l, unicode.IsSpace); i > 0 {
			code, name = l[:i], strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l[i:]), "-–:."))
		}
		out = append(out, Source{ProvinceCode: code, Name: name})
	}
	return out
}

// mergerInputOf builds a MergerInput from text fields. A date that cannot be
// read is refused on its own: the service has no check that writes nothing,
// so the other fields are checked once the date reads.
func mergerInputOf(name, province, effective string, sources []Source) (MergerInput, error) {
	in := MergerInput{Name: name, ProvinceCode: strings.TrimSpace(province), Sources: sources}
	var ok bool
	if in.EffectiveOn, ok = web.ParseOptionalDate(effective); !ok {
		return in, apperr.InvalidFields(map[string]string{"effective_on": "error.date_invalid"})
	}
	return in, nil
}

// systemOf builds a System from text fields, as forms give them, and names
// the fields that could not be read.
func systemOf(v url.Values) (System, map[string]string) {
	x := System{Category: Category(v.Get("category")), CustomCategory: v.Get("custom_category"),
		ProvinceCode: strings.TrimSpace(v.Get("province_code")), Name: v.Get("name"), Vendor: v.Get("vendor"),
		Technology: v.Get("technology"), Investment: Investment(v.Get("investment")), DBEngine: v.Get("db_engine"),
		Integrations: v.Get("integrations"), Notes: v.Get("notes")}
	bad := map[string]string{}
	year, ok := parseCount(v.Get("deployed_year"))
	if !ok {
		bad["deployed_year"] = "merger.year_invalid"
	}
	x.DeployedYear = int(year)
	for field, p := range map[string]*int64{"users": &x.Users, "db_size_mb": &x.DBSizeMB, "datasets": &x.Datasets,
		"fields": &x.Fields, "records": &x.Records} {
		if *p, ok = parseCount(v.Get(field)); !ok {
			bad[field] = "error.number_invalid"
		}
	}
	x.Functions = append(slices.Clone(v["functions"]), lines(v.Get("other_functions"))...)
	if x.ContractEnd, ok = web.ParseOptionalDate(v.Get("contract_end")); !ok {
		bad["contract_end"] = "error.date_invalid"
	}
	return x, bad
}

// refuse returns the error for x with the fields that could not be read, and
// whatever else the service would refuse, so a person sees every problem at
// once.
func refuse(s *Service, x System, m Merger, bad map[string]string) error {
	f := checkSystem(&x, m, s.db.Now())
	maps.Copy(f, bad)
	return apperr.InvalidFields(f)
}

// byDisplayOrder sorts systems as the categories are listed, then by old
// province and name: the service orders categories by their codes.
func byDisplayOrder(xs []System) {
	slices.SortStableFunc(xs, func(a, b System) int {
		return slices.Index(Categories, a.Category) - slices.Index(Categories, b.Category)
	})
}

// --- JSON shapes ---

type sourceJSON struct {
	ProvinceCode string `json:"province_code"`
	Name         string `json:"name"`
}

type mergerJSON struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	ProvinceCode string       `json:"province_code"`
	EffectiveOn  string       `json:"effective_on,omitempty"`
	Sources      []sourceJSON `json:"sources"`
	Version      int64        `json:"version"`
	CreatedAt    string       `json:"created_at"`
	UpdatedAt    string       `json:"updated_at"`
}

func toJSON(m Merger) mergerJSON {
	j := mergerJSON{ID: m.ID, Name: m.Name, ProvinceCode: m.ProvinceCode, EffectiveOn: web.ISODay(m.EffectiveOn), Sources: []sourceJSON{},
		Version: m.Version, CreatedAt: m.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: m.UpdatedAt.UTC().Format(time.RFC3339)}
	for _, s := range m.Sources {
		j.Sources = append(j.Sources, sourceJSON(s))
	}
	return j
}

type systemJSON struct {
	ID             string     `json:"id"`
	MergerID       string     `json:"merger_id"`
	Category       Category   `json:"category"`
	CustomCategory string     `json:"custom_category,omitempty"`
	ProvinceCode   string     `json:"province_code"`
	Name           string     `json:"name"`
	Vendor         string     `json:"vendor"`
	Technology     string     `json:"technology"`
	DeployedYear   int        `json:"deployed_year"`
	Investment     Investment `json:"investment"`
	Users          int64      `json:"users"`
	DBEngine       string     `json:"db_engine"`
	DBSizeMB       int64      `json:"db_size_mb"`
	Datasets       int64      `json:"datasets"`
	Fields         int64      `json:"fields"`
	Records        int64      `json:"records"`
	Functions      []string   `json:"functions"`
	Integrations   string     `json:"integrations"`
	ContractEnd    string     `json:"contract_end,omitempty"`
	Notes          string     `json:"notes"`
	Version        int64      `json:"version"`
	CreatedAt      string     `json:"created_at"`
	UpdatedAt      string     `json:"updated_at"`
}

func systemToJSON(x System) systemJSON {
	return systemJSON{ID: x.ID, MergerID: x.MergerID, Category: x.Category, CustomCategory: x.CustomCategory, ProvinceCode: x.ProvinceCode,
		Name: x.Name, Vendor: x.Vendor, Technology: x.Technology, DeployedYear: x.DeployedYear, Investment: x.Investment, Users: x.Users,
		DBEngine: x.DBEngine, DBSizeMB: x.DBSizeMB, Datasets: x.Datasets, Fields: x.Fields, Records: x.Records,
		Functions: append([]string{}, x.Functions...), Integrations: x.Integrations, ContractEnd: web.ISODay(x.ContractEnd), Notes: x.Notes,
		Version: x.Version, CreatedAt: x.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: x.UpdatedAt.UTC().Format(time.RFC3339)}
}

// mergerInputJSON is a merger as the API takes it; the date is YYYY-MM-DD.
type mergerInputJSON struct {
	Name         string       `json:"name"`
	ProvinceCode string       `json:"province_code"`
	EffectiveOn  string       `json:"effective_on"`
	Sources      []sourceJSON `json:"sources"`
}

func (in mergerInputJSON) input() (MergerInput, error) {
	sources := make([]Source, len(in.Sources))
	for i, s := range in.Sources {
		sources[i] = Source(s)
	}
	return mergerInputOf(in.Name, in.ProvinceCode, in.EffectiveOn, sources)
}

// systemInputJSON is a system as the API takes it, every field at once (PUT
// replaces); the date is YYYY-MM-DD.
type systemInputJSON struct {
	Category       string   `json:"category"`
	CustomCategory string   `json:"custom_category"`
	ProvinceCode   string   `json:"province_code"`
	Name           string   `json:"name"`
	Vendor         string   `json:"vendor"`
	Technology     string   `json:"technology"`
	DeployedYear   int      `json:"deployed_year"`
	Investment     string   `json:"investment"`
	Users          int64    `json:"users"`
	DBEngine       string   `json:"db_engine"`
	DBSizeMB       int64    `json:"db_size_mb"`
	Datasets       int64    `json:"datasets"`
	Fields         int64    `json:"fields"`
	Records        int64    `json:"records"`
	Functions      []string `json:"functions"`
	Integrations   string   `json:"integrations"`
	ContractEnd    string   `json:"contract_end"`
	Notes          string   `json:"notes"`
}

// system builds the System of j for merger m, refusing a date that cannot
// be read together with whatever else is wrong.
func (j systemInputJSON) system(s *Service, m Merger) (System, error) {
	x := System{MergerID: m.ID, Category: Category(j.Category), CustomCategory: j.CustomCategory, ProvinceCode: strings.TrimSpace(j.ProvinceCode),
		Name: j.Name, Vendor: j.Vendor, Technology: j.Technology, DeployedYear: j.DeployedYear, Investment: Investment(j.Investment),
		Users: j.Users, DBEngine: j.DBEngine, DBSizeMB: j.DBSizeMB, Datasets: j.Datasets, Fields: j.Fields, Records: j.Records,
		Functions: j.Functions, Integrations: j.Integrations, Notes: j.Notes}
	var ok bool
	if x.ContractEnd, ok = web.ParseOptionalDate(j.ContractEnd); !ok {
		return x, refuse(s, x, m, map[string]string{"contract_end": "error.date_invalid"})
	}
	return x, nil
}

// --- API ---

func (h *Handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	ms, err := h.s.Mergers(r.Context())
	if err != nil {
		return err
	}
	out := make([]mergerJSON, len(ms))
	for i, m := range ms {
		out[i] = toJSON(m)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"mergers": out})
}

func (h *Handlers) apiMerger(w http.ResponseWriter, r *http.Request) error {
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"merger": toJSON(m)})
}

func (h *Handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	var in mergerInputJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	input, err := in.input()
	if err != nil {
		return err
	}
	m, err := h.s.CreateMerger(r.Context(), input)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/mergers/"+m.ID)
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"merger": toJSON(m)})
}

// categoryOf reads a category filter, refusing an unknown one rather than
// answering with an empty list.
func categoryOf(q url.Values) (Category, error) {
	c := Category(strings.TrimSpace(q.Get("category")))
	if c != "" && !c.Valid() {
		return c, apperr.InvalidFields(map[string]string{"category": "merger.category_invalid"})
	}
	return c, nil
}

func (h *Handlers) apiSystems(w http.ResponseWriter, r *http.Request) error {
	c, err := categoryOf(r.URL.Query())
	if err != nil {
		return err
	}
	// An unknown merger has no systems, but it is not an empty inventory.
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	xs, err := h.s.Systems(r.Context(), m.ID, c)
	if err != nil {
		return err
	}
	byDisplayOrder(xs)
	out := make([]systemJSON, len(xs))
	for i, x := range xs {
		out[i] = systemToJSON(x)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"systems": out})
}

func (h *Handlers) apiSystem(w http.ResponseWriter, r *http.Request) error {
	x, err := h.s.System(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"system": systemToJSON(x)})
}

func (h *Handlers) apiCreateSystem(w http.ResponseWriter, r *http.Request) error {
	var in systemInputJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	x, err := in.system(h.s, m)
	if err != nil {
		return err
	}
	if x, err = h.s.CreateSystem(r.Context(), x); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/systems/"+x.ID)
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"system": systemToJSON(x)})
}

func (h *Handlers) apiUpdateSystem(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		systemInputJSON
		Version *int64 `json:"version"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version == nil {
		// Without it a save could silently overwrite another person's.
		return apperr.InvalidFields(map[string]string{"version": "merger.version_required"})
	}
	id := r.PathValue("id")
	cur, err := h.s.System(r.Context(), id)
	if err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), cur.MergerID)
	if err != nil {
		return err
	}
	x, err := in.system(h.s, m)
	if err != nil {
		return err
	}
	if x, err = h.s.UpdateSystem(r.Context(), id, x, *in.Version); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"system": systemToJSON(x)})
}

func (h *Handlers) apiDeleteSystem(w http.ResponseWriter, r *http.Request) error {
	return apiDelete(w, r, h.s.DeleteSystem)
}

// apiDelete deletes the object of the path's id with del, given the version
// the caller last read in ?version=: without it a deletion could remove
// changes the caller never saw.
func apiDelete(w http.ResponseWriter, r *http.Request, del func(ctx context.Context, id string, version int64) error) error {
	version, err := strconv.ParseInt(r.URL.Query().Get("version"), 10, 64)
	if err != nil {
		return apperr.InvalidFields(map[string]string{"version": "merger.version_required"})
	}
	if err := del(r.Context(), r.PathValue("id"), version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- pages ---

type mergerRow struct {
	Merger
	Systems int
}

type listView struct {
	Rows     []mergerRow
	CanWrite bool
	Form     formState
}

func (h *Handlers) listView(ctx context.Context, f formState) (listView, error) {
	v := listView{CanWrite: mayWrite(ctx), Form: f}
	ms, err := h.s.Mergers(ctx)
	if err != nil {
		return v, err
	}
	for _, m := range ms {
		xs, err := h.s.Systems(ctx, m.ID, "")
		if err != nil {
			return v, err
		}
		v.Rows = append(v.Rows, mergerRow{Merger: m, Systems: len(xs)})
	}
	return v, nil
}

func (h *Handlers) listPage(w http.ResponseWriter, r *http.Request) error {
	v, err := h.listView(r.Context(), newForm())
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "mergers", v)
}

func (h *Handlers) createForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := newForm()
	for _, k := range []string{"name", "province_code", "effective_on", "sources"} {
		f.Values[k] = r.PostFormValue(k)
	}
	in, err := mergerInputOf(f.Values["name"], f.Values["province_code"], f.Values["effective_on"], sourcesOf(f.Values["sources"]))
	if err == nil {
		var m Merger
		if m, err = h.s.CreateMerger(r.Context(), in); err == nil {
			http.Redirect(w, r, "/mergers/"+url.PathEscape(m.ID)+"?ok=flash.merger_created", http.StatusSeeOther)
			return nil
		}
	}
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	v, err := h.listView(r.Context(), f)
	if err != nil {
		return err
	}
	return h.pages.RenderStatus(w, r, status, "mergers", v)
}

// matrixCell is one old province's systems of one category.
type matrixCell struct {
	Source  Source
	Systems []System
}

// matrixRow is one category across the old provinces.
type matrixRow struct {
	Category   Category
	Cells      []matrixCell
	HasSystems bool // some old province has one: the candidates can be compared
}

// decisionRow is a system with the decision on it, if any.
type decisionRow struct {
	System   System
	Source   string // the old province's name
	Decision Decision
	Decided  bool
}

type column struct {
	Source
	Systems int
}

type mergerView struct {
	Merger    Merger
	Columns   []column
	Rows      []matrixRow
	Systems   int
	Missing   int // cells of the usual categories with no system declared
	CanWrite  bool
	Decisions []decisionRow // every system, in display order
	Decided   int
}

func (h *Handlers) mergerPage(w http.ResponseWriter, r *http.Request) error {
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	xs, err := h.s.Systems(r.Context(), m.ID, "")
	if err != nil {
		return err
	}
	v := mergerView{Merger: m, Systems: len(xs), CanWrite: mayWrite(r.Context())}
	for _, s := range m.Sources {
		c := column{Source: s}
		for _, x := range xs {
			if x.ProvinceCode == s.ProvinceCode {
				c.Systems++
			}
		}
		v.Columns = append(v.Columns, c)
	}
	for _, cat := range Categories {
		row := matrixRow{Category: cat}
		for _, s := range m.Sources {
			cell := matrixCell{Source: s}
			for _, x := range xs {
				if x.Category == cat && x.ProvinceCode == s.ProvinceCode {
					cell.Systems = append(cell.Systems, x)
				}
			}
			// A custom category is one a province adds; its absence is not a gap.
			if len(cell.Systems) == 0 && cat != CatCustom {
				v.Missing++
			}
			row.HasSystems = row.HasSystems || len(cell.Systems) > 0
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	byDisplayOrder(xs)
	names := map[string]string{}
	for _, s := range m.Sources {
		names[s.ProvinceCode] = s.Name
	}
	for _, x := range xs {
		d, decided, err := h.decisionOf(r.Context(), x.ID)
		if err != nil {
			return err
		}
		if decided {
			v.Decided++
		}
		v.Decisions = append(v.Decisions, decisionRow{System: x, Source: names[x.ProvinceCode], Decision: d, Decided: decided})
	}
	return h.pages.Render(w, r, "merger", v)
}

// formOf fills a system form from submitted values (a post, or the query of
// a form reloaded for another category).
func formOf(v url.Values) formState {
	f := newForm()
	for _, k := range []string{"category", "custom_category", "province_code", "name", "vendor", "technology", "deployed_year",
		"investment", "users", "db_engine", "db_size_mb", "datasets", "fields", "records", "other_functions", "integrations",
		"contract_end", "notes", "version"} {
		f.Values[k] = v.Get(k)
	}
	for _, fn := range v["functions"] {
		f.Checked[strings.TrimSpace(fn)] = true
	}
	return f
}

// systemForm fills a system form from a stored system.
func systemForm(x System) formState {
	f := newForm()
	f.Values = map[string]string{"category": string(x.Category), "custom_category": x.CustomCategory, "province_code": x.ProvinceCode,
		"name": x.Name, "vendor": x.Vendor, "technology": x.Technology, "deployed_year": count(int64(x.DeployedYear)),
		"investment": string(x.Investment), "users": count(x.Users), "db_engine": x.DBEngine, "db_size_mb": count(x.DBSizeMB),
		"datasets": count(x.Datasets), "fields": count(x.Fields), "records": count(x.Records), "integrations": x.Integrations,
		"contract_end": web.FormDay(x.ContractEnd), "notes": x.Notes, "version": strconv.FormatInt(x.Version, 10),
		// regroup ticks those of the checklist and keeps the order of the rest.
		"other_functions": strings.Join(x.Functions, "\n")}
	return f
}

// regroup ticks the checklist's functions among those given and keeps the
// others as free lines, so a function is never lost when the category
// changes.
func regroup(f *formState, checklist []string) {
	checked := map[string]bool{}
	var rest []string
	add := func(fn string) {
		switch {
		case fn == "":
		case slices.Contains(checklist, fn):
			checked[fn] = true
		case !slices.Contains(rest, fn):
			rest = append(rest, fn)
		}
	}
	for _, fn := range lines(f.Values["other_functions"]) {
		add(fn)
	}
	for _, fn := range slices.Sorted(maps.Keys(f.Checked)) {
		add(fn)
	}
	f.Checked = checked
	f.Values["other_functions"] = strings.Join(rest, "\n")
}

type systemFormView struct {
	Merger      Merger
	System      System // the stored system, when editing
	IsNew       bool
	Form        formState
	Categories  []Category
	Investments []Investment
	Checklist   []string // the usual functions of the chosen category
	Action      string   // where the form posts
	Reload      string   // where the form is fetched again for another category
	Stored      *System  // what another person saved meanwhile
}

func newSystemView(m Merger, x System, isNew bool, f formState) systemFormView {
	v := systemFormView{Merger: m, System: x, IsNew: isNew, Form: f, Categories: Categories, Investments: Investments}
	c := Category(f.Values["category"])
	if c.Valid() {
		v.Checklist = Checklist(c)
	}
	regroup(&v.Form, v.Checklist)
	v.Action, v.Reload = "/mergers/"+url.PathEscape(m.ID)+"/systems", "/mergers/"+url.PathEscape(m.ID)+"/systems/new"
	if !isNew {
		v.Action, v.Reload = "/systems/"+url.PathEscape(x.ID), "/systems/"+url.PathEscape(x.ID)+"/edit"
	}
	return v
}

func (h *Handlers) newSystemPage(w http.ResponseWriter, r *http.Request) error {
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := formOf(q)
	// The matrix links name the category and the province; one that is not
	// the merger's is simply not chosen.
	if f.Values["province_code"] == "" {
		f.Values["province_code"] = strings.TrimSpace(q.Get("province"))
	}
	if province := f.Values["province_code"]; !slices.ContainsFunc(m.Sources, func(s Source) bool { return s.ProvinceCode == province }) {
		f.Values["province_code"] = ""
	}
	if !Category(f.Values["category"]).Valid() {
		f.Values["category"] = ""
	}
	return h.pages.Render(w, r, "system_form", newSystemView(m, System{}, true, f))
}

func (h *Handlers) createSystemForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	x, bad := systemOf(r.PostForm)
	x.MergerID = m.ID
	if len(bad) > 0 {
		err = refuse(h.s, x, m, bad)
	} else if x, err = h.s.CreateSystem(r.Context(), x); err == nil {
		http.Redirect(w, r, "/systems/"+url.PathEscape(x.ID)+"?ok=flash.system_created", http.StatusSeeOther)
		return nil
	}
	f := formOf(r.PostForm)
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	return h.pages.RenderStatus(w, r, status, "system_form", newSystemView(m, System{}, true, f))
}

func (h *Handlers) editSystemPage(w http.ResponseWriter, r *http.Request) error {
	x, err := h.s.System(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), x.MergerID)
	if err != nil {
		return err
	}
	f := systemForm(x)
	// Reloaded for another category: what the editor typed, with the version
	// they started from, so a save still notices another person's change.
	if q := r.URL.Query(); q.Has("category") && q.Has("version") {
		f = formOf(q)
	}
	return h.pages.Render(w, r, "system_form", newSystemView(m, x, false, f))
}

func (h *Handlers) updateSystemForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	cur, err := h.s.System(r.Context(), id)
	if err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), cur.MergerID)
	if err != nil {
		return err
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	x, bad := systemOf(r.PostForm)
	x.MergerID = m.ID
	if len(bad) > 0 {
		err = refuse(h.s, x, m, bad)
	} else if _, err = h.s.UpdateSystem(r.Context(), id, x, version); err == nil {
		http.Redirect(w, r, "/systems/"+url.PathEscape(id)+"?ok=flash.system_saved", http.StatusSeeOther)
		return nil
	}
	// The form again with what the editor typed, against the stored record:
	// after a conflict its version is the new one, so saving again is a
	// choice made after seeing the other person's change.
	f := formOf(r.PostForm)
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	if cur, err = h.s.System(r.Context(), id); err != nil {
		return err
	}
	f.Values["version"] = strconv.FormatInt(cur.Version, 10)
	v := newSystemView(m, cur, false, f)
	if cur.Version != version {
		v.Stored = &cur
	}
	return h.pages.RenderStatus(w, r, status, "system_form", v)
}

type systemView struct {
	System    System
	Merger    Merger
	Source    Source   // the old province running it
	Missing   []string // the category's usual functions it does not offer
	CanWrite  bool
	Error     string // i18n key of a refused deletion
	Checklist []string
	// The free texts, line by line as they were typed.
	Integrations, Notes []string

	Decision         Decision // the current decision, when Decided
	Decided          bool
	History          []Decision // every version, newest first
	Outcomes         []Outcome
	DecisionForm     formState
	DecisionConflict bool // the form's decision was changed meanwhile
}

func (h *Handlers) systemView(ctx context.Context, id string) (systemView, error) {
	x, err := h.s.System(ctx, id)
	if err != nil {
		return systemView{}, err
	}
	m, err := h.s.Merger(ctx, x.MergerID)
	if err != nil {
		return systemView{}, err
	}
	v := systemView{System: x, Merger: m, Source: Source{ProvinceCode: x.ProvinceCode}, CanWrite: mayWrite(ctx), Checklist: Checklist(x.Category),
		Integrations: lines(x.Integrations), Notes: lines(x.Notes)}
	for _, s := range m.Sources {
		if s.ProvinceCode == x.ProvinceCode {
			v.Source = s
		}
	}
	for _, fn := range v.Checklist {
		if !slices.Contains(x.Functions, fn) {
			v.Missing = append(v.Missing, fn)
		}
	}
	if v.Decision, v.Decided, err = h.decisionOf(ctx, x.ID); err != nil {
		return v, err
	}
	if v.History, err = h.s.History(ctx, x.ID); err != nil {
		return v, err
	}
	v.Outcomes, v.DecisionForm = Outcomes, decisionFormOf(v.Decision, v.Decided)
	return v, nil
}

func (h *Handlers) systemPage(w http.ResponseWriter, r *http.Request) error {
	v, err := h.systemView(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "system", v)
}

func (h *Handlers) deleteSystemForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	x, err := h.s.System(r.Context(), id)
	if err != nil {
		return err
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	err = h.s.DeleteSystem(r.Context(), id, version)
	if err == nil {
		http.Redirect(w, r, "/mergers/"+url.PathEscape(x.MergerID)+"?ok=flash.system_deleted", http.StatusSeeOther)
		return nil
	}
	if !apperr.Is(err, apperr.Conflict) {
		return err
	}
	// Changed since the page was read: show what is stored now, with its
	// new version on the delete button, rather than delete unseen changes.
	v, verr := h.systemView(r.Context(), id)
	if verr != nil {
		return verr
	}
	v.Error = "merger.stale_version"
	return h.pages.RenderStatus(w, r, http.StatusConflict, "system", v)
}

// formState is a page's form; see web.Form.
type formState = web.Form

func newForm() formState { return web.NewForm() }
