package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"hopnhat/internal/org"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/web"
	"hopnhat/internal/platform/workbook"
	"hopnhat/internal/procedure"
)

// procedureService is the procedure system for a command: it asks the
// agency register on the same database.
func procedureService(d *db.DB) *procedure.Service {
	log := slog.New(slog.DiscardHandler)
	return procedure.NewService(d, log, procedureAgencies{org.NewService(d, log)}, nil)
}

// catalogueFormat tells a catalogue file's form by its extension.
func catalogueFormat(name string) (string, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx":
		return "xlsx", nil
	case ".csv":
		return "csv", nil
	}
	return "", fmt.Errorf("%s: cần tệp .xlsx hoặc .csv / want a .xlsx or .csv file", name)
}

func procedureCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "procedure", Short: "danh mục thủ tục hành chính — the administrative procedure catalogue"}
	var in, out string
	imp := &cobra.Command{
		Use:   "import --file FILE.xlsx|FILE.csv",
		Short: "nhập danh mục thủ tục từ tệp Excel hoặc CSV, tất cả hoặc không — import the catalogue, all or nothing",
		Long: `Nhập danh mục thủ tục từ tệp .xlsx (trang "Thủ tục" hoặc trang đầu) hoặc .csv UTF-8 có các cột
Mã thủ tục, Tên thủ tục, Lĩnh vực, Cấp thực hiện, Cơ quan thực hiện, Thời hạn (ngày làm việc), Phí, lệ phí,
Mức độ trực tuyến, Thành phần hồ sơ, Trạng thái. Mã đã có thì cập nhật, mã mới thì thêm. Mọi dòng được
kiểm tra trước; có lỗi thì không nhập gì và in từng lỗi với dòng, cột.

Imports the catalogue from a .xlsx workbook or a UTF-8 .csv file with those columns. A known code
updates its procedure, a new one adds one. Every row is checked first; on any problem nothing is
imported and each problem is printed with its row and column.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := catalogueFormat(in); err != nil {
				return err
			}
			ctx := cliActor(cmd.Context())
			f, err := os.Open(in)
			if err != nil {
				return err
			}
			defer f.Close()
			d, err := openDB(ctx, cfg)
			if err != nil {
				return err
			}
			defer d.Close()
			res, err := procedureService(d).ImportCatalogue(ctx, f)
			var we *workbook.Error
			if errors.As(err, &we) {
				printCatalogueProblems(cmd.ErrOrStderr(), we)
				return fmt.Errorf("%d lỗi, không nhập gì / %d problems, nothing imported", len(we.Problems), len(we.Problems))
			}
			if err != nil {
				return explainProcedure(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "đã nhập: thêm %d, cập nhật %d, giữ nguyên %d thủ tục / imported: %d created, %d updated, %d unchanged\n",
				res.Created, res.Updated, res.Unchanged, res.Created, res.Updated, res.Unchanged)
			return nil
		},
	}
	imp.Flags().StringVar(&in, "file", "", "tệp .xlsx hoặc .csv / the .xlsx or .csv file")
	_ = imp.MarkFlagRequired("file")
	exp := &cobra.Command{
		Use:   "export --out FILE.xlsx|FILE.csv",
		Short: "xuất danh mục thủ tục ra tệp Excel hoặc CSV (đọc lại được bằng import) — export the catalogue (import reads it back)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := catalogueFormat(out)
			if err != nil {
				return err
			}
			ctx := cliActor(cmd.Context())
			d, err := openDB(ctx, cfg)
			if err != nil {
				return err
			}
			defer d.Close()
			// Written beside the target and renamed, so a failed export never
			// leaves half a file under the name asked for.
			tmp, err := os.CreateTemp(filepath.Dir(out), ".procedures-*."+format)
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			if err := procedureService(d).ExportCatalogue(ctx, tmp, format); err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Close(); err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "đã xuất danh mục ra / exported the catalogue to %s\n", out)
			return nil
		},
	}
	exp.Flags().StringVar(&out, "out", "", "tệp .xlsx hoặc .csv / the .xlsx or .csv file")
	_ = exp.MarkFlagRequired("out")
	cmd.AddCommand(imp, exp)
	return cmd
}

// procedureLocalizer reads the procedure system's messages in Vietnamese.
func procedureLocalizer() *web.Localizer {
	cat, err := web.PlatformCatalog()
	if err != nil {
		return nil
	}
	for _, c := range procedure.Catalogs() {
		if cat.Load(c) != nil {
			return nil
		}
	}
	return cat.For(web.Vietnamese)
}

// printCatalogueProblems writes an import's problems in Vietnamese.
func printCatalogueProblems(w io.Writer, we *workbook.Error) {
	l := procedureLocalizer()
	for _, p := range we.Problems {
		where := ""
		if p.Sheet != "" {
			where = p.Sheet + ", "
		}
		if p.Row > 0 {
			where += fmt.Sprintf("dòng %d", p.Row)
		}
		if p.Column != "" {
			where += ", cột " + p.Column
		}
		msg := p.Key
		if l != nil {
			msg = l.T(p.Key, p.Args...)
		}
		if where = strings.TrimSuffix(where, ", "); where == "" {
			fmt.Fprintf(w, "  %s\n", msg)
			continue
		}
		fmt.Fprintf(w, "  %s: %s\n", where, msg)
	}
}

// explainProcedure turns an error of the procedure system into its
// Vietnamese message.
func explainProcedure(err error) error {
	l := procedureLocalizer()
	var ae *apperr.Error
	if l == nil || !errors.As(err, &ae) {
		return err
	}
	return errors.New(l.T(ae.Key, ae.Args...))
}
