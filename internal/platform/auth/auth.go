// Package auth holds hopnhat's accounts: users with argon2id passwords, roles and
// scopes, server-side sessions, API keys for machine clients, and sign-in
// throttling. Every change it makes is audited in the same transaction.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"time"

	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the auth module's tables.
var Migrations = db.EmbeddedModule("auth", migrationFS)

// User is an account of a person.
type User struct {
	ID                 string
	Username           string
	FullName           string
	Email              string
	Role               reqctx.Role
	Scope              reqctx.Scope
	Disabled           bool
	MustChangePassword bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
	PasswordChangedAt  time.Time
	LastLoginAt        time.Time
	Version            int64
	// ScopeName is what Scope.Code stands for ("Phường Lê Chân"), when a
	// register knows it; set by User and Users, not stored.
	ScopeName string
}

// NewUser is the input to CreateUser.
type NewUser struct {
	Username           string
	FullName           string
	Email              string
	Role               reqctx.Role
	Scope              reqctx.Scope
	Password           string
	MustChangePassword bool
}

// UserUpdate changes a user's profile, role, scope or state. Version must be
// the version the editor saw: a stale one is refused, never overwritten.
type UserUpdate struct {
	FullName *string
	Email    *string
	Role     *reqctx.Role
	Scope    *reqctx.Scope
	Disabled *bool
	Version  int64
}

// UserFilter selects users for the list page.
type UserFilter struct {
	Query    string // matches username or full name
	Role     reqctx.Role
	Disabled *bool
	Limit    int
	Offset   int
}

// APIKey is a machine client's credential. The secret is shown once at
// creation and stored only as a hash.
type APIKey struct {
	ID         string
	Name       string
	Role       reqctx.Role
	Scope      reqctx.Scope
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// Active reports whether the key can still be used at now.
func (k APIKey) Active(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// ValidThrough is the last instant the key works (ExpiresAt is the first it
// does not), so a key "valid through 31/12" shows 31/12; zero when it never expires.
func (k APIKey) ValidThrough() time.Time {
	if k.ExpiresAt.IsZero() {
		return time.Time{}
	}
	return k.ExpiresAt.Add(-time.Microsecond)
}

// NewAPIKey is the input to CreateAPIKey.
type NewAPIKey struct {
	Name      string
	Role      reqctx.Role
	Scope     reqctx.Scope
	ExpiresAt time.Time
}

// Session is a signed-in browser.
type Session struct {
	TokenHash  string
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	Client     string
	UserAgent  string
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// MaxPasswordLen bounds the work a sign-in can ask of argon2.
const MaxPasswordLen = 256

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
