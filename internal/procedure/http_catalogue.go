package procedure

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/web"
	"hopnhat/internal/platform/workbook"
	"hopnhat/internal/procedure/workday"
)

// ImportBodyLimit bounds an uploaded catalogue file.
const ImportBodyLimit = 16 << 20

// LargerBodies lists the paths whose bodies may exceed the default limit:
// the catalogue's upload.
func LargerBodies() map[string]int64 {
	return map[string]int64{"/procedures/import": ImportBodyLimit}
}

// registerCatalogue adds the catalogue's, the calendar's and the
// reassignment's routes.
func (h *Handlers) registerCatalogue(rt *web.Router) {
	rt.Handle("GET /procedures", anyone, h.catListPage)
	rt.Handle("GET /procedures/new", editors, h.catNewPage)
	rt.Handle("POST /procedures", editors, h.catCreateForm)
	rt.Handle("GET /procedures/import", editors, h.catImportPage)
	rt.Handle("POST /procedures/import", editors, h.catImportForm)
	rt.Handle("GET /procedures/template.xlsx", anyone, h.catTemplate)
	rt.Handle("GET /procedures/export.xlsx", anyone, h.catExport("xlsx"))
	rt.Handle("GET /procedures/export.csv", anyone, h.catExport("csv"))
	rt.Handle("GET /procedures/calendar", anyone, h.calendarPage)
	rt.Handle("POST /procedures/calendar", editors, h.calendarSetForm)
	rt.Handle("POST /procedures/calendar/{id}/delete", editors, h.calendarDeleteForm)
	rt.Handle("GET /procedures/reassign", editors, h.reassignPage)
	rt.Handle("POST /procedures/reassign", editors, h.reassignForm)
	rt.Handle("POST /procedures/reassign/ward", editors, h.reassignWardForm)
	rt.Handle("GET /procedures/{id}", anyone, h.catProcedurePage)
	rt.Handle("GET /procedures/{id}/edit", editors, h.catEditPage)
	rt.Handle("POST /procedures/{id}", editors, h.catUpdateForm)
	rt.Handle("POST /procedures/{id}/active", editors, h.catActiveForm)

	rt.Handle("GET /api/v1/procedures", anyone, h.catAPIList)
	rt.Handle("POST /api/v1/procedures", editors, h.catAPICreate)
	rt.Handle("POST /api/v1/procedures/reassign", editors, h.reassignAPI)
	rt.Handle("GET /api/v1/procedures/{id}", anyone, h.catAPIGet)
	rt.Handle("PUT /api/v1/procedures/{id}", editors, h.catAPIUpdate)
	rt.Handle("GET /api/v1/calendar", anyone, h.calendarAPI)
	rt.Handle("PUT /api/v1/calendar/days/{id}", editors, h.calendarAPISet)
	rt.Handle("DELETE /api/v1/calendar/days/{id}", editors, h.calendarAPIDelete)
}

// catMayEdit reports whether the caller keeps the catalogue, to show or hide
// the forms.
func catMayEdit(ctx context.Context) bool { return web.Allowed(ctx, editors) }

// catNames names agencies, current and former, with two calls to the
// register rather than one per row.
func (h *Handlers) catNames(ctx context.Context) (map[string]string, error) {
	names := map[string]string{}
	for _, list := range []func(context.Context) ([]Agency, error){h.s.FormerAgencies, h.s.Agencies} {
		as, err := list(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			names[a.ID] = a.Name
		}
	}
	return names, nil
}

// catFilterOf reads the catalogue's filters, refusing a level or an online
// level that does not exist rather than answering with an empty list.
func catFilterOf(q url.Values) (ProcedureFilter, error) {
	f := ProcedureFilter{Q: strings.TrimSpace(q.Get("q")), Field: strings.TrimSpace(q.Get("field")), Level: Level(q.Get("level")),
		Online: Online(q.Get("online")), AgencyID: strings.TrimSpace(q.Get("agency_id")), Active: q.Get("active") == "1"}
	bad := map[string]string{}
	if f.Level != "" && f.Level != LevelProvince && f.Level != LevelCommune {
		bad["level"] = "procedure.level_invalid"
	}
	if f.Online != "" && f.Online != OnlineFull && f.Online != OnlinePartial && f.Online != OnlineOffline {
		bad["online"] = "procedure.online_invalid"
	}
	for _, k := range []string{"limit", "offset"} {
		if v := q.Get(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				bad[k] = "error.number_invalid"
			}
			if k == "limit" {
				f.Limit = n
			} else {
				f.Offset = n
			}
		}
	}
	if len(bad) > 0 {
		return f, apperr.InvalidFields(bad)
	}
	return f, nil
}

// catProcedureOf builds a procedure from a form's text fields and names the
// fields that could not be read.
func catProcedureOf(v url.Values) (Procedure, map[string]string) {
	p := Procedure{Code: v.Get("code"), Name: v.Get("name"), Field: v.Get("field"), Level: Level(v.Get("level")),
		AgencyID: v.Get("agency_id"), Fee: v.Get("fee"), Online: Online(v.Get("online"))}
	for l := range strings.Lines(v.Get("papers")) {
		p.Papers = append(p.Papers, l)
	}
	bad := map[string]string{}
	days := strings.TrimSpace(v.Get("days"))
	n, err := strconv.Atoi(days)
	if err != nil {
		bad["days"] = "procedure.days_invalid"
	}
	p.Days = n
	return p, bad
}

// catRefuse returns the error for p with the fields that could not be read
// and whatever else the service would refuse, so a person sees every problem
// at once.
func (h *Handlers) catRefuse(ctx context.Context, p Procedure, bad map[string]string) error {
	f := p.check()
	if err := h.s.checkAgency(ctx, p.AgencyID, f, "agency_id"); err != nil {
		return err
	}
	maps.Copy(f, bad)
	return apperr.InvalidFields(f)
}

var catFormFields = []string{"code", "name", "field", "level", "agency_id", "days", "fee", "online", "papers", "version"}

// catFormOf fills a procedure form from submitted values.
func catFormOf(v url.Values) catForm {
	f := newCatForm()
	for _, k := range catFormFields {
		f.Values[k] = v.Get(k)
	}
	return f
}

// catFormFrom fills a procedure form from a stored procedure.
func catFormFrom(p Procedure) catForm {
	f := newCatForm()
	f.Values = map[string]string{"code": p.Code, "name": p.Name, "field": p.Field, "level": string(p.Level), "agency_id": p.AgencyID,
		"days": strconv.Itoa(p.Days), "fee": p.Fee, "online": string(p.Online), "papers": strings.Join(p.Papers, "\n"),
		"version": strconv.FormatInt(p.Version, 10)}
	return f
}

// --- list ---

const catPerPage = 50

type catRow struct {
	Procedure
	Agency string
}

type catListView struct {
	Rows     []catRow
	Filter   ProcedureFilter
	Filtered bool
	Fields   []string
	Agencies []Agency
	Levels   []Level
	Onlines  []Online
	Counts   ProcedureCounts
	Partial  int
	First    int // the number of the first row shown
	Prev     string
	Next     string
	CanWrite bool
	Imported *CatalogueImport
}

// catPageURL is the list's address with f's filters at offset.
func catPageURL(f ProcedureFilter, offset int) string {
	q := url.Values{}
	for k, v := range map[string]string{"q": f.Q, "field": f.Field, "level": string(f.Level), "online": string(f.Online), "agency_id": f.AgencyID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Active {
		q.Set("active", "1")
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	if len(q) == 0 {
		return "/procedures"
	}
	return "/procedures?" + q.Encode()
}

func (h *Handlers) catListPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	f, err := catFilterOf(q)
	if err != nil {
		return err
	}
	f.Limit = catPerPage + 1
	v := catListView{Filter: f, Levels: []Level{LevelProvince, LevelCommune}, Onlines: []Online{OnlineFull, OnlinePartial, OnlineOffline},
		CanWrite: catMayEdit(ctx), First: f.Offset + 1}
	// Past the last page is an empty result, not an empty catalogue.
	v.Filtered = f.Q != "" || f.Field != "" || f.Level != "" || f.Online != "" || f.AgencyID != "" || f.Active || f.Offset > 0
	ps, err := h.s.Procedures(ctx, f)
	if err != nil {
		return err
	}
	if len(ps) > catPerPage {
		ps = ps[:catPerPage]
		v.Next = catPageURL(f, f.Offset+catPerPage)
	}
	if f.Offset > 0 {
		v.Prev = catPageURL(f, max(0, f.Offset-catPerPage))
	}
	names, err := h.catNames(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		v.Rows = append(v.Rows, catRow{Procedure: p, Agency: cmp.Or(names[p.AgencyID], p.AgencyID)})
	}
	if v.Fields, err = h.s.Fields(ctx); err != nil {
		return err
	}
	if v.Agencies, err = h.s.Agencies(ctx); err != nil {
		return err
	}
	if v.Counts, err = h.s.CountProcedures(ctx); err != nil {
		return err
	}
	v.Partial = v.Counts.Online - v.Counts.FullOnline
	if q.Get("imported") == "1" {
		atoi := func(k string) int { n, _ := strconv.Atoi(q.Get(k)); return max(n, 0) }
		v.Imported = &CatalogueImport{Created: atoi("created"), Updated: atoi("updated"), Unchanged: atoi("unchanged")}
	}
	return h.pages.Render(w, r, "procedures", v)
}

// --- one procedure ---

type catProcedureView struct {
	P        Procedure
	Agency   string
	Former   bool // its agency is an old province's, not yet reassigned
	CanWrite bool
	Error    string // i18n key of a refused change
}

func (h *Handlers) catProcedureView(ctx context.Context, id string) (catProcedureView, error) {
	p, err := h.s.Procedure(ctx, id)
	if err != nil {
		return catProcedureView{}, err
	}
	v := catProcedureView{P: p, Agency: h.s.AgencyName(ctx, p.AgencyID), CanWrite: catMayEdit(ctx)}
	if a, err := h.s.agencies.Agency(ctx, p.AgencyID); err == nil {
		v.Former = !a.Current
	}
	return v, nil
}

func (h *Handlers) catProcedurePage(w http.ResponseWriter, r *http.Request) error {
	v, err := h.catProcedureView(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "procedure", v)
}

// catActiveForm puts a procedure in or out of use, given the version the
// person saw.
func (h *Handlers) catActiveForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	active := r.PostFormValue("active") == "1"
	_, err := h.s.SetActive(r.Context(), id, active, version)
	if err == nil {
		flash := "flash.procedure_deactivated"
		if active {
			flash = "flash.procedure_activated"
		}
		http.Redirect(w, r, "/procedures/"+url.PathEscape(id)+"?ok="+flash, http.StatusSeeOther)
		return nil
	}
	if !apperr.Is(err, apperr.Conflict) {
		return err
	}
	// Changed since the page was read: show what is stored now, with its
	// new version on the button, rather than act on what the person did not
	// see.
	v, verr := h.catProcedureView(r.Context(), id)
	if verr != nil {
		return verr
	}
	v.Error = "procedure.stale"
	return h.pages.RenderStatus(w, r, http.StatusConflict, "procedure", v)
}

// --- forms ---

type catFormView struct {
	P        Procedure // the stored procedure, when editing
	IsNew    bool
	Form     catForm
	Agencies []Agency
	Levels   []Level
	Onlines  []Online
	Fields   []string   // the fields the catalogue uses, to pick from
	Stored   *Procedure // what another person saved meanwhile
	Agency   string     // the stored procedure's agency, by name
	Action   string
}

func (h *Handlers) catFormView(ctx context.Context, p Procedure, isNew bool, f catForm) (catFormView, error) {
	v := catFormView{P: p, IsNew: isNew, Form: f, Levels: []Level{LevelProvince, LevelCommune},
		Onlines: []Online{OnlineFull, OnlinePartial, OnlineOffline}, Action: "/procedures"}
	if !isNew {
		v.Action = "/procedures/" + url.PathEscape(p.ID)
	}
	var err error
	if v.Agencies, err = h.s.Agencies(ctx); err != nil {
		return v, err
	}
	// An old agency not yet reassigned stays selectable on its procedure,
	// so saving another field does not change it unseen.
	if id := f.Values["agency_id"]; id != "" && !slices.ContainsFunc(v.Agencies, func(a Agency) bool { return a.ID == id }) {
		if a, err := h.s.agencies.Agency(ctx, id); err == nil {
			v.Agencies = append(v.Agencies, a)
		}
	}
	if v.Fields, err = h.s.Fields(ctx); err != nil {
		return v, err
	}
	return v, nil
}

func (h *Handlers) catNewPage(w http.ResponseWriter, r *http.Request) error {
	f := newCatForm()
	f.Values["level"], f.Values["online"] = string(LevelProvince), string(OnlinePartial)
	v, err := h.catFormView(r.Context(), Procedure{}, true, f)
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "procedure_form", v)
}

func (h *Handlers) catCreateForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	p, bad := catProcedureOf(r.PostForm)
	var err error
	if len(bad) > 0 {
		err = h.catRefuse(ctx, p, bad)
	} else if p, err = h.s.CreateProcedure(ctx, p); err == nil {
		http.Redirect(w, r, "/procedures/"+url.PathEscape(p.ID)+"?ok=flash.procedure_created", http.StatusSeeOther)
		return nil
	}
	f := catFormOf(r.PostForm)
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	v, err := h.catFormView(ctx, Procedure{}, true, f)
	if err != nil {
		return err
	}
	return h.pages.RenderStatus(w, r, status, "procedure_form", v)
}

func (h *Handlers) catEditPage(w http.ResponseWriter, r *http.Request) error {
	p, err := h.s.Procedure(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := h.catFormView(r.Context(), p, false, catFormFrom(p))
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "procedure_form", v)
}

func (h *Handlers) catUpdateForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("id")
	cur, err := h.s.Procedure(ctx, id)
	if err != nil {
		return err
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	p, bad := catProcedureOf(r.PostForm)
	p.Active = cur.Active // the form edits the fields; the status has its own button
	if len(bad) > 0 {
		err = h.catRefuse(ctx, p, bad)
	} else if _, err = h.s.UpdateProcedure(ctx, id, p, version); err == nil {
		http.Redirect(w, r, "/procedures/"+url.PathEscape(id)+"?ok=flash.procedure_saved", http.StatusSeeOther)
		return nil
	}
	// The form again with what the editor typed, against the stored record:
	// after a conflict its version is the new one, so saving again is a
	// choice made after seeing the other person's change.
	f := catFormOf(r.PostForm)
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	if cur, err = h.s.Procedure(ctx, id); err != nil {
		return err
	}
	f.Values["version"] = strconv.FormatInt(cur.Version, 10)
	v, err := h.catFormView(ctx, cur, false, f)
	if err != nil {
		return err
	}
	if cur.Version != version {
		v.Stored, v.Agency = &cur, h.s.AgencyName(ctx, cur.AgencyID)
	}
	return h.pages.RenderStatus(w, r, status, "procedure_form", v)
}

// --- import and export ---

const catXLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func (h *Handlers) catTemplate(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", catXLSXType)
	w.Header().Set("Content-Disposition", `attachment; filename="mau-danh-muc-thu-tuc.xlsx"`)
	w.Header().Set("Cache-Control", "no-store")
	return h.s.CatalogueTemplate(r.Context(), w)
}

func (h *Handlers) catExport(format string) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ct := catXLSXType
		if format == "csv" {
			ct = "text/csv; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", `attachment; filename="danh-muc-thu-tuc.`+format+`"`)
		w.Header().Set("Cache-Control", "no-store")
		return h.s.ExportCatalogue(r.Context(), w, format)
	}
}

type catImportView struct {
	Problems []workbook.Problem
	Sheets   bool // the problems name sheets: the file was a workbook
	Err      *apperr.Error
}

func (h *Handlers) catImportPage(w http.ResponseWriter, r *http.Request) error {
	return h.pages.Render(w, r, "procedure_import", catImportView{})
}

// catImportForm applies an uploaded workbook or CSV file, or lists every
// problem in it.
func (h *Handlers) catImportForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseMultipartForm(r, 4<<20); err != nil {
		return err
	}
	defer r.MultipartForm.RemoveAll()
	f, _, err := r.FormFile("file")
	if err != nil {
		return h.pages.RenderStatus(w, r, http.StatusUnprocessableEntity, "procedure_import",
			catImportView{Err: apperr.New(apperr.Invalid, "procedure.import.no_file")})
	}
	defer f.Close()
	res, err := h.s.ImportCatalogue(r.Context(), f)
	var we *workbook.Error
	var ae *apperr.Error
	switch {
	case errors.As(err, &we):
		v := catImportView{Problems: we.Problems}
		v.Sheets = slices.ContainsFunc(we.Problems, func(p workbook.Problem) bool { return p.Sheet != "" })
		return h.pages.RenderStatus(w, r, http.StatusUnprocessableEntity, "procedure_import", v)
	case errors.As(err, &ae) && ae.Kind == apperr.TooLarge:
		return h.pages.RenderStatus(w, r, http.StatusRequestEntityTooLarge, "procedure_import", catImportView{Err: ae})
	case errors.As(err, &ae) && ae.Kind == apperr.Invalid:
		return h.pages.RenderStatus(w, r, http.StatusUnprocessableEntity, "procedure_import", catImportView{Err: ae})
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/procedures?imported=1&created="+strconv.Itoa(res.Created)+"&updated="+strconv.Itoa(res.Updated)+
		"&unchanged="+strconv.Itoa(res.Unchanged), http.StatusSeeOther)
	return nil
}

// --- API ---

type catProcedureJSON struct {
	ID        string   `json:"id"`
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	Field     string   `json:"field"`
	Level     Level    `json:"level"`
	AgencyID  string   `json:"agency_id"`
	Agency    string   `json:"agency"`
	Days      int      `json:"days"`
	Fee       string   `json:"fee"`
	Online    Online   `json:"online"`
	Papers    []string `json:"papers"`
	Active    bool     `json:"active"`
	Version   int64    `json:"version"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

func toCatProcedureJSON(p Procedure, agency string) catProcedureJSON {
	return catProcedureJSON{ID: p.ID, Code: p.Code, Name: p.Name, Field: p.Field, Level: p.Level, AgencyID: p.AgencyID,
		Agency: cmp.Or(agency, p.AgencyID), Days: p.Days, Fee: p.Fee, Online: p.Online, Papers: append([]string{}, p.Papers...),
		Active: p.Active, Version: p.Version, CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: p.UpdatedAt.UTC().Format(time.RFC3339)}
}

// catInputJSON is a procedure as the API takes it, every field at once.
type catInputJSON struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Field    string   `json:"field"`
	Level    string   `json:"level"`
	AgencyID string   `json:"agency_id"`
	Days     int      `json:"days"`
	Fee      string   `json:"fee"`
	Online   string   `json:"online"`
	Papers   []string `json:"papers"`
}

func (j catInputJSON) procedure() Procedure {
	return Procedure{Code: j.Code, Name: j.Name, Field: j.Field, Level: Level(j.Level), AgencyID: j.AgencyID, Days: j.Days, Fee: j.Fee,
		Online: Online(j.Online), Papers: j.Papers}
}

// catAPIMaxLimit bounds one page of the API's list.
const catAPIMaxLimit = 500

func (h *Handlers) catAPIList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := catFilterOf(r.URL.Query())
	if err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, catAPIMaxLimit)
	ps, err := h.s.Procedures(ctx, f)
	if err != nil {
		return err
	}
	names, err := h.catNames(ctx)
	if err != nil {
		return err
	}
	out := make([]catProcedureJSON, len(ps))
	for i, p := range ps {
		out[i] = toCatProcedureJSON(p, names[p.AgencyID])
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"procedures": out, "limit": f.Limit, "offset": f.Offset})
}

func (h *Handlers) catAPIGet(w http.ResponseWriter, r *http.Request) error {
	p, err := h.s.Procedure(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"procedure": toCatProcedureJSON(p, h.s.AgencyName(r.Context(), p.AgencyID))})
}

func (h *Handlers) catAPICreate(w http.ResponseWriter, r *http.Request) error {
	var in catInputJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	p, err := h.s.CreateProcedure(r.Context(), in.procedure())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/procedures/"+p.ID)
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"procedure": toCatProcedureJSON(p, h.s.AgencyName(r.Context(), p.AgencyID))})
}

func (h *Handlers) catAPIUpdate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		catInputJSON
		Active  *bool  `json:"active"`
		Version *int64 `json:"version"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version == nil {
		// Without it a save could silently overwrite another person's.
		return apperr.InvalidFields(map[string]string{"version": "procedure.version_required"})
	}
	ctx := r.Context()
	id := r.PathValue("id")
	cur, err := h.s.Procedure(ctx, id)
	if err != nil {
		return err
	}
	p := in.procedure()
	p.Active = cur.Active
	if in.Active != nil {
		p.Active = *in.Active
	}
	if p, err = h.s.UpdateProcedure(ctx, id, p, *in.Version); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"procedure": toCatProcedureJSON(p, h.s.AgencyName(ctx, p.AgencyID))})
}

// --- working calendar ---

// calDay is one listed day of a year's calendar.
type calDay struct {
	Date     time.Time
	ISO      string // YYYY-MM-DD, the day's id in forms and the API
	Name     string
	Kind     string // public, compensatory, off, work
	Weekday  int
	Override bool // an editor's day: it can be removed
}

// calExample counts a deadline across Tết, as the page explains it.
type calExample struct {
	Days               int
	Receipt, Due       time.Time
	ReceiptDay, DueDay int // weekdays
	OffFirst, OffLast  time.Time
	Skipped            int // days off between the receipt and the due day
	Counted            []time.Time
}

type calView struct {
	Year, Prev, Next int
	Days             []calDay
	Working          int // working days in the year
	Off              int // listed days off
	Example          *calExample
	CanWrite         bool
	Form             catForm
}

// calKinds names the kinds of listed days.
var calKinds = map[workday.Kind]string{workday.Public: "public", workday.Compensatory: "compensatory", workday.DayOff: "off", workday.WorkDay: "work"}

// calHolidayKeys translates the default holidays' names, which the workday
// package gives in Vietnamese.
var calHolidayKeys = map[string]string{
	"Tết Dương lịch": "procedure.calendar.holiday.new_year", "Tết Nguyên đán": "procedure.calendar.holiday.tet",
	"Giỗ Tổ Hùng Vương": "procedure.calendar.holiday.hung_kings", "Ngày Chiến thắng": "procedure.calendar.holiday.victory",
	"Ngày Quốc tế Lao động": "procedure.calendar.holiday.labour", "Quốc khánh": "procedure.calendar.holiday.national",
}

// calName writes a default holiday's name in the reader's language; an
// editor's note is shown as it was written.
func calName(l *web.Localizer, h workday.Holiday) string {
	if h.Kind != workday.Public && h.Kind != workday.Compensatory {
		return h.Name
	}
	name, comp := h.Name, false
	if h.Kind == workday.Compensatory {
		name, comp = strings.TrimPrefix(h.Name, "Nghỉ bù "), true
	}
	parts := strings.Split(name, ", ")
	for i, p := range parts {
		if k, ok := calHolidayKeys[p]; ok {
			parts[i] = l.T(k)
		}
	}
	name = strings.Join(parts, ", ")
	if comp {
		return l.T("procedure.calendar.compensatory_for", name)
	}
	return name
}

// calYearOf reads ?year=, today's year when absent.
func (h *Handlers) calYearOf(q url.Values) (int, error) {
	v := strings.TrimSpace(q.Get("year"))
	if v == "" {
		y, _, _ := h.s.Today().Date()
		return y, nil
	}
	y, err := strconv.Atoi(v)
	if err != nil || y < 2000 || y > 2100 {
		return 0, apperr.InvalidFields(map[string]string{"year": "procedure.calendar.year_invalid"})
	}
	return y, nil
}

func (h *Handlers) calView(r *http.Request, year int, f catForm) (calView, error) {
	ctx := r.Context()
	v := calView{Year: year, Prev: year - 1, Next: year + 1, CanWrite: catMayEdit(ctx), Form: f}
	cal, err := h.s.Calendar(ctx)
	if err != nil {
		return v, err
	}
	mine, err := h.s.CalendarDays(ctx)
	if err != nil {
		return v, err
	}
	own := map[workday.Day]bool{}
	for _, d := range mine {
		own[d.Day] = true
	}
	l := h.ui.Catalog.For(web.LangOf(r))
	for _, hd := range cal.Holidays(year) {
		v.Days = append(v.Days, calDay{Date: hd.Day.Time(), ISO: hd.Day.String(), Name: calName(l, hd), Kind: calKinds[hd.Kind],
			Weekday: int(hd.Day.Weekday()), Override: own[hd.Day]})
		if hd.Kind != workday.WorkDay {
			v.Off++
		}
	}
	v.Working = cal.WorkingDaysBetween(workday.Date(year-1, time.December, 31), workday.Date(year, time.December, 31))
	// The example: a dossier received on the last working day before Tết,
	// due three working days later.
	if tet, ok := workday.FromLunar(workday.LunarDate{Year: year, Month: 1, Day: 1}); ok {
		receipt := tet - 2
		for !cal.IsWorkingDay(receipt) {
			receipt--
		}
		due := cal.AddWorkingDays(receipt, 3)
		ex := &calExample{Days: 3, Receipt: receipt.Time(), ReceiptDay: int(receipt.Weekday()), Due: due.Time(), DueDay: int(due.Weekday())}
		for d := receipt + 1; d <= due; d++ {
			switch {
			case cal.IsWorkingDay(d):
				ex.Counted = append(ex.Counted, d.Time())
			case ex.Skipped == 0:
				ex.OffFirst, ex.OffLast, ex.Skipped = d.Time(), d.Time(), 1
			default:
				ex.OffLast = d.Time()
				ex.Skipped++
			}
		}
		v.Example = ex
	}
	return v, nil
}

func (h *Handlers) calendarPage(w http.ResponseWriter, r *http.Request) error {
	year, err := h.calYearOf(r.URL.Query())
	if err != nil {
		return err
	}
	f := newCatForm()
	f.Values["kind"] = "off"
	v, err := h.calView(r, year, f)
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "calendar", v)
}

// calDayOf reads a calendar day from a form's day (dd/mm/yyyy), kind and
// note, naming every field that is wrong.
func calDayOf(day, kind, note string) (CalendarDay, error) {
	bad := map[string]string{}
	var d CalendarDay
	t, err := web.ParseDate(day)
	if err != nil {
		bad["day"] = "error.date_invalid"
	}
	d.Day = workday.DayOf(t)
	switch kind {
	case "off":
		d.Off = true
	case "work":
	default:
		bad["kind"] = "procedure.calendar.kind_invalid"
	}
	if d.Note = strings.TrimSpace(note); d.Note == "" {
		bad["note"] = "procedure.calendar.note_required"
	}
	if len(bad) > 0 {
		return d, apperr.InvalidFields(bad)
	}
	return d, nil
}

func (h *Handlers) calendarSetForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := newCatForm()
	for _, k := range []string{"day", "kind", "note"} {
		f.Values[k] = r.PostFormValue(k)
	}
	d, err := calDayOf(f.Values["day"], f.Values["kind"], f.Values["note"])
	if err == nil {
		if err = h.s.SetCalendarDay(r.Context(), d); err == nil {
			y, _, _ := d.Day.Date()
			http.Redirect(w, r, "/procedures/calendar?year="+strconv.Itoa(y)+"&ok=flash.procedure_calendar_set#day-"+d.Day.String(), http.StatusSeeOther)
			return nil
		}
	}
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	year, yerr := h.calYearOf(url.Values{"year": {r.PostFormValue("year")}})
	if yerr != nil {
		year, _, _ = h.s.Today().Date()
	}
	v, err := h.calView(r, year, f)
	if err != nil {
		return err
	}
	return h.pages.RenderStatus(w, r, status, "calendar", v)
}

// calDayID reads a day's id, YYYY-MM-DD; anything else names no day.
func calDayID(id string) (workday.Day, error) {
	t, err := time.Parse(time.DateOnly, id)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "procedure.calendar_day_not_found")
	}
	return workday.Date(t.Year(), t.Month(), t.Day()), nil
}

func (h *Handlers) calendarDeleteForm(w http.ResponseWriter, r *http.Request) error {
	day, err := calDayID(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.s.DeleteCalendarDay(r.Context(), day); err != nil {
		return err
	}
	y, _, _ := day.Date()
	http.Redirect(w, r, "/procedures/calendar?year="+strconv.Itoa(y)+"&ok=flash.procedure_calendar_deleted", http.StatusSeeOther)
	return nil
}

type calDayJSON struct {
	Day      string `json:"day"`
	Weekday  int    `json:"weekday"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Override bool   `json:"override"`
}

func (h *Handlers) calendarAPI(w http.ResponseWriter, r *http.Request) error {
	year, err := h.calYearOf(r.URL.Query())
	if err != nil {
		return err
	}
	v, err := h.calView(r, year, newCatForm())
	if err != nil {
		return err
	}
	days := make([]calDayJSON, len(v.Days))
	for i, d := range v.Days {
		days[i] = calDayJSON{Day: d.ISO, Weekday: d.Weekday, Name: d.Name, Kind: d.Kind, Override: d.Override}
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"year": year, "working_days": v.Working, "days_off": v.Off, "days": days})
}

func (h *Handlers) calendarAPISet(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Off  *bool  `json:"off"`
		Note string `json:"note"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	t, err := time.Parse(time.DateOnly, r.PathValue("id"))
	bad := map[string]string{}
	if err != nil {
		bad["day"] = "error.date_invalid"
	}
	if in.Off == nil {
		bad["off"] = "procedure.calendar.kind_invalid"
	}
	if strings.TrimSpace(in.Note) == "" {
		bad["note"] = "procedure.calendar.note_required"
	}
	if len(bad) > 0 {
		return apperr.InvalidFields(bad)
	}
	d := CalendarDay{Day: workday.Date(t.Year(), t.Month(), t.Day()), Off: *in.Off, Note: strings.TrimSpace(in.Note)}
	if err := h.s.SetCalendarDay(r.Context(), d); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"day": map[string]any{"day": d.Day.String(), "off": d.Off, "note": d.Note}})
}

func (h *Handlers) calendarAPIDelete(w http.ResponseWriter, r *http.Request) error {
	day, err := calDayID(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.s.DeleteCalendarDay(r.Context(), day); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- reassignment ---

type reassignSample struct {
	Dossier
	Due time.Time
}

type reassignDone struct {
	From, To             string // names
	Procedures, Dossiers int
}

type reassignWardDone struct {
	From, To, ToName string
	Dossiers         int
}

type reassignView struct {
	Former   []Agency
	From     string
	Preview  *Reassignment
	Sample   []reassignSample
	Choices  []Agency // whom the work may go to
	Free     bool     // the register names no successor: any current agency
	Form     catForm  // from, to
	WardForm catForm  // from_ward, to_ward
	Done     *reassignDone
	WardDone *reassignWardDone
}

func (h *Handlers) reassignView(ctx context.Context, from string, f, wf catForm) (reassignView, error) {
	v := reassignView{From: from, Form: f, WardForm: wf}
	var err error
	if v.Former, err = h.s.FormerAgencies(ctx); err != nil {
		return v, err
	}
	if from == "" {
		return v, nil
	}
	p, err := h.s.PreviewReassign(ctx, from)
	if err != nil {
		return v, err
	}
	v.Preview = &p
	for _, d := range p.Sample {
		v.Sample = append(v.Sample, reassignSample{Dossier: d, Due: workday.Day(d.DueDay).Time()})
	}
	v.Choices = p.Targets
	if len(p.Targets) == 0 {
		v.Free = true
		if v.Choices, err = h.s.Agencies(ctx); err != nil {
			return v, err
		}
	}
	if v.Form.Values["to"] == "" && len(v.Choices) == 1 {
		v.Form.Values["to"] = v.Choices[0].ID
	}
	return v, nil
}

func (h *Handlers) reassignPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	f, wf := newCatForm(), newCatForm()
	from := strings.TrimSpace(q.Get("from"))
	f.Values["from"] = from
	v, err := h.reassignView(ctx, from, f, wf)
	if err != nil {
		return err
	}
	atoi := func(k string) int { n, _ := strconv.Atoi(q.Get(k)); return max(n, 0) }
	if q.Get("moved") == "1" {
		v.Done = &reassignDone{From: h.s.AgencyName(ctx, from), To: h.s.AgencyName(ctx, q.Get("to")), Procedures: atoi("procedures"),
			Dossiers: atoi("dossiers")}
	}
	if q.Has("ward_moved") {
		v.WardDone = &reassignWardDone{From: q.Get("from_ward"), To: q.Get("to_ward"), ToName: h.s.WardName(ctx, q.Get("to_ward")), Dossiers: atoi("ward_moved")}
	}
	return h.pages.Render(w, r, "reassign", v)
}

func (h *Handlers) reassignForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	f := newCatForm()
	from, to := strings.TrimSpace(r.PostFormValue("from")), strings.TrimSpace(r.PostFormValue("to"))
	f.Values["from"], f.Values["to"] = from, to
	var err error
	var procs, dossiers int
	switch {
	case from == "":
		err = apperr.InvalidFields(map[string]string{"from": "procedure.agency_required"})
	case to == "":
		err = apperr.InvalidFields(map[string]string{"to": "procedure.agency_required"})
	default:
		procs, dossiers, err = h.s.ReassignAgency(ctx, from, to)
	}
	if err == nil {
		q := url.Values{"from": {from}, "to": {to}, "moved": {"1"}, "procedures": {strconv.Itoa(procs)}, "dossiers": {strconv.Itoa(dossiers)}}
		http.Redirect(w, r, "/procedures/reassign?"+q.Encode(), http.StatusSeeOther)
		return nil
	}
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	if _, ok := f.Errors["from"]; ok {
		from = ""
	}
	v, err := h.reassignView(ctx, from, f, newCatForm())
	if err != nil {
		return err
	}
	return h.pages.RenderStatus(w, r, status, "reassign", v)
}

// catWardCode reports whether s has a ward code's form: five digits.
func catWardCode(s string) bool {
	if len(s) != 5 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (h *Handlers) reassignWardForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	wf := newCatForm()
	from, to := strings.TrimSpace(r.PostFormValue("from_ward")), strings.TrimSpace(r.PostFormValue("to_ward"))
	wf.Values["from_ward"], wf.Values["to_ward"] = from, to
	bad := map[string]string{}
	if !catWardCode(from) {
		bad["from_ward"] = "procedure.reassign.ward_code_invalid"
	}
	if !catWardCode(to) {
		bad["to_ward"] = "procedure.reassign.ward_code_invalid"
	} else if from == to {
		bad["to_ward"] = "procedure.reassign.ward_same"
	}
	var err error
	n := 0
	if len(bad) > 0 {
		err = apperr.InvalidFields(bad)
	} else if n, err = h.s.ReassignWard(ctx, from, to); err == nil {
		q := url.Values{"ward_moved": {strconv.Itoa(n)}, "from_ward": {from}, "to_ward": {to}}
		http.Redirect(w, r, "/procedures/reassign?"+q.Encode(), http.StatusSeeOther)
		return nil
	}
	// The service names the new ward "to".
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Field["to"] != "" {
		err = apperr.InvalidFields(map[string]string{"to_ward": ae.Field["to"]})
	}
	status, err := wf.Take(err)
	if err != nil {
		return err
	}
	v, err := h.reassignView(ctx, "", newCatForm(), wf)
	if err != nil {
		return err
	}
	return h.pages.RenderStatus(w, r, status, "reassign", v)
}

type catAgencyJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Code    string `json:"code"`
	Current bool   `json:"current"`
}

func toCatAgencyJSON(as []Agency) []catAgencyJSON {
	out := make([]catAgencyJSON, len(as))
	for i, a := range as {
		out[i] = catAgencyJSON{ID: a.ID, Name: a.Name, Code: a.Code, Current: a.Current}
	}
	return out
}

// reassignAPI previews (dry_run) or moves an old agency's procedures and
// open dossiers to a successor.
func (h *Handlers) reassignAPI(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		From   string `json:"from"`
		To     string `json:"to"`
		DryRun bool   `json:"dry_run"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	bad := map[string]string{}
	if in.From = strings.TrimSpace(in.From); in.From == "" {
		bad["from"] = "procedure.agency_required"
	}
	if in.To = strings.TrimSpace(in.To); in.To == "" && !in.DryRun {
		bad["to"] = "procedure.agency_required"
	}
	if len(bad) > 0 {
		return apperr.InvalidFields(bad)
	}
	if in.DryRun {
		p, err := h.s.PreviewReassign(ctx, in.From)
		if err != nil {
			return err
		}
		sample := make([]map[string]any, len(p.Sample))
		for i, d := range p.Sample {
			sample[i] = map[string]any{"id": d.ID, "code": d.Code, "status": d.Status, "received_at": d.ReceivedAt.UTC().Format(time.RFC3339),
				"due_day": workday.Day(d.DueDay).String()}
		}
		return web.WriteJSON(w, http.StatusOK, map[string]any{"dry_run": true, "from": toCatAgencyJSON([]Agency{p.From})[0],
			"targets": toCatAgencyJSON(p.Targets), "procedures": p.Procedures, "open_dossiers": p.OpenDossiers, "sample": sample})
	}
	procs, dossiers, err := h.s.ReassignAgency(ctx, in.From, in.To)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"dry_run": false, "from": in.From, "to": in.To, "procedures": procs, "dossiers": dossiers})
}

// catForm is a page's form; see web.Form.
type catForm = web.Form

func newCatForm() catForm { return web.NewForm() }
