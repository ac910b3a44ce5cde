package sheet

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/platform/apperr"
)

// Format is a spreadsheet file format.
type Format string

// The formats read and written.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// FormatOf returns the format a file name's extension names.
func FormatOf(name string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV, true
	case ".xlsx":
		return XLSX, true
	}
	return "", false
}

// How much of a header a missing-column message repeats.
const (
	maxListed = 40
	maxHeader = 60
)

// PickColumn finds the column named by header text (exactly, then ignoring
// case), a 1-based number or a column letter.
func PickColumn(header []string, name string) (int, error) {
	want := strings.TrimSpace(name)
	for i, h := range header {
		if strings.TrimSpace(h) == want {
			return i, nil
		}
	}
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), want) {
			return i, nil
		}
	}
	if n, err := strconv.Atoi(want); err == nil && n >= 1 && n <= len(header) {
		return n - 1, nil
	}
	if letters(want) {
		if n, err := excelize.ColumnNameToNumber(want); err == nil && n <= len(header) {
			return n - 1, nil
		}
	}
	// The list is for a person to pick from: bounded, however wild the header.
	var quoted []string
	for i, h := range header {
		if i == maxListed {
			quoted = append(quoted, "…")
			break
		}
		if r := []rune(h); len(r) > maxHeader {
			h = string(r[:maxHeader]) + "…"
		}
		quoted = append(quoted, strconv.Quote(h))
	}
	if r := []rune(name); len(r) > maxHeader {
		name = string(r[:maxHeader]) + "…"
	}
	return -1, apperr.New(apperr.Invalid, "adminunit.sheet.no_column", strconv.Quote(name), strings.Join(quoted, ", "))
}

func letters(s string) bool {
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return s != "" && len(s) <= 3
}

// Source reads a spreadsheet's rows in order.
type Source interface {
	Name() string            // the file's name, for messages
	Next() ([]string, error) // io.EOF after the last row
	Fraction() float64       // share of the input read, or -1 when unknown
	Row() int                // the row Next returned last, as the file numbers it (header = 1)
	Sheet() string           // the sheet read, "" for CSV
	BOM() bool               // whether a CSV written from this input should start with a BOM
	Close() error
}

// CSVSource reads a UTF-8 CSV file; a leading BOM is allowed and remembered.
type CSVSource struct {
	name string
	cr   *countingReader
	size int64
	r    *csv.Reader
	bom  bool
}

// NewCSVSource reads CSV from r, whose length is size (0 when unknown).
func NewCSVSource(name string, r io.Reader, size int64) *CSVSource {
	s := &CSVSource{name: name, cr: &countingReader{r: r}, size: size}
	br := bufio.NewReaderSize(s.cr, ioBuffer)
	if b, _ := br.Peek(len(BOM)); string(b) == BOM {
		_, _ = br.Discard(len(BOM))
		s.bom = true
	}
	s.r = csv.NewReader(br)
	s.r.FieldsPerRecord = -1 // rows may be short or long; short ones are padded
	return s
}

// Name returns the file's name.
func (s *CSVSource) Name() string { return s.name }

// Next returns the next row; a malformed one is an error naming its line.
func (s *CSVSource) Next() ([]string, error) {
	rec, err := s.r.Read()
	if err == nil || err == io.EOF {
		return rec, err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			return nil, apperr.New(apperr.Invalid, "adminunit.sheet.quotes", s.name, pe.StartLine)
		}
		return nil, apperr.New(apperr.Invalid, "adminunit.sheet.bad_row", s.name, pe.StartLine, pe.Err.Error())
	}
	return nil, apperr.Wrapf(apperr.Invalid, "adminunit.sheet.unreadable", fmt.Errorf("%s: %w", s.name, err))
}

// Row returns the line the last record started on.
func (s *CSVSource) Row() int {
	line, _ := s.r.FieldPos(0)
	return line
}

// Fraction returns the share of the input read so far, -1 when unknown.
func (s *CSVSource) Fraction() float64 {
	if s.size <= 0 {
		return -1
	}
	return float64(s.cr.n) / float64(s.size)
}

// Sheet returns "": a CSV file has no sheets.
func (s *CSVSource) Sheet() string { return "" }

// BOM reports whether the input started with a BOM.
func (s *CSVSource) BOM() bool { return s.bom }

// Close does nothing: the caller owns the reader.
func (s *CSVSource) Close() error { return nil }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// XLSXSource reads the first sheet of a workbook row by row.
type XLSXSource struct {
	name  string
	f     *excelize.File
	sheet string
	rows  *excelize.Rows
	row   int
}

// OpenXLSXFile opens the workbook at path (read through the file, not loaded whole).
func OpenXLSXFile(path string) (*XLSXSource, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, apperr.Wrapf(apperr.Invalid, "adminunit.sheet.unreadable", fmt.Errorf("%s: %w", path, err))
	}
	return newXLSXSource(path, f)
}

// uploadUnzipLimit bounds what an uploaded workbook may expand to: a few
// megabytes of zip can hold gigabytes of XML.
const uploadUnzipLimit = 512 << 20

// NewXLSXSource reads a workbook from r (loaded in memory; bound r's size),
// refusing one that expands beyond uploadUnzipLimit.
func NewXLSXSource(name string, r io.Reader) (*XLSXSource, error) {
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: uploadUnzipLimit})
	if err != nil {
		return nil, apperr.Wrapf(apperr.Invalid, "adminunit.sheet.unreadable", fmt.Errorf("%s: %w", name, err))
	}
	return newXLSXSource(name, f)
}

func newXLSXSource(name string, f *excelize.File) (*XLSXSource, error) {
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, apperr.New(apperr.Invalid, "adminunit.sheet.no_sheet", name)
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, apperr.Wrapf(apperr.Invalid, "adminunit.sheet.unreadable", fmt.Errorf("%s: %w", name, err))
	}
	return &XLSXSource{name: name, f: f, sheet: sheets[0], rows: rows}, nil
}

// Name returns the file's name.
func (s *XLSXSource) Name() string { return s.name }

// Next returns the next row's cells as displayed.
func (s *XLSXSource) Next() ([]string, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return nil, apperr.Wrapf(apperr.Invalid, "adminunit.sheet.unreadable", fmt.Errorf("%s: %w", s.name, err))
		}
		return nil, io.EOF
	}
	s.row++
	rec, err := s.rows.Columns()
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "adminunit.sheet.bad_row", s.name, s.row, err.Error())
	}
	return rec, nil
}

// Row returns the number of the row last read.
func (s *XLSXSource) Row() int { return s.row }

// Fraction returns -1: a workbook's progress is not known.
func (s *XLSXSource) Fraction() float64 { return -1 }

// Sheet returns the name of the sheet read.
func (s *XLSXSource) Sheet() string { return s.sheet }

// BOM returns true: a CSV made from a workbook is for Excel, which needs one.
func (s *XLSXSource) BOM() bool { return true }

// Close releases the workbook.
func (s *XLSXSource) Close() error {
	err := s.rows.Close()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Sink writes a spreadsheet to w; Close finishes the file (an XLSX is only
// valid once closed). On an error, the caller discards what w received.
type Sink interface {
	Write([]string) error
	Close() error
}

// NewSink returns a writer of format to w; sheet names an XLSX sheet.
func NewSink(w io.Writer, format Format, sheet string, bom bool) (Sink, error) {
	if format == XLSX {
		return newXLSXSink(w, sheet)
	}
	s := &csvSink{bw: bufio.NewWriterSize(w, ioBuffer)}
	if bom {
		_, _ = s.bw.WriteString(BOM)
	}
	s.w = csv.NewWriter(s.bw)
	return s, nil
}

type csvSink struct {
	bw *bufio.Writer
	w  *csv.Writer
}

func (s *csvSink) Write(rec []string) error { return s.w.Write(rec) }

func (s *csvSink) Close() error {
	s.w.Flush()
	if err := s.w.Error(); err != nil {
		return err
	}
	return s.bw.Flush()
}

type xlsxSink struct {
	w    io.Writer
	f    *excelize.File // nil once closed
	sw   *excelize.StreamWriter
	row  int
	vals []any
}

func newXLSXSink(w io.Writer, sheet string) (*xlsxSink, error) {
	f := excelize.NewFile()
	name := f.GetSheetName(0)
	if sheet != "" && sheet != name {
		if err := f.SetSheetName(name, sheet); err != nil {
			f.Close()
			return nil, err
		}
		name = sheet
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &xlsxSink{w: w, f: f, sw: sw}, nil
}

func (s *xlsxSink) Write(rec []string) error {
	s.row++
	s.vals = s.vals[:0]
	for _, v := range rec {
		if v == "" {
			s.vals = append(s.vals, nil) // no cell at all: smaller file
		} else {
			s.vals = append(s.vals, v)
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, s.row)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, s.vals)
}

func (s *xlsxSink) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.sw.Flush()
	if err == nil {
		// File.Write assembles the whole zip in a buffer first (a
		// 1,000,000-row sheet took 360 MB); a zip writer of our own streams
		// it into w instead, and the buffer stays empty.
		bw := bufio.NewWriterSize(s.w, ioBuffer)
		s.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(bw) })
		if err = s.f.Write(io.Discard); err == nil {
			err = bw.Flush()
		}
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	return err
}
