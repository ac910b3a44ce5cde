package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/register"
	"hopnhat/internal/org"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/procedure"
)

func generateCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "generate", Short: "sinh dữ liệu mẫu quy mô lớn để đo tải — realistic data at scale, for load tests"}
	var n, procs, wards int
	var seed uint64
	dossiers := &cobra.Command{
		Use:   "dossiers",
		Short: "sinh danh mục thủ tục và hồ sơ — a procedure catalogue and dossiers",
		Long: `Sinh danh mục thủ tục (mặc định 1.937) và hồ sơ tiếp nhận trong 18 tháng, ghi hàng loạt
(COPY trên PostgreSQL). Chỉ chạy trên hệ thống thủ tục còn trống. Cơ quan: các sở và UBND phường, xã
của tỉnh 31 lấy từ sổ cơ quan, thiếu thì tạo thêm.
Writes a procedure catalogue (1,937 by default) and dossiers received over 18 months, in bulk (COPY on
PostgreSQL), into an empty procedure system. Agencies come from the register (departments and ward
committees of province 31), and are added when missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cliActor(cmd.Context())
			d, err := openDB(ctx, cfg)
			if err != nil {
				return err
			}
			defer d.Close()
			var existing int
			if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM proc_procedure`).Scan(&existing); err != nil {
				return err
			}
			if existing > 0 {
				return fmt.Errorf("hệ thống thủ tục đã có dữ liệu; dùng cơ sở dữ liệu trống / the procedure system has data; use an empty database")
			}
			opt, err := generateAgencies(ctx, d, wards)
			if err != nil {
				return err
			}
			opt.Dossiers, opt.Procedures, opt.Seed = n, procs, seed
			out := cmd.OutOrStdout()
			start := time.Now()
			opt.Progress = func(done int) {
				el := time.Since(start)
				fmt.Fprintf(out, "  %d hồ sơ / dossiers, %.0f/s\n", done, float64(done)/el.Seconds())
			}
			res, err := procedure.Generate(ctx, d, opt)
			if err != nil {
				return err
			}
			el := time.Since(start)
			fmt.Fprintf(out, "đã sinh / generated: %d thủ tục / procedures, %d hồ sơ / dossiers (%d đang xử lý / open, %d trễ hạn / late), %d bước / steps, %d mã cũ / old codes in %s (%.0f hồ sơ/s)\n",
				res.Procedures, res.Dossiers, res.Open, res.Late, res.Steps, res.Aliases, el.Round(time.Millisecond), float64(res.Dossiers)/el.Seconds())
			if d.Dialect() == db.Postgres {
				// Statistics for the planner, and the visibility map that lets
				// the backlog counts read the partial index alone.
				for _, t := range []string{"proc_dossier", "proc_step", "proc_dossier_alias", "proc_stat_unit", "proc_stat_procedure"} {
					if _, err := d.ExecContext(ctx, `VACUUM ANALYZE `+t); err != nil {
						return err
					}
				}
			} else if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
				return err
			}
			return nil
		},
	}
	dossiers.Flags().IntVar(&n, "count", 1_000_000, "số hồ sơ / dossiers")
	dossiers.Flags().IntVar(&procs, "procedures", 1937, "số thủ tục / procedures")
	dossiers.Flags().IntVar(&wards, "wards", 114, "số phường, xã / wards")
	dossiers.Flags().Uint64Var(&seed, "seed", 1, "hạt giống ngẫu nhiên / random seed")
	cmd.AddCommand(dossiers)
	return cmd
}

// generateAgencies finds, or adds, the departments and ward committees of
// province 31 the generated dossiers go to.
func generateAgencies(ctx context.Context, d *db.DB, wards int) (procedure.GenerateOptions, error) {
	var opt procedure.GenerateOptions
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := org.NewService(d, log)
	list, err := o.List(ctx, org.Filter{Period: org.Current, ProvinceCode: "31", Limit: 5000})
	if err != nil {
		return opt, err
	}
	for _, a := range list {
		switch {
		case a.Kind == org.KindDepartment:
			opt.Departments = append(opt.Departments, a.ID)
		case a.Kind == org.KindWardCommittee && a.WardCode != "":
			opt.Wards = append(opt.Wards, procedure.WardAgency{WardCode: a.WardCode, AgencyID: a.ID})
		}
	}
	if len(opt.Departments) == 0 {
		for _, name := range []string{"Sở Tư pháp", "Sở Xây dựng", "Sở Nông nghiệp và Môi trường", "Sở Tài chính", "Sở Y tế"} {
			a, err := o.Create(ctx, org.Input{Name: name, Kind: org.KindDepartment, Period: org.Current, ProvinceCode: "31", ValidFrom: adminunit.ReformDate})
			if err != nil {
				return opt, err
			}
			opt.Departments = append(opt.Departments, a.ID)
		}
	}
	if len(opt.Wards) >= wards {
		return opt, nil
	}
	// Ward committees for the province's current wards when the unit
	// register is imported, otherwise for made-up codes.
	var units []*adminunit.Unit
	if idx, err := register.NewService(d, log).Index(ctx); err == nil {
		for _, u := range idx.Units(adminunit.LevelWard) {
			if u.ProvinceCode == "31" {
				units = append(units, u)
			}
		}
	}
	have := map[string]bool{}
	for _, w := range opt.Wards {
		have[w.WardCode] = true
	}
	for i := 0; len(opt.Wards) < wards; i++ {
		code := fmt.Sprintf("9%04d", i)
		name := "Ủy ban nhân dân phường " + code
		if i < len(units) {
			code, name = units[i].Code, "Ủy ban nhân dân "+strings.ToLower(units[i].Name[:1])+units[i].Name[1:]
		}
		if have[code] {
			continue
		}
		a, err := o.Create(ctx, org.Input{Name: name, Kind: org.KindWardCommittee, Period: org.Current, ProvinceCode: "31", WardCode: code,
			ValidFrom: adminunit.ReformDate})
		if err != nil {
			return opt, err
		}
		opt.Wards = append(opt.Wards, procedure.WardAgency{WardCode: code, AgencyID: a.ID})
	}
	return opt, nil
}
