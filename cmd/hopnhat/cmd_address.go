package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/xuri/excelize/v2"

	"hopnhat/internal/adminunit"
)

const (
	// maxAddressLine is the most of one stdin line kept; the converter reads
	// only adminunit.MaxAddress bytes, so a runaway line cannot exhaust memory.
	maxAddressLine = 1 << 20
	// progressEvery is the shortest time between two redraws of the progress line.
	progressEvery = 200 * time.Millisecond
	ioBuffer      = 64 << 10
	// A batch of at most batchRows rows or batchBytes bytes is read,
	// converted in parallel, then written in order.
	batchRows  = 1024
	batchBytes = 4 << 20
	// minPerWorker keeps small batches (short inputs, tests) on one goroutine.
	minPerWorker = 64
	utf8BOM      = "\xef\xbb\xbf"
)

// lineColumns are the CSV columns written for addresses read one per line.
// The first four are the contract with scripts and must not move.
func lineColumns() []string {
	return []string{"input", "province_code", "ward_code", "status", "rule", "form",
		"province_name", "ward_name", "candidates", "reason", "legacy_ward_code", "street"}
}

// fileColumns are the columns appended to each row of a spreadsheet.
func fileColumns() []string {
	return []string{"province_code", "ward_code", "status", "rule",
		"province_name", "ward_name", "candidates", "reason"}
}

func addressCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "address", Short: "địa chỉ và đơn vị hành chính — addresses and administrative units"}
	cmd.AddCommand(addressConvertCmd(cfg))
	return cmd
}

func addressConvertCmd(cfg *config) *cobra.Command {
	var formFlag, inPath, column, outPath string
	cmd := &cobra.Command{
		Use:   "convert",
		Short: "chuyển địa chỉ cũ sang ĐVHC mới — convert legacy addresses to the new units",
		Long: `Đọc mỗi dòng stdin một địa chỉ và ghi CSV ra stdout: input,province_code,ward_code,status,…
Với --in, --column, --out: chuyển một cột của tệp .csv hoặc .xlsx (trang tính đầu tiên), giữ nguyên các
cột cũ và thêm cột kết quả vào cuối mỗi dòng; tệp ra (.csv hoặc .xlsx theo đuôi) chỉ xuất hiện khi đã ghi xong.
status: exact (một xã mới), split (xã cũ bị chia; xem candidates), ambiguous (xem reason), not_found.

Reads one address per stdin line and writes CSV to stdout: input,province_code,ward_code,status,…
With --in, --column, --out: converts one column of a .csv or .xlsx file (its first sheet), keeps the
original columns and appends the result columns to each row; the output file (.csv or .xlsx by its
extension) appears only once complete.

Ví dụ / examples:
  hopnhat address convert < dia_chi.txt > ket_qua.csv
  hopnhat address convert --in ho_so.xlsx --column "Địa chỉ" --out ho_so_moi.xlsx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			form, err := parseForm(formFlag)
			if err != nil {
				return err
			}
			if err := checkConvertFiles(inPath, column, outPath); err != nil {
				return err
			}
			ctx := cmd.Context()
			idx, err := addressIndex(ctx, cfg)
			if err != nil {
				return explain(err)
			}
			c := &addressConverter{idx: idx, opt: adminunit.Options{Form: form}, prog: newProgress(cmd.ErrOrStderr()),
				workers: runtime.GOMAXPROCS(0)}
			if inPath == "" {
				if isTerminal(cmd.InOrStdin()) {
					fmt.Fprintln(cmd.ErrOrStderr(), "Nhập địa chỉ, mỗi dòng một; Ctrl-D để kết thúc / type addresses, one per line; Ctrl-D to finish")
				}
				err = c.lines(ctx, cmd.InOrStdin(), cmd.OutOrStdout())
			} else {
				err = c.file(ctx, inPath, column, outPath)
			}
			c.prog.clear()
			if err != nil {
				return err
			}
			c.summary(cmd.ErrOrStderr())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&formFlag, "form", "auto", "địa chỉ theo ĐVHC nào / which units the addresses name: auto, legacy (trước / before 1/7/2025), new")
	f.StringVar(&inPath, "in", "", "tệp vào / input file: .csv hoặc / or .xlsx")
	f.StringVar(&column, "column", "", "cột địa chỉ của --in: tên tiêu đề, số thứ tự (1, 2, …) hoặc chữ cột (A, B, …) / the address column of --in: header text, 1-based number or column letter")
	f.StringVar(&outPath, "out", "", "tệp ra / output file: .csv hoặc / or .xlsx")
	return cmd
}

func parseForm(s string) (adminunit.Form, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto", "":
		return adminunit.FormAuto, nil
	case "legacy":
		return adminunit.FormLegacy, nil
	case "new":
		return adminunit.FormNew, nil
	}
	return "", fmt.Errorf("--form %q: dùng auto, legacy hoặc new / use auto, legacy or new", s)
}

// checkConvertFiles checks the file flags before the slow work starts.
func checkConvertFiles(in, column, out string) error {
	if in == "" {
		if column != "" || out != "" {
			return errors.New("--column và --out chỉ dùng cùng --in / --column and --out go with --in")
		}
		return nil
	}
	if column == "" || out == "" {
		return errors.New("--in cần cả --column và --out / --in needs --column and --out")
	}
	if !spreadsheetExt(in) {
		return fmt.Errorf("--in %s: chỉ đọc được .csv hoặc .xlsx / only .csv and .xlsx can be read", in)
	}
	if !spreadsheetExt(out) {
		return fmt.Errorf("--out %s: chỉ ghi được .csv hoặc .xlsx / only .csv and .xlsx can be written", out)
	}
	fi, err := os.Stat(in)
	if err != nil {
		return fmt.Errorf("--in: %w", err)
	}
	// The source stays untouched: a failed or wrong conversion must not cost
	// the original records.
	if fo, err := os.Stat(out); err == nil && os.SameFile(fi, fo) {
		return errors.New("--out phải khác --in / --out must differ from --in")
	}
	return nil
}

func spreadsheetExt(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".csv", ".xlsx":
		return true
	}
	return false
}

// addressConverter converts addresses in batches and tallies the statuses.
type addressConverter struct {
	idx     *adminunit.Index
	opt     adminunit.Options
	prog    *progress
	workers int // goroutines converting a batch; 0 or 1: the caller's only
	rows    int
	counts  [4]int // exact, split, ambiguous, not_found
}

// convertBatch converts addrs into res (same length), spreading the work over
// the CPUs: conversion is most of the time, and with batches the rows keep
// their order while reading and writing stay in one goroutine.
func (c *addressConverter) convertBatch(addrs []string, res []adminunit.Result) {
	workers := min(c.workers, len(addrs)/minPerWorker)
	if workers <= 1 {
		for i, a := range addrs {
			res[i] = c.idx.Convert(a, c.opt)
		}
	} else {
		var wg sync.WaitGroup
		per := (len(addrs) + workers - 1) / workers
		for lo := 0; lo < len(addrs); lo += per {
			hi := min(lo+per, len(addrs))
			wg.Go(func() {
				for i := lo; i < hi; i++ {
					res[i] = c.idx.Convert(addrs[i], c.opt)
				}
			})
		}
		wg.Wait()
	}
	for i := range res {
		c.rows++
		switch res[i].Status {
		case adminunit.StatusExact:
			c.counts[0]++
		case adminunit.StatusSplit:
			c.counts[1]++
		case adminunit.StatusAmbiguous:
			c.counts[2]++
		default:
			c.counts[3]++
		}
	}
	c.prog.tick(c.rows)
}

// names returns the names of the result's new province and ward.
func (c *addressConverter) names(r *adminunit.Result) (province, ward string) {
	if u, ok := c.idx.Unit(adminunit.LevelProvince, r.ProvinceCode); ok && r.ProvinceCode != "" {
		province = u.Name
	}
	if u, ok := c.idx.Unit(adminunit.LevelWard, r.WardCode); ok && r.WardCode != "" {
		ward = u.Name
	}
	return province, ward
}

func (c *addressConverter) summary(w io.Writer) {
	secs := c.prog.elapsed().Seconds()
	fmt.Fprintf(w, "Đã chuyển %s dòng: exact %s, split %s, ambiguous %s, not_found %s / converted %s rows in %.1fs\n",
		groupDigits(c.rows, '.'), groupDigits(c.counts[0], '.'), groupDigits(c.counts[1], '.'),
		groupDigits(c.counts[2], '.'), groupDigits(c.counts[3], '.'), groupDigits(c.rows, ','), secs)
}

// lines converts one address per line of in and writes CSV to out.
func (c *addressConverter) lines(ctx context.Context, in io.Reader, out io.Writer) error {
	br := bufio.NewReaderSize(in, ioBuffer)
	bw := bufio.NewWriterSize(out, ioBuffer)
	w := csv.NewWriter(bw) // writes straight into bw: csv reuses a large enough bufio.Writer
	if err := w.Write(lineColumns()); err != nil {
		return err
	}
	rec := make([]string, len(lineColumns()))
	addrs := make([]string, 0, batchRows)
	res := make([]adminunit.Result, batchRows)
	var buf []byte
	for n, eof := 0, false; !eof; {
		addrs = addrs[:0]
		for size := 0; len(addrs) < batchRows && size < batchBytes; {
			line, ok, err := readLine(br, buf)
			if err != nil {
				return fmt.Errorf("đọc stdin / read stdin: %w", err)
			}
			if !ok {
				eof = true
				break
			}
			buf = line[:0]
			if n == 0 {
				line = bytes.TrimPrefix(line, []byte(utf8BOM))
			}
			n++
			size += len(line)
			addrs = append(addrs, string(line))
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("đã dừng / stopped: %w", err)
		}
		c.convertBatch(addrs, res[:len(addrs)])
		for i := range addrs {
			r := &res[i]
			prov, ward := c.names(r)
			rec[0], rec[1], rec[2], rec[3] = validUTF8(r.Input), r.ProvinceCode, r.WardCode, string(r.Status)
			rec[4], rec[5], rec[6], rec[7] = string(r.Rule), string(r.Form), prov, ward
			rec[8], rec[9], rec[10], rec[11] = strings.Join(r.Candidates, ";"), r.Reason, r.LegacyWardCode, validUTF8(r.Street)
			if err := w.Write(rec); err != nil {
				return err
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// readLine reads the next line into buf, without its "\n" or "\r\n"; ok is
// false at the end of the input. A line longer than maxAddressLine keeps its
// first maxAddressLine bytes.
func readLine(br *bufio.Reader, buf []byte) (line []byte, ok bool, err error) {
	line = buf[:0]
	read := false
	for {
		frag, err := br.ReadSlice('\n')
		read = read || len(frag) > 0
		if room := maxAddressLine - len(line); room > 0 {
			line = append(line, frag[:min(len(frag), room)]...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && !read:
			return line, false, nil
		case err != nil && err != io.EOF:
			return line, false, err
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		return bytes.TrimSuffix(line, []byte{'\r'}), true, nil
	}
}

// validUTF8 replaces invalid UTF-8 with U+FFFD: CSV and XLSX readers
// downstream reject or garble it.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// file converts column of the spreadsheet inPath into outPath, streaming row
// by row.
func (c *addressConverter) file(ctx context.Context, inPath, column, outPath string) (err error) {
	src, err := openRowSource(inPath)
	if err != nil {
		return err
	}
	defer src.Close()
	c.prog.frac = src.Fraction
	header, err := src.Next()
	if err == io.EOF {
		return fmt.Errorf("%s: tệp trống, cần dòng tiêu đề / empty file, a header row is needed", inPath)
	}
	if err != nil {
		return err
	}
	col, err := pickColumn(header, column)
	if err != nil {
		return err
	}
	// Excel only reads a CSV as UTF-8 when it starts with a BOM; keep the
	// one the input had, and add it for people who came from a workbook.
	dst, err := createRowSink(outPath, src.Sheet(), src.BOM())
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			dst.Abort()
		}
	}()
	width := len(header)
	out := make([]string, 0, width+len(fileColumns()))
	out = append(append(out, header...), fileColumns()...)
	if err := dst.Write(cleanRow(out)); err != nil {
		return fmt.Errorf("%s: %w", outPath, err)
	}
	rows := make([][]string, 0, batchRows)
	addrs := make([]string, 0, batchRows)
	res := make([]adminunit.Result, batchRows)
	for row, eof := 1, false; !eof; {
		rows, addrs = rows[:0], addrs[:0]
		for size := 0; len(rows) < batchRows && size < batchBytes; {
			rec, err := src.Next()
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				return err
			}
			var addr string
			if col < len(rec) {
				addr = rec[col]
			}
			for _, f := range rec {
				size += len(f)
			}
			rows, addrs = append(rows, rec), append(addrs, addr)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("đã dừng / stopped: %w", err)
		}
		c.convertBatch(addrs, res[:len(addrs)])
		for i, rec := range rows {
			row++
			r := &res[i]
			prov, ward := c.names(r)
			out = append(out[:0], rec...)
			// Short rows are padded so the results always line up under their headers.
			for len(out) < width {
				out = append(out, "")
			}
			out = append(out, r.ProvinceCode, r.WardCode, string(r.Status), string(r.Rule),
				prov, ward, strings.Join(r.Candidates, ";"), r.Reason)
			if err := dst.Write(cleanRow(out)); err != nil {
				return fmt.Errorf("%s: dòng %d / row %d: %w", outPath, row, row, err)
			}
		}
	}
	if err := dst.Commit(); err != nil {
		return fmt.Errorf("%s: %w", outPath, err)
	}
	return nil
}

func cleanRow(rec []string) []string {
	for i, s := range rec {
		rec[i] = validUTF8(s)
	}
	return rec
}

// pickColumn finds the column named by header text, a 1-based number or a
// column letter.
func pickColumn(header []string, name string) (int, error) {
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
	quoted := make([]string, len(header))
	for i, h := range header {
		quoted[i] = strconv.Quote(h)
	}
	list := strings.Join(quoted, ", ")
	return -1, fmt.Errorf("--column %q: không có cột này; các cột: %s / no such column; the columns are: %s", name, list, list)
}

func letters(s string) bool {
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return s != "" && len(s) <= 3
}

// rowSource reads a spreadsheet's rows in order.
type rowSource interface {
	Next() ([]string, error) // io.EOF after the last row
	Fraction() float64       // share of the input read, or -1 when unknown
	Sheet() string           // the sheet read, "" for CSV
	BOM() bool               // whether a CSV written from this input should start with a BOM
	Close() error
}

func openRowSource(path string) (rowSource, error) {
	if strings.EqualFold(filepath.Ext(path), ".xlsx") {
		return openXLSXSource(path)
	}
	return openCSVSource(path)
}

type csvSource struct {
	path string
	f    *os.File
	cr   *countingReader
	size int64
	r    *csv.Reader
	bom  bool
}

func openCSVSource(path string) (*csvSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &csvSource{path: path, f: f, cr: &countingReader{r: f}, size: fi.Size()}
	br := bufio.NewReaderSize(s.cr, ioBuffer)
	if b, _ := br.Peek(len(utf8BOM)); string(b) == utf8BOM {
		_, _ = br.Discard(len(utf8BOM))
		s.bom = true
	}
	s.r = csv.NewReader(br)
	s.r.FieldsPerRecord = -1 // rows may be short or long; short ones are padded
	return s, nil
}

func (s *csvSource) Next() ([]string, error) {
	rec, err := s.r.Read()
	if err == nil || err == io.EOF {
		return rec, err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			return nil, fmt.Errorf("%s: dòng %d: dấu ngoặc kép sai chỗ / line %d: malformed quotes (%v)", s.path, pe.StartLine, pe.StartLine, pe.Err)
		}
		return nil, fmt.Errorf("%s: dòng %d / line %d: %v", s.path, pe.StartLine, pe.StartLine, pe.Err)
	}
	return nil, fmt.Errorf("%s: %w", s.path, err)
}

func (s *csvSource) Fraction() float64 {
	if s.size <= 0 {
		return -1
	}
	return float64(s.cr.n) / float64(s.size)
}

func (s *csvSource) Sheet() string { return "" }
func (s *csvSource) BOM() bool     { return s.bom }
func (s *csvSource) Close() error  { return s.f.Close() }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type xlsxSource struct {
	path  string
	f     *excelize.File
	sheet string
	rows  *excelize.Rows
	row   int
}

func openXLSXSource(path string) (*xlsxSource, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, fmt.Errorf("%s: không có trang tính / no sheet", path)
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &xlsxSource{path: path, f: f, sheet: sheets[0], rows: rows}, nil
}

func (s *xlsxSource) Next() ([]string, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		return nil, io.EOF
	}
	s.row++
	rec, err := s.rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("%s: dòng %d / row %d: %w", s.path, s.row, s.row, err)
	}
	return rec, nil
}

func (s *xlsxSource) Fraction() float64 { return -1 }
func (s *xlsxSource) Sheet() string     { return s.sheet }
func (s *xlsxSource) BOM() bool         { return true }

func (s *xlsxSource) Close() error {
	err := s.rows.Close()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rowSink writes a spreadsheet to a temporary file beside its destination
// and moves it into place only when complete, so an error never leaves half a
// file under the real name.
type rowSink interface {
	Write([]string) error
	Commit() error
	Abort()
}

func createRowSink(path, sheet string, bom bool) (rowSink, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	t := &tempFile{f: tmp, path: path}
	if strings.EqualFold(filepath.Ext(path), ".xlsx") {
		s, err := newXLSXSink(t, sheet)
		if err != nil {
			t.abort()
			return nil, err
		}
		return s, nil
	}
	s := &csvSink{t: t, bw: bufio.NewWriterSize(tmp, ioBuffer)}
	if bom {
		_, _ = s.bw.WriteString(utf8BOM)
	}
	s.w = csv.NewWriter(s.bw)
	return s, nil
}

type tempFile struct {
	f    *os.File
	path string
	done bool // committed or aborted
}

func (t *tempFile) commit() error {
	t.done = true
	if err := t.f.Sync(); err != nil {
		_ = t.f.Close()
		_ = os.Remove(t.f.Name())
		return err
	}
	if err := t.f.Close(); err != nil {
		_ = os.Remove(t.f.Name())
		return err
	}
	if err := os.Rename(t.f.Name(), t.path); err != nil {
		_ = os.Remove(t.f.Name())
		return err
	}
	return nil
}

func (t *tempFile) abort() {
	if t.done {
		return
	}
	t.done = true
	_ = t.f.Close()
	_ = os.Remove(t.f.Name())
}

type csvSink struct {
	t  *tempFile
	bw *bufio.Writer
	w  *csv.Writer
}

func (s *csvSink) Write(rec []string) error { return s.w.Write(rec) }

func (s *csvSink) Commit() error {
	s.w.Flush()
	if err := s.w.Error(); err != nil {
		s.t.abort()
		return err
	}
	if err := s.bw.Flush(); err != nil {
		s.t.abort()
		return err
	}
	return s.t.commit()
}

func (s *csvSink) Abort() { s.t.abort() }

type xlsxSink struct {
	t    *tempFile
	f    *excelize.File // nil once closed
	sw   *excelize.StreamWriter
	row  int
	vals []any
}

func newXLSXSink(t *tempFile, sheet string) (*xlsxSink, error) {
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
	return &xlsxSink{t: t, f: f, sw: sw}, nil
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

func (s *xlsxSink) Commit() error {
	err := s.sw.Flush()
	if err == nil {
		// File.Write assembles the whole zip in a buffer first (a
		// 1,000,000-row sheet took 360 MB); a zip writer of our own streams
		// it into the file instead, and the buffer stays empty.
		bw := bufio.NewWriterSize(s.t.f, ioBuffer)
		s.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(bw) })
		if err = s.f.Write(io.Discard); err == nil {
			err = bw.Flush()
		}
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	if err != nil {
		s.t.abort()
		return err
	}
	return s.t.commit()
}

func (s *xlsxSink) Abort() {
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
	s.t.abort()
}

// progress redraws one status line on stderr while rows are converted, only
// when stderr is a terminal.
type progress struct {
	w     io.Writer // nil: not a terminal
	start time.Time
	next  time.Time
	drawn bool
	frac  func() float64 // share of the input read, -1 when unknown; nil for stdin
}

func newProgress(w io.Writer) *progress {
	p := &progress{start: time.Now()}
	p.next = p.start.Add(progressEvery)
	if isTerminal(w) {
		p.w = w
	}
	return p
}

// isTerminal reports whether v is a file open on a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) elapsed() time.Duration { return time.Since(p.start) }

// tick is called after each batch; it redraws at most every progressEvery.
func (p *progress) tick(rows int) {
	if p.w == nil {
		return
	}
	now := time.Now()
	if now.Before(p.next) {
		return
	}
	p.next = now.Add(progressEvery)
	rate := int(float64(rows) / now.Sub(p.start).Seconds())
	bar := ""
	if p.frac != nil {
		if f := p.frac(); f >= 0 {
			const width = 20
			done := min(int(f*width), width)
			bar = fmt.Sprintf("[%s%s] %3.0f%% ", strings.Repeat("=", done), strings.Repeat(" ", width-done), 100*min(f, 1))
		}
	}
	fmt.Fprintf(p.w, "\r%s%s dòng / rows, %s dòng/giây / rows/s\033[K", bar, groupDigits(rows, '.'), groupDigits(rate, '.'))
	p.drawn = true
}

// clear removes the progress line so the summary starts on a clean line.
func (p *progress) clear() {
	if p.w != nil && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// groupDigits writes n with sep between groups of three digits: 1.000.000
// in Vietnamese, 1,000,000 in English.
func groupDigits(n int, sep byte) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	b := make([]byte, 0, len(s)+len(s)/3)
	for i := 0; i < len(s); i++ {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, sep)
		}
		b = append(b, s[i])
	}
	return string(b)
}
