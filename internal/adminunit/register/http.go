package register

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/sheet"
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

// Body limits of the batch endpoints, larger than the default.
const (
	ConvertBodyLimit = 16 << 20
	UploadBodyLimit  = 32 << 20
	PastedAddresses  = 2000 // lines the paste page converts at once
)

// Handlers serves the register's pages and API.
type Handlers struct {
	s     *Service
	pages *web.Pages
}

var (
	reviewers = web.Roles(reqctx.RoleAdmin, reqctx.RoleCoordinator, reqctx.RoleOfficer)
	admins    = web.Roles(reqctx.RoleAdmin)
)

// NewHandlers loads the register's strings and pages and adds its navigation.
func NewHandlers(s *Service, ui *web.UI) (*Handlers, error) {
	if err := ui.Catalog.Load(Catalog()); err != nil {
		return nil, err
	}
	ps, err := ui.Pages(pageFS, "pages")
	if err != nil {
		return nil, err
	}
	ui.AddNav(web.NavLink{Key: "nav.adminunits", Href: "/adminunits", Rule: web.SignedIn},
		web.NavLink{Key: "nav.address_convert", Href: "/adminunits/convert", Rule: web.SignedIn},
		web.NavLink{Key: "nav.address_review", Href: "/adminunits/review", Rule: reviewers})
	ui.AddTile(web.Tile{Key: "tile.address_review", Href: "/adminunits/review", Rule: reviewers, Value: func(ctx context.Context) (string, error) {
		n, err := s.CountPending(ctx)
		return strconv.Itoa(n), err
	}})
	return &Handlers{s: s, pages: ps}, nil
}

// Register adds the routes.
func (h *Handlers) Register(rt *web.Router) {
	anyone := web.SignedIn
	rt.Handle("GET /adminunits", anyone, h.searchPage)
	rt.Handle("GET /adminunits/convert", anyone, h.convertPage)
	rt.Handle("POST /adminunits/convert", anyone, h.convertPaste)
	rt.Handle("POST /adminunits/convert/file", anyone, h.convertUpload)
	rt.Handle("GET /adminunits/convert/file/{id}", anyone, h.exportPage)
	rt.Handle("GET /adminunits/convert/file/{id}/download", anyone, h.exportDownload)
	rt.Handle("GET /adminunits/review", reviewers, h.reviewPage)
	rt.Handle("POST /adminunits/review/{id}", reviewers, h.decideForm)
	rt.Handle("GET /adminunits/{level}/{code}", anyone, h.unitPage)
	rt.Handle("POST /adminunits/{level}/{code}/basis", admins, h.basisForm)
	rt.Handle("POST /adminunits/province/{code}/ward-basis", admins, h.provinceBasisForm)

	rt.Handle("GET /api/v1/adminunits", anyone, h.apiSearch)
	rt.Handle("GET /api/v1/adminunits/code/{code}", anyone, h.apiCodeAt)
	rt.Handle("GET /api/v1/adminunits/reviews", reviewers, h.apiReviews)
	rt.Handle("POST /api/v1/adminunits/reviews/{id}", reviewers, h.apiDecide)
	rt.Handle("GET /api/v1/adminunits/{level}/{code}", anyone, h.apiUnit)
	rt.Handle("PUT /api/v1/adminunits/{level}/{code}/links/{toLevel}/{toCode}/basis", admins, h.apiBasis)
	rt.Handle("PUT /api/v1/adminunits/province/{code}/ward-basis", admins, h.apiProvinceBasis)
	rt.Handle("POST /api/v1/addresses/convert", anyone, h.apiConvert)
}

// mayQueue reports whether the caller may put addresses in the review
// queue: only those who may also decide them.
func mayQueue(ctx context.Context) error {
	if p := reqctx.PrincipalOf(ctx); p != nil && (p.Role == reqctx.RoleAdmin || p.Role == reqctx.RoleCoordinator || p.Role == reqctx.RoleOfficer) {
		return nil
	}
	return apperr.New(apperr.Forbidden, "adminunit.review.forbidden")
}

// LargerBodies lists the paths whose bodies may exceed the default limit.
func LargerBodies() map[string]int64 {
	return map[string]int64{"/api/v1/addresses/convert": ConvertBodyLimit, "/adminunits/convert/file": UploadBodyLimit}
}

// --- JSON shapes ---

type unitJSON struct {
	Level        string  `json:"level"`
	Code         string  `json:"code"`
	Name         string  `json:"name"`
	ShortName    string  `json:"short_name"`
	Type         string  `json:"type"`
	ParentCode   string  `json:"parent_code,omitempty"`
	ProvinceCode string  `json:"province_code"`
	ValidFrom    string  `json:"valid_from,omitempty"`
	ValidTo      string  `json:"valid_to,omitempty"`
	Lat          float64 `json:"lat,omitempty"`
	Lon          float64 `json:"lon,omitempty"`
	AreaKm2      float64 `json:"area_km2,omitempty"`
	Population   int64   `json:"population,omitempty"`
}

func toJSON(u *adminunit.Unit) unitJSON {
	return unitJSON{Level: u.Level.String(), Code: u.Code, Name: u.Name, ShortName: u.Short, Type: u.Type,
		ParentCode: u.ParentCode, ProvinceCode: u.ProvinceCode, ValidFrom: web.ISODay(u.ValidFrom), ValidTo: web.ISODay(u.ValidTo),
		Lat: u.Lat, Lon: u.Lon, AreaKm2: u.AreaKm2, Population: u.Population}
}

type relationJSON struct {
	Unit  unitJSON `json:"unit"`
	Kind  string   `json:"kind,omitempty"`
	Basis string   `json:"basis,omitempty"`
}

func relations(rs []adminunit.Relation) []relationJSON {
	out := make([]relationJSON, 0, len(rs))
	for _, r := range rs {
		j := relationJSON{Unit: toJSON(r.Unit), Kind: string(r.Kind)}
		if r.Link != nil {
			j.Basis = r.Link.Basis
		}
		out = append(out, j)
	}
	return out
}

type resultJSON struct {
	Input              string   `json:"input"`
	ProvinceCode       string   `json:"province_code"`
	WardCode           string   `json:"ward_code"`
	Status             string   `json:"status"`
	Rule               string   `json:"rule,omitempty"`
	Form               string   `json:"form,omitempty"`
	ProvinceName       string   `json:"province_name,omitempty"`
	WardName           string   `json:"ward_name,omitempty"`
	Candidates         []string `json:"candidates,omitempty"`
	Reason             string   `json:"reason,omitempty"`
	LegacyWardCode     string   `json:"legacy_ward_code,omitempty"`
	LegacyDistrictCode string   `json:"legacy_district_code,omitempty"`
	LegacyProvinceCode string   `json:"legacy_province_code,omitempty"`
	Street             string   `json:"street,omitempty"`
	ReviewID           string   `json:"review_id,omitempty"`
	Decoded            string   `json:"decoded,omitempty"` // tcvn3 or vni: read from an old font encoding
	// For pages: the candidates and the legacy ward by name.
	CandidateUnits []*adminunit.Unit `json:"-"`
	LegacyWard     *adminunit.Unit   `json:"-"`
}

func resultOf(idx *adminunit.Index, c Conversion) resultJSON {
	p, w := idx.Names(&c.Result)
	var cands []*adminunit.Unit
	for _, code := range c.Candidates {
		if u, ok := idx.Unit(adminunit.LevelWard, code); ok {
			cands = append(cands, u)
		}
	}
	legacy, _ := idx.Unit(adminunit.LevelLegacyWard, c.LegacyWardCode)
	return resultJSON{CandidateUnits: cands, LegacyWard: legacy, Input: c.Input, ProvinceCode: c.ProvinceCode, WardCode: c.WardCode, Status: string(c.Status),
		Rule: string(c.Rule), Form: string(c.Form), ProvinceName: p, WardName: w, Candidates: c.Candidates, Reason: c.Reason,
		LegacyWardCode: c.LegacyWardCode, LegacyDistrictCode: c.LegacyDistrictCode, LegacyProvinceCode: c.LegacyProvinceCode,
		Street: c.Street, ReviewID: c.ReviewID, Decoded: c.Decoded}
}

// --- API ---

func levelsOf(v string) ([]adminunit.Level, error) {
	if v == "" {
		return nil, nil
	}
	var out []adminunit.Level
	for _, s := range strings.Split(v, ",") {
		l, ok := adminunit.ParseLevel(strings.TrimSpace(s))
		if !ok {
			return nil, apperr.InvalidFields(map[string]string{"level": "adminunit.level.unknown"})
		}
		out = append(out, l)
	}
	return out, nil
}

func (h *Handlers) apiSearch(w http.ResponseWriter, r *http.Request) error {
	idx, err := h.s.Index(r.Context())
	if err != nil {
		return err
	}
	q := r.URL.Query()
	levels, err := levelsOf(q.Get("level"))
	if err != nil {
		return err
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if strings.TrimSpace(q.Get("q")) == "" {
		return apperr.InvalidFields(map[string]string{"q": "adminunit.search.empty"})
	}
	units := idx.Search(q.Get("q"), levels, limit)
	out := make([]unitJSON, 0, len(units))
	for _, u := range units {
		out = append(out, toJSON(u))
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"units": out})
}

func (h *Handlers) unitOf(r *http.Request) (*adminunit.Index, *adminunit.Unit, error) {
	idx, err := h.s.Index(r.Context())
	if err != nil {
		return nil, nil, err
	}
	l, ok := adminunit.ParseLevel(r.PathValue("level"))
	if !ok {
		return nil, nil, apperr.New(apperr.NotFound, "adminunit.unit.not_found")
	}
	u, ok := idx.Unit(l, r.PathValue("code"))
	if !ok {
		return nil, nil, apperr.New(apperr.NotFound, "adminunit.unit.not_found")
	}
	return idx, u, nil
}

func (h *Handlers) apiUnit(w http.ResponseWriter, r *http.Request) error {
	idx, u, err := h.unitOf(r)
	if err != nil {
		return err
	}
	out := map[string]any{"unit": toJSON(u),
		"successors":   relations(idx.Successors(u.Level, u.Code)),
		"predecessors": relations(idx.Predecessors(u.Level, u.Code))}
	if p, ok := idx.Parent(u); ok {
		out["parent"] = toJSON(p)
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// apiCodeAt answers what a code meant on a day (default today): codes were
// reused in 2025, so 26740 is Bến Nghé on 2025-01-01 and Sài Gòn today.
func (h *Handlers) apiCodeAt(w http.ResponseWriter, r *http.Request) error {
	idx, err := h.s.Index(r.Context())
	if err != nil {
		return err
	}
	at := time.Now()
	if v := r.URL.Query().Get("at"); v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, adminunit.ReformDate.Location())
		if err != nil {
			return apperr.InvalidFields(map[string]string{"at": "adminunit.at.invalid"})
		}
		at = t
	}
	u, ok := idx.CodeAt(r.PathValue("code"), at)
	if !ok {
		return apperr.New(apperr.NotFound, "adminunit.unit.not_found")
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"at": web.ISODay(at), "unit": toJSON(u)})
}

type convertRequest struct {
	Addresses []string `json:"addresses"`
	Form      string   `json:"form"`
	Review    bool     `json:"review"`
	Source    string   `json:"source"`
	Refs      []string `json:"refs"`
}

func (h *Handlers) apiConvert(w http.ResponseWriter, r *http.Request) error {
	var req convertRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.Review {
		if err := mayQueue(r.Context()); err != nil {
			return err
		}
	}
	out, err := h.s.Convert(r.Context(), req.Addresses, ConvertOptions{Form: adminunit.Form(req.Form), Review: req.Review,
		Source: req.Source, Refs: req.Refs})
	if err != nil {
		return err
	}
	idx, err := h.s.Index(r.Context())
	if err != nil {
		return err
	}
	res := make([]resultJSON, len(out))
	counts := map[string]int{}
	for i, c := range out {
		res[i] = resultOf(idx, c)
		counts[string(c.Status)]++
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"results": res, "summary": counts})
}

type reviewJSON struct {
	ID             string   `json:"id"`
	Source         string   `json:"source"`
	Ref            string   `json:"ref,omitempty"`
	Input          string   `json:"input"`
	LegacyWardCode string   `json:"legacy_ward_code"`
	Street         string   `json:"street,omitempty"`
	Candidates     []string `json:"candidates"`
	Status         string   `json:"status"`
	WardCode       string   `json:"ward_code,omitempty"`
	Rule           string   `json:"rule,omitempty"`
	DecidedBy      string   `json:"decided_by,omitempty"`
	DecidedAt      string   `json:"decided_at,omitempty"`
	CreatedAt      string   `json:"created_at"`
}

func reviewOf(v Review) reviewJSON {
	j := reviewJSON{ID: v.ID, Source: v.Source, Ref: v.Ref, Input: v.Input, LegacyWardCode: v.LegacyWardCode, Street: v.Street,
		Candidates: v.Candidates, Status: v.Status, WardCode: v.WardCode, Rule: v.Rule, DecidedBy: v.DecidedBy,
		CreatedAt: v.CreatedAt.UTC().Format(time.RFC3339)}
	if !v.DecidedAt.IsZero() {
		j.DecidedAt = v.DecidedAt.UTC().Format(time.RFC3339)
	}
	return j
}

func (h *Handlers) apiReviews(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	list, err := h.s.Reviews(r.Context(), ReviewFilter{Status: q.Get("status"), After: q.Get("after"), Limit: limit})
	if err != nil {
		return err
	}
	out := make([]reviewJSON, len(list))
	for i, v := range list {
		out[i] = reviewOf(v)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"reviews": out})
}

func (h *Handlers) apiDecide(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		WardCode string `json:"ward_code"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	d, err := h.s.Decide(r.Context(), r.PathValue("id"), req.WardCode)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"review": reviewOf(d.Review), "also_settled": d.AlsoSettled})
}

func (h *Handlers) apiBasis(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Basis   string `json:"basis"`
		Version int64  `json:"version"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	ref, err := linkRefOf(r.PathValue("level"), r.PathValue("code"), r.PathValue("toLevel"), r.PathValue("toCode"))
	if err != nil {
		return err
	}
	if err := h.s.SetBasis(r.Context(), ref, req.Basis, req.Version); err != nil {
		return err
	}
	v, err := h.s.LinkVersion(r.Context(), ref)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"basis": strings.TrimSpace(req.Basis), "version": v})
}

func (h *Handlers) apiProvinceBasis(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Basis   string `json:"basis"`
		Replace bool   `json:"replace"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	n, err := h.s.SetProvinceBasis(r.Context(), r.PathValue("code"), req.Basis, req.Replace)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"links_changed": n})
}

func (h *Handlers) provinceBasisForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	code := r.PathValue("code")
	n, err := h.s.SetProvinceBasis(r.Context(), code, r.FormValue("basis"), r.FormValue("replace") == "1")
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/adminunits/province/"+url.PathEscape(code)+"?ok=flash.province_basis_saved&n="+strconv.Itoa(n), http.StatusSeeOther)
	return nil
}

func linkRefOf(fl, fc, tl, tc string) (LinkRef, error) {
	from, ok1 := adminunit.ParseLevel(fl)
	to, ok2 := adminunit.ParseLevel(tl)
	if !ok1 || !ok2 {
		return LinkRef{}, apperr.New(apperr.NotFound, "adminunit.link.not_found")
	}
	return LinkRef{FromLevel: from, FromCode: fc, ToLevel: to, ToCode: tc}, nil
}

// --- pages ---

// notImported renders a page's empty state that says how to import the data.
func (h *Handlers) notImported(w http.ResponseWriter, r *http.Request, err error) error {
	if errors.Is(err, ErrNotImported) {
		return h.pages.Render(w, r, "not_imported", nil)
	}
	return err
}

type searchView struct {
	Q      string
	Level  string
	Levels []adminunit.Level
	Units  []*adminunit.Unit
	Now    map[*adminunit.Unit][]*adminunit.Unit // where each legacy unit listed went
	Counts map[adminunit.Level]int
	More   int // units of the level not listed
}

// listed is how many units of one level the search page lists unfiltered.
const listed = 200

func (h *Handlers) searchPage(w http.ResponseWriter, r *http.Request) error {
	idx, err := h.s.Index(r.Context())
	if err != nil {
		return h.notImported(w, r, err)
	}
	q := r.URL.Query()
	v := searchView{Q: strings.TrimSpace(q.Get("q")), Level: q.Get("level"), Counts: map[adminunit.Level]int{},
		Levels: []adminunit.Level{adminunit.LevelProvince, adminunit.LevelWard, adminunit.LevelLegacyProvince, adminunit.LevelLegacyDistrict, adminunit.LevelLegacyWard}}
	for _, l := range v.Levels {
		v.Counts[l] = idx.Count(l)
	}
	levels, err := levelsOf(v.Level)
	if err != nil {
		return err
	}
	switch {
	case v.Q != "":
		v.Units = idx.Search(v.Q, levels, 100)
	case len(levels) == 1:
		v.Units = idx.Units(levels[0])
		if len(v.Units) > listed {
			v.Units, v.More = v.Units[:listed], len(v.Units)-listed
		}
	default:
		v.Units = idx.Units(adminunit.LevelProvince)
	}
	v.Now = map[*adminunit.Unit][]*adminunit.Unit{}
	for _, u := range v.Units {
		if u.Level == adminunit.LevelLegacyWard || u.Level == adminunit.LevelLegacyProvince {
			for _, rel := range idx.Successors(u.Level, u.Code) {
				v.Now[u] = append(v.Now[u], rel.Unit)
			}
		}
	}
	return h.pages.Render(w, r, "adminunits", v)
}

type unitView struct {
	Unit         *adminunit.Unit
	Parent       *adminunit.Unit
	Province     *adminunit.Unit // the new province it is in or went to
	Successors   []adminunit.Relation
	Predecessors []adminunit.Relation
	Children     []*adminunit.Unit
	Aliases      []string
	Versions     map[string]int64 // link versions for the basis forms, by "level/code"
	IsAdmin      bool
	Error        string
}

func (h *Handlers) unitPage(w http.ResponseWriter, r *http.Request) error {
	idx, u, err := h.unitOf(r)
	if err != nil {
		return h.notImported(w, r, err)
	}
	v := unitView{Unit: u, Successors: idx.Successors(u.Level, u.Code), Predecessors: idx.Predecessors(u.Level, u.Code),
		Children: idx.Children(u.Level, u.Code), Aliases: idx.Aliases(u.Level, u.Code), Versions: map[string]int64{}}
	v.Parent, _ = idx.Parent(u)
	if p, ok := idx.ProvinceOf(u); ok && u.Level.Legacy() {
		v.Province = p
	}
	if p := reqctx.PrincipalOf(r.Context()); p != nil && p.Role == reqctx.RoleAdmin {
		v.IsAdmin = true
		for _, rel := range append(v.Successors, v.Predecessors...) {
			if rel.Link == nil {
				continue
			}
			ref := LinkRef{rel.Link.FromLevel, rel.Link.FromCode, rel.Link.ToLevel, rel.Link.ToCode}
			if ver, err := h.s.LinkVersion(r.Context(), ref); err == nil {
				v.Versions[rel.Link.FromLevel.String()+"/"+rel.Link.FromCode+">"+rel.Link.ToLevel.String()+"/"+rel.Link.ToCode] = ver
			}
		}
	}
	return h.pages.Render(w, r, "unit", v)
}

func (h *Handlers) basisForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ref, err := linkRefOf(r.FormValue("from_level"), r.FormValue("from_code"), r.FormValue("to_level"), r.FormValue("to_code"))
	if err != nil {
		return err
	}
	version, _ := strconv.ParseInt(r.FormValue("version"), 10, 64)
	if err := h.s.SetBasis(r.Context(), ref, r.FormValue("basis"), version); err != nil {
		return err
	}
	http.Redirect(w, r, "/adminunits/"+url.PathEscape(r.PathValue("level"))+"/"+url.PathEscape(r.PathValue("code"))+"?ok=flash.basis_saved", http.StatusSeeOther)
	return nil
}

type convertView struct {
	Text     string
	Form     string
	Review   bool
	Results  []resultJSON
	Summary  map[string]int
	Queued   int
	TooMany  bool
	Err      *apperr.Error
	FileErr  *apperr.Error // of the upload form
	Column   string
	MayQueue bool // the caller may queue undecided addresses for review
	MaxLines int
}

func (h *Handlers) convertPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.s.Index(r.Context()); err != nil {
		return h.notImported(w, r, err)
	}
	return h.pages.Render(w, r, "convert", convertView{MayQueue: mayQueue(r.Context()) == nil, MaxLines: PastedAddresses})
}

func (h *Handlers) convertPaste(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	v := convertView{Text: r.FormValue("addresses"), Form: r.FormValue("form"), Review: r.FormValue("review") == "1", MayQueue: mayQueue(r.Context()) == nil}
	if v.Review && !v.MayQueue {
		return mayQueue(r.Context())
	}
	var lines []string
	for l := range strings.Lines(v.Text) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return h.renderConvertError(w, r, v, apperr.InvalidFields(map[string]string{"addresses": "adminunit.convert.empty"}))
	}
	v.MaxLines = PastedAddresses
	if len(lines) > PastedAddresses {
		lines, v.TooMany = lines[:PastedAddresses], true
	}
	out, err := h.s.Convert(r.Context(), lines, ConvertOptions{Form: adminunit.Form(v.Form), Review: v.Review, Source: "page"})
	if err != nil {
		if errors.Is(err, ErrNotImported) {
			return h.notImported(w, r, err)
		}
		return h.renderConvertError(w, r, v, err)
	}
	idx, err := h.s.Index(r.Context())
	if err != nil {
		return err
	}
	v.Summary = map[string]int{}
	for _, c := range out {
		v.Results = append(v.Results, resultOf(idx, c))
		v.Summary[string(c.Status)]++
		if c.ReviewID != "" {
			v.Queued++
		}
	}
	return h.pages.Render(w, r, "convert", v)
}

func (h *Handlers) renderConvertError(w http.ResponseWriter, r *http.Request, v convertView, err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind != apperr.Invalid {
		return err
	}
	v.Err = ae
	return h.pages.RenderStatus(w, r, http.StatusUnprocessableEntity, "convert", v)
}

type reviewView struct {
	Status  string
	Reviews []reviewRow
	Pending int
	Next    string
}

type reviewRow struct {
	Review
	Legacy     *adminunit.Unit
	District   *adminunit.Unit
	Candidates []*adminunit.Unit
	Ward       *adminunit.Unit
}

func (h *Handlers) reviewPage(w http.ResponseWriter, r *http.Request) error {
	idx, err := h.s.Index(r.Context())
	if err != nil {
		return h.notImported(w, r, err)
	}
	q := r.URL.Query()
	v := reviewView{Status: q.Get("status")}
	if _, ok := q["status"]; !ok {
		v.Status = "pending"
	}
	list, err := h.s.Reviews(r.Context(), ReviewFilter{Status: v.Status, After: q.Get("after"), Limit: 50})
	if err != nil {
		return err
	}
	for _, rv := range list {
		row := reviewRow{Review: rv}
		row.Legacy, _ = idx.Unit(adminunit.LevelLegacyWard, rv.LegacyWardCode)
		if row.Legacy != nil {
			row.District, _ = idx.Parent(row.Legacy)
		}
		for _, c := range rv.Candidates {
			if u, ok := idx.Unit(adminunit.LevelWard, c); ok {
				row.Candidates = append(row.Candidates, u)
			}
		}
		row.Ward, _ = idx.Unit(adminunit.LevelWard, rv.WardCode)
		v.Reviews = append(v.Reviews, row)
	}
	if len(list) == 50 {
		v.Next = list[len(list)-1].ID
	}
	if v.Pending, err = h.s.CountPending(r.Context()); err != nil {
		return err
	}
	return h.pages.Render(w, r, "review", v)
}

func (h *Handlers) decideForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	d, err := h.s.Decide(r.Context(), r.PathValue("id"), r.FormValue("ward_code"))
	if err != nil {
		return err
	}
	flash := "flash.review_decided"
	if d.AlsoSettled > 0 {
		flash = "flash.review_decided_more"
	}
	http.Redirect(w, r, "/adminunits/review?ok="+url.QueryEscape(flash)+"&settled="+strconv.Itoa(d.AlsoSettled), http.StatusSeeOther)
	return nil
}

// convertUpload converts a column of an uploaded spreadsheet and shows the
// summary with a download link.
func (h *Handlers) convertUpload(w http.ResponseWriter, r *http.Request) error {
	// Small parts stay in memory, the file goes to a temporary file.
	if err := web.ParseMultipartForm(r, 8<<20); err != nil {
		return err
	}
	defer r.MultipartForm.RemoveAll()
	v := convertView{Column: r.FormValue("column"), Form: r.FormValue("form"), Review: r.FormValue("review") == "1", MayQueue: mayQueue(r.Context()) == nil}
	if v.Review && !v.MayQueue {
		return mayQueue(r.Context())
	}
	// The multipart fields skipped web.ParseForm's checks.
	for _, f := range []string{v.Column, v.Form} {
		if !utf8.ValidString(f) || strings.IndexByte(f, 0) >= 0 || len(f) > 200 {
			return h.renderUploadError(w, r, v, apperr.InvalidFields(map[string]string{"column": "error.text_invalid"}))
		}
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return h.renderUploadError(w, r, v, apperr.InvalidFields(map[string]string{"file": "adminunit.sheet.no_file"}))
	}
	defer f.Close()
	e, err := h.s.ConvertFile(r.Context(), hdr.Filename, f, hdr.Size, FileOptions{Column: v.Column, Form: adminunit.Form(v.Form), Review: v.Review})
	if err != nil {
		if errors.Is(err, ErrNotImported) {
			return h.notImported(w, r, err)
		}
		return h.renderUploadError(w, r, v, err)
	}
	http.Redirect(w, r, "/adminunits/convert/file/"+e.ID, http.StatusSeeOther)
	return nil
}

func (h *Handlers) renderUploadError(w http.ResponseWriter, r *http.Request, v convertView, err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind != apperr.Invalid {
		return err
	}
	v.FileErr = ae
	return h.pages.RenderStatus(w, r, http.StatusUnprocessableEntity, "convert", v)
}

func (h *Handlers) exportPage(w http.ResponseWriter, r *http.Request) error {
	e, err := h.s.ExportOf(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "export", struct {
		Export
		Until time.Time
	}{e, e.CreatedAt.Add(ExportKeep)})
}

var contentTypes = map[sheet.Format]string{
	sheet.CSV:  "text/csv; charset=utf-8",
	sheet.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

func (h *Handlers) exportDownload(w http.ResponseWriter, r *http.Request) error {
	e, err := h.s.ExportFile(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentTypes[e.Format])
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": e.FileName}))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(e.Content)))
	_, err = w.Write(e.Content)
	return err
}
