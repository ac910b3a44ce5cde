// Package db opens hopnhat's database — embedded SQLite by default, PostgreSQL when
// given a postgres:// URL — and gives every module the same small surface:
// queries, transactions that carry the clock, per-module goose migrations, error
// translation and online backup.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"hopnhat/internal/platform/apperr"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names the SQL engine behind a DB.
type Dialect int

// The supported dialects.
const (
	SQLite Dialect = iota + 1
	Postgres
)

// String returns the dialect's name.
func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Querier is what stores need from a DB or a Tx.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database. For SQLite it holds two pools: one writer connection,
// so concurrent writes queue in the process instead of failing with SQLITE_BUSY,
// and several readers, which WAL lets run beside the writer.
type DB struct {
	dialect Dialect
	w       *sql.DB
	r       *sql.DB
	path    string // SQLite file; empty for PostgreSQL
	dsn     string // SQLite DSN without per-pool settings, for side connections
	schema  string // PostgreSQL schema in use
	now     func() time.Time
	stmts   stmtCache // SQLite: prepared reads (pgx caches statements itself)
}

// Config says which database to open.
type Config struct {
	URL     string           // postgres://… or sqlite:PATH; empty means DataDir/hopnhat.db
	DataDir string           // where the SQLite file lives by default
	Now     func() time.Time // the clock transactions carry; time.Now when nil
}

// Open opens and pings the database the config names.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	u := cfg.URL
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return openPostgres(ctx, u, now)
	case u == "":
		dir := cfg.DataDir
		if dir == "" {
			dir = "data"
		}
		return OpenSQLite(ctx, filepath.Join(dir, "hopnhat.db"), now)
	case strings.HasPrefix(u, "sqlite:"):
		return OpenSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "//"), now)
	}
	return nil, fmt.Errorf("database URL must start with postgres:// or sqlite: (got scheme %q)", schemeOf(u))
}

func schemeOf(u string) string {
	if i := strings.Index(u, ":"); i > 0 {
		return u[:i]
	}
	return ""
}

func openPostgres(ctx context.Context, u string, now func() time.Time) (*DB, error) {
	p, err := sql.Open("pgx", u)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	p.SetMaxOpenConns(32)
	p.SetMaxIdleConns(16)
	p.SetConnMaxIdleTime(5 * time.Minute)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	var schema string
	if err := p.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		p.Close()
		return nil, fmt.Errorf("postgres schema: %w", err)
	}
	return &DB{dialect: Postgres, w: p, r: p, schema: schema, now: now}, nil
}

// sqlitePragmas apply to every connection: WAL so readers never block the writer,
// foreign keys on, and a busy timeout for the rare writer in another process
// (a CLI command beside a running server).
const sqlitePragmas = "_pragma=foreign_keys(1)&_pragma=busy_timeout(15000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"

// OpenSQLite opens (creating if needed) the SQLite file at path.
func OpenSQLite(ctx context.Context, path string, now func() time.Time) (*DB, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + sqlitePragmas
	// BEGIN IMMEDIATE takes the write lock at the start of a transaction, so two
	// processes never deadlock upgrading a read lock to a write lock. The one
	// writer keeps 64 MiB of pages (SQLite's default is 2 MiB), so the indexes
	// of large tables written all day, the gateway's message log above all,
	// stay in memory.
	w, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=cache_size(-65536)")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &DB{dialect: SQLite, w: w, r: r, path: path, dsn: base, now: now}, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	db.stmts.mu.Lock()
	for _, st := range db.stmts.m {
		st.Close()
	}
	db.stmts.m = nil
	db.stmts.mu.Unlock()
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// Dialect returns the engine behind db.
func (db *DB) Dialect() Dialect { return db.dialect }

// Path returns the SQLite file, or "" for PostgreSQL.
func (db *DB) Path() string { return db.path }

// Now returns the current time of db's clock, in UTC.
func (db *DB) Now() time.Time { return db.now().UTC() }

// Writer returns the pool that writes (for SQLite, its single connection).
func (db *DB) Writer() *sql.DB { return db.w }

// Reader returns the pool for reads outside a transaction.
func (db *DB) Reader() *sql.DB { return db.r }

// ExecContext runs a statement on the writer.
func (db *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	res, err := db.w.ExecContext(ctx, q, args...)
	return res, Translate(err)
}

// QueryContext runs a query on a reader.
func (db *DB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := db.prepared(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.r.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a one-row query on a reader.
func (db *DB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := db.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, q, args...)
}

// stmtCache keeps SQLite read statements prepared: modernc's driver otherwise
// parses the SQL of every query, which was a fifth of a page's CPU.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache; queries built with varying text beyond it
// run unprepared rather than grow memory without end.
const maxCachedStmts = 512

func (db *DB) prepared(ctx context.Context, q string) *sql.Stmt {
	if db.dialect != SQLite {
		return nil
	}
	c := &db.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st
	}
	if len(c.m) >= maxCachedStmts {
		return nil
	}
	st, err := db.r.PrepareContext(ctx, q)
	if err != nil {
		return nil // the unprepared path reports the error
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st
}

// Ping checks that both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return err
	}
	return db.r.PingContext(ctx)
}

// Tx is a transaction that carries the time it started, so every row written in
// it shares one timestamp and tests can set the clock.
type Tx struct {
	*sql.Tx
	Now     time.Time
	dialect Dialect
}

// Dialect returns the engine the transaction runs on.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

// ExecContext runs a statement and translates constraint errors.
func (tx *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	res, err := tx.Tx.ExecContext(ctx, q, args...)
	return res, Translate(err)
}

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise (also when fn panics).
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: stx, Now: db.Now(), dialect: db.dialect}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", Translate(err))
	}
	return nil
}

// Micros turns a time into the BIGINT hopnhat stores: microseconds since the Unix
// epoch, UTC. One integer type sorts and compares the same on both engines.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// FromMicros is the inverse of Micros; 0 gives the zero time.
func FromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// NullMicros turns an optional time into a nullable column value.
func NullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// FromNullMicros is the inverse of NullMicros.
func FromNullMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return FromMicros(n.Int64)
}

// EscapeLike escapes LIKE's wildcards in s, for a pattern used with
// ESCAPE '\' (the same on both engines).
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// NotFoundIfNoRows turns sql.ErrNoRows into an apperr NotFound with key.
func NotFoundIfNoRows(err error, key string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.Wrapf(apperr.NotFound, key, err)
	}
	return err
}

// HoldInUse marks the SQLite database as served until the returned release is
// called, so Restore refuses to replace it underneath a running server. For
// PostgreSQL it does nothing.
func (db *DB) HoldInUse() (func(), error) {
	if db.dialect != SQLite {
		return func() {}, nil
	}
	return holdInUse(db.path)
}

// SetClock replaces db's clock; for tests, before the DB is shared.
func (db *DB) SetClock(now func() time.Time) { db.now = now }
