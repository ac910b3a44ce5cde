package merger

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/workbook"
)

// The workbook of a merger: its inventory and its roadmap. The headers are
// what people see and what the import looks for.
const (
	sheetSystems = "Hệ thống"
	sheetTasks   = "Nhiệm vụ"
)

var (
	systemHeader = []string{"Mã hệ thống", "Nhóm", "Tỉnh cũ", "Tên", "Nhà cung cấp", "Công nghệ", "Năm triển khai",
		"Hình thức đầu tư", "Số người dùng", "Hệ CSDL", "Dung lượng CSDL (MB)", "Số bộ dữ liệu", "Số trường", "Số bản ghi",
		"Chức năng", "Tích hợp", "Hết hợp đồng", "Ghi chú"}
	taskHeader = []string{"Mã nhiệm vụ", "Tên", "Giai đoạn", "Nhóm", "Cơ quan chủ trì", "Người thực hiện", "Bắt đầu", "Hạn",
		"Trạng thái", "Tiến độ (%)", "Minh chứng"}
)

const dayLayout = "02/01/2006"

var vnTime = time.FixedZone("ICT", 7*3600)

func dayText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vnTime).Format(dayLayout)
}

// ExportWorkbook writes a merger's inventory and roadmap; an empty merger's
// workbook is the template to fill in. Categories, investment forms and
// statuses are written as their codes (data_center, leased, in_progress…),
// as the import reads them; a category that is not a code is a custom one.
func (s *Service) ExportWorkbook(ctx context.Context, mergerID string, w io.Writer) error {
	m, err := s.Merger(ctx, mergerID)
	if err != nil {
		return err
	}
	owners, err := s.owners(ctx, m.ProvinceCode)
	if err != nil {
		return err
	}
	names := ownerNames(owners)
	systems, err := s.Systems(ctx, mergerID, "")
	if err != nil {
		return err
	}
	tasks, err := s.Tasks(ctx, mergerID)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{toAny(systemHeader)}
	for _, x := range systems {
		cat := string(x.Category)
		if x.Category == CatCustom {
			cat = x.CustomCategory
		}
		rows = append(rows, []any{x.ID, cat, x.ProvinceCode, x.Name, x.Vendor, x.Technology, yearText(x.DeployedYear),
			string(x.Investment), x.Users, x.DBEngine, x.DBSizeMB, x.Datasets, x.Fields, x.Records,
			strings.Join(x.Functions, "; "), x.Integrations, dayText(x.ContractEnd), x.Notes})
	}
	if err := workbook.WriteRows(f, sheetSystems, true, rows); err != nil {
		return err
	}
	rows = [][]any{toAny(taskHeader)}
	for _, t := range tasks {
		owner := t.OwnerAgency
		if n, ok := names[owner]; ok {
			owner = n // a name reads back as the same agency
		}
		rows = append(rows, []any{t.ID, t.Title, t.Phase, string(t.Category), owner, t.Assignee, dayText(t.Start),
			dayText(t.Deadline), string(t.Status), t.Progress, t.Evidence})
	}
	if err := workbook.WriteRows(f, sheetTasks, false, rows); err != nil {
		return err
	}
	return f.Write(w)
}

func yearText(y int) string {
	if y == 0 {
		return ""
	}
	return strconv.Itoa(y)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// WorkbookResult counts what an import did.
type WorkbookResult struct {
	SystemsCreated, SystemsUpdated, TasksCreated, TasksUpdated int
}

// fieldHeaders names the header of each input field, for problems.
var fieldHeaders = map[string]string{
	"category": "Nhóm", "custom_category": "Nhóm", "province_code": "Tỉnh cũ", "name": "Tên", "vendor": "Nhà cung cấp",
	"technology": "Công nghệ", "deployed_year": "Năm triển khai", "investment": "Hình thức đầu tư", "users": "Số người dùng",
	"db_engine": "Hệ CSDL", "db_size_mb": "Dung lượng CSDL (MB)", "datasets": "Số bộ dữ liệu", "fields": "Số trường",
	"records": "Số bản ghi", "functions": "Chức năng", "integrations": "Tích hợp", "notes": "Ghi chú",
	"title": "Tên", "phase": "Giai đoạn", "owner_agency": "Cơ quan chủ trì", "assignee": "Người thực hiện",
	"deadline": "Hạn", "status": "Trạng thái", "progress": "Tiến độ (%)", "evidence": "Minh chứng",
}

// ImportWorkbook reads a workbook in ExportWorkbook's format into a merger:
// every row of both sheets is checked first, and any problem (named by
// sheet, row and column) leaves everything untouched. A row whose id is one
// of this merger's updates it; other rows are added.
func (s *Service) ImportWorkbook(ctx context.Context, mergerID string, r io.Reader) (WorkbookResult, error) {
	var res WorkbookResult
	m, err := s.Merger(ctx, mergerID)
	if err != nil {
		return res, err
	}
	owners, err := s.owners(ctx, m.ProvinceCode)
	if err != nil {
		return res, err
	}
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: 64 << 20})
	if err != nil {
		return res, apperr.Wrapf(apperr.Invalid, "workbook.unreadable", err)
	}
	defer f.Close()
	now := s.db.Now()
	var probs []workbook.Problem
	type sysRow struct {
		row int
		x   System
	}
	type taskRow struct {
		row int
		t   Task
	}
	var systems []sysRow
	var tasks []taskRow
	if rows, err := f.GetRows(sheetSystems); err == nil {
		cols, p := workbook.Header(sheetSystems, rows, []string{"Nhóm", "Tỉnh cũ", "Tên"})
		probs = append(probs, p...)
		for i := 1; len(p) == 0 && i < len(rows); i++ {
			rec := rows[i]
			if workbook.Empty(rec) {
				continue
			}
			bad := func(h, key string, args ...any) {
				probs = append(probs, workbook.Problem{Sheet: sheetSystems, Row: i + 1, Column: cols.Letter(h), Key: key, Args: args})
			}
			x := System{ID: cols.Get(rec, "Mã hệ thống"), MergerID: mergerID, ProvinceCode: cols.Get(rec, "Tỉnh cũ"),
				Name: cols.Get(rec, "Tên"), Vendor: cols.Get(rec, "Nhà cung cấp"), Technology: cols.Get(rec, "Công nghệ"),
				Investment: Investment(cols.Get(rec, "Hình thức đầu tư")), DBEngine: cols.Get(rec, "Hệ CSDL"),
				Integrations: cols.Get(rec, "Tích hợp"), Notes: cols.Get(rec, "Ghi chú")}
			if cat := Category(cols.Get(rec, "Nhóm")); cat.Valid() {
				x.Category = cat
			} else {
				x.Category, x.CustomCategory = CatCustom, string(cat)
			}
			for h, p := range map[string]*int64{"Số người dùng": &x.Users, "Dung lượng CSDL (MB)": &x.DBSizeMB, "Số bộ dữ liệu": &x.Datasets,
				"Số trường": &x.Fields, "Số bản ghi": &x.Records} {
				if v := strings.NewReplacer(".", "", ",", "", " ", "").Replace(cols.Get(rec, h)); v != "" {
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil {
						bad(h, "merger.number_invalid", cols.Get(rec, h))
					}
					*p = n
				}
			}
			if v := cols.Get(rec, "Năm triển khai"); v != "" {
				y, err := strconv.Atoi(v)
				if err != nil {
					bad("Năm triển khai", "merger.year_invalid")
				}
				x.DeployedYear = y
			}
			if v := cols.Get(rec, "Hết hợp đồng"); v != "" {
				t, err := time.ParseInLocation(dayLayout, v, vnTime)
				if err != nil {
					bad("Hết hợp đồng", "error.date_invalid")
				}
				x.ContractEnd = t
			}
			for _, fn := range strings.Split(cols.Get(rec, "Chức năng"), ";") {
				x.Functions = append(x.Functions, fn)
			}
			for field, key := range checkSystem(&x, m, now) {
				bad(fieldHeaders[field], key)
			}
			systems = append(systems, sysRow{i + 1, x})
		}
	}
	if rows, err := f.GetRows(sheetTasks); err == nil {
		cols, p := workbook.Header(sheetTasks, rows, []string{"Tên"})
		probs = append(probs, p...)
		for i := 1; len(p) == 0 && i < len(rows); i++ {
			rec := rows[i]
			if workbook.Empty(rec) {
				continue
			}
			bad := func(h, key string, args ...any) {
				probs = append(probs, workbook.Problem{Sheet: sheetTasks, Row: i + 1, Column: cols.Letter(h), Key: key, Args: args})
			}
			t := Task{ID: cols.Get(rec, "Mã nhiệm vụ"), MergerID: mergerID, Title: cols.Get(rec, "Tên"), Phase: cols.Get(rec, "Giai đoạn"),
				Category: Category(cols.Get(rec, "Nhóm")), OwnerAgency: cols.Get(rec, "Cơ quan chủ trì"),
				Assignee: cols.Get(rec, "Người thực hiện"), Status: Status(cols.Get(rec, "Trạng thái")), Evidence: cols.Get(rec, "Minh chứng")}
			for h, p := range map[string]*time.Time{"Bắt đầu": &t.Start, "Hạn": &t.Deadline} {
				if v := cols.Get(rec, h); v != "" {
					d, err := time.ParseInLocation(dayLayout, v, vnTime)
					if err != nil {
						bad(h, "error.date_invalid")
					}
					*p = d
				}
			}
			if v := strings.TrimSuffix(cols.Get(rec, "Tiến độ (%)"), "%"); v != "" {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					bad("Tiến độ (%)", "merger.progress_invalid")
				}
				t.Progress = n
			}
			var known bool
			if t.OwnerAgency, known = matchOwner(owners, len(owners) > 0, t.OwnerAgency); !known {
				bad("Cơ quan chủ trì", "merger.owner_not_in_register", t.OwnerAgency)
			}
			for field, key := range checkTask(&t) {
				bad(fieldHeaders[field], key)
			}
			tasks = append(tasks, taskRow{i + 1, t})
		}
	}
	if len(probs) > 0 {
		return res, &workbook.Error{Problems: probs}
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, sr := range systems {
			x := sr.x
			existing := ""
			if x.ID != "" {
				_ = tx.QueryRowContext(ctx, `SELECT id FROM merger_system WHERE id = $1 AND merger_id = $2`, x.ID, mergerID).Scan(&existing)
			}
			if existing != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE merger_system SET category = $1, custom_category = $2, province_code = $3, name = $4,
vendor = $5, technology = $6, deployed_year = $7, investment = $8, users = $9, db_engine = $10, db_size_mb = $11, datasets = $12,
fields = $13, records = $14, functions = $15, integrations = $16, contract_end = $17, notes = $18, version = version + 1,
updated_at = $19 WHERE id = $20`,
					string(x.Category), x.CustomCategory, x.ProvinceCode, x.Name, x.Vendor, x.Technology, int64(x.DeployedYear),
					string(x.Investment), x.Users, x.DBEngine, x.DBSizeMB, x.Datasets, x.Fields, x.Records,
					strings.Join(x.Functions, "\n"), x.Integrations, db.NullMicros(x.ContractEnd), x.Notes, db.Micros(tx.Now), existing); err != nil {
					return rowErr(sheetSystems, sr.row, err)
				}
				res.SystemsUpdated++
				continue
			}
			x.ID, x.Version, x.CreatedAt, x.UpdatedAt = newID("sy_"), 1, tx.Now, tx.Now
			if _, err := tx.ExecContext(ctx, `INSERT INTO merger_system (`+systemCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 1, $21, $21)`,
				x.ID, x.MergerID, string(x.Category), x.CustomCategory, x.ProvinceCode, x.Name, x.Vendor, x.Technology,
				int64(x.DeployedYear), string(x.Investment), x.Users, x.DBEngine, x.DBSizeMB, x.Datasets, x.Fields, x.Records,
				strings.Join(x.Functions, "\n"), x.Integrations, db.NullMicros(x.ContractEnd), x.Notes, db.Micros(tx.Now)); err != nil {
				return rowErr(sheetSystems, sr.row, err)
			}
			res.SystemsCreated++
		}
		for _, tr := range tasks {
			t := tr.t
			existing := ""
			if t.ID != "" {
				_ = tx.QueryRowContext(ctx, `SELECT id FROM merger_task WHERE id = $1 AND merger_id = $2`, t.ID, mergerID).Scan(&existing)
			}
			if existing != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE merger_task SET title = $1, category = $2, phase = $3, owner_agency = $4,
assignee = $5, start_day = $6, deadline = $7, status = $8, progress = $9, evidence = $10, version = version + 1, updated_at = $11
WHERE id = $12`, t.Title, string(t.Category), t.Phase, t.OwnerAgency, t.Assignee, db.NullMicros(t.Start), db.NullMicros(t.Deadline),
					string(t.Status), t.Progress, t.Evidence, db.Micros(tx.Now), existing); err != nil {
					return rowErr(sheetTasks, tr.row, err)
				}
				res.TasksUpdated++
				continue
			}
			t.DependsOn = nil // dependencies are kept by the pages, not the workbook
			if err := s.insertTask(ctx, tx, &t); err != nil {
				return rowErr(sheetTasks, tr.row, err)
			}
			res.TasksCreated++
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "merger.import", ObjectType: "merger", ObjectID: mergerID,
			Details: map[string]any{"systems_created": res.SystemsCreated, "systems_updated": res.SystemsUpdated,
				"tasks_created": res.TasksCreated, "tasks_updated": res.TasksUpdated}})
		return err
	})
	return res, err
}

// rowErr names the row a database refusal came from.
func rowErr(sheet string, row int, err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) && (ae.Kind == apperr.Invalid || ae.Kind == apperr.Conflict) {
		return &workbook.Error{Problems: []workbook.Problem{{Sheet: sheet, Row: row, Key: ae.Key, Args: ae.Args}}}
	}
	return err
}
