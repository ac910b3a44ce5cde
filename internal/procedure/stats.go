package procedure

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/procedure/workday"
)

// StatFilter selects the statistics: months yyyymm, inclusive; 0: no
// bound.
type StatFilter struct {
	FromMonth, ToMonth int
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

// Stats sums the statistics up by dimension ("" for one total). It reads
// the summaries kept with every receipt and finish, never the dossiers, so
// it answers at any size: a dossier is received once, by the agency that
// received it, and finished once, by the agency that finished it; late days
// go to the agencies that held it late (per procedure, they count once).
// The one exception: a caller scoped to a ward or an agency asking by
// procedure gets figures counted from its own dossiers, where each is
// counted with the agency holding it now.
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
	table := "proc_stat_unit"
	var where []string
	var args []any
	switch {
	case by == "procedure" && (sc.ward != "" || sc.agency != "" || sc.none):
		return s.statsLive(ctx, sc, f)
	case by == "procedure":
		table = "proc_stat_procedure"
	default:
		cond, a := sc.sql(1, "")
		where, args = append(where, cond), a
	}
	add := func(c string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(c, len(args)))
	}
	add("month >= $%d", int64(f.FromMonth))
	if f.ToMonth > 0 {
		add("month <= $%d", int64(f.ToMonth))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+col+`, channel, SUM(received), SUM(finished), SUM(on_time), SUM(late_days)
FROM `+table+` WHERE `+strings.Join(where, " AND ")+groupBy(by, col, ", channel")+` ORDER BY 1`, args...)
	if err != nil {
		return nil, fmt.Errorf("statistics: %w", err)
	}
	return collectFigures(rows)
}

// collectFigures folds rows of key, channel, received, finished, on time
// and late days into one Figures per key.
func collectFigures(rows *sql.Rows) ([]Figures, error) {
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

// monthStart is the first moment of month yyyymm in Vietnam.
func monthStart(m int) time.Time {
	return time.Date(m/100, time.Month(m%100), 1, 0, 0, 0, 0, workday.Zone)
}

// statsLive counts a scoped caller's dossiers by procedure from the
// dossiers themselves: received in the months by their receipt, finished
// by their finish; on time means finished by the end of the due day.
func (s *Service) statsLive(ctx context.Context, sc scope, f StatFilter) ([]Figures, error) {
	lo, hi := int64(0), int64(1)<<62
	if f.FromMonth > 0 {
		lo = db.Micros(monthStart(f.FromMonth))
	}
	if f.ToMonth > 0 {
		hi = db.Micros(monthStart(f.ToMonth).AddDate(0, 1, 0))
	}
	cond, args := sc.sql(3, "")
	args = append([]any{lo, hi}, args...)
	// The end of due day d in Vietnam is ((d+1) × 86,400 − 25,200) s.
	rows, err := s.db.QueryContext(ctx, `SELECT procedure_id, channel, SUM(received), SUM(finished), SUM(on_time), SUM(late_days) FROM (
  SELECT procedure_id, channel, 1 AS received, 0 AS finished, 0 AS on_time, 0 AS late_days
  FROM proc_dossier WHERE `+cond+` AND received_at >= $1 AND received_at < $2
  UNION ALL
  SELECT procedure_id, channel, 0, 1, CASE WHEN finished_at < ((due_day + 1) * 86400 - 25200) * 1000000 THEN 1 ELSE 0 END, late_days
  FROM proc_dossier WHERE `+cond+` AND finished_at >= $1 AND finished_at < $2
) x GROUP BY procedure_id, channel ORDER BY 1`, args...)
	if err != nil {
		return nil, fmt.Errorf("statistics: %w", err)
	}
	return collectFigures(rows)
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
