package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hopnhat/internal/adminunit/register"
	"hopnhat/internal/exchange"
	"hopnhat/internal/org"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/jobs"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
)

// withDB opens the database (migrated) and the accounts service for a command.
func withDB(cmd *cobra.Command, cfg *config, fn func(ctx context.Context, d *db.DB, s *auth.Service) error) error {
	ctx := cliActor(cmd.Context())
	log, err := newLogger(cmd.ErrOrStderr(), &config{LogLevel: "warn", LogFormat: "text"})
	if err != nil {
		return err
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	s, err := newAuth(d, log, cfg, register.NewService(d, log))
	if err != nil {
		return err
	}
	return fn(ctx, d, s)
}

func migrateCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "cập nhật lược đồ cơ sở dữ liệu — database migrations"}
	cmd.AddCommand(&cobra.Command{
		Use: "up", Short: "áp dụng mọi bản cập nhật còn thiếu — apply pending migrations", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := openDB(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer d.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "đã cập nhật / migrated (%s)\n", d.Dialect())
			return nil
		},
	}, &cobra.Command{
		Use: "status", Short: "liệt kê các bản cập nhật và trạng thái — list migrations and their state", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := db.Open(cmd.Context(), db.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
			if err != nil {
				return err
			}
			defer d.Close()
			st, err := d.MigrationStatus(cmd.Context(), modules())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "MODULE\tVERSION\tSOURCE\tSTATE")
			for _, s := range st {
				state := "pending"
				if s.Applied {
					state = "applied"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", s.Module, s.Version, s.Source, state)
			}
			return tw.Flush()
		},
	})
	return cmd
}

// readSecret reads one line from stdin when --password-stdin is set, or
// generates a password and reports that it did.
func readSecret(cmd *cobra.Command, fromStdin bool) (pw string, generated bool, err error) {
	if !fromStdin {
		return generatePassword(), true, nil
	}
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", false, err
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

func parseScope(kind, code string) reqctx.Scope {
	return reqctx.Scope{Kind: reqctx.ScopeKind(kind), Code: code}
}

// explain turns an apperr into Vietnamese lines a person can act on: the
// message and each field's problem.
func explain(err error) error {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return err
	}
	cat, cerr := web.PlatformCatalog()
	if cerr != nil || cat.Load(register.Catalog()) != nil || cat.Load(org.Catalog()) != nil || cat.Load(exchange.Catalog()) != nil {
		return err
	}
	l := cat.For(web.Vietnamese)
	var b strings.Builder
	b.WriteString(l.T(e.Key, e.Args...))
	for f, k := range e.Field {
		fmt.Fprintf(&b, "\n  %s: %s", f, l.T(k))
	}
	return errors.New(b.String())
}

func userCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "quản lý tài khoản — manage user accounts"}
	var in auth.NewUser
	var role, scopeKind, scopeCode string
	var pwStdin bool
	add := &cobra.Command{
		Use:   "add",
		Short: "thêm tài khoản — add a user",
		Long: `Thêm tài khoản. Mật khẩu đọc từ stdin với --password-stdin, nếu không sẽ được sinh ngẫu nhiên và in ra.
Adds a user. The password is read from stdin with --password-stdin, otherwise generated and printed.

Ví dụ / example:  hopnhat user add --username admin2 --name "Nguyễn Văn An" --role admin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, func(ctx context.Context, _ *db.DB, s *auth.Service) error {
				pw, generated, err := readSecret(cmd, pwStdin)
				if err != nil {
					return err
				}
				in.Password, in.Role, in.Scope = pw, reqctx.Role(role), parseScope(scopeKind, scopeCode)
				in.MustChangePassword = in.MustChangePassword || generated
				u, err := s.CreateUser(ctx, in)
				if err != nil {
					return explain(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "đã tạo / created: %s (%s, %s)\n", u.Username, u.Role, u.ID)
				if generated {
					fmt.Fprintf(cmd.OutOrStdout(), "mật khẩu / password: %s\n", pw)
				}
				return nil
			})
		},
	}
	add.Flags().StringVar(&in.Username, "username", "", "tên đăng nhập / username (bắt buộc / required)")
	add.Flags().StringVar(&in.FullName, "name", "", "họ và tên / full name (bắt buộc / required)")
	add.Flags().StringVar(&in.Email, "email", "", "thư điện tử / e-mail")
	add.Flags().StringVar(&role, "role", "viewer", "vai trò / role: admin, coordinator, officer, leader, viewer")
	add.Flags().StringVar(&scopeKind, "scope", "province", "phạm vi / scope: province, agency, ward")
	add.Flags().StringVar(&scopeCode, "scope-code", "", "mã cơ quan hoặc xã, phường / agency or ward code")
	add.Flags().BoolVar(&pwStdin, "password-stdin", false, "đọc mật khẩu từ stdin / read the password from stdin")
	add.Flags().BoolVar(&in.MustChangePassword, "must-change", false, "bắt đổi mật khẩu lần đầu / require a change at first sign-in")
	_ = add.MarkFlagRequired("username")
	_ = add.MarkFlagRequired("name")

	list := &cobra.Command{
		Use: "list", Short: "liệt kê tài khoản — list users", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, func(ctx context.Context, _ *db.DB, s *auth.Service) error {
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USERNAME\tNAME\tROLE\tSCOPE\tSTATE\tLAST LOGIN")
				for off := 0; ; off += 500 {
					users, total, err := s.Users(ctx, auth.UserFilter{Limit: 500, Offset: off})
					if err != nil {
						return err
					}
					for _, u := range users {
						state := "active"
						if u.Disabled {
							state = "disabled"
						}
						last := "-"
						if !u.LastLoginAt.IsZero() {
							last = u.LastLoginAt.Format(time.RFC3339)
						}
						sc := string(u.Scope.Kind)
						if u.Scope.Code != "" {
							sc += ":" + u.Scope.Code
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.FullName, u.Role, sc, state, last)
					}
					if off+500 >= total {
						break
					}
				}
				return tw.Flush()
			})
		},
	}
	var passwdStdin bool
	passwd := &cobra.Command{
		Use:   "passwd USERNAME",
		Short: "đặt lại mật khẩu — reset a user's password",
		Long: `Đặt mật khẩu mới (từ stdin với --password-stdin, hoặc sinh ngẫu nhiên). Người dùng phải đổi ở lần đăng nhập tới.
Sets a new password (from stdin with --password-stdin, or generated); the user must change it at next sign-in.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, cfg, func(ctx context.Context, _ *db.DB, s *auth.Service) error {
				u, err := s.UserByName(ctx, args[0])
				if err != nil {
					return explain(err)
				}
				pw, generated, err := readSecret(cmd, passwdStdin)
				if err != nil {
					return err
				}
				if err := s.ResetPassword(ctx, u.ID, pw); err != nil {
					return explain(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "đã đặt lại / reset: %s\n", u.Username)
				if generated {
					fmt.Fprintf(cmd.OutOrStdout(), "mật khẩu / password: %s\n", pw)
				}
				return nil
			})
		},
	}
	passwd.Flags().BoolVar(&passwdStdin, "password-stdin", false, "đọc mật khẩu từ stdin / read the password from stdin")
	setDisabled := func(use, short string, disabled bool) *cobra.Command {
		return &cobra.Command{
			Use: use + " USERNAME", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withDB(cmd, cfg, func(ctx context.Context, _ *db.DB, s *auth.Service) error {
					u, err := s.UserByName(ctx, args[0])
					if err != nil {
						return explain(err)
					}
					if _, err := s.UpdateUser(ctx, u.ID, auth.UserUpdate{Disabled: &disabled}); err != nil {
						return explain(err)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", use, u.Username)
					return nil
				})
			},
		}
	}
	cmd.AddCommand(add, list, passwd,
		setDisabled("disable", "khóa tài khoản (kết thúc mọi phiên) — disable a user (ends their sessions)", true),
		setDisabled("enable", "mở khóa tài khoản — enable a user", false))
	return cmd
}

func apikeyCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "quản lý khóa API — manage API keys for machine clients"}
	var name, role, expires string
	create := &cobra.Command{
		Use:   "create",
		Short: "tạo khóa API (in ra một lần) — create an API key (printed once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, func(ctx context.Context, _ *db.DB, s *auth.Service) error {
				in := auth.NewAPIKey{Name: name, Role: reqctx.Role(role), Scope: reqctx.Scope{Kind: reqctx.ScopeProvince}}
				if expires != "" {
					t, err := web.ParseDate(expires)
					if err != nil {
						return fmt.Errorf("--expires: dùng dd/mm/yyyy / use dd/mm/yyyy: %w", err)
					}
					in.ExpiresAt = t.AddDate(0, 0, 1)
				}
				secret, k, err := s.CreateAPIKey(ctx, in)
				if err != nil {
					return explain(err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "đã tạo khóa / created key %s (%s); lưu ngay, không hiển thị lại / store it now, it is not shown again:\n", k.ID, k.Role)
				fmt.Fprintln(cmd.OutOrStdout(), secret)
				return nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "tên hệ thống gọi / calling system's name (bắt buộc / required)")
	create.Flags().StringVar(&role, "role", "viewer", "vai trò / role")
	create.Flags().StringVar(&expires, "expires", "", "ngày hết hạn / expiry date dd/mm/yyyy")
	_ = create.MarkFlagRequired("name")
	list := &cobra.Command{
		Use: "list", Short: "liệt kê khóa API — list API keys", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, func(ctx context.Context, d *db.DB, s *auth.Service) error {
				keys, err := s.APIKeys(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tROLE\tSTATE\tCREATED\tLAST USED")
				for _, k := range keys {
					state := "active"
					switch {
					case !k.RevokedAt.IsZero():
						state = "revoked"
					case !k.Active(d.Now()):
						state = "expired"
					}
					last := "-"
					if !k.LastUsedAt.IsZero() {
						last = k.LastUsedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Role, state, k.CreatedAt.Format(time.RFC3339), last)
				}
				return tw.Flush()
			})
		},
	}
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "thu hồi khóa API — revoke an API key", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, cfg, func(ctx context.Context, _ *db.DB, s *auth.Service) error {
				if err := s.RevokeAPIKey(ctx, strings.TrimPrefix(args[0], auth.APIKeyPrefix)); err != nil {
					return explain(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "đã thu hồi / revoked: %s\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func auditCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "nhật ký kiểm toán — the audit trail"}
	cmd.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "kiểm tra toàn vẹn chuỗi băm — verify the hash chain",
		Long: `Duyệt toàn bộ nhật ký theo thứ tự và chỉ ra bản ghi đầu tiên bị sửa, bị xóa hoặc bị đảo thứ tự.
Mã thoát 0 khi nguyên vẹn, 3 khi phát hiện sai lệch.

Walks the whole trail in order and names the first entry that was edited, removed or
reordered. Exit status 0 when intact, 3 when tampering is found.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, func(ctx context.Context, d *db.DB, _ *auth.Service) error {
				rep, err := audit.Verify(ctx, d)
				if err != nil {
					return err
				}
				if rep.Problem != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "SAI LỆCH / BROKEN: bản ghi / entry %d: %s (đã kiểm tra / checked %d)\n",
						rep.Problem.Seq, reasonVI[rep.Problem.Reason]+" / "+rep.Problem.Reason, rep.Checked)
					return exitCode(3)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "nguyên vẹn / intact: %d bản ghi / entries, head %s\n", rep.Checked, rep.Head)
				return nil
			})
		},
	})
	return cmd
}

var reasonVI = map[string]string{
	"edited":        "bị sửa",
	"removed":       "bị xóa",
	"reordered":     "bị đảo thứ tự",
	"head_mismatch": "bị xóa ở cuối chuỗi",
}

func backupCmd(cfg *config) *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "sao lưu SQLite khi đang chạy — online backup of the SQLite database",
		Long: `Ghi một bản sao nhất quán của cơ sở dữ liệu SQLite ra FILE trong khi máy chủ vẫn chạy.
Với PostgreSQL, dùng pg_dump hoặc pg_basebackup.

Writes a consistent copy of the SQLite database to FILE while the server runs.
For PostgreSQL use pg_dump or pg_basebackup.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := db.Open(cmd.Context(), db.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
			if err != nil {
				return err
			}
			defer d.Close()
			if err := d.Backup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "đã sao lưu / backed up: %s\n", args[0])
			return nil
		},
	}
}

func restoreCmd(cfg *config) *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "khôi phục SQLite từ bản sao lưu (dừng máy chủ trước) — restore SQLite from a backup (stop the server first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.DatabaseURL != "" && !strings.HasPrefix(cfg.DatabaseURL, "sqlite:") {
				return fmt.Errorf("restore: chỉ dành cho SQLite; với PostgreSQL dùng pg_restore / SQLite only; for PostgreSQL use pg_restore")
			}
			path := strings.TrimPrefix(strings.TrimPrefix(cfg.DatabaseURL, "sqlite:"), "//")
			if path == "" {
				path = cfg.DataDir + string(os.PathSeparator) + "hopnhat.db"
			}
			if err := db.Restore(cmd.Context(), args[0], path); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "đã khôi phục / restored %s từ / from %s\n", path, args[0])
			return nil
		},
	}
}

func routesCmd(cfg *config) *cobra.Command {
	return &cobra.Command{
		Use: "routes", Short: "liệt kê đường dẫn và quyền truy cập — list routes and who may use them", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := openDB(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer d.Close()
			log, _ := newLogger(io.Discard, &config{LogLevel: "error", LogFormat: "text"})
			a, err := newApp(d, &config{BodyLimit: 1 << 20}, log)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ROUTE\tWHO")
			for _, r := range a.router.Routes() {
				fmt.Fprintf(tw, "%s\t%s\n", r.Pattern, r.Rule)
			}
			return tw.Flush()
		},
	}
}

func jobsCmd(cfg *config) *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Short: "tác vụ nền — background jobs"}
	var state, kind string
	list := &cobra.Command{
		Use: "list", Short: "liệt kê tác vụ (mới nhất trước) — list jobs, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, func(ctx context.Context, d *db.DB, _ *auth.Service) error {
				js, err := jobs.NewQueue(d, slog.New(slog.DiscardHandler)).List(ctx, jobs.Filter{State: jobs.State(state), Kind: kind, Limit: 200})
				if err != nil {
					return explain(err)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tKIND\tSTATE\tATTEMPTS\tPROGRESS\tCREATED\tLAST ERROR")
				for _, j := range js {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%d/%d\t%s\t%s\n", j.ID, j.Kind, j.State, j.Attempts, j.MaxAttempts,
						j.Done, j.Total, j.CreatedAt.Format(time.RFC3339), j.LastError)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&state, "state", "", "pending, running, succeeded, failed, cancelled")
	list.Flags().StringVar(&kind, "kind", "", "loại tác vụ / job kind")
	cancel := &cobra.Command{
		Use: "cancel ID", Short: "hủy tác vụ — cancel a job", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, cfg, func(ctx context.Context, d *db.DB, _ *auth.Service) error {
				j, err := jobs.NewQueue(d, slog.New(slog.DiscardHandler)).Cancel(ctx, args[0])
				if err != nil {
					return explain(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", j.ID, j.State)
				return nil
			})
		},
	}
	cmd.AddCommand(list, cancel)
	return cmd
}
