// Package sheet converts the addresses of a text stream or of one column of
// a spreadsheet (.csv or .xlsx) to the new administrative units, streaming:
// rows are read in batches, converted on every CPU, and written in order, so
// memory stays flat on a million-row file. The CLI and the convert page both
// use it.
package sheet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/platform/apperr"
)

const (
	// MaxLine is the most of one input line kept; the converter reads only
	// adminunit.MaxAddress bytes, so a runaway line cannot exhaust memory.
	MaxLine  = 1 << 20
	ioBuffer = 64 << 10
	// A batch of at most batchRows rows or batchBytes bytes is read,
	// converted in parallel, then written in order.
	batchRows  = 1024
	batchBytes = 4 << 20
	// minPerWorker keeps small batches (short inputs, tests) on one goroutine.
	minPerWorker = 64
	// BOM starts a UTF-8 CSV that Excel should read as UTF-8.
	BOM = "\xef\xbb\xbf"
)

// LineColumns are the CSV columns written for addresses read one per line.
// The first four are the contract with scripts and must not move.
func LineColumns() []string {
	return []string{"input", "province_code", "ward_code", "status", "rule", "form",
		"province_name", "ward_name", "candidates", "reason", "legacy_ward_code", "street", "decoded"}
}

// ResultColumns are the columns appended to each row of a spreadsheet.
func ResultColumns() []string {
	return []string{"province_code", "ward_code", "status", "rule",
		"province_name", "ward_name", "candidates", "reason", "decoded"}
}

// Summary counts converted rows by status.
type Summary struct {
	Rows, Exact, Split, Ambiguous, NotFound int
}

// Converter converts addresses in batches and tallies their statuses.
type Converter struct {
	Index   *adminunit.Index
	Options adminunit.Options
	// Workers is how many goroutines convert a batch; 0 or 1: the caller's.
	Workers int
	// Progress, if set, is called after each batch with the rows done.
	Progress func(rows int)
	// OnResult, if set, sees each row's result in Table, with the row's
	// number as the file shows it: its line in a CSV (a quoted cell may span
	// lines), its row in a workbook; the header is row 1.
	OnResult func(row int, r *adminunit.Result)
	Summary  Summary
}

// convertBatch converts addrs into res (same length), spreading the work over
// the workers: conversion is most of the time, and with batches the rows keep
// their order while reading and writing stay in one goroutine.
func (c *Converter) convertBatch(addrs []string, res []adminunit.Result) {
	workers := min(c.Workers, len(addrs)/minPerWorker)
	if workers <= 1 {
		for i, a := range addrs {
			res[i] = c.Index.Convert(a, c.Options)
		}
	} else {
		var wg sync.WaitGroup
		per := (len(addrs) + workers - 1) / workers
		for lo := 0; lo < len(addrs); lo += per {
			hi := min(lo+per, len(addrs))
			wg.Go(func() {
				for i := lo; i < hi; i++ {
					res[i] = c.Index.Convert(addrs[i], c.Options)
				}
			})
		}
		wg.Wait()
	}
	for i := range res {
		c.Summary.Rows++
		switch res[i].Status {
		case adminunit.StatusExact:
			c.Summary.Exact++
		case adminunit.StatusSplit:
			c.Summary.Split++
		case adminunit.StatusAmbiguous:
			c.Summary.Ambiguous++
		default:
			c.Summary.NotFound++
		}
	}
	if c.Progress != nil {
		c.Progress(c.Summary.Rows)
	}
}

func stopped(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return apperr.Wrapf(apperr.Unavailable, "adminunit.sheet.stopped", err)
	}
	return nil
}

// Lines converts one address per line of in and writes CSV (LineColumns) to
// out. Every line gets a row, an empty one too.
func (c *Converter) Lines(ctx context.Context, in io.Reader, out io.Writer) error {
	br := bufio.NewReaderSize(in, ioBuffer)
	bw := bufio.NewWriterSize(out, ioBuffer)
	w := csv.NewWriter(bw)
	if err := w.Write(LineColumns()); err != nil {
		return err
	}
	rec := make([]string, len(LineColumns()))
	addrs := make([]string, 0, batchRows)
	res := make([]adminunit.Result, batchRows)
	var buf []byte
	for n, eof := 0, false; !eof; {
		addrs = addrs[:0]
		for size := 0; len(addrs) < batchRows && size < batchBytes; {
			line, ok, err := readLine(br, buf)
			if err != nil {
				return apperr.Wrapf(apperr.Unavailable, "adminunit.sheet.read_failed", err)
			}
			if !ok {
				eof = true
				break
			}
			buf = line[:0]
			if n == 0 {
				line = bytes.TrimPrefix(line, []byte(BOM))
			}
			n++
			size += len(line)
			addrs = append(addrs, string(line))
		}
		if err := stopped(ctx); err != nil {
			return err
		}
		c.convertBatch(addrs, res[:len(addrs)])
		for i := range addrs {
			r := &res[i]
			prov, ward := c.Index.Names(r)
			rec[0], rec[1], rec[2], rec[3] = validUTF8(r.Input), r.ProvinceCode, r.WardCode, string(r.Status)
			rec[4], rec[5], rec[6], rec[7] = string(r.Rule), string(r.Form), prov, ward
			rec[8], rec[9], rec[10], rec[11] = strings.Join(r.Candidates, ";"), r.Reason, r.LegacyWardCode, validUTF8(r.Street)
			rec[12] = r.Decoded
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
// false at the end of the input. A line longer than MaxLine keeps its first
// MaxLine bytes.
func readLine(br *bufio.Reader, buf []byte) (line []byte, ok bool, err error) {
	line = buf[:0]
	read := false
	for {
		frag, err := br.ReadSlice('\n')
		read = read || len(frag) > 0
		if room := MaxLine - len(line); room > 0 {
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

func cleanRow(rec []string) []string {
	for i, s := range rec {
		rec[i] = validUTF8(s)
	}
	return rec
}

// Table converts column of src (header text, 1-based number or letter)
// into dst, keeping every original column and appending ResultColumns. dst
// is not closed; the caller commits or discards it.
func (c *Converter) Table(ctx context.Context, src Source, column string, dst Sink) error {
	header, err := src.Next()
	if err == io.EOF {
		return apperr.New(apperr.Invalid, "adminunit.sheet.empty", src.Name())
	}
	if err != nil {
		return err
	}
	col, err := PickColumn(header, column)
	if err != nil {
		return err
	}
	width := len(header)
	out := make([]string, 0, width+len(ResultColumns()))
	out = append(append(out, header...), ResultColumns()...)
	if err := dst.Write(cleanRow(out)); err != nil {
		return err
	}
	rows := make([][]string, 0, batchRows)
	addrs := make([]string, 0, batchRows)
	nums := make([]int, 0, batchRows)
	res := make([]adminunit.Result, batchRows)
	for eof := false; !eof; {
		rows, addrs, nums = rows[:0], addrs[:0], nums[:0]
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
			rows, addrs, nums = append(rows, rec), append(addrs, addr), append(nums, src.Row())
		}
		if err := stopped(ctx); err != nil {
			return err
		}
		c.convertBatch(addrs, res[:len(addrs)])
		for i, rec := range rows {
			r := &res[i]
			if c.OnResult != nil {
				c.OnResult(nums[i], r)
			}
			prov, ward := c.Index.Names(r)
			out = append(out[:0], rec...)
			// Short rows are padded so the results always line up under their headers.
			for len(out) < width {
				out = append(out, "")
			}
			out = append(out, r.ProvinceCode, r.WardCode, string(r.Status), string(r.Rule),
				prov, ward, strings.Join(r.Candidates, ";"), r.Reason, r.Decoded)
			if err := dst.Write(cleanRow(out)); err != nil {
				return err
			}
		}
	}
	return nil
}
