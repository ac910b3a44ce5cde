// Package register keeps the administrative-unit register in the database:
// the import of the official lists, the in-memory index every replica
// converts addresses with, the legal basis of links, and the review queue
// where officers settle addresses in divided wards.
package register

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the register's tables.
var Migrations = db.EmbeddedModule("adminunit", migrationFS)

// MaxBatch is the most addresses one Convert call takes.
const MaxBatch = 10000

// recheck is how long a replica trusts its index before asking the database
// whether another replica changed the register.
const recheck = 2 * time.Second

// Service is the register.
type Service struct {
	db  *db.DB
	log *slog.Logger

	mu  sync.Mutex // one reload at a time
	cur atomic.Pointer[loaded]
}

// loaded is an index and the register generation it was built from, as of
// the last check against the database.
type loaded struct {
	idx     *adminunit.Index
	gen     int64
	checked time.Time // zero: check at the next call
}

// NewService returns the register on d.
func NewService(d *db.DB, log *slog.Logger) *Service {
	return &Service{db: d, log: log}
}

// ErrNotImported is returned while the register is empty.
//
// It is a Conflict (409): the request is fine, the server's state is not yet.
var ErrNotImported = apperr.New(apperr.Conflict, "adminunit.not_imported")

// Index returns the current index with the officers' street rules. It asks
// the database at most every recheck whether another process changed the
// register, and reloads when it did; meanwhile callers are not held up.
func (s *Service) Index(ctx context.Context) (*adminunit.Index, error) {
	if c := s.cur.Load(); c != nil && time.Since(c.checked) < recheck {
		return c.idx, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cur.Load()
	if c != nil && time.Since(c.checked) < recheck {
		return c.idx, nil // another caller just checked
	}
	gen, err := s.generation(ctx, s.db)
	if err != nil {
		if c != nil {
			// Keep serving what we have; look again after recheck.
			s.log.WarnContext(ctx, "adminunit generation check failed", "err", err)
			s.cur.Store(&loaded{idx: c.idx, gen: c.gen, checked: time.Now()})
			return c.idx, nil
		}
		return nil, err
	}
	if c != nil && c.gen == gen {
		s.cur.Store(&loaded{idx: c.idx, gen: gen, checked: time.Now()})
		return c.idx, nil
	}
	start := time.Now()
	idx, gen, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.cur.Store(&loaded{idx: idx, gen: gen, checked: time.Now()})
	s.log.InfoContext(ctx, "adminunit index loaded", "units", idx.Len(), "generation", gen, "ms", time.Since(start).Milliseconds())
	return idx, nil
}

// invalidate makes the next Index call ask the database.
func (s *Service) invalidate() {
	if c := s.cur.Load(); c != nil {
		s.cur.Store(&loaded{idx: c.idx, gen: c.gen})
	}
}

const selectGeneration = `SELECT value FROM adminunit_meta WHERE key = 'generation'`

func (s *Service) generation(ctx context.Context, q db.Querier) (int64, error) {
	var v string
	if err := q.QueryRowContext(ctx, selectGeneration).Scan(&v); err != nil {
		return 0, fmt.Errorf("adminunit generation: %w", err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("adminunit generation %q: %w", v, err)
	}
	return n, nil
}

// bumpGeneration adds one in a single statement, so concurrent changes on
// PostgreSQL each count (a read then a write would lose some).
const bumpGeneration = `UPDATE adminunit_meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'generation'`

func bump(ctx context.Context, tx *db.Tx) error {
	_, err := tx.ExecContext(ctx, bumpGeneration)
	return err
}

const (
	selectUnits = `SELECT level, code, name, short_name, type, parent_code, province_code, valid_from, valid_to,
lat, lon, area_km2, population FROM adminunit_unit ORDER BY level, code`
	selectLinks = `SELECT from_level, from_code, to_level, to_code, kind, basis FROM adminunit_link
ORDER BY from_level, from_code, to_level, to_code`
	selectRules   = `SELECT legacy_code, street_key, ward_code FROM adminunit_street_rule`
	selectAliases = `SELECT level, code, name FROM adminunit_alias ORDER BY level, code, name`
)

// Register reads the whole register from the database.
func (s *Service) Register(ctx context.Context) (*adminunit.Register, error) {
	return readRegister(ctx, s.db)
}

func readRegister(ctx context.Context, q db.Querier) (*adminunit.Register, error) {
	reg := &adminunit.Register{}
	rows, err := q.QueryContext(ctx, selectUnits)
	if err != nil {
		return nil, fmt.Errorf("read units: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u adminunit.Unit
		var level string
		var from, to sql.NullInt64
		if err := rows.Scan(&level, &u.Code, &u.Name, &u.Short, &u.Type, &u.ParentCode, &u.ProvinceCode, &from, &to,
			&u.Lat, &u.Lon, &u.AreaKm2, &u.Population); err != nil {
			return nil, fmt.Errorf("read units: %w", err)
		}
		u.Level, _ = adminunit.ParseLevel(level)
		u.ValidFrom, u.ValidTo = db.FromNullMicros(from), db.FromNullMicros(to)
		reg.Units = append(reg.Units, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read units: %w", err)
	}
	if len(reg.Units) == 0 {
		return nil, ErrNotImported
	}
	lrows, err := q.QueryContext(ctx, selectLinks)
	if err != nil {
		return nil, fmt.Errorf("read links: %w", err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var l adminunit.Link
		var from, to, kind string
		if err := lrows.Scan(&from, &l.FromCode, &to, &l.ToCode, &kind, &l.Basis); err != nil {
			return nil, fmt.Errorf("read links: %w", err)
		}
		l.FromLevel, _ = adminunit.ParseLevel(from)
		l.ToLevel, _ = adminunit.ParseLevel(to)
		l.Kind = adminunit.LinkKind(kind)
		reg.Links = append(reg.Links, l)
	}
	if err := lrows.Err(); err != nil {
		return nil, err
	}
	arows, err := q.QueryContext(ctx, selectAliases)
	if err != nil {
		return nil, fmt.Errorf("read aliases: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		var a adminunit.Alias
		var level string
		if err := arows.Scan(&level, &a.Code, &a.Name); err != nil {
			return nil, fmt.Errorf("read aliases: %w", err)
		}
		a.Level, _ = adminunit.ParseLevel(level)
		reg.Aliases = append(reg.Aliases, a)
	}
	return reg, arows.Err()
}

// load reads the register, its generation and the street rules in one
// read-only snapshot, so an import landing meanwhile cannot mix two versions.
func (s *Service) load(ctx context.Context) (*adminunit.Index, int64, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.db.Dialect() == db.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.db.Reader().BeginTx(ctx, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("read adminunit register: %w", err)
	}
	defer tx.Rollback()
	gen, err := s.generation(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	reg, err := readRegister(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	idx, err := adminunit.NewIndex(reg)
	if err != nil {
		return nil, 0, fmt.Errorf("build adminunit index: %w", err)
	}
	rows, err := tx.QueryContext(ctx, selectRules)
	if err != nil {
		return nil, 0, fmt.Errorf("read street rules: %w", err)
	}
	defer rows.Close()
	var rules []adminunit.StreetRule
	for rows.Next() {
		var r adminunit.StreetRule
		if err := rows.Scan(&r.LegacyWard, &r.StreetKey, &r.Ward); err != nil {
			return nil, 0, fmt.Errorf("read street rules: %w", err)
		}
		// A rule that no longer fits a re-imported register is left out, not fatal.
		if !idx.RuleFits(r) {
			s.log.WarnContext(ctx, "street rule no longer fits the register", "legacy_ward", r.LegacyWard, "ward", r.Ward)
			continue
		}
		rules = append(rules, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	idx, err = idx.WithRules(rules)
	return idx, gen, err
}

// ImportResult counts what an import changed in the database.
type ImportResult struct {
	UnitsInserted, UnitsUpdated int
	LinksInserted, LinksUpdated int
	BasisKept                   int // links whose admin-edited basis the import left alone
	AliasesInserted             int // other names of units seen for the first time
}

// Import writes reg into the database in one transaction, updating rows in
// place: running it twice leaves one copy. It checks reg first by building
// its index, so a contradictory register changes nothing.
func (s *Service) Import(ctx context.Context, reg *adminunit.Register) (res ImportResult, err error) {
	defer apperr.Wrap(&err, "import adminunit register")
	if _, err := adminunit.NewIndex(reg); err != nil {
		return res, apperr.Wrapf(apperr.Invalid, "adminunit.import.inconsistent", err)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		units, links, edited, err := existing(ctx, tx)
		if err != nil {
			return err
		}
		now := db.Micros(tx.Now)
		for batch := range slices.Chunk(reg.Units, 200) {
			if err := upsertUnits(ctx, tx, batch, now); err != nil {
				return err
			}
		}
		for _, u := range reg.Units {
			if units[u.Level.String()+"/"+u.Code] {
				res.UnitsUpdated++
			} else {
				res.UnitsInserted++
			}
		}
		for batch := range slices.Chunk(reg.Links, 200) {
			if err := upsertLinks(ctx, tx, batch, now); err != nil {
				return err
			}
		}
		for _, a := range reg.Aliases {
			r, err := tx.ExecContext(ctx, `INSERT INTO adminunit_alias (level, code, name) VALUES ($1, $2, $3)
ON CONFLICT (level, code, name) DO NOTHING`, a.Level.String(), a.Code, a.Name)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 1 {
				res.AliasesInserted++
			}
		}
		for _, l := range reg.Links {
			k := linkKey(l.FromLevel.String(), l.FromCode, l.ToLevel.String(), l.ToCode)
			switch {
			case edited[k]:
				res.BasisKept++
				res.LinksUpdated++
			case links[k]:
				res.LinksUpdated++
			default:
				res.LinksInserted++
			}
		}
		if err := bump(ctx, tx); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "adminunit.import", ObjectType: "adminunit", ObjectID: "register",
			Details: map[string]any{"units_inserted": res.UnitsInserted, "units_updated": res.UnitsUpdated,
				"links_inserted": res.LinksInserted, "links_updated": res.LinksUpdated, "basis_kept": res.BasisKept, "aliases_inserted": res.AliasesInserted}})
		return err
	})
	if err == nil {
		s.invalidate()
	}
	return res, err
}

func linkKey(fl, fc, tl, tc string) string { return fl + "/" + fc + ">" + tl + "/" + tc }

func existing(ctx context.Context, tx *db.Tx) (units, links, edited map[string]bool, err error) {
	units, links, edited = map[string]bool{}, map[string]bool{}, map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT level, code FROM adminunit_unit`)
	if err != nil {
		return nil, nil, nil, err
	}
	for rows.Next() {
		var l, c string
		if err := rows.Scan(&l, &c); err != nil {
			rows.Close()
			return nil, nil, nil, err
		}
		units[l+"/"+c] = true
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, `SELECT from_level, from_code, to_level, to_code, basis_edited FROM adminunit_link`)
	if err != nil {
		return nil, nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var fl, fc, tl, tc string
		var e bool
		if err := rows.Scan(&fl, &fc, &tl, &tc, &e); err != nil {
			return nil, nil, nil, err
		}
		k := linkKey(fl, fc, tl, tc)
		links[k], edited[k] = true, e
	}
	return units, links, edited, rows.Err()
}

func upsertUnits(ctx context.Context, tx *db.Tx, us []adminunit.Unit, now int64) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO adminunit_unit (level, code, name, short_name, type, parent_code, province_code, valid_from, valid_to,
lat, lon, area_km2, population, updated_at) VALUES `)
	args := make([]any, 0, len(us)*14)
	for i, u := range us {
		if i > 0 {
			b.WriteString(",")
		}
		placeholders(&b, len(args), 14)
		args = append(args, u.Level.String(), u.Code, u.Name, u.Short, u.Type, u.ParentCode, u.ProvinceCode,
			db.NullMicros(u.ValidFrom), db.NullMicros(u.ValidTo), u.Lat, u.Lon, u.AreaKm2, u.Population, now)
	}
	b.WriteString(` ON CONFLICT (level, code) DO UPDATE SET name = excluded.name, short_name = excluded.short_name,
type = excluded.type, parent_code = excluded.parent_code, province_code = excluded.province_code,
valid_from = excluded.valid_from, valid_to = excluded.valid_to, lat = excluded.lat, lon = excluded.lon,
area_km2 = excluded.area_km2, population = excluded.population, updated_at = excluded.updated_at`)
	_, err := tx.ExecContext(ctx, b.String(), args...)
	return err
}

func upsertLinks(ctx context.Context, tx *db.Tx, ls []adminunit.Link, now int64) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO adminunit_link (from_level, from_code, to_level, to_code, kind, basis, updated_at) VALUES `)
	args := make([]any, 0, len(ls)*7)
	for i, l := range ls {
		if i > 0 {
			b.WriteString(",")
		}
		placeholders(&b, len(args), 7)
		args = append(args, l.FromLevel.String(), l.FromCode, l.ToLevel.String(), l.ToCode, string(l.Kind), l.Basis, now)
	}
	// An admin-edited basis survives a re-import.
	b.WriteString(` ON CONFLICT (from_level, from_code, to_level, to_code) DO UPDATE SET kind = excluded.kind,
basis = CASE WHEN adminunit_link.basis_edited THEN adminunit_link.basis ELSE excluded.basis END,
updated_at = excluded.updated_at`)
	_, err := tx.ExecContext(ctx, b.String(), args...)
	return err
}

func placeholders(b *strings.Builder, from, n int) {
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i + 1))
	}
	b.WriteByte(')')
}

// LinkRef names one link.
type LinkRef struct {
	FromLevel adminunit.Level
	FromCode  string
	ToLevel   adminunit.Level
	ToCode    string
}

const updateBasis = `UPDATE adminunit_link SET basis = $1, basis_edited = TRUE, version = version + 1, updated_at = $2
WHERE from_level = $3 AND from_code = $4 AND to_level = $5 AND to_code = $6 AND version = $7`

// SetBasis records the legal basis of a link (an admin's edit, which later
// imports keep). version is the link's version as read, so two admins
// editing at once do not overwrite each other.
func (s *Service) SetBasis(ctx context.Context, ref LinkRef, basis string, version int64) error {
	basis = strings.TrimSpace(basis)
	if len([]rune(basis)) > 300 {
		return apperr.InvalidFields(map[string]string{"basis": "adminunit.basis.too_long"})
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, `SELECT basis FROM adminunit_link WHERE from_level = $1 AND from_code = $2 AND to_level = $3 AND to_code = $4`,
			ref.FromLevel.String(), ref.FromCode, ref.ToLevel.String(), ref.ToCode).Scan(&old)
		if err != nil {
			return db.NotFoundIfNoRows(err, "adminunit.link.not_found")
		}
		res, err := tx.ExecContext(ctx, updateBasis, basis, db.Micros(tx.Now), ref.FromLevel.String(), ref.FromCode,
			ref.ToLevel.String(), ref.ToCode, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "adminunit.link.changed")
		}
		if err := bump(ctx, tx); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "adminunit.basis", ObjectType: "adminunit_link",
			ObjectID: linkKey(ref.FromLevel.String(), ref.FromCode, ref.ToLevel.String(), ref.ToCode),
			Details:  map[string]any{"from": old, "to": basis}})
		return err
	})
	if err == nil {
		s.invalidate()
	}
	return err
}

// LinkVersion returns the version of a link, for an edit form.
func (s *Service) LinkVersion(ctx context.Context, ref LinkRef) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT version FROM adminunit_link WHERE from_level = $1 AND from_code = $2 AND to_level = $3 AND to_code = $4`,
		ref.FromLevel.String(), ref.FromCode, ref.ToLevel.String(), ref.ToCode).Scan(&v)
	if err != nil {
		return 0, db.NotFoundIfNoRows(err, "adminunit.link.not_found")
	}
	return v, nil
}

const (
	provinceBasis = `UPDATE adminunit_link SET basis = $1, basis_edited = TRUE, version = version + 1, updated_at = $2
WHERE to_level = 'ward' AND to_code IN (SELECT code FROM adminunit_unit WHERE level = 'ward' AND province_code = $3)`
	provinceBasisKeepEdited = provinceBasis + ` AND basis_edited = FALSE`
)

// SetProvinceBasis records one legal basis on every link into the wards of a
// new province: the ward-level reorganisation was decided by one resolution
// per province. Bases an admin already edited stay unless replace is set.
// It returns how many links changed.
func (s *Service) SetProvinceBasis(ctx context.Context, province, basis string, replace bool) (int, error) {
	basis = strings.TrimSpace(basis)
	switch {
	case basis == "":
		return 0, apperr.InvalidFields(map[string]string{"basis": "adminunit.basis.required"})
	case len([]rune(basis)) > 300:
		return 0, apperr.InvalidFields(map[string]string{"basis": "adminunit.basis.too_long"})
	}
	var n int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx, `SELECT name FROM adminunit_unit WHERE level = 'province' AND code = $1`, province).Scan(&name)
		if err != nil {
			return db.NotFoundIfNoRows(err, "adminunit.unit.not_found")
		}
		q := provinceBasisKeepEdited
		if replace {
			q = provinceBasis
		}
		res, err := tx.ExecContext(ctx, q, basis, db.Micros(tx.Now), province)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if err := bump(ctx, tx); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "adminunit.basis_province", ObjectType: "adminunit", ObjectID: "province/" + province,
			Details: map[string]any{"basis": basis, "links": n, "replace": replace}})
		return err
	})
	if err == nil {
		s.invalidate()
	}
	return int(n), err
}
