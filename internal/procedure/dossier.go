package procedure

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/procedure/workday"
)

// codeAlphabet is Crockford's base 32: no I, L, O or U to misread.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newCode makes a dossier's public code, HS2507-7K3M-9Q2X: the month of
// receipt, then 40 random bits. Tracking also needs the last digits of the
// applicant's phone or ID, and is rate-limited, so the code alone reveals
// nothing and cannot be walked.
func newCode(received time.Time) string {
	var b [8]byte
	rand.Read(b[:])
	var sb strings.Builder
	sb.WriteString("HS")
	sb.WriteString(received.In(workday.Zone).Format("0601"))
	for i, x := range b {
		if i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[x&31])
	}
	return sb.String()
}

// NormalizeCode reads a dossier code as people type it: any case, spaces,
// O for 0 and I or L for 1.
func NormalizeCode(s string) string {
	// "HS" itself has no O, I or L, so the replacements leave it alone.
	s = codeReader.Replace(strings.ToUpper(strings.TrimSpace(s)))
	// One of our codes typed without its dashes, or with spaces for them:
	// HS2611QV86P6QD is HS2611-QV86-P6QD.
	if bare := strings.ReplaceAll(s, "-", ""); len(bare) == 14 && strings.HasPrefix(bare, "HS") && digitsOnly(bare[2:6]) == bare[2:6] &&
		strings.Trim(bare[6:], codeAlphabet) == "" {
		return bare[:6] + "-" + bare[6:10] + "-" + bare[10:]
	}
	return s
}

var codeReader = strings.NewReplacer(" ", "", "O", "0", "I", "1", "L", "1")

const dossierCols = `id, code, procedure_id, agency_id, ward_code, channel, applicant, citizen_id, phone, address, address_ward,
papers, status, days, received_at, due_day, paused_at, paused_days, finished_at, returned_at, late_days, version, created_at, updated_at`

func scanDossier(sc interface{ Scan(...any) error }) (Dossier, error) {
	var d Dossier
	var channel, status, papers string
	var days, due, pausedDays, late, received, created, updated int64
	var paused, finished, returned sql.NullInt64
	err := sc.Scan(&d.ID, &d.Code, &d.ProcedureID, &d.AgencyID, &d.WardCode, &channel, &d.Applicant, &d.CitizenID, &d.Phone,
		&d.Address, &d.AddressWard, &papers, &status, &days, &received, &due, &paused, &pausedDays, &finished, &returned, &late,
		&d.Version, &created, &updated)
	d.Channel, d.Status, d.Days, d.DueDay, d.PausedDays, d.LateDays = Channel(channel), Status(status), int(days), int(due), int(pausedDays), int(late)
	if papers != "" {
		d.Papers = strings.Split(papers, "\n")
	}
	d.ReceivedAt, d.PausedAt, d.FinishedAt, d.ReturnedAt = db.FromMicros(received), db.FromNullMicros(paused), db.FromNullMicros(finished), db.FromNullMicros(returned)
	d.CreatedAt, d.UpdatedAt = db.FromMicros(created), db.FromMicros(updated)
	return d, err
}

// scope is the part of the dossiers a principal may see: all of them, one
// ward's, or one agency's.
type scope struct {
	ward, agency string
	none         bool // an agency scope the register does not know
}

func (s *Service) scopeOf(ctx context.Context) (scope, error) {
	p := reqctx.PrincipalOf(ctx)
	if p == nil {
		return scope{}, nil // the system itself: the CLI, jobs
	}
	switch p.Scope.Kind {
	case reqctx.ScopeWard:
		return scope{ward: p.Scope.Code}, nil
	case reqctx.ScopeAgency:
		a, err := s.agencies.ByCode(ctx, p.Scope.Code)
		if apperr.Is(err, apperr.NotFound) {
			return scope{none: true}, nil
		}
		if err != nil {
			return scope{}, err
		}
		return scope{agency: a.ID}, nil
	}
	return scope{}, nil
}

// allows reports whether the scope covers d.
func (sc scope) allows(d Dossier) bool {
	return !sc.none && (sc.ward == "" || d.WardCode == sc.ward) && (sc.agency == "" || d.AgencyID == sc.agency)
}

// sql returns the scope's condition on proc_dossier's columns, with its
// arguments numbered from n.
func (sc scope) sql(n int, prefix string) (string, []any) {
	if sc.none {
		return "1 = 0", nil
	}
	return fmt.Sprintf("($%d = '' OR %sward_code = $%d) AND ($%d = '' OR %sagency_id = $%d)", n, prefix, n, n+1, prefix, n+1),
		[]any{sc.ward, sc.agency}
}

// ReceiveInput is a dossier as an officer or the portal hands it in.
type ReceiveInput struct {
	ProcedureID string
	Channel     Channel
	Applicant   string
	CitizenID   string
	Phone       string
	Address     string
	Papers      []string
	// WardCode is the current ward the dossier belongs to; empty: the
	// receiving officer's ward, else the ward of the address.
	WardCode string
	// AgencyID is the agency that handles it; empty: the procedure's.
	AgencyID string
	Note     string

	// For dossiers brought over from an old province's system only: when
	// it was received there, and its codes there.
	ReceivedAt time.Time
	OldCodes   []string
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// checkReceive normalises in and names the fields that are wrong.
func checkReceive(in *ReceiveInput, now time.Time) map[string]string {
	f := map[string]string{}
	var ok bool
	if !slices.Contains(Channels, in.Channel) {
		f["channel"] = "procedure.channel_invalid"
	}
	if in.Applicant, ok = text(in.Applicant, 200); !ok || in.Applicant == "" {
		f["applicant"] = "procedure.applicant_invalid"
	}
	in.CitizenID = strings.ReplaceAll(strings.TrimSpace(in.CitizenID), " ", "")
	if in.CitizenID != "" {
		if k := CheckCitizenID(in.CitizenID, now); k != "" {
			f["citizen_id"] = k
		}
	}
	in.Phone = strings.TrimSpace(in.Phone)
	if p := digitsOnly(in.Phone); in.Phone != "" && (len(p) < 9 || len(p) > 12 || strings.Trim(in.Phone, "0123456789 +.-()") != "") {
		f["phone"] = "procedure.phone_invalid"
	}
	if in.CitizenID == "" && in.Phone == "" {
		// Tracking needs one of them as its second factor.
		f["phone"] = "procedure.phone_or_id_required"
	}
	if in.Address, ok = text(in.Address, 500); !ok {
		f["address"] = "procedure.text_too_long"
	}
	if in.Note, ok = text(in.Note, 2000); !ok {
		f["note"] = "procedure.text_too_long"
	}
	var papers []string
	for _, p := range in.Papers {
		if p, ok = text(p, 500); !ok {
			f["papers"] = "procedure.text_too_long"
		} else if p != "" {
			papers = append(papers, p)
		}
	}
	in.Papers = papers
	var codes []string
	for _, c := range in.OldCodes {
		if c = NormalizeCode(c); c != "" && !slices.Contains(codes, c) {
			if len(c) > 60 {
				f["old_codes"] = "procedure.text_too_long"
			}
			codes = append(codes, c)
		}
	}
	in.OldCodes = codes
	if !in.ReceivedAt.IsZero() && in.ReceivedAt.After(now) {
		f["received_at"] = "procedure.received_in_future"
	}
	return f
}

// Receive records a dossier, sets its clock and counts it in the
// statistics.
func (s *Service) Receive(ctx context.Context, in ReceiveInput) (Dossier, error) {
	now := s.db.Now()
	f := checkReceive(&in, now)
	p, err := s.Procedure(ctx, in.ProcedureID)
	if apperr.Is(err, apperr.NotFound) {
		f["procedure_id"] = "procedure.not_found"
	} else if err != nil {
		return Dossier{}, err
	} else if !p.Active {
		f["procedure_id"] = "procedure.inactive"
	}
	sc, err := s.scopeOf(ctx)
	if err != nil {
		return Dossier{}, err
	}
	switch {
	case in.AgencyID == "" && sc.agency != "":
		in.AgencyID = sc.agency // an agency's officer receives for the agency
	case in.AgencyID == "":
		in.AgencyID = p.AgencyID
	}
	if sc.agency != "" && in.AgencyID != sc.agency {
		f["agency_id"] = "procedure.agency_outside_scope"
	}
	migrated := len(in.OldCodes) > 0 || !in.ReceivedAt.IsZero()
	if err := s.checkHolder(ctx, in.AgencyID, f, migrated); err != nil {
		return Dossier{}, err
	}
	addressWard := ""
	if in.Address != "" && s.addresses != nil {
		if addressWard, err = s.addresses.Locate(ctx, in.Address); err != nil {
			s.log.WarnContext(ctx, "address not converted", "err", err)
			addressWard = ""
		}
	}
	switch {
	case in.WardCode != "":
	case sc.ward != "":
		in.WardCode = sc.ward
	default:
		in.WardCode = addressWard
	}
	if sc.ward != "" && in.WardCode != sc.ward {
		f["ward_code"] = "procedure.ward_outside_scope"
	}
	if in.WardCode != "" && s.addresses != nil && s.addresses.WardName(ctx, in.WardCode) == "" {
		f["ward_code"] = "procedure.ward_unknown"
	}
	if len(f) > 0 {
		return Dossier{}, apperr.InvalidFields(f)
	}
	cal, err := s.Calendar(ctx)
	if err != nil {
		return Dossier{}, err
	}
	received := in.ReceivedAt
	if received.IsZero() {
		received = now
	}
	d := Dossier{ID: newID("hs_"), ProcedureID: p.ID, AgencyID: in.AgencyID, WardCode: in.WardCode, Channel: in.Channel,
		Applicant: in.Applicant, CitizenID: in.CitizenID, Phone: in.Phone, Address: in.Address, AddressWard: addressWard,
		Papers: in.Papers, Status: Received, Days: p.Days, ReceivedAt: received, Version: 1, Aliases: in.OldCodes}
	d.DueDay = int(cal.DueDay(workday.DayOf(received), p.Days))
	action := ActReceive
	if len(in.OldCodes) > 0 || !in.ReceivedAt.IsZero() {
		action = ActMigrate
	}
	for attempt := 0; ; attempt++ {
		d.Code = newCode(received)
		err = s.db.InTx(ctx, func(tx *db.Tx) error {
			d.CreatedAt, d.UpdatedAt = tx.Now, tx.Now
			if _, err := tx.ExecContext(ctx, `INSERT INTO proc_dossier (`+dossierCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, NULL, 0, NULL, NULL, 0, 1, $17, $17)`,
				d.ID, d.Code, d.ProcedureID, d.AgencyID, d.WardCode, string(d.Channel), d.Applicant, d.CitizenID, d.Phone, d.Address,
				d.AddressWard, strings.Join(d.Papers, "\n"), string(d.Status), int64(d.Days), db.Micros(d.ReceivedAt), int64(d.DueDay),
				db.Micros(tx.Now)); err != nil {
				return err
			}
			// Every code the dossier is found by, its own first (a clash
			// there is a new code to draw; with an old one, the old
			// code's problem).
			if _, err := tx.ExecContext(ctx, `INSERT INTO proc_dossier_alias (code, dossier_id) VALUES ($1, $2)`, d.Code, d.ID); err != nil {
				return err
			}
			for _, c := range d.Aliases {
				if _, err := tx.ExecContext(ctx, `INSERT INTO proc_dossier_alias (code, dossier_id) VALUES ($1, $2)`, c, d.ID); err != nil {
					if apperr.Is(err, apperr.Conflict) {
						return apperr.InvalidFields(map[string]string{"old_codes": "procedure.old_code_taken"})
					}
					return err
				}
			}
			if err := insertStep(ctx, tx, d.ID, 1, Step{Action: action, Status: Received, AgencyID: d.AgencyID, At: d.ReceivedAt, Note: in.Note}); err != nil {
				return err
			}
			// Summaries in one order everywhere (the procedure's row, then
			// agencies' rows by id), so concurrent writers cannot deadlock.
			if err := bumpProcStat(ctx, tx, monthOf(d.ReceivedAt), d, stat{received: 1}); err != nil {
				return err
			}
			return bumpStat(ctx, tx, monthOf(d.ReceivedAt), d.AgencyID, d, stat{received: 1})
		})
		// A code already taken (one in a trillion a month) gets a new one.
		if apperr.Is(err, apperr.Conflict) && attempt < 3 {
			continue
		}
		return d, err
	}
}

// checkHolder refuses an agency that cannot hold a dossier: one the
// register does not have, or one no longer in force (a dissolved district,
// an old department), unless the dossier is being brought over from an old
// province's system.
func (s *Service) checkHolder(ctx context.Context, id string, f map[string]string, former bool) error {
	if err := s.checkAgency(ctx, id, f, "agency_id"); err != nil || f["agency_id"] != "" || former {
		return err
	}
	a, err := s.agencies.Agency(ctx, id)
	if err != nil {
		return err
	}
	if !a.Current {
		f["agency_id"] = "procedure.agency_not_current"
	}
	return nil
}

func insertStep(ctx context.Context, tx *db.Tx, dossierID string, seq int, st Step) error {
	actor := reqctx.Actor(ctx)
	if actor == "" {
		actor = "system"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO proc_step (dossier_id, seq, action, status, agency_id, actor, at, note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, dossierID, seq, string(st.Action), string(st.Status), st.AgencyID, actor, db.Micros(st.At), st.Note)
	return err
}

// monthOf is the month of t in Vietnam as yyyymm.
func monthOf(t time.Time) int {
	v := t.In(workday.Zone)
	return v.Year()*100 + int(v.Month())
}

// stat is what one event adds to the statistics.
type stat struct{ received, finished, onTime, lateDays int }

func (s *stat) add(o stat) {
	s.received += o.received
	s.finished += o.finished
	s.onTime += o.onTime
	s.lateDays += o.lateDays
}

// bumpStat adds an event to the summary per month, agency, ward and
// channel.
func bumpStat(ctx context.Context, tx *db.Tx, month int, agencyID string, d Dossier, st stat) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO proc_stat_unit (month, agency_id, ward_code, channel, received, finished, on_time, late_days)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (month, agency_id, ward_code, channel) DO UPDATE SET received = proc_stat_unit.received + excluded.received,
  finished = proc_stat_unit.finished + excluded.finished, on_time = proc_stat_unit.on_time + excluded.on_time,
  late_days = proc_stat_unit.late_days + excluded.late_days`,
		int64(month), agencyID, d.WardCode, string(d.Channel), int64(st.received), int64(st.finished), int64(st.onTime), int64(st.lateDays))
	return err
}

// bumpProcStat adds an event to the summary per month, procedure and
// channel.
func bumpProcStat(ctx context.Context, tx *db.Tx, month int, d Dossier, st stat) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO proc_stat_procedure (month, procedure_id, channel, received, finished, on_time, late_days)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (month, procedure_id, channel) DO UPDATE SET received = proc_stat_procedure.received + excluded.received,
  finished = proc_stat_procedure.finished + excluded.finished, on_time = proc_stat_procedure.on_time + excluded.on_time,
  late_days = proc_stat_procedure.late_days + excluded.late_days`,
		int64(month), d.ProcedureID, string(d.Channel), int64(st.received), int64(st.finished), int64(st.onTime), int64(st.lateDays))
	return err
}

// get reads a dossier without the scope check.
func (s *Service) get(ctx context.Context, q db.Querier, id string) (Dossier, error) {
	d, err := scanDossier(q.QueryRowContext(ctx, `SELECT `+dossierCols+` FROM proc_dossier WHERE id = $1`, id))
	return d, db.NotFoundIfNoRows(err, "procedure.dossier_not_found")
}

// Dossier returns a dossier the caller may see, with its old codes. One
// outside the caller's scope is not found, so its existence is not told.
func (s *Service) Dossier(ctx context.Context, id string) (Dossier, error) {
	d, err := s.get(ctx, s.db, id)
	if err != nil {
		return d, err
	}
	sc, err := s.scopeOf(ctx)
	if err != nil {
		return Dossier{}, err
	}
	if !sc.allows(d) {
		return Dossier{}, apperr.New(apperr.NotFound, "procedure.dossier_not_found")
	}
	d.Aliases, err = s.aliases(ctx, d.ID)
	return d, err
}

// DossierByCode finds a dossier the caller may see by its code or an old
// one.
func (s *Service) DossierByCode(ctx context.Context, code string) (Dossier, error) {
	id, err := s.idByCode(ctx, code)
	if err != nil {
		return Dossier{}, err
	}
	return s.Dossier(ctx, id)
}

func (s *Service) idByCode(ctx context.Context, code string) (string, error) {
	code = NormalizeCode(code)
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT dossier_id FROM proc_dossier_alias WHERE code = $1`, code).Scan(&id)
	return id, db.NotFoundIfNoRows(err, "procedure.dossier_not_found")
}

func (s *Service) aliases(ctx context.Context, id string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.code FROM proc_dossier_alias a JOIN proc_dossier d ON d.id = a.dossier_id
WHERE a.dossier_id = $1 AND a.code <> d.code ORDER BY a.code`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Steps returns a dossier's steps in order. The caller has read the dossier
// through Dossier, which checks the scope.
func (s *Service) Steps(ctx context.Context, dossierID string) ([]Step, error) {
	return steps(ctx, s.db, dossierID)
}

func steps(ctx context.Context, q db.Querier, dossierID string) ([]Step, error) {
	rows, err := q.QueryContext(ctx, StepsQuery, dossierID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Step
	for rows.Next() {
		var st Step
		var seq, at int64
		var action, status string
		if err := rows.Scan(&seq, &action, &status, &st.AgencyID, &st.Actor, &at, &st.Note); err != nil {
			return nil, err
		}
		st.Seq, st.Action, st.Status, st.At = int(seq), Action(action), Status(status), db.FromMicros(at)
		out = append(out, st)
	}
	return out, rows.Err()
}

// clock is the dossier as the working-day clock sees it: its pauses come
// from its steps.
func clock(d Dossier, steps []Step) workday.Dossier {
	w := workday.Dossier{Received: d.ReceivedAt, WorkingDays: d.Days, Finished: d.FinishedAt}
	for _, st := range steps {
		switch st.Action {
		case ActRequest:
			w.Pauses = append(w.Pauses, workday.Pause{From: st.At})
		case ActSupplement:
			if n := len(w.Pauses); n > 0 && w.Pauses[n-1].To.IsZero() {
				w.Pauses[n-1].To = st.At
			}
		}
	}
	return w
}

// handovers are the dossier's turns with each holding agency.
func handovers(steps []Step) []workday.Step {
	var out []workday.Step
	for i, st := range steps {
		if i > 0 && st.AgencyID == steps[i-1].AgencyID {
			continue
		}
		if n := len(out); n > 0 {
			out[n-1].End = st.At
		}
		out = append(out, workday.Step{Holder: st.AgencyID, Start: st.At})
	}
	return out
}

// Clock is where a dossier stands against its due day now (or at its
// finish), with the share of working days and of delay each agency held it.
type Clock struct {
	workday.Status
	Shares []workday.Share
}

// ClockOf computes a dossier's clock from its steps.
func (s *Service) ClockOf(ctx context.Context, d Dossier, st []Step) (Clock, error) {
	cal, err := s.Calendar(ctx)
	if err != nil {
		return Clock{}, err
	}
	w := clock(d, st)
	now := s.db.Now()
	return Clock{Status: cal.Status(w, now), Shares: cal.Attribute(w, handovers(st), now)}, nil
}

// ActInput is what an officer gives with an action.
type ActInput struct {
	Action   Action
	Note     string
	AgencyID string // the receiving agency of a transfer
	Version  int64
}

// Act moves a dossier one step: it checks the step is allowed from where the
// dossier is, records who and when, keeps the clock (pausing it while a
// supplement is awaited) and, when the dossier is finished, counts it once
// for the agency that finished it and its delay for the agencies that held
// it late.
func (s *Service) Act(ctx context.Context, id string, in ActInput) (Dossier, error) {
	d, err := s.Dossier(ctx, id)
	if err != nil {
		return Dossier{}, err
	}
	tr, ok := transitions[in.Action]
	if !ok {
		return Dossier{}, apperr.InvalidFields(map[string]string{"action": "procedure.action_invalid"})
	}
	var okNote bool
	if in.Note, okNote = text(in.Note, 2000); !okNote {
		return Dossier{}, apperr.InvalidFields(map[string]string{"note": "procedure.text_too_long"})
	}
	switch in.Action {
	case ActRequest, ActReject, ActTransfer:
		if in.Note == "" { // the applicant is told why, the next agency what to do
			return Dossier{}, apperr.InvalidFields(map[string]string{"note": "procedure.note_required"})
		}
	}
	holder := d.AgencyID
	if in.Action == ActTransfer {
		f := map[string]string{}
		if err := s.checkHolder(ctx, in.AgencyID, f, false); err != nil {
			return Dossier{}, err
		}
		if in.AgencyID == d.AgencyID {
			f["agency_id"] = "procedure.transfer_same"
		}
		if len(f) > 0 {
			return Dossier{}, apperr.InvalidFields(f)
		}
		holder = in.AgencyID
	}
	cal, err := s.Calendar(ctx)
	if err != nil {
		return Dossier{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Version != in.Version {
			return apperr.New(apperr.Conflict, "procedure.dossier_stale")
		}
		if !slices.Contains(tr.from, cur.Status) {
			return apperr.New(apperr.Conflict, "procedure.action_not_allowed")
		}
		st, err := steps(ctx, tx, id)
		if err != nil {
			return err
		}
		next := cur
		next.AgencyID = holder
		if tr.to != "" {
			next.Status = tr.to
		}
		now := tx.Now
		step := Step{Action: in.Action, Status: next.Status, AgencyID: holder, At: now, Note: in.Note}
		all := append(st, step)
		w := clock(cur, all)
		switch in.Action {
		case ActApprove, ActReject:
			next.FinishedAt = now
			w.Finished = now
		case ActReturn:
			next.ReturnedAt = now
		}
		status := cal.Status(w, now)
		next.DueDay = int(status.Due)
		next.PausedAt = time.Time{}
		if status.State == workday.Paused {
			next.PausedAt = pauseStart(w)
		}
		next.PausedDays = pausedDays(cal, w, now)
		finishing := !next.FinishedAt.IsZero() && cur.FinishedAt.IsZero()
		if finishing {
			next.LateDays = status.Late
		}
		res, err := tx.ExecContext(ctx, `UPDATE proc_dossier SET agency_id = $1, status = $2, due_day = $3, paused_at = $4, paused_days = $5,
finished_at = $6, returned_at = $7, late_days = $8, version = version + 1, updated_at = $9 WHERE id = $10 AND version = $11`,
			next.AgencyID, string(next.Status), int64(next.DueDay), db.NullMicros(next.PausedAt), int64(next.PausedDays),
			db.NullMicros(next.FinishedAt), db.NullMicros(next.ReturnedAt), int64(next.LateDays), db.Micros(now), id, in.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "procedure.dossier_stale")
		}
		if err := insertStep(ctx, tx, id, len(st)+1, step); err != nil {
			return err
		}
		if finishing {
			if err := s.countFinish(ctx, tx, cal, next, w, all, status); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Dossier{}, err
	}
	return s.Dossier(ctx, id)
}

// countFinish counts a finished dossier once, for the agency that finished
// it, and each agency's late days for it.
func (s *Service) countFinish(ctx context.Context, tx *db.Tx, cal *workday.Calendar, d Dossier, w workday.Dossier, st []Step, status workday.Status) error {
	month := monthOf(d.FinishedAt)
	onTime := 0
	if status.State != workday.Overdue {
		onTime = 1
	}
	if err := bumpProcStat(ctx, tx, month, d, stat{finished: 1, onTime: onTime, lateDays: status.Late}); err != nil {
		return err
	}
	byAgency := map[string]stat{d.AgencyID: {finished: 1, onTime: onTime}}
	for _, sh := range cal.Attribute(w, handovers(st), d.FinishedAt) {
		if sh.Late > 0 {
			v := byAgency[sh.Holder]
			v.lateDays += sh.Late
			byAgency[sh.Holder] = v
		}
	}
	for _, id := range slices.Sorted(maps.Keys(byAgency)) {
		if err := bumpStat(ctx, tx, month, id, d, byAgency[id]); err != nil {
			return err
		}
	}
	return nil
}

// pauseStart is when the open pause of w began.
func pauseStart(w workday.Dossier) time.Time {
	for i := len(w.Pauses) - 1; i >= 0; i-- {
		if w.Pauses[i].To.IsZero() {
			return w.Pauses[i].From
		}
	}
	return time.Time{}
}

// pausedDays is how many working days the closed pauses added.
func pausedDays(cal *workday.Calendar, w workday.Dossier, now time.Time) int {
	base := cal.DueDay(workday.DayOf(w.Received), w.WorkingDays)
	closed := w
	closed.Pauses = nil
	for _, p := range w.Pauses {
		if !p.To.IsZero() {
			closed.Pauses = append(closed.Pauses, p)
		}
	}
	return cal.WorkingDaysBetween(base, cal.Status(closed, now).Due)
}

// DossierFilter selects dossiers.
type DossierFilter struct {
	Q           string // the dossier's code, an old code, or the applicant's citizen ID
	Status      Status
	State       string // "open", "overdue", "due_soon", "paused", "finished"
	AgencyID    string
	WardCode    string
	ProcedureID string
	Limit       int
	Offset      int
}

// Dossiers lists the dossiers the caller may see that match f: open ones
// the most urgent (earliest due day) first, all or finished ones the newest
// first.
func (s *Service) Dossiers(ctx context.Context, f DossierFilter) ([]Dossier, error) {
	sc, err := s.scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	cal, err := s.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	today := workday.DayOf(s.db.Now())
	soon := cal.AddWorkingDays(today, 1)
	where := []string{"1 = 1"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	cond, scArgs := sc.sql(1, "")
	args = append(args, scArgs...)
	where = append(where, cond)
	if q := strings.TrimSpace(f.Q); q != "" {
		code := NormalizeCode(q)
		// Three indexed lookups; an OR of them would read every dossier.
		where = append(where, "id IN (SELECT dossier_id FROM proc_dossier_alias WHERE code = "+arg(code)+
			" UNION SELECT id FROM proc_dossier WHERE citizen_id = "+arg(q)+")")
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(string(f.Status)))
	}
	open := "status IN ('received', 'in_progress', 'supplement_requested')"
	switch f.State {
	case "":
	case "open":
		where = append(where, open)
	case "overdue":
		where = append(where, open, "paused_at IS NULL", "due_day < "+arg(int64(today)))
	case "due_soon":
		where = append(where, open, "paused_at IS NULL", "due_day >= "+arg(int64(today)), "due_day <= "+arg(int64(soon)))
	case "paused":
		where = append(where, open, "paused_at IS NOT NULL")
	case "finished":
		where = append(where, "finished_at IS NOT NULL")
	default:
		return nil, apperr.InvalidFields(map[string]string{"state": "procedure.state_invalid"})
	}
	if f.AgencyID != "" {
		where = append(where, "agency_id = "+arg(f.AgencyID))
	}
	if f.WardCode != "" {
		where = append(where, "ward_code = "+arg(f.WardCode))
	}
	if f.ProcedureID != "" {
		where = append(where, "procedure_id = "+arg(f.ProcedureID))
	}
	// Open dossiers, the most urgent first; all or finished ones, the
	// newest first.
	order := "due_day, received_at DESC, id"
	if f.State == "" || f.State == "finished" {
		order = "received_at DESC, id"
	}
	q := `SELECT ` + dossierCols + ` FROM proc_dossier WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + order + ` LIMIT ` + arg(int64(f.Limit)) + ` OFFSET ` + arg(int64(f.Offset))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list dossiers: %w", err)
	}
	defer rows.Close()
	var out []Dossier
	for rows.Next() {
		d, err := scanDossier(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// StateOf classifies a dossier from its stored clock as lists show it: the
// same answer ClockOf gives from the steps.
func StateOf(cal *workday.Calendar, d Dossier, now time.Time) workday.State {
	due := workday.Day(d.DueDay)
	switch {
	case !d.FinishedAt.IsZero():
		if workday.DayOf(d.FinishedAt) > due {
			return workday.Overdue
		}
		return workday.OnTime
	case !d.PausedAt.IsZero():
		return workday.Paused
	}
	today := workday.DayOf(now)
	switch {
	case today > due:
		return workday.Overdue
	case cal.WorkingDaysBetween(today, due) <= 1:
		return workday.DueSoon
	}
	return workday.OnTime
}
