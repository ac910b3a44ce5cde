package merger_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"hopnhat/internal/merger"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
)

func TestRoadmap(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s := merger.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		m := haiPhong(t, s)
		n, err := s.ApplyTemplate(ctx, m.ID)
		if err != nil || n < 10 {
			t.Fatalf("template: got %d tasks, %v", n, err)
		}
		if _, err := s.ApplyTemplate(ctx, m.ID); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("template twice: got %v, want Conflict", err)
		}
		tasks, err := s.Tasks(ctx, m.ID)
		if err != nil || len(tasks) != n {
			t.Fatalf("tasks: got %d, %v", len(tasks), err)
		}
		// The e-mail lists come first, 52 days before 1/7/2025: 10/5/2025.
		first := tasks[0]
		if got := first.Deadline.In(time.FixedZone("ICT", 7*3600)).Format("02/01/2006"); got != "10/05/2025" {
			t.Fatalf("first deadline: got %s (%s), want 10/05/2025", got, first.Title)
		}
		// Half-way through its window with 10 % done: behind, at risk; past the deadline: overdue.
		task := tasks[len(tasks)-1]
		mid := task.Start.Add(task.Deadline.Sub(task.Start) / 2)
		task.Progress = 10
		if !task.AtRisk(mid) || task.Overdue(mid) {
			t.Fatalf("half-way at 10 %%: at risk %v, overdue %v", task.AtRisk(mid), task.Overdue(mid))
		}
		task.Progress = 60
		if task.AtRisk(mid) {
			t.Fatal("half-way at 60 % is not at risk")
		}
		if task.Overdue(task.Deadline.Add(12 * time.Hour)) {
			t.Fatal("overdue on the deadline day itself")
		}
		if !task.Overdue(task.Deadline.AddDate(0, 0, 1)) {
			t.Fatal("past the deadline and not done: not overdue")
		}
		task.Status = merger.Done
		if task.Overdue(task.Deadline.AddDate(0, 0, 1)) {
			t.Fatal("a done task is overdue")
		}

		// Update with a version check; done means 100 %.
		x := tasks[0]
		x.Status, x.Evidence = merger.Done, "https://example.gov.vn/danh-sach-email"
		up, err := s.UpdateTask(ctx, x.ID, x, x.Version)
		if err != nil || up.Progress != 100 || up.Version != 2 {
			t.Fatalf("update: got %+v, %v", up, err)
		}
		if _, err := s.UpdateTask(ctx, x.ID, x, x.Version); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("stale update: got %v", err)
		}
		// Dependencies must be tasks of the same merger; deadlines after starts.
		extra := merger.Task{MergerID: m.ID, Title: "Tổng kết", DependsOn: []string{"tk_khong_co"}}
		if _, err := s.CreateTask(ctx, extra); !fieldErr(err, "depends_on") {
			t.Fatalf("unknown dependency: got %v", err)
		}
		extra.DependsOn = []string{x.ID}
		extra.Start, extra.Deadline = time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)
		if _, err := s.CreateTask(ctx, extra); !fieldErr(err, "deadline") {
			t.Fatalf("deadline before start: got %v", err)
		}
		extra.Deadline = time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
		if _, err := s.CreateTask(ctx, extra); err != nil {
			t.Fatal(err)
		}
		// A cycle is refused: the e-mail lists cannot wait for the task that waits for them.
		wait := tasks[0]
		last, _ := s.Tasks(ctx, m.ID)
		var closing merger.Task
		for _, x := range last {
			if x.Title == "Tổng kết" {
				closing = x
			}
		}
		cur, _ := s.Task(ctx, wait.ID)
		cur.DependsOn = []string{closing.ID}
		if _, err := s.UpdateTask(ctx, cur.ID, cur, cur.Version); !fieldErr(err, "depends_on") {
			t.Fatalf("dependency cycle: got %v", err)
		}
		all, _ := s.Tasks(ctx, m.ID)
		phases := merger.Progress(all, time.Date(2025, 9, 15, 0, 0, 0, 0, time.UTC))
		if len(phases) < 5 || phases[0].Name != "Chuẩn bị" || phases[0].Done != 1 || phases[0].Overdue != 2 {
			t.Fatalf("progress by phase: got %+v", phases[0])
		}
	})
}
