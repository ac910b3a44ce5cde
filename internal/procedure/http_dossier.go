package procedure

import (
	"context"
	"hopnhat/internal/platform/ratelimit"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/qr"
	"hopnhat/internal/platform/web"
	"hopnhat/internal/procedure/workday"
)

// dossierHandlers serve the dossiers, their receipts, public tracking and
// the statistics. They hold the tracking rate limiter, one per server.
type dossierHandlers struct {
	*Handlers
	track     *ratelimit.Limiter // public lookups per client address
	trackCode *ratelimit.Limiter // public lookups per dossier code
}

// registerDossiers adds the dossiers', tracking's and statistics' routes.
func (h *Handlers) registerDossiers(rt *web.Router) {
	d := &dossierHandlers{Handlers: h, track: newTrackLimiter(h.trackRate), trackCode: newCodeLimiter(h.trackRate)}
	rt.Handle("GET /dossiers", dossierReaders, d.listPage)
	rt.Handle("GET /dossiers/new", officers, d.newPage)
	rt.Handle("POST /dossiers", officers, d.receiveForm)
	rt.Handle("GET /dossiers/{id}", dossierReaders, d.dossierPage)
	rt.Handle("POST /dossiers/{id}/actions", officers, d.actForm)
	rt.Handle("GET /dossiers/{id}/receipt", dossierReaders, d.receiptPage)
	rt.Handle("GET /api/v1/dossiers", dossierReaders, d.apiList)
	rt.Handle("POST /api/v1/dossiers", officers, d.apiReceive)
	rt.Handle("GET /api/v1/dossiers/{id}", dossierReaders, d.apiDossier)
	rt.Handle("POST /api/v1/dossiers/{id}/actions", officers, d.apiAct)
	d.registerTrack(rt)
	d.registerStats(rt)
	h.ui.AddTile(web.Tile{Key: "dossier.tile_open", Href: "/dossiers?state=open", Rule: dossierReaders, Value: d.tileBacklog(false)})
	h.ui.AddTile(web.Tile{Key: "dossier.tile_overdue", Href: "/dossiers?state=overdue", Rule: dossierReaders, Value: d.tileBacklog(true)})
}

// tileBacklog is the dashboard figure of open or overdue dossiers in the
// reader's scope.
func (d *dossierHandlers) tileBacklog(overdue bool) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		b, err := d.s.backlogTotal(ctx)
		if err != nil {
			return "", err
		}
		if overdue {
			return strconv.Itoa(b.Overdue), nil
		}
		return strconv.Itoa(b.Open), nil
	}
}

// --- what pages share ---

// dossierOption is one entry of a select.
type dossierOption struct{ Value, Label string }

// stateBadge is how a dossier's state is shown: its key (for the words and
// the API), the badge class and the colour of its dot.
type stateBadge struct{ Key, Class, Colour string }

func badgeOf(s workday.State) stateBadge {
	switch s {
	case workday.OnTime:
		return stateBadge{"on_time", "on", "#1f7a3a"}
	case workday.DueSoon:
		return stateBadge{"due_soon", "", "#c77700"}
	case workday.Overdue:
		return stateBadge{"overdue", "off", "#b3261e"}
	case workday.Paused:
		return stateBadge{"paused", "", "#5b6576"}
	}
	return stateBadge{"unknown", "", "#5b6576"}
}

// dossierStates are the list's tabs, the service's DossierFilter.State.
var dossierStates = []string{"open", "overdue", "due_soon", "paused", "finished"}

// needsNote reports whether an action must say why: the applicant is told
// what to supplement or why it was refused, the next agency what to do.
func needsNote(a Action) bool { return a == ActRequest || a == ActReject || a == ActTransfer }

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// actorName shows who took a step: a user's name without its kind.
func actorName(a string) string { return strings.TrimPrefix(a, "user:") }

// --- the list ---

type dossierRow struct {
	Dossier
	Procedure, Agency, Ward string
	State                   stateBadge
	Due                     time.Time
	DueKnown                bool
}

type dossierTab struct {
	State, Href string
	Count       int
	Counted     bool
	Current     bool
}

type dossierListView struct {
	Rows       []dossierRow
	Filter     DossierFilter
	Tabs       []dossierTab
	Agencies   []dossierOption
	Wards      []dossierOption
	Procedures []dossierOption
	Page       int
	Prev, Next string
	Filtered   bool // a search or filter is set: the empty state says so
	CanReceive bool
}

const dossierPageSize = 50

// listFilter reads the list's filters from a query.
func listFilter(q url.Values) DossierFilter {
	return DossierFilter{Q: strings.TrimSpace(q.Get("q")), State: q.Get("state"), Status: Status(q.Get("status")),
		AgencyID: q.Get("agency"), WardCode: q.Get("ward"), ProcedureID: q.Get("procedure")}
}

// listURL is the list with filter f at page (from 1).
func listURL(f DossierFilter, page int) string {
	v := url.Values{}
	for k, x := range map[string]string{"q": f.Q, "state": f.State, "status": string(f.Status), "agency": f.AgencyID,
		"ward": f.WardCode, "procedure": f.ProcedureID} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/dossiers"
	}
	return "/dossiers?" + v.Encode()
}

// rows dresses dossiers for a list.
func (d *dossierHandlers) rows(ctx context.Context, ds []Dossier, n *dossierNames) ([]dossierRow, error) {
	cal, err := d.s.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	now := d.s.db.Now()
	out := make([]dossierRow, len(ds))
	for i, x := range ds {
		st := StateOf(cal, x, now)
		out[i] = dossierRow{Dossier: x, Procedure: n.procedure(x.ProcedureID), Agency: n.agency(x.AgencyID), Ward: n.ward(x.WardCode),
			State: badgeOf(st), Due: workday.Day(x.DueDay).Time(), DueKnown: st != workday.Paused}
	}
	return out, nil
}

func (d *dossierHandlers) listPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	f := listFilter(q)
	page, _ := strconv.Atoi(q.Get("page"))
	page = min(max(page, 1), 100000) // beyond that, a search serves better than paging
	lf := f
	lf.Limit, lf.Offset = dossierPageSize+1, (page-1)*dossierPageSize
	ds, err := d.s.Dossiers(ctx, lf)
	if err != nil {
		return err
	}
	v := dossierListView{Filter: f, Page: page, CanReceive: web.Allowed(ctx, officers),
		Filtered: f.Q != "" || f.AgencyID != "" || f.WardCode != "" || f.ProcedureID != "" || f.Status != ""}
	if len(ds) > dossierPageSize {
		ds = ds[:dossierPageSize]
		v.Next = listURL(f, page+1)
	}
	if page > 1 {
		v.Prev = listURL(f, page-1)
	}
	n := newDossierNames(ctx, d.s)
	if v.Rows, err = d.rows(ctx, ds, n); err != nil {
		return err
	}
	// The tabs count the whole scope; with a search or filter set the
	// counts would not match the rows, so they are left out.
	var total Backlog
	if !v.Filtered {
		if total, err = d.s.backlogTotal(ctx); err != nil {
			return err
		}
	}
	counts := map[string]int{"open": total.Open, "overdue": total.Overdue, "due_soon": total.DueSoon, "paused": total.Paused}
	for _, st := range append([]string{""}, dossierStates...) {
		tf := f
		tf.State = st
		c, counted := counts[st]
		v.Tabs = append(v.Tabs, dossierTab{State: st, Href: listURL(tf, 1), Count: c, Counted: counted && !v.Filtered, Current: st == f.State})
	}
	if v.Agencies, v.Wards, v.Procedures, err = d.filterOptions(ctx, n); err != nil {
		return err
	}
	return d.pages.Render(w, r, "dossiers", v)
}

// filterOptions lists the agencies, wards and procedures the filters offer:
// the merged province's agencies and whatever the caller's dossiers were
// received by, for, or in.
func (d *dossierHandlers) filterOptions(ctx context.Context, n *dossierNames) (agencies, wards, procedures []dossierOption, err error) {
	seen := map[string]bool{}
	current, err := d.s.Agencies(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, a := range current {
		seen[a.ID] = true
		n.agencies[a.ID] = a.Name
		agencies = append(agencies, dossierOption{a.ID, a.Name})
	}
	for _, dim := range []string{"agency", "ward", "procedure"} {
		fs, err := d.s.Stats(ctx, dim, StatFilter{})
		if err != nil {
			return nil, nil, nil, err
		}
		for _, x := range fs {
			switch {
			case x.Key == "":
			case dim == "agency" && !seen[x.Key]:
				agencies = append(agencies, dossierOption{x.Key, n.agency(x.Key)})
			case dim == "ward":
				wards = append(wards, dossierOption{x.Key, n.ward(x.Key)})
			case dim == "procedure":
				procedures = append(procedures, dossierOption{x.Key, n.procedure(x.Key)})
			}
		}
	}
	byLabel := func(a, b dossierOption) int { return strings.Compare(a.Label, b.Label) }
	slices.SortFunc(wards, byLabel)
	slices.SortFunc(procedures, byLabel)
	return agencies, wards, procedures, nil
}

// --- receiving ---

type receiveView struct {
	Procedures []Procedure
	Procedure  *Procedure // the one chosen, with its papers
	Agencies   []Agency
	Channels   []Channel
	Form       dossierForm
}

func (d *dossierHandlers) receiveView(ctx context.Context, f dossierForm) (receiveView, error) {
	v := receiveView{Channels: Channels, Form: f}
	var err error
	if v.Procedures, err = d.s.Procedures(ctx, ProcedureFilter{Active: true, Limit: 5000}); err != nil {
		return v, err
	}
	if v.Agencies, err = d.s.Agencies(ctx); err != nil {
		return v, err
	}
	if id := f.Values["procedure_id"]; id != "" {
		if p, err := d.s.Procedure(ctx, id); err == nil && p.Active {
			v.Procedure = &p
		} else if err != nil && !apperr.Is(err, apperr.NotFound) {
			return v, err
		}
	}
	return v, nil
}

func (d *dossierHandlers) newPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f := newDossierForm()
	f.Values["channel"] = string(Desk)
	f.Values["procedure_id"] = r.URL.Query().Get("procedure_id")
	v, err := d.receiveView(ctx, f)
	if err != nil {
		return err
	}
	if v.Procedure != nil {
		if v.Form.Values["agency_id"], err = d.s.receiveAgency(ctx, *v.Procedure); err != nil {
			return err
		}
		for _, p := range v.Procedure.Papers {
			v.Form.Checked[p] = true // what the applicant usually brings; the officer unticks what is missing
		}
	}
	return d.pages.Render(w, r, "dossier_form", v)
}

// papersOf reads the papers of a receive form: the procedure's ticked, in
// its order, then the lines typed, each once.
func papersOf(ticked []string, other string, p *Procedure) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if p != nil {
		for _, x := range p.Papers {
			if slices.Contains(ticked, x) {
				add(x)
			}
		}
	}
	for _, x := range ticked {
		add(x)
	}
	for l := range strings.Lines(other) {
		add(l)
	}
	return out
}

func (d *dossierHandlers) receiveForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	f := newDossierForm()
	for _, k := range []string{"procedure_id", "channel", "applicant", "citizen_id", "phone", "address", "other_papers", "note", "agency_id"} {
		f.Values[k] = r.PostFormValue(k)
	}
	for _, p := range r.PostForm["papers"] {
		f.Checked[p] = true
	}
	var proc *Procedure
	if p, err := d.s.Procedure(ctx, f.Values["procedure_id"]); err == nil {
		proc = &p
	}
	in := ReceiveInput{ProcedureID: f.Values["procedure_id"], Channel: Channel(f.Values["channel"]), Applicant: f.Values["applicant"],
		CitizenID: f.Values["citizen_id"], Phone: f.Values["phone"], Address: f.Values["address"], AgencyID: f.Values["agency_id"],
		Note: f.Values["note"], Papers: papersOf(r.PostForm["papers"], f.Values["other_papers"], proc)}
	x, err := d.s.Receive(ctx, in)
	if err == nil {
		http.Redirect(w, r, "/dossiers/"+url.PathEscape(x.ID)+"?ok=flash.dossier_received", http.StatusSeeOther)
		return nil
	}
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	v, err := d.receiveView(ctx, f)
	if err != nil {
		return err
	}
	return d.pages.RenderStatus(w, r, status, "dossier_form", v)
}

// --- one dossier ---

type stepRow struct {
	Step
	Agency, Actor string
}

type shareRow struct {
	Agency   string
	Days     int
	Late     int
	DaysPct  float64
	LatePct  float64
	Holder   string
	IsHolder bool // holds the dossier now
}

type actionView struct {
	Action    Action
	NeedsNote bool
	Transfer  bool
}

type dossierView struct {
	D           Dossier
	Procedure   Procedure
	Agency      string
	Ward        string
	AddressWard string
	State       stateBadge
	Clock       Clock
	Due         time.Time
	Shares      []shareRow
	Steps       []stepRow
	Actions     []actionView
	Agencies    []Agency // where a transfer may go
	CanAct      bool
	Form        dossierForm
	FormAction  Action // the action whose form was refused
	Stale       bool   // someone else acted first: this is the fresh state
}

func (d *dossierHandlers) dossierView(ctx context.Context, id string) (dossierView, error) {
	x, err := d.s.Dossier(ctx, id)
	if err != nil {
		return dossierView{}, err
	}
	v := dossierView{D: x, CanAct: web.Allowed(ctx, officers), Form: newDossierForm()}
	if v.Procedure, err = d.s.Procedure(ctx, x.ProcedureID); err != nil && !apperr.Is(err, apperr.NotFound) {
		return v, err
	}
	if v.Procedure.ID == "" {
		v.Procedure = Procedure{ID: x.ProcedureID, Name: x.ProcedureID}
	}
	n := newDossierNames(ctx, d.s)
	v.Agency, v.Ward, v.AddressWard = n.agency(x.AgencyID), n.ward(x.WardCode), n.ward(x.AddressWard)
	st, err := d.s.Steps(ctx, x.ID)
	if err != nil {
		return v, err
	}
	if v.Clock, err = d.s.ClockOf(ctx, x, st); err != nil {
		return v, err
	}
	v.State, v.Due = badgeOf(v.Clock.State), v.Clock.Due.Time()
	total := 0
	for _, sh := range v.Clock.Shares {
		total += sh.Days
	}
	for _, sh := range v.Clock.Shares {
		row := shareRow{Agency: n.agency(sh.Holder), Holder: sh.Holder, Days: sh.Days, Late: sh.Late, IsHolder: sh.Holder == x.AgencyID}
		if total > 0 {
			row.DaysPct = 100 * float64(sh.Days) / float64(total)
		}
		if v.Clock.Late > 0 {
			row.LatePct = 100 * float64(sh.Late) / float64(v.Clock.Late)
		}
		v.Shares = append(v.Shares, row)
	}
	for _, s := range st {
		v.Steps = append(v.Steps, stepRow{Step: s, Agency: n.agency(s.AgencyID), Actor: actorName(s.Actor)})
	}
	if v.CanAct {
		for _, a := range Allowed(x.Status) {
			v.Actions = append(v.Actions, actionView{Action: a, NeedsNote: needsNote(a), Transfer: a == ActTransfer})
			if a == ActTransfer {
				all, err := d.s.Agencies(ctx)
				if err != nil {
					return v, err
				}
				v.Agencies = slices.DeleteFunc(all, func(a Agency) bool { return a.ID == x.AgencyID })
			}
		}
	}
	return v, nil
}

func (d *dossierHandlers) dossierPage(w http.ResponseWriter, r *http.Request) error {
	v, err := d.dossierView(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return d.pages.Render(w, r, "dossier", v)
}

func (d *dossierHandlers) actForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("id")
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	in := ActInput{Action: Action(r.PostFormValue("action")), Note: r.PostFormValue("note"), AgencyID: r.PostFormValue("agency_id"), Version: version}
	_, err := d.s.Act(ctx, id, in)
	if err == nil {
		http.Redirect(w, r, "/dossiers/"+url.PathEscape(id)+"?ok=flash.dossier_"+string(in.Action), http.StatusSeeOther)
		return nil
	}
	f := newDossierForm()
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	// The page is read again: after a conflict it shows what someone else
	// did, and the forms carry the fresh version.
	v, verr := d.dossierView(ctx, id)
	if verr != nil {
		return verr
	}
	if status == http.StatusConflict {
		v.Stale = true
	} else {
		f.Values["note"], f.Values["agency_id"] = in.Note, in.AgencyID
		v.Form, v.FormAction = f, in.Action
	}
	return d.pages.RenderStatus(w, r, status, "dossier", v)
}

// --- the receipt ---

type receiptView struct {
	D         Dossier
	Procedure Procedure
	Agency    string
	Ward      string
	Due       time.Time
	DueKnown  bool
	TrackURL  string // with the code, in the QR code
	TrackPage string // without it, to type
	QR        template.HTML
}

// trackURL is the absolute address of the tracking page for code, as the
// request reached us: the receipt is read from paper, on a phone.
func trackURL(r *http.Request, code string) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: "/tra-cuu", RawQuery: url.Values{"ma": {code}}.Encode()}
	return u.String()
}

func (d *dossierHandlers) receiptPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	x, err := d.s.Dossier(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := receiptView{D: x, TrackURL: trackURL(r, x.Code)}
	v.TrackPage, _, _ = strings.Cut(v.TrackURL, "?")
	if v.Procedure, err = d.s.Procedure(ctx, x.ProcedureID); err != nil {
		return err
	}
	st, err := d.s.Steps(ctx, x.ID)
	if err != nil {
		return err
	}
	c, err := d.s.ClockOf(ctx, x, st)
	if err != nil {
		return err
	}
	v.Due, v.DueKnown = c.Due.Time(), c.DueKnown
	n := newDossierNames(ctx, d.s)
	v.Agency, v.Ward = n.agency(x.AgencyID), n.ward(x.AddressWard)
	code, err := qr.Encode([]byte(v.TrackURL), qr.M)
	if err != nil {
		return err
	}
	// The SVG holds no caller text: only numbers the encoder wrote.
	v.QR = template.HTML(code.SVG(5, 4))
	return d.pages.Render(w, r, "receipt", v)
}

// --- API ---

type dossierJSON struct {
	ID              string   `json:"id"`
	Code            string   `json:"code"`
	OldCodes        []string `json:"old_codes"`
	ProcedureID     string   `json:"procedure_id"`
	ProcedureName   string   `json:"procedure_name"`
	AgencyID        string   `json:"agency_id"`
	AgencyName      string   `json:"agency_name"`
	WardCode        string   `json:"ward_code"`
	WardName        string   `json:"ward_name"`
	Channel         Channel  `json:"channel"`
	Applicant       string   `json:"applicant"`
	CitizenID       string   `json:"citizen_id"`
	Phone           string   `json:"phone"`
	Address         string   `json:"address"`
	AddressWard     string   `json:"address_ward"`
	AddressWardName string   `json:"address_ward_name"`
	Papers          []string `json:"papers"`
	Status          Status   `json:"status"`
	State           string   `json:"state"`
	Days            int      `json:"days"`
	ReceivedAt      string   `json:"received_at"`
	DueDate         string   `json:"due_date"`
	DueKnown        bool     `json:"due_known"`
	PausedAt        string   `json:"paused_at,omitempty"`
	PausedDays      int      `json:"paused_days"`
	FinishedAt      string   `json:"finished_at,omitempty"`
	ReturnedAt      string   `json:"returned_at,omitempty"`
	LateDays        int      `json:"late_days"`
	Version         int64    `json:"version"`
	Allowed         []Action `json:"allowed_actions"`
	CreatedAt       string   `json:"created_at"`
	UpdatedAt       string   `json:"updated_at"`
}

func toDossierJSON(x Dossier, st workday.State, n *dossierNames) dossierJSON {
	j := dossierJSON{ID: x.ID, Code: x.Code, OldCodes: append([]string{}, x.Aliases...), ProcedureID: x.ProcedureID,
		ProcedureName: n.procedure(x.ProcedureID), AgencyID: x.AgencyID, AgencyName: n.agency(x.AgencyID), WardCode: x.WardCode,
		WardName: n.ward(x.WardCode), Channel: x.Channel, Applicant: x.Applicant, CitizenID: x.CitizenID, Phone: x.Phone,
		Address: x.Address, AddressWard: x.AddressWard, AddressWardName: n.ward(x.AddressWard), Papers: append([]string{}, x.Papers...),
		Status: x.Status, State: badgeOf(st).Key, Days: x.Days, ReceivedAt: rfc3339(x.ReceivedAt),
		DueDate: workday.Day(x.DueDay).String(), DueKnown: st != workday.Paused, PausedAt: rfc3339(x.PausedAt), PausedDays: x.PausedDays,
		FinishedAt: rfc3339(x.FinishedAt), ReturnedAt: rfc3339(x.ReturnedAt), LateDays: x.LateDays, Version: x.Version,
		Allowed: append([]Action{}, Allowed(x.Status)...), CreatedAt: rfc3339(x.CreatedAt), UpdatedAt: rfc3339(x.UpdatedAt)}
	return j
}

type stepJSON struct {
	Seq        int    `json:"seq"`
	Action     Action `json:"action"`
	Status     Status `json:"status"`
	AgencyID   string `json:"agency_id"`
	AgencyName string `json:"agency_name"`
	Actor      string `json:"actor"`
	At         string `json:"at"`
	Note       string `json:"note"`
}

type shareJSON struct {
	AgencyID   string `json:"agency_id"`
	AgencyName string `json:"agency_name"`
	Days       int    `json:"days"`
	LateDays   int    `json:"late_days"`
}

type clockJSON struct {
	State    string      `json:"state"`
	DueDate  string      `json:"due_date"`
	DueKnown bool        `json:"due_known"`
	LateDays int         `json:"late_days"`
	Shares   []shareJSON `json:"shares"`
}

func (d *dossierHandlers) apiList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	f := DossierFilter{Q: strings.TrimSpace(q.Get("q")), State: q.Get("state"), Status: Status(q.Get("status")),
		AgencyID: q.Get("agency_id"), WardCode: q.Get("ward_code"), ProcedureID: q.Get("procedure_id")}
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		return apperr.InvalidFields(map[string]string{"status": "dossier.status_invalid"})
	}
	bad := map[string]string{}
	var err error
	if s := q.Get("limit"); s != "" {
		if f.Limit, err = strconv.Atoi(s); err != nil || f.Limit < 1 || f.Limit > 1000 {
			bad["limit"] = "dossier.limit_invalid"
		}
	}
	if s := q.Get("offset"); s != "" {
		if f.Offset, err = strconv.Atoi(s); err != nil || f.Offset < 0 {
			bad["offset"] = "dossier.offset_invalid"
		}
	}
	if len(bad) > 0 {
		return apperr.InvalidFields(bad)
	}
	if f.Limit == 0 {
		f.Limit = dossierPageSize
	}
	ds, err := d.s.Dossiers(ctx, f)
	if err != nil {
		return err
	}
	cal, err := d.s.Calendar(ctx)
	if err != nil {
		return err
	}
	now := d.s.db.Now()
	n := newDossierNames(ctx, d.s)
	out := make([]dossierJSON, len(ds))
	for i, x := range ds {
		out[i] = toDossierJSON(x, StateOf(cal, x, now), n)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"dossiers": out, "limit": f.Limit, "offset": f.Offset})
}

// dossierDetail is a dossier with its steps and clock, as the API gives it.
func (d *dossierHandlers) dossierDetail(ctx context.Context, x Dossier) (map[string]any, error) {
	st, err := d.s.Steps(ctx, x.ID)
	if err != nil {
		return nil, err
	}
	c, err := d.s.ClockOf(ctx, x, st)
	if err != nil {
		return nil, err
	}
	n := newDossierNames(ctx, d.s)
	steps := make([]stepJSON, len(st))
	for i, s := range st {
		steps[i] = stepJSON{Seq: s.Seq, Action: s.Action, Status: s.Status, AgencyID: s.AgencyID, AgencyName: n.agency(s.AgencyID),
			Actor: s.Actor, At: rfc3339(s.At), Note: s.Note}
	}
	cj := clockJSON{State: badgeOf(c.State).Key, DueDate: c.Due.String(), DueKnown: c.DueKnown, LateDays: c.Late, Shares: []shareJSON{}}
	for _, sh := range c.Shares {
		cj.Shares = append(cj.Shares, shareJSON{AgencyID: sh.Holder, AgencyName: n.agency(sh.Holder), Days: sh.Days, LateDays: sh.Late})
	}
	return map[string]any{"dossier": toDossierJSON(x, c.State, n), "steps": steps, "clock": cj}, nil
}

func (d *dossierHandlers) apiDossier(w http.ResponseWriter, r *http.Request) error {
	x, err := d.s.Dossier(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out, err := d.dossierDetail(r.Context(), x)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// receiveJSON is a dossier as the API takes it.
type receiveJSON struct {
	ProcedureID string   `json:"procedure_id"`
	Channel     string   `json:"channel"`
	Applicant   string   `json:"applicant"`
	CitizenID   string   `json:"citizen_id"`
	Phone       string   `json:"phone"`
	Address     string   `json:"address"`
	Papers      []string `json:"papers"`
	WardCode    string   `json:"ward_code"`
	AgencyID    string   `json:"agency_id"`
	Note        string   `json:"note"`
}

func (d *dossierHandlers) apiReceive(w http.ResponseWriter, r *http.Request) error {
	var in receiveJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	if in.AgencyID == "" {
		if p, err := d.s.Procedure(ctx, in.ProcedureID); err == nil {
			if in.AgencyID, err = d.s.receiveAgency(ctx, p); err != nil {
				return err
			}
		}
	}
	x, err := d.s.Receive(ctx, ReceiveInput{ProcedureID: in.ProcedureID, Channel: Channel(in.Channel), Applicant: in.Applicant,
		CitizenID: in.CitizenID, Phone: in.Phone, Address: in.Address, Papers: in.Papers, WardCode: in.WardCode, AgencyID: in.AgencyID,
		Note: in.Note})
	if err != nil {
		return err
	}
	out, err := d.dossierDetail(ctx, x)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/dossiers/"+url.PathEscape(x.ID))
	return web.WriteJSON(w, http.StatusCreated, out)
}

func (d *dossierHandlers) apiAct(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Action   string `json:"action"`
		Note     string `json:"note"`
		AgencyID string `json:"agency_id"`
		Version  *int64 `json:"version"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version == nil {
		// Without it an action could be taken on a state the caller never saw.
		return apperr.InvalidFields(map[string]string{"version": "dossier.version_required"})
	}
	x, err := d.s.Act(r.Context(), r.PathValue("id"), ActInput{Action: Action(in.Action), Note: in.Note, AgencyID: in.AgencyID, Version: *in.Version})
	if err != nil {
		return err
	}
	out, err := d.dossierDetail(r.Context(), x)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// dossierForm is a page's form; see web.Form.
type dossierForm = web.Form

func newDossierForm() dossierForm { return web.NewForm() }
