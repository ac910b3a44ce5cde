package procedure

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/fold"
	"hopnhat/internal/platform/workbook"
)

// The catalogue as a workbook or a CSV file. The headers are what people see
// and what the import looks for (case, diacritics and a few other wordings
// aside); the order of the columns is free.
const (
	catSheet       = "Thủ tục"
	catGuideSheet  = "Hướng dẫn"
	catAgencySheet = "Cơ quan"

	catColCode   = "Mã thủ tục"
	catColName   = "Tên thủ tục"
	catColField  = "Lĩnh vực"
	catColLevel  = "Cấp thực hiện"
	catColAgency = "Cơ quan thực hiện"
	catColDays   = "Thời hạn (ngày làm việc)"
	catColFee    = "Phí, lệ phí"
	catColOnline = "Mức độ trực tuyến"
	catColPapers = "Thành phần hồ sơ"
	catColStatus = "Trạng thái"
)

// CatalogueHeader lists the columns of the catalogue's workbook, in the
// order exports write them.
var CatalogueHeader = []string{catColCode, catColName, catColField, catColLevel, catColAgency, catColDays, catColFee, catColOnline, catColPapers, catColStatus}

// catRequiredColumns must be in every file; the others may be left out.
var catRequiredColumns = []string{catColCode, catColName, catColLevel, catColAgency, catColDays, catColOnline}

// catHeaderAliases are the other ways people head a column, folded.
var catHeaderAliases = map[string][]string{
	catColCode:   {"ma", "ma tthc", "ma thu tuc hanh chinh", "code"},
	catColName:   {"ten", "ten tthc", "ten thu tuc hanh chinh", "name"},
	catColField:  {"field"},
	catColLevel:  {"cap", "level"},
	catColAgency: {"co quan", "co quan giai quyet", "don vi thuc hien", "agency"},
	catColDays:   {"thoi han", "thoi han giai quyet", "thoi han giai quyet (ngay lam viec)", "so ngay lam viec", "days"},
	catColFee:    {"phi le phi", "phi", "le phi", "fee"},
	catColOnline: {"muc do", "dich vu cong truc tuyen", "online"},
	catColPapers: {"ho so", "giay to", "papers"},
	catColStatus: {"tinh trang", "status"},
}

// catFieldColumns names the column of each field the service checks.
var catFieldColumns = map[string]string{
	"code": catColCode, "name": catColName, "field": catColField, "level": catColLevel, "agency_id": catColAgency, "days": catColDays,
	"fee": catColFee, "online": catColOnline, "papers": catColPapers,
}

// The words the workbook uses for levels, online levels and statuses; the
// import reads these, their English codes and a few other wordings.
var (
	catLevelWords  = map[Level]string{LevelProvince: "Tỉnh", LevelCommune: "Xã"}
	catOnlineWords = map[Online]string{OnlineFull: "Toàn trình", OnlinePartial: "Một phần", OnlineOffline: "Trực tiếp"}
	catStatusWords = map[bool]string{true: "Đang áp dụng", false: "Ngừng áp dụng"}
)

// Limits of an imported file.
const (
	catMaxBytes    = 32 << 20
	catMaxRows     = 20000
	catMaxProblems = 300
)

// CatalogueRow is one row of an imported catalogue, read and checked on its
// own.
type CatalogueRow struct {
	Sheet     string // the sheet it is on; "" in a CSV file
	Row       int    // its row number as a spreadsheet shows it: the header is row 1
	Columns   workbook.Columns
	Procedure Procedure // AgencyID is empty; Active counts only when Status
	Agency    string    // the responsible agency as written: a name, an id or a code
	Status    bool      // the row says whether the procedure is in use
	Bad       bool      // the row has problems; it comes back so its agency can be checked too
}

// ReadCatalogue reads a catalogue from a workbook (.xlsx: its sheet "Thủ
// tục", or its first) or a UTF-8 CSV file (comma or semicolon separated, with
// or without a byte-order mark), telling them apart by their content. Every
// row is checked on its own; the rows that read come back with every problem
// found, by row and column; a row with problems comes back marked Bad. A file that cannot be read at all is an
// apperr.Invalid error. Nothing is looked up: the agencies and the codes
// already in the catalogue are the import's business.
func ReadCatalogue(r io.Reader) ([]CatalogueRow, []workbook.Problem, error) {
	b, err := io.ReadAll(io.LimitReader(r, catMaxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read catalogue: %w", err)
	}
	if len(b) > catMaxBytes {
		return nil, nil, apperr.New(apperr.TooLarge, "error.too_large")
	}
	var sheet string
	var recs [][]string
	switch {
	case len(bytes.TrimSpace(b)) == 0:
		return nil, nil, apperr.New(apperr.Invalid, "procedure.import.empty")
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		sheet, recs, err = catReadXLSX(b)
	case bytes.HasPrefix(b, []byte("\xD0\xCF\x11\xE0")):
		return nil, nil, apperr.New(apperr.Invalid, "procedure.import.xls")
	default:
		recs, err = catReadCSV(b)
	}
	if err != nil {
		return nil, nil, err
	}
	return catParse(sheet, recs)
}

// catReadXLSX returns the catalogue sheet's name and rows.
func catReadXLSX(b []byte) (sheet string, rows [][]string, err error) {
	// excelize reads whatever a zip holds; a malformed part must not bring
	// the server down.
	defer func() {
		if p := recover(); p != nil {
			sheet, rows, err = "", nil, apperr.Wrapf(apperr.Invalid, "workbook.unreadable", fmt.Errorf("excelize panic: %v", p))
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{UnzipSizeLimit: 64 << 20, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		return "", nil, apperr.Wrapf(apperr.Invalid, "workbook.unreadable", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return "", nil, apperr.New(apperr.Invalid, "workbook.unreadable")
	}
	sheet = sheets[0]
	for _, s := range sheets {
		if fold.String(s) == fold.String(catSheet) {
			sheet = s
		}
	}
	rows, err = f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return "", nil, apperr.Wrapf(apperr.Invalid, "workbook.unreadable", err)
	}
	return sheet, rows, nil
}

const catBOM = "\xEF\xBB\xBF"

// catReadCSV reads a UTF-8 CSV file, separated by commas or, as Excel saves
// them where the decimal mark is a comma, by semicolons.
func catReadCSV(b []byte) ([][]string, error) {
	if bytes.HasPrefix(b, []byte("\xFF\xFE")) || bytes.HasPrefix(b, []byte("\xFE\xFF")) {
		return nil, apperr.New(apperr.Invalid, "procedure.import.utf16")
	}
	b = bytes.TrimPrefix(b, []byte(catBOM))
	if !utf8.Valid(b) {
		// Name the line, so the person finds the text the old font or code
		// page wrote.
		line := 1
		for len(b) > 0 {
			r, n := utf8.DecodeRune(b)
			if r == utf8.RuneError && n <= 1 {
				break
			}
			if r == '\n' {
				line++
			}
			b = b[n:]
		}
		return nil, apperr.New(apperr.Invalid, "procedure.import.not_utf8", line)
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, apperr.New(apperr.Invalid, "procedure.import.not_utf8", 1)
	}
	comma := ','
	if first, _, _ := bufio.NewReader(bytes.NewReader(b)).ReadLine(); catKnownHeaders(catSplitCSV(first, ';')) > catKnownHeaders(catSplitCSV(first, ',')) {
		comma = ';'
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.Comma, cr.FieldsPerRecord = comma, -1
	var recs [][]string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		for i := range rec {
			rec[i] = csvUnsafe(rec[i])
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, apperr.New(apperr.Invalid, "procedure.import.csv_malformed", pe.StartLine)
		}
		if err != nil {
			return nil, err
		}
		if len(recs) > catMaxRows {
			return nil, apperr.New(apperr.Invalid, "procedure.import.too_many_rows", catMaxRows)
		}
		recs = append(recs, rec)
	}
}

func catSplitCSV(line []byte, comma rune) []string {
	cr := csv.NewReader(bytes.NewReader(line))
	cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes = comma, -1, true
	rec, _ := cr.Read()
	return rec
}

// catCanonical returns the catalogue column a header names, "" for none.
func catCanonical(h string) string {
	f := strings.Trim(fold.String(h), " :*.")
	for _, c := range CatalogueHeader {
		if f == fold.String(c) {
			return c
		}
		for _, a := range catHeaderAliases[c] {
			if f == a {
				return c
			}
		}
	}
	return ""
}

func catKnownHeaders(rec []string) int {
	n := 0
	for _, h := range rec {
		if catCanonical(h) != "" {
			n++
		}
	}
	return n
}

// catParse reads the header and the rows of a sheet or CSV file.
func catParse(sheet string, recs [][]string) ([]CatalogueRow, []workbook.Problem, error) {
	if len(recs) > catMaxRows+1 {
		return nil, nil, apperr.New(apperr.Invalid, "procedure.import.too_many_rows", catMaxRows)
	}
	// The header is the first row with text: a title line above it is
	// common in published lists.
	head := 0
	for head < len(recs) && head < 5 && catKnownHeaders(recs[head]) < 2 {
		head++
	}
	if head == len(recs) || head == 5 {
		head = 0
	}
	if len(recs) == 0 || workbook.Empty(recs[head]) {
		return nil, []workbook.Problem{{Sheet: sheet, Row: 1, Key: "workbook.no_header"}}, nil
	}
	cols := workbook.Columns{}
	var probs []workbook.Problem
	for i, h := range recs[head] {
		c := catCanonical(h)
		if c == "" {
			continue
		}
		if _, dup := cols[c]; dup {
			probs = append(probs, workbook.Problem{Sheet: sheet, Row: head + 1, Column: catColLetter(i), Key: "procedure.import.column_twice",
				Args: []any{c, cols.Letter(c)}})
			continue
		}
		cols[c] = i
	}
	for _, c := range catRequiredColumns {
		if _, ok := cols[c]; !ok {
			probs = append(probs, workbook.Problem{Sheet: sheet, Row: head + 1, Key: "workbook.missing_column", Args: []any{c}})
		}
	}
	if len(probs) > 0 {
		return nil, probs, nil
	}
	var rows []CatalogueRow
	firstRow := map[string]int{}
	for i := head + 1; i < len(recs); i++ {
		if workbook.Empty(recs[i]) {
			continue
		}
		row, p := catParseRow(sheet, i+1, recs[i], cols)
		if ValidCode(row.Procedure.Code) {
			if first, dup := firstRow[row.Procedure.Code]; dup {
				p = append(p, workbook.Problem{Sheet: sheet, Row: i + 1, Column: cols.Letter(catColCode), Key: "procedure.import.code_twice",
					Args: []any{row.Procedure.Code, first}})
			} else {
				firstRow[row.Procedure.Code] = i + 1
			}
		}
		probs = append(probs, p...)
		row.Bad = len(p) > 0
		rows = append(rows, row)
		if len(probs) >= catMaxProblems {
			probs = append(probs[:catMaxProblems], workbook.Problem{Sheet: sheet, Key: "procedure.import.more_problems", Args: []any{i + 1}})
			break
		}
	}
	if len(rows) == 0 {
		return nil, nil, apperr.New(apperr.Invalid, "procedure.import.no_rows")
	}
	return rows, probs, nil
}

func catColLetter(i int) string {
	n, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return ""
	}
	return n
}

// catParseRow reads one row; a row with problems is not to be imported.
func catParseRow(sheet string, n int, rec []string, cols workbook.Columns) (CatalogueRow, []workbook.Problem) {
	row := CatalogueRow{Sheet: sheet, Row: n, Columns: cols, Agency: cols.Get(rec, catColAgency)}
	var probs []workbook.Problem
	bad := func(col, key string, args ...any) {
		probs = append(probs, workbook.Problem{Sheet: sheet, Row: n, Column: cols.Letter(col), Key: key, Args: args})
	}
	p := Procedure{Code: cols.Get(rec, catColCode), Name: cols.Get(rec, catColName), Field: cols.Get(rec, catColField),
		Fee: cols.Get(rec, catColFee), Papers: catPapers(cols.Get(rec, catColPapers))}
	reported := map[string]bool{}
	var ok bool
	if v := cols.Get(rec, catColLevel); v != "" {
		var key string
		if p.Level, key = catLevel(v); key != "" {
			bad(catColLevel, key, v)
			reported["level"] = true
		}
	}
	if v := cols.Get(rec, catColOnline); v != "" {
		if p.Online, ok = catOnline(v); !ok {
			bad(catColOnline, "procedure.import.online_invalid", v)
			reported["online"] = true
		}
	}
	if v := cols.Get(rec, catColDays); v == "" {
		bad(catColDays, "procedure.import.days_missing")
		reported["days"] = true
	} else if p.Days, ok = catDays(v); !ok {
		bad(catColDays, "procedure.import.days_invalid", v)
		reported["days"] = true
	}
	if v := cols.Get(rec, catColStatus); v != "" {
		if p.Active, ok = catStatus(v); !ok {
			bad(catColStatus, "procedure.import.status_invalid", v)
		}
		row.Status = true
	}
	for _, field := range []string{"code", "name", "field", "level", "days", "fee", "online", "papers"} {
		if key := p.check()[field]; key != "" && !reported[field] {
			bad(catFieldColumns[field], key)
		}
	}
	if row.Agency == "" {
		bad(catColAgency, "procedure.agency_required")
	}
	row.Procedure = p
	return row, probs
}

// catPapers splits the required papers, one a line or separated by
// semicolons, without the bullets people type before them.
func catPapers(s string) []string {
	var out []string
	for _, x := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' || r == '\r' }) {
		if x = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(x), "-+*•–")); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// catLevel reads a level: "Tỉnh", "cấp xã", "xã/phường/đặc khu", "province".
func catLevel(v string) (Level, string) {
	var level Level
	for _, part := range strings.FieldsFunc(fold.String(v), func(r rune) bool { return r == '/' || r == ',' || r == ';' }) {
		part = strings.TrimPrefix(strings.TrimSpace(part), "cap ")
		var l Level
		switch part {
		case "tinh", "thanh pho", "province":
			l = LevelProvince
		case "xa", "phuong", "dac khu", "thi tran", "commune", "ward":
			l = LevelCommune
		case "huyen", "quan", "thi xa", "district":
			// There are no districts since 1/7/2025: their procedures went
			// to the province or the communes.
			return "", "procedure.import.level_district"
		default:
			return "", "procedure.import.level_invalid"
		}
		if level != "" && level != l {
			return "", "procedure.import.level_invalid"
		}
		level = l
	}
	if level == "" {
		return "", "procedure.import.level_invalid"
	}
	return level, ""
}

// catOnline reads an online level: "Toàn trình", "một phần", "trực tiếp".
func catOnline(v string) (Online, bool) {
	f := strings.TrimPrefix(strings.TrimPrefix(fold.String(v), "dich vu cong "), "truc tuyen ")
	switch f {
	case "toan trinh", "muc do 4", "full":
		return OnlineFull, true
	case "mot phan", "muc do 3", "partial":
		return OnlinePartial, true
	case "truc tiep", "khong", "khong truc tuyen", "cung cap thong tin", "offline":
		return OnlineOffline, true
	}
	return "", false
}

// catDays reads a processing time in working days: "15", "15 ngày",
// "15 ngày làm việc".
func catDays(v string) (int, bool) {
	f := fold.String(v)
	for _, unit := range []string{" ngay lam viec", " ngay", " days", " working days"} {
		f = strings.TrimSuffix(f, unit)
	}
	n, err := strconv.Atoi(strings.TrimSpace(f))
	return n, err == nil
}

// catStatus reads whether a procedure is in use: "Đang áp dụng",
// "Ngừng áp dụng".
func catStatus(v string) (active, ok bool) {
	switch fold.String(v) {
	case "dang ap dung", "ap dung", "con hieu luc", "co hieu luc", "hoat dong", "active":
		return true, true
	case "ngung ap dung", "ngung", "het hieu luc", "bai bo", "da bai bo", "inactive":
		return false, true
	}
	return false, false
}

// --- export ---

// ExportCatalogue writes the catalogue as a workbook ("xlsx") or a UTF-8
// CSV file with a byte-order mark, for Excel ("csv"), in the form the import
// reads back: agencies by name (by id when two share a name).
func (s *Service) ExportCatalogue(ctx context.Context, w io.Writer, format string) error {
	ps, err := s.AllProcedures(ctx, ProcedureFilter{})
	if err != nil {
		return err
	}
	ix, err := s.catLookupAgencies(ctx)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(ps)+1)
	rows = append(rows, CatalogueHeader)
	for _, p := range ps {
		agency := ix.nameOf(p.AgencyID)
		if _, ok := ix.current[p.AgencyID]; !ok {
			agency = p.AgencyID // an old agency not yet reassigned: its id is what the register knows
		}
		rows = append(rows, []string{p.Code, p.Name, p.Field, catLevelWords[p.Level], agency, strconv.Itoa(p.Days), p.Fee,
			catOnlineWords[p.Online], strings.Join(p.Papers, "\n"), catStatusWords[p.Active]})
	}
	if format == "csv" {
		if _, err := io.WriteString(w, catBOM); err != nil {
			return err
		}
		cw := csv.NewWriter(w)
		cw.UseCRLF = true // Excel's line ends; a line break inside a cell stays quoted
		for _, r := range rows {
			for i := range r {
				r[i] = csvSafe(r[i])
			}
		}
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return cw.Error()
	}
	return s.catWriteWorkbook(ctx, w, rows, ix)
}

// CatalogueTemplate writes the workbook to fill in: the header, lists to pick
// the levels and the agencies from, and a sheet explaining every column.
func (s *Service) CatalogueTemplate(ctx context.Context, w io.Writer) error {
	ix, err := s.catLookupAgencies(ctx)
	if err != nil {
		return err
	}
	return s.catWriteWorkbook(ctx, w, [][]string{CatalogueHeader}, ix)
}

// catGuide explains the columns on the workbook's second sheet.
var catGuide = [][]string{
	{"Cột", "Bắt buộc", "Cách ghi"},
	{catColCode, "Có", "Mã thủ tục trên Cổng Dịch vụ công quốc gia, ví dụ 1.001193.000.00.00.H31. Mã đã có trong danh mục thì dòng này cập nhật thủ tục đó; mã mới thì thêm thủ tục."},
	{catColName, "Có", "Tên thủ tục như được công bố (tối đa 500 ký tự)."},
	{catColField, "Không", "Lĩnh vực, ví dụ Hộ tịch, Đất đai, Xây dựng."},
	{catColLevel, "Có", "Tỉnh hoặc Xã (cấp xã gồm xã, phường, đặc khu). Không còn cấp huyện từ 01/7/2025."},
	{catColAgency, "Có", "Tên cơ quan đúng như trong danh mục cơ quan của tỉnh mới (không phân biệt hoa thường, có dấu hay không dấu), hoặc mã định danh của cơ quan. Danh sách ở trang \"" + catAgencySheet + "\"."},
	{catColDays, "Có", "Số ngày làm việc, từ 0 đến 365, ví dụ 15. Ngày tiếp nhận không tính; thứ Bảy, Chủ nhật và ngày nghỉ lễ không tính."},
	{catColFee, "Không", "Như được công bố, ví dụ 50.000 đồng/hồ sơ, hoặc Không."},
	{catColOnline, "Có", "Toàn trình, Một phần hoặc Trực tiếp."},
	{catColPapers, "Không", "Mỗi giấy tờ một dòng trong ô (Alt+Enter) hoặc cách nhau bằng dấu chấm phẩy."},
	{catColStatus, "Không", "Đang áp dụng hoặc Ngừng áp dụng. Bỏ trống: thủ tục mới là đang áp dụng, thủ tục đã có giữ nguyên trạng thái."},
	{},
	{"Cũng nhập được tệp CSV (UTF-8, phân cách bằng dấu phẩy hoặc chấm phẩy) có cùng các cột. Mọi dòng được kiểm tra trước; có lỗi thì không nhập dòng nào."},
}

func (s *Service) catWriteWorkbook(ctx context.Context, w io.Writer, rows [][]string, ix *catAgencies) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := workbook.WriteRows(f, catSheet, true, catAnyRows(rows)); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EEF2F8"}}})
	if err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	last := max(len(rows), 1000)
	for _, c := range []struct {
		col   string
		width float64
	}{{"A", 24}, {"B", 50}, {"C", 18}, {"D", 12}, {"E", 36}, {"F", 14}, {"G", 20}, {"H", 16}, {"I", 50}, {"J", 16}} {
		if err := f.SetColWidth(catSheet, c.col, c.col, c.width); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(catSheet, "A2", fmt.Sprintf("J%d", last), wrap); err != nil {
		return err
	}
	if err := f.SetRowStyle(catSheet, 1, 1, bold); err != nil {
		return err
	}
	if err := f.SetPanes(catSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	// Pick lists, so the words are the ones the import reads.
	for _, dl := range []struct {
		col, title string
		words      []string
	}{
		{"D", catColLevel, []string{catLevelWords[LevelProvince], catLevelWords[LevelCommune]}},
		{"H", catColOnline, []string{catOnlineWords[OnlineFull], catOnlineWords[OnlinePartial], catOnlineWords[OnlineOffline]}},
		{"J", catColStatus, []string{catStatusWords[true], catStatusWords[false]}},
	} {
		dv := excelize.NewDataValidation(true)
		dv.SetSqref(fmt.Sprintf("%s2:%s%d", dl.col, dl.col, last))
		if err := dv.SetDropList(dl.words); err != nil {
			return err
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, dl.title, strings.Join(dl.words, ", "))
		if err := f.AddDataValidation(catSheet, dv); err != nil {
			return err
		}
	}
	if err := workbook.WriteRows(f, catGuideSheet, false, catAnyRows(catGuide)); err != nil {
		return err
	}
	if err := f.SetColWidth(catGuideSheet, "A", "A", 26); err != nil {
		return err
	}
	if err := f.SetColWidth(catGuideSheet, "C", "C", 100); err != nil {
		return err
	}
	if err := f.SetRowStyle(catGuideSheet, 1, 1, bold); err != nil {
		return err
	}
	cur, err := s.Agencies(ctx)
	if err != nil {
		return err
	}
	ag := [][]string{{"Tên cơ quan", "Mã định danh", "Mã hệ thống"}}
	for _, a := range cur {
		ag = append(ag, []string{ix.nameOf(a.ID), a.Code, a.ID})
	}
	if err := workbook.WriteRows(f, catAgencySheet, false, catAnyRows(ag)); err != nil {
		return err
	}
	if err := f.SetColWidth(catAgencySheet, "A", "A", 50); err != nil {
		return err
	}
	if err := f.SetRowStyle(catAgencySheet, 1, 1, bold); err != nil {
		return err
	}
	if len(cur) > 0 {
		// A warning only: an agency's code or id is also accepted.
		dv := excelize.NewDataValidation(true)
		dv.SetSqref(fmt.Sprintf("E2:E%d", last))
		dv.SetSqrefDropList(fmt.Sprintf("'%s'!$A$2:$A$%d", catAgencySheet, len(cur)+1))
		dv.SetError(excelize.DataValidationErrorStyleWarning, catColAgency, "Cơ quan không có trong danh sách ở trang \""+catAgencySheet+"\".")
		if err := f.AddDataValidation(catSheet, dv); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

func catAnyRows(rows [][]string) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = make([]any, len(r))
		for j, s := range r {
			out[i][j] = s
		}
	}
	return out
}

// csvSafe keeps a spreadsheet from running a cell as a formula: text that
// starts with = + - @ (or a tab or CR) gets a leading apostrophe, which
// Excel and LibreOffice show as text; csvUnsafe takes it off on import.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func csvUnsafe(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(v[1])) {
		return v[1:]
	}
	return v
}
