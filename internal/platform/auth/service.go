package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
)

// Config sets session lifetimes and sign-in throttling.
type Config struct {
	SessionIdle     time.Duration // a session unused this long ends (default 30 min)
	SessionAbsolute time.Duration // a session ends this long after sign-in (default 12 h)
	Argon2          Argon2Params
	Throttle        ThrottleConfig
	// Scopes checks and names scope codes; nil accepts any code.
	Scopes Scopes
}

// Scopes checks scope codes against the registers that define them (the
// administrative units for ward scopes) and names them. The platform cannot
// import those modules, so the app passes them in.
type Scopes interface {
	// CheckScope returns the i18n key of what is wrong with sc's code, or "".
	CheckScope(ctx context.Context, sc reqctx.Scope) string
	// ScopeName returns the name sc's code stands for, or "".
	ScopeName(ctx context.Context, sc reqctx.Scope) string
}

// scopeProblem returns the i18n key of what is wrong with sc, or "".
func (s *Service) scopeProblem(ctx context.Context, sc reqctx.Scope) string {
	if !sc.Valid() {
		return "user.scope_invalid"
	}
	if s.cfg.Scopes == nil {
		return ""
	}
	return s.cfg.Scopes.CheckScope(ctx, sc)
}

// named fills the users' ScopeName.
func (s *Service) named(ctx context.Context, us []User) {
	if s.cfg.Scopes == nil {
		return
	}
	for i := range us {
		us[i].ScopeName = s.cfg.Scopes.ScopeName(ctx, us[i].Scope)
	}
}

func (c *Config) defaults() {
	if c.SessionIdle == 0 {
		c.SessionIdle = 30 * time.Minute
	}
	if c.SessionAbsolute == 0 {
		c.SessionAbsolute = 12 * time.Hour
	}
	if c.Argon2.Memory == 0 {
		c.Argon2 = DefaultArgon2
	}
	c.Throttle.defaults()
}

// Service is the accounts service.
type Service struct {
	db      *db.DB
	log     *slog.Logger
	cfg     Config
	dummy   string        // a hash to verify against when the account does not exist
	hashing chan struct{} // bounds concurrent argon2 work (19 MiB each)
	account keyedMutex    // one sign-in attempt per account at a time in this process
}

// NewService returns the accounts service.
func NewService(d *db.DB, log *slog.Logger, cfg Config) (*Service, error) {
	cfg.defaults()
	dummy, err := HashPassword("not a real password", cfg.Argon2)
	if err != nil {
		return nil, err
	}
	return &Service{db: d, log: log, cfg: cfg, dummy: dummy, hashing: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}, nil
}

// verify checks pw against a stored hash, waiting for a hashing slot so a
// burst of sign-ins cannot exhaust memory.
func (s *Service) verify(ctx context.Context, hash, pw string) (ok, rehash bool, err error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return false, false, ctx.Err()
	}
	defer func() { <-s.hashing }()
	return VerifyPassword(hash, pw, s.cfg.Argon2)
}

// hash makes a new password hash under the same bound.
func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.hashing }()
	return HashPassword(pw, s.cfg.Argon2)
}

// Config returns the service's effective configuration.
func (s *Service) Config() Config { return s.cfg }

func errConflict(key string) error { return apperr.New(apperr.Conflict, key) }

func validateUser(u *NewUser) error {
	f := map[string]string{}
	u.Username = strings.ToLower(strings.TrimSpace(u.Username))
	u.FullName = strings.TrimSpace(u.FullName)
	u.Email = strings.TrimSpace(u.Email)
	switch {
	case u.Username == "":
		f["username"] = "user.username_required"
	case !usernameRE.MatchString(u.Username):
		f["username"] = "user.username_invalid"
	}
	if u.FullName == "" || utf8.RuneCountInString(u.FullName) > 200 {
		f["full_name"] = "user.full_name_invalid"
	}
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			f["email"] = "user.email_invalid"
		}
	}
	if !u.Role.Valid() {
		f["role"] = "user.role_invalid"
	}
	if !u.Scope.Valid() {
		f["scope"] = "user.scope_invalid"
	}
	if k := passwordProblem(u.Password); k != "" {
		f["password"] = k
	}
	if len(f) > 0 {
		return apperr.InvalidFields(f)
	}
	return nil
}

func passwordProblem(pw string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return "user.password_short"
	case len(pw) > MaxPasswordLen:
		return "user.password_long"
	}
	return ""
}

// CreateUser adds a user and audits it.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (User, error) {
	if err := validateUser(&in); err != nil {
		return User{}, err
	}
	if k := s.scopeProblem(ctx, in.Scope); k != "" {
		return User{}, apperr.InvalidFields(map[string]string{"scope": k})
	}
	hash, err := s.hash(ctx, in.Password)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	u := User{ID: newID("u_"), Username: in.Username, FullName: in.FullName, Email: in.Email, Role: in.Role,
		Scope: in.Scope, MustChangePassword: in.MustChangePassword, Version: 1}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := storeInsertUser(ctx, tx, u, hash); err != nil {
			if apperr.Is(err, apperr.Conflict) {
				return &apperr.Error{Kind: apperr.Conflict, Key: "user.username_taken", Field: map[string]string{"username": "user.username_taken"}, Err: err}
			}
			return err
		}
		u.CreatedAt, u.UpdatedAt, u.PasswordChangedAt = tx.Now, tx.Now, tx.Now
		_, err := audit.Append(ctx, tx, audit.Record{Action: "user.create", ObjectType: "user", ObjectID: u.ID,
			Details: map[string]any{"username": u.Username, "role": string(u.Role), "scope": scopeString(u.Scope)}})
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", in.Username, err)
	}
	s.log.InfoContext(ctx, "user created", "user_id", u.ID, "role", string(u.Role))
	return u, nil
}

func scopeString(sc reqctx.Scope) string {
	if sc.Code == "" {
		return string(sc.Kind)
	}
	return string(sc.Kind) + ":" + sc.Code
}

// User returns one user.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	u, err := storeGetUser(ctx, s.db, id)
	if err == nil {
		us := []User{u}
		s.named(ctx, us)
		u = us[0]
	}
	return u, err
}

// UserByName returns the user with username.
func (s *Service) UserByName(ctx context.Context, username string) (User, error) {
	u, _, err := storeUserByName(ctx, s.db, strings.ToLower(strings.TrimSpace(username)))
	return u, err
}

// Users lists users matching f and the total count.
func (s *Service) Users(ctx context.Context, f UserFilter) ([]User, int, error) {
	us, n, err := storeListUsers(ctx, s.db, f)
	s.named(ctx, us)
	return us, n, err
}

// CountUsers returns how many accounts exist.
func (s *Service) CountUsers(ctx context.Context) (int, error) { return storeCountUsers(ctx, s.db) }

// UpdateUser applies up to the user with id, refusing a stale version. Disabling
// a user ends their sessions. An admin cannot disable or demote themselves, so
// a province never locks itself out by one click.
func (s *Service) UpdateUser(ctx context.Context, id string, up UserUpdate) (User, error) {
	var out User
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := storeGetUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if up.Version != 0 && up.Version != u.Version {
			return apperr.New(apperr.Conflict, "user.stale_version")
		}
		before := u
		changes := map[string]any{}
		f := map[string]string{}
		if up.FullName != nil {
			v := strings.TrimSpace(*up.FullName)
			if v == "" || utf8.RuneCountInString(v) > 200 {
				f["full_name"] = "user.full_name_invalid"
			}
			u.FullName = v
		}
		if up.Email != nil {
			v := strings.TrimSpace(*up.Email)
			if v != "" {
				if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
					f["email"] = "user.email_invalid"
				}
			}
			u.Email = v
		}
		if up.Role != nil {
			if !up.Role.Valid() {
				f["role"] = "user.role_invalid"
			}
			u.Role = *up.Role
		}
		if up.Scope != nil {
			if *up.Scope != u.Scope {
				if k := s.scopeProblem(ctx, *up.Scope); k != "" {
					f["scope"] = k
				}
			}
			u.Scope = *up.Scope
		}
		if up.Disabled != nil {
			u.Disabled = *up.Disabled
		}
		if len(f) > 0 {
			return apperr.InvalidFields(f)
		}
		if p := reqctx.PrincipalOf(ctx); p != nil && p.Kind == "user" && p.ID == u.ID &&
			(u.Disabled || u.Role != before.Role) {
			return apperr.New(apperr.Forbidden, "user.no_self_lockout")
		}
		diff(changes, "full_name", before.FullName, u.FullName)
		diff(changes, "email", before.Email, u.Email)
		diff(changes, "role", string(before.Role), string(u.Role))
		diff(changes, "scope", scopeString(before.Scope), scopeString(u.Scope))
		diff(changes, "disabled", before.Disabled, u.Disabled)
		if len(changes) == 0 {
			out = u
			return nil
		}
		if err := storeUpdateUser(ctx, tx, u, before.Version); err != nil {
			return err
		}
		if u.Disabled && !before.Disabled {
			if err := storeDeleteSessionsOf(ctx, tx, u.ID, ""); err != nil {
				return err
			}
		}
		action := "user.update"
		switch {
		case u.Disabled && !before.Disabled:
			action = "user.disable"
		case !u.Disabled && before.Disabled:
			action = "user.enable"
		}
		if _, err := audit.Append(ctx, tx, audit.Record{Action: action, ObjectType: "user", ObjectID: u.ID,
			Details: map[string]any{"username": u.Username, "changes": changes}}); err != nil {
			return err
		}
		u.Version++
		u.UpdatedAt = tx.Now
		out = u
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	return out, nil
}

func diff[T comparable](m map[string]any, k string, a, b T) {
	if a != b {
		m[k] = map[string]any{"from": a, "to": b}
	}
}

// ChangePassword lets a user replace their own password after giving the
// current one. Every other session of the user ends; the current one is kept.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next, keepSession string) error {
	if k := passwordProblem(next); k != "" {
		return &apperr.Error{Kind: apperr.Invalid, Key: k, Field: map[string]string{"new_password": k}}
	}
	if current == next {
		return &apperr.Error{Kind: apperr.Invalid, Key: "user.password_same", Field: map[string]string{"new_password": "user.password_same"}}
	}
	u, err := storeGetUser(ctx, s.db, userID)
	if err != nil {
		return err
	}
	_, hash, err := storeUserByName(ctx, s.db, u.Username)
	if err != nil {
		return err
	}
	// Guessing the current password from an open session is throttled like
	// guessing it at the sign-in page: same key, same locks.
	key := "user:" + u.Username
	unlock := s.account.lock(key)
	defer unlock()
	if wait, err := s.lockedFor(ctx, []string{key}, s.db.Now()); err != nil {
		return err
	} else if wait > 0 {
		return &apperr.Error{Kind: apperr.TooManyRequests, Key: "auth.throttled", RetryAfter: int(wait.Seconds()) + 1}
	}
	ok, _, err := s.verify(ctx, hash, current)
	if err != nil || !ok {
		return s.failed(ctx, []string{key}, u.Username, Credentials{Client: reqctx.Client(ctx)}, "wrong_current_password",
			&apperr.Error{Kind: apperr.Invalid, Key: "user.password_wrong", Field: map[string]string{"current_password": "user.password_wrong"}})
	}
	return s.setPassword(ctx, u, next, false, keepSession, "user.password_change")
}

// ResetPassword sets a new password chosen by an admin; the user must change
// it at next sign-in, and all their sessions end.
func (s *Service) ResetPassword(ctx context.Context, userID, next string) error {
	if k := passwordProblem(next); k != "" {
		return &apperr.Error{Kind: apperr.Invalid, Key: k, Field: map[string]string{"password": k}}
	}
	u, err := storeGetUser(ctx, s.db, userID)
	if err != nil {
		return err
	}
	return s.setPassword(ctx, u, next, true, "", "user.password_reset")
}

func (s *Service) setPassword(ctx context.Context, u User, pw string, mustChange bool, keepSession, action string) error {
	hash, err := s.hash(ctx, pw)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := storeSetPassword(ctx, tx, u.ID, hash, mustChange); err != nil {
			return err
		}
		if err := storeDeleteSessionsOf(ctx, tx, u.ID, keepSession); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: action, ObjectType: "user", ObjectID: u.ID,
			Details: map[string]any{"username": u.Username}})
		return err
	})
}

// Credentials is a sign-in attempt.
type Credentials struct {
	Username  string
	Password  string
	Client    string // address the attempt came from
	UserAgent string
}

// Login checks credentials under throttling and opens a session. Unknown user,
// wrong password and disabled account all give the same error, in about the
// same time, so the answer reveals nothing about which accounts exist.
func (s *Service) Login(ctx context.Context, c Credentials) (token string, u User, err error) {
	// A name no account can have is still counted, under a bounded key, so a
	// megabyte "username" costs the attacker a failure and us 64 bytes.
	name := truncate(strings.ToLower(strings.TrimSpace(c.Username)), 64)
	keys := []string{"user:" + name, "ip:" + c.Client}
	// Attempts on one account run one after another, each seeing the failures
	// before it: parallel guesses cannot slip past the lock.
	unlock := s.account.lock(keys[0])
	defer unlock()
	if wait, err := s.lockedFor(ctx, keys, s.db.Now()); err != nil {
		return "", User{}, err
	} else if wait > 0 {
		s.log.WarnContext(ctx, "sign-in refused while locked", "client", c.Client)
		return "", User{}, &apperr.Error{Kind: apperr.TooManyRequests, Key: "auth.throttled", RetryAfter: int(wait.Seconds()) + 1}
	}
	bad := &apperr.Error{Kind: apperr.Unauthenticated, Key: "auth.bad_credentials"}
	if len(c.Password) > MaxPasswordLen || !usernameRE.MatchString(name) {
		_, _, _ = s.verify(ctx, s.dummy, "x")
		return "", User{}, s.failed(ctx, keys, name, c, "malformed", bad)
	}
	u, hash, err := storeUserByName(ctx, s.db, name)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return "", User{}, err
	}
	if err != nil {
		// Spend the same work as a real check.
		_, _, _ = s.verify(ctx, s.dummy, c.Password)
		return "", User{}, s.failed(ctx, keys, name, c, "unknown_user", bad)
	}
	ok, rehash, verr := s.verify(ctx, hash, c.Password)
	if verr != nil || !ok {
		return "", User{}, s.failed(ctx, keys, name, c, "wrong_password", bad)
	}
	if u.Disabled {
		return "", User{}, s.failed(ctx, keys, name, c, "disabled", bad)
	}
	token = randomToken(32)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE throttle_key = $1`, keys[0]); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, client, user_agent)
VALUES ($1, $2, $3, $3, $4, $5, $6)`, sha(token), u.ID, db.Micros(tx.Now), db.Micros(tx.Now.Add(s.cfg.SessionAbsolute)),
			c.Client, truncate(c.UserAgent, 300)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = $1 WHERE id = $2`, db.Micros(tx.Now), u.ID); err != nil {
			return err
		}
		if rehash {
			if h, err := s.hash(ctx, c.Password); err == nil {
				if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, h, u.ID); err != nil {
					return err
				}
			}
		}
		_, err := audit.Append(ctx, tx, audit.Record{Actor: "user:" + u.Username, Action: "session.login", ObjectType: "user",
			ObjectID: u.ID, Details: map[string]any{"client": c.Client, "username": u.Username}})
		return err
	})
	if err != nil {
		return "", User{}, fmt.Errorf("login: %w", err)
	}
	u.LastLoginAt = s.db.Now()
	return token, u, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Logout ends the session whose token is given.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var userID string
		err := tx.QueryRowContext(ctx, `DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id`, sha(token)).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "session.logout", ObjectType: "user", ObjectID: userID})
		return err
	})
}

// touchEvery limits last-seen writes to one a minute per session.
const touchEvery = time.Minute

// SessionPrincipal returns the principal of a session token, or an
// Unauthenticated error when the token is unknown or its session expired
// (idle or absolute) or its user is disabled.
func (s *Service) SessionPrincipal(ctx context.Context, token string) (*reqctx.Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, apperr.New(apperr.Unauthenticated, "auth.session_expired")
	}
	h := sha(token)
	var sess Session
	var created, seen, expires int64
	var u User
	var role, sk string
	err := s.db.QueryRowContext(ctx, `SELECT s.user_id, s.created_at, s.last_seen_at, s.expires_at,
u.username, u.full_name, u.role, u.scope_kind, u.scope_code, u.disabled, u.must_change_password
FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, h).Scan(
		&sess.UserID, &created, &seen, &expires, &u.Username, &u.FullName, &role, &sk, &u.Scope.Code, &u.Disabled, &u.MustChangePassword)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.Unauthenticated, "auth.session_expired")
	}
	if err != nil {
		return nil, fmt.Errorf("session lookup: %w", err)
	}
	now := s.db.Now()
	lastSeen := db.FromMicros(seen)
	if u.Disabled || now.After(db.FromMicros(expires)) || now.Sub(lastSeen) > s.cfg.SessionIdle {
		_, _ = s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, h)
		return nil, apperr.New(apperr.Unauthenticated, "auth.session_expired")
	}
	if now.Sub(lastSeen) > touchEvery {
		_, _ = s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2`, db.Micros(now), h)
	}
	return &reqctx.Principal{Kind: "user", ID: sess.UserID, Name: u.Username, FullName: u.FullName,
		Role: reqctx.Role(role), Scope: reqctx.Scope{Kind: reqctx.ScopeKind(sk), Code: u.Scope.Code}, SessionID: h,
		MustChangePassword: u.MustChangePassword}, nil
}

// PurgeSessions deletes expired sessions and returns how many.
func (s *Service) PurgeSessions(ctx context.Context) (int64, error) {
	now := s.db.Now()
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2`,
		db.Micros(now), db.Micros(now.Add(-s.cfg.SessionIdle)))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CountActiveUsers returns how many accounts are not disabled.
func (s *Service) CountActiveUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE disabled = FALSE`).Scan(&n)
	return n, err
}

// CountOpenSessions returns how many sessions are still valid now.
func (s *Service) CountOpenSessions(ctx context.Context) (int, error) {
	var n int
	now := s.db.Now()
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE expires_at > $1 AND last_seen_at > $2`,
		db.Micros(now), db.Micros(now.Add(-s.cfg.SessionIdle))).Scan(&n)
	return n, err
}
