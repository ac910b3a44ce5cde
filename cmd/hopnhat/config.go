package main

import (
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/web"
)

// config is everything hopnhat reads from flags and the environment.
type config struct {
	Addr            string
	DataDir         string
	AdminUnitsDir   string
	DatabaseURL     string
	LogLevel        string
	LogFormat       string
	TLSCert, TLSKey string
	SecureCookies   bool
	SessionIdle     time.Duration
	SessionMax      time.Duration
	BodyLimit       int64
	ShutdownTimeout time.Duration
	Demo            bool
	TrustedProxies  string
	TrackRate       int // public dossier lookups a minute per client address; 0: the default
	ReusePort       bool

	// The exchange gateway (LGSP).
	GatewayAddr     string // serve /gw/ on its own listener; empty: on Addr
	GatewayLogDays  int
	GatewayCert     string // PEM certificate and key of the gateway's own listener
	GatewayKey      string
	GatewayClientCA string // PEM authorities whose client certificates the gateway accepts

	argon2 auth.Argon2Params // tests lower the cost; zero means auth.DefaultArgon2
}

// The environment variables, their defaults and meaning; README's table is
// written from this list.
var envDoc = []struct{ Name, Default, Meaning string }{
	{"HOPNHAT_ADDR", "127.0.0.1:8080", "address the web server listens on"},
	{"HOPNHAT_DATA_DIR", "./data", "directory of the SQLite file and other local data"},
	{"HOPNHAT_DATABASE_URL", "(empty: SQLite in the data directory)", "postgres://… for PostgreSQL, or sqlite:PATH"},
	{"HOPNHAT_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"HOPNHAT_LOG_FORMAT", "json", "json or text"},
	{"HOPNHAT_TLS_CERT / HOPNHAT_TLS_KEY", "(empty)", "PEM certificate and key: serve HTTPS"},
	{"HOPNHAT_SECURE_COOKIES", "false", "mark cookies Secure even without TLS here (TLS ends at a proxy)"},
	{"HOPNHAT_SESSION_IDLE", "30m", "a session unused this long ends"},
	{"HOPNHAT_SESSION_MAX", "12h", "a session ends this long after sign-in"},
	{"HOPNHAT_BODY_LIMIT", "1048576", "largest request body in bytes (413 beyond)"},
	{"HOPNHAT_SHUTDOWN_TIMEOUT", "30s", "time in-flight requests get to finish on SIGTERM"},
	{"HOPNHAT_TRUSTED_PROXIES", "(empty)", "CIDRs of reverse proxies whose X-Forwarded-For is believed"},
	{"HOPNHAT_TRACK_RATE", "10", "public dossier lookups (/tra-cuu) a minute per client address (429 beyond)"},
	{"HOPNHAT_REUSE_PORT", "false", "listen with SO_REUSEPORT, so a new process can take over the address before the old one stops"},
	{"HOPNHAT_GATEWAY_ADDR", "(empty: /gw/ on HOPNHAT_ADDR)", "serve the exchange gateway on its own address; `hopnhat gateway` defaults to 127.0.0.1:8090"},
	{"HOPNHAT_GATEWAY_LOG_DAYS", "90", "days the gateway's message log is kept"},
	{"HOPNHAT_GATEWAY_TLS_CERT / HOPNHAT_GATEWAY_TLS_KEY", "(empty)", "PEM certificate and key: the gateway's own listener speaks HTTPS"},
	{"HOPNHAT_GATEWAY_CLIENT_CA", "(empty)", "PEM authorities: the gateway accepts their client certificates (mutual TLS) in place of a key"},
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func envBool(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

// addGlobalFlags binds the flags every command shares.
func addGlobalFlags(fs *pflag.FlagSet, c *config) {
	fs.StringVar(&c.DataDir, "data-dir", env("HOPNHAT_DATA_DIR", "data"), "thư mục dữ liệu / data directory (HOPNHAT_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("HOPNHAT_DATABASE_URL", ""), "postgres://… hoặc sqlite:PATH; trống = SQLite trong thư mục dữ liệu / empty = SQLite in the data directory (HOPNHAT_DATABASE_URL)")
	fs.StringVar(&c.AdminUnitsDir, "adminunits-dir", env("HOPNHAT_ADMINUNITS_DIR", ""), "thư mục danh mục ĐVHC chính thức / directory of the official administrative-unit lists (HOPNHAT_ADMINUNITS_DIR)")
	fs.StringVar(&c.LogLevel, "log-level", env("HOPNHAT_LOG_LEVEL", "info"), "mức ghi log / log level: debug, info, warn, error (HOPNHAT_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("HOPNHAT_LOG_FORMAT", "json"), "định dạng log / log format: json, text (HOPNHAT_LOG_FORMAT)")
}

func addServeFlags(fs *pflag.FlagSet, c *config) {
	fs.StringVar(&c.Addr, "addr", env("HOPNHAT_ADDR", "127.0.0.1:8080"), "địa chỉ lắng nghe / listen address (HOPNHAT_ADDR)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("HOPNHAT_TLS_CERT", ""), "tệp chứng thư PEM / PEM certificate file (HOPNHAT_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("HOPNHAT_TLS_KEY", ""), "tệp khóa PEM / PEM key file (HOPNHAT_TLS_KEY)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", envBool("HOPNHAT_SECURE_COOKIES"), "cookie chỉ gửi qua HTTPS / cookies only over HTTPS (HOPNHAT_SECURE_COOKIES)")
	fs.DurationVar(&c.SessionIdle, "session-idle", envDuration("HOPNHAT_SESSION_IDLE", 30*time.Minute), "phiên hết hạn khi không dùng / idle session expiry (HOPNHAT_SESSION_IDLE)")
	fs.DurationVar(&c.SessionMax, "session-max", envDuration("HOPNHAT_SESSION_MAX", 12*time.Hour), "thời hạn tối đa của phiên / absolute session expiry (HOPNHAT_SESSION_MAX)")
	limit, _ := strconv.ParseInt(env("HOPNHAT_BODY_LIMIT", "1048576"), 10, 64)
	fs.Int64Var(&c.BodyLimit, "body-limit", limit, "kích thước tối đa của yêu cầu (byte) / largest request body in bytes (HOPNHAT_BODY_LIMIT)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", envDuration("HOPNHAT_SHUTDOWN_TIMEOUT", 30*time.Second), "thời gian chờ yêu cầu đang xử lý khi dừng / grace period on SIGTERM (HOPNHAT_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("HOPNHAT_TRUSTED_PROXIES", ""), "CIDR của proxy ngược được tin X-Forwarded-For / reverse-proxy CIDRs whose X-Forwarded-For is believed (HOPNHAT_TRUSTED_PROXIES)")
	rate, _ := strconv.Atoi(env("HOPNHAT_TRACK_RATE", "10"))
	fs.IntVar(&c.TrackRate, "track-rate", rate, "số lần tra cứu hồ sơ mỗi phút của một địa chỉ / public dossier lookups a minute per client address (HOPNHAT_TRACK_RATE)")
	addListenFlags(fs, c)
	fs.StringVar(&c.GatewayAddr, "gateway-addr", env("HOPNHAT_GATEWAY_ADDR", ""), "phục vụ cổng trao đổi /gw/ ở địa chỉ riêng / serve the exchange gateway on its own address (HOPNHAT_GATEWAY_ADDR)")
	fs.BoolVar(&c.Demo, "demo", false, "nạp dữ liệu mẫu vào cơ sở dữ liệu trống / load demo data into an empty database")
}

// addListenFlags binds what serve and gateway share about the gateway and
// the listeners.
func addListenFlags(fs *pflag.FlagSet, c *config) {
	fs.BoolVar(&c.ReusePort, "reuse-port", envBool("HOPNHAT_REUSE_PORT"), "nghe với SO_REUSEPORT để khởi động lại không gián đoạn / listen with SO_REUSEPORT for restarts without refused connections (HOPNHAT_REUSE_PORT)")
	days, _ := strconv.Atoi(env("HOPNHAT_GATEWAY_LOG_DAYS", "90"))
	fs.IntVar(&c.GatewayLogDays, "gateway-log-days", days, "số ngày giữ nhật ký cổng trao đổi / days the gateway's message log is kept (HOPNHAT_GATEWAY_LOG_DAYS)")
	fs.StringVar(&c.GatewayCert, "gateway-tls-cert", env("HOPNHAT_GATEWAY_TLS_CERT", ""), "chứng thư PEM của cổng trao đổi / PEM certificate of the gateway's listener (HOPNHAT_GATEWAY_TLS_CERT)")
	fs.StringVar(&c.GatewayKey, "gateway-tls-key", env("HOPNHAT_GATEWAY_TLS_KEY", ""), "khóa PEM của cổng trao đổi / PEM key of the gateway's listener (HOPNHAT_GATEWAY_TLS_KEY)")
	fs.StringVar(&c.GatewayClientCA, "gateway-client-ca", env("HOPNHAT_GATEWAY_CLIENT_CA", ""), "CA cấp chứng thư máy khách được chấp nhận (mTLS) / PEM authorities of accepted client certificates (HOPNHAT_GATEWAY_CLIENT_CA)")
}

// gatewayClientCAs reads --gateway-client-ca; nil when it is not set.
func (c *config) gatewayClientCAs() (*x509.CertPool, error) {
	if c.GatewayClientCA == "" {
		return nil, nil
	}
	b, err := os.ReadFile(c.GatewayClientCA)
	if err != nil {
		return nil, fmt.Errorf("--gateway-client-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--gateway-client-ca: %s holds no PEM certificate", c.GatewayClientCA)
	}
	return pool, nil
}

func (c *config) validate() error {
	if (c.GatewayCert == "") != (c.GatewayKey == "") {
		return fmt.Errorf("--gateway-tls-cert and --gateway-tls-key go together")
	}
	if c.GatewayClientCA != "" && c.GatewayCert == "" {
		return fmt.Errorf("--gateway-client-ca needs the gateway's own TLS (--gateway-tls-cert, --gateway-tls-key)")
	}
	if c.GatewayLogDays < 1 {
		return fmt.Errorf("--gateway-log-days must be at least 1")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if _, err := web.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return err
	}
	if c.BodyLimit <= 0 {
		return fmt.Errorf("--body-limit must be positive")
	}
	if c.TrackRate <= 0 {
		return fmt.Errorf("--track-rate must be positive")
	}
	return nil
}

func newLogger(w io.Writer, c *config) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(c.LogFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use json or text", c.LogFormat)
}
