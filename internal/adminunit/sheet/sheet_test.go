package sheet_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata/refdatatest"
	"hopnhat/internal/adminunit/sheet"
)

// Batches are converted by several workers; every row must come out in its
// place with its own result.
func TestTableKeepsOrderAcrossWorkers(t *testing.T) {
	x := refdatatest.Index(t)
	var in strings.Builder
	in.WriteString("n,địa chỉ\n")
	const n = 3000
	for i := range n {
		if i%2 == 0 {
			fmt.Fprintf(&in, "%d,\"Số %d, Phường Phúc Xá, Quận Ba Đình, Hà Nội\"\n", i, i)
		} else {
			fmt.Fprintf(&in, "%d,\"Số %d, Phường Bến Nghé, Quận 1, TP.HCM\"\n", i, i)
		}
	}
	var out bytes.Buffer
	dst, err := sheet.NewSink(&out, sheet.CSV, "", false)
	if err != nil {
		t.Fatal(err)
	}
	c := &sheet.Converter{Index: x, Workers: 4}
	var rows []int
	c.OnResult = func(row int, _ *adminunit.Result) { rows = append(rows, row) }
	if err := c.Table(context.Background(), sheet.NewCSVSource("in.csv", strings.NewReader(in.String()), 0), "2", dst); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n+1 || c.Summary.Rows != n || c.Summary.Exact != n {
		t.Fatalf("got %d rows, summary %+v; want %d exact", len(recs)-1, c.Summary, n)
	}
	for i, rec := range recs[1:] {
		want := "00097"
		if i%2 == 1 {
			want = "26740"
		}
		if rec[0] != fmt.Sprint(i) || rec[3] != want {
			t.Fatalf("row %d: got n=%s ward=%s, want n=%d ward=%s", i+1, rec[0], rec[3], i, want)
		}
		if rows[i] != i+2 {
			t.Fatalf("row %d reported as line %d, want %d", i+1, rows[i], i+2)
		}
	}
}

// A quoted cell spanning lines moves the following rows' line numbers, and
// the reported number is the line the row starts on.
func TestRowNumbersFollowTheFile(t *testing.T) {
	x := refdatatest.Index(t)
	in := "n,địa chỉ\n1,\"Phường Phúc Xá,\nQuận Ba Đình, Hà Nội\"\n\n2,\"Phường Bến Nghé, Quận 1, TP.HCM\"\n"
	var out bytes.Buffer
	dst, _ := sheet.NewSink(&out, sheet.CSV, "", false)
	c := &sheet.Converter{Index: x}
	var rows []int
	c.OnResult = func(row int, _ *adminunit.Result) { rows = append(rows, row) }
	if err := c.Table(context.Background(), sheet.NewCSVSource("in.csv", strings.NewReader(in), 0), "địa chỉ", dst); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rows) != "[2 5]" {
		t.Fatalf("rows: got %v, want [2 5]", rows)
	}
}
