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
)

// Backup writes a consistent copy of the SQLite database to path while it stays
// in use (VACUUM INTO reads one snapshot). PostgreSQL is backed up with its own
// tools (pg_dump, pg_basebackup); Backup refuses it.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return fmt.Errorf("backup: use pg_dump or pg_basebackup for PostgreSQL")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s already exists", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// VACUUM INTO reads one snapshot of this database (WAL lets writers go on)
	// but SQLite counts it as a write, which the query_only readers refuse; and
	// running it on the writer would hold up every write. So: a side connection.
	side, err := sql.Open("sqlite", db.dsn)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer side.Close()
	side.SetMaxOpenConns(1)
	if _, err := side.ExecContext(ctx, "VACUUM INTO '"+strings.ReplaceAll(path, "'", "''")+"'"); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

// Restore replaces the SQLite file at dbPath with the backup at from. The server
// must be stopped: it checks the backup opens and passes an integrity check,
// then moves it into place, removing the old WAL files.
func Restore(ctx context.Context, from, dbPath string) error {
	release, err := exclusiveIfUnused(dbPath)
	if errors.Is(err, errLocked) {
		return fmt.Errorf("restore: a server is using %s; stop it first", dbPath)
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer release()
	// Read-only and immutable: checking a backup must not change it (no WAL
	// switch, no journal), and it may sit on read-only media.
	chk, err := sql.Open("sqlite", "file:"+(&url.URL{Path: from}).EscapedPath()+"?mode=ro&immutable=1")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	var res string
	err = chk.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res)
	chk.Close()
	if err != nil {
		return fmt.Errorf("restore: check %s: %w", from, err)
	}
	if res != "ok" {
		return fmt.Errorf("restore: %s fails the integrity check: %s", from, res)
	}
	tmp := dbPath + ".restore"
	if err := copyFile(from, tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(dbPath + suffix); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := dst.ReadFrom(src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
