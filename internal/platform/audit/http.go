package audit

import (
	"context"
	"embed"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

//go:embed pages/*.html
var pageFS embed.FS

// Handlers serves the audit trail page and API.
type Handlers struct {
	db    *db.DB
	ui    *web.UI
	pages *web.Pages
}

// NewHandlers parses the audit pages.
func NewHandlers(d *db.DB, ui *web.UI) (*Handlers, error) {
	ps, err := ui.Pages(pageFS, "pages")
	if err != nil {
		return nil, err
	}
	admins := web.Roles(reqctx.RoleAdmin)
	ui.AddNav(web.NavLink{Key: "nav.audit", Href: "/audit", Rule: admins})
	ui.AddTile(web.Tile{Key: "tile.audit_entries", Href: "/audit", Rule: admins, Value: func(ctx context.Context) (string, error) {
		var n int64
		err := d.QueryRowContext(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&n)
		return strconv.FormatInt(n, 10), err
	}})
	ui.AddTile(web.Tile{Key: "tile.failed_logins", Href: "/audit?action=session.login_failed", Rule: admins, Value: func(ctx context.Context) (string, error) {
		var n int64
		err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'session.login_failed' AND at >= $1`,
			db.Micros(d.Now().Add(-24*time.Hour))).Scan(&n)
		return strconv.FormatInt(n, 10), err
	}})
	return &Handlers{db: d, ui: ui, pages: ps}, nil
}

// Register adds the routes.
func (h *Handlers) Register(rt *web.Router) {
	admins := web.Roles(reqctx.RoleAdmin)
	rt.Handle("GET /audit", admins, h.page)
	rt.Handle("GET /api/v1/audit", admins, h.api)
	rt.Handle("GET /api/v1/audit/verify", admins, h.apiVerify)
}

const pageSize = 50

// filterOf reads a Filter from the query; bad dates are a field error.
func filterOf(r *http.Request) (Filter, map[string]string, error) {
	q := r.URL.Query()
	f := Filter{
		Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		ObjectType: strings.TrimSpace(q.Get("object_type")), ObjectID: strings.TrimSpace(q.Get("object_id")), Limit: pageSize,
	}
	vals := map[string]string{"actor": f.Actor, "action": f.Action, "object_type": f.ObjectType, "object_id": f.ObjectID,
		"from": q.Get("from"), "to": q.Get("to")}
	bad := map[string]string{}
	if s := q.Get("from"); s != "" {
		t, err := parseWhen(s)
		if err != nil {
			bad["from"] = "error.date_invalid"
		}
		f.From = t
	}
	if s := q.Get("to"); s != "" {
		t, err := parseWhen(s)
		if err != nil {
			bad["to"] = "error.date_invalid"
		}
		if _, exact := time.Parse(time.RFC3339, s); exact != nil {
			t = t.AddDate(0, 0, 1) // a date: through the end of that day
		}
		f.To = t
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			bad["before"] = "error.number_invalid"
		}
		f.BeforeSeq = n
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			bad["limit"] = "error.number_invalid"
		}
		f.Limit = n
	}
	if len(bad) > 0 {
		return f, vals, apperr.InvalidFields(bad)
	}
	return f, vals, nil
}

func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return web.ParseDate(s)
}

type pageView struct {
	Rows   []row
	Values map[string]string
	Errors map[string]string
	Next   int64 // seq to continue before; 0 when this is the last page
	Query  string
}

func (h *Handlers) page(w http.ResponseWriter, r *http.Request) error {
	f, vals, ferr := filterOf(r)
	v := pageView{Values: vals, Errors: map[string]string{}}
	if ferr != nil {
		v.Errors = ferr.(*apperr.Error).Field
		return h.pages.RenderStatus(w, r, http.StatusBadRequest, "audit", v)
	}
	entries, err := List(r.Context(), h.db, f)
	if err != nil {
		return err
	}
	l := h.ui.Catalog.For(web.LangOf(r))
	for _, e := range entries {
		v.Rows = append(v.Rows, present(l, e))
	}
	if len(entries) == f.Limit {
		v.Next = entries[len(entries)-1].Seq
	}
	q := r.URL.Query()
	q.Del("before")
	v.Query = q.Encode()
	return h.pages.Render(w, r, "audit", v)
}

type entryJSON struct {
	Seq        int64          `json:"seq"`
	At         time.Time      `json:"at"`
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	ObjectType string         `json:"object_type"`
	ObjectID   string         `json:"object_id"`
	Details    map[string]any `json:"details,omitempty"`
	RequestID  string         `json:"request_id,omitempty"`
	PrevHash   string         `json:"prev_hash"`
	Hash       string         `json:"hash"`
}

func (h *Handlers) api(w http.ResponseWriter, r *http.Request) error {
	f, _, err := filterOf(r)
	if err != nil {
		return err
	}
	entries, err := List(r.Context(), h.db, f)
	if err != nil {
		return err
	}
	out := make([]entryJSON, len(entries))
	for i, e := range entries {
		out[i] = entryJSON{e.Seq, e.At, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.Details, e.RequestID, e.PrevHash, e.Hash}
	}
	resp := map[string]any{"entries": out}
	if len(entries) == f.Limit {
		resp["next_before"] = entries[len(entries)-1].Seq
	}
	return web.WriteJSON(w, http.StatusOK, resp)
}

func (h *Handlers) apiVerify(w http.ResponseWriter, r *http.Request) error {
	rep, err := Verify(r.Context(), h.db)
	if err != nil {
		return err
	}
	resp := map[string]any{"checked": rep.Checked, "head": rep.Head, "ok": rep.Problem == nil}
	if rep.Problem != nil {
		resp["problem"] = map[string]any{"seq": rep.Problem.Seq, "reason": rep.Problem.Reason}
	}
	return web.WriteJSON(w, http.StatusOK, resp)
}

// row is an entry as a person reads it: names instead of codes.
type row struct {
	Entry
	ActorText  string
	ActionText string // "" when the action has no label
	ObjectText string
	ObjectHref string
	Details    []Pair
}

// present turns an entry into text for the trail page.
func present(l *web.Localizer, e Entry) row {
	r := row{Entry: e, ActorText: actorText(l, e.Actor)}
	if k := "audit.action." + e.Action; l.Has(k) {
		r.ActionText = l.T(k)
	}
	typ := e.ObjectType
	if k := "audit.type." + typ; l.Has(k) {
		typ = l.T(k)
	}
	name := e.ObjectID
	if u, ok := e.Details["username"].(string); ok && u != "" {
		name = u
	}
	r.ObjectText = strings.TrimSpace(typ + " " + name)
	if e.ObjectType == "user" && strings.HasPrefix(e.ObjectID, "u_") {
		r.ObjectHref = "/users/" + e.ObjectID
	}
	for _, p := range e.DetailPairs() {
		if p.Key == "username" {
			continue // already in the object
		}
		key := p.Key
		if k := "audit.detail." + key; l.Has(k) {
			key = l.T(k)
		}
		val := p.Value
		switch p.Key {
		case "role":
			val = labelOr(l, "role."+p.Value, p.Value)
		case "reason":
			val = labelOr(l, "audit.reason."+p.Value, p.Value)
		case "scope":
			kind, code, _ := strings.Cut(p.Value, ":")
			val = strings.TrimSpace(labelOr(l, "scope."+kind, kind) + " " + code)
		}
		r.Details = append(r.Details, Pair{Key: key, Value: val})
	}
	return r
}

// actorText names who acted: a username, the system, the command line.
func actorText(l *web.Localizer, actor string) string {
	kind, name, _ := strings.Cut(actor, ":")
	switch kind {
	case "user":
		return name
	case "system":
		if name == "" {
			return l.T("audit.actor.system")
		}
		return l.T("audit.actor.system") + " (" + name + ")"
	case "anonymous":
		return l.T("audit.actor.anonymous")
	case "cli":
		return l.T("audit.actor.cli") + " (" + name + ")"
	case "apikey":
		return l.T("audit.type.apikey") + " " + name
	}
	return actor
}

func labelOr(l *web.Localizer, key, fallback string) string {
	if l.Has(key) {
		return l.T(key)
	}
	return fallback
}
