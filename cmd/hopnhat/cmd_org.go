package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"hopnhat/internal/org"
	"hopnhat/internal/platform/web"
)

func agencyCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "agency", Short: "sổ cơ quan, đơn vị và đơn vị kế thừa — the agency register"}
	cmd.AddCommand(&cobra.Command{
		Use:   "export FILE.xlsx",
		Short: "xuất sổ cơ quan ra tệp Excel (cũng là mẫu để nhập) — export the register as a workbook (also the import template)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cliActor(cmd.Context())
			d, err := openDB(ctx, cfg)
			if err != nil {
				return err
			}
			defer d.Close()
			tmp, err := os.CreateTemp(filepath.Dir(args[0]), ".agencies-*.xlsx")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			if err := org.NewService(d, slog.New(slog.DiscardHandler)).Export(ctx, tmp); err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Close(); err != nil {
				return err
			}
			return os.Rename(tmp.Name(), args[0])
		},
	}, &cobra.Command{
		Use:   "import FILE.xlsx",
		Short: "nhập sổ cơ quan từ tệp Excel, tất cả hoặc không — import a workbook, all or nothing",
		Long: `Nhập các trang "Cơ quan" và "Kế thừa" theo mẫu của lệnh export. Mọi dòng được kiểm tra trước;
có lỗi thì không nhập gì và in từng lỗi với trang, dòng, cột.
Imports the "Cơ quan" and "Kế thừa" sheets in the export's format. Every row is checked first; on any
problem nothing is imported and each problem is printed with its sheet, row and column.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cliActor(cmd.Context())
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			d, err := openDB(ctx, cfg)
			if err != nil {
				return err
			}
			defer d.Close()
			res, err := org.NewService(d, slog.New(slog.DiscardHandler)).Import(ctx, f)
			var ie *org.ImportError
			if errors.As(err, &ie) {
				printProblems(cmd.ErrOrStderr(), ie)
				return fmt.Errorf("%d lỗi, không nhập gì / %d problems, nothing imported", len(ie.Problems), len(ie.Problems))
			}
			if err != nil {
				return explain(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "đã nhập: thêm %d, cập nhật %d cơ quan, thêm %d liên kết / imported: %d created, %d updated, %d links\n",
				res.Created, res.Updated, res.Links, res.Created, res.Updated, res.Links)
			return nil
		},
	})
	return cmd
}

// printProblems writes an import's problems in Vietnamese.
func printProblems(w io.Writer, ie *org.ImportError) {
	cat, err := web.PlatformCatalog()
	if err != nil || cat.Load(org.Catalog()) != nil {
		return
	}
	l := cat.For(web.Vietnamese)
	for _, p := range ie.Problems {
		where := fmt.Sprintf("%s, dòng %d", p.Sheet, p.Row)
		if p.Column != "" {
			where += ", cột " + p.Column
		}
		fmt.Fprintf(w, "  %s: %s\n", where, l.T(p.Key, p.Args...))
	}
}
