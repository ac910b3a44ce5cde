package org

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/fold"
)

// Service is the agency register.
type Service struct {
	db  *db.DB
	log *slog.Logger
}

// NewService returns the register on d.
func NewService(d *db.DB, log *slog.Logger) *Service { return &Service{db: d, log: log} }

// Input is what a person gives for an agency.
type Input struct {
	Code         string
	OldCode      string
	Name         string
	Kind         Kind
	ParentID     string
	Period       Period
	ProvinceCode string
	WardCode     string
	ValidFrom    time.Time
	ValidTo      time.Time
}

// codeRE is the shape of an electronic identifier code: groups of letters
// and digits separated by dots ("000.00.31.H31", "H31.12").
var codeRE = regexp.MustCompile(`^[A-Z0-9]+(\.[A-Z0-9]+)*$`)

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// check normalises in and returns the fields that are wrong, as i18n keys.
func check(in *Input) map[string]string {
	f := map[string]string{}
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	in.Code = strings.ToUpper(strings.TrimSpace(in.Code))
	in.OldCode = strings.ToUpper(strings.TrimSpace(in.OldCode))
	in.ProvinceCode, in.WardCode = strings.TrimSpace(in.ProvinceCode), strings.TrimSpace(in.WardCode)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 300 {
		f["name"] = "org.name_invalid"
	}
	if !in.Kind.Valid() {
		f["kind"] = "org.kind_invalid"
	}
	if in.Period != Legacy && in.Period != Current {
		f["period"] = "org.period_invalid"
	}
	for field, c := range map[string]string{"code": in.Code, "old_code": in.OldCode} {
		if c != "" && (len(c) > 40 || !codeRE.MatchString(c)) {
			f[field] = "org.code_invalid"
		}
	}
	if in.ProvinceCode != "" && !digits(in.ProvinceCode, 2) {
		f["province_code"] = "org.province_code_invalid"
	}
	if in.WardCode != "" && !digits(in.WardCode, 5) {
		f["ward_code"] = "org.ward_code_invalid"
	}
	if in.WardCode != "" && in.Kind != KindWardCommittee && f["ward_code"] == "" {
		f["ward_code"] = "org.ward_code_only_wards"
	}
	// District committees ended with the district level on 1/7/2025.
	if in.Kind == KindDistrictCommittee && in.Period == Current {
		f["kind"] = "org.kind_legacy_only"
	}
	if !in.ValidFrom.IsZero() && !in.ValidTo.IsZero() && !in.ValidTo.After(in.ValidFrom) {
		f["valid_to"] = "org.dates_invalid"
	}
	return f
}

func newID() string { return "ag_" + strings.ToLower(rand.Text()[:16]) }

const agencyCols = `id, code, old_code, name, kind, COALESCE(parent_id, ''), period, province_code, ward_code,
valid_from, valid_to, version, created_at, updated_at`

func scanAgency(sc interface{ Scan(...any) error }) (Agency, error) {
	var a Agency
	var kind, period string
	var from, to sql.NullInt64
	var created, updated int64
	err := sc.Scan(&a.ID, &a.Code, &a.OldCode, &a.Name, &kind, &a.ParentID, &period, &a.ProvinceCode, &a.WardCode,
		&from, &to, &a.Version, &created, &updated)
	a.Kind, a.Period = Kind(kind), Period(period)
	a.ValidFrom, a.ValidTo = db.FromNullMicros(from), db.FromNullMicros(to)
	a.CreatedAt, a.UpdatedAt = db.FromMicros(created), db.FromMicros(updated)
	return a, err
}

func (s *Service) get(ctx context.Context, q db.Querier, id string) (Agency, error) {
	a, err := scanAgency(q.QueryRowContext(ctx, `SELECT `+agencyCols+` FROM org_agency WHERE id = $1`, id))
	if err != nil {
		return a, db.NotFoundIfNoRows(err, "org.agency_not_found")
	}
	return a, nil
}

// Agency returns one agency.
func (s *Service) Agency(ctx context.Context, id string) (Agency, error) { return s.get(ctx, s.db, id) }

// checkParent refuses a parent that does not exist, is on the other side of
// the merger, or would make a cycle.
func (s *Service) checkParent(ctx context.Context, q db.Querier, id string, in Input, f map[string]string) error {
	if in.ParentID == "" {
		return nil
	}
	seen := map[string]bool{id: id != ""}
	for p := in.ParentID; p != ""; {
		if seen[p] {
			f["parent_id"] = "org.parent_cycle"
			return nil
		}
		seen[p] = true
		a, err := s.get(ctx, q, p)
		if apperr.Is(err, apperr.NotFound) {
			f["parent_id"] = "org.parent_not_found"
			return nil
		}
		if err != nil {
			return err
		}
		if p == in.ParentID && a.Period != in.Period {
			f["parent_id"] = "org.parent_other_period"
			return nil
		}
		p = a.ParentID
	}
	return nil
}

func nullParent(id string) any {
	if id == "" {
		return nil
	}
	return id
}

// Create adds an agency.
func (s *Service) Create(ctx context.Context, in Input) (Agency, error) {
	var out Agency
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.createTx(ctx, tx, in)
		return err
	})
	return out, err
}

func (s *Service) createTx(ctx context.Context, tx *db.Tx, in Input) (Agency, error) {
	f := check(&in)
	if err := s.checkParent(ctx, tx, "", in, f); err != nil {
		return Agency{}, err
	}
	if len(f) > 0 {
		return Agency{}, apperr.InvalidFields(f)
	}
	out := Agency{ID: newID(), Code: in.Code, OldCode: in.OldCode, Name: in.Name, Kind: in.Kind, ParentID: in.ParentID,
		Period: in.Period, ProvinceCode: in.ProvinceCode, WardCode: in.WardCode, ValidFrom: in.ValidFrom, ValidTo: in.ValidTo,
		Version: 1, CreatedAt: tx.Now, UpdatedAt: tx.Now}
	_, err := tx.ExecContext(ctx, `INSERT INTO org_agency (id, code, old_code, name, name_fold, kind, parent_id, period,
province_code, ward_code, valid_from, valid_to, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $13)`,
		out.ID, out.Code, out.OldCode, out.Name, fold.String(out.Name), string(out.Kind), nullParent(out.ParentID),
		string(out.Period), out.ProvinceCode, out.WardCode, db.NullMicros(out.ValidFrom), db.NullMicros(out.ValidTo), db.Micros(tx.Now))
	if apperr.Is(err, apperr.Conflict) {
		return Agency{}, apperr.InvalidFields(map[string]string{"code": "org.code_taken"})
	}
	if err != nil {
		return Agency{}, err
	}
	_, err = audit.Append(ctx, tx, audit.Record{Action: "org.agency.create", ObjectType: "agency", ObjectID: out.ID,
		Details: map[string]any{"name": out.Name, "code": out.Code, "period": string(out.Period)}})
	return out, err
}

// Update replaces an agency's fields, refusing a stale version so two
// coordinators never silently overwrite each other.
func (s *Service) Update(ctx context.Context, id string, in Input, version int64) (Agency, error) {
	var out Agency
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		before, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if version != before.Version {
			return apperr.New(apperr.Conflict, "org.stale_version")
		}
		if err := s.updateTx(ctx, tx, &before, in); err != nil {
			return err
		}
		out, err = s.get(ctx, tx, id)
		return err
	})
	return out, err
}

// updateTx writes in over before (as read in tx) and audits the changes.
func (s *Service) updateTx(ctx context.Context, tx *db.Tx, before *Agency, in Input) error {
	f := check(&in)
	if err := s.checkParent(ctx, tx, before.ID, in, f); err != nil {
		return err
	}
	if in.Period != before.Period && f["period"] == "" {
		// Its links and children were checked against the period it had.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM org_link WHERE from_id = $1 OR to_id = $1)
 + (SELECT COUNT(*) FROM org_agency WHERE parent_id = $1)`, before.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			f["period"] = "org.period_locked"
		}
	}
	if len(f) > 0 {
		return apperr.InvalidFields(f)
	}
	if unchanged(before, in) {
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE org_agency SET code = $1, old_code = $2, name = $3, name_fold = $4, kind = $5,
parent_id = $6, period = $7, province_code = $8, ward_code = $9, valid_from = $10, valid_to = $11, version = version + 1,
updated_at = $12 WHERE id = $13 AND version = $14`,
		in.Code, in.OldCode, in.Name, fold.String(in.Name), string(in.Kind), nullParent(in.ParentID), string(in.Period),
		in.ProvinceCode, in.WardCode, db.NullMicros(in.ValidFrom), db.NullMicros(in.ValidTo), db.Micros(tx.Now), before.ID, before.Version)
	if apperr.Is(err, apperr.Conflict) {
		return apperr.InvalidFields(map[string]string{"code": "org.code_taken"})
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return apperr.New(apperr.Conflict, "org.stale_version")
	}
	changes := map[string]any{}
	audit.Diff(changes, "name", before.Name, in.Name)
	audit.Diff(changes, "code", before.Code, in.Code)
	audit.Diff(changes, "old_code", before.OldCode, in.OldCode)
	audit.Diff(changes, "kind", string(before.Kind), string(in.Kind))
	audit.Diff(changes, "parent", before.ParentID, in.ParentID)
	audit.Diff(changes, "period", string(before.Period), string(in.Period))
	audit.Diff(changes, "province", before.ProvinceCode, in.ProvinceCode)
	audit.Diff(changes, "ward", before.WardCode, in.WardCode)
	audit.Diff(changes, "valid_from", before.ValidFrom, in.ValidFrom)
	audit.Diff(changes, "valid_to", before.ValidTo, in.ValidTo)
	if len(changes) == 0 {
		return nil
	}
	_, err = audit.Append(ctx, tx, audit.Record{Action: "org.agency.update", ObjectType: "agency", ObjectID: before.ID,
		Details: map[string]any{"changes": changes}})
	return err
}

// unchanged reports whether in says what a already holds.
func unchanged(a *Agency, in Input) bool {
	return a.Code == in.Code && a.OldCode == in.OldCode && a.Name == in.Name && a.Kind == in.Kind && a.ParentID == in.ParentID &&
		a.Period == in.Period && a.ProvinceCode == in.ProvinceCode && a.WardCode == in.WardCode &&
		a.ValidFrom.Equal(in.ValidFrom) && a.ValidTo.Equal(in.ValidTo)
}

// Filter selects agencies.
type Filter struct {
	Period       Period
	ProvinceCode string
	Kind         Kind
	ParentID     string // "-" for top-level agencies only
	Q            string // name or code, diacritics ignored
	Limit        int
}

// List returns the agencies matching f, by name.
func (s *Service) List(ctx context.Context, f Filter) ([]Agency, error) {
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 1000
	}
	f.Q = strings.TrimSpace(f.Q)
	like := "%" + db.EscapeLike(fold.String(f.Q)) + "%"
	rows, err := s.db.QueryContext(ctx, `SELECT `+agencyCols+` FROM org_agency
WHERE ($1 = '' OR period = $1) AND ($2 = '' OR province_code = $2) AND ($3 = '' OR kind = $3)
  AND ($4 = '' OR ($4 = '-' AND parent_id IS NULL) OR parent_id = $4)
  AND ($5 = '' OR name_fold LIKE $6 ESCAPE '\' OR code = $7 OR old_code = $7)
ORDER BY name_fold, id LIMIT $8`,
		string(f.Period), f.ProvinceCode, string(f.Kind), f.ParentID, f.Q, like, strings.ToUpper(strings.TrimSpace(f.Q)), f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
	}
	defer rows.Close()
	var out []Agency
	for rows.Next() {
		a, err := scanAgency(rows)
		if err != nil {
			return nil, fmt.Errorf("list agencies: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ByCode returns the agency with an identifier code, current or old.
func (s *Service) ByCode(ctx context.Context, code string) (Agency, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return Agency{}, apperr.New(apperr.NotFound, "org.agency_not_found")
	}
	// A current code wins; among agencies that once had the code, the one
	// still in the merged province, then the newest.
	a, err := scanAgency(s.db.QueryRowContext(ctx, `SELECT `+agencyCols+` FROM org_agency
WHERE code = $1 OR old_code = $1
ORDER BY CASE WHEN code = $1 THEN 0 ELSE 1 END, CASE WHEN period = 'current' THEN 0 ELSE 1 END, created_at DESC, id LIMIT 1`, code))
	if err != nil {
		return a, db.NotFoundIfNoRows(err, "org.agency_not_found")
	}
	return a, nil
}

// AddLink records what became of an agency: a link from a legacy agency to
// one of the merged province.
func (s *Service) AddLink(ctx context.Context, l Link) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error { return s.addLinkTx(ctx, tx, l) })
}

func (s *Service) addLinkTx(ctx context.Context, tx *db.Tx, l Link) error {
	l.Note = strings.TrimSpace(l.Note)
	f := map[string]string{}
	if !l.Kind.Valid() {
		f["kind"] = "org.link_kind_invalid"
	}
	if utf8.RuneCountInString(l.Note) > 500 {
		f["note"] = "org.note_too_long"
	}
	from, err := s.get(ctx, tx, l.FromID)
	if err != nil {
		return err
	}
	to, err := s.get(ctx, tx, l.ToID)
	if apperr.Is(err, apperr.NotFound) {
		f["to_id"] = "org.agency_not_found"
	} else if err != nil {
		return err
	}
	if err == nil && (from.Period != Legacy || to.Period != Current) {
		f["to_id"] = "org.link_direction"
	}
	if len(f) > 0 {
		return apperr.InvalidFields(f)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO org_link (from_id, to_id, kind, note, created_at) VALUES ($1, $2, $3, $4, $5)`,
		l.FromID, l.ToID, string(l.Kind), l.Note, db.Micros(tx.Now))
	if apperr.Is(err, apperr.Conflict) {
		return apperr.New(apperr.Conflict, "org.link_exists")
	}
	if err != nil {
		return err
	}
	_, err = audit.Append(ctx, tx, audit.Record{Action: "org.link.add", ObjectType: "agency", ObjectID: l.FromID,
		Details: map[string]any{"to": l.ToID, "kind": string(l.Kind)}})
	return err
}

// RemoveLink deletes a successor link.
func (s *Service) RemoveLink(ctx context.Context, fromID, toID string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM org_link WHERE from_id = $1 AND to_id = $2`, fromID, toID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "org.link_not_found")
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "org.link.remove", ObjectType: "agency", ObjectID: fromID,
			Details: map[string]any{"to": toID}})
		return err
	})
}

// Related is an agency at the other end of a link.
type Related struct {
	Agency Agency
	Kind   LinkKind
	Note   string
}

func (s *Service) related(ctx context.Context, q db.Querier, query, id string) ([]Related, error) {
	rows, err := q.QueryContext(ctx, query, id)
	if err != nil {
		return nil, fmt.Errorf("agency links: %w", err)
	}
	defer rows.Close()
	var out []Related
	for rows.Next() {
		var r Related
		var kind string
		var a Agency
		var k, p string
		var from, to sql.NullInt64
		var created, updated int64
		if err := rows.Scan(&a.ID, &a.Code, &a.OldCode, &a.Name, &k, &a.ParentID, &p, &a.ProvinceCode, &a.WardCode,
			&from, &to, &a.Version, &created, &updated, &kind, &r.Note); err != nil {
			return nil, fmt.Errorf("agency links: %w", err)
		}
		a.Kind, a.Period = Kind(k), Period(p)
		a.ValidFrom, a.ValidTo = db.FromNullMicros(from), db.FromNullMicros(to)
		a.CreatedAt, a.UpdatedAt = db.FromMicros(created), db.FromMicros(updated)
		r.Agency, r.Kind = a, LinkKind(kind)
		out = append(out, r)
	}
	return out, rows.Err()
}

const (
	successorsSQL = `SELECT a.id, a.code, a.old_code, a.name, a.kind, COALESCE(a.parent_id, ''), a.period, a.province_code, a.ward_code,
a.valid_from, a.valid_to, a.version, a.created_at, a.updated_at, l.kind, l.note
FROM org_link l JOIN org_agency a ON a.id = l.to_id WHERE l.from_id = $1 ORDER BY a.name_fold, a.id`
	predecessorsSQL = `SELECT a.id, a.code, a.old_code, a.name, a.kind, COALESCE(a.parent_id, ''), a.period, a.province_code, a.ward_code,
a.valid_from, a.valid_to, a.version, a.created_at, a.updated_at, l.kind, l.note
FROM org_link l JOIN org_agency a ON a.id = l.from_id WHERE l.to_id = $1 ORDER BY a.name_fold, a.id`
)

// Successors returns what an agency became.
func (s *Service) Successors(ctx context.Context, id string) ([]Related, error) {
	return s.related(ctx, s.db, successorsSQL, id)
}

// Predecessors returns the agencies an agency took over from.
func (s *Service) Predecessors(ctx context.Context, id string) ([]Related, error) {
	return s.related(ctx, s.db, predecessorsSQL, id)
}

// ResponsibleNow answers "who is responsible now for what this agency
// did?": the agency itself while it is in force in the merged province,
// otherwise the current agencies its successor links lead to (several when
// its tasks were split). An empty answer means nobody is recorded yet.
func (s *Service) ResponsibleNow(ctx context.Context, id string) ([]Agency, error) {
	start, err := s.get(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	now := s.db.Now()
	inForce := func(a Agency) bool {
		return a.Period == Current && (a.ValidTo.IsZero() || now.Before(a.ValidTo)) && (a.ValidFrom.IsZero() || !now.Before(a.ValidFrom))
	}
	var out []Agency
	seen := map[string]bool{start.ID: true}
	queue := []Agency{start}
	// Links lead from legacy to current agencies, so one hop is the rule; a
	// legacy agency that was renamed before the merger may add hops.
	for depth := 0; len(queue) > 0 && depth < 10; depth++ {
		var next []Agency
		for _, a := range queue {
			if inForce(a) {
				out = append(out, a)
				continue
			}
			rel, err := s.Successors(ctx, a.ID)
			if err != nil {
				return nil, err
			}
			for _, r := range rel {
				if !seen[r.Agency.ID] {
					seen[r.Agency.ID] = true
					next = append(next, r.Agency)
				}
			}
		}
		queue = next
	}
	return out, nil
}
