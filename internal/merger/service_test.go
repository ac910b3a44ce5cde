package merger_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"hopnhat/internal/merger"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

var modules = []db.Module{audit.Migrations, merger.Migrations}

var ctx = reqctx.WithActor(context.Background(), "user:dieuphoi")

func haiPhong(t *testing.T, s *merger.Service) merger.Merger {
	t.Helper()
	m, err := s.CreateMerger(ctx, merger.MergerInput{Name: "Thành phố Hải Phòng", ProvinceCode: "31",
		EffectiveOn: time.Date(2025, 6, 30, 17, 0, 0, 0, time.UTC),
		Sources:     []merger.Source{{ProvinceCode: "31", Name: "Hải Phòng"}, {ProvinceCode: "30", Name: "Hải Dương"}}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInventory(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s := merger.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		m := haiPhong(t, s)
		if _, err := s.CreateMerger(ctx, merger.MergerInput{Name: "Lặp", ProvinceCode: "31", Sources: []merger.Source{{ProvinceCode: "31", Name: "x"}}}); !fieldErr(err, "province_code") {
			t.Fatalf("a second merger into the same province: got %v", err)
		}
		got, err := s.Merger(ctx, m.ID)
		if err != nil || len(got.Sources) != 2 || got.Sources[0].Name != "Hải Phòng" || got.Sources[1].Name != "Hải Dương" {
			t.Fatalf("merger: got %+v, %v", got, err)
		}
		sys := merger.System{MergerID: m.ID, Category: merger.CatDocuments, ProvinceCode: "30", Name: "Hệ thống quản lý văn bản và điều hành",
			Vendor: "VNPT", Technology: "Java, PostgreSQL", DeployedYear: 2018, Investment: merger.Leased, Users: 5200,
			DBEngine: "PostgreSQL", DBSizeMB: 820000, Functions: []string{"Văn bản đến", "Văn bản đi", "Văn bản đến", " "}}
		x, err := s.CreateSystem(ctx, sys)
		if err != nil {
			t.Fatal(err)
		}
		if len(x.Functions) != 2 {
			t.Fatalf("functions deduplicated and trimmed: got %q", x.Functions)
		}
		// Two coordinators: the second save with the old version is refused.
		x2 := x
		x2.Users = 5400
		up, err := s.UpdateSystem(ctx, x.ID, x2, x.Version)
		if err != nil || up.Users != 5400 || up.Version != 2 {
			t.Fatalf("update: got %+v, %v", up, err)
		}
		if _, err := s.UpdateSystem(ctx, x.ID, x2, x.Version); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("stale update: got %v, want Conflict", err)
		}
		if same, err := s.UpdateSystem(ctx, x.ID, up, up.Version); err != nil || same.Version != up.Version {
			t.Fatalf("saving what is stored: got version %d (%v), want %d kept", same.Version, err, up.Version)
		}
		var details string
		if err := d.QueryRowContext(ctx, `SELECT details FROM audit_log WHERE action = 'merger.system.update'`).Scan(&details); err != nil ||
			!strings.Contains(details, `"users":{"from":5200,"to":5400}`) {
			t.Fatalf("update audited with its changes: got %s (%v)", details, err)
		}
		for name, tc := range map[string]struct {
			mut  func(*merger.System)
			want string
		}{
			"province outside the merger": {func(x *merger.System) { x.ProvinceCode = "01" }, "province_code"},
			"unknown category":            {func(x *merger.System) { x.Category = "erp" }, "category"},
			"custom without a name":       {func(x *merger.System) { x.Category = merger.CatCustom }, "custom_category"},
			"year from the future":        {func(x *merger.System) { x.DeployedYear = 3025 }, "deployed_year"},
			"negative users":              {func(x *merger.System) { x.Users = -1 }, "users"},
			"unknown investment":          {func(x *merger.System) { x.Investment = "gift" }, "investment"},
			"no name":                     {func(x *merger.System) { x.Name = " " }, "name"},
		} {
			bad := sys
			tc.mut(&bad)
			if _, err := s.CreateSystem(ctx, bad); !fieldErr(err, tc.want) {
				t.Errorf("%s: got %v, want a %s field error", name, err, tc.want)
			}
		}
		list, err := s.Systems(ctx, m.ID, merger.CatDocuments)
		if err != nil || len(list) != 1 {
			t.Fatalf("systems: got %d, %v", len(list), err)
		}
		if err := s.DeleteSystem(ctx, x.ID, 1); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("delete with a stale version: got %v", err)
		}
		if err := s.DeleteSystem(ctx, x.ID, 2); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSystem(ctx, x.ID, 2); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("delete twice: got %v", err)
		}
		if len(merger.Checklist(merger.CatProcedures)) == 0 {
			t.Fatal("the procedures checklist is empty")
		}
	})
}

func fieldErr(err error, field string) bool {
	var ae *apperr.Error
	return errors.As(err, &ae) && ae.Field[field] != ""
}

func TestChecklistsCoverEveryCategory(t *testing.T) {
	for _, c := range merger.Categories {
		if c != merger.CatCustom && len(merger.Checklist(c)) == 0 {
			t.Errorf("category %s has no usual functions", c)
		}
	}
}
