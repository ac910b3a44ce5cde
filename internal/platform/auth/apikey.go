package auth

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
)

// APIKeyPrefix starts every key, so a leaked key is recognisable in logs and
// secret scanners.
const APIKeyPrefix = "hnk_"

// CreateAPIKey issues a key and returns its plaintext, shown to the caller once.
// The key is "hnk_<id>_<secret>"; only SHA-256 of the secret is stored, which is
// enough for a 256-bit random secret (no dictionary to attack).
func (s *Service) CreateAPIKey(ctx context.Context, in NewAPIKey) (string, APIKey, error) {
	in.Name = strings.TrimSpace(in.Name)
	f := map[string]string{}
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 {
		f["name"] = "apikey.name_invalid"
	}
	if !in.Role.Valid() {
		f["role"] = "user.role_invalid"
	}
	if in.Scope.Kind == "" {
		in.Scope.Kind = reqctx.ScopeProvince
	}
	if k := s.scopeProblem(ctx, in.Scope); k != "" {
		f["scope"] = k
	}
	if !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(s.db.Now()) {
		f["expires_at"] = "apikey.expiry_past"
	}
	if len(f) > 0 {
		return "", APIKey{}, apperr.InvalidFields(f)
	}
	id := newID("k")[:13]
	secret := randomToken(32)
	k := APIKey{ID: id, Name: in.Name, Role: in.Role, Scope: in.Scope, CreatedBy: reqctx.Actor(ctx), ExpiresAt: in.ExpiresAt}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		k.CreatedAt = tx.Now
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, name, secret_hash, role, scope_kind, scope_code, created_by, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, k.ID, k.Name, sha(secret), string(k.Role), string(k.Scope.Kind), k.Scope.Code,
			k.CreatedBy, db.Micros(tx.Now), db.NullMicros(k.ExpiresAt)); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "apikey.create", ObjectType: "apikey", ObjectID: k.ID,
			Details: map[string]any{"name": k.Name, "role": string(k.Role), "scope": scopeString(k.Scope), "valid_through": validThrough(k)}})
		return err
	})
	if err != nil {
		return "", APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	return APIKeyPrefix + k.ID + "_" + secret, k, nil
}

// APIKeys lists every key, newest first.
func (s *Service) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey ends a key at once.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, db.Micros(tx.Now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM api_keys WHERE id = $1`, id).Scan(&one); err != nil {
				return db.NotFoundIfNoRows(err, "apikey.not_found")
			}
			return nil // already revoked: revoking again changes nothing
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "apikey.revoke", ObjectType: "apikey", ObjectID: id})
		return err
	})
}

// APIKeyPrincipal returns the principal of a presented key, or Unauthenticated.
func (s *Service) APIKeyPrincipal(ctx context.Context, presented string) (*reqctx.Principal, error) {
	bad := apperr.New(apperr.Unauthenticated, "auth.bad_api_key")
	rest, ok := strings.CutPrefix(presented, APIKeyPrefix)
	if !ok {
		return nil, bad
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) > 20 || len(secret) > 100 {
		return nil, bad
	}
	var hash string
	row := s.db.QueryRowContext(ctx, `SELECT `+apiKeyColumns+`, secret_hash FROM api_keys WHERE id = $1`, id)
	var k APIKey
	var role, sk string
	var created int64
	var expires, used, revoked sql.NullInt64
	err := row.Scan(&k.ID, &k.Name, &role, &sk, &k.Scope.Code, &k.CreatedBy, &created, &expires, &used, &revoked, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bad
	}
	if err != nil {
		return nil, fmt.Errorf("api key lookup: %w", err)
	}
	k.ExpiresAt, k.LastUsedAt, k.RevokedAt = db.FromNullMicros(expires), db.FromNullMicros(used), db.FromNullMicros(revoked)
	now := s.db.Now()
	if subtle.ConstantTimeCompare([]byte(sha(secret)), []byte(hash)) != 1 || !k.Active(now) {
		return nil, bad
	}
	if now.Sub(k.LastUsedAt) > touchEvery {
		_, _ = s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, db.Micros(now), k.ID)
	}
	return &reqctx.Principal{Kind: "apikey", ID: k.ID, Name: k.ID, FullName: k.Name, Role: reqctx.Role(role),
		Scope: reqctx.Scope{Kind: reqctx.ScopeKind(sk), Code: k.Scope.Code}}, nil
}

func validThrough(k APIKey) string {
	if k.ExpiresAt.IsZero() {
		return ""
	}
	return k.ValidThrough().In(time.FixedZone("ICT", 7*3600)).Format("02/01/2006")
}
