package org

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/workbook"
)

// The workbook's sheets and columns. The header texts are what people see
// and what the import looks for; the order is free.
const (
	sheetAgencies = "Cơ quan"
	sheetLinks    = "Kế thừa"
)

var (
	agencyHeader = []string{"Mã hệ thống", "Mã định danh", "Mã định danh cũ", "Tên", "Loại", "Thuộc", "Thời kỳ",
		"Mã tỉnh", "Mã xã", "Hiệu lực từ", "Hiệu lực đến"}
	linkHeader = []string{"Từ", "Đến", "Hình thức", "Ghi chú"}
)

// kindNames and the others are the Vietnamese words the workbook uses; the
// import also takes the English codes.
var (
	kindNames = map[Kind]string{
		KindProvinceCommittee: "UBND tỉnh/thành phố", KindDepartment: "Sở, ban, ngành", KindDistrictCommittee: "UBND huyện/quận",
		KindWardCommittee: "UBND xã/phường/đặc khu", KindPublicService: "Đơn vị sự nghiệp", KindParty: "Cơ quan Đảng, đoàn thể", KindOther: "Khác",
	}
	periodNames = map[Period]string{Legacy: "Tỉnh cũ", Current: "Tỉnh mới"}
	linkNames   = map[LinkKind]string{
		LinkUnchanged: "Giữ nguyên", LinkRenamed: "Đổi tên", LinkMergedInto: "Hợp nhất vào", LinkSplitInto: "Chia tách cho",
		LinkDissolved: "Giải thể, chuyển nhiệm vụ cho",
	}
)

func lookupName[K ~string](names map[K]string, v string) (K, bool) {
	v = strings.TrimSpace(v)
	for k, n := range names {
		if strings.EqualFold(v, n) || strings.EqualFold(v, string(k)) {
			return k, true
		}
	}
	return "", false
}

const dateLayout = "02/01/2006"

func dateCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(time.FixedZone("ICT", 7*3600)).Format(dateLayout)
}

// Export writes every agency and link as a workbook; it is also the template
// the import reads.
func (s *Service) Export(ctx context.Context, w io.Writer) error {
	all, err := s.List(ctx, Filter{Limit: 5000})
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName(f.GetSheetName(0), sheetAgencies); err != nil {
		return err
	}
	rows := [][]any{toAny(agencyHeader)}
	for _, a := range all {
		rows = append(rows, []any{a.ID, a.Code, a.OldCode, a.Name, kindNames[a.Kind], a.ParentID, periodNames[a.Period],
			a.ProvinceCode, a.WardCode, dateCell(a.ValidFrom), dateCell(a.ValidTo)})
	}
	if err := writeRows(f, sheetAgencies, rows); err != nil {
		return err
	}
	if _, err := f.NewSheet(sheetLinks); err != nil {
		return err
	}
	lrows := [][]any{toAny(linkHeader)}
	for _, a := range all {
		rel, err := s.Successors(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, r := range rel {
			lrows = append(lrows, []any{a.ID, r.Agency.ID, linkNames[r.Kind], r.Note})
		}
	}
	if err := writeRows(f, sheetLinks, lrows); err != nil {
		return err
	}
	return f.Write(w)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func writeRows(f *excelize.File, sheet string, rows [][]any) error {
	// Codes like "00097" and ids are text: written as strings, Excel keeps
	// their leading zeros.
	for i, r := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return err
		}
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			return err
		}
	}
	return nil
}

// Problem is one thing wrong in an imported workbook.
type Problem = workbook.Problem

// ImportError lists every problem of a workbook; nothing was imported.
type ImportError = workbook.Error

// ImportResult counts what an import did.
type ImportResult struct {
	Created, Updated, Links int
}

type importRow struct {
	row      int
	ref      string // the agency's id in the workbook, or its code
	existing *Agency
	in       Input
	parent   string // reference to another row or an agency already there
}

// Import reads a workbook in the Export format and applies it in one
// transaction: every row is checked first, and any problem (named by sheet,
// row and column) leaves the register untouched. Rows whose id or code
// exists update that agency; others create one. Links are added when new.
func (s *Service) Import(ctx context.Context, r io.Reader) (ImportResult, error) {
	var res ImportResult
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: 64 << 20})
	if err != nil {
		return res, apperr.Wrapf(apperr.Invalid, "org.import.unreadable", err)
	}
	defer f.Close()
	var probs []Problem
	agRows, err := f.GetRows(sheetAgencies)
	if err != nil {
		return res, &ImportError{Problems: []Problem{{Sheet: sheetAgencies, Key: "org.import.no_sheet", Args: []any{sheetAgencies}}}}
	}
	cols, p := headerIndex(sheetAgencies, agRows, []string{"Tên", "Loại", "Thời kỳ"})
	probs = append(probs, p...)
	var rows []importRow
	if len(p) == 0 {
		for i, rec := range agRows[1:] {
			ir, p := s.parseAgencyRow(ctx, i+2, rec, cols)
			probs = append(probs, p...)
			if ir != nil {
				rows = append(rows, *ir)
			}
		}
	}
	// References to parents: another row (by id or code) or an agency already
	// in the register.
	byRef := map[string]int{}
	for i, ir := range rows {
		for _, k := range []string{ir.ref, ir.in.Code} {
			if k != "" {
				byRef[k] = i
			}
		}
	}
	var links []Link
	var linkRows []int
	lcols := map[string]int{}
	if lrows, err := f.GetRows(sheetLinks); err == nil && len(lrows) > 0 {
		var p []Problem
		lcols, p = headerIndex(sheetLinks, lrows, []string{"Từ", "Đến", "Hình thức"})
		probs = append(probs, p...)
		if len(p) == 0 {
			for i, rec := range lrows[1:] {
				get := func(h string) string { return cell(rec, lcols[h]) }
				if strings.Join(rec, "") == "" {
					continue
				}
				kind, ok := lookupName(linkNames, get("Hình thức"))
				if !ok {
					probs = append(probs, Problem{Sheet: sheetLinks, Row: i + 2, Column: colName(lcols["Hình thức"]), Key: "org.import.bad_link_kind", Args: []any{get("Hình thức")}})
				}
				links = append(links, Link{FromID: get("Từ"), ToID: get("Đến"), Kind: kind, Note: get("Ghi chú")})
				linkRows = append(linkRows, i+2)
			}
		}
	}
	if len(probs) > 0 {
		return res, &ImportError{Problems: probs}
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		ids := make([]string, len(rows))
		// Agencies first, parents after, so rows may refer to later rows.
		for i, ir := range rows {
			in := ir.in
			in.ParentID = ""
			if ir.existing != nil {
				ids[i] = ir.existing.ID
				in.ParentID = ir.existing.ParentID
				if err := s.updateTx(ctx, tx, ir.existing, in); err != nil {
					return rowError(sheetAgencies, ir.row, letters(cols), err)
				}
				res.Updated++
				continue
			}
			a, err := s.createTx(ctx, tx, in)
			if err != nil {
				return rowError(sheetAgencies, ir.row, letters(cols), err)
			}
			ids[i] = a.ID
			res.Created++
		}
		resolve := func(ref string) (string, bool) {
			if j, ok := byRef[ref]; ok {
				return ids[j], true
			}
			if a, err := s.get(ctx, tx, ref); err == nil {
				return a.ID, true
			}
			var id string
			err := tx.QueryRowContext(ctx, `SELECT id FROM org_agency WHERE code = $1 OR old_code = $1 LIMIT 1`, strings.ToUpper(ref)).Scan(&id)
			return id, err == nil
		}
		// Then every row's parent, as the workbook says (empty: top level).
		for i, ir := range rows {
			pid := ""
			if ir.parent != "" {
				var ok bool
				if pid, ok = resolve(ir.parent); !ok {
					return &ImportError{Problems: []Problem{{Sheet: sheetAgencies, Row: ir.row, Column: colName(cols["Thuộc"]), Key: "org.import.unknown_ref", Args: []any{ir.parent}}}}
				}
			}
			a, err := s.get(ctx, tx, ids[i])
			if err != nil {
				return err
			}
			if a.ParentID == pid {
				continue
			}
			in := ir.in
			in.ParentID = pid
			if err := s.updateTx(ctx, tx, &a, in); err != nil {
				return rowError(sheetAgencies, ir.row, letters(cols), err)
			}
		}
		for i, l := range links {
			from, ok1 := resolve(l.FromID)
			to, ok2 := resolve(l.ToID)
			if !ok1 || !ok2 {
				ref := l.FromID
				if ok1 {
					ref = l.ToID
				}
				return &ImportError{Problems: []Problem{{Sheet: sheetLinks, Row: linkRows[i], Key: "org.import.unknown_ref", Args: []any{ref}}}}
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM org_link WHERE from_id = $1 AND to_id = $2`, from, to).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			l.FromID, l.ToID = from, to
			if err := s.addLinkTx(ctx, tx, l); err != nil {
				return rowError(sheetLinks, linkRows[i], letters(lcols), err)
			}
			res.Links++
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "org.import", ObjectType: "agency", ObjectID: "register",
			Details: map[string]any{"created": res.Created, "updated": res.Updated, "links": res.Links}})
		return err
	})
	return res, err
}

// rowError turns a service error on one row into a problem naming the row
// and, for a field error, its field.
func rowError(sheet string, row int, cols map[string]string, err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Kind == apperr.Invalid {
		var probs []Problem
		for field, key := range ae.Field {
			probs = append(probs, Problem{Sheet: sheet, Row: row, Column: cols[fieldColumn[field]], Key: key})
		}
		if len(probs) == 0 {
			probs = append(probs, Problem{Sheet: sheet, Row: row, Key: ae.Key, Args: ae.Args})
		}
		return &ImportError{Problems: probs}
	}
	if apperr.Is(err, apperr.Conflict) {
		return &ImportError{Problems: []Problem{{Sheet: sheet, Row: row, Key: "org.import.conflict"}}}
	}
	return err
}

// fieldColumn names the header of each input field, for problems.
var fieldColumn = map[string]string{
	"code": "Mã định danh", "old_code": "Mã định danh cũ", "name": "Tên", "kind": "Loại", "parent_id": "Thuộc",
	"period": "Thời kỳ", "province_code": "Mã tỉnh", "ward_code": "Mã xã", "valid_from": "Hiệu lực từ", "valid_to": "Hiệu lực đến",
	"to_id": "Đến", "note": "Ghi chú",
}

func headerIndex(sheet string, rows [][]string, required []string) (map[string]int, []Problem) {
	c, p := workbook.Header(sheet, rows, required)
	return c, p
}

// letters maps each header to its column's letter.
func letters(cols map[string]int) map[string]string {
	m := make(map[string]string, len(cols))
	for h, i := range cols {
		m[h] = colName(i)
	}
	return m
}

func cell(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func colName(i int) string {
	n, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return ""
	}
	return n
}

func (s *Service) parseAgencyRow(ctx context.Context, row int, rec []string, cols map[string]int) (*importRow, []Problem) {
	get := func(h string) string {
		i, ok := cols[h]
		if !ok {
			return ""
		}
		return cell(rec, i)
	}
	if strings.Join(rec, "") == "" {
		return nil, nil // an empty row in the middle of a sheet
	}
	var probs []Problem
	bad := func(h, key string, args ...any) {
		probs = append(probs, Problem{Sheet: sheetAgencies, Row: row, Column: colName(cols[h]), Key: key, Args: args})
	}
	ir := &importRow{row: row, ref: get("Mã hệ thống"), parent: get("Thuộc")}
	ir.in = Input{Code: get("Mã định danh"), OldCode: get("Mã định danh cũ"), Name: get("Tên"),
		ProvinceCode: get("Mã tỉnh"), WardCode: get("Mã xã")}
	var ok bool
	if ir.in.Kind, ok = lookupName(kindNames, get("Loại")); !ok {
		bad("Loại", "org.import.bad_kind", get("Loại"))
	}
	if ir.in.Period, ok = lookupName(periodNames, get("Thời kỳ")); !ok {
		bad("Thời kỳ", "org.import.bad_period", get("Thời kỳ"))
	}
	for _, h := range []string{"Hiệu lực từ", "Hiệu lực đến"} {
		v := get(h)
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation(dateLayout, v, time.FixedZone("ICT", 7*3600))
		if err != nil {
			bad(h, "org.import.bad_date", v)
			continue
		}
		if h == "Hiệu lực từ" {
			ir.in.ValidFrom = t
		} else {
			ir.in.ValidTo = t
		}
	}
	in := ir.in
	for field, key := range check(&in) {
		if field == "kind" || field == "period" {
			continue // reported above with the value read
		}
		bad(fieldColumn[field], key)
	}
	ir.in = in
	if ir.ref != "" {
		if a, err := s.get(ctx, s.db, ir.ref); err == nil {
			ir.existing = &a
		}
	}
	if ir.existing == nil && ir.in.Code != "" {
		if a, err := s.ByCode(ctx, ir.in.Code); err == nil {
			ir.existing = &a
		}
	}
	return ir, probs
}
