// Package workbook holds what every module's spreadsheet import needs: the
// problems of a workbook named by sheet, row and column, an error carrying
// all of them (nothing is half-imported), and header lookups.
package workbook

import (
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/platform/apperr"
)

// Problem is one thing wrong in an imported workbook: where, and what (an
// i18n key with its arguments).
type Problem struct {
	Sheet  string
	Row    int
	Column string // the column's letter, "" for the whole row
	Key    string
	Args   []any
}

// Error lists every problem of a workbook; nothing was imported.
type Error struct{ Problems []Problem }

func (e *Error) Error() string { return fmt.Sprintf("%d problems in the workbook", len(e.Problems)) }

// Unwrap makes an Error an Invalid apperr for whoever does not list the
// problems themselves.
func (e *Error) Unwrap() error {
	return apperr.New(apperr.Invalid, "workbook.problems", len(e.Problems))
}

// Columns maps the header texts of a sheet to their positions.
type Columns map[string]int

// Header reads a sheet's first row and reports the required headers it lacks.
func Header(sheet string, rows [][]string, required []string) (Columns, []Problem) {
	c := Columns{}
	if len(rows) == 0 {
		return c, []Problem{{Sheet: sheet, Row: 1, Key: "workbook.no_header"}}
	}
	for i, h := range rows[0] {
		c[strings.TrimSpace(h)] = i
	}
	var probs []Problem
	for _, h := range required {
		if _, ok := c[h]; !ok {
			probs = append(probs, Problem{Sheet: sheet, Row: 1, Key: "workbook.missing_column", Args: []any{h}})
		}
	}
	return c, probs
}

// Get returns the trimmed cell of header h in rec, "" when absent.
func (c Columns) Get(rec []string, h string) string {
	i, ok := c[h]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// Letter returns the column letter of header h, "" when absent.
func (c Columns) Letter(h string) string {
	i, ok := c[h]
	if !ok {
		return ""
	}
	n, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return ""
	}
	return n
}

// Empty reports whether a row has no text at all.
func Empty(rec []string) bool { return strings.TrimSpace(strings.Join(rec, "")) == "" }

// WriteRows writes rows to sheet from A1, creating the sheet unless it is
// the workbook's first (which is renamed).
func WriteRows(f *excelize.File, sheet string, first bool, rows [][]any) error {
	if first {
		if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
			return err
		}
	} else if _, err := f.NewSheet(sheet); err != nil {
		return err
	}
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
