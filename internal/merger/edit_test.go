package merger_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"hopnhat/internal/merger"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/workbook"

	"github.com/xuri/excelize/v2"
)

func TestEditAndDeleteMerger(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s := merger.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		m := haiPhong(t, s)
		if _, err := s.CreateSystem(ctx, merger.System{MergerID: m.ID, Category: merger.CatPortal, ProvinceCode: "30", Name: "Cổng Hải Dương"}); err != nil {
			t.Fatal(err)
		}
		in := merger.MergerInput{Name: "Thành phố Hải Phòng (mới)", ProvinceCode: "31", EffectiveOn: m.EffectiveOn,
			Sources: []merger.Source{{ProvinceCode: "30", Name: "Tỉnh Hải Dương"}, {ProvinceCode: "31", Name: "Hải Phòng"}}}
		up, err := s.UpdateMerger(ctx, m.ID, in, m.Version)
		if err != nil {
			t.Fatal(err)
		}
		if up.Version != 2 || up.Name != in.Name || len(up.Sources) != 2 || up.Sources[0].Name != "Tỉnh Hải Dương" {
			t.Fatalf("renamed and reordered: got %+v", up)
		}
		if _, err := s.UpdateMerger(ctx, m.ID, in, m.Version); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a stale save: got %v, want Conflict", err)
		}
		if same, err := s.UpdateMerger(ctx, m.ID, in, up.Version); err != nil || same.Version != up.Version {
			t.Fatalf("a save that changes nothing: got version %d (%v), want %d", same.Version, err, up.Version)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'merger.update'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("audited updates: got %d (%v), want 1", n, err)
		}
		// Hải Dương has a system: it cannot be taken out; a new old
		// province can be added.
		drop := in
		drop.Sources = []merger.Source{{ProvinceCode: "31", Name: "Hải Phòng"}}
		if _, err := s.UpdateMerger(ctx, m.ID, drop, up.Version); !fieldErr(err, "sources") {
			t.Fatalf("taking out a province with systems: got %v", err)
		}
		add := in
		add.Sources = append(add.Sources, merger.Source{ProvinceCode: "22", Name: "Quảng Ninh (thử)"})
		if up, err = s.UpdateMerger(ctx, m.ID, add, up.Version); err != nil || len(up.Sources) != 3 {
			t.Fatalf("adding an old province: got %+v, %v", up, err)
		}
		// A merger into a province another merger has is refused on the field.
		other, err := s.CreateMerger(ctx, merger.MergerInput{Name: "Tỉnh Ninh Bình", ProvinceCode: "37", Sources: []merger.Source{{ProvinceCode: "37", Name: "Ninh Bình"}}})
		if err != nil {
			t.Fatal(err)
		}
		clash := merger.MergerInput{Name: other.Name, ProvinceCode: "31", Sources: other.Sources}
		if _, err := s.UpdateMerger(ctx, other.ID, clash, other.Version); !fieldErr(err, "province_code") {
			t.Fatalf("moving onto a taken province: got %v", err)
		}

		if err := s.DeleteMerger(ctx, m.ID, up.Version); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("deleting a merger with systems: got %v, want Conflict", err)
		}
		if err := s.DeleteMerger(ctx, other.ID, other.Version+1); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("deleting with a wrong version: got %v, want Conflict", err)
		}
		if err := s.SetWeights(ctx, other.ID, map[merger.Criterion]int{merger.CritFunctions: 3}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteMerger(ctx, other.ID, other.Version); err != nil {
			t.Fatalf("deleting an empty merger: %v", err)
		}
		if _, err := s.Merger(ctx, other.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("deleted merger: got %v, want NotFound", err)
		}
		var details string
		if err := d.QueryRowContext(ctx, `SELECT details FROM audit_log WHERE action = 'merger.delete'`).Scan(&details); err != nil ||
			!strings.Contains(details, "Ninh Bình") {
			t.Fatalf("deletion audited with what was deleted: got %s (%v)", details, err)
		}
	})
}

// agencies is a register with the merged city's agencies.
type agencies []merger.AgencyRef

func (a agencies) Owners(_ context.Context, province string) ([]merger.AgencyRef, error) {
	if province != "31" {
		return nil, nil
	}
	return a, nil
}

func TestTaskOwnersFromTheRegister(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s := merger.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		s.UseAgencies(agencies{{ID: "ag_skhcn", Name: "Sở Khoa học và Công nghệ"}, {ID: "ag_snv", Name: "Sở Nội vụ"}})
		m := haiPhong(t, s)
		if _, err := s.CreateTask(ctx, merger.Task{MergerID: m.ID, Title: "Lập danh sách thư", OwnerAgency: "ag_nope"}); !fieldErr(err, "owner_agency") {
			t.Fatalf("an agency the register lacks: got %v", err)
		}
		deadline := time.Date(2025, 7, 31, 17, 0, 0, 0, time.UTC)
		for _, tk := range []merger.Task{
			{MergerID: m.ID, Title: "Lập danh sách thư", OwnerAgency: "ag_skhcn", Status: merger.Done},
			{MergerID: m.ID, Title: "Chuyển tích hợp", OwnerAgency: "ag_skhcn", Progress: 50, Deadline: deadline},
			{MergerID: m.ID, Title: "Giai đoạn 2", OwnerAgency: "ag_snv", Progress: 10},
			{MergerID: m.ID, Title: "Chưa giao"},
		} {
			if _, err := s.CreateTask(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		ts, err := s.Tasks(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]string{"ag_skhcn": "Sở Khoa học và Công nghệ", "ag_snv": "Sở Nội vụ"}
		got := merger.AgencyProgress(ts, time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), names)
		if len(got) != 3 {
			t.Fatalf("groups: got %+v", got)
		}
		// By name, the unassigned tasks last.
		if got[0].Name != "Sở Khoa học và Công nghệ" || got[0].Tasks != 2 || got[0].Done != 1 || got[0].Progress != 75 || got[0].Overdue != 1 {
			t.Errorf("first agency: got %+v", got[0])
		}
		if got[1].Name != "Sở Nội vụ" || got[1].Progress != 10 || got[2].Key != "" || got[2].Tasks != 1 {
			t.Errorf("the rest: got %+v", got[1:])
		}

		// A workbook names the agency; the import reads the name, with or
		// without diacritics, and refuses one the register lacks.
		var buf bytes.Buffer
		if err := s.ExportWorkbook(ctx, m.ID, &buf); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := f.GetCellValue("Nhiệm vụ", "E4"); v != "Sở Nội vụ" {
			t.Fatalf("the workbook names the agency rather than its id: got %q", v)
		}
		f.Close()
		res, err := s.ImportWorkbook(ctx, m.ID, bytes.NewReader(buf.Bytes()))
		if err != nil || res.TasksUpdated != 4 {
			t.Fatalf("reimport: got %+v, %v", res, err)
		}
		if ts2, _ := s.Tasks(ctx, m.ID); ts2[2].OwnerAgency != ts[2].OwnerAgency {
			t.Fatalf("the owner read back: got %q, want %q", ts2[2].OwnerAgency, ts[2].OwnerAgency)
		}
		wb := taskWorkbook(t, [][]string{{"Tên", "Cơ quan chủ trì"}, {"Một", "so noi vu"}, {"Hai", "Sở Giáo dục"}})
		_, err = s.ImportWorkbook(ctx, m.ID, wb)
		var we *workbook.Error
		if !errors.As(err, &we) || len(we.Problems) != 1 || we.Problems[0].Row != 3 || we.Problems[0].Column != "B" {
			t.Fatalf("an unknown agency in a workbook: got %v", err)
		}
	})
}

// taskWorkbook is a workbook with only a tasks sheet of these rows.
func taskWorkbook(t *testing.T, rows [][]string) *bytes.Reader {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if _, err := f.NewSheet("Nhiệm vụ"); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Nhiệm vụ", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}
