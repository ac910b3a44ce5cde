package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata/refdatatest"
	"hopnhat/internal/adminunit/sheet"
)

// convertCLI runs "hopnhat address convert" on the official lists.
func convertCLI(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	args = append([]string{"address", "convert", "--adminunits-dir", refdatatest.Dir(t)}, args...)
	return run(t, t.TempDir(), stdin, args...)
}

func readCSV(t *testing.T, r io.Reader) [][]string {
	t.Helper()
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v", err)
	}
	return recs
}

// field returns the named column of a row under header.
func field(t *testing.T, header, row []string, name string) string {
	t.Helper()
	i := slices.Index(header, name)
	if i < 0 || i >= len(row) {
		t.Fatalf("no column %q in %v / row %v", name, header, row)
	}
	return row[i]
}

func TestAddressConvertStdin(t *testing.T) {
	long := strings.Repeat("Phường Phúc Xá ", 100<<10/len("Phường Phúc Xá "))
	lines := []string{
		"\ufeffPhường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội\r",
		"12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM",
		"Phường Dương Nội, Quận Hà Đông, Hà Nội\r",
		"",
		long,
		"Phường \xff\xfe Phúc Xá, Hà \xc3Nội",
	}
	out, errs, err := convertCLI(t, strings.Join(lines, "\n")+"\n")
	if err != nil {
		t.Fatalf("address convert: %v\n%s", err, errs)
	}
	if !strings.HasPrefix(out, "input,province_code,ward_code,status,") {
		t.Fatalf("header: got %.80q, want input,province_code,ward_code,status,…", out)
	}
	recs := readCSV(t, strings.NewReader(out))
	header := recs[0]
	if !slices.Equal(header, sheet.LineColumns()) {
		t.Fatalf("header: got %v, want %v", header, sheet.LineColumns())
	}
	if got, want := len(recs)-1, len(lines); got != want {
		t.Fatalf("rows: got %d, want %d (one per input line)", got, want)
	}
	tests := []struct {
		name                 string
		row                  int
		input                string
		province, ward, stat string
	}{
		{name: "legacy ward, district and province", row: 1, input: "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội", province: "01", ward: "00097", stat: "exact"},
		{name: "street and abbreviations", row: 2, input: lines[1], province: "79", ward: "26740", stat: "exact"},
		{name: "divided ward", row: 3, input: "Phường Dương Nội, Quận Hà Đông, Hà Nội", province: "01", stat: "split"},
		{name: "empty line", row: 4, input: "", stat: "not_found"},
		{name: "100 KB line", row: 5, input: long, stat: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := recs[tt.row]
			if got := field(t, header, rec, "input"); got != tt.input {
				t.Errorf("input: got %.60q, want %.60q", got, tt.input)
			}
			if got := field(t, header, rec, "status"); got != tt.stat {
				t.Errorf("status: got %q, want %q (reason %q)", got, tt.stat, field(t, header, rec, "reason"))
			}
			if got := field(t, header, rec, "province_code"); got != tt.province {
				t.Errorf("province_code: got %q, want %q", got, tt.province)
			}
			if got := field(t, header, rec, "ward_code"); got != tt.ward {
				t.Errorf("ward_code: got %q, want %q", got, tt.ward)
			}
			if tt.ward != "" && field(t, header, rec, "ward_name") == "" {
				t.Errorf("ward_name empty for %s", tt.ward)
			}
			if tt.stat == "split" {
				if c := strings.Split(field(t, header, rec, "candidates"), ";"); len(c) < 2 {
					t.Errorf("candidates: got %v, want two or more ward codes", c)
				}
			}
		})
	}
	t.Run("invalid UTF-8", func(t *testing.T) {
		in := field(t, header, recs[6], "input")
		if !utf8.ValidString(in) || !strings.Contains(in, "\uFFFD") || !strings.Contains(in, "Phúc Xá") {
			t.Errorf("input: got %q, want the line with U+FFFD for the bad bytes", in)
		}
		if got := field(t, header, recs[6], "status"); got == "" {
			t.Errorf("status: got %q, want one", got)
		}
	})
	if !strings.Contains(errs, "Đã chuyển 6 dòng: exact ") || !strings.Contains(errs, "converted 6 rows") {
		t.Errorf("summary: got %q, want the rows counted by status", errs)
	}
}

func TestAddressConvertStdinWithoutFinalNewline(t *testing.T) {
	out, _, err := convertCLI(t, "Phường Phúc Xá, Quận Ba Đình, Hà Nội\n\nPhường Phúc Xá, Quận Ba Đình, Hà Nội")
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, strings.NewReader(out))
	if got := len(recs) - 1; got != 3 {
		t.Fatalf("rows: got %d, want 3", got)
	}
	if recs[3][3] != "exact" {
		t.Errorf("last line: got %v, want exact", recs[3])
	}
}

// Batches are converted in parallel; the rows must still come out in input
// order, each with its own result.
func TestAddressConvertKeepsOrder(t *testing.T) {
	addrs := []struct{ addr, ward string }{
		{"Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội", "00097"},
		{"12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM", "26740"},
		{"", ""},
	}
	const n = 2*1024 + 77 // more than two batches of sheet.Converter
	var sb strings.Builder
	// Every row is distinct (its house number), so a swapped chunk shows.
	line := func(i int) string {
		if a := addrs[i%len(addrs)].addr; a != "" {
			return fmt.Sprintf("Số %d %s", i, a)
		}
		return ""
	}
	for i := range n {
		sb.WriteString(line(i))
		sb.WriteByte('\n')
	}
	out, _, err := convertCLI(t, sb.String())
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, strings.NewReader(out))
	if len(recs) != n+1 {
		t.Fatalf("rows: got %d, want %d", len(recs)-1, n)
	}
	for i, rec := range recs[1:] {
		want := addrs[i%len(addrs)]
		if rec[0] != line(i) || rec[2] != want.ward {
			t.Fatalf("row %d: got %q → %q, want %q → %q", i+1, rec[0], rec[2], line(i), want.ward)
		}
	}
}

func TestAddressConvertFlagErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte("a\nb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown form", args: []string{"--form", "old"}, want: "auto, legacy"},
		{name: "in without out", args: []string{"--in", in, "--column", "a"}, want: "--in"},
		{name: "out without in", args: []string{"--out", filepath.Join(dir, "o.csv")}, want: "--in"},
		{name: "unknown input type", args: []string{"--in", filepath.Join(dir, "x.ods"), "--column", "a", "--out", filepath.Join(dir, "o.csv")}, want: ".xlsx"},
		{name: "unknown output type", args: []string{"--in", in, "--column", "a", "--out", filepath.Join(dir, "o.json")}, want: ".xlsx"},
		{name: "output over input", args: []string{"--in", in, "--column", "a", "--out", in}, want: "--out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := convertCLI(t, "", tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	for _, m := range []string{"legacy", "new", "auto"} {
		if _, _, err := convertCLI(t, "Phường Phúc Xá, Hà Nội\n", "--form", m); err != nil {
			t.Errorf("--form %s: %v", m, err)
		}
	}
}

// noTemp fails if a temporary output file was left in dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestAddressConvertCSVFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "ho_so.csv")
	src := "\ufeffid,Địa chỉ,ghi chú\n" +
		"1,\"Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội\",\"có dấu phẩy, và\nxuống dòng\"\n" +
		"2\n" +
		"3,\"12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM\",\n"
	if err := os.WriteFile(in, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"Địa chỉ", "địa chỉ", "2", "B"} {
		t.Run("column "+col, func(t *testing.T) {
			out := filepath.Join(dir, "out.csv")
			_, errs, err := convertCLI(t, "", "--in", in, "--column", col, "--out", out)
			if err != nil {
				t.Fatalf("convert: %v\n%s", err, errs)
			}
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(raw), "\ufeffid,") {
				t.Errorf("output start: got %.20q, want the input's BOM kept", raw)
			}
			recs := readCSV(t, strings.NewReader(strings.TrimPrefix(string(raw), "\ufeff")))
			want := append([]string{"id", "Địa chỉ", "ghi chú"}, sheet.ResultColumns()...)
			if !slices.Equal(recs[0], want) {
				t.Fatalf("header: got %v, want %v", recs[0], want)
			}
			if len(recs) != 4 {
				t.Fatalf("rows: got %d, want 3 and the header", len(recs)-1)
			}
			h := recs[0]
			if got := recs[1][2]; got != "có dấu phẩy, và\nxuống dòng" {
				t.Errorf("original column: got %q, want it kept", got)
			}
			checks := []struct {
				row       int
				col, want string
			}{
				{1, "ward_code", "00097"}, {1, "status", "exact"}, {1, "province_name", "Thành phố Hà Nội"},
				{2, "id", "2"}, {2, "status", "not_found"}, {2, "reason", adminunit.ReasonEmpty},
				{3, "province_code", "79"}, {3, "ward_code", "26740"},
			}
			for _, c := range checks {
				if got := field(t, h, recs[c.row], c.col); got != c.want {
					t.Errorf("row %d %s: got %q, want %q", c.row, c.col, got, c.want)
				}
			}
			if !strings.Contains(errs, "Đã chuyển 3 dòng") {
				t.Errorf("summary: %q", errs)
			}
			noTemp(t, dir)
		})
	}
}

func TestAddressConvertXLSX(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "ho_so.xlsx")
	f := excelize.NewFile()
	const sheetName = "Hồ sơ"
	if err := f.SetSheetName("Sheet1", sheetName); err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"Mã", "Họ tên", "Địa chỉ thường trú"},
		{"HS-1", "Nguyễn Văn An", "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội"},
		{"HS-2", "Trần Thị Bình", "Phường Dương Nội, Quận Hà Đông, Hà Nội"},
		{"HS-3", "Lê Văn Cường"},
	}
	for i, r := range rows {
		if err := f.SetSheetRow(sheetName, fmt.Sprintf("A%d", i+1), &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(in); err != nil {
		t.Fatal(err)
	}
	f.Close()

	out := filepath.Join(dir, "ket_qua.xlsx")
	if _, errs, err := convertCLI(t, "", "--in", in, "--column", "C", "--out", out); err != nil {
		t.Fatalf("convert: %v\n%s", err, errs)
	}
	g, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if got := g.GetSheetList(); !slices.Equal(got, []string{sheetName}) {
		t.Errorf("sheets: got %v, want %v", got, []string{sheetName})
	}
	got, err := g.GetRows(sheetName)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{"Mã", "Họ tên", "Địa chỉ thường trú"}, sheet.ResultColumns()...)
	if !slices.Equal(got[0], want) {
		t.Fatalf("header: got %v, want %v", got[0], want)
	}
	if len(got) != 4 {
		t.Fatalf("rows: got %d, want 4", len(got))
	}
	h := got[0]
	if g1 := got[1][1]; g1 != "Nguyễn Văn An" {
		t.Errorf("original column: got %q", g1)
	}
	checks := []struct {
		row       int
		col, want string
	}{
		{1, "ward_code", "00097"}, {1, "status", "exact"}, {1, "province_code", "01"},
		{2, "status", "split"}, {3, "status", "not_found"},
	}
	for _, c := range checks {
		if g := field(t, h, got[c.row], c.col); g != c.want {
			t.Errorf("row %d %s: got %q, want %q", c.row, c.col, g, c.want)
		}
	}
	if cands := field(t, h, got[2], "candidates"); !strings.Contains(cands, ";") {
		t.Errorf("split candidates: got %q, want several codes", cands)
	}

	// The same workbook to CSV: a BOM so Excel reads the Vietnamese text.
	outCSV := filepath.Join(dir, "ket_qua.csv")
	if _, errs, err := convertCLI(t, "", "--in", in, "--column", "Địa chỉ thường trú", "--out", outCSV); err != nil {
		t.Fatalf("convert to csv: %v\n%s", err, errs)
	}
	raw, _ := os.ReadFile(outCSV)
	if !strings.HasPrefix(string(raw), "\ufeffMã,Họ tên,") || !strings.Contains(string(raw), ",00097,exact,") {
		t.Errorf("xlsx to csv: got %.200q", raw)
	}
	noTemp(t, dir)
}

func TestAddressConvertFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name   string
		in     string
		column string
		want   []string
	}{
		{name: "unknown column names the columns", in: write("a.csv", "id,Địa chỉ\n1,Hà Nội\n"), column: "address",
			want: []string{`"address"`, `"id"`, `"Địa chỉ"`}},
		{name: "column number out of range", in: write("b.csv", "id,Địa chỉ\n1,Hà Nội\n"), column: "3",
			want: []string{`"id", "Địa chỉ"`}},
		{name: "malformed quotes name the line", in: write("c.csv", "id,Địa chỉ\n1,Hà Nội\n2,\"Phúc \"Xá\" Hà Nội\n3,x\n"), column: "Địa chỉ",
			want: []string{"dòng 3", "c.csv"}},
		{name: "bare quote names the line", in: write("d.csv", "id,Địa chỉ\n1,Hà Nội\n2,Hà Nội\n3,Số 5 \"B\" Hà Nội\n"), column: "Địa chỉ",
			want: []string{"dòng 4", "d.csv"}},
		{name: "empty file", in: write("e.csv", ""), column: "1", want: []string{"e.csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "out.csv")
			_, _, err := convertCLI(t, "", "--in", tt.in, "--column", tt.column, "--out", out)
			if err == nil {
				t.Fatalf("got no error, want one mentioning %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to mention %s", err, w)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output exists after an error: %v", err)
			}
			noTemp(t, dir)
		})
	}
}

// BenchmarkAddressConvertCSV converts a CSV of rows repeating real addresses,
// file to file, as --in/--out does.
func BenchmarkAddressConvertCSV(b *testing.B) {
	const rows = 20000
	idx := refdatatest.Index(b)
	dir := b.TempDir()
	addrs := []string{
		"Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội",
		"12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM",
		"Phường Dương Nội, Quận Hà Đông, Hà Nội",
		"Thôn Đông, Xã Tân Lập, Huyện Đan Phượng, Hà Nội",
		"Số 45 Trần Hưng Đạo, P. Hải Châu 1, Q. Hải Châu, TP Đà Nẵng",
		"Xóm 3, xã Nghi Phong, huyện Nghi Lộc, tỉnh Nghệ An",
		"Ấp Bình Hòa, Xã Bình Hòa, H. Châu Thành, An Giang",
	}
	in := filepath.Join(dir, "in.csv")
	var sb strings.Builder
	sb.WriteString("id,dia_chi,ghi_chu\n")
	for i := range rows {
		fmt.Fprintf(&sb, "%d,%q,ok\n", i, addrs[i%len(addrs)])
	}
	if err := os.WriteFile(in, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			var converted int
			for b.Loop() {
				c := &sheet.Converter{Index: idx, Workers: workers}
				if err := convertFile(context.Background(), c, newProgress(io.Discard), in, "dia_chi", out); err != nil {
					b.Fatal(err)
				}
				converted += c.Summary.Rows
			}
			b.ReportMetric(float64(converted)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func TestAddressConvertHelpIsBilingual(t *testing.T) {
	out, _, err := run(t, t.TempDir(), "", "address", "convert", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Đọc mỗi dòng stdin", "Reads one address per stdin line", "--form", "--column", "--in", "--out"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

// The import reports per file, updates in place when run again, and the
// convert command then reads the database (with officers' street rules)
// rather than the lists' directory.
func TestAdminUnitImportCommand(t *testing.T) {
	dir := refdatatest.Dir(t)
	data := t.TempDir()
	if _, _, err := run(t, data, "", "adminunit", "import", "--dir", filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("import from a missing directory: want an error")
	}
	out := mustRun(t, data, "", "adminunit", "import", "--dir", dir)
	for _, want := range []string{"danhmuchanhchinh.gso.gov.vn_ward_2025-07-18.csv: đọc 10035 dòng, nạp 10035, bỏ qua 0", "Units: 14149 inserted, 0 updated"} {
		if !strings.Contains(out, want) {
			t.Errorf("first import lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, data, "", "adminunit", "import", "--dir", dir)
	if !strings.Contains(out, "Units: 0 inserted, 14149 updated") {
		t.Errorf("second import should update in place:\n%s", out)
	}
	out = mustRun(t, data, "", "adminunit", "basis", "--province", "31", "--basis", "Nghị quyết thử")
	if !strings.Contains(out, "links updated") {
		t.Errorf("basis: %s", out)
	}
	if _, _, err := run(t, data, "", "adminunit", "basis", "--province", "99", "--basis", "x"); err == nil || !strings.Contains(err.Error(), "Không có đơn vị hành chính này") {
		t.Errorf("basis for an unknown province: got %v", err)
	}
	// No --adminunits-dir: the imported register answers.
	out = mustRun(t, data, "Phường Phúc Xá, Quận Ba Đình, Hà Nội\n", "address", "convert")
	if !strings.Contains(out, ",01,00097,exact,") {
		t.Errorf("convert from the imported register: %s", out)
	}
}
