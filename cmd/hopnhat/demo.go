package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"hopnhat/internal/adminunit/refdata"
	"hopnhat/internal/adminunit/register"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
)

// demoUsers are the accounts of the demo merger (Hải Phòng + Hải Dương): one per
// role, with scopes as the merged city would give them.
var demoUsers = []auth.NewUser{
	{Username: "admin", FullName: "Quản trị hệ thống", Role: reqctx.RoleAdmin, Scope: reqctx.Scope{Kind: reqctx.ScopeProvince}, Email: "quantri@haiphong.gov.vn"},
	{Username: "dieuphoi", FullName: "Nguyễn Văn Hùng", Role: reqctx.RoleCoordinator, Scope: reqctx.Scope{Kind: reqctx.ScopeAgency, Code: "SKHCN"}, Email: "hungnv@haiphong.gov.vn"},
	{Username: "motcua.lechan", FullName: "Trần Thị Thu Hà", Role: reqctx.RoleOfficer, Scope: reqctx.Scope{Kind: reqctx.ScopeWard, Code: "11383"}, Email: "hattt@haiphong.gov.vn"},
	{Username: "motcua.haiduong", FullName: "Phạm Đức Thắng", Role: reqctx.RoleOfficer, Scope: reqctx.Scope{Kind: reqctx.ScopeWard, Code: "10525"}, Email: "thangpd@haiphong.gov.vn"},
	{Username: "lanhdao", FullName: "Lê Quang Minh", Role: reqctx.RoleLeader, Scope: reqctx.Scope{Kind: reqctx.ScopeProvince}, Email: "minhlq@haiphong.gov.vn"},
	{Username: "xem", FullName: "Đỗ Thị Ngọc Ánh", Role: reqctx.RoleViewer, Scope: reqctx.Scope{Kind: reqctx.ScopeProvince}},
}

// loadDemo fills an empty database with the demo merger's data. On a database
// that already has accounts it changes nothing, so --demo is safe to repeat.
func loadDemo(ctx context.Context, a *app, out io.Writer) error {
	if err := loadDemoUnits(ctx, a, out); err != nil {
		return err
	}
	n, err := a.auth.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintln(out, "dữ liệu mẫu: cơ sở dữ liệu đã có tài khoản, bỏ qua / demo data: accounts exist, skipped")
		return nil
	}
	return createDemoUsers(ctx, a.auth, out)
}

func createDemoUsers(ctx context.Context, s *auth.Service, out io.Writer) error {
	pw := generatePassword()
	for _, u := range demoUsers {
		u.Password = pw
		if _, err := s.CreateUser(ctx, u); err != nil && !apperr.Is(err, apperr.Conflict) {
			return err
		}
	}
	fmt.Fprintf(out, `Dữ liệu mẫu Hải Phòng + Hải Dương đã nạp / demo data loaded.
Tài khoản mẫu / demo accounts: admin, dieuphoi, motcua.lechan, motcua.haiduong, lanhdao, xem
  mật khẩu chung / shared password: %s
`, pw)
	return nil
}

func demoCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "demo", Short: "dữ liệu mẫu — demo data"}
	cmd.AddCommand(&cobra.Command{
		Use:   "load",
		Short: "nạp dữ liệu mẫu Hải Phòng + Hải Dương — load the Hải Phòng + Hải Dương demo",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, func(ctx context.Context, _ *db.DB, s *auth.Service) error {
				return createDemoUsers(ctx, s, cmd.OutOrStdout())
			})
		},
	})
	return cmd
}

// conventionalUnitsDir is where the official lists sit beside a checkout of
// the repository; the demo looks there when --adminunits-dir is not given.
const conventionalUnitsDir = "../shared/data/adminunits"

// loadDemoUnits imports the administrative-unit register for the demo when
// the official lists are at hand and nothing was imported yet; without them
// the demo still runs and the pages say how to import.
func loadDemoUnits(ctx context.Context, a *app, out io.Writer) error {
	if _, err := a.units.Index(ctx); err == nil {
		return nil
	} else if !errors.Is(err, register.ErrNotImported) {
		return err
	}
	dir := a.cfg.AdminUnitsDir
	if dir == "" {
		if _, err := os.Stat(filepath.Join(conventionalUnitsDir, refdata.FileMapping)); err != nil {
			fmt.Fprintln(out, "danh mục ĐVHC: không thấy, bỏ qua (đặt HOPNHAT_ADMINUNITS_DIR) / administrative units: lists not found, skipped (set HOPNHAT_ADMINUNITS_DIR)")
			return nil
		}
		dir = conventionalUnitsDir
	}
	reg, _, err := refdata.Load(os.DirFS(dir))
	if err != nil {
		return explain(err)
	}
	res, err := a.units.Import(ctx, reg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "danh mục ĐVHC đã nạp từ %s: %d đơn vị, %d liên kết / administrative units imported\n", dir, res.UnitsInserted, res.LinksInserted)
	return nil
}
