package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata"
	"hopnhat/internal/adminunit/register"
	"hopnhat/internal/merger"
	"hopnhat/internal/org"
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
	if err := loadDemoAgencies(ctx, a, out); err != nil {
		return err
	}
	if err := loadDemoMerger(ctx, a, out); err != nil {
		return err
	}
	if err := loadDemoProcedures(ctx, a, out); err != nil {
		return err
	}
	if err := loadDemoGateway(ctx, a, out); err != nil {
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
			// The whole demo, as serve --demo loads it; on a database that
			// already has accounts they are left alone (and no password is
			// printed that would not work).
			return withDB(cmd, cfg, func(ctx context.Context, d *db.DB, _ *auth.Service) error {
				log, err := newLogger(cmd.ErrOrStderr(), &config{LogLevel: "warn", LogFormat: "text"})
				if err != nil {
					return err
				}
				a, err := newApp(d, cfg, log)
				if err != nil {
					return err
				}
				return loadDemo(ctx, a, cmd.OutOrStdout())
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

// demoAgency is one agency of the demo merger and, for the old ones, what
// became of it.
type demoAgency struct {
	key, parent string
	in          org.Input
	to          []string // keys of successors
	kind        org.LinkKind
	note        string
}

// demoAgencies is Hải Phòng + Hải Dương: the two old people's committees,
// some of their departments and district committees, and the merged city's
// counterparts. Identifier codes are left empty: the real ones are reissued
// by the merger and entered by its coordinators.
func demoAgencies() []demoAgency {
	reform := adminunit.ReformDate
	old := func(name string, k org.Kind, prov string) org.Input {
		return org.Input{Name: name, Kind: k, Period: org.Legacy, ProvinceCode: prov, ValidTo: reform}
	}
	cur := func(name string, k org.Kind, ward string) org.Input {
		return org.Input{Name: name, Kind: k, Period: org.Current, ProvinceCode: "31", WardCode: ward, ValidFrom: reform}
	}
	return []demoAgency{
		{key: "hp", in: cur("Ủy ban nhân dân thành phố Hải Phòng", org.KindProvinceCommittee, "")},
		{key: "hp.vp", parent: "hp", in: cur("Văn phòng Ủy ban nhân dân thành phố", org.KindDepartment, "")},
		{key: "hp.skhcn", parent: "hp", in: cur("Sở Khoa học và Công nghệ", org.KindDepartment, "")},
		{key: "hp.stc", parent: "hp", in: cur("Sở Tài chính", org.KindDepartment, "")},
		{key: "hp.snv", parent: "hp", in: cur("Sở Nội vụ", org.KindDepartment, "")},
		{key: "hp.lechan", parent: "hp", in: cur("Ủy ban nhân dân phường Lê Chân", org.KindWardCommittee, "11383")},
		{key: "hp.anbien", parent: "hp", in: cur("Ủy ban nhân dân phường An Biên", org.KindWardCommittee, "11407")},
		{key: "hp.ngoquyen", parent: "hp", in: cur("Ủy ban nhân dân phường Ngô Quyền", org.KindWardCommittee, "11329")},
		{key: "hp.haiduong", parent: "hp", in: cur("Ủy ban nhân dân phường Hải Dương", org.KindWardCommittee, "10525")},
		{key: "hp.thanhdong", parent: "hp", in: cur("Ủy ban nhân dân phường Thành Đông", org.KindWardCommittee, "10507")},
		{key: "hp.gialoc", parent: "hp", in: cur("Ủy ban nhân dân xã Gia Lộc", org.KindWardCommittee, "10999")},
		{key: "hp.giaphuc", parent: "hp", in: cur("Ủy ban nhân dân xã Gia Phúc", org.KindWardCommittee, "11050")},

		{key: "old.hp", in: old("Ủy ban nhân dân thành phố Hải Phòng (cũ)", org.KindProvinceCommittee, "31"), to: []string{"hp"}, kind: org.LinkMergedInto},
		{key: "old.hp.vp", parent: "old.hp", in: old("Văn phòng UBND thành phố Hải Phòng", org.KindDepartment, "31"), to: []string{"hp.vp"}, kind: org.LinkMergedInto},
		{key: "old.hp.skhcn", parent: "old.hp", in: old("Sở Khoa học và Công nghệ Hải Phòng", org.KindDepartment, "31"), to: []string{"hp.skhcn"}, kind: org.LinkMergedInto},
		{key: "old.hp.stc", parent: "old.hp", in: old("Sở Tài chính Hải Phòng", org.KindDepartment, "31"), to: []string{"hp.stc"}, kind: org.LinkMergedInto},
		{key: "old.hp.snv", parent: "old.hp", in: old("Sở Nội vụ Hải Phòng", org.KindDepartment, "31"), to: []string{"hp.snv"}, kind: org.LinkMergedInto},
		{key: "old.hp.q.lechan", parent: "old.hp", in: old("Ủy ban nhân dân quận Lê Chân", org.KindDistrictCommittee, "31"),
			to: []string{"hp.lechan", "hp.anbien"}, kind: org.LinkDissolved, note: "Cấp huyện kết thúc hoạt động; nhiệm vụ chuyển về UBND các phường"},
		{key: "old.hp.q.ngoquyen", parent: "old.hp", in: old("Ủy ban nhân dân quận Ngô Quyền", org.KindDistrictCommittee, "31"),
			to: []string{"hp.ngoquyen"}, kind: org.LinkDissolved, note: "Cấp huyện kết thúc hoạt động; nhiệm vụ chuyển về UBND các phường"},

		{key: "old.hd", in: old("Ủy ban nhân dân tỉnh Hải Dương", org.KindProvinceCommittee, "30"), to: []string{"hp"}, kind: org.LinkMergedInto},
		{key: "old.hd.vp", parent: "old.hd", in: old("Văn phòng UBND tỉnh Hải Dương", org.KindDepartment, "30"), to: []string{"hp.vp"}, kind: org.LinkMergedInto},
		{key: "old.hd.skhcn", parent: "old.hd", in: old("Sở Khoa học và Công nghệ Hải Dương", org.KindDepartment, "30"), to: []string{"hp.skhcn"}, kind: org.LinkMergedInto},
		{key: "old.hd.stc", parent: "old.hd", in: old("Sở Tài chính Hải Dương", org.KindDepartment, "30"), to: []string{"hp.stc"}, kind: org.LinkMergedInto},
		{key: "old.hd.snv", parent: "old.hd", in: old("Sở Nội vụ Hải Dương", org.KindDepartment, "30"), to: []string{"hp.snv"}, kind: org.LinkMergedInto},
		{key: "old.hd.tp", parent: "old.hd", in: old("Ủy ban nhân dân thành phố Hải Dương", org.KindDistrictCommittee, "30"),
			to: []string{"hp.haiduong", "hp.thanhdong"}, kind: org.LinkDissolved, note: "Nhiệm vụ chuyển về UBND các phường Hải Dương, Thành Đông và các phường lân cận"},
		{key: "old.hd.gialoc", parent: "old.hd", in: old("Ủy ban nhân dân huyện Gia Lộc", org.KindDistrictCommittee, "30"),
			to: []string{"hp.gialoc", "hp.giaphuc"}, kind: org.LinkDissolved, note: "Nhiệm vụ chuyển về UBND các xã"},
	}
}

// loadDemoAgencies fills an empty agency register with the demo merger.
func loadDemoAgencies(ctx context.Context, a *app, out io.Writer) error {
	if existing, err := a.org.List(ctx, org.Filter{Limit: 1}); err != nil || len(existing) > 0 {
		return err
	}
	ids := map[string]string{}
	list := demoAgencies()
	for _, d := range list {
		in := d.in
		in.ParentID = ids[d.parent]
		ag, err := a.org.Create(ctx, in)
		if err != nil {
			return fmt.Errorf("demo agency %s: %w", d.key, err)
		}
		ids[d.key] = ag.ID
	}
	for _, d := range list {
		for _, to := range d.to {
			if err := a.org.AddLink(ctx, org.Link{FromID: ids[d.key], ToID: ids[to], Kind: d.kind, Note: d.note}); err != nil {
				return fmt.Errorf("demo link %s → %s: %w", d.key, to, err)
			}
		}
	}
	fmt.Fprintf(out, "cơ quan mẫu: %d cơ quan và đơn vị kế thừa / demo agencies loaded\n", len(list))
	return nil
}

// demoSystem is one old province's shared system in the demo inventory.
type demoSystem struct {
	cat              merger.Category
	prov, name, tech string
	year             int
	inv              merger.Investment
	users            int64
	dbEngine         string
	dbMB             int64
	datasets, fields int64
	records          int64
	fns              int // how many of the category's usual functions it offers
	notes            string
}

// demoSystems are the two inventories the Hải Phòng + Hải Dương merger
// compared. The figures the press gave are used where there are any (the
// data warehouse, 114 bridge points, 41 LGSP services); the rest are
// illustrative, and the notes say so.
func demoSystems() []demoSystem {
	const ill = "Số liệu minh họa cho bản demo."
	return []demoSystem{
		{merger.CatDataCenter, "30", "Trung tâm dữ liệu tỉnh Hải Dương", "Ảo hóa VMware, lưu trữ SAN", 2021, merger.Purchased, 0, "", 0, 0, 0, 0, 5, ill},
		{merger.CatDataCenter, "31", "Trung tâm dữ liệu thành phố Hải Phòng", "Ảo hóa OpenStack", 2017, merger.Purchased, 0, "", 0, 0, 0, 0, 3, ill},
		{merger.CatIOC, "30", "Trung tâm điều hành thông minh (IOC) Hải Dương", "Nền tảng IOC, camera AI", 2022, merger.Leased, 350, "PostgreSQL", 120000, 0, 0, 0, 5, ill},
		{merger.CatIOC, "31", "IOC Hải Phòng", "Bảng điều khiển web", 2020, merger.Leased, 200, "SQL Server", 60000, 0, 0, 0, 3, ill},
		{merger.CatSOC, "30", "Trung tâm giám sát an toàn thông tin (SOC) Hải Dương", "SIEM, kết nối NCSC", 2022, merger.Leased, 25, "", 0, 0, 0, 0, 4, ill},
		{merger.CatSOC, "31", "SOC Hải Phòng", "SIEM", 2019, merger.Leased, 20, "", 0, 0, 0, 0, 2, ill},
		{merger.CatVideoConference, "30", "Hội nghị truyền hình tới 114 điểm cầu cấp xã", "MCU phần cứng, mã hóa", 2023, merger.Purchased, 1200, "", 0, 0, 0, 0, 4,
			"Kết nối 114 điểm cầu cấp xã. " + ill},
		{merger.CatVideoConference, "31", "Hội nghị truyền hình Hải Phòng", "Phần mềm họp trực tuyến", 2020, merger.Leased, 800, "", 0, 0, 0, 0, 2, ill},
		{merger.CatDataNetwork, "30", "Mạng truyền số liệu chuyên dùng Hải Dương", "Mạng cấp II tới xã", 2021, merger.Leased, 0, "", 0, 0, 0, 0, 3, ill},
		{merger.CatDataNetwork, "31", "Mạng truyền số liệu chuyên dùng Hải Phòng", "Mạng cấp II", 2018, merger.Leased, 0, "", 0, 0, 0, 0, 2, ill},
		{merger.CatProcedures, "31", "Hệ thống thông tin giải quyết TTHC Hải Phòng", "Java, Oracle", 2019, merger.Leased, 4800, "Oracle", 950000, 0, 0, 2400000, 7, ill},
		{merger.CatProcedures, "30", "Hệ thống một cửa điện tử Hải Dương", ".NET, SQL Server", 2018, merger.Leased, 3100, "SQL Server", 610000, 0, 0, 1500000, 5, ill},
		{merger.CatPortal, "31", "Cổng thông tin điện tử thành phố Hải Phòng", "CMS, mẫu cho cấp xã", 2016, merger.Purchased, 600, "SQL Server", 250000, 0, 0, 0, 5,
			"Có mẫu trang cho cấp xã; cổng cũ giữ để tra cứu. " + ill},
		{merger.CatPortal, "30", "Cổng thông tin điện tử tỉnh Hải Dương", "CMS", 2015, merger.Purchased, 400, "MySQL", 180000, 0, 0, 0, 3, ill},
		{merger.CatCitizenApp, "31", "Ứng dụng công dân số Hải Phòng", "Ứng dụng di động", 2022, merger.Leased, 180000, "PostgreSQL", 40000, 0, 0, 0, 5,
			"Phản ánh, đăng ký dịch vụ, tra cứu hồ sơ. " + ill},
		{merger.CatFeedback, "31", "Tổng đài 1022 Hải Phòng", "Tổng đài, web, ứng dụng", 2021, merger.Leased, 150, "PostgreSQL", 30000, 0, 0, 210000, 5, ill},
		{merger.CatFeedback, "30", "Hệ thống phản ánh kiến nghị Hải Dương", "Web", 2020, merger.SelfBuilt, 80, "MySQL", 8000, 0, 0, 60000, 3, ill},
		{merger.CatWarehouse, "31", "Kho dữ liệu dùng chung thành phố Hải Phòng", "Kho dữ liệu, dữ liệu mở", 2021, merger.Leased, 300, "PostgreSQL", 85000, 192, 1941, 437621, 5,
			"192 bộ dữ liệu, 1.941 trường, 437.621 bản ghi; đã công khai 50/98 bộ dữ liệu mở."},
		{merger.CatWarehouse, "30", "Kho dữ liệu Hải Dương", "Kho dữ liệu", 2022, merger.Leased, 120, "PostgreSQL", 30000, 64, 700, 120000, 3, ill},
		{merger.CatDocuments, "31", "Quản lý văn bản và điều hành Hải Phòng", "Java, PostgreSQL, chữ ký số", 2017, merger.Leased, 9500, "PostgreSQL", 1400000, 0, 0, 3800000, 6, ill},
		{merger.CatDocuments, "30", "Quản lý văn bản và điều hành Hải Dương", ".NET, SQL Server", 2016, merger.Leased, 6200, "SQL Server", 900000, 0, 0, 2100000, 5, ill},
		{merger.CatEmail, "31", "Thư điện tử công vụ Hải Phòng", "Máy chủ thư, SSO", 2015, merger.Purchased, 11000, "", 0, 0, 0, 0, 4, ill},
		{merger.CatEmail, "30", "Thư điện tử công vụ Hải Dương", "Máy chủ thư", 2014, merger.Purchased, 7000, "", 0, 0, 0, 0, 2, ill},
		{merger.CatLGSP, "31", "Nền tảng tích hợp, chia sẻ dữ liệu (LGSP) Hải Phòng", "ESB, API gateway", 2019, merger.Leased, 0, "", 0, 0, 0, 0, 5,
			"41 dịch vụ tích hợp. " + ill},
		{merger.CatLGSP, "30", "LGSP Hải Dương", "ESB", 2020, merger.Leased, 0, "", 0, 0, 0, 0, 4, "Giữ làm dự phòng đến khi chuyển xong các tích hợp. " + ill},
	}
}

// loadDemoMerger records the Hải Phòng + Hải Dương merger and its inventory
// in an empty workspace.
func loadDemoMerger(ctx context.Context, a *app, out io.Writer) error {
	if existing, err := a.merger.Mergers(ctx); err != nil || len(existing) > 0 {
		return err
	}
	m, err := a.merger.CreateMerger(ctx, merger.MergerInput{Name: "Thành phố Hải Phòng (Hải Phòng + Hải Dương)", ProvinceCode: "31",
		EffectiveOn: adminunit.ReformDate, Sources: []merger.Source{{ProvinceCode: "31", Name: "Hải Phòng"}, {ProvinceCode: "30", Name: "Hải Dương"}}})
	if err != nil {
		return fmt.Errorf("demo merger: %w", err)
	}
	for _, d := range demoSystems() {
		fns := merger.Checklist(d.cat)
		fns = fns[:min(d.fns, len(fns))]
		x, err := a.merger.CreateSystem(ctx, merger.System{MergerID: m.ID, Category: d.cat, ProvinceCode: d.prov, Name: d.name,
			Technology: d.tech, DeployedYear: d.year, Investment: d.inv, Users: d.users, DBEngine: d.dbEngine, DBSizeMB: d.dbMB,
			Datasets: d.datasets, Fields: d.fields, Records: d.records, Functions: fns, Notes: d.notes})
		if err != nil {
			return fmt.Errorf("demo system %s: %w", d.name, err)
		}
		dec := demoDecision(d.cat, d.prov)
		dec.SystemID = x.ID
		if _, err := a.merger.Decide(ctx, dec, 0); err != nil {
			return fmt.Errorf("demo decision %s: %w", d.name, err)
		}
	}
	if err := loadDemoRoadmap(ctx, a, m.ID); err != nil {
		return err
	}
	// The three-way HCMC merger, whose published plan gave the template its
	// dates (e-mail lists 10/5, accounts 10/6, document management 15/6,
	// 15/8 and 1/9, the 1022 hotline 1/9, phase 2 by the end of 2025).
	hcm, err := a.merger.CreateMerger(ctx, merger.MergerInput{Name: "Thành phố Hồ Chí Minh (TP.HCM + Bình Dương + Bà Rịa – Vũng Tàu)",
		ProvinceCode: "79", EffectiveOn: adminunit.ReformDate, Sources: []merger.Source{{ProvinceCode: "79", Name: "TP. Hồ Chí Minh"},
			{ProvinceCode: "74", Name: "Bình Dương"}, {ProvinceCode: "77", Name: "Bà Rịa – Vũng Tàu"}}})
	if err != nil {
		return fmt.Errorf("demo merger HCMC: %w", err)
	}
	if _, err := a.merger.ApplyTemplate(ctx, hcm.ID); err != nil {
		return fmt.Errorf("demo roadmap HCMC: %w", err)
	}
	fmt.Fprintf(out, "hợp nhất mẫu: Hải Phòng + Hải Dương, %d hệ thống, lộ trình / demo merger loaded\n", len(demoSystems()))
	return nil
}

// loadDemoRoadmap fills the demo merger's roadmap from the template and
// records where it stands: the 2025 steps done, specialised data and the
// commune IT model still under way, so past their deadlines.
func loadDemoRoadmap(ctx context.Context, a *app, mergerID string) error {
	if _, err := a.merger.ApplyTemplate(ctx, mergerID); err != nil {
		return fmt.Errorf("demo roadmap: %w", err)
	}
	tasks, err := a.merger.Tasks(ctx, mergerID)
	if err != nil {
		return err
	}
	underway := map[string]int{"Dữ liệu chuyên ngành": 60, "Giai đoạn 2": 30}
	// The lead agencies, by phase; the Department of Science and Technology
	// leads the rest.
	leads := map[string]string{"Quản lý văn bản": "Văn phòng Ủy ban nhân dân thành phố", "Phản ánh kiến nghị": "Văn phòng Ủy ban nhân dân thành phố",
		"Giai đoạn 2": "Sở Nội vụ"}
	owners, err := a.org.List(ctx, org.Filter{Period: org.Current, ProvinceCode: "31"})
	if err != nil {
		return err
	}
	ownerID := func(phase string) string {
		name, ok := leads[phase]
		if !ok {
			name = "Sở Khoa học và Công nghệ"
		}
		for _, o := range owners {
			if o.Name == name {
				return o.ID
			}
		}
		return "" // the register was filled before the demo
	}
	for _, t := range tasks {
		t.OwnerAgency = ownerID(t.Phase)
		if p, ok := underway[t.Phase]; ok {
			t.Status, t.Progress = merger.InProgress, p
		} else {
			t.Status, t.Evidence = merger.Done, "Báo cáo tiến độ của tổ công tác (minh họa)."
		}
		if _, err := a.merger.UpdateTask(ctx, t.ID, t, t.Version); err != nil {
			return fmt.Errorf("demo task %s: %w", t.Title, err)
		}
	}
	return nil
}

// demoDecision is what the merger decided for the system of province prov in
// category cat, as the press described it. Document numbers were not
// published; the rationale says so.
func demoDecision(cat merger.Category, prov string) merger.Decision {
	const basis = "Theo kết quả rà soát 6 tiêu chí. Số, ngày văn bản quyết định: bổ sung khi có."
	// Hải Dương's system became the shared one in these categories; Hải
	// Phòng's everywhere else.
	keptFromHaiDuong := []merger.Category{merger.CatDataCenter, merger.CatIOC, merger.CatSOC, merger.CatVideoConference, merger.CatDataNetwork}
	keepHD := slices.Contains(keptFromHaiDuong, cat)
	kept := (prov == "30") == keepHD
	switch {
	case kept:
		return merger.Decision{Outcome: merger.Keep, Rationale: basis}
	case cat == merger.CatLGSP:
		return merger.Decision{Outcome: merger.Backup, Until: time.Date(2025, 8, 30, 17, 0, 0, 0, time.UTC), // 31/8 in Vietnam
			Rationale: "Giữ làm dự phòng đến khi chuyển xong các tích hợp (trong tháng 8/2025). " + basis}
	case cat == merger.CatPortal:
		return merger.Decision{Outcome: merger.ReadOnly, Rationale: "Cổng cũ giữ để tra cứu; cấp xã dùng mẫu trang mới. " + basis}
	}
	return merger.Decision{Outcome: merger.MigrateRetire, Rationale: basis}
}
