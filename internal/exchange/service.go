package exchange

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/ratelimit"
)

// KeyPrefix starts every gateway key, so a leaked key is recognisable.
const KeyPrefix = "xk_"

// keyLen is the length of a key: the prefix and 32 base32 characters (160 bits).
const keyLen = len(KeyPrefix) + 32

// shownPrefix is how many characters of a key are kept to tell keys apart.
const shownPrefix = len(KeyPrefix) + 6

// Limits of a service's settings.
const (
	MinTimeoutMS        = 100
	MaxTimeoutMS        = 120_000
	DefaultTimeoutMS    = 30_000
	DefaultMaxBodyBytes = 10 << 20
	MaxMaxBodyBytes     = 1 << 30
)

// Service is the gateway's catalogue, consumers, keys and grants, and what
// the gateway keeps while it runs: the catalogue in memory, the state of the
// upstreams, the rate limits and the message log.
type Service struct {
	db  *db.DB
	log *slog.Logger
	cat catalogCache
	ups upstreams
	msg *msgLog
	lim *ratelimit.Limiter
	met *Metrics

	shadowSlots chan struct{} // shadow comparisons under way, bounded
	shadowWG    sync.WaitGroup
	retention   atomic.Int64 // days the message log is kept
	nodes       atomic.Int64 // gateway processes alive on this database, this one included
}

// The defaults of what the gateway keeps.
const (
	DefaultRetentionDays = 90
	shadowConcurrency    = 32
)

// NewService returns the gateway on d. Start the message log with Run (the
// proxy records calls only while it runs).
func NewService(d *db.DB, log *slog.Logger) *Service {
	s := &Service{db: d, log: log, lim: ratelimit.New(60, 60, 100_000, nil), shadowSlots: make(chan struct{}, shadowConcurrency)}
	s.retention.Store(DefaultRetentionDays)
	s.msg = newMsgLog(s, DefaultFlushEvery)
	return s
}

var codeRE = regexp.MustCompile(`^[a-z0-9-]{2,40}$`)

// healthPathRE is a path below an upstream's URL that answers health checks.
var healthPathRE = regexp.MustCompile(`^/[A-Za-z0-9._~/-]{0,200}$`)

// keyRE is the shape of a key: lower-case base32 without padding.
var keyRE = regexp.MustCompile(`^xk_[a-z2-7]{32}$`)

var allMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func newID(prefix string) string { return prefix + strings.ToLower(rand.Text()[:16]) }

func hashKey(k string) string {
	h := sha256.Sum256([]byte(k))
	return hex.EncodeToString(h[:])
}

func newKey() string {
	var b [20]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return KeyPrefix + strings.ToLower(b32.EncodeToString(b[:]))
}

// upstreamURL reports whether s is an absolute http(s) URL we may forward to:
// no user info, query or fragment (the caller's path and query are appended).
func upstreamURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil &&
		u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" && u.Opaque == ""
}

// checkService normalises in and returns the fields that are wrong, as i18n keys.
func checkService(in *ServiceInput) map[string]string {
	f := map[string]string{}
	in.Code = strings.ToLower(strings.TrimSpace(in.Code))
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	in.OwnerAgencyID, in.VersionLabel = strings.TrimSpace(in.OwnerAgencyID), strings.TrimSpace(in.VersionLabel)
	in.PrimaryURL, in.BackupURL = strings.TrimSpace(in.PrimaryURL), strings.TrimSpace(in.BackupURL)
	in.DocsURL, in.HealthPath = strings.TrimSpace(in.DocsURL), strings.TrimSpace(in.HealthPath)
	if in.TimeoutMS == 0 {
		in.TimeoutMS = DefaultTimeoutMS
	}
	if in.MaxBodyBytes == 0 {
		in.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if in.Status == "" {
		in.Status = Active
	}
	if in.Cutover == "" {
		in.Cutover = CutoverNew
	}
	if !codeRE.MatchString(in.Code) {
		f["code"] = "exchange.code_invalid"
	}
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 300 {
		f["name"] = "exchange.name_invalid"
	}
	if utf8.RuneCountInString(in.VersionLabel) > 40 {
		f["version_label"] = "exchange.version_label_invalid"
	}
	if !upstreamURL(in.PrimaryURL) {
		f["primary_url"] = "exchange.url_invalid"
	}
	if in.BackupURL != "" && !upstreamURL(in.BackupURL) {
		f["backup_url"] = "exchange.url_invalid"
	}
	if in.DocsURL != "" && !upstreamURL(in.DocsURL) {
		f["docs_url"] = "exchange.url_invalid"
	}
	if in.TimeoutMS < MinTimeoutMS || in.TimeoutMS > MaxTimeoutMS {
		f["timeout_ms"] = "exchange.timeout_invalid"
	}
	if in.MaxBodyBytes < 1 || in.MaxBodyBytes > MaxMaxBodyBytes {
		f["max_body_bytes"] = "exchange.max_body_invalid"
	}
	if in.Status != Active && in.Status != Disabled {
		f["status"] = "exchange.status_invalid"
	}
	if in.Cutover != CutoverOld && in.Cutover != CutoverShadow && in.Cutover != CutoverNew {
		f["cutover"] = "exchange.cutover_invalid"
	} else if in.Cutover != CutoverNew && in.BackupURL == "" && f["backup_url"] == "" {
		// old and shadow send calls to the legacy LGSP, which is the backup URL.
		f["backup_url"] = "exchange.legacy_url_required"
	}
	if in.HealthPath != "" && !healthPathRE.MatchString(in.HealthPath) {
		f["health_path"] = "exchange.health_path_invalid"
	}
	return f
}

const serviceCols = `id, code, name, owner_agency_id, version_label, primary_url, backup_url, timeout_ms, max_body_bytes,
docs_url, status, cutover, version, created_at, updated_at, health_path`

type scanner interface{ Scan(...any) error }

func scanService(sc scanner) (ServiceDef, error) {
	var d ServiceDef
	var status, cutover string
	var created, updated int64
	err := sc.Scan(&d.ID, &d.Code, &d.Name, &d.OwnerAgencyID, &d.VersionLabel, &d.PrimaryURL, &d.BackupURL, &d.TimeoutMS,
		&d.MaxBodyBytes, &d.DocsURL, &status, &cutover, &d.Version, &created, &updated, &d.HealthPath)
	d.Status, d.Cutover = Status(status), Cutover(cutover)
	d.CreatedAt, d.UpdatedAt = db.FromMicros(created), db.FromMicros(updated)
	return d, err
}

func serviceDetails(d ServiceDef) map[string]any {
	return map[string]any{"code": d.Code, "name": d.Name, "primary_url": d.PrimaryURL, "backup_url": d.BackupURL,
		"timeout_ms": d.TimeoutMS, "max_body_bytes": d.MaxBodyBytes, "status": string(d.Status), "cutover": string(d.Cutover),
		"health_path": d.HealthPath}
}

// CreateService adds a service to the catalogue.
func (s *Service) CreateService(ctx context.Context, in ServiceInput) (ServiceDef, error) {
	if f := checkService(&in); len(f) > 0 {
		return ServiceDef{}, apperr.InvalidFields(f)
	}
	var out ServiceDef
	err := s.change(ctx, func(tx *db.Tx) error {
		out = ServiceDef{ID: newID("xs_"), Code: in.Code, Name: in.Name, OwnerAgencyID: in.OwnerAgencyID, VersionLabel: in.VersionLabel,
			PrimaryURL: in.PrimaryURL, BackupURL: in.BackupURL, TimeoutMS: in.TimeoutMS, MaxBodyBytes: in.MaxBodyBytes,
			DocsURL: in.DocsURL, Status: in.Status, Cutover: in.Cutover, HealthPath: in.HealthPath, Version: 1, CreatedAt: tx.Now,
			UpdatedAt: tx.Now}
		_, err := tx.ExecContext(ctx, `INSERT INTO xchg_service (id, code, name, owner_agency_id, version_label, primary_url,
backup_url, timeout_ms, max_body_bytes, docs_url, status, cutover, version, created_at, updated_at, health_path)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $13, $14)`,
			out.ID, out.Code, out.Name, out.OwnerAgencyID, out.VersionLabel, out.PrimaryURL, out.BackupURL, out.TimeoutMS,
			out.MaxBodyBytes, out.DocsURL, string(out.Status), string(out.Cutover), db.Micros(tx.Now), out.HealthPath)
		if apperr.Is(err, apperr.Conflict) {
			return apperr.InvalidFields(map[string]string{"code": "exchange.code_taken"})
		}
		if err != nil {
			return fmt.Errorf("create service %s: %w", out.Code, err)
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "exchange.service.create", ObjectType: "exchange_service",
			ObjectID: out.ID, Details: serviceDetails(out)})
		return err
	})
	return out, err
}

func (s *Service) service(ctx context.Context, q db.Querier, id string) (ServiceDef, error) {
	d, err := scanService(q.QueryRowContext(ctx, `SELECT `+serviceCols+` FROM xchg_service WHERE id = $1`, id))
	return d, db.NotFoundIfNoRows(err, "exchange.service_not_found")
}

// UpdateService replaces a service's settings, refusing a stale version.
func (s *Service) UpdateService(ctx context.Context, id string, in ServiceInput, version int64) (ServiceDef, error) {
	if f := checkService(&in); len(f) > 0 {
		return ServiceDef{}, apperr.InvalidFields(f)
	}
	var out ServiceDef
	err := s.change(ctx, func(tx *db.Tx) error {
		before, err := s.service(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Version != version {
			return apperr.New(apperr.Conflict, "exchange.stale_version")
		}
		res, err := tx.ExecContext(ctx, `UPDATE xchg_service SET code = $1, name = $2, owner_agency_id = $3, version_label = $4,
primary_url = $5, backup_url = $6, timeout_ms = $7, max_body_bytes = $8, docs_url = $9, status = $10, cutover = $11,
version = version + 1, updated_at = $12, health_path = $15 WHERE id = $13 AND version = $14`,
			in.Code, in.Name, in.OwnerAgencyID, in.VersionLabel, in.PrimaryURL, in.BackupURL, in.TimeoutMS, in.MaxBodyBytes,
			in.DocsURL, string(in.Status), string(in.Cutover), db.Micros(tx.Now), id, version, in.HealthPath)
		if apperr.Is(err, apperr.Conflict) {
			return apperr.InvalidFields(map[string]string{"code": "exchange.code_taken"})
		}
		if err != nil {
			return fmt.Errorf("update service %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "exchange.stale_version")
		}
		if out, err = s.service(ctx, tx, id); err != nil {
			return err
		}
		if out.Code != before.Code {
			// The board and the shadow results follow the service to its new
			// code; the message log keeps the code each call was made with.
			for _, t := range []string{"xchg_usage", "xchg_shadow_day", "xchg_shadow_diff"} {
				if _, err := tx.ExecContext(ctx, `UPDATE `+t+` SET service_code = $1 WHERE service_code = $2`, out.Code, before.Code); err != nil {
					return fmt.Errorf("move %s to the new code: %w", t, err)
				}
			}
		}
		changes := map[string]any{}
		for k, v := range serviceDetails(out) {
			if old := serviceDetails(before)[k]; old != v {
				changes[k] = []any{old, v}
			}
		}
		audit.Diff(changes, "owner_agency_id", before.OwnerAgencyID, out.OwnerAgencyID)
		audit.Diff(changes, "version_label", before.VersionLabel, out.VersionLabel)
		audit.Diff(changes, "docs_url", before.DocsURL, out.DocsURL)
		_, err = audit.Append(ctx, tx, audit.Record{Action: "exchange.service.update", ObjectType: "exchange_service",
			ObjectID: id, Details: map[string]any{"changes": changes}})
		return err
	})
	return out, err
}

// Services lists the catalogue by code.
func (s *Service) Services(ctx context.Context) ([]ServiceDef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+serviceCols+` FROM xchg_service ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	defer rows.Close()
	var out []ServiceDef
	for rows.Next() {
		d, err := scanService(rows)
		if err != nil {
			return nil, fmt.Errorf("list services: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ServiceByCode returns the service at /gw/{code}/, active or not.
func (s *Service) ServiceByCode(ctx context.Context, code string) (ServiceDef, error) {
	if !codeRE.MatchString(code) {
		return ServiceDef{}, apperr.New(apperr.NotFound, "exchange.service_not_found")
	}
	d, err := scanService(s.db.QueryRowContext(ctx, `SELECT `+serviceCols+` FROM xchg_service WHERE code = $1`, code))
	return d, db.NotFoundIfNoRows(err, "exchange.service_not_found")
}

const consumerCols = `id, name, owner_agency_id, status, version, created_at, updated_at`

func scanConsumer(sc scanner) (Consumer, error) {
	var c Consumer
	var status string
	var created, updated int64
	err := sc.Scan(&c.ID, &c.Name, &c.OwnerAgencyID, &status, &c.Version, &created, &updated)
	c.Status = Status(status)
	c.CreatedAt, c.UpdatedAt = db.FromMicros(created), db.FromMicros(updated)
	return c, err
}

// CreateConsumer registers a calling system.
func (s *Service) CreateConsumer(ctx context.Context, in ConsumerInput) (Consumer, error) {
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	in.OwnerAgencyID = strings.TrimSpace(in.OwnerAgencyID)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 300 {
		return Consumer{}, apperr.InvalidFields(map[string]string{"name": "exchange.name_invalid"})
	}
	var out Consumer
	err := s.change(ctx, func(tx *db.Tx) error {
		out = Consumer{ID: newID("xc_"), Name: in.Name, OwnerAgencyID: in.OwnerAgencyID, Status: Active, Version: 1,
			CreatedAt: tx.Now, UpdatedAt: tx.Now}
		if _, err := tx.ExecContext(ctx, `INSERT INTO xchg_consumer (id, name, owner_agency_id, status, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, 1, $5, $5)`, out.ID, out.Name, out.OwnerAgencyID, string(out.Status), db.Micros(tx.Now)); err != nil {
			return fmt.Errorf("create consumer: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "exchange.consumer.create", ObjectType: "exchange_consumer",
			ObjectID: out.ID, Details: map[string]any{"name": out.Name, "owner_agency_id": out.OwnerAgencyID}})
		return err
	})
	return out, err
}

func (s *Service) consumer(ctx context.Context, q db.Querier, id string) (Consumer, error) {
	c, err := scanConsumer(q.QueryRowContext(ctx, `SELECT `+consumerCols+` FROM xchg_consumer WHERE id = $1`, id))
	return c, db.NotFoundIfNoRows(err, "exchange.consumer_not_found")
}

// Consumers lists the calling systems by name.
func (s *Service) Consumers(ctx context.Context) ([]Consumer, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+consumerCols+` FROM xchg_consumer ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list consumers: %w", err)
	}
	defer rows.Close()
	var out []Consumer
	for rows.Next() {
		c, err := scanConsumer(rows)
		if err != nil {
			return nil, fmt.Errorf("list consumers: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const keyCols = `id, consumer_id, prefix, created_at, expires_at, revoked_at`

func scanKey(sc scanner, extra ...any) (Key, error) {
	var k Key
	var created int64
	var expires, revoked sql.NullInt64
	err := sc.Scan(append([]any{&k.ID, &k.ConsumerID, &k.Prefix, &created, &expires, &revoked}, extra...)...)
	k.CreatedAt, k.ExpiresAt, k.RevokedAt = db.FromMicros(created), db.FromNullMicros(expires), db.FromNullMicros(revoked)
	return k, err
}

// insertKey stores a new key for c in tx and returns its plaintext.
func insertKey(ctx context.Context, tx *db.Tx, consumerID string) (string, Key, error) {
	plain := newKey()
	k := Key{ID: newID("xk"), ConsumerID: consumerID, Prefix: plain[:shownPrefix], CreatedAt: tx.Now}
	if _, err := tx.ExecContext(ctx, `INSERT INTO xchg_key (id, consumer_id, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.ConsumerID, k.Prefix, hashKey(plain), db.Micros(tx.Now)); err != nil {
		return "", Key{}, fmt.Errorf("insert key: %w", err)
	}
	return plain, k, nil
}

// IssueKey gives a consumer a new key and returns its plaintext, which is
// shown once: only its SHA-256 is kept (enough for a 160-bit random key).
func (s *Service) IssueKey(ctx context.Context, consumerID string) (string, Key, error) {
	var plain string
	var k Key
	err := s.change(ctx, func(tx *db.Tx) error {
		if _, err := s.consumer(ctx, tx, consumerID); err != nil {
			return err
		}
		var err error
		if plain, k, err = insertKey(ctx, tx, consumerID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "exchange.key.issue", ObjectType: "exchange_key", ObjectID: k.ID,
			Details: map[string]any{"consumer_id": consumerID, "prefix": k.Prefix}})
		return err
	})
	return plain, k, err
}

// RotateKey issues a new key and lets the consumer's other active keys run
// out after overlap, so its operators can deploy the new key without a
// failed call. A key that already ends sooner keeps its end.
func (s *Service) RotateKey(ctx context.Context, consumerID string, overlap time.Duration) (string, Key, error) {
	if overlap < 0 || overlap > 90*24*time.Hour {
		return "", Key{}, apperr.InvalidFields(map[string]string{"overlap": "exchange.overlap_invalid"})
	}
	var plain string
	var k Key
	err := s.change(ctx, func(tx *db.Tx) error {
		if _, err := s.consumer(ctx, tx, consumerID); err != nil {
			return err
		}
		end := db.Micros(tx.Now.Add(overlap))
		res, err := tx.ExecContext(ctx, `UPDATE xchg_key SET expires_at = $1 WHERE consumer_id = $2 AND revoked_at IS NULL
AND (expires_at IS NULL OR expires_at > $1)`, end, consumerID)
		if err != nil {
			return fmt.Errorf("expire old keys: %w", err)
		}
		ended, _ := res.RowsAffected()
		if plain, k, err = insertKey(ctx, tx, consumerID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "exchange.key.rotate", ObjectType: "exchange_key", ObjectID: k.ID,
			Details: map[string]any{"consumer_id": consumerID, "prefix": k.Prefix, "overlap_seconds": int64(overlap.Seconds()),
				"old_keys_ending": ended}})
		return err
	})
	return plain, k, err
}

// RevokeKey ends a key at once. Revoking it again changes nothing.
func (s *Service) RevokeKey(ctx context.Context, keyID string) error {
	return s.change(ctx, func(tx *db.Tx) error {
		k, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyCols+` FROM xchg_key WHERE id = $1`, keyID))
		if err != nil {
			return db.NotFoundIfNoRows(err, "exchange.key_not_found")
		}
		if !k.RevokedAt.IsZero() {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE xchg_key SET revoked_at = $1 WHERE id = $2`, db.Micros(tx.Now), keyID); err != nil {
			return fmt.Errorf("revoke key: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "exchange.key.revoke", ObjectType: "exchange_key", ObjectID: keyID,
			Details: map[string]any{"consumer_id": k.ConsumerID, "prefix": k.Prefix}})
		return err
	})
}

// Keys lists a consumer's keys, newest first.
func (s *Service) Keys(ctx context.Context, consumerID string) ([]Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyCols+` FROM xchg_key WHERE consumer_id = $1 ORDER BY created_at DESC, id`, consumerID)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// normMethods upper-cases, sorts and deduplicates methods, or returns false
// if one is not an HTTP method the gateway forwards.
func normMethods(methods []string) ([]string, bool) {
	var out []string
	for _, m := range methods {
		m = strings.ToUpper(strings.TrimSpace(m))
		if !slices.Contains(allMethods, m) {
			return nil, false
		}
		out = append(out, m)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return out, len(out) > 0
}

// Grant lets a consumer call a service with methods, replacing an earlier
// grant for the same pair.
func (s *Service) Grant(ctx context.Context, consumerID, serviceID string, methods []string, ratePerMinute int) (Grant, error) {
	ms, ok := normMethods(methods)
	f := map[string]string{}
	if !ok {
		f["methods"] = "exchange.methods_invalid"
	}
	if ratePerMinute < 0 || ratePerMinute > 100_000_000 {
		f["rate_per_minute"] = "exchange.rate_invalid"
	}
	if len(f) > 0 {
		return Grant{}, apperr.InvalidFields(f)
	}
	g := Grant{ConsumerID: consumerID, ServiceID: serviceID, Methods: ms, RatePerMinute: ratePerMinute}
	err := s.change(ctx, func(tx *db.Tx) error {
		if _, err := s.consumer(ctx, tx, consumerID); err != nil {
			return err
		}
		if _, err := s.service(ctx, tx, serviceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO xchg_grant (consumer_id, service_id, methods, rate_per_minute, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $5)
ON CONFLICT (consumer_id, service_id) DO UPDATE SET methods = excluded.methods, rate_per_minute = excluded.rate_per_minute,
updated_at = excluded.updated_at`, consumerID, serviceID, strings.Join(ms, ","), ratePerMinute, db.Micros(tx.Now)); err != nil {
			return fmt.Errorf("grant: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "exchange.grant.set", ObjectType: "exchange_grant",
			ObjectID: consumerID + "/" + serviceID, Details: map[string]any{"methods": strings.Join(ms, ","), "rate_per_minute": ratePerMinute}})
		return err
	})
	return g, err
}

// Revoke removes a consumer's grant for a service.
func (s *Service) Revoke(ctx context.Context, consumerID, serviceID string) error {
	return s.change(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM xchg_grant WHERE consumer_id = $1 AND service_id = $2`, consumerID, serviceID)
		if err != nil {
			return fmt.Errorf("revoke grant: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "exchange.grant_not_found")
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "exchange.grant.revoke", ObjectType: "exchange_grant",
			ObjectID: consumerID + "/" + serviceID})
		return err
	})
}

// Grants lists a consumer's grants by service id.
func (s *Service) Grants(ctx context.Context, consumerID string) ([]Grant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT consumer_id, service_id, methods, rate_per_minute FROM xchg_grant
WHERE consumer_id = $1 ORDER BY service_id`, consumerID)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var g Grant
		var ms string
		if err := rows.Scan(&g.ConsumerID, &g.ServiceID, &ms, &g.RatePerMinute); err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		g.Methods = strings.Split(ms, ",")
		out = append(out, g)
	}
	return out, rows.Err()
}
