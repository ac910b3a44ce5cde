// Package dbtest runs store tests on real databases: a fresh SQLite file in a temp
// directory, and, when HOPNHAT_TEST_POSTGRES is set, a fresh PostgreSQL schema.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hopnhat/internal/platform/db"
)

// DefaultPostgresURL is used when HOPNHAT_TEST_POSTGRES is set to "1" or "true".
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// RequireAll reports whether tests must fail instead of skipping when a database
// or a browser is missing (HOPNHAT_REQUIRE_ALL=1, set in CI).
func RequireAll() bool { return os.Getenv("HOPNHAT_REQUIRE_ALL") == "1" }

// Skip skips t with reason, or fails it under HOPNHAT_REQUIRE_ALL=1.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if RequireAll() {
		t.Fatalf("HOPNHAT_REQUIRE_ALL=1 but %s", reason)
	}
	t.Skip(reason)
}

// PostgresURL returns the base URL of the test PostgreSQL, or "" when
// HOPNHAT_TEST_POSTGRES is unset.
func PostgresURL() string {
	v := os.Getenv("HOPNHAT_TEST_POSTGRES")
	switch v {
	case "":
		return ""
	case "1", "true", "yes":
		return DefaultPostgresURL
	}
	return v
}

// Each runs fn once on a fresh migrated SQLite and once on a fresh migrated
// PostgreSQL schema (or skips that half with a reason).
func Each(t *testing.T, modules []db.Module, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t, modules)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t, modules)) })
}

// Clock is a settable clock for tests, safe to read from other goroutines
// while the test moves it.
type Clock struct {
	mu sync.Mutex
	T  time.Time // the start; read it only before sharing the clock
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = c.T
	}
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = c.T
	}
	c.t = c.t.Add(d)
}

// SQLite opens a fresh, migrated SQLite database in t.TempDir().
func SQLite(t testing.TB, modules []db.Module) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.OpenSQLite(ctx, filepath.Join(t.TempDir(), "test.db"), nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx, modules); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return d
}

// PostgresSchemaURL creates a fresh schema on the test PostgreSQL, dropped when
// the test ends, and returns a URL whose connections use it. It skips (or fails
// under HOPNHAT_REQUIRE_ALL=1) when PostgreSQL is not configured or not reachable.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL()
	if base == "" {
		Skip(t, "PostgreSQL tests need HOPNHAT_TEST_POSTGRES (1 for "+DefaultPostgresURL+", or a URL)")
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		Skip(t, "PostgreSQL unreachable: "+err.Error())
	}
	defer admin.Close()
	if err := admin.PingContext(ctx); err != nil {
		Skip(t, "PostgreSQL unreachable at "+base+": "+err.Error())
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres opens a fresh, migrated PostgreSQL schema.
func Postgres(t testing.TB, modules []db.Module) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{URL: PostgresSchemaURL(t)})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx, modules); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return d
}
