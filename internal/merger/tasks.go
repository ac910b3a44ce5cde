package merger

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/fold"
)

// Status is where a task stands.
type Status string

// The statuses of a task.
const (
	Todo       Status = "todo"
	InProgress Status = "in_progress"
	Done       Status = "done"
	Blocked    Status = "blocked"
	Cancelled  Status = "cancelled"
)

// Statuses lists them in display order.
var Statuses = []Status{Todo, InProgress, Blocked, Done, Cancelled}

// Task is one step of a merger's roadmap.
type Task struct {
	ID          string
	MergerID    string
	Title       string
	Category    Category // optional: the system category it concerns
	Phase       string
	OwnerAgency string // an agency's id in the agency register
	Assignee    string
	Start       time.Time
	Deadline    time.Time
	DependsOn   []string // ids of tasks that must finish first
	Status      Status
	Progress    int // percent
	Evidence    string
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Overdue reports whether the task's deadline day ended before it was
// done; deadlines are days, so the whole day counts.
func (t Task) Overdue(now time.Time) bool {
	return t.open() && !t.Deadline.IsZero() && !now.Before(t.Deadline.AddDate(0, 0, 1))
}

// AtRisk reports whether an open task is due within a week, or behind the
// straight line from its start to its deadline by more than 20 points.
func (t Task) AtRisk(now time.Time) bool {
	if !t.open() || t.Deadline.IsZero() || t.Overdue(now) {
		return false
	}
	if t.Deadline.Sub(now) <= 7*24*time.Hour && t.Progress < 100 {
		return true
	}
	if t.Start.IsZero() || !t.Deadline.After(t.Start) || now.Before(t.Start) {
		return false
	}
	expected := 100 * now.Sub(t.Start).Seconds() / t.Deadline.Sub(t.Start).Seconds()
	return float64(t.Progress) < expected-20
}

func (t Task) open() bool { return t.Status != Done && t.Status != Cancelled }

//go:embed roadmap.json
var roadmapJSON []byte

// templateStep is one step of the roadmap template: days relative to the
// merger's effective date.
type templateStep struct {
	Phase    string   `json:"phase"`
	Title    string   `json:"title"`
	Category Category `json:"category"`
	Start    int      `json:"start"`
	Deadline int      `json:"deadline"`
}

func checkTask(t *Task) map[string]string {
	f := map[string]string{}
	var ok bool
	if t.Title, ok = text(t.Title, 300); !ok || t.Title == "" {
		f["title"] = "merger.task_title_invalid"
	}
	if t.Category != "" && !t.Category.Valid() {
		f["category"] = "merger.category_invalid"
	}
	for field, p := range map[string]*string{"phase": &t.Phase, "owner_agency": &t.OwnerAgency, "assignee": &t.Assignee} {
		if *p, ok = text(*p, 200); !ok {
			f[field] = "merger.text_too_long"
		}
	}
	if t.Evidence, ok = text(t.Evidence, 2000); !ok {
		f["evidence"] = "merger.text_too_long"
	}
	if t.Status == "" {
		t.Status = Todo
	}
	if !slices.Contains(Statuses, t.Status) {
		f["status"] = "merger.status_invalid"
	}
	if t.Progress < 0 || t.Progress > 100 {
		f["progress"] = "merger.progress_invalid"
	}
	if t.Status == Done {
		t.Progress = 100
	}
	if !t.Start.IsZero() && !t.Deadline.IsZero() && t.Deadline.Before(t.Start) {
		f["deadline"] = "merger.deadline_before_start"
	}
	if slices.Contains(t.DependsOn, t.ID) && t.ID != "" {
		f["depends_on"] = "merger.depends_on_itself"
	}
	return f
}

const taskCols = `id, merger_id, title, category, phase, owner_agency, assignee, start_day, deadline, depends_on, status, progress,
evidence, version, created_at, updated_at`

func scanTask(sc interface{ Scan(...any) error }) (Task, error) {
	var t Task
	var cat, deps, status string
	var start, deadline sql.NullInt64
	var created, updated int64
	var progress int64
	err := sc.Scan(&t.ID, &t.MergerID, &t.Title, &cat, &t.Phase, &t.OwnerAgency, &t.Assignee, &start, &deadline, &deps, &status,
		&progress, &t.Evidence, &t.Version, &created, &updated)
	t.Category, t.Status, t.Progress = Category(cat), Status(status), int(progress)
	if deps != "" {
		t.DependsOn = strings.Split(deps, ",")
	}
	t.Start, t.Deadline = db.FromNullMicros(start), db.FromNullMicros(deadline)
	t.CreatedAt, t.UpdatedAt = db.FromMicros(created), db.FromMicros(updated)
	return t, err
}

// checkDeps refuses dependencies on unknown tasks or tasks of another
// merger, and ones that would make a cycle (A waits for B waits for A).
func (s *Service) checkDeps(ctx context.Context, q db.Querier, t *Task, f map[string]string) error {
	t.DependsOn = slices.Compact(slices.Sorted(slices.Values(t.DependsOn)))
	queue := slices.Clone(t.DependsOn)
	seen := map[string]bool{}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d] {
			continue
		}
		seen[d] = true
		if t.ID != "" && d == t.ID {
			f["depends_on"] = "merger.depends_on_cycle"
			return nil
		}
		var m, deps string
		err := q.QueryRowContext(ctx, `SELECT merger_id, depends_on FROM merger_task WHERE id = $1`, d).Scan(&m, &deps)
		if err == sql.ErrNoRows || (err == nil && m != t.MergerID) {
			f["depends_on"] = "merger.depends_on_unknown"
			return nil
		}
		if err != nil {
			return err
		}
		if deps != "" {
			queue = append(queue, strings.Split(deps, ",")...)
		}
	}
	return nil
}

func (s *Service) insertTask(ctx context.Context, tx *db.Tx, t *Task) error {
	t.ID, t.Version, t.CreatedAt, t.UpdatedAt = newID("tk_"), 1, tx.Now, tx.Now
	_, err := tx.ExecContext(ctx, `INSERT INTO merger_task (`+taskCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14)`,
		t.ID, t.MergerID, t.Title, string(t.Category), t.Phase, t.OwnerAgency, t.Assignee, db.NullMicros(t.Start),
		db.NullMicros(t.Deadline), strings.Join(t.DependsOn, ","), string(t.Status), t.Progress, t.Evidence, db.Micros(tx.Now))
	return err
}

// CreateTask adds a task to a merger's roadmap.
func (s *Service) CreateTask(ctx context.Context, t Task) (Task, error) {
	unknownOwner, err := s.resolveOwner(ctx, t.MergerID, &t)
	if err != nil {
		return Task{}, err
	}
	t.ID = ""
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		f := checkTask(&t)
		if unknownOwner {
			f["owner_agency"] = "merger.task.owner_agency_unknown"
		}
		if err := s.checkDeps(ctx, tx, &t, f); err != nil {
			return err
		}
		if len(f) > 0 {
			return apperr.InvalidFields(f)
		}
		if err := s.insertTask(ctx, tx, &t); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "merger.task.create", ObjectType: "merger_task", ObjectID: t.ID,
			Details: map[string]any{"title": t.Title}})
		return err
	})
	return t, err
}

// Task returns one task.
func (s *Service) Task(ctx context.Context, id string) (Task, error) {
	t, err := scanTask(s.db.QueryRowContext(ctx, `SELECT `+taskCols+` FROM merger_task WHERE id = $1`, id))
	if err != nil {
		return t, db.NotFoundIfNoRows(err, "merger.task_not_found")
	}
	return t, nil
}

// Tasks lists a merger's roadmap by deadline (undated last), then title.
func (s *Service) Tasks(ctx context.Context, mergerID string) ([]Task, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+taskCols+` FROM merger_task WHERE merger_id = $1
ORDER BY CASE WHEN deadline IS NULL THEN 1 ELSE 0 END, deadline, title, id`, mergerID)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UpdateTask replaces a task's fields, refusing a stale version.
func (s *Service) UpdateTask(ctx context.Context, id string, t Task, version int64) (Task, error) {
	before, err := s.Task(ctx, id)
	if err != nil {
		return Task{}, err
	}
	t.ID, t.MergerID = id, before.MergerID
	unknownOwner, err := s.resolveOwner(ctx, t.MergerID, &t)
	if err != nil {
		return Task{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		f := checkTask(&t)
		if unknownOwner {
			f["owner_agency"] = "merger.task.owner_agency_unknown"
		}
		if err := s.checkDeps(ctx, tx, &t, f); err != nil {
			return err
		}
		if len(f) > 0 {
			return apperr.InvalidFields(f)
		}
		res, err := tx.ExecContext(ctx, `UPDATE merger_task SET title = $1, category = $2, phase = $3, owner_agency = $4, assignee = $5,
start_day = $6, deadline = $7, depends_on = $8, status = $9, progress = $10, evidence = $11, version = version + 1, updated_at = $12
WHERE id = $13 AND version = $14`,
			t.Title, string(t.Category), t.Phase, t.OwnerAgency, t.Assignee, db.NullMicros(t.Start), db.NullMicros(t.Deadline),
			strings.Join(t.DependsOn, ","), string(t.Status), t.Progress, t.Evidence, db.Micros(tx.Now), id, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "merger.task_stale")
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "merger.task.update", ObjectType: "merger_task", ObjectID: id,
			Details: map[string]any{"status": map[string]any{"from": string(before.Status), "to": string(t.Status)},
				"progress": map[string]any{"from": before.Progress, "to": t.Progress}}})
		return err
	})
	if err != nil {
		return Task{}, err
	}
	return s.Task(ctx, id)
}

// ApplyTemplate fills a merger's roadmap with the typical steps (e-mail
// lists, accounts and training, dual mailboxes, document management pilot,
// rollout and official use, the 1022 switch, LGSP integrations, old portals
// read-only, specialised data, phase 2), their days counted from the
// merger's effective date. The tasks are then the merger's own to edit. It
// refuses a merger that has tasks already, so it cannot duplicate them.
func (s *Service) ApplyTemplate(ctx context.Context, mergerID string) (int, error) {
	m, err := s.Merger(ctx, mergerID)
	if err != nil {
		return 0, err
	}
	if m.EffectiveOn.IsZero() {
		return 0, apperr.InvalidFields(map[string]string{"effective_on": "merger.template_needs_date"})
	}
	var steps []templateStep
	if err := json.Unmarshal(roadmapJSON, &steps); err != nil {
		return 0, fmt.Errorf("roadmap template: %w", err)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// Lock the merger's row first: two coordinators pressing the button
		// at once on PostgreSQL would otherwise both see an empty roadmap.
		if _, err := tx.ExecContext(ctx, `UPDATE merger SET updated_at = updated_at WHERE id = $1`, mergerID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM merger_task WHERE merger_id = $1`, mergerID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return apperr.New(apperr.Conflict, "merger.template_has_tasks")
		}
		day := func(d int) time.Time { return m.EffectiveOn.AddDate(0, 0, d) }
		for _, st := range steps {
			t := Task{MergerID: mergerID, Title: st.Title, Category: st.Category, Phase: st.Phase, Status: Todo,
				Start: day(st.Start), Deadline: day(st.Deadline)}
			if err := s.insertTask(ctx, tx, &t); err != nil {
				return err
			}
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "merger.task.template", ObjectType: "merger", ObjectID: mergerID,
			Details: map[string]any{"tasks": len(steps)}})
		return err
	})
	return len(steps), err
}

// GroupProgress is the average progress of a group of tasks (a phase, or
// the tasks one agency leads), cancelled tasks left out.
type GroupProgress struct {
	Key      string // the phase, or the agency's id; "" for tasks without one
	Name     string // what to show: the phase, or the agency's name
	Tasks    int
	Done     int
	Progress float64 // average percent
	Overdue  int
	AtRisk   int
}

// Progress sums a roadmap up per phase, in the order phases first appear.
func Progress(tasks []Task, now time.Time) []GroupProgress {
	return progressBy(tasks, now, func(t Task) string { return t.Phase }, nil)
}

// AgencyProgress sums a roadmap up per lead agency, named from names (an id
// the register does not know is shown as it is), by name, with the tasks no
// agency leads last.
func AgencyProgress(tasks []Task, now time.Time, names map[string]string) []GroupProgress {
	out := progressBy(tasks, now, func(t Task) string { return t.OwnerAgency }, names)
	slices.SortStableFunc(out, func(a, b GroupProgress) int {
		if (a.Key == "") != (b.Key == "") {
			if a.Key == "" {
				return 1
			}
			return -1
		}
		return strings.Compare(fold.String(a.Name), fold.String(b.Name))
	})
	return out
}

func progressBy(tasks []Task, now time.Time, key func(Task) string, names map[string]string) []GroupProgress {
	var out []GroupProgress
	idx := map[string]int{}
	for _, t := range tasks {
		if t.Status == Cancelled {
			continue
		}
		k := key(t)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			name := k
			if n, ok := names[k]; ok {
				name = n
			}
			out = append(out, GroupProgress{Key: k, Name: name})
		}
		p := &out[i]
		p.Tasks++
		p.Progress += float64(t.Progress)
		if t.Status == Done {
			p.Done++
		}
		if t.Overdue(now) {
			p.Overdue++
		}
		if t.AtRisk(now) {
			p.AtRisk++
		}
	}
	for i := range out {
		out[i].Progress /= float64(out[i].Tasks)
	}
	return out
}
