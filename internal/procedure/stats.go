package procedure

import (
	"context"
	"fmt"
	"strings"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/procedure/workday"
)

// StatFilter selects the statistics: months yyyymm (inclusive; 0: no
// bound) and optionally one agency, ward or procedure.
type StatFilter struct {
	FromMonth, ToMonth int
	AgencyID           string
	WardCode           string
	ProcedureID        string
}

// Figures are the counts of a group of dossiers.
type Figures struct {
	Key       string // the agency id, ward code, procedure id, month (yyyymm) or channel
	Received  int
	Online    int // received through the portal
	Finished  int
	OnTime    int
	LateDays  int // working days of delay charged to the group (agencies only)
	ByChannel map[Channel]int
}

// OnTimeRate is the share of finished dossiers finished on time, in
// percent; -1 when none was finished.
func (f Figures) OnTimeRate() float64 {
	if f.Finished == 0 {
		return -1
	}
	return 100 * float64(f.OnTime) / float64(f.Finished)
}

// OnlineRate is the share of received dossiers that came through the
// portal, in percent; -1 when none was received.
func (f Figures) OnlineRate() float64 {
	if f.Received == 0 {
		return -1
	}
	return 100 * float64(f.Online) / float64(f.Received)
}

// Dimensions a breakdown can group by.
var Dimensions = []string{"agency", "ward", "procedure", "month", "channel"}

// Stats sums the statistics up by dimension ("" for one total). It reads the
// summary kept with every receipt and finish, never the dossiers, so it
// answers at any size. A dossier is received once, by the agency that
// received it, and finished once, by the agency that finished it.
func (s *Service) Stats(ctx context.Context, by string, f StatFilter) ([]Figures, error) {
	col := map[string]string{"": "''", "agency": "agency_id", "ward": "ward_code", "procedure": "procedure_id",
		"month": "CAST(month AS TEXT)", "channel": "channel"}[by]
	if col == "" {
		return nil, apperr.InvalidFields(map[string]string{"by": "procedure.dimension_invalid"})
	}
	sc, err := s.scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	cond, args := sc.sql(1, "")
	where := []string{cond}
	add := func(c string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(c, len(args)))
	}
	if f.FromMonth > 0 {
		add("month >= $%d", int64(f.FromMonth))
	}
	if f.ToMonth > 0 {
		add("month <= $%d", int64(f.ToMonth))
	}
	if f.AgencyID != "" {
		add("agency_id = $%d", f.AgencyID)
	}
	if f.WardCode != "" {
		add("ward_code = $%d", f.WardCode)
	}
	if f.ProcedureID != "" {
		add("procedure_id = $%d", f.ProcedureID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+col+`, channel, SUM(received), SUM(finished), SUM(on_time), SUM(late_days)
FROM proc_stat WHERE `+strings.Join(where, " AND ")+groupBy(by, col, ", channel")+` ORDER BY 1`, args...)
	if err != nil {
		return nil, fmt.Errorf("statistics: %w", err)
	}
	defer rows.Close()
	var out []Figures
	idx := map[string]int{}
	for rows.Next() {
		var key, channel string
		var received, finished, onTime, late int
		if err := rows.Scan(&key, &channel, &received, &finished, &onTime, &late); err != nil {
			return nil, err
		}
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, Figures{Key: key, ByChannel: map[Channel]int{}})
		}
		g := &out[i]
		g.Received += received
		g.Finished += finished
		g.OnTime += onTime
		g.LateDays += late
		g.ByChannel[Channel(channel)] += received
		if Channel(channel) == ViaPortal {
			g.Online += received
		}
	}
	return out, rows.Err()
}

// Backlog is where the open dossiers stand today.
type Backlog struct {
	Key     string // the agency id or ward code
	Open    int
	Overdue int
	DueSoon int
	Paused  int
}

// Backlogs counts the open dossiers per agency or ward ("" for one total),
// from the dossiers' stored due days: the same classification as StateOf.
func (s *Service) Backlogs(ctx context.Context, by string) ([]Backlog, error) {
	col := map[string]string{"": "''", "agency": "agency_id", "ward": "ward_code"}[by]
	if col == "" {
		return nil, apperr.InvalidFields(map[string]string{"by": "procedure.dimension_invalid"})
	}
	sc, err := s.scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	cal, err := s.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	today := workday.DayOf(s.db.Now())
	soon := cal.AddWorkingDays(today, 1)
	cond, args := sc.sql(1, "")
	args = append(args, int64(today), int64(soon))
	n := len(args)
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT %s, COUNT(*),
  COALESCE(SUM(CASE WHEN paused_at IS NULL AND due_day < $%d THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN paused_at IS NULL AND due_day >= $%d AND due_day <= $%d THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN paused_at IS NOT NULL THEN 1 ELSE 0 END), 0)
FROM proc_dossier WHERE %s AND %s%s ORDER BY 1`, col, n-1, n-1, n, cond, openSQL, groupBy(by, col, "")), args...)
	if err != nil {
		return nil, fmt.Errorf("backlog: %w", err)
	}
	defer rows.Close()
	var out []Backlog
	for rows.Next() {
		var b Backlog
		if err := rows.Scan(&b.Key, &b.Open, &b.Overdue, &b.DueSoon, &b.Paused); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// groupBy is the GROUP BY clause: the dimension's column and more; a total
// groups by more alone, or not at all (PostgreSQL refuses to group by a
// constant).
func groupBy(by, col, more string) string {
	switch {
	case by != "":
		return " GROUP BY " + col + more
	case more != "":
		return " GROUP BY " + strings.TrimPrefix(more, ", ")
	}
	return ""
}
