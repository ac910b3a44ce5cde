package procedure

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/fold"
	"hopnhat/internal/platform/workbook"
	"hopnhat/internal/procedure/workday"
)

// Catalogs returns the module's word lists, for commands that print its
// messages.
func Catalogs() []fs.FS { return catalogs() }

// AllProcedures lists every procedure of the catalogue matching f, page by
// page, ignoring f's Limit and Offset: for exports.
func (s *Service) AllProcedures(ctx context.Context, f ProcedureFilter) ([]Procedure, error) {
	const page = 5000
	var out []Procedure
	for {
		f.Limit, f.Offset = page, len(out)
		ps, err := s.Procedures(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
		if len(ps) < page {
			return out, nil
		}
	}
}

// SetActive puts a procedure in use or out of use, refusing a stale
// version. Dossiers already received go on; a procedure out of use takes no
// new ones.
func (s *Service) SetActive(ctx context.Context, id string, active bool, version int64) (Procedure, error) {
	p, err := s.Procedure(ctx, id)
	if err != nil {
		return Procedure{}, err
	}
	if p.Version != version {
		return Procedure{}, apperr.New(apperr.Conflict, "procedure.stale")
	}
	p.Active = active
	return s.UpdateProcedure(ctx, id, p, version)
}

// CatalogueImport counts what an import did.
type CatalogueImport struct {
	Created, Updated, Unchanged int
}

// ImportCatalogue reads a catalogue (see ReadCatalogue) and applies it in
// one audited transaction: a row whose code is in the catalogue updates that
// procedure, other rows add one. Every row is checked first, its agency
// looked up in the register; any problem (named by row and column) leaves
// the catalogue untouched and comes back as a *workbook.Error. A row without
// a status keeps an existing procedure's; a new one is in use.
func (s *Service) ImportCatalogue(ctx context.Context, r io.Reader) (res CatalogueImport, err error) {
	defer apperr.Wrap(&err, "import procedure catalogue")
	rows, probs, err := ReadCatalogue(r)
	if err != nil {
		return res, err
	}
	ix, err := s.catLookupAgencies(ctx)
	if err != nil {
		return res, err
	}
	for i := range rows {
		row := &rows[i]
		if row.Agency == "" {
			continue // reported as missing
		}
		id, key, err := ix.resolve(ctx, row.Agency)
		if err != nil {
			return res, err
		}
		if key != "" {
			probs = append(probs, workbook.Problem{Sheet: row.Sheet, Row: row.Row, Column: row.Columns.Letter(catColAgency), Key: key, Args: []any{row.Agency}})
		}
		row.Procedure.AgencyID = id
	}
	if len(probs) > 0 {
		return res, &workbook.Error{Problems: catSortProblems(probs)}
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, row := range rows {
			p := row.Procedure
			before, err := scanProcedure(tx.QueryRowContext(ctx, `SELECT `+procCols+` FROM proc_procedure WHERE code = $1`, p.Code))
			if err := db.NotFoundIfNoRows(err, "procedure.not_found"); err != nil && !apperr.Is(err, apperr.NotFound) {
				return err
			}
			if before.ID == "" {
				p.ID, p.Version, p.Active = newID("tt_"), 1, p.Active || !row.Status
				p.CreatedAt, p.UpdatedAt = tx.Now, tx.Now
				if err := insertProcedure(ctx, tx, &p); err != nil {
					return catRowProblem(row, err)
				}
				res.Created++
				continue
			}
			if !row.Status {
				p.Active = before.Active
			}
			if len(procedureChanges(before, p)) == 0 {
				res.Unchanged++
				continue
			}
			if err := updateProcedure(ctx, tx, before.ID, p, before.Version); err != nil {
				return catRowProblem(row, err)
			}
			res.Updated++
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "procedure.import", ObjectType: "procedure", ObjectID: "catalogue",
			Details: map[string]any{"rows": len(rows), "created": res.Created, "updated": res.Updated, "unchanged": res.Unchanged}})
		return err
	})
	if err != nil {
		return CatalogueImport{}, err
	}
	s.log.InfoContext(ctx, "procedure catalogue imported", "created", res.Created, "updated", res.Updated, "unchanged", res.Unchanged)
	return res, nil
}

// catRowProblem names the row a refusal in the transaction came from: another
// person's change between the check and the write.
func catRowProblem(row CatalogueRow, err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || (ae.Kind != apperr.Invalid && ae.Kind != apperr.Conflict) {
		return err
	}
	key := ae.Key
	col := ""
	if k, ok := ae.Field["code"]; ok {
		key, col = k, row.Columns.Letter(catColCode)
	}
	return &workbook.Error{Problems: []workbook.Problem{{Sheet: row.Sheet, Row: row.Row, Column: col, Key: key, Args: ae.Args}}}
}

// catAgencies is the register as an import reads it: agencies by id, and
// by name without diacritics or case.
type catAgencies struct {
	s       *Service
	current map[string]Agency   // by id
	byName  map[string][]Agency // the merged province's, by folded name
	former  map[string]bool     // the old provinces' folded names
	seen    map[string]catResolved
}

type catResolved struct{ id, key string }

func (s *Service) catLookupAgencies(ctx context.Context) (*catAgencies, error) {
	cur, err := s.agencies.Current(ctx)
	if err != nil {
		return nil, err
	}
	old, err := s.agencies.Former(ctx)
	if err != nil {
		return nil, err
	}
	ix := &catAgencies{s: s, current: map[string]Agency{}, byName: map[string][]Agency{}, former: map[string]bool{}, seen: map[string]catResolved{}}
	for _, a := range cur {
		ix.current[a.ID] = a
		ix.byName[fold.String(a.Name)] = append(ix.byName[fold.String(a.Name)], a)
	}
	for _, a := range old {
		ix.former[fold.String(a.Name)] = true
	}
	return ix, nil
}

// nameOf writes an agency as the import reads it back: its name, or its id
// when the name is not one current agency's alone.
func (ix *catAgencies) nameOf(id string) string {
	if a, ok := ix.current[id]; ok && len(ix.byName[fold.String(a.Name)]) == 1 {
		return a.Name
	}
	return id
}

// resolve finds the agency v names, as an id, an electronic identifier
// code or a name; key is the problem when it cannot be used.
func (ix *catAgencies) resolve(ctx context.Context, v string) (id, key string, err error) {
	if r, ok := ix.seen[v]; ok {
		return r.id, r.key, nil
	}
	defer func() {
		if err == nil {
			ix.seen[v] = catResolved{id, key}
		}
	}()
	if a, ok := ix.current[v]; ok {
		return a.ID, "", nil
	}
	switch same := ix.byName[fold.String(v)]; {
	case len(same) == 1:
		return same[0].ID, "", nil
	case len(same) > 1:
		return "", "procedure.import.agency_ambiguous", nil
	}
	// An old province's agency, named by id or code: its work goes to its
	// successor, which the row should name.
	a, err := ix.s.agencies.Agency(ctx, v)
	if apperr.Is(err, apperr.NotFound) {
		a, err = ix.s.agencies.ByCode(ctx, strings.ToUpper(v))
	}
	switch {
	case err == nil && a.Current:
		return a.ID, "", nil
	case err == nil, ix.former[fold.String(v)]:
		return "", "procedure.import.agency_former", nil
	case apperr.Is(err, apperr.NotFound):
		return "", "procedure.import.agency_unknown", nil
	}
	return "", "", err
}

// catSortProblems orders problems as the file reads: by row, then column.
func catSortProblems(ps []workbook.Problem) []workbook.Problem {
	slices.SortStableFunc(ps, func(a, b workbook.Problem) int {
		if a.Row != b.Row {
			return a.Row - b.Row
		}
		if len(a.Column) != len(b.Column) {
			return len(a.Column) - len(b.Column)
		}
		return strings.Compare(a.Column, b.Column)
	})
	return ps
}

// Today is the day it is in Vietnam by the service's clock.
func (s *Service) Today() workday.Day { return workday.DayOf(s.db.Now()) }
