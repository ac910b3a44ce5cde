package procedure

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/fold"
	"hopnhat/internal/procedure/workday"
)

// Agency is an agency of the agency register, as procedures see it.
type Agency struct {
	ID, Name, Code string
	WardCode       string // for a ward's people's committee
	Current        bool   // an agency of the merged province, in force
}

// Agencies is the agency register.
type Agencies interface {
	// Agency returns one agency; an unknown id is an apperr.NotFound.
	Agency(ctx context.Context, id string) (Agency, error)
	// ByCode finds an agency by its electronic identifier code.
	ByCode(ctx context.Context, code string) (Agency, error)
	// ResponsibleNow names who does now what an agency did: the agency
	// itself while in force, otherwise its successors.
	ResponsibleNow(ctx context.Context, id string) ([]Agency, error)
	// Current lists the agencies of the merged province, by name.
	Current(ctx context.Context) ([]Agency, error)
	// Former lists the old provinces' agencies, by name: the ones whose
	// work may be reassigned.
	Former(ctx context.Context) ([]Agency, error)
}

// Addresses reads addresses with the administrative-unit register.
type Addresses interface {
	// Locate reads an address in the old or the new form and names the
	// current ward it is in, "" when that cannot be decided.
	Locate(ctx context.Context, address string) (wardCode string, err error)
	// WardName names a current ward ("Phường Lê Chân"), "" if unknown.
	WardName(ctx context.Context, code string) string
}

// Service is the procedure system.
type Service struct {
	db        *db.DB
	log       *slog.Logger
	agencies  Agencies
	addresses Addresses
	cal       atomic.Pointer[loadedCalendar] // nil: to be loaded
	names     nameCache
}

// NewService returns the procedure system on d.
func NewService(d *db.DB, log *slog.Logger, agencies Agencies, addresses Addresses) *Service {
	return &Service{db: d, log: log, agencies: agencies, addresses: addresses}
}

func newID(prefix string) string { return prefix + strings.ToLower(rand.Text()[:16]) }

// Agencies lists the merged province's agencies, for forms.
func (s *Service) Agencies(ctx context.Context) ([]Agency, error) { return s.agencies.Current(ctx) }

// FormerAgencies lists the old provinces' agencies, for reassignment.
func (s *Service) FormerAgencies(ctx context.Context) ([]Agency, error) {
	return s.agencies.Former(ctx)
}

// AgencyName names an agency, or returns its id when the register does not
// know it.
func (s *Service) AgencyName(ctx context.Context, id string) string {
	if a, err := s.agencies.Agency(ctx, id); err == nil {
		return a.Name
	}
	return id
}

// WardName names a current ward, or returns its code when unknown.
func (s *Service) WardName(ctx context.Context, code string) string {
	if s.addresses != nil {
		if n := s.addresses.WardName(ctx, code); n != "" {
			return n
		}
	}
	return code
}

// --- calendar ---

// CalendarDay is a day an administrator set apart from the default calendar.
type CalendarDay struct {
	Day  workday.Day
	Off  bool // an extra day off; false: a weekend or holiday worked
	Note string
}

// loadedCalendar is the calendar and when it was read.
type loadedCalendar struct {
	cal *workday.Calendar
	at  time.Time
}

// calendarTTL is how long a process trusts the calendar it read: a day set
// on one server is counted by the others within it.
const calendarTTL = time.Minute

// Calendar returns the working-day calendar with the administrators' days.
func (s *Service) Calendar(ctx context.Context) (*workday.Calendar, error) {
	if c := s.cal.Load(); c != nil && time.Since(c.at) < calendarTTL {
		return c.cal, nil
	}
	days, err := s.CalendarDays(ctx)
	if err != nil {
		return nil, err
	}
	ov := make([]workday.Override, len(days))
	for i, d := range days {
		ov[i] = workday.Override{Day: d.Day, Kind: workday.WorkDay, Note: d.Note}
		if d.Off {
			ov[i].Kind = workday.DayOff
		}
	}
	c, err := workday.New(ov)
	if err != nil {
		return nil, err
	}
	s.cal.Store(&loadedCalendar{c, time.Now()})
	return c, nil
}

// CalendarDays lists the administrators' days, in date order.
func (s *Service) CalendarDays(ctx context.Context) ([]CalendarDay, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT day, kind, note FROM proc_calendar_day ORDER BY day`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CalendarDay
	for rows.Next() {
		var d CalendarDay
		var day int64
		var kind string
		if err := rows.Scan(&day, &kind, &d.Note); err != nil {
			return nil, err
		}
		d.Day, d.Off = workday.Day(day), kind == "off"
		out = append(out, d)
	}
	return out, rows.Err()
}

// SetCalendarDay records a day off or a day worked; it replaces what the day
// had. Due days already computed stay as they are: a dossier's clock is set
// when it moves.
func (s *Service) SetCalendarDay(ctx context.Context, d CalendarDay) error {
	var ok bool
	if d.Note, ok = text(d.Note, 200); !ok {
		return apperr.InvalidFields(map[string]string{"note": "procedure.text_too_long"})
	}
	if y, _, _ := d.Day.Date(); y < 2000 || y > 2100 {
		return apperr.InvalidFields(map[string]string{"day": "error.date_invalid"})
	}
	kind := "work"
	if d.Off {
		kind = "off"
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO proc_calendar_day (day, kind, note, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, note = excluded.note, updated_at = excluded.updated_at`,
			int64(d.Day), kind, d.Note, db.Micros(tx.Now)); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "procedure.calendar.set", ObjectType: "calendar_day", ObjectID: d.Day.String(),
			Details: map[string]any{"kind": kind, "note": d.Note}})
		return err
	})
	s.cal.Store(nil)
	if err != nil {
		return err
	}
	return s.reclock(ctx, d.Day)
}

// DeleteCalendarDay returns a day to the default calendar.
func (s *Service) DeleteCalendarDay(ctx context.Context, day workday.Day) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM proc_calendar_day WHERE day = $1`, int64(day))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "procedure.calendar_day_not_found")
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "procedure.calendar.delete", ObjectType: "calendar_day", ObjectID: day.String()})
		return err
	})
	s.cal.Store(nil)
	if err != nil {
		return err
	}
	return s.reclock(ctx, day)
}

// reclock sets the stored clock of the open dossiers whose counting a
// changed calendar day falls into (received before it, due on or after
// it) from their steps and the new calendar, so lists, tiles and the
// dossier page agree at once. Finished dossiers keep the clock they were
// finished with. Versions stay: nothing an officer typed is out of date.
func (s *Service) reclock(ctx context.Context, day workday.Day) error {
	cal, err := s.Calendar(ctx)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM proc_dossier WHERE `+openSQL+` AND due_day >= $1 AND received_at < $2`,
		int64(day), db.Micros(day.Time()))
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for len(ids) > 0 {
		batch := ids[:min(500, len(ids))]
		ids = ids[len(batch):]
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			for _, id := range batch {
				d, err := s.get(ctx, tx, id)
				if err != nil {
					return err
				}
				st, err := steps(ctx, tx, id)
				if err != nil {
					return err
				}
				w := clock(d, st)
				status := cal.Status(w, tx.Now)
				paused := time.Time{}
				if status.State == workday.Paused {
					paused = pauseStart(w)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE proc_dossier SET due_day = $1, paused_at = $2, paused_days = $3 WHERE id = $4 AND version = $5`,
					int64(status.Due), db.NullMicros(paused), int64(pausedDays(cal, w, tx.Now)), id, d.Version); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// --- catalogue ---

const procCols = `id, code, name, field, level, agency_id, days, fee, online, papers, active, version, created_at, updated_at`

func scanProcedure(sc interface{ Scan(...any) error }) (Procedure, error) {
	var p Procedure
	var level, online, papers string
	var days, active, created, updated int64
	err := sc.Scan(&p.ID, &p.Code, &p.Name, &p.Field, &level, &p.AgencyID, &days, &p.Fee, &online, &papers, &active, &p.Version, &created, &updated)
	p.Level, p.Online, p.Days, p.Active = Level(level), Online(online), int(days), active != 0
	if papers != "" {
		p.Papers = strings.Split(papers, "\n")
	}
	p.CreatedAt, p.UpdatedAt = db.FromMicros(created), db.FromMicros(updated)
	return p, err
}

// Procedure returns one procedure.
func (s *Service) Procedure(ctx context.Context, id string) (Procedure, error) {
	p, err := scanProcedure(s.db.QueryRowContext(ctx, `SELECT `+procCols+` FROM proc_procedure WHERE id = $1`, id))
	return p, db.NotFoundIfNoRows(err, "procedure.not_found")
}

// ProcedureByCode returns the procedure with a national code.
func (s *Service) ProcedureByCode(ctx context.Context, code string) (Procedure, error) {
	p, err := scanProcedure(s.db.QueryRowContext(ctx, `SELECT `+procCols+` FROM proc_procedure WHERE code = $1`,
		strings.ToUpper(strings.TrimSpace(code))))
	return p, db.NotFoundIfNoRows(err, "procedure.not_found")
}

// ProcedureFilter selects procedures.
type ProcedureFilter struct {
	Q        string // name or code, diacritics and case ignored
	Field    string
	Level    Level
	AgencyID string
	Online   Online
	Active   bool // only active ones
	Limit    int
	Offset   int
}

// Procedures lists the procedures matching f, by name.
func (s *Service) Procedures(ctx context.Context, f ProcedureFilter) ([]Procedure, error) {
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 100
	}
	like := "%" + db.EscapeLike(fold.String(strings.TrimSpace(f.Q))) + "%"
	active := int64(0)
	if f.Active {
		active = 1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+procCols+` FROM proc_procedure
WHERE name_fold LIKE $1 ESCAPE '\' AND ($2 = '' OR field = $2) AND ($3 = '' OR level = $3) AND ($4 = '' OR agency_id = $4)
  AND ($5 = '' OR online = $5) AND ($6 = 0 OR active = 1)
ORDER BY name_fold, code LIMIT $7 OFFSET $8`, like, f.Field, string(f.Level), f.AgencyID, string(f.Online), active, f.Limit, f.Offset)
	if err != nil {
		return nil, fmt.Errorf("list procedures: %w", err)
	}
	defer rows.Close()
	var out []Procedure
	for rows.Next() {
		p, err := scanProcedure(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// checkAgency refuses a responsible agency the register does not have.
func (s *Service) checkAgency(ctx context.Context, id string, f map[string]string, field string) error {
	if id == "" {
		f[field] = "procedure.agency_required"
		return nil
	}
	if _, err := s.agencies.Agency(ctx, id); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			f[field] = "procedure.agency_unknown"
			return nil
		}
		return err
	}
	return nil
}

// CreateProcedure adds a procedure to the catalogue.
func (s *Service) CreateProcedure(ctx context.Context, p Procedure) (Procedure, error) {
	f := p.check()
	if err := s.checkAgency(ctx, p.AgencyID, f, "agency_id"); err != nil {
		return Procedure{}, err
	}
	if len(f) > 0 {
		return Procedure{}, apperr.InvalidFields(f)
	}
	p.ID, p.Version, p.Active = newID("tt_"), 1, true
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		p.CreatedAt, p.UpdatedAt = tx.Now, tx.Now
		if err := insertProcedure(ctx, tx, &p); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "procedure.create", ObjectType: "procedure", ObjectID: p.ID,
			Details: map[string]any{"code": p.Code, "name": p.Name}})
		return err
	})
	return p, err
}

func insertProcedure(ctx context.Context, tx *db.Tx, p *Procedure) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO proc_procedure (`+procCols+`, name_fold)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)`,
		p.ID, p.Code, p.Name, p.Field, string(p.Level), p.AgencyID, int64(p.Days), p.Fee, string(p.Online),
		strings.Join(p.Papers, "\n"), boolInt(p.Active), p.Version, db.Micros(tx.Now), foldName(*p))
	if apperr.Is(err, apperr.Conflict) {
		return apperr.InvalidFields(map[string]string{"code": "procedure.code_taken"})
	}
	return err
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// UpdateProcedure replaces a procedure's fields, refusing a stale version.
// Dossiers already received keep the processing time they were received
// with.
func (s *Service) UpdateProcedure(ctx context.Context, id string, p Procedure, version int64) (Procedure, error) {
	before, err := s.Procedure(ctx, id)
	if err != nil {
		return Procedure{}, err
	}
	f := p.check()
	if err := s.checkAgency(ctx, p.AgencyID, f, "agency_id"); err != nil {
		return Procedure{}, err
	}
	if len(f) > 0 {
		return Procedure{}, apperr.InvalidFields(f)
	}
	changes := procedureChanges(before, p)
	if len(changes) == 0 && before.Version == version {
		return before, nil
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := updateProcedure(ctx, tx, id, p, version); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "procedure.update", ObjectType: "procedure", ObjectID: id,
			Details: map[string]any{"code": p.Code, "changes": changes}})
		return err
	})
	if err != nil {
		return Procedure{}, err
	}
	return s.Procedure(ctx, id)
}

// updateProcedure writes p over the procedure id at version (0: any).
func updateProcedure(ctx context.Context, tx *db.Tx, id string, p Procedure, version int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE proc_procedure SET code = $1, name = $2, name_fold = $3, field = $4, level = $5,
agency_id = $6, days = $7, fee = $8, online = $9, papers = $10, active = $11, version = version + 1, updated_at = $12
WHERE id = $13 AND ($14 = 0 OR version = $14)`,
		p.Code, p.Name, foldName(p), p.Field, string(p.Level), p.AgencyID, int64(p.Days), p.Fee, string(p.Online),
		strings.Join(p.Papers, "\n"), boolInt(p.Active), db.Micros(tx.Now), id, version)
	if apperr.Is(err, apperr.Conflict) {
		return apperr.InvalidFields(map[string]string{"code": "procedure.code_taken"})
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return apperr.New(apperr.Conflict, "procedure.stale")
	}
	return nil
}

func procedureChanges(a, b Procedure) map[string]any {
	m := map[string]any{}
	audit.Diff(m, "code", a.Code, b.Code)
	audit.Diff(m, "name", a.Name, b.Name)
	audit.Diff(m, "field", a.Field, b.Field)
	audit.Diff(m, "level", a.Level, b.Level)
	audit.Diff(m, "agency_id", a.AgencyID, b.AgencyID)
	audit.Diff(m, "days", a.Days, b.Days)
	audit.Diff(m, "fee", a.Fee, b.Fee)
	audit.Diff(m, "online", a.Online, b.Online)
	audit.Diff(m, "papers", strings.Join(a.Papers, "; "), strings.Join(b.Papers, "; "))
	audit.Diff(m, "active", a.Active, b.Active)
	return m
}

// ProcedureCounts sums the catalogue up for the KPI tiles.
type ProcedureCounts struct {
	Total, Online, FullOnline int
}

// CountProcedures counts the active procedures and those done online.
func (s *Service) CountProcedures(ctx context.Context) (ProcedureCounts, error) {
	var c ProcedureCounts
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN online <> 'offline' THEN 1 ELSE 0 END), 0),
COALESCE(SUM(CASE WHEN online = 'full' THEN 1 ELSE 0 END), 0) FROM proc_procedure WHERE active = 1`).Scan(&c.Total, &c.Online, &c.FullOnline)
	return c, err
}

// Fields lists the fields the catalogue uses, for filters.
func (s *Service) Fields(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT field FROM proc_procedure WHERE field <> '' ORDER BY field`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
