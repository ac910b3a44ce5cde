package org_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/org"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
)

// workbook builds an import file from rows of cells per sheet.
func workbook(t *testing.T, sheets map[string][][]string) *bytes.Buffer {
	t.Helper()
	f := excelize.NewFile()
	first := true
	for name, rows := range sheets {
		if first {
			if err := f.SetSheetName(f.GetSheetName(0), name); err != nil {
				t.Fatal(err)
			}
			first = false
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			vals := make([]any, len(r))
			for j, v := range r {
				vals[j] = v
			}
			if err := f.SetSheetRow(name, cell, &vals); err != nil {
				t.Fatal(err)
			}
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return &b
}

var header = []string{"Mã hệ thống", "Mã định danh", "Mã định danh cũ", "Tên", "Loại", "Thuộc", "Thời kỳ", "Mã tỉnh", "Mã xã", "Hiệu lực từ", "Hiệu lực đến"}

func TestImportExport(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s := newService(d)
		good := workbook(t, map[string][][]string{
			"Cơ quan": {header,
				{"", "000.00.00.H26", "", "UBND tỉnh Hải Dương", "UBND tỉnh/thành phố", "", "Tỉnh cũ", "30", "", "", "01/07/2025"},
				{"", "", "", "UBND huyện Gia Lộc", "UBND huyện/quận", "000.00.00.H26", "Tỉnh cũ", "30", "", "", "01/07/2025"},
				{"", "000.00.00.H31", "", "UBND thành phố Hải Phòng", "province_committee", "", "Tỉnh mới", "31", "", "01/07/2025", ""},
				{"", "", "", "UBND xã Gia Lộc", "UBND xã/phường/đặc khu", "000.00.00.H31", "Tỉnh mới", "31", "10999", "01/07/2025", ""},
			},
			"Kế thừa": {{"Từ", "Đến", "Hình thức", "Ghi chú"},
				{"000.00.00.H26", "000.00.00.H31", "Hợp nhất vào", ""},
			},
		})
		res, err := s.Import(ctx, good)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 4 || res.Updated != 0 || res.Links != 1 {
			t.Fatalf("import: got %+v", res)
		}
		xa, err := s.List(ctx, org.Filter{Q: "xa gia loc"})
		if err != nil || len(xa) != 1 || xa[0].ParentID == "" || xa[0].WardCode != "10999" {
			t.Fatalf("imported ward committee: got %+v, %v", xa, err)
		}

		// Export, change a name, import again: updated in place, nothing duplicated.
		var out bytes.Buffer
		if err := s.Export(ctx, &out); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := f.GetRows("Cơ quan")
		if len(rows) != 5 || rows[0][3] != "Tên" {
			t.Fatalf("exported rows: %v", rows)
		}
		for i, r := range rows {
			if len(r) > 3 && r[3] == "UBND huyện Gia Lộc" {
				f.SetCellValue("Cơ quan", "D"+string(rune('1'+i)), "Ủy ban nhân dân huyện Gia Lộc")
			}
		}
		links, _ := f.GetRows("Kế thừa")
		if len(links) != 2 || links[1][2] != "Hợp nhất vào" {
			t.Fatalf("exported links: %v", links)
		}
		var again bytes.Buffer
		if err := f.Write(&again); err != nil {
			t.Fatal(err)
		}
		res, err = s.Import(ctx, &again)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 0 || res.Updated != 4 || res.Links != 0 {
			t.Fatalf("re-import: got %+v, want 4 updated, nothing new", res)
		}
		if l, _ := s.List(ctx, org.Filter{Q: "uy ban nhan dan huyen"}); len(l) != 1 {
			t.Fatalf("renamed by import: got %v", l)
		}

		// A bad workbook names every problem and changes nothing.
		bad := workbook(t, map[string][][]string{
			"Cơ quan": {header,
				{"", "H99", "", "", "UBND tỉnh/thành phố", "", "Tỉnh cũ", "3", "", "", ""},
				{"", "", "", "Sở X", "Bộ", "", "Tỉnh giữa", "", "", "31/02/2025", ""},
				{"", "", "", "Sở Y", "Khác", "không-có", "Tỉnh mới", "", "", "", ""},
			},
		})
		before, _ := s.List(ctx, org.Filter{})
		_, err = s.Import(ctx, bad)
		var ie *org.ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("bad workbook: got %v, want an ImportError", err)
		}
		want := map[string]bool{"2/D": false, "2/H": false, "3/E": false, "3/G": false, "3/J": false}
		for _, p := range ie.Problems {
			k := string(rune('0'+p.Row)) + "/" + p.Column
			if _, ok := want[k]; ok {
				want[k] = true
			}
		}
		for k, seen := range want {
			if !seen {
				t.Errorf("no problem reported at row/column %s; got %+v", k, ie.Problems)
			}
		}
		after, _ := s.List(ctx, org.Filter{})
		if len(after) != len(before) {
			t.Fatalf("a bad workbook changed the register: %d → %d agencies", len(before), len(after))
		}
		// An unknown parent is found only when applying: still all or nothing.
		unknown := workbook(t, map[string][][]string{"Cơ quan": {header,
			{"", "", "", "Sở Z", "Khác", "", "Tỉnh mới", "", "", "", ""},
			{"", "", "", "Phòng W", "Khác", "không-có", "Tỉnh mới", "", "", "", ""},
		}})
		if _, err := s.Import(ctx, unknown); !errors.As(err, &ie) || ie.Problems[0].Row != 3 || ie.Problems[0].Column != "F" {
			t.Fatalf("unknown parent: got %v", err)
		}
		if l, _ := s.List(ctx, org.Filter{Q: "so z"}); len(l) != 0 {
			t.Fatal("a failed import left a row behind")
		}
		if _, err := s.Import(ctx, bytes.NewBufferString("not a workbook")); err == nil {
			t.Fatal("garbage accepted")
		}
	})
}
