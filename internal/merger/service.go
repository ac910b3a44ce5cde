package merger

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
)

// Service is the merger workspace.
type Service struct {
	db       *db.DB
	log      *slog.Logger
	agencies Agencies // nil: owner agencies are free text
}

// NewService returns the workspace on d.
func NewService(d *db.DB, log *slog.Logger) *Service { return &Service{db: d, log: log} }

func newID(prefix string) string { return prefix + strings.ToLower(rand.Text()[:16]) }

func code(s string, n int) bool {
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

func text(s string, max int) (string, bool) {
	s = strings.TrimSpace(s)
	return s, utf8.RuneCountInString(s) <= max
}

// MergerInput is what a coordinator gives for a merger.
type MergerInput struct {
	Name         string
	ProvinceCode string
	EffectiveOn  time.Time
	Sources      []Source
}

// checkMerger normalises in and returns the fields that are wrong.
func checkMerger(in *MergerInput) map[string]string {
	f := map[string]string{}
	var ok bool
	if in.Name, ok = text(in.Name, 200); !ok || in.Name == "" {
		f["name"] = "merger.name_invalid"
	}
	if !code(in.ProvinceCode, 2) {
		f["province_code"] = "merger.province_code_invalid"
	}
	seen := map[string]bool{}
	for i := range in.Sources {
		src := &in.Sources[i]
		src.Name, ok = text(src.Name, 200)
		if !code(src.ProvinceCode, 2) || seen[src.ProvinceCode] || !ok || src.Name == "" {
			f["sources"] = "merger.sources_invalid"
		}
		seen[src.ProvinceCode] = true
	}
	if len(in.Sources) == 0 {
		f["sources"] = "merger.sources_invalid"
	}
	return f
}

// CreateMerger records a merger and its old provinces.
func (s *Service) CreateMerger(ctx context.Context, in MergerInput) (Merger, error) {
	if f := checkMerger(&in); len(f) > 0 {
		return Merger{}, apperr.InvalidFields(f)
	}
	m := Merger{ID: newID("mg_"), Name: in.Name, ProvinceCode: in.ProvinceCode, EffectiveOn: in.EffectiveOn, Sources: in.Sources, Version: 1}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		m.CreatedAt, m.UpdatedAt = tx.Now, tx.Now
		_, err := tx.ExecContext(ctx, `INSERT INTO merger (id, name, province_code, effective_on, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, 1, $5, $5)`, m.ID, m.Name, m.ProvinceCode, db.NullMicros(m.EffectiveOn), db.Micros(tx.Now))
		if apperr.Is(err, apperr.Conflict) {
			return apperr.InvalidFields(map[string]string{"province_code": "merger.province_taken"})
		}
		if err != nil {
			return err
		}
		for i, src := range m.Sources {
			if _, err := tx.ExecContext(ctx, `INSERT INTO merger_source (merger_id, province_code, name, position) VALUES ($1, $2, $3, $4)`,
				m.ID, src.ProvinceCode, src.Name, i); err != nil {
				return err
			}
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "merger.create", ObjectType: "merger", ObjectID: m.ID,
			Details: map[string]any{"name": m.Name, "sources": len(m.Sources)}})
		return err
	})
	return m, err
}

// UpdateMerger changes a merger's name, province, date and old provinces,
// refusing a stale version. An old province that has systems in the
// inventory cannot be taken out. A save that changes nothing leaves the
// version and the audit trail alone.
func (s *Service) UpdateMerger(ctx context.Context, id string, in MergerInput, version int64) (Merger, error) {
	if f := checkMerger(&in); len(f) > 0 {
		return Merger{}, apperr.InvalidFields(f)
	}
	before, err := s.Merger(ctx, id)
	if err != nil {
		return Merger{}, err
	}
	if before.Version != version {
		return Merger{}, apperr.New(apperr.Conflict, "merger.merger_stale")
	}
	changes := map[string]any{}
	audit.Diff(changes, "name", before.Name, in.Name)
	audit.Diff(changes, "province_code", before.ProvinceCode, in.ProvinceCode)
	audit.Diff(changes, "effective_on", dayText(before.EffectiveOn), dayText(in.EffectiveOn))
	if !slices.Equal(before.Sources, in.Sources) {
		changes["sources"] = map[string]any{"from": sourceText(before.Sources), "to": sourceText(in.Sources)}
	}
	if len(changes) == 0 {
		return before, nil
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE merger SET name = $1, province_code = $2, effective_on = $3, version = version + 1,
updated_at = $4 WHERE id = $5 AND version = $6`, in.Name, in.ProvinceCode, db.NullMicros(in.EffectiveOn), db.Micros(tx.Now), id, version)
		if apperr.Is(err, apperr.Conflict) {
			return apperr.InvalidFields(map[string]string{"province_code": "merger.province_taken"})
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "merger.merger_stale")
		}
		if err := s.replaceSources(ctx, tx, id, before.Sources, in.Sources); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "merger.update", ObjectType: "merger", ObjectID: id, Details: changes})
		return err
	})
	if err != nil {
		return Merger{}, err
	}
	return s.Merger(ctx, id)
}

// replaceSources makes a merger's old provinces next, in its order. Rows of
// old provinces that stay are updated in place: the inventory refers to them.
func (s *Service) replaceSources(ctx context.Context, tx *db.Tx, id string, prev, next []Source) error {
	for _, p := range prev {
		if slices.ContainsFunc(next, func(n Source) bool { return n.ProvinceCode == p.ProvinceCode }) {
			continue
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM merger_system WHERE merger_id = $1 AND province_code = $2`,
			id, p.ProvinceCode).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return apperr.InvalidFields(map[string]string{"sources": "merger.source_has_systems"})
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM merger_source WHERE merger_id = $1 AND province_code = $2`, id, p.ProvinceCode); err != nil {
			return err
		}
	}
	for i, src := range next {
		res, err := tx.ExecContext(ctx, `UPDATE merger_source SET name = $1, position = $2 WHERE merger_id = $3 AND province_code = $4`,
			src.Name, i, id, src.ProvinceCode)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO merger_source (merger_id, province_code, name, position) VALUES ($1, $2, $3, $4)`,
			id, src.ProvinceCode, src.Name, i); err != nil {
			return err
		}
	}
	return nil
}

func sourceText(ss []Source) string {
	parts := make([]string, len(ss))
	for i, src := range ss {
		parts[i] = src.ProvinceCode + " " + src.Name
	}
	return strings.Join(parts, "; ")
}

// DeleteMerger removes a merger that has nothing recorded yet: one with
// systems or roadmap tasks is refused, so a slip cannot lose the inventory.
func (s *Service) DeleteMerger(ctx context.Context, id string, version int64) error {
	m, err := s.Merger(ctx, id)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM merger_system WHERE merger_id = $1)
  + (SELECT COUNT(*) FROM merger_task WHERE merger_id = $1)`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return apperr.New(apperr.Conflict, "merger.merger_not_empty")
		}
		for _, q := range []string{`DELETE FROM merger_weight WHERE merger_id = $1`, `DELETE FROM merger_source WHERE merger_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM merger WHERE id = $1 AND version = $2`, id, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "merger.merger_stale")
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "merger.delete", ObjectType: "merger", ObjectID: id,
			Details: map[string]any{"name": m.Name, "province_code": m.ProvinceCode, "sources": sourceText(m.Sources)}})
		return err
	})
}

// Mergers lists the mergers, by name.
func (s *Service) Mergers(ctx context.Context) ([]Merger, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM merger ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list mergers: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Merger, 0, len(ids))
	for _, id := range ids {
		m, err := s.Merger(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Merger returns one merger with its old provinces.
func (s *Service) Merger(ctx context.Context, id string) (Merger, error) {
	var m Merger
	var eff sql.NullInt64
	var created, updated int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, province_code, effective_on, version, created_at, updated_at FROM merger WHERE id = $1`, id).
		Scan(&m.ID, &m.Name, &m.ProvinceCode, &eff, &m.Version, &created, &updated)
	if err != nil {
		return m, db.NotFoundIfNoRows(err, "merger.not_found")
	}
	m.EffectiveOn, m.CreatedAt, m.UpdatedAt = db.FromNullMicros(eff), db.FromMicros(created), db.FromMicros(updated)
	rows, err := s.db.QueryContext(ctx, `SELECT province_code, name FROM merger_source WHERE merger_id = $1 ORDER BY position`, id)
	if err != nil {
		return m, err
	}
	defer rows.Close()
	for rows.Next() {
		var src Source
		if err := rows.Scan(&src.ProvinceCode, &src.Name); err != nil {
			return m, err
		}
		m.Sources = append(m.Sources, src)
	}
	return m, rows.Err()
}

// checkSystem normalises in and returns the fields that are wrong.
func checkSystem(in *System, m Merger, now time.Time) map[string]string {
	f := map[string]string{}
	var ok bool
	if !in.Category.Valid() {
		f["category"] = "merger.category_invalid"
	}
	if in.CustomCategory, ok = text(in.CustomCategory, 100); !ok || (in.Category == CatCustom && in.CustomCategory == "") {
		f["custom_category"] = "merger.custom_category_invalid"
	}
	if in.Category != CatCustom {
		in.CustomCategory = ""
	}
	if !slices.ContainsFunc(m.Sources, func(s Source) bool { return s.ProvinceCode == in.ProvinceCode }) {
		f["province_code"] = "merger.province_not_in_merger"
	}
	if in.Name, ok = text(in.Name, 200); !ok || in.Name == "" {
		f["name"] = "merger.system_name_invalid"
	}
	for field, p := range map[string]*string{"vendor": &in.Vendor, "technology": &in.Technology, "db_engine": &in.DBEngine} {
		if *p, ok = text(*p, 200); !ok {
			f[field] = "merger.text_too_long"
		}
	}
	for field, p := range map[string]*string{"integrations": &in.Integrations, "notes": &in.Notes} {
		if *p, ok = text(*p, 4000); !ok {
			f[field] = "merger.text_too_long"
		}
	}
	if in.DeployedYear != 0 && (in.DeployedYear < 1990 || in.DeployedYear > now.Year()) {
		f["deployed_year"] = "merger.year_invalid"
	}
	if in.Investment != "" && !slices.Contains(Investments, in.Investment) {
		f["investment"] = "merger.investment_invalid"
	}
	for field, v := range map[string]int64{"users": in.Users, "db_size_mb": in.DBSizeMB, "datasets": in.Datasets, "fields": in.Fields, "records": in.Records} {
		if v < 0 {
			f[field] = "merger.number_negative"
		}
	}
	var fns []string
	for _, fn := range in.Functions {
		if fn = strings.TrimSpace(fn); fn != "" && !slices.Contains(fns, fn) {
			switch {
			case strings.ContainsAny(fn, "\n\r"):
				f["functions"] = "merger.function_one_line"
			case utf8.RuneCountInString(fn) > 200:
				f["functions"] = "merger.text_too_long"
			}
			fns = append(fns, fn)
		}
	}
	if len(fns) > 100 {
		f["functions"] = "merger.too_many_functions"
	}
	in.Functions = fns
	return f
}

const systemCols = `id, merger_id, category, custom_category, province_code, name, vendor, technology, deployed_year, investment,
users, db_engine, db_size_mb, datasets, fields, records, functions, integrations, contract_end, notes, version, created_at, updated_at`

func scanSystem(sc interface{ Scan(...any) error }) (System, error) {
	var x System
	var cat, inv, fns string
	var end sql.NullInt64
	var created, updated int64
	var year int64
	err := sc.Scan(&x.ID, &x.MergerID, &cat, &x.CustomCategory, &x.ProvinceCode, &x.Name, &x.Vendor, &x.Technology, &year, &inv,
		&x.Users, &x.DBEngine, &x.DBSizeMB, &x.Datasets, &x.Fields, &x.Records, &fns, &x.Integrations, &end, &x.Notes,
		&x.Version, &created, &updated)
	x.Category, x.Investment, x.DeployedYear = Category(cat), Investment(inv), int(year)
	if fns != "" {
		x.Functions = strings.Split(fns, "\n")
	}
	x.ContractEnd, x.CreatedAt, x.UpdatedAt = db.FromNullMicros(end), db.FromMicros(created), db.FromMicros(updated)
	return x, err
}

// System returns one system.
func (s *Service) System(ctx context.Context, id string) (System, error) {
	x, err := scanSystem(s.db.QueryRowContext(ctx, `SELECT `+systemCols+` FROM merger_system WHERE id = $1`, id))
	if err != nil {
		return x, db.NotFoundIfNoRows(err, "merger.system_not_found")
	}
	return x, nil
}

// Systems lists a merger's systems by category, then old province, then name.
func (s *Service) Systems(ctx context.Context, mergerID string, cat Category) ([]System, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM merger WHERE id = $1`, mergerID).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, apperr.New(apperr.NotFound, "merger.not_found")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+systemCols+` FROM merger_system
WHERE merger_id = $1 AND ($2 = '' OR category = $2) ORDER BY category, province_code, name, id`, mergerID, string(cat))
	if err != nil {
		return nil, fmt.Errorf("list systems: %w", err)
	}
	defer rows.Close()
	var out []System
	for rows.Next() {
		x, err := scanSystem(rows)
		if err != nil {
			return nil, fmt.Errorf("list systems: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// CreateSystem adds an old province's system to a merger's inventory.
func (s *Service) CreateSystem(ctx context.Context, in System) (System, error) {
	m, err := s.Merger(ctx, in.MergerID)
	if err != nil {
		return System{}, err
	}
	if f := checkSystem(&in, m, s.db.Now()); len(f) > 0 {
		return System{}, apperr.InvalidFields(f)
	}
	in.ID, in.Version = newID("sy_"), 1
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		in.CreatedAt, in.UpdatedAt = tx.Now, tx.Now
		_, err := tx.ExecContext(ctx, `INSERT INTO merger_system (`+systemCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 1, $21, $21)`,
			in.ID, in.MergerID, string(in.Category), in.CustomCategory, in.ProvinceCode, in.Name, in.Vendor, in.Technology,
			int64(in.DeployedYear), string(in.Investment), in.Users, in.DBEngine, in.DBSizeMB, in.Datasets, in.Fields, in.Records,
			strings.Join(in.Functions, "\n"), in.Integrations, db.NullMicros(in.ContractEnd), in.Notes, db.Micros(tx.Now))
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "merger.system.create", ObjectType: "merger_system", ObjectID: in.ID,
			Details: map[string]any{"name": in.Name, "category": string(in.Category), "province": in.ProvinceCode}})
		return err
	})
	return in, err
}

// UpdateSystem replaces a system's fields, refusing a stale version so two
// coordinators never silently overwrite each other.
func (s *Service) UpdateSystem(ctx context.Context, id string, in System, version int64) (System, error) {
	before, err := s.System(ctx, id)
	if err != nil {
		return System{}, err
	}
	m, err := s.Merger(ctx, before.MergerID)
	if err != nil {
		return System{}, err
	}
	in.ID, in.MergerID = id, before.MergerID
	if f := checkSystem(&in, m, s.db.Now()); len(f) > 0 {
		return System{}, apperr.InvalidFields(f)
	}
	if version != before.Version {
		return System{}, apperr.New(apperr.Conflict, "merger.stale_version")
	}
	changes := systemChanges(before, in)
	if len(changes) == 0 {
		return before, nil // nothing to save: the version stays
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE merger_system SET category = $1, custom_category = $2, province_code = $3, name = $4,
vendor = $5, technology = $6, deployed_year = $7, investment = $8, users = $9, db_engine = $10, db_size_mb = $11, datasets = $12,
fields = $13, records = $14, functions = $15, integrations = $16, contract_end = $17, notes = $18, version = version + 1,
updated_at = $19 WHERE id = $20 AND version = $21`,
			string(in.Category), in.CustomCategory, in.ProvinceCode, in.Name, in.Vendor, in.Technology, int64(in.DeployedYear),
			string(in.Investment), in.Users, in.DBEngine, in.DBSizeMB, in.Datasets, in.Fields, in.Records,
			strings.Join(in.Functions, "\n"), in.Integrations, db.NullMicros(in.ContractEnd), in.Notes, db.Micros(tx.Now), id, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "merger.stale_version")
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "merger.system.update", ObjectType: "merger_system", ObjectID: id,
			Details: map[string]any{"changes": changes}})
		return err
	})
	if err != nil {
		return System{}, err
	}
	return s.System(ctx, id)
}

// systemChanges lists the fields that differ, for the audit trail.
func systemChanges(a System, b System) map[string]any {
	m := map[string]any{}
	add := func(k string, x, y any) { audit.Diff(m, k, x, y) }
	add("category", string(a.Category), string(b.Category))
	add("custom_category", a.CustomCategory, b.CustomCategory)
	add("province", a.ProvinceCode, b.ProvinceCode)
	add("name", a.Name, b.Name)
	add("vendor", a.Vendor, b.Vendor)
	add("technology", a.Technology, b.Technology)
	add("deployed_year", a.DeployedYear, b.DeployedYear)
	add("investment", string(a.Investment), string(b.Investment))
	add("users", a.Users, b.Users)
	add("db_engine", a.DBEngine, b.DBEngine)
	add("db_size_mb", a.DBSizeMB, b.DBSizeMB)
	add("datasets", a.Datasets, b.Datasets)
	add("fields", a.Fields, b.Fields)
	add("records", a.Records, b.Records)
	add("functions", strings.Join(a.Functions, "; "), strings.Join(b.Functions, "; "))
	add("integrations", a.Integrations, b.Integrations)
	add("contract_end", a.ContractEnd.UTC().Format(time.DateOnly), b.ContractEnd.UTC().Format(time.DateOnly))
	add("notes", a.Notes, b.Notes)
	return m
}

// DeleteSystem removes a system from the inventory, if nobody changed it
// since it was read. The audit entry keeps what it was.
func (s *Service) DeleteSystem(ctx context.Context, id string, version int64) error {
	before, err := s.System(ctx, id)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM merger_system WHERE id = $1 AND version = $2`, id, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			var x int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM merger_system WHERE id = $1`, id).Scan(&x); err != nil {
				return err
			}
			if x == 0 {
				return apperr.New(apperr.NotFound, "merger.system_not_found")
			}
			return apperr.New(apperr.Conflict, "merger.stale_version")
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "merger.system.delete", ObjectType: "merger_system", ObjectID: id,
			Details: map[string]any{"name": before.Name, "category": string(before.Category), "province": before.ProvinceCode}})
		return err
	})
}
