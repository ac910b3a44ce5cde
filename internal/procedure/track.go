package procedure

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"sync"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/procedure/workday"
)

// Tracking is what a citizen sees of a dossier: where it is, never who
// applied or what they gave.
type Tracking struct {
	Code       string
	Procedure  string
	Status     Status
	State      workday.State
	ReceivedAt time.Time
	Due        workday.Day
	DueKnown   bool
	FinishedAt time.Time
	ReturnedAt time.Time
	Steps      []TrackStep
}

// TrackStep is a step as the public sees it.
type TrackStep struct {
	Action Action
	Status Status
	At     time.Time
	Agency string // the holding agency's name
	Note   string // shown for supplement requests and rejections only: they tell the applicant what to do
}

// Track finds a dossier by its code (or an old one) and a second factor, the
// last four digits of the applicant's phone or citizen ID. An unknown code
// and a wrong factor give the same answer, so codes cannot be probed.
func (s *Service) Track(ctx context.Context, code, factor string) (Tracking, error) {
	notFound := apperr.New(apperr.NotFound, "procedure.track_not_found")
	factor = digitsOnly(factor)
	if len(factor) != 4 {
		return Tracking{}, apperr.InvalidFields(map[string]string{"factor": "procedure.track_factor_invalid"})
	}
	d, procName, err := s.trackLookup(ctx, NormalizeCode(code))
	if apperr.Is(err, apperr.NotFound) {
		return Tracking{}, notFound
	}
	if err != nil {
		return Tracking{}, err
	}
	match := 0
	for _, v := range []string{digitsOnly(d.Phone), d.CitizenID} {
		if len(v) >= 4 {
			match |= subtle.ConstantTimeCompare([]byte(v[len(v)-4:]), []byte(factor))
		}
	}
	if match != 1 {
		return Tracking{}, notFound
	}
	st, err := s.Steps(ctx, d.ID)
	if err != nil {
		return Tracking{}, err
	}
	// The state and due day only: who held it how long is not the
	// public's, and the day-by-day share is the costly part of the clock.
	cal, err := s.Calendar(ctx)
	if err != nil {
		return Tracking{}, err
	}
	c := cal.Status(clock(d, st), s.db.Now())
	t := Tracking{Code: d.Code, Procedure: procName, Status: d.Status, State: c.State, ReceivedAt: d.ReceivedAt, Due: c.Due,
		DueKnown: c.DueKnown, FinishedAt: d.FinishedAt, ReturnedAt: d.ReturnedAt}
	for _, x := range st {
		ts := TrackStep{Action: x.Action, Status: x.Status, At: x.At, Agency: s.cachedAgencyName(ctx, x.AgencyID)}
		if x.Action == ActRequest || x.Action == ActReject {
			ts.Note = x.Note
		}
		t.Steps = append(t.Steps, ts)
	}
	return t, nil
}

// trackCols are a tracked dossier's columns and its procedure's name.
const trackCols = `d.id, d.code, d.procedure_id, d.agency_id, d.ward_code, d.channel, d.applicant, d.citizen_id, d.phone, d.address,
d.address_ward, d.papers, d.status, d.days, d.received_at, d.due_day, d.paused_at, d.paused_days, d.finished_at, d.returned_at,
d.late_days, d.version, d.created_at, d.updated_at, p.name`

// TrackQuery finds a dossier by any of its codes, its own or an old one
// ($1), with its procedure's name: one index, so an unknown code costs the
// same work as a known one. Exported for the benchmark's bare handler,
// which must run the very same SELECT.
const TrackQuery = `SELECT ` + trackCols + `
FROM proc_dossier_alias a JOIN proc_dossier d ON d.id = a.dossier_id JOIN proc_procedure p ON p.id = d.procedure_id
WHERE a.code = $1`

// StepsQuery reads a dossier's steps ($1: its id) in order.
const StepsQuery = `SELECT seq, action, status, agency_id, actor, at, note FROM proc_step WHERE dossier_id = $1 ORDER BY seq`

// trackLookup reads the dossier with a code, or an old code, and its
// procedure's name in one statement: tracking is the public's busiest page.
func (s *Service) trackLookup(ctx context.Context, code string) (Dossier, string, error) {
	d, name, err := scanTracked(s.db.QueryRowContext(ctx, TrackQuery, code))
	return d, name, db.NotFoundIfNoRows(err, "procedure.dossier_not_found")
}

func scanTracked(row *sql.Row) (Dossier, string, error) {
	var name string
	d, err := scanDossier(scanWith{row, &name})
	return d, name, err
}

// scanWith scans a row with one more column than scanDossier reads.
type scanWith struct {
	row   *sql.Row
	extra *string
}

func (s scanWith) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra)...) }

// nameCache keeps agency names a few minutes, so a public lookup costs no
// query to the agency register.
type nameCache struct {
	mu sync.RWMutex
	m  map[string]cachedName
}

type cachedName struct {
	name string
	at   time.Time
}

const nameTTL = 5 * time.Minute

// cachedAgencyName names an agency, from the cache when it is fresh.
func (s *Service) cachedAgencyName(ctx context.Context, id string) string {
	now := time.Now()
	s.names.mu.RLock()
	c, ok := s.names.m[id]
	s.names.mu.RUnlock()
	if ok && now.Sub(c.at) < nameTTL {
		return c.name
	}
	name := ""
	if a, err := s.agencies.Agency(ctx, id); err == nil {
		name = a.Name
	}
	s.names.mu.Lock()
	if s.names.m == nil || len(s.names.m) > 10000 {
		s.names.m = map[string]cachedName{}
	}
	s.names.m[id] = cachedName{name, now}
	s.names.mu.Unlock()
	return name
}
