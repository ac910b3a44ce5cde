package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/sheet"
)

const (
	// progressEvery is the shortest time between two redraws of the progress line.
	progressEvery = 200 * time.Millisecond
)

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
			prog := newProgress(cmd.ErrOrStderr())
			c := &sheet.Converter{Index: idx, Options: adminunit.Options{Form: form}, Progress: prog.tick,
				Workers: runtime.GOMAXPROCS(0)}
			if inPath == "" {
				if isTerminal(cmd.InOrStdin()) {
					fmt.Fprintln(cmd.ErrOrStderr(), "Nhập địa chỉ, mỗi dòng một; Ctrl-D để kết thúc / type addresses, one per line; Ctrl-D to finish")
				}
				err = c.Lines(ctx, cmd.InOrStdin(), cmd.OutOrStdout())
			} else {
				err = convertFile(ctx, c, prog, inPath, column, outPath)
			}
			prog.clear()
			if err != nil {
				return explain(err)
			}
			printSummary(cmd.ErrOrStderr(), c.Summary, prog.elapsed())
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
	if _, ok := sheet.FormatOf(in); !ok {
		return fmt.Errorf("--in %s: chỉ đọc được .csv hoặc .xlsx / only .csv and .xlsx can be read", in)
	}
	if _, ok := sheet.FormatOf(out); !ok {
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

// convertFile converts column of the spreadsheet inPath into outPath. The
// output is written to a temporary file beside it and moved into place only
// when complete, so an error never leaves half a file under the real name.
func convertFile(ctx context.Context, c *sheet.Converter, prog *progress, inPath, column, outPath string) (err error) {
	var src sheet.Source
	if f, _ := sheet.FormatOf(inPath); f == sheet.XLSX {
		x, err := sheet.OpenXLSXFile(inPath)
		if err != nil {
			return err
		}
		src = x
	} else {
		in, err := os.Open(inPath)
		if err != nil {
			return err
		}
		defer in.Close()
		var size int64
		if fi, err := in.Stat(); err == nil {
			size = fi.Size()
		}
		src = sheet.NewCSVSource(inPath, in, size)
	}
	defer src.Close()
	prog.frac = src.Fraction
	tmp, err := os.CreateTemp(filepath.Dir(outPath), "."+filepath.Base(outPath)+".*.tmp")
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	format, _ := sheet.FormatOf(outPath)
	// Excel only reads a CSV as UTF-8 when it starts with a BOM; keep the
	// one the input had, and add it for people who came from a workbook.
	dst, err := sheet.NewSink(tmp, format, src.Sheet(), src.BOM())
	if err != nil {
		return err
	}
	if err := c.Table(ctx, src, column, dst); err != nil {
		_ = dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("%s: %w", outPath, err)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), outPath)
}

// printSummary writes the rows converted per status.
func printSummary(w io.Writer, s sheet.Summary, took time.Duration) {
	fmt.Fprintf(w, "Đã chuyển %s dòng: exact %s, split %s, ambiguous %s, not_found %s / converted %s rows in %.1fs\n",
		groupDigits(s.Rows, '.'), groupDigits(s.Exact, '.'), groupDigits(s.Split, '.'),
		groupDigits(s.Ambiguous, '.'), groupDigits(s.NotFound, '.'), groupDigits(s.Rows, ','), took.Seconds())
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
