package merger_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/xuri/excelize/v2"

	"hopnhat/internal/merger"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/workbook"
)

func TestWorkbookRoundTrip(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s := merger.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		m := haiPhong(t, s)
		// The empty merger's workbook is the template: fill in one system and one task.
		var tpl bytes.Buffer
		if err := s.ExportWorkbook(ctx, m.ID, &tpl); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&tpl)
		if err != nil {
			t.Fatal(err)
		}
		f.SetSheetRow("Hệ thống", "A2", &[]any{"", "documents", "30", "Quản lý văn bản Hải Dương", "", ".NET", "2016", "leased", "6.200",
			"SQL Server", "900000", "", "", "2.100.000", "Văn bản đến; Văn bản đi", "", "31/12/2025", ""})
		f.SetSheetRow("Nhiệm vụ", "A2", &[]any{"", "Chuyển dữ liệu văn bản", "Quản lý văn bản", "documents", "", "Tổ công tác", "01/07/2025", "15/08/2025", "in_progress", "40%", ""})
		var in bytes.Buffer
		f.Write(&in)
		res, err := s.ImportWorkbook(ctx, m.ID, &in)
		if err != nil {
			t.Fatal(err)
		}
		if res.SystemsCreated != 1 || res.TasksCreated != 1 {
			t.Fatalf("import: got %+v", res)
		}
		sys, _ := s.Systems(ctx, m.ID, merger.CatDocuments)
		if len(sys) != 1 || sys[0].Users != 6200 || sys[0].Records != 2100000 || len(sys[0].Functions) != 2 || sys[0].ContractEnd.IsZero() {
			t.Fatalf("imported system: %+v", sys)
		}
		// Export, change, import: updated in place.
		var out bytes.Buffer
		if err := s.ExportWorkbook(ctx, m.ID, &out); err != nil {
			t.Fatal(err)
		}
		g, _ := excelize.OpenReader(&out)
		g.SetCellValue("Hệ thống", "I2", "6400")
		var again bytes.Buffer
		g.Write(&again)
		saved := bytes.Clone(again.Bytes())
		if res, err = s.ImportWorkbook(ctx, m.ID, &again); err != nil || res.SystemsUpdated != 1 || res.SystemsCreated != 0 || res.TasksUpdated != 1 {
			t.Fatalf("re-import: got %+v, %v", res, err)
		}
		if x, _ := s.System(ctx, sys[0].ID); x.Users != 6400 {
			t.Fatalf("updated users: got %d", x.Users)
		}
		// A bad workbook names every problem and changes nothing.
		h, err := excelize.OpenReader(bytes.NewReader(saved))
		if err != nil {
			t.Fatal(err)
		}
		h.SetSheetRow("Hệ thống", "A3", &[]any{"", "lgsp", "01", "", "", "", "năm ngoái", "gift"})
		h.SetSheetRow("Nhiệm vụ", "A3", &[]any{"", "", "", "", "", "", "", "32/13/2025", "xong", "150"})
		var bad bytes.Buffer
		h.Write(&bad)
		_, err = s.ImportWorkbook(ctx, m.ID, &bad)
		var we *workbook.Error
		if !errors.As(err, &we) {
			t.Fatalf("bad workbook: got %v", err)
		}
		want := map[string]bool{"Hệ thống/3/C": false, "Hệ thống/3/D": false, "Hệ thống/3/G": false, "Hệ thống/3/H": false,
			"Nhiệm vụ/3/B": false, "Nhiệm vụ/3/H": false, "Nhiệm vụ/3/I": false, "Nhiệm vụ/3/J": false}
		for _, p := range we.Problems {
			k := p.Sheet + "/" + string(rune('0'+p.Row)) + "/" + p.Column
			if _, ok := want[k]; ok {
				want[k] = true
			}
		}
		for k, seen := range want {
			if !seen {
				t.Errorf("no problem at %s; got %+v", k, we.Problems)
			}
		}
		if all, _ := s.Systems(ctx, m.ID, ""); len(all) != 1 {
			t.Fatalf("a bad workbook changed the inventory: %d systems", len(all))
		}
	})
}
