package org

import (
	"context"
	"embed"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

//go:embed pages/*.html
var pageFS embed.FS

//go:embed i18n/*.json
var i18nFS embed.FS

// Catalog returns the register's strings, for the CLI's error messages.
func Catalog() fs.FS {
	sub, _ := fs.Sub(i18nFS, "i18n")
	return sub
}

// Handlers serves the agency register's pages and API.
type Handlers struct {
	s     *Service
	pages *web.Pages
}

// writers may change the register: the merger coordinators and the
// administrators.
var writers = web.Roles(reqctx.RoleAdmin, reqctx.RoleCoordinator)

// NewHandlers loads the register's strings and pages and adds its navigation.
func NewHandlers(s *Service, ui *web.UI) (*Handlers, error) {
	if err := ui.Catalog.Load(Catalog()); err != nil {
		return nil, err
	}
	ps, err := ui.Pages(pageFS, "pages")
	if err != nil {
		return nil, err
	}
	ui.AddNav(web.NavLink{Key: "nav.agencies", Href: "/agencies", Rule: web.SignedIn},
		web.NavLink{Key: "nav.agency_mapping", Href: "/agencies/mapping", Rule: writers})
	return &Handlers{s: s, pages: ps}, nil
}

// Register adds the routes.
func (h *Handlers) Register(rt *web.Router) {
	anyone := web.SignedIn
	rt.Handle("GET /agencies", anyone, h.listPage)
	rt.Handle("GET /agencies/mapping", anyone, h.mappingPage)
	rt.Handle("GET /agencies/export.xlsx", anyone, h.exportXLSX)
	rt.Handle("GET /agencies/import", writers, h.importPage)
	rt.Handle("POST /agencies/import", writers, h.importForm)
	rt.Handle("GET /agencies/new", writers, h.newPage)
	rt.Handle("POST /agencies", writers, h.createForm)
	rt.Handle("GET /agencies/{id}", anyone, h.agencyPage)
	rt.Handle("GET /agencies/{id}/edit", writers, h.editPage)
	rt.Handle("POST /agencies/{id}", writers, h.updateForm)
	rt.Handle("POST /agencies/{id}/links", writers, h.addLinkForm)
	rt.Handle("POST /agencies/{id}/links/{to}/delete", writers, h.removeLinkForm)

	rt.Handle("GET /api/v1/agencies", anyone, h.apiList)
	rt.Handle("GET /api/v1/agencies/code/{code}", anyone, h.apiByCode)
	rt.Handle("GET /api/v1/agencies/{id}", anyone, h.apiAgency)
	rt.Handle("POST /api/v1/agencies", writers, h.apiCreate)
	rt.Handle("PUT /api/v1/agencies/{id}", writers, h.apiUpdate)
	rt.Handle("POST /api/v1/agencies/{id}/links", writers, h.apiAddLink)
	rt.Handle("DELETE /api/v1/agencies/{id}/links/{to}", writers, h.apiRemoveLink)
}

// mayWrite reports whether the caller may write here, to show or hide the forms.
func mayWrite(ctx context.Context) bool { return web.Allowed(ctx, writers) }

// inputOf builds an Input from text fields, as forms and JSON give them.
// Dates that cannot be read are refused together with whatever else is
// wrong, so a person sees every problem at once.
func inputOf(v map[string]string) (Input, error) {
	in := Input{Code: v["code"], OldCode: v["old_code"], Name: v["name"], Kind: Kind(v["kind"]), ParentID: strings.TrimSpace(v["parent_id"]),
		Period: Period(v["period"]), ProvinceCode: v["province_code"], WardCode: v["ward_code"]}
	bad := map[string]string{}
	var ok bool
	if in.ValidFrom, ok = web.ParseOptionalDate(v["valid_from"]); !ok {
		bad["valid_from"] = "error.date_invalid"
	}
	if in.ValidTo, ok = web.ParseOptionalDate(v["valid_to"]); !ok {
		bad["valid_to"] = "error.date_invalid"
	}
	if len(bad) > 0 {
		probe := in
		f := check(&probe)
		maps.Copy(f, bad)
		return in, apperr.InvalidFields(f)
	}
	return in, nil
}

// --- JSON shapes ---

type agencyJSON struct {
	ID           string `json:"id"`
	Code         string `json:"code"`
	OldCode      string `json:"old_code"`
	Name         string `json:"name"`
	Kind         Kind   `json:"kind"`
	ParentID     string `json:"parent_id,omitempty"`
	Period       Period `json:"period"`
	ProvinceCode string `json:"province_code"`
	WardCode     string `json:"ward_code,omitempty"`
	ValidFrom    string `json:"valid_from,omitempty"`
	ValidTo      string `json:"valid_to,omitempty"`
	Version      int64  `json:"version"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
}

func toJSON(a Agency) agencyJSON {
	return agencyJSON{ID: a.ID, Code: a.Code, OldCode: a.OldCode, Name: a.Name, Kind: a.Kind, ParentID: a.ParentID, Period: a.Period,
		ProvinceCode: a.ProvinceCode, WardCode: a.WardCode, ValidFrom: web.ISODay(a.ValidFrom), ValidTo: web.ISODay(a.ValidTo), Version: a.Version,
		CreatedAt: a.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: a.UpdatedAt.UTC().Format(time.RFC3339)}
}

func listJSON(as []Agency) []agencyJSON {
	out := make([]agencyJSON, len(as))
	for i, a := range as {
		out[i] = toJSON(a)
	}
	return out
}

type relatedJSON struct {
	Agency agencyJSON `json:"agency"`
	Kind   LinkKind   `json:"kind"`
	Note   string     `json:"note,omitempty"`
}

func relatedList(rs []Related) []relatedJSON {
	out := make([]relatedJSON, len(rs))
	for i, r := range rs {
		out[i] = relatedJSON{Agency: toJSON(r.Agency), Kind: r.Kind, Note: r.Note}
	}
	return out
}

// agencyInputJSON is an agency as the API takes it; dates are YYYY-MM-DD.
type agencyInputJSON struct {
	Code         string `json:"code"`
	OldCode      string `json:"old_code"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	ParentID     string `json:"parent_id"`
	Period       string `json:"period"`
	ProvinceCode string `json:"province_code"`
	WardCode     string `json:"ward_code"`
	ValidFrom    string `json:"valid_from"`
	ValidTo      string `json:"valid_to"`
}

func (j agencyInputJSON) values() map[string]string {
	return map[string]string{"code": j.Code, "old_code": j.OldCode, "name": j.Name, "kind": j.Kind, "parent_id": j.ParentID,
		"period": j.Period, "province_code": j.ProvinceCode, "ward_code": j.WardCode, "valid_from": j.ValidFrom, "valid_to": j.ValidTo}
}

// --- API ---

// filterOf reads the list filters of a query, refusing unknown values
// rather than answering with an empty list.
func filterOf(q url.Values) (Filter, error) {
	f := Filter{Period: Period(q.Get("period")), ProvinceCode: strings.TrimSpace(q.Get("province")), Kind: Kind(q.Get("kind")),
		Q: strings.TrimSpace(q.Get("q"))}
	bad := map[string]string{}
	if f.Period != "" && f.Period != Legacy && f.Period != Current {
		bad["period"] = "org.period_invalid"
	}
	if f.Kind != "" && !f.Kind.Valid() {
		bad["kind"] = "org.kind_invalid"
	}
	if f.ProvinceCode != "" && !digits(f.ProvinceCode, 2) {
		bad["province"] = "org.province_code_invalid"
	}
	if len(bad) > 0 {
		return f, apperr.InvalidFields(bad)
	}
	return f, nil
}

func (h *Handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, err := filterOf(q)
	if err != nil {
		return err
	}
	f.Limit, _ = strconv.Atoi(q.Get("limit"))
	list, err := h.s.List(r.Context(), f)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"agencies": listJSON(list)})
}

// detailJSON is an agency with what became of it and who answers for it now.
func (h *Handlers) detailJSON(ctx context.Context, a Agency) (map[string]any, error) {
	succ, err := h.s.Successors(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	pred, err := h.s.Predecessors(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	now, err := h.s.ResponsibleNow(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"agency": toJSON(a), "successors": relatedList(succ), "predecessors": relatedList(pred),
		"responsible_now": listJSON(now)}, nil
}

func (h *Handlers) apiAgency(w http.ResponseWriter, r *http.Request) error {
	a, err := h.s.Agency(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out, err := h.detailJSON(r.Context(), a)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// apiByCode finds an agency by its identifier code, current or old: records
// of the old provinces keep naming agencies by the codes they had.
func (h *Handlers) apiByCode(w http.ResponseWriter, r *http.Request) error {
	code := strings.TrimSpace(r.PathValue("code"))
	if code == "" {
		// An empty code would match every agency that has none.
		return apperr.New(apperr.NotFound, "org.agency_not_found")
	}
	a, err := h.s.ByCode(r.Context(), code)
	if err != nil {
		return err
	}
	out, err := h.detailJSON(r.Context(), a)
	if err != nil {
		return err
	}
	out["matched"] = "code"
	if !strings.EqualFold(a.Code, code) {
		out["matched"] = "old_code"
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	var in agencyInputJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	input, err := inputOf(in.values())
	if err != nil {
		return err
	}
	a, err := h.s.Create(r.Context(), input)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/agencies/"+a.ID)
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"agency": toJSON(a)})
}

func (h *Handlers) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		agencyInputJSON
		Version *int64 `json:"version"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version == nil {
		// Without it a save could silently overwrite another person's.
		return apperr.InvalidFields(map[string]string{"version": "org.version_required"})
	}
	input, err := inputOf(in.values())
	if err != nil {
		return err
	}
	a, err := h.s.Update(r.Context(), r.PathValue("id"), input, *in.Version)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"agency": toJSON(a)})
}

func (h *Handlers) apiAddLink(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		ToID string `json:"to_id"`
		Kind string `json:"kind"`
		Note string `json:"note"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := h.s.AddLink(r.Context(), Link{FromID: id, ToID: strings.TrimSpace(in.ToID), Kind: LinkKind(in.Kind), Note: in.Note}); err != nil {
		return err
	}
	succ, err := h.s.Successors(r.Context(), id)
	if err != nil {
		return err
	}
	now, err := h.s.ResponsibleNow(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/agencies/"+id)
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"successors": relatedList(succ), "responsible_now": listJSON(now)})
}

func (h *Handlers) apiRemoveLink(w http.ResponseWriter, r *http.Request) error {
	if err := h.s.RemoveLink(r.Context(), r.PathValue("id"), r.PathValue("to")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- pages ---

func valuesOf(a Agency) map[string]string {
	return map[string]string{"name": a.Name, "code": a.Code, "old_code": a.OldCode, "kind": string(a.Kind), "period": string(a.Period),
		"parent_id": a.ParentID, "province_code": a.ProvinceCode, "ward_code": a.WardCode, "valid_from": web.FormDay(a.ValidFrom), "valid_to": web.FormDay(a.ValidTo)}
}

func postedValues(r *http.Request) map[string]string {
	v := map[string]string{}
	for _, k := range []string{"name", "code", "old_code", "kind", "period", "parent_id", "province_code", "ward_code", "valid_from", "valid_to"} {
		v[k] = r.PostFormValue(k)
	}
	return v
}

// treeRow is one agency in a tree or a result table.
type treeRow struct {
	Agency
	Depth  int
	Indent string // drawn before the name of a child
	Links  int    // successors of a legacy agency, predecessors of a current one
}

type treeView struct {
	Period Period
	Rows   []treeRow
}

type listView struct {
	Period    string
	Province  string
	Kind      string
	Q         string
	Kinds     []Kind
	Periods   []Period
	Provinces []string // the province codes agencies have, for the filter
	Trees     []treeView
	Results   []treeRow
	Searched  bool // a name or code was searched: a flat table
	Total     int  // agencies in the register, for the empty state
	CanWrite  bool
}

// listed bounds the agencies a page lists.
const listed = 5000

func (h *Handlers) listPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, err := filterOf(q)
	if err != nil {
		return err
	}
	v := listView{Period: string(f.Period), Province: f.ProvinceCode, Kind: string(f.Kind), Q: f.Q, Kinds: Kinds,
		Periods: []Period{Legacy, Current}, Searched: f.Q != "", CanWrite: mayWrite(r.Context())}
	all, err := h.s.List(r.Context(), Filter{Limit: listed})
	if err != nil {
		return err
	}
	v.Total = len(all)
	v.Provinces = provincesOf(all)
	f.Limit = listed
	list, err := h.s.List(r.Context(), f)
	if err != nil {
		return err
	}
	if v.Searched {
		for _, a := range list {
			row, err := h.row(r.Context(), a, 0)
			if err != nil {
				return err
			}
			v.Results = append(v.Results, row)
		}
		return h.pages.Render(w, r, "agencies", v)
	}
	for _, p := range v.Periods {
		if f.Period != "" && f.Period != p {
			continue
		}
		t := treeView{Period: p}
		var side []Agency
		for _, a := range list {
			if a.Period == p {
				side = append(side, a)
			}
		}
		for _, n := range tree(side) {
			row, err := h.row(r.Context(), n.a, n.depth)
			if err != nil {
				return err
			}
			t.Rows = append(t.Rows, row)
		}
		v.Trees = append(v.Trees, t)
	}
	return h.pages.Render(w, r, "agencies", v)
}

// row counts a's links: what a legacy agency became, what a current one
// took over.
func (h *Handlers) row(ctx context.Context, a Agency, depth int) (treeRow, error) {
	row := treeRow{Agency: a, Depth: depth}
	if depth > 0 {
		row.Indent = strings.Repeat("\u00a0\u00a0\u00a0\u00a0", depth-1) + "└\u00a0"
	}
	var rel []Related
	var err error
	if a.Period == Legacy {
		rel, err = h.s.Successors(ctx, a.ID)
	} else {
		rel, err = h.s.Predecessors(ctx, a.ID)
	}
	row.Links = len(rel)
	return row, err
}

type node struct {
	a     Agency
	depth int
}

// tree orders agencies parent first, each followed by its children; an
// agency whose parent is not among them (filtered out) starts a tree of its
// own.
func tree(as []Agency) []node {
	in := map[string]bool{}
	for _, a := range as {
		in[a.ID] = true
	}
	children := map[string][]Agency{}
	var roots []Agency
	for _, a := range as {
		if a.ParentID != "" && in[a.ParentID] && a.ParentID != a.ID {
			children[a.ParentID] = append(children[a.ParentID], a)
		} else {
			roots = append(roots, a)
		}
	}
	var out []node
	seen := map[string]bool{}
	var walk func(a Agency, depth int)
	walk = func(a Agency, depth int) {
		if seen[a.ID] {
			return
		}
		seen[a.ID] = true
		out = append(out, node{a, depth})
		for _, c := range children[a.ID] {
			walk(c, depth+1)
		}
	}
	for _, a := range roots {
		walk(a, 0)
	}
	// A cycle has no root; list what it left out rather than hide it.
	for _, a := range as {
		walk(a, 0)
	}
	return out
}

func provincesOf(as []Agency) []string {
	set := map[string]bool{}
	for _, a := range as {
		if a.ProvinceCode != "" {
			set[a.ProvinceCode] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

type agencyView struct {
	Agency       Agency
	Parent       *Agency
	Children     []Agency
	Successors   []Related
	Predecessors []Related
	Responsible  []Agency
	CanWrite     bool
	// The form to add a successor link.
	Targets   []Agency // current agencies to choose from
	TargetQ   string
	LinkKinds []LinkKind
	Link      formState
}

// targetsShown bounds the choices of the link form; a search narrows them.
const targetsShown = 500

func (h *Handlers) agencyView(ctx context.Context, id string) (agencyView, error) {
	a, err := h.s.Agency(ctx, id)
	if err != nil {
		return agencyView{}, err
	}
	v := agencyView{Agency: a, CanWrite: mayWrite(ctx), LinkKinds: LinkKinds, Link: newForm()}
	if a.ParentID != "" {
		p, err := h.s.Agency(ctx, a.ParentID)
		if err != nil {
			return v, err
		}
		v.Parent = &p
	}
	if v.Children, err = h.s.List(ctx, Filter{ParentID: a.ID, Limit: listed}); err != nil {
		return v, err
	}
	if v.Successors, err = h.s.Successors(ctx, a.ID); err != nil {
		return v, err
	}
	if v.Predecessors, err = h.s.Predecessors(ctx, a.ID); err != nil {
		return v, err
	}
	if v.Responsible, err = h.s.ResponsibleNow(ctx, a.ID); err != nil {
		return v, err
	}
	return v, nil
}

// withTargets fills the link form's choices: current agencies matching q.
func (h *Handlers) withTargets(ctx context.Context, v *agencyView, q string) error {
	if !v.CanWrite || v.Agency.Period != Legacy {
		return nil
	}
	v.TargetQ = strings.TrimSpace(q)
	var err error
	v.Targets, err = h.s.List(ctx, Filter{Period: Current, Q: v.TargetQ, Limit: targetsShown})
	return err
}

func (h *Handlers) agencyPage(w http.ResponseWriter, r *http.Request) error {
	v, err := h.agencyView(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.withTargets(r.Context(), &v, r.URL.Query().Get("to_q")); err != nil {
		return err
	}
	return h.pages.Render(w, r, "agency", v)
}

func (h *Handlers) addLinkForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	err := h.s.AddLink(r.Context(), Link{FromID: id, ToID: r.PostFormValue("to_id"), Kind: LinkKind(r.PostFormValue("kind")),
		Note: r.PostFormValue("note")})
	if err == nil {
		http.Redirect(w, r, "/agencies/"+url.PathEscape(id)+"?ok=flash.link_added", http.StatusSeeOther)
		return nil
	}
	v, verr := h.agencyView(r.Context(), id)
	if verr != nil {
		return verr
	}
	status, err := v.Link.Take(err)
	if err != nil {
		return err
	}
	for _, k := range []string{"to_id", "kind", "note"} {
		v.Link.Values[k] = r.PostFormValue(k)
	}
	if err := h.withTargets(r.Context(), &v, r.PostFormValue("to_q")); err != nil {
		return err
	}
	return h.pages.RenderStatus(w, r, status, "agency", v)
}

func (h *Handlers) removeLinkForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := h.s.RemoveLink(r.Context(), id, r.PathValue("to")); err != nil {
		return err
	}
	http.Redirect(w, r, "/agencies/"+url.PathEscape(id)+"?ok=flash.link_removed", http.StatusSeeOther)
	return nil
}

type formView struct {
	Agency  Agency // the stored agency, when editing
	IsNew   bool
	Form    formState
	Kinds   []Kind
	Periods []Period
	Parents map[Period][]Agency // the choices of parent, by period
	Stored  *Agency             // what another person saved meanwhile
}

func (h *Handlers) formView(ctx context.Context, a Agency, isNew bool, f formState) (formView, error) {
	v := formView{Agency: a, IsNew: isNew, Form: f, Kinds: Kinds, Periods: []Period{Legacy, Current}, Parents: map[Period][]Agency{}}
	all, err := h.s.List(ctx, Filter{Limit: listed})
	if err != nil {
		return v, err
	}
	for _, p := range all {
		if p.ID != a.ID {
			v.Parents[p.Period] = append(v.Parents[p.Period], p)
		}
	}
	return v, nil
}

func (h *Handlers) newPage(w http.ResponseWriter, r *http.Request) error {
	f := newForm()
	q := r.URL.Query()
	f.Values["period"] = string(Current)
	if Period(q.Get("period")) == Legacy {
		f.Values["period"] = string(Legacy)
	}
	f.Values["parent_id"] = q.Get("parent")
	f.Values["kind"] = string(KindDepartment)
	if k := Kind(q.Get("kind")); k.Valid() {
		f.Values["kind"] = string(k)
	}
	v, err := h.formView(r.Context(), Agency{}, true, f)
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "agency_form", v)
}

func (h *Handlers) createForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	vals := postedValues(r)
	in, err := inputOf(vals)
	if err == nil {
		var a Agency
		if a, err = h.s.Create(r.Context(), in); err == nil {
			http.Redirect(w, r, "/agencies/"+url.PathEscape(a.ID)+"?ok=flash.agency_created", http.StatusSeeOther)
			return nil
		}
	}
	f := newForm()
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	f.Values = vals
	v, err := h.formView(r.Context(), Agency{}, true, f)
	if err != nil {
		return err
	}
	return h.pages.RenderStatus(w, r, status, "agency_form", v)
}

func (h *Handlers) editPage(w http.ResponseWriter, r *http.Request) error {
	a, err := h.s.Agency(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	f := newForm()
	f.Values = valuesOf(a)
	v, err := h.formView(r.Context(), a, false, f)
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "agency_form", v)
}

func (h *Handlers) updateForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	vals := postedValues(r)
	in, err := inputOf(vals)
	if err == nil {
		var a Agency
		if a, err = h.s.Update(r.Context(), id, in, version); err == nil {
			http.Redirect(w, r, "/agencies/"+url.PathEscape(a.ID)+"?ok=flash.agency_saved", http.StatusSeeOther)
			return nil
		}
	}
	// The form again with what the editor typed, against the stored record:
	// after a conflict its version is the new one, so saving again is a
	// choice made after seeing the other person's change.
	cur, gerr := h.s.Agency(r.Context(), id)
	if gerr != nil {
		return gerr
	}
	f := newForm()
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	f.Values = vals
	v, err := h.formView(r.Context(), cur, false, f)
	if err != nil {
		return err
	}
	if cur.Version != version {
		v.Stored = &cur
	}
	return h.pages.RenderStatus(w, r, status, "agency_form", v)
}

type mappingRow struct {
	Agency     Agency
	Successors []Related
}

type mappingView struct {
	Province  string
	Provinces []string
	OnlyLeft  bool // only the agencies with no successor yet
	Rows      []mappingRow
	Total     int // legacy agencies (of the province)
	Mapped    int
	Left      int // legacy agencies with no successor yet
	CanWrite  bool
}

func (h *Handlers) mappingPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, err := filterOf(url.Values{"province": {q.Get("province")}})
	if err != nil {
		return err
	}
	v := mappingView{Province: f.ProvinceCode, OnlyLeft: q.Get("left") == "1", CanWrite: mayWrite(r.Context())}
	legacy, err := h.s.List(r.Context(), Filter{Period: Legacy, Limit: listed})
	if err != nil {
		return err
	}
	v.Provinces = provincesOf(legacy)
	for _, a := range legacy {
		if v.Province != "" && a.ProvinceCode != v.Province {
			continue
		}
		succ, err := h.s.Successors(r.Context(), a.ID)
		if err != nil {
			return err
		}
		v.Total++
		if len(succ) > 0 {
			v.Mapped++
			if v.OnlyLeft {
				continue
			}
		} else {
			v.Left++
		}
		v.Rows = append(v.Rows, mappingRow{Agency: a, Successors: succ})
	}
	return h.pages.Render(w, r, "mapping", v)
}

// formState is a page's form; see web.Form.
type formState = web.Form

func newForm() formState { return web.NewForm() }
