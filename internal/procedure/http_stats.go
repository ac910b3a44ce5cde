package procedure

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/web"
	"hopnhat/internal/platform/workbook"
)

// The targets leaders are held to: more than 90 % of dossiers finished on
// time, and 70 % received online, up from 27.4 %.
const (
	onTimeTarget   = 90.0
	onlineTarget   = 70.0
	onlineBaseline = 27.4
)

func (d *dossierHandlers) registerStats(rt *web.Router) {
	rt.Handle("GET /dossiers/stats", dossierReaders, d.statsPage)
	rt.Handle("GET /dossiers/stats.xlsx", dossierReaders, d.statsXLSX)
	rt.Handle("GET /api/v1/dossier-stats", dossierReaders, d.apiStats)
}

// parseStatMonth reads a month as people and programs write it — 07/2025,
// 7/2025, 2025-07, 202507 — as yyyymm; "" is 0, no bound.
func parseStatMonth(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	var y, m int
	var err error
	switch {
	case len(s) == 6 && !strings.ContainsAny(s, "-/"):
		y, err = strconv.Atoi(s[:4])
		if err == nil {
			m, err = strconv.Atoi(s[4:])
		}
	case strings.Contains(s, "-"):
		a, b, _ := strings.Cut(s, "-")
		y, err = strconv.Atoi(a)
		if err == nil {
			m, err = strconv.Atoi(b)
		}
	case strings.Contains(s, "/"):
		a, b, _ := strings.Cut(s, "/")
		m, err = strconv.Atoi(a)
		if err == nil {
			y, err = strconv.Atoi(b)
		}
	default:
		return 0, false
	}
	if err != nil || y < 2000 || y > 2100 || m < 1 || m > 12 {
		return 0, false
	}
	return y*100 + m, true
}

// statFilterOf reads the month range from a query.
func statFilterOf(q url.Values) (StatFilter, error) {
	var f StatFilter
	bad := map[string]string{}
	var ok bool
	if f.FromMonth, ok = parseStatMonth(q.Get("from")); !ok {
		bad["from"] = "stats.month_invalid"
	}
	if f.ToMonth, ok = parseStatMonth(q.Get("to")); !ok {
		bad["to"] = "stats.month_invalid"
	}
	if len(bad) == 0 && f.FromMonth > 0 && f.ToMonth > 0 && f.FromMonth > f.ToMonth {
		bad["to"] = "stats.range_invalid"
	}
	if len(bad) > 0 {
		return f, apperr.InvalidFields(bad)
	}
	return f, nil
}

// monthLabel writes yyyymm as 07/2025.
func monthLabel(m int) string {
	if m <= 0 {
		return ""
	}
	return fmt.Sprintf("%02d/%04d", m%100, m/100)
}

type statsRow struct {
	Key, Name string
	Figures
	Channels []int // received per channel, in the order of Channels
}

type statsTable struct {
	By   string
	Rows []statsRow
	More int // rows the page leaves to the workbook
}

// pageRows is how many procedures the statistics page lists, the busiest:
// a catalogue has near two thousand, the workbook has them all.
const pageRows = 20

type backlogRow struct {
	Key, Name   string
	OverdueHref string
	Backlog
}

type backlogTable struct {
	By   string
	Rows []backlogRow
}

type statsReport struct {
	From, To           int
	FromValue, ToValue string
	Total              statsRow
	Backlog            Backlog
	Procedures         ProcedureCounts
	Tables             []statsTable
	Backlogs           []backlogTable
	Channels           []Channel
	OnTimeTarget       float64
	OnlineTarget       float64
	OnlineBaseline     float64
	Targets            [3]string // the on-time and online targets and the online baseline, written in the reader's language
	Period             string    // the range in words
	Query              string    // the range, for the workbook's link
}

// periodOf says a month range in words.
func periodOf(from, to int, l *web.Localizer) string {
	switch {
	case from > 0 && to > 0:
		return l.T("stats.period", monthLabel(from), monthLabel(to))
	case from > 0:
		return l.T("stats.period_from", monthLabel(from))
	case to > 0:
		return l.T("stats.period_to", monthLabel(to))
	}
	return l.T("stats.all_time")
}

// statsReport gathers the figures of the range of f in the caller's scope,
// named in l's language.
func (d *dossierHandlers) statsReport(ctx context.Context, f StatFilter, l *web.Localizer) (statsReport, error) {
	rep := statsReport{From: f.FromMonth, To: f.ToMonth, FromValue: monthLabel(f.FromMonth), ToValue: monthLabel(f.ToMonth),
		Channels: Channels, OnTimeTarget: onTimeTarget, OnlineTarget: onlineTarget, OnlineBaseline: onlineBaseline,
		Period:  periodOf(f.FromMonth, f.ToMonth, l),
		Targets: [3]string{l.Decimal(onTimeTarget, 0), l.Decimal(onlineTarget, 0), l.Decimal(onlineBaseline, 1)}}
	q := url.Values{}
	if f.FromMonth > 0 {
		q.Set("from", rep.FromValue)
	}
	if f.ToMonth > 0 {
		q.Set("to", rep.ToValue)
	}
	if len(q) > 0 {
		rep.Query = "?" + q.Encode()
	}
	n := newDossierNames(ctx, d.s)
	row := func(by string, x Figures) statsRow {
		r := statsRow{Key: x.Key, Figures: x}
		for _, c := range Channels {
			r.Channels = append(r.Channels, x.ByChannel[c])
		}
		switch by {
		case "agency":
			r.Name = n.agency(x.Key)
		case "ward":
			r.Name = n.ward(x.Key)
		case "procedure":
			r.Name = n.procedure(x.Key)
		case "month":
			m, _ := strconv.Atoi(x.Key)
			r.Name = monthLabel(m)
		case "channel":
			r.Name = l.T("dossier.channel." + x.Key)
		}
		if r.Name == "" && by == "ward" {
			r.Name = l.T("stats.no_ward")
		}
		return r
	}
	total, err := d.s.Stats(ctx, "", f)
	if err != nil {
		return rep, err
	}
	rep.Total = row("", Figures{ByChannel: map[Channel]int{}})
	for _, x := range total {
		rep.Total = row("", x)
	}
	for _, by := range Dimensions {
		fs, err := d.s.Stats(ctx, by, f)
		if err != nil {
			return rep, err
		}
		t := statsTable{By: by}
		for _, x := range fs {
			t.Rows = append(t.Rows, row(by, x))
		}
		switch by {
		case "agency", "ward", "procedure":
			slices.SortStableFunc(t.Rows, func(a, b statsRow) int { return strings.Compare(a.Name, b.Name) })
		case "channel":
			slices.SortStableFunc(t.Rows, func(a, b statsRow) int {
				return slices.Index(Channels, Channel(a.Key)) - slices.Index(Channels, Channel(b.Key))
			})
		}
		rep.Tables = append(rep.Tables, t)
	}
	if rep.Backlog, err = d.s.backlogTotal(ctx); err != nil {
		return rep, err
	}
	for _, by := range []string{"agency", "ward"} {
		bs, err := d.s.Backlogs(ctx, by)
		if err != nil {
			return rep, err
		}
		t := backlogTable{By: by}
		for _, b := range bs {
			r := backlogRow{Key: b.Key, Backlog: b}
			lf := DossierFilter{State: "overdue"}
			if by == "agency" {
				r.Name, lf.AgencyID = n.agency(b.Key), b.Key
			} else {
				r.Name, lf.WardCode = n.ward(b.Key), b.Key
				if r.Name == "" {
					r.Name = l.T("stats.no_ward")
				}
			}
			if b.Key != "" {
				r.OverdueHref = listURL(lf, 1)
			}
			t.Rows = append(t.Rows, r)
		}
		slices.SortStableFunc(t.Rows, func(a, b backlogRow) int { return b.Overdue - a.Overdue })
		rep.Backlogs = append(rep.Backlogs, t)
	}
	if rep.Procedures, err = d.s.CountProcedures(ctx); err != nil {
		return rep, err
	}
	return rep, nil
}

func (d *dossierHandlers) statsPage(w http.ResponseWriter, r *http.Request) error {
	f, err := statFilterOf(r.URL.Query())
	if err != nil {
		return err
	}
	rep, err := d.statsReport(r.Context(), f, d.ui.Catalog.For(web.LangOf(r)))
	if err != nil {
		return err
	}
	for i := range rep.Tables {
		if t := &rep.Tables[i]; t.By == "procedure" && len(t.Rows) > pageRows {
			rows := slices.Clone(t.Rows)
			slices.SortStableFunc(rows, func(a, b statsRow) int { return b.Received - a.Received })
			t.Rows, t.More = rows[:pageRows], len(rows)-pageRows
		}
	}
	return d.pages.Render(w, r, "stats", rep)
}

// rate is a percentage for a workbook cell, one decimal; none is blank.
func rate(p float64) any {
	if p < 0 {
		return ""
	}
	return math.Round(p*10) / 10
}

// writeStats writes the report as a workbook: the figures, one sheet per
// breakdown, and the backlog.
func writeStats(f *excelize.File, rep statsReport, t func(string, ...any) string) error {
	summary := [][]any{
		{t("stats.title")},
		{t("stats.period_label"), rep.Period},
		{},
		{t("stats.on_time_rate"), rate(rep.Total.OnTimeRate()), t("stats.target_on_time", rep.Targets[0])},
		{t("stats.online_rate"), rate(rep.Total.OnlineRate()), t("stats.target_online", rep.Targets[1], rep.Targets[2])},
		{t("stats.received"), rep.Total.Received},
		{t("stats.online"), rep.Total.Online},
		{t("stats.finished"), rep.Total.Finished},
		{t("stats.on_time"), rep.Total.OnTime},
		{t("stats.open"), rep.Backlog.Open},
		{t("stats.overdue"), rep.Backlog.Overdue},
		{t("stats.due_soon"), rep.Backlog.DueSoon},
		{t("stats.paused"), rep.Backlog.Paused},
		{t("stats.procedures_online"), rep.Procedures.Online, rep.Procedures.Total},
		{t("stats.procedures_full_online"), rep.Procedures.FullOnline, rep.Procedures.Total},
	}
	if err := workbook.WriteRows(f, t("stats.sheet_summary"), true, summary); err != nil {
		return err
	}
	for _, tb := range rep.Tables {
		head := []any{t("stats.col." + tb.By), t("stats.received"), t("stats.online"), t("stats.online_rate_pct"), t("stats.finished"),
			t("stats.on_time"), t("stats.on_time_rate_pct")}
		if tb.By == "agency" {
			head = append(head, t("stats.late_days"))
		}
		rows := [][]any{head}
		for _, x := range tb.Rows {
			row := []any{x.Name, x.Received, x.Online, rate(x.OnlineRate()), x.Finished, x.OnTime, rate(x.OnTimeRate())}
			if tb.By == "agency" {
				row = append(row, x.LateDays)
			}
			rows = append(rows, row)
		}
		if err := workbook.WriteRows(f, t("stats.by."+tb.By), false, rows); err != nil {
			return err
		}
	}
	var rows [][]any
	for i, tb := range rep.Backlogs {
		if i > 0 {
			rows = append(rows, []any{})
		}
		rows = append(rows, []any{t("stats.col." + tb.By), t("stats.open"), t("stats.overdue"), t("stats.due_soon"), t("stats.paused")})
		for _, x := range tb.Rows {
			rows = append(rows, []any{x.Name, x.Open, x.Overdue, x.DueSoon, x.Paused})
		}
	}
	return workbook.WriteRows(f, t("stats.sheet_backlog"), false, rows)
}

func (d *dossierHandlers) statsXLSX(w http.ResponseWriter, r *http.Request) error {
	f, err := statFilterOf(r.URL.Query())
	if err != nil {
		return err
	}
	l := d.ui.Catalog.For(web.LangOf(r))
	rep, err := d.statsReport(r.Context(), f, l)
	if err != nil {
		return err
	}
	x := excelize.NewFile()
	defer x.Close()
	if err := writeStats(x, rep, l.T); err != nil {
		return err
	}
	name := "thong-ke-ho-so.xlsx"
	if rep.From > 0 || rep.To > 0 {
		name = fmt.Sprintf("thong-ke-ho-so-%d-%d.xlsx", rep.From, rep.To)
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	return x.Write(w)
}

type figuresJSON struct {
	Key        string          `json:"key"`
	Name       string          `json:"name"`
	Received   int             `json:"received"`
	Online     int             `json:"online"`
	Finished   int             `json:"finished"`
	OnTime     int             `json:"on_time"`
	LateDays   int             `json:"late_days"`
	OnTimeRate *float64        `json:"on_time_rate"` // null: none finished
	OnlineRate *float64        `json:"online_rate"`  // null: none received
	ByChannel  map[Channel]int `json:"by_channel"`
}

func toFiguresJSON(r statsRow) figuresJSON {
	pct := func(p float64) *float64 {
		if p < 0 {
			return nil
		}
		v := math.Round(p*100) / 100
		return &v
	}
	j := figuresJSON{Key: r.Key, Name: r.Name, Received: r.Received, Online: r.Online, Finished: r.Finished, OnTime: r.OnTime,
		LateDays: r.LateDays, OnTimeRate: pct(r.OnTimeRate()), OnlineRate: pct(r.OnlineRate()), ByChannel: map[Channel]int{}}
	for _, c := range Channels {
		j.ByChannel[c] = r.ByChannel[c]
	}
	return j
}

func (d *dossierHandlers) apiStats(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	by := q.Get("by")
	if by != "" && !slices.Contains(Dimensions, by) {
		return apperr.InvalidFields(map[string]string{"by": "stats.by_invalid"})
	}
	f, err := statFilterOf(q)
	if err != nil {
		return err
	}
	rep, err := d.statsReport(r.Context(), f, d.ui.Catalog.For(web.LangOf(r)))
	if err != nil {
		return err
	}
	rows := []figuresJSON{}
	for _, t := range rep.Tables {
		if t.By == by {
			for _, x := range t.Rows {
				rows = append(rows, toFiguresJSON(x))
			}
		}
	}
	out := map[string]any{"by": by, "from": f.FromMonth, "to": f.ToMonth, "total": toFiguresJSON(rep.Total), "rows": rows,
		"backlog": map[string]int{"open": rep.Backlog.Open, "overdue": rep.Backlog.Overdue, "due_soon": rep.Backlog.DueSoon,
			"paused": rep.Backlog.Paused},
		"procedures": map[string]int{"total": rep.Procedures.Total, "online": rep.Procedures.Online, "full_online": rep.Procedures.FullOnline}}
	return web.WriteJSON(w, http.StatusOK, out)
}
