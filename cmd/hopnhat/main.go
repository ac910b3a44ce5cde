// Command hopnhat runs the shared digital-government platform of a merged
// Vietnamese province and carries the old provinces' systems into it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot(os.Stdout, os.Stderr).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "lỗi / error:", err)
		var ec exitCode
		if errors.As(err, &ec) {
			os.Exit(int(ec))
		}
		os.Exit(1)
	}
}

// exitCode is an error that asks for a particular exit status.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	cfg := &config{}
	root := &cobra.Command{
		Use:   "hopnhat",
		Short: "Nền tảng dùng chung của tỉnh sau hợp nhất — shared platform of a merged province",
		Long: `hopnhat chạy các hệ thống dùng chung của tỉnh, thành phố hình thành sau sắp xếp đơn vị hành chính
năm 2025 và chuyển hệ thống, dữ liệu, tài khoản, tích hợp của các tỉnh cũ sang, không gián đoạn dịch vụ.

hopnhat runs the shared digital-government systems of a province formed by Vietnam's 2025
merger, and moves the old provinces' systems, data, accounts and integrations into them
without stopping service or losing a record.

Bắt đầu / Start:  hopnhat serve --demo   (http://127.0.0.1:8080)`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	addGlobalFlags(root.PersistentFlags(), cfg)
	root.AddCommand(
		serveCmd(cfg), migrateCmd(cfg), userCmd(cfg), apikeyCmd(cfg), auditCmd(cfg), demoCmd(cfg),
		backupCmd(cfg), restoreCmd(cfg), routesCmd(cfg), jobsCmd(cfg), adminunitCmd(cfg), addressCmd(cfg), agencyCmd(cfg), generateCmd(cfg), versionCmd(),
	)
	root.AddCommand(procedureCmd(cfg), gatewayCmd(cfg))
	return root
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "in phiên bản — print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "hopnhat", version)
			return nil
		},
	}
}
