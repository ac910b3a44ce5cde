package procedure_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/workbook"
	"hopnhat/internal/procedure"
)

// catCSV is a catalogue as a province publishes it: Vietnamese headers,
// words rather than codes, papers on several lines of one cell.
const catCSV = "Mã thủ tục,Tên thủ tục,Lĩnh vực,Cấp thực hiện,Cơ quan thực hiện,Thời hạn (ngày làm việc),\"Phí, lệ phí\",Mức độ trực tuyến,Thành phần hồ sơ,Trạng thái\n" +
	"1.001193.000.00.00.H31,Đăng ký khai sinh,Hộ tịch,Xã,UBND phường Lê Chân,3,Miễn lệ phí,Toàn trình,\"Tờ khai đăng ký khai sinh\nGiấy chứng sinh\",\n" +
	"2.000889.000.00.00.H31,Cấp giấy phép xây dựng,Xây dựng,cấp tỉnh,so tu phap,15 ngày,\"50.000 đồng\",một phần,Đơn đề nghị; Bản vẽ thiết kế,Đang áp dụng\n"

// catXLSX writes rows as a workbook's first sheet.
func catXLSX(t testing.TB, sheet string, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		row := make([]any, len(r))
		for j, s := range r {
			row[j] = s
		}
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func catRecords(csv string) [][]string {
	var out [][]string
	for l := range strings.SplitSeq(strings.TrimSpace(csv), "\n") {
		out = append(out, strings.Split(l, ","))
	}
	return out
}

// problemAt finds the problem at row and column.
func problemAt(ps []workbook.Problem, row int, col string) (workbook.Problem, bool) {
	for _, p := range ps {
		if p.Row == row && p.Column == col {
			return p, true
		}
	}
	return workbook.Problem{}, false
}

func TestReadCatalogue(t *testing.T) {
	simple := "Mã thủ tục,Tên thủ tục,Cấp thực hiện,Cơ quan thực hiện,Thời hạn (ngày làm việc),Mức độ trực tuyến\n"
	row := func(code, level, days, online string) string {
		return code + ",Thủ tục thử," + level + ",Sở Tư pháp," + days + "," + online + "\n"
	}
	for _, tc := range []struct {
		name    string
		in      []byte
		rows    int
		errKey  string // the whole file is refused
		problem string // row:column:key of one expected problem
	}{
		{name: "CSV with a byte-order mark", in: []byte("\xEF\xBB\xBF" + catCSV), rows: 2},
		{name: "CSV without one", in: []byte(catCSV), rows: 2},
		{name: "CSV separated by semicolons, as Excel saves it in Vietnam",
			in: []byte("Mã thủ tục;Tên thủ tục;Cấp thực hiện;Cơ quan thực hiện;Thời hạn (ngày làm việc);Mức độ trực tuyến;Phí, lệ phí\n" +
				"1.001193.000.00.00.H31;Đăng ký khai sinh;Xã;Sở Tư pháp;3;Toàn trình;Không\n"), rows: 1},
		{name: "headers without diacritics and a title line above them",
			in: []byte("DANH MỤC THỦ TỤC HÀNH CHÍNH,,,,,\nma thu tuc,TEN THU TUC,cap thuc hien,co quan thuc hien,thoi han,muc do truc tuyen\n" +
				row("1.001193.000.00.00.H31", "tỉnh", "5", "Trực tiếp")), rows: 1},
		{name: "a workbook", in: catXLSX(t, "Thủ tục", catRecords(simple+row("1.001193.000.00.00.H31", "Xã", "3", "Toàn trình"))), rows: 1},
		{name: "a workbook whose sheet has another name", in: catXLSX(t, "Sheet1", catRecords(simple+row("1.001193.000.00.00.H31", "Xã", "3", "full"))), rows: 1},
		{name: "an empty file", in: []byte(" \n"), errKey: "procedure.import.empty"},
		{name: "a header only", in: []byte(simple), errKey: "procedure.import.no_rows"},
		{name: "an old font's bytes are not UTF-8", in: []byte(simple + "1.001193.000.00.00.H31,Ph\xADêng,Xã,Sở,3,Toàn trình\n"),
			errKey: "procedure.import.not_utf8"},
		{name: "UTF-16 text", in: []byte("\xFF\xFEM\x00"), errKey: "procedure.import.utf16"},
		{name: "an Excel 97 file", in: []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest"), errKey: "procedure.import.xls"},
		{name: "a zip that is no workbook", in: []byte("PK\x03\x04garbage"), errKey: "workbook.unreadable"},
		{name: "an unclosed quote", in: []byte(simple + "1.001193.000.00.00.H31,\"Thủ tục,Xã,Sở,3,Toàn trình\n"), errKey: "procedure.import.csv_malformed"},
		{name: "a missing column is named", in: []byte("Mã thủ tục,Tên thủ tục\n1.001193.000.00.00.H31,X\n"),
			problem: "1::workbook.missing_column"},
		{name: "a district level is refused on its cell", in: []byte(simple + row("1.001193.000.00.00.H31", "Huyện", "3", "Toàn trình")),
			problem: "2:C:procedure.import.level_district"},
		{name: "an unknown online level", in: []byte(simple + row("1.001193.000.00.00.H31", "Xã", "3", "qua mạng")),
			problem: "2:F:procedure.import.online_invalid"},
		{name: "days that are not a number", in: []byte(simple + row("1.001193.000.00.00.H31", "Xã", "ba", "Toàn trình")),
			problem: "2:E:procedure.import.days_invalid"},
		{name: "days out of range", in: []byte(simple + row("1.001193.000.00.00.H31", "Xã", "400", "Toàn trình")),
			problem: "2:E:procedure.days_invalid"},
		{name: "a malformed code", in: []byte(simple + row("1.1193.H31", "Xã", "3", "Toàn trình")),
			problem: "2:A:procedure.code_invalid"},
		{name: "a code twice in the file", in: []byte(simple + row("1.001193.000.00.00.H31", "Xã", "3", "Toàn trình") +
			row("1.001193.000.00.00.h31", "Xã", "3", "Toàn trình")), problem: "3:A:procedure.import.code_twice"},
		{name: "a column twice", in: []byte(strings.TrimSuffix(simple, "\n") + ",Mã thủ tục\n" + row("1.001193.000.00.00.H31", "Xã", "3", "Toàn trình")),
			problem: "1:G:procedure.import.column_twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, probs, err := procedure.ReadCatalogue(bytes.NewReader(tc.in))
			var ae *apperr.Error
			switch {
			case tc.errKey != "":
				if !errors.As(err, &ae) || ae.Key != tc.errKey || ae.Kind != apperr.Invalid {
					t.Fatalf("got %v, want the file refused with %s", err, tc.errKey)
				}
				return
			case err != nil:
				t.Fatalf("got %v, want the file read", err)
			case tc.problem != "":
				parts := strings.SplitN(tc.problem, ":", 3)
				p, ok := problemAt(probs, atoi(parts[0]), parts[1])
				if !ok || p.Key != parts[2] {
					t.Fatalf("got problems %+v, want %s", probs, tc.problem)
				}
				return
			}
			if len(probs) > 0 || len(rows) != tc.rows || slices.ContainsFunc(rows, func(r procedure.CatalogueRow) bool { return r.Bad }) {
				t.Fatalf("got %d rows and problems %+v, want %d rows", len(rows), probs, tc.rows)
			}
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestReadCatalogueReadsWords(t *testing.T) {
	rows, probs, err := procedure.ReadCatalogue(strings.NewReader(catCSV))
	if err != nil || len(probs) > 0 || len(rows) != 2 {
		t.Fatalf("got %d rows, %+v, %v", len(rows), probs, err)
	}
	birth, permit := rows[0], rows[1]
	if birth.Row != 2 || birth.Procedure.Level != procedure.LevelCommune || birth.Procedure.Online != procedure.OnlineFull ||
		birth.Procedure.Days != 3 || birth.Status || birth.Agency != "UBND phường Lê Chân" {
		t.Errorf("the birth registration row: got %+v", birth)
	}
	if got := birth.Procedure.Papers; !slices.Equal(got, []string{"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"}) {
		t.Errorf("papers on two lines of a cell: got %q", got)
	}
	if permit.Row != 3 || permit.Procedure.Level != procedure.LevelProvince || permit.Procedure.Online != procedure.OnlinePartial ||
		permit.Procedure.Days != 15 || !permit.Status || !permit.Procedure.Active || permit.Procedure.Fee != "50.000 đồng" {
		t.Errorf("the permit row: got %+v", permit)
	}
	if got := permit.Procedure.Papers; !slices.Equal(got, []string{"Đơn đề nghị", "Bản vẽ thiết kế"}) {
		t.Errorf("papers separated by semicolons: got %q", got)
	}
	if got := birth.Columns.Letter("Cơ quan thực hiện"); got != "E" {
		t.Errorf("the agency column: got %q, want E", got)
	}
}

func TestImportCatalogue(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		now := vn(2025, 9, 1, 9, 0)
		s := setup(t, d, &now)
		existing := birthCert(t, s)
		count := func() int {
			ps, err := s.Procedures(sys, procedure.ProcedureFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(ps)
		}
		audited := func() int {
			var n int
			if err := d.QueryRowContext(sys, `SELECT COUNT(*) FROM audit_log WHERE action = 'procedure.import'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// A file with one bad row among good ones imports nothing, and names
		// every problem by row and column.
		bad := catCSV + "1.000010.000.00.00.H31,Chứng thực bản sao,Chứng thực,Xã,Sở Tư pháp Hải Dương,1,,Trực tiếp,,\n" +
			"1.000011.000.00.00.H31,Chứng thực chữ ký,Chứng thực,Xã,Sở Không Có,1,,Trực tiếp,,Tạm dừng\n"
		_, err := s.ImportCatalogue(sys, strings.NewReader(bad))
		var we *workbook.Error
		if !errors.As(err, &we) {
			t.Fatalf("a file with bad rows: got %v, want a *workbook.Error", err)
		}
		for _, want := range []struct {
			row      int
			col, key string
		}{
			{4, "E", "procedure.import.agency_former"},
			{5, "E", "procedure.import.agency_unknown"},
			{5, "J", "procedure.import.status_invalid"},
		} {
			if p, ok := problemAt(we.Problems, want.row, want.col); !ok || p.Key != want.key {
				t.Errorf("row %d column %s: got %+v, want %s", want.row, want.col, we.Problems, want.key)
			}
		}
		if !slices.IsSortedFunc(we.Problems, func(a, b workbook.Problem) int { return a.Row - b.Row }) {
			t.Errorf("problems out of row order: %+v", we.Problems)
		}
		if n := count(); n != 1 {
			t.Fatalf("after a refused import: %d procedures, want the 1 there was", n)
		}
		if n := audited(); n != 0 {
			t.Fatalf("a refused import was audited %d times", n)
		}

		// The good file: the existing code is updated, the other added; the
		// agency is found by name without diacritics.
		res, err := s.ImportCatalogue(sys, strings.NewReader(catCSV))
		if err != nil || res != (procedure.CatalogueImport{Created: 1, Updated: 1}) {
			t.Fatalf("import: got %+v, %v", res, err)
		}
		got, err := s.Procedure(sys, existing.ID)
		if err != nil || got.Version != 2 || got.Fee != "Miễn lệ phí" || !got.Active {
			t.Fatalf("the updated procedure: %+v, %v", got, err)
		}
		permit, err := s.ProcedureByCode(sys, "2.000889.000.00.00.H31")
		if err != nil || permit.AgencyID != "ag_stp" || permit.Days != 15 || !permit.Active {
			t.Fatalf("the added procedure: %+v, %v", permit, err)
		}
		if n := audited(); n != 1 {
			t.Fatalf("the import audited %d times, want once", n)
		}

		// The same file again changes nothing; a status takes one out of use,
		// and a row without one keeps the state it has.
		res, err = s.ImportCatalogue(sys, strings.NewReader(catCSV))
		if err != nil || res != (procedure.CatalogueImport{Unchanged: 2}) {
			t.Fatalf("the same file again: got %+v, %v", res, err)
		}
		off := strings.Replace(catCSV, ",Đang áp dụng\n", ",Ngừng áp dụng\n", 1)
		if _, err := s.ImportCatalogue(sys, strings.NewReader(off)); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.Procedure(sys, permit.ID); p.Active {
			t.Fatal("a row saying Ngừng áp dụng left the procedure in use")
		}
		noStatus := strings.Replace(catCSV, ",Đang áp dụng\n", ",\n", 1)
		if res, err := s.ImportCatalogue(sys, strings.NewReader(noStatus)); err != nil || res.Unchanged != 2 {
			t.Fatalf("rows without a status: got %+v, %v", res, err)
		}
		if p, _ := s.Procedure(sys, permit.ID); p.Active {
			t.Fatal("a row without a status put the procedure back in use")
		}

		// The agency by its identifier code, or by id.
		byCode := strings.Replace(catCSV, ",so tu phap,", ",000.00.11.h31,", 1)
		if _, err := s.ImportCatalogue(sys, strings.NewReader(byCode)); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.Procedure(sys, permit.ID); p.AgencyID != "ag_snv" {
			t.Fatalf("agency by code: got %s, want ag_snv", p.AgencyID)
		}

		// What the catalogue exports reads back unchanged, in both forms.
		for _, format := range []string{"xlsx", "csv"} {
			var b bytes.Buffer
			if err := s.ExportCatalogue(sys, &b, format); err != nil {
				t.Fatal(err)
			}
			res, err := s.ImportCatalogue(sys, &b)
			if err != nil || res != (procedure.CatalogueImport{Unchanged: 2}) {
				t.Fatalf("%s export read back: got %+v, %v", format, res, err)
			}
		}
		var tpl bytes.Buffer
		if err := s.CatalogueTemplate(sys, &tpl); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&tpl)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got := f.GetSheetList(); !slices.Equal(got, []string{"Thủ tục", "Hướng dẫn", "Cơ quan"}) {
			t.Fatalf("the template's sheets: got %q", got)
		}
		if rows, _ := f.GetRows("Thủ tục"); len(rows) != 1 || !slices.Equal(rows[0], procedure.CatalogueHeader) {
			t.Fatalf("the template is the header alone: got %q", rows)
		}
		if rows, _ := f.GetRows("Cơ quan"); len(rows) != 4 || rows[1][0] != "UBND phường Lê Chân" {
			t.Fatalf("the template lists the merged province's agencies: got %q", rows)
		}
	})
}

func TestSetActive(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		now := vn(2025, 9, 1, 9, 0)
		s := setup(t, d, &now)
		p := birthCert(t, s)
		off, err := s.SetActive(sys, p.ID, false, p.Version)
		if err != nil || off.Active || off.Version != 2 {
			t.Fatalf("out of use: got %+v, %v", off, err)
		}
		if _, err := s.SetActive(sys, p.ID, true, p.Version); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a stale version: got %v, want a conflict", err)
		}
		if d := s.Today(); d.String() != "2025-09-01" {
			t.Fatalf("today: got %s", d)
		}
		now = now.Add(20 * time.Hour)
		if d := s.Today(); d.String() != "2025-09-02" {
			t.Fatalf("the day after: got %s", d)
		}
	})
}

// FuzzReadCatalogue feeds the reader whatever a person might upload: it must
// never panic, and a row it returns must be one the catalogue accepts.
func FuzzReadCatalogue(f *testing.F) {
	f.Add([]byte(catCSV))
	f.Add([]byte("\xEF\xBB\xBF" + catCSV))
	f.Add([]byte(strings.ReplaceAll(catCSV, ",", ";")))
	f.Add([]byte("Mã thủ tục\n\"unclosed"))
	f.Add([]byte("PK\x03\x04"))
	f.Add(catXLSX(f, "Thủ tục", catRecords("Mã thủ tục,Tên thủ tục,Cấp thực hiện,Cơ quan thực hiện,Thời hạn,Mức độ trực tuyến\n"+
		"1.001193.000.00.00.H31,Đăng ký khai sinh,Xã,Sở Tư pháp,3,Toàn trình")))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, probs, err := procedure.ReadCatalogue(bytes.NewReader(b))
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || (ae.Kind != apperr.Invalid && ae.Kind != apperr.TooLarge) {
				t.Fatalf("got %v, want an Invalid error", err)
			}
			return
		}
		for _, p := range probs {
			if p.Key == "" || p.Row < 0 {
				t.Fatalf("a problem without a key or a row: %+v", p)
			}
		}
		last := 0
		bad := 0
		for _, r := range rows {
			p := r.Procedure
			if r.Row <= last {
				t.Fatalf("rows out of order: %d after %d", r.Row, last)
			}
			last = r.Row
			if r.Bad {
				bad++
				continue
			}
			if !procedure.ValidCode(p.Code) || p.Name == "" || p.Days < 0 || p.Days > 365 || r.Agency == "" ||
				(p.Level != procedure.LevelProvince && p.Level != procedure.LevelCommune) ||
				(p.Online != procedure.OnlineFull && p.Online != procedure.OnlinePartial && p.Online != procedure.OnlineOffline) {
				t.Fatalf("row %d was returned as good but is not valid: %+v", r.Row, r)
			}
		}
		if bad > 0 && len(probs) == 0 {
			t.Fatalf("%d bad rows and %d problems", bad, len(probs))
		}
	})
}
