package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"hopnhat/internal/exchange"
)

func gatewayCmd(cfg *config) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "chạy riêng cổng trao đổi dữ liệu (LGSP) — run the exchange gateway alone",
		Long: `Chạy riêng cổng trao đổi /gw/{dịch vụ}/… (không có các trang), để mở rộng tách khỏi giao diện:
nhiều tiến trình gateway sau một bộ cân bằng tải dùng chung một cơ sở dữ liệu PostgreSQL. Phục vụ
thêm /healthz, /readyz và /metrics. SIGTERM dừng êm: các cuộc gọi đang chạy được hoàn tất và mọi bản
ghi nhật ký được ghi trước khi thoát. Khởi động lại không gián đoạn: chạy tiến trình mới với
--reuse-port trên cùng địa chỉ, rồi gửi SIGTERM cho tiến trình cũ (cũng chạy với --reuse-port).

Runs the exchange gateway at /gw/{service}/… without the pages, so it scales apart from them:
several gateway processes behind a load balancer share one PostgreSQL database. Also serves
/healthz, /readyz and /metrics. SIGTERM stops it gracefully: calls under way finish and every
log record is written before it exits. Restart without a refused call: start the new process
with --reuse-port on the same address, then SIGTERM the old one (also started with --reuse-port).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGateway(cmd.Context(), cfg, addr, cmd)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", env("HOPNHAT_GATEWAY_ADDR", "127.0.0.1:8090"), "địa chỉ lắng nghe / listen address (HOPNHAT_GATEWAY_ADDR)")
	addListenFlags(cmd.Flags(), cfg)
	dur := envDuration("HOPNHAT_SHUTDOWN_TIMEOUT", 30*time.Second)
	cmd.Flags().DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", dur, "thời gian chờ cuộc gọi đang chạy khi dừng / grace period on SIGTERM (HOPNHAT_SHUTDOWN_TIMEOUT)")
	cmd.AddCommand(gatewayServiceCmd(cfg), gatewayConsumerCmd(cfg), gatewayKeyCmd(cfg), gatewayGrantCmd(cfg))
	return cmd
}

// gatewayGCPercent is the gateway's GOGC unless the environment sets one.
const gatewayGCPercent = 400

func runGateway(ctx context.Context, cfg *config, addr string, cmd *cobra.Command) error {
	// The pages' settings are unused here, and the pages' handler must not
	// serve /gw/ as well.
	cfg.BodyLimit, cfg.TrackRate = max(cfg.BodyLimit, 1), max(cfg.TrackRate, 1)
	cfg.GatewayAddr = addr
	a, closeApp, err := openApp(ctx, cfg, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer closeApp()
	log := a.log
	l, err := gatewayListener(cfg, a, addr)
	if err != nil {
		return err
	}
	// A proxy's live heap is small and its garbage plenty: at Go's default
	// the collector ran so often that it took a third of the gateway's time
	// under load. GOGC, when set, still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gatewayGCPercent)
	}
	gw := startGateway(context.WithoutCancel(ctx), a)
	defer gw()
	return serveAll(ctx, cfg, log, cmd.OutOrStdout(), []listener{l})
}

// withGatewayService opens the database and the gateway's catalogue for a
// CLI command.
func withGatewayService(cmd *cobra.Command, cfg *config, fn func(ctx context.Context, s *exchange.Service) error) error {
	ctx := cliActor(cmd.Context())
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := fn(ctx, exchange.NewService(d, slog.New(slog.DiscardHandler))); err != nil {
		return explain(err)
	}
	return nil
}

func gatewayServiceCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "service", Short: "danh mục dịch vụ của cổng trao đổi — the gateway's service catalogue"}
	var in exchange.ServiceInput
	var cutover, status string
	add := &cobra.Command{
		Use:   "add",
		Short: "thêm dịch vụ (in mã định danh) — add a service (prints its id)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Cutover, in.Status = exchange.Cutover(cutover), exchange.Status(status)
			return withGatewayService(cmd, cfg, func(ctx context.Context, s *exchange.Service) error {
				d, err := s.CreateService(ctx, in)
				if err == nil {
					fmt.Fprintln(cmd.OutOrStdout(), d.ID)
				}
				return err
			})
		},
	}
	f := add.Flags()
	f.StringVar(&in.Code, "code", "", "mã dịch vụ trong đường dẫn /gw/{mã}/ / the path code")
	f.StringVar(&in.Name, "name", "", "tên dịch vụ / name")
	f.StringVar(&in.PrimaryURL, "primary", "", "URL của hệ thống mới (chính) / the new (primary) system's URL")
	f.StringVar(&in.BackupURL, "backup", "", "URL của LGSP cũ (dự phòng) / the legacy LGSP's (backup) URL")
	f.StringVar(&cutover, "cutover", "new", "old, shadow hoặc new / old, shadow or new")
	f.StringVar(&status, "status", "active", "active hoặc disabled")
	f.Int64Var(&in.TimeoutMS, "timeout-ms", 0, "thời gian chờ (ms) / timeout in ms (0: 30000)")
	f.Int64Var(&in.MaxBodyBytes, "max-body", 0, "dung lượng yêu cầu tối đa (byte) / largest request body (0: 10 MiB)")
	f.StringVar(&in.HealthPath, "health-path", "", "đường dẫn kiểm tra sức khỏe / health-check path below each URL")
	f.StringVar(&in.OwnerAgencyID, "owner", "", "cơ quan chủ quản (mã định danh) / owner agency id")
	f.StringVar(&in.VersionLabel, "version-label", "", "phiên bản / version")
	f.StringVar(&in.DocsURL, "docs", "", "tài liệu / documentation URL")
	list := &cobra.Command{
		Use:   "list",
		Short: "liệt kê dịch vụ — list the services",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withGatewayService(cmd, cfg, func(ctx context.Context, s *exchange.Service) error {
				list, err := s.Services(ctx)
				for _, d := range list {
					fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Code, d.Cutover, d.Status, d.PrimaryURL, d.BackupURL)
				}
				return err
			})
		},
	}
	cmd.AddCommand(add, list)
	return cmd
}

func gatewayConsumerCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "consumer", Short: "hệ thống gọi dịch vụ — calling systems"}
	var in exchange.ConsumerInput
	add := &cobra.Command{
		Use:   "add",
		Short: "thêm hệ thống gọi (in mã định danh) — add a calling system (prints its id)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withGatewayService(cmd, cfg, func(ctx context.Context, s *exchange.Service) error {
				c, err := s.CreateConsumer(ctx, in)
				if err == nil {
					fmt.Fprintln(cmd.OutOrStdout(), c.ID)
				}
				return err
			})
		},
	}
	add.Flags().StringVar(&in.Name, "name", "", "tên / name")
	add.Flags().StringVar(&in.OwnerAgencyID, "owner", "", "cơ quan chủ quản (mã định danh) / owner agency id")
	list := &cobra.Command{
		Use:   "list",
		Short: "liệt kê hệ thống gọi — list the calling systems",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withGatewayService(cmd, cfg, func(ctx context.Context, s *exchange.Service) error {
				list, err := s.Consumers(ctx)
				for _, c := range list {
					fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\t%s\n", c.ID, c.Status, c.Name)
				}
				return err
			})
		},
	}
	cmd.AddCommand(add, list)
	return cmd
}

func gatewayKeyCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "khóa truy cập của hệ thống gọi — calling systems' keys"}
	var consumer string
	var overlap time.Duration
	issue := &cobra.Command{
		Use:   "issue",
		Short: "cấp khóa mới, in ra một lần — issue a key, printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withGatewayService(cmd, cfg, func(ctx context.Context, s *exchange.Service) error {
				key, _, err := s.IssueKey(ctx, consumer)
				if err == nil {
					fmt.Fprintln(cmd.OutOrStdout(), key)
				}
				return err
			})
		},
	}
	issue.Flags().StringVar(&consumer, "consumer", "", "mã định danh hệ thống gọi / consumer id")
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "cấp khóa mới, khóa cũ còn hiệu lực thêm --overlap — rotate, the old keys working for --overlap more",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withGatewayService(cmd, cfg, func(ctx context.Context, s *exchange.Service) error {
				key, _, err := s.RotateKey(ctx, consumer, overlap)
				if err == nil {
					fmt.Fprintln(cmd.OutOrStdout(), key)
				}
				return err
			})
		},
	}
	rotate.Flags().StringVar(&consumer, "consumer", "", "mã định danh hệ thống gọi / consumer id")
	rotate.Flags().DurationVar(&overlap, "overlap", 24*time.Hour, "thời gian khóa cũ còn dùng được / how long the old keys keep working")
	revoke := &cobra.Command{
		Use:   "revoke KEY-ID",
		Short: "thu hồi khóa — revoke a key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGatewayService(cmd, cfg, func(ctx context.Context, s *exchange.Service) error {
				return s.RevokeKey(ctx, args[0])
			})
		},
	}
	cmd.AddCommand(issue, rotate, revoke)
	return cmd
}

func gatewayGrantCmd(cfg *config) *cobra.Command {
	var consumer, service, methods string
	var rate int
	cmd := &cobra.Command{
		Use:   "grant",
		Short: "cấp quyền gọi một dịch vụ — let a consumer call a service",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withGatewayService(cmd, cfg, func(ctx context.Context, s *exchange.Service) error {
				d, err := s.ServiceByCode(ctx, service)
				if err != nil {
					return err
				}
				_, err = s.Grant(ctx, consumer, d.ID, strings.Split(methods, ","), rate)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&consumer, "consumer", "", "mã định danh hệ thống gọi / consumer id")
	cmd.Flags().StringVar(&service, "service", "", "mã dịch vụ / service code")
	cmd.Flags().StringVar(&methods, "methods", "GET", "phương thức, cách nhau bởi dấu phẩy / methods, comma-separated")
	cmd.Flags().IntVar(&rate, "rate", 0, "số lần gọi tối đa mỗi phút (0: không giới hạn) / calls a minute (0: no limit)")
	return cmd
}
