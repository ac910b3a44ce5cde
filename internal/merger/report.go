package merger

import (
	"context"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/platform/apperr"
)

// Report is the weekly report of a merger: where the roadmap stands, what
// was done in the week, what is late or at risk, and the decisions.
type Report struct {
	Merger    Merger
	AsOf      time.Time
	WeekStart time.Time
	Phases    []GroupProgress
	Agencies  []GroupProgress   // progress per lead agency
	Owners    map[string]string // agency names by id
	DoneWeek  []Task
	Overdue   []Task
	AtRisk    []Task
	Decisions []SystemDecision
}

// SystemDecision is a system with its decision (zero Outcome: undecided).
type SystemDecision struct {
	System   System
	Decision Decision
}

// WeeklyReport assembles the report for the week ending at asOf.
func (s *Service) WeeklyReport(ctx context.Context, mergerID string, asOf time.Time) (Report, error) {
	m, err := s.Merger(ctx, mergerID)
	if err != nil {
		return Report{}, err
	}
	ts, err := s.Tasks(ctx, mergerID)
	if err != nil {
		return Report{}, err
	}
	owners, err := s.owners(ctx, m.ProvinceCode)
	if err != nil {
		return Report{}, err
	}
	names := ownerNames(owners)
	r := Report{Merger: m, AsOf: asOf, WeekStart: asOf.AddDate(0, 0, -7), Phases: Progress(ts, asOf),
		Agencies: AgencyProgress(ts, asOf, names), Owners: names}
	for _, t := range ts {
		switch {
		case t.Status == Done && !t.UpdatedAt.Before(r.WeekStart) && !t.UpdatedAt.After(asOf):
			r.DoneWeek = append(r.DoneWeek, t)
		case t.Overdue(asOf):
			r.Overdue = append(r.Overdue, t)
		case t.AtRisk(asOf):
			r.AtRisk = append(r.AtRisk, t)
		}
	}
	systems, err := s.Systems(ctx, mergerID, "")
	if err != nil {
		return Report{}, err
	}
	for _, x := range systems {
		d, err := s.Decision(ctx, x.ID)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return Report{}, err
		}
		r.Decisions = append(r.Decisions, SystemDecision{System: x, Decision: d})
	}
	return r, nil
}

// Labels are the words a workbook needs, in the reader's language.
type Labels func(key string, args ...any) string

// WriteReport writes the report as a workbook: progress per phase, the
// tasks with their flags, and the decisions.
func WriteReport(w io.Writer, r Report, t Labels) error {
	f := excelize.NewFile()
	defer f.Close()
	day := func(x time.Time) string {
		if x.IsZero() {
			return ""
		}
		return x.In(time.FixedZone("ICT", 7*3600)).Format("02/01/2006")
	}
	sheets := []struct {
		name string
		rows [][]any
	}{
		{t("merger.report.sheet_progress"), progressRows(r, t)},
		{t("merger.report.sheet_tasks"), taskRows(r, t, day)},
		{t("merger.report.sheet_decisions"), decisionRows(r, t, day)},
	}
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName(f.GetSheetName(0), sh.name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(sh.name); err != nil {
			return err
		}
		for j, row := range sh.rows {
			cell, _ := excelize.CoordinatesToCellName(1, j+1)
			if err := f.SetSheetRow(sh.name, cell, &row); err != nil {
				return err
			}
		}
	}
	return f.Write(w)
}

func progressRows(r Report, t Labels) [][]any {
	rows := [][]any{{t("merger.report.title"), r.Merger.Name, t("merger.report.as_of"), r.AsOf.In(time.FixedZone("ICT", 7*3600)).Format("02/01/2006")},
		{t("merger.report.phase"), t("merger.report.tasks"), t("merger.report.done"), t("merger.report.progress"), t("merger.report.overdue"), t("merger.report.at_risk")}}
	for _, p := range r.Phases {
		rows = append(rows, []any{p.Name, p.Tasks, p.Done, int(p.Progress + 0.5), p.Overdue, p.AtRisk})
	}
	rows = append(rows, []any{}, []any{t("merger.report.agency"), t("merger.report.tasks"), t("merger.report.done"),
		t("merger.report.progress"), t("merger.report.overdue"), t("merger.report.at_risk")})
	for _, p := range r.Agencies {
		name := p.Name
		if p.Key == "" {
			name = t("merger.dashboard.no_agency")
		}
		rows = append(rows, []any{name, p.Tasks, p.Done, int(p.Progress + 0.5), p.Overdue, p.AtRisk})
	}
	return rows
}

func taskRows(r Report, t Labels, day func(time.Time) string) [][]any {
	rows := [][]any{{t("merger.report.task"), t("merger.report.phase"), t("merger.report.agency"), t("merger.report.assignee"), t("merger.report.deadline"),
		t("merger.report.status"), t("merger.report.progress"), t("merger.report.flag")}}
	add := func(ts []Task, flag string) {
		for _, x := range ts {
			owner := x.OwnerAgency
			if n, ok := r.Owners[owner]; ok {
				owner = n
			}
			rows = append(rows, []any{x.Title, x.Phase, owner, x.Assignee, day(x.Deadline), t("merger.status." + string(x.Status)), x.Progress, flag})
		}
	}
	add(r.Overdue, t("merger.report.overdue"))
	add(r.AtRisk, t("merger.report.at_risk"))
	add(r.DoneWeek, t("merger.report.done_week"))
	return rows
}

func decisionRows(r Report, t Labels, day func(time.Time) string) [][]any {
	rows := [][]any{{t("merger.report.system"), t("merger.report.province"), t("merger.report.outcome"), t("merger.report.until"),
		t("merger.report.document")}}
	for _, sd := range r.Decisions {
		outcome := t("merger.report.undecided")
		if sd.Decision.Outcome != "" {
			outcome = t("merger.outcome." + string(sd.Decision.Outcome))
		}
		rows = append(rows, []any{sd.System.Name, sd.System.ProvinceCode, outcome, day(sd.Decision.Until), sd.Decision.DocNumber})
	}
	return rows
}
