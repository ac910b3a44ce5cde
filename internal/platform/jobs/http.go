package jobs

import (
	"context"
	"embed"
	"net/http"
	"strconv"
	"time"

	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

//go:embed pages/*.html
var pageFS embed.FS

// Handlers serves the jobs page and API, for administrators.
type Handlers struct {
	q     *Queue
	pages *web.Pages
}

// NewHandlers parses the jobs page and adds its navigation and tile.
func NewHandlers(q *Queue, ui *web.UI) (*Handlers, error) {
	ps, err := ui.Pages(pageFS, "pages")
	if err != nil {
		return nil, err
	}
	admins := web.Roles(reqctx.RoleAdmin)
	ui.AddNav(web.NavLink{Key: "nav.jobs", Href: "/jobs", Rule: admins})
	ui.AddTile(web.Tile{Key: "tile.jobs_failed", Href: "/jobs?state=failed", Rule: admins, Value: func(ctx context.Context) (string, error) {
		st, err := q.Stats(ctx)
		return strconv.FormatInt(st.ByState[Failed], 10), err
	}})
	return &Handlers{q: q, pages: ps}, nil
}

// Register adds the routes.
func (h *Handlers) Register(rt *web.Router) {
	admins := web.Roles(reqctx.RoleAdmin)
	rt.Handle("GET /jobs", admins, h.page)
	rt.Handle("POST /jobs/{id}/cancel", admins, h.cancel)
	rt.Handle("GET /api/v1/jobs", admins, h.apiList)
	rt.Handle("GET /api/v1/jobs/{id}", admins, h.apiGet)
	rt.Handle("POST /api/v1/jobs/{id}/cancel", admins, h.apiCancel)
}

const perPage = 50

func filterOf(r *http.Request) Filter {
	q := r.URL.Query()
	f := Filter{Kind: q.Get("kind"), State: State(q.Get("state")), Limit: perPage}
	f.Offset, _ = strconv.Atoi(q.Get("offset"))
	if l, err := strconv.Atoi(q.Get("limit")); err == nil {
		f.Limit = l
	}
	return f
}

type pageView struct {
	Jobs   []Job
	Stats  Stats
	States []State
	Kind   string
	State  string
	Offset int
	Next   int
	Prev   int
}

func (h *Handlers) page(w http.ResponseWriter, r *http.Request) error {
	f := filterOf(r)
	f.Limit = perPage
	jobs, err := h.q.List(r.Context(), f)
	if err != nil {
		return err
	}
	st, err := h.q.Stats(r.Context())
	if err != nil {
		return err
	}
	v := pageView{Jobs: jobs, Stats: st, States: States(), Kind: f.Kind, State: string(f.State), Offset: f.Offset, Next: -1, Prev: -1}
	if len(jobs) == perPage {
		v.Next = f.Offset + perPage
	}
	if f.Offset > 0 {
		v.Prev = max(0, f.Offset-perPage)
	}
	return h.pages.Render(w, r, "jobs", v)
}

func (h *Handlers) cancel(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.q.Cancel(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/jobs?ok=flash.job_cancelled", http.StatusSeeOther)
	return nil
}

type jobJSON struct {
	ID              string     `json:"id"`
	Kind            string     `json:"kind"`
	State           State      `json:"state"`
	Attempts        int        `json:"attempts"`
	MaxAttempts     int        `json:"max_attempts"`
	RunAfter        time.Time  `json:"run_after"`
	Owner           string     `json:"owner,omitempty"`
	CancelRequested bool       `json:"cancel_requested"`
	Done            int64      `json:"done"`
	Total           int64      `json:"total"`
	Message         string     `json:"message,omitempty"`
	LastError       string     `json:"last_error,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	StartedAt       *time.Time `json:"started_at,omitempty"`
	FinishedAt      *time.Time `json:"finished_at,omitempty"`
}

func opt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toJSON(j Job) jobJSON {
	return jobJSON{ID: j.ID, Kind: j.Kind, State: j.State, Attempts: j.Attempts, MaxAttempts: j.MaxAttempts, RunAfter: j.RunAfter,
		Owner: j.Owner, CancelRequested: j.CancelRequested, Done: j.Done, Total: j.Total, Message: j.Message, LastError: j.LastError,
		CreatedAt: j.CreatedAt, StartedAt: opt(j.StartedAt), FinishedAt: opt(j.FinishedAt)}
}

func (h *Handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	jobs, err := h.q.List(r.Context(), filterOf(r))
	if err != nil {
		return err
	}
	out := make([]jobJSON, len(jobs))
	for i, j := range jobs {
		out[i] = toJSON(j)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"jobs": out})
}

func (h *Handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	j, err := h.q.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, toJSON(j))
}

func (h *Handlers) apiCancel(w http.ResponseWriter, r *http.Request) error {
	j, err := h.q.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, toJSON(j))
}
