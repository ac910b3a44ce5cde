package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata"
	"hopnhat/internal/adminunit/register"
	"hopnhat/internal/platform/web"
)

// addressIndex returns the index the address commands convert with: the
// official lists in --adminunits-dir when given, read directly; otherwise
// the register imported into the database, with the officers' street rules.
func addressIndex(ctx context.Context, cfg *config) (*adminunit.Index, error) {
	if cfg.AdminUnitsDir != "" {
		reg, _, err := refdata.Load(os.DirFS(cfg.AdminUnitsDir))
		if err != nil {
			return nil, err
		}
		return adminunit.NewIndex(reg)
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return register.NewService(d, slog.New(slog.DiscardHandler)).Index(ctx)
}

func adminunitCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "adminunit", Short: "danh mục đơn vị hành chính — administrative-unit register"}
	var dir string
	imp := &cobra.Command{
		Use:   "import",
		Short: "nạp danh mục chính thức — import the official lists",
		Long: `Nạp danh mục đơn vị hành chính chính thức (GSO, bản đồ sáp nhập, bảng chuyển đổi) từ thư mục --dir
(mặc định HOPNHAT_ADMINUNITS_DIR). Chạy lại sẽ cập nhật tại chỗ, không tạo bản trùng; căn cứ pháp lý do quản trị viên sửa được giữ nguyên.
Imports the official administrative-unit lists from --dir; re-running updates in place, keeping admin-edited legal bases.

Ví dụ / example:  hopnhat adminunit import --dir ../shared/data/adminunits`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				dir = cfg.AdminUnitsDir
			}
			if dir == "" {
				return errors.New("hãy chỉ thư mục danh mục bằng --dir hoặc HOPNHAT_ADMINUNITS_DIR — give the lists' directory with --dir or HOPNHAT_ADMINUNITS_DIR")
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return fmt.Errorf("không mở được thư mục %s — cannot open directory %s", dir, dir)
			}
			reg, rep, err := refdata.Load(os.DirFS(dir))
			printReport(cmd.OutOrStdout(), rep)
			if err != nil {
				return err
			}
			ctx := cliActor(cmd.Context())
			d, err := openDB(ctx, cfg)
			if err != nil {
				return err
			}
			defer d.Close()
			res, err := register.NewService(d, slog.New(slog.DiscardHandler)).Import(ctx, reg)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Đơn vị: thêm %d, cập nhật %d. Liên kết: thêm %d, cập nhật %d (giữ %d căn cứ pháp lý đã sửa). Tên khác: thêm %d.\n",
				res.UnitsInserted, res.UnitsUpdated, res.LinksInserted, res.LinksUpdated, res.BasisKept, res.AliasesInserted)
			fmt.Fprintf(cmd.OutOrStdout(), "Units: %d inserted, %d updated. Links: %d inserted, %d updated (%d edited legal bases kept). Aliases: %d new.\n",
				res.UnitsInserted, res.UnitsUpdated, res.LinksInserted, res.LinksUpdated, res.BasisKept, res.AliasesInserted)
			return nil
		},
	}
	imp.Flags().StringVar(&dir, "dir", "", "thư mục danh mục / the lists' directory (default HOPNHAT_ADMINUNITS_DIR)")
	cmd.AddCommand(imp, adminunitBasisCmd(cfg))
	return cmd
}

func adminunitBasisCmd(cfg *config) *cobra.Command {
	var province, basis string
	var replace bool
	cmd := &cobra.Command{
		Use:   "basis",
		Short: "ghi căn cứ pháp lý cho mọi xã, phường của một tỉnh — record the legal basis for a province's wards",
		Long: `Ghi một căn cứ pháp lý (nghị quyết của UBTVQH về sắp xếp ĐVHC cấp xã) cho mọi liên kết tới các xã, phường
của tỉnh mới --province; căn cứ đã sửa tay được giữ, trừ khi có --replace.
Records one legal basis on every link into the wards of the new province --province; hand-edited bases
are kept unless --replace is given.

Ví dụ / example:  hopnhat adminunit basis --province 31 --basis "Nghị quyết số …/NQ-UBTVQH15"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cliActor(cmd.Context())
			d, err := openDB(ctx, cfg)
			if err != nil {
				return err
			}
			defer d.Close()
			n, err := register.NewService(d, slog.New(slog.DiscardHandler)).SetProvinceBasis(ctx, province, basis, replace)
			if err != nil {
				return explain(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "đã ghi cho %d liên kết / %d links updated\n", n, n)
			return nil
		},
	}
	cmd.Flags().StringVar(&province, "province", "", "mã tỉnh mới (2 chữ số) / new province code (2 digits)")
	cmd.Flags().StringVar(&basis, "basis", "", "căn cứ pháp lý / legal basis")
	cmd.Flags().BoolVar(&replace, "replace", false, "ghi đè cả căn cứ đã sửa tay / also replace hand-edited bases")
	_ = cmd.MarkFlagRequired("province")
	_ = cmd.MarkFlagRequired("basis")
	return cmd
}

// printReport writes rows read, loaded and skipped (with reasons) per file.
func printReport(w io.Writer, rep refdata.Report) {
	cat, err := web.PlatformCatalog()
	if err != nil || cat.Load(register.Catalog()) != nil {
		return
	}
	l := cat.For(web.Vietnamese)
	for _, f := range rep {
		fmt.Fprintf(w, "%s: đọc %d dòng, nạp %d, bỏ qua %d — read %d, loaded %d, skipped %d\n",
			f.File, f.Read, f.Loaded, len(f.Skipped), f.Read, f.Loaded, len(f.Skipped))
		for i, s := range f.Skipped {
			if i == 20 {
				fmt.Fprintf(w, "  … và %d dòng khác / and %d more\n", len(f.Skipped)-20, len(f.Skipped)-20)
				break
			}
			fmt.Fprintf(w, "  dòng %d: %s\n", s.Line, l.T(s.Key, s.Args...))
		}
	}
}
