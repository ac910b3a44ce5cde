package register

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/sheet"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
)

// ExportKeep is how long a converted spreadsheet waits for its download.
const ExportKeep = 24 * time.Hour

// Export is a converted spreadsheet with its summary.
type Export struct {
	ID, Owner, FileName string
	Format              sheet.Format
	Summary             sheet.Summary
	Queued              int
	CreatedAt           time.Time
	Content             []byte // only from ExportFile
}

// FileOptions tune ConvertFile.
type FileOptions struct {
	Column string // header text, 1-based number or column letter
	Form   adminunit.Form
	Review bool // queue the undecided split rows, refs = row numbers
}

// owner is who may download an export: the principal that made it.
func owner(ctx context.Context) string {
	if p := reqctx.PrincipalOf(ctx); p != nil {
		return p.Kind + ":" + p.ID
	}
	return reqctx.Actor(ctx)
}

// ConvertFile converts a column of the spreadsheet name (.csv or .xlsx) read
// from r and keeps the result, in the same format, for its owner to
// download. The whole file is converted or nothing is kept.
func (s *Service) ConvertFile(ctx context.Context, name string, r io.Reader, size int64, opt FileOptions) (Export, error) {
	name = cleanText(filepath.Base(strings.ReplaceAll(name, "\\", "/")))
	format, ok := sheet.FormatOf(name)
	if !ok {
		return Export{}, apperr.InvalidFields(map[string]string{"file": "adminunit.sheet.type"})
	}
	if strings.TrimSpace(opt.Column) == "" {
		return Export{}, apperr.InvalidFields(map[string]string{"column": "adminunit.sheet.column_empty"})
	}
	if opt.Form != adminunit.FormAuto && opt.Form != adminunit.FormLegacy && opt.Form != adminunit.FormNew {
		return Export{}, apperr.InvalidFields(map[string]string{"form": "adminunit.convert.bad_form"})
	}
	idx, err := s.Index(ctx)
	if err != nil {
		return Export{}, err
	}
	var src sheet.Source
	if format == sheet.XLSX {
		x, err := sheet.NewXLSXSource(name, r)
		if err != nil {
			return Export{}, err
		}
		src = x
	} else {
		src = sheet.NewCSVSource(name, r, size)
	}
	defer src.Close()
	var out bytes.Buffer
	dst, err := sheet.NewSink(&out, format, src.Sheet(), src.BOM())
	if err != nil {
		return Export{}, err
	}
	type queued struct {
		row int
		res adminunit.Result
	}
	var review []queued
	c := &sheet.Converter{Index: idx, Options: adminunit.Options{Form: opt.Form}, Workers: 2}
	if opt.Review {
		c.OnResult = func(row int, r *adminunit.Result) {
			if r.Status == adminunit.StatusSplit && r.WardCode == "" {
				review = append(review, queued{row, *r})
			}
		}
	}
	if err := c.Table(ctx, src, opt.Column, dst); err != nil {
		_ = dst.Close()
		return Export{}, err
	}
	if err := dst.Close(); err != nil {
		return Export{}, fmt.Errorf("write converted %s: %w", name, err)
	}
	ext := filepath.Ext(name)
	e := Export{ID: "ex_" + strings.ToLower(rand.Text()), Owner: owner(ctx), Format: format, Summary: c.Summary, Queued: len(review),
		FileName: strings.TrimSuffix(name, ext) + "-dvhc-moi" + ext}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		e.CreatedAt = tx.Now
		source := "file:" + name
		e.Queued = 0
		for _, q := range review {
			_, added, err := s.enqueue(ctx, tx, source, strconv.Itoa(q.row), q.res)
			if err != nil {
				return err
			}
			if added {
				e.Queued++
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO adminunit_export (id, owner, file_name, format, content, rows_total, exact, split,
ambiguous, not_found, queued, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			e.ID, e.Owner, e.FileName, string(e.Format), out.Bytes(), e.Summary.Rows, e.Summary.Exact, e.Summary.Split,
			e.Summary.Ambiguous, e.Summary.NotFound, e.Queued, db.Micros(tx.Now))
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "adminunit.convert_file", ObjectType: "adminunit_export", ObjectID: e.ID,
			Details: map[string]any{"rows": e.Summary.Rows, "queued": e.Queued}})
		return err
	})
	if err != nil {
		return Export{}, err
	}
	return e, nil
}

const exportCols = `id, owner, file_name, format, rows_total, exact, split, ambiguous, not_found, queued, created_at`

// ExportOf returns an export's summary, for its owner only: to anyone else it
// does not exist.
func (s *Service) ExportOf(ctx context.Context, id string) (Export, error) {
	return s.export(ctx, id, false)
}

// ExportFile returns an export with its content, for its owner only.
func (s *Service) ExportFile(ctx context.Context, id string) (Export, error) {
	return s.export(ctx, id, true)
}

func (s *Service) export(ctx context.Context, id string, content bool) (Export, error) {
	var e Export
	var format string
	var created int64
	cols := exportCols
	args := []any{&e.ID, &e.Owner, &e.FileName, &format, &e.Summary.Rows, &e.Summary.Exact, &e.Summary.Split,
		&e.Summary.Ambiguous, &e.Summary.NotFound, &e.Queued, &created}
	if content {
		cols += `, content`
		args = append(args, &e.Content)
	}
	err := s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM adminunit_export WHERE id = $1 AND owner = $2 AND created_at >= $3`,
		id, owner(ctx), db.Micros(s.db.Now().Add(-ExportKeep))).Scan(args...)
	if err != nil {
		return e, db.NotFoundIfNoRows(err, "adminunit.export.not_found")
	}
	e.Format, e.CreatedAt = sheet.Format(format), db.FromMicros(created)
	return e, nil
}

// PurgeExports deletes the converted files older than ExportKeep.
func (s *Service) PurgeExports(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM adminunit_export WHERE created_at < $1`, db.Micros(s.db.Now().Add(-ExportKeep)))
	if err != nil {
		return 0, fmt.Errorf("purge exports: %w", err)
	}
	return res.RowsAffected()
}
