package auth

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/fold"
	"hopnhat/internal/platform/reqctx"
)

const userColumns = `id, username, full_name, email, role, scope_kind, scope_code, disabled, must_change_password,
created_at, updated_at, password_changed_at, last_login_at, version`

type scanner interface{ Scan(...any) error }

func scanUser(s scanner) (User, error) {
	var u User
	var role, sk string
	var created, updated, pwChanged int64
	var lastLogin sql.NullInt64
	err := s.Scan(&u.ID, &u.Username, &u.FullName, &u.Email, &role, &sk, &u.Scope.Code, &u.Disabled, &u.MustChangePassword,
		&created, &updated, &pwChanged, &lastLogin, &u.Version)
	if err != nil {
		return User{}, err
	}
	u.Role, u.Scope.Kind = reqctx.Role(role), reqctx.ScopeKind(sk)
	u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt = db.FromMicros(created), db.FromMicros(updated), db.FromMicros(pwChanged)
	u.LastLoginAt = db.FromNullMicros(lastLogin)
	return u, nil
}

const insertUser = `INSERT INTO users (id, username, full_name, email, role, scope_kind, scope_code, password_hash,
disabled, must_change_password, created_at, updated_at, password_changed_at, version, search_text)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, $9, $10, $10, $10, 1, $11)`

func storeInsertUser(ctx context.Context, tx *db.Tx, u User, hash string) error {
	now := db.Micros(tx.Now)
	_, err := tx.ExecContext(ctx, insertUser, u.ID, u.Username, u.FullName, u.Email, string(u.Role), string(u.Scope.Kind),
		u.Scope.Code, hash, u.MustChangePassword, now, searchText(u))
	return err
}

func storeGetUser(ctx context.Context, q db.Querier, id string) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	return u, db.NotFoundIfNoRows(err, "user.not_found")
}

func storeUserByName(ctx context.Context, q db.Querier, username string) (User, string, error) {
	var hash string
	row := q.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE username = $1`, username)
	var u User
	var role, sk string
	var created, updated, pwChanged int64
	var lastLogin sql.NullInt64
	err := row.Scan(&u.ID, &u.Username, &u.FullName, &u.Email, &role, &sk, &u.Scope.Code, &u.Disabled, &u.MustChangePassword,
		&created, &updated, &pwChanged, &lastLogin, &u.Version, &hash)
	if err != nil {
		return User{}, "", db.NotFoundIfNoRows(err, "user.not_found")
	}
	u.Role, u.Scope.Kind = reqctx.Role(role), reqctx.ScopeKind(sk)
	u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt = db.FromMicros(created), db.FromMicros(updated), db.FromMicros(pwChanged)
	u.LastLoginAt = db.FromNullMicros(lastLogin)
	return u, hash, nil
}

func storeListUsers(ctx context.Context, q db.Querier, f UserFilter) ([]User, int, error) {
	var where []string
	var args []any
	if f.Query != "" {
		args = append(args, "%"+db.EscapeLike(fold.String(f.Query))+"%")
		where = append(where, fmt.Sprintf(`search_text LIKE $%d ESCAPE '\'`, len(args)))
	}
	if f.Role != "" {
		args = append(args, string(f.Role))
		where = append(where, fmt.Sprintf("role = $%d", len(args)))
	}
	if f.Disabled != nil {
		args = append(args, *f.Disabled)
		where = append(where, fmt.Sprintf("disabled = $%d", len(args)))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	args = append(args, limit, max(0, f.Offset))
	rows, err := q.QueryContext(ctx, fmt.Sprintf(`SELECT `+userColumns+` FROM users`+cond+` ORDER BY username LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, u)
	}
	return out, total, rows.Err()
}

const updateUser = `UPDATE users SET full_name = $1, email = $2, role = $3, scope_kind = $4, scope_code = $5,
disabled = $6, updated_at = $7, version = version + 1, search_text = $10 WHERE id = $8 AND version = $9`

func storeUpdateUser(ctx context.Context, tx *db.Tx, u User, seenVersion int64) error {
	res, err := tx.ExecContext(ctx, updateUser, u.FullName, u.Email, string(u.Role), string(u.Scope.Kind), u.Scope.Code,
		u.Disabled, db.Micros(tx.Now), u.ID, seenVersion, searchText(u))
	if err != nil {
		return err
	}
	return oneRow(res, "user.stale_version")
}

func oneRow(res sql.Result, conflictKey string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return errConflict(conflictKey)
	}
	return nil
}

func storeSetPassword(ctx context.Context, tx *db.Tx, userID, hash string, mustChange bool) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3,
updated_at = $3, version = version + 1 WHERE id = $4`, hash, mustChange, db.Micros(tx.Now), userID)
	return err
}

func storeDeleteSessionsOf(ctx context.Context, tx *db.Tx, userID, except string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, except)
	return err
}

func storeCountUsers(ctx context.Context, q db.Querier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

const apiKeyColumns = `id, name, role, scope_kind, scope_code, created_by, created_at, expires_at, last_used_at, revoked_at`

func scanAPIKey(s scanner) (APIKey, error) {
	var k APIKey
	var role, sk string
	var created int64
	var expires, used, revoked sql.NullInt64
	if err := s.Scan(&k.ID, &k.Name, &role, &sk, &k.Scope.Code, &k.CreatedBy, &created, &expires, &used, &revoked); err != nil {
		return APIKey{}, err
	}
	k.Role, k.Scope.Kind = reqctx.Role(role), reqctx.ScopeKind(sk)
	k.CreatedAt, k.ExpiresAt = db.FromMicros(created), db.FromNullMicros(expires)
	k.LastUsedAt, k.RevokedAt = db.FromNullMicros(used), db.FromNullMicros(revoked)
	return k, nil
}

func searchText(u User) string {
	return fold.String(u.Username + " " + u.FullName + " " + u.Email)
}
