package merger

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/web"
)

// registerRoadmap adds the routes of the roadmap and its dashboard.
func (h *Handlers) registerRoadmap(rt *web.Router) {
	anyone := web.SignedIn
	rt.Handle("GET /mergers/{id}/roadmap", anyone, h.roadmapPage)
	rt.Handle("POST /mergers/{id}/roadmap/template", writers, h.templateForm)
	rt.Handle("GET /mergers/{id}/dashboard", anyone, h.dashboardPage)
	rt.Handle("GET /mergers/{id}/tasks/new", writers, h.newTaskPage)
	rt.Handle("POST /mergers/{id}/tasks", writers, h.createTaskForm)
	rt.Handle("GET /tasks/{id}/edit", writers, h.editTaskPage)
	rt.Handle("POST /tasks/{id}", writers, h.updateTaskForm)

	rt.Handle("GET /api/v1/mergers/{id}/tasks", anyone, h.apiTasks)
	rt.Handle("POST /api/v1/mergers/{id}/tasks", writers, h.apiCreateTask)
	rt.Handle("PUT /api/v1/tasks/{id}", writers, h.apiUpdateTask)
	rt.Handle("GET /api/v1/mergers/{id}/progress", anyone, h.apiProgress)
}

// roadmapPath is the roadmap page of a merger.
func roadmapPath(mergerID string) string { return "/mergers/" + url.PathEscape(mergerID) + "/roadmap" }

// taskOf builds a Task from text fields, as forms give them, and names the
// fields that could not be read.
func taskOf(v url.Values) (Task, map[string]string) {
	t := Task{Title: v.Get("title"), Category: Category(strings.TrimSpace(v.Get("category"))), Phase: v.Get("phase"),
		OwnerAgency: strings.TrimSpace(v.Get("owner_agency")), Assignee: v.Get("assignee"), Status: Status(v.Get("status")),
		Evidence: v.Get("evidence")}
	bad := map[string]string{}
	for _, d := range v["depends_on"] {
		if d = strings.TrimSpace(d); d != "" {
			t.DependsOn = append(t.DependsOn, d)
		}
	}
	if p := strings.TrimSuffix(strings.TrimSpace(v.Get("progress")), "%"); p != "" {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			bad["progress"] = "merger.progress_invalid"
		}
		t.Progress = n
	}
	var ok bool
	if t.Start, ok = web.ParseOptionalDate(v.Get("start")); !ok {
		bad["start"] = "error.date_invalid"
	}
	if t.Deadline, ok = web.ParseOptionalDate(v.Get("deadline")); !ok {
		bad["deadline"] = "error.date_invalid"
	}
	return t, bad
}

// refuseTask returns the error for t with the fields that could not be
// read, and whatever else the service would refuse, so a person sees every
// problem at once.
func refuseTask(t Task, bad map[string]string) error {
	f := checkTask(&t)
	maps.Copy(f, bad)
	return apperr.InvalidFields(f)
}

// --- JSON shapes ---

type taskJSON struct {
	ID          string   `json:"id"`
	MergerID    string   `json:"merger_id"`
	Title       string   `json:"title"`
	Category    Category `json:"category,omitempty"`
	Phase       string   `json:"phase"`
	OwnerAgency string   `json:"owner_agency"`
	Assignee    string   `json:"assignee"`
	Start       string   `json:"start,omitempty"`
	Deadline    string   `json:"deadline,omitempty"`
	DependsOn   []string `json:"depends_on"`
	Status      Status   `json:"status"`
	Progress    int      `json:"progress"`
	Evidence    string   `json:"evidence"`
	Overdue     bool     `json:"overdue"`
	AtRisk      bool     `json:"at_risk"`
	Version     int64    `json:"version"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

func taskToJSON(t Task, now time.Time) taskJSON {
	return taskJSON{ID: t.ID, MergerID: t.MergerID, Title: t.Title, Category: t.Category, Phase: t.Phase, OwnerAgency: t.OwnerAgency,
		Assignee: t.Assignee, Start: web.ISODay(t.Start), Deadline: web.ISODay(t.Deadline), DependsOn: append([]string{}, t.DependsOn...),
		Status: t.Status, Progress: t.Progress, Evidence: t.Evidence, Overdue: t.Overdue(now), AtRisk: t.AtRisk(now), Version: t.Version,
		CreatedAt: t.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: t.UpdatedAt.UTC().Format(time.RFC3339)}
}

// taskInputJSON is a task as the API takes it, every field at once (PUT
// replaces); days are YYYY-MM-DD.
type taskInputJSON struct {
	Title       string   `json:"title"`
	Category    string   `json:"category"`
	Phase       string   `json:"phase"`
	OwnerAgency string   `json:"owner_agency"`
	Assignee    string   `json:"assignee"`
	Start       string   `json:"start"`
	Deadline    string   `json:"deadline"`
	DependsOn   []string `json:"depends_on"`
	Status      string   `json:"status"`
	Progress    int      `json:"progress"`
	Evidence    string   `json:"evidence"`
}

// task builds the Task of j, refusing a day that cannot be read together
// with whatever else is wrong.
func (j taskInputJSON) task() (Task, error) {
	t := Task{Title: j.Title, Category: Category(strings.TrimSpace(j.Category)), Phase: j.Phase, OwnerAgency: strings.TrimSpace(j.OwnerAgency),
		Assignee: j.Assignee, DependsOn: j.DependsOn, Status: Status(j.Status), Progress: j.Progress, Evidence: j.Evidence}
	bad := map[string]string{}
	var ok bool
	if t.Start, ok = web.ParseOptionalDate(j.Start); !ok {
		bad["start"] = "error.date_invalid"
	}
	if t.Deadline, ok = web.ParseOptionalDate(j.Deadline); !ok {
		bad["deadline"] = "error.date_invalid"
	}
	if len(bad) > 0 {
		return t, refuseTask(t, bad)
	}
	return t, nil
}

// groupJSON is the progress of a phase (Phase) or of the tasks an agency
// leads (AgencyID and Agency).
type groupJSON struct {
	Phase    string  `json:"phase,omitempty"`
	AgencyID string  `json:"agency_id,omitempty"`
	Agency   string  `json:"agency,omitempty"`
	Tasks    int     `json:"tasks"`
	Done     int     `json:"done"`
	Progress float64 `json:"progress"`
	Overdue  int     `json:"overdue"`
	AtRisk   int     `json:"at_risk"`
}

// --- API ---

func (h *Handlers) apiTasks(w http.ResponseWriter, r *http.Request) error {
	// An unknown merger has no roadmap, but it is not an empty one.
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ts, err := h.s.Tasks(r.Context(), m.ID)
	if err != nil {
		return err
	}
	now := h.s.db.Now()
	out := make([]taskJSON, len(ts))
	for i, t := range ts {
		out[i] = taskToJSON(t, now)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"tasks": out})
}

func (h *Handlers) apiCreateTask(w http.ResponseWriter, r *http.Request) error {
	var in taskInputJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	t, err := in.task()
	if err != nil {
		return err
	}
	t.MergerID = m.ID
	if t, err = h.s.CreateTask(r.Context(), t); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tasks/"+t.ID)
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"task": taskToJSON(t, h.s.db.Now())})
}

func (h *Handlers) apiUpdateTask(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		taskInputJSON
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
	if _, err := h.s.Task(r.Context(), id); err != nil {
		return err
	}
	t, err := in.task()
	if err != nil {
		return err
	}
	if t, err = h.s.UpdateTask(r.Context(), id, t, *in.Version); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"task": taskToJSON(t, h.s.db.Now())})
}

// roadmapOf reads a merger, its tasks and the names of the agencies that
// may lead them.
func (h *Handlers) roadmapOf(ctx context.Context, id string) (Merger, []Task, map[string]string, error) {
	m, err := h.s.Merger(ctx, id)
	if err != nil {
		return m, nil, nil, err
	}
	ts, err := h.s.Tasks(ctx, m.ID)
	if err != nil {
		return m, nil, nil, err
	}
	owners, err := h.s.Owners(ctx, m)
	return m, ts, ownerNames(owners), err
}

func (h *Handlers) apiProgress(w http.ResponseWriter, r *http.Request) error {
	_, ts, names, err := h.roadmapOf(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	now := h.s.db.Now()
	phases, agencies := []groupJSON{}, []groupJSON{}
	for _, p := range Progress(ts, now) {
		phases = append(phases, groupJSON{Phase: p.Name, Tasks: p.Tasks, Done: p.Done, Progress: p.Progress, Overdue: p.Overdue, AtRisk: p.AtRisk})
	}
	for _, p := range AgencyProgress(ts, now, names) {
		agencies = append(agencies, groupJSON{AgencyID: p.Key, Agency: p.Name, Tasks: p.Tasks, Done: p.Done, Progress: p.Progress,
			Overdue: p.Overdue, AtRisk: p.AtRisk})
	}
	overdue, atRisk := []string{}, []string{}
	for _, t := range ts {
		if t.Overdue(now) {
			overdue = append(overdue, t.ID)
		}
		if t.AtRisk(now) {
			atRisk = append(atRisk, t.ID)
		}
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"phases": phases, "agencies": agencies, "overdue": overdue, "at_risk": atRisk,
		"as_of": now.UTC().Format(time.RFC3339)})
}

// --- roadmap page ---

// taskRow is a task with where it stands today.
type taskRow struct {
	Task
	Overdue, AtRisk bool
}

type roadmapView struct {
	Merger   Merger
	Rows     []taskRow
	CanWrite bool
	Error    string // i18n key of a refused template
}

func (h *Handlers) roadmapView(ctx context.Context, mergerID string) (roadmapView, error) {
	m, err := h.s.Merger(ctx, mergerID)
	if err != nil {
		return roadmapView{}, err
	}
	ts, err := h.s.Tasks(ctx, m.ID)
	if err != nil {
		return roadmapView{}, err
	}
	v := roadmapView{Merger: m, CanWrite: mayWrite(ctx)}
	now := h.s.db.Now()
	for _, t := range ts {
		v.Rows = append(v.Rows, taskRow{Task: t, Overdue: t.Overdue(now), AtRisk: t.AtRisk(now)})
	}
	return v, nil
}

func (h *Handlers) roadmapPage(w http.ResponseWriter, r *http.Request) error {
	v, err := h.roadmapView(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "roadmap", v)
}

func (h *Handlers) templateForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	_, err = h.s.ApplyTemplate(r.Context(), m.ID)
	if err == nil {
		http.Redirect(w, r, roadmapPath(m.ID)+"?ok=flash.roadmap_created", http.StatusSeeOther)
		return nil
	}
	f := newForm()
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	v, err := h.roadmapView(r.Context(), m.ID)
	if err != nil {
		return err
	}
	// The service names the merger's date as the field; on this page it is
	// the one message.
	v.Error = f.Error
	for _, k := range f.Errors {
		v.Error = k
	}
	return h.pages.RenderStatus(w, r, status, "roadmap", v)
}

// --- task form ---

// taskFormOf fills a task form from submitted values.
func taskFormOf(v url.Values) formState {
	f := newForm()
	for _, k := range []string{"title", "phase", "category", "owner_agency", "assignee", "start", "deadline", "status", "progress",
		"evidence", "version"} {
		f.Values[k] = v.Get(k)
	}
	for _, d := range v["depends_on"] {
		f.Checked[d] = true
	}
	return f
}

// taskForm fills a task form from a stored task.
func taskForm(t Task) formState {
	f := newForm()
	f.Values = map[string]string{"title": t.Title, "phase": t.Phase, "category": string(t.Category), "owner_agency": t.OwnerAgency,
		"assignee": t.Assignee, "start": web.FormDay(t.Start), "deadline": web.FormDay(t.Deadline), "status": string(t.Status),
		"progress": strconv.Itoa(t.Progress), "evidence": t.Evidence, "version": strconv.FormatInt(t.Version, 10)}
	for _, d := range t.DependsOn {
		f.Checked[d] = true
	}
	return f
}

type taskFormView struct {
	Merger     Merger
	Task       Task // the stored task, when editing
	IsNew      bool
	Form       formState
	Categories []Category
	Statuses   []Status
	Others     []Task      // the merger's other tasks, that this one may depend on
	Owners     []AgencyRef // the agencies that may lead it; none: free text
	Action     string
	Stored     *Task // what another person saved meanwhile
}

func (h *Handlers) taskFormView(ctx context.Context, m Merger, t Task, isNew bool, f formState) (taskFormView, error) {
	v := taskFormView{Merger: m, Task: t, IsNew: isNew, Form: f, Categories: Categories, Statuses: Statuses,
		Action: "/mergers/" + url.PathEscape(m.ID) + "/tasks"}
	if !isNew {
		v.Action = "/tasks/" + url.PathEscape(t.ID)
	}
	ts, err := h.s.Tasks(ctx, m.ID)
	if err != nil {
		return v, err
	}
	for _, o := range ts {
		if o.ID != t.ID || isNew {
			v.Others = append(v.Others, o)
		}
	}
	v.Owners, err = h.s.Owners(ctx, m)
	return v, err
}

func (h *Handlers) newTaskPage(w http.ResponseWriter, r *http.Request) error {
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	f := newForm()
	f.Values["status"], f.Values["progress"] = string(Todo), "0"
	v, err := h.taskFormView(r.Context(), m, Task{}, true, f)
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "task_form", v)
}

func (h *Handlers) createTaskForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	t, bad := taskOf(r.PostForm)
	t.MergerID = m.ID
	if len(bad) > 0 {
		err = refuseTask(t, bad)
	} else if _, err = h.s.CreateTask(r.Context(), t); err == nil {
		http.Redirect(w, r, roadmapPath(m.ID)+"?ok=flash.task_created", http.StatusSeeOther)
		return nil
	}
	f := taskFormOf(r.PostForm)
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	v, err := h.taskFormView(r.Context(), m, Task{}, true, f)
	if err != nil {
		return err
	}
	return h.pages.RenderStatus(w, r, status, "task_form", v)
}

func (h *Handlers) editTaskPage(w http.ResponseWriter, r *http.Request) error {
	t, err := h.s.Task(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), t.MergerID)
	if err != nil {
		return err
	}
	v, err := h.taskFormView(r.Context(), m, t, false, taskForm(t))
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "task_form", v)
}

func (h *Handlers) updateTaskForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	cur, err := h.s.Task(r.Context(), id)
	if err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), cur.MergerID)
	if err != nil {
		return err
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	t, bad := taskOf(r.PostForm)
	t.ID, t.MergerID = id, m.ID
	if len(bad) > 0 {
		err = refuseTask(t, bad)
	} else if _, err = h.s.UpdateTask(r.Context(), id, t, version); err == nil {
		http.Redirect(w, r, roadmapPath(m.ID)+"?ok=flash.task_saved#task-"+url.PathEscape(id), http.StatusSeeOther)
		return nil
	}
	// The form again with what the editor typed, against the stored task:
	// after a conflict its version is the new one, so saving again is a
	// choice made after seeing the other person's change.
	f := taskFormOf(r.PostForm)
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	if cur, err = h.s.Task(r.Context(), id); err != nil {
		return err
	}
	f.Values["version"] = strconv.FormatInt(cur.Version, 10)
	v, err := h.taskFormView(r.Context(), m, cur, false, f)
	if err != nil {
		return err
	}
	if cur.Version != version {
		v.Stored = &cur
	}
	return h.pages.RenderStatus(w, r, status, "task_form", v)
}

// --- dashboard ---

// The Gantt chart's drawing units: the SVG scales to the page's width.
const (
	ganttLabel = 300 // the left column of task titles
	ganttWidth = 1000
	ganttRow   = 26
	ganttTop   = 30 // the month labels
	ganttChars = 38 // a row label's length before it is cut
)

// ganttBar is one task's row.
type ganttBar struct {
	ID, Label, Title string
	Y, TextY         int
	X, W, Filled     float64
	Dated            bool
	Color            string // the bar's fill, by where the task stands
}

// ganttMonth is one month's mark on the scale.
type ganttMonth struct {
	X     float64
	Label string
}

type gantt struct {
	Width, Height, Label, Bottom int
	Rows                         []ganttBar
	Months                       []ganttMonth
	Today                        float64
	ShowToday                    bool
}

// dayZone is Vietnam's time, in which the days of a roadmap begin.
var dayZone = time.FixedZone("ICT", 7*3600)

// cut shortens s to n characters, marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// ganttOf lays the tasks out on a month scale from the month of the
// earliest start to the end of the month of the latest deadline.
func ganttOf(ts []Task, now time.Time) gantt {
	g := gantt{Width: ganttWidth, Label: ganttLabel}
	var first, last time.Time
	for _, t := range ts {
		for _, d := range []time.Time{t.Start, t.Deadline} {
			if d.IsZero() {
				continue
			}
			if first.IsZero() || d.Before(first) {
				first = d
			}
			if last.IsZero() || d.After(last) {
				last = d
			}
		}
	}
	g.Height = ganttTop + len(ts)*ganttRow + 10
	g.Bottom = g.Height - 5
	if first.IsZero() {
		for i, t := range ts {
			g.Rows = append(g.Rows, ganttBar{ID: t.ID, Label: cut(t.Title, ganttChars), Title: t.Title, Y: ganttTop + i*ganttRow,
				TextY: ganttTop + i*ganttRow + 17})
		}
		return g
	}
	first, last = first.In(dayZone), last.In(dayZone)
	from := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, dayZone)
	to := time.Date(last.Year(), last.Month()+1, 1, 0, 0, 0, 0, dayZone)
	span := to.Sub(from).Seconds()
	x := func(d time.Time) float64 {
		return float64(ganttLabel) + float64(ganttWidth-ganttLabel-10)*d.Sub(from).Seconds()/span
	}
	// A line per month; labels every month, or every few months when a
	// long roadmap leaves less than a label's width (about 50 px) per month.
	months := 0
	for m := from; m.Before(to); m = m.AddDate(0, 1, 0) {
		months++
	}
	every := 1
	for float64(ganttWidth-ganttLabel-10)/float64(months)*float64(every) < 52 {
		every++
	}
	i := 0
	for m := from; m.Before(to); m = m.AddDate(0, 1, 0) {
		gm := ganttMonth{X: x(m)}
		if i%every == 0 {
			gm.Label = m.Format("01/2006")
		}
		g.Months = append(g.Months, gm)
		i++
	}
	if !now.Before(from) && now.Before(to) {
		g.Today, g.ShowToday = x(now), true
	}
	for i, t := range ts {
		b := ganttBar{ID: t.ID, Label: cut(t.Title, ganttChars), Title: t.Title, Y: ganttTop + i*ganttRow + 4, TextY: ganttTop + i*ganttRow + 17,
			Color: "#1d4a8c"}
		start, end := t.Start, t.Deadline
		if start.IsZero() {
			start = end
		}
		if end.IsZero() {
			end = start
		}
		if !start.IsZero() {
			// A one-day step still shows: its bar runs to the end of its day.
			b.Dated, b.X, b.W = true, x(start), x(end.AddDate(0, 0, 1))-x(start)
			b.Filled = b.W * float64(t.Progress) / 100
		}
		switch {
		case t.Overdue(now):
			b.Color = "#b3261e"
		case t.AtRisk(now):
			b.Color = "#c77c00"
		case t.Status == Done:
			b.Color = "#1f7a3a"
		}
		g.Rows = append(g.Rows, b)
	}
	return g
}

type dashboardView struct {
	Merger          Merger
	Phases          []GroupProgress
	Agencies        []GroupProgress
	Overdue, AtRisk []Task
	Owners          map[string]string // agency names by id
	Tasks           int
	Gantt           gantt
	AsOf            time.Time
}

func (h *Handlers) dashboardPage(w http.ResponseWriter, r *http.Request) error {
	m, ts, names, err := h.roadmapOf(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	now := h.s.db.Now()
	v := dashboardView{Merger: m, Phases: Progress(ts, now), Agencies: AgencyProgress(ts, now, names), Tasks: len(ts),
		Gantt: ganttOf(ts, now), AsOf: now, Owners: names}
	for _, t := range ts {
		if t.Overdue(now) {
			v.Overdue = append(v.Overdue, t)
		}
		if t.AtRisk(now) {
			v.AtRisk = append(v.AtRisk, t)
		}
	}
	return h.pages.Render(w, r, "dashboard", v)
}
