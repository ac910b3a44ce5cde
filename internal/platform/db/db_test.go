package db_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
)

var things = db.Module{Name: "things", FS: os.DirFS("testdata/migrations")}

func TestSameQueryOnBothDialects(t *testing.T) {
	dbtest.Each(t, []db.Module{things}, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		at := time.Date(2025, 7, 1, 0, 0, 0, 123456000, time.UTC)
		if _, err := d.ExecContext(ctx, `INSERT INTO things (id, name, at) VALUES ($1, $2, $3)`, "a", "Hải Phòng", db.Micros(at)); err != nil {
			t.Fatal(err)
		}
		var name string
		var us int64
		if err := d.QueryRowContext(ctx, `SELECT name, at FROM things WHERE id = $1`, "a").Scan(&name, &us); err != nil {
			t.Fatal(err)
		}
		if name != "Hải Phòng" || !db.FromMicros(us).Equal(at) {
			t.Fatalf("got %q %v, want %q %v", name, db.FromMicros(us), "Hải Phòng", at)
		}
	})
}

func TestUniqueViolationIsConflict(t *testing.T) {
	dbtest.Each(t, []db.Module{things}, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ins := func(id string) error {
			return d.InTx(ctx, func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO things (id, name, at) VALUES ($1, 'same', 0)`, id)
				return err
			})
		}
		if err := ins("a"); err != nil {
			t.Fatal(err)
		}
		err := ins("b")
		if !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("got %v, want a Conflict", err)
		}
	})
}

func TestInTxRollsBackOnErrorAndPanic(t *testing.T) {
	dbtest.Each(t, []db.Module{things}, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO things (id, name, at) VALUES ('x', 'x', 0)`); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want boom", err)
		}
		func() {
			defer func() { _ = recover() }()
			_ = d.InTx(ctx, func(tx *db.Tx) error {
				_, _ = tx.ExecContext(ctx, `INSERT INTO things (id, name, at) VALUES ('y', 'y', 0)`)
				panic("in the middle")
			})
		}()
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM things`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("got %d rows after rollbacks, want 0", n)
		}
		// The writer connection must still work after a panic mid-transaction.
		if _, err := d.ExecContext(ctx, `INSERT INTO things (id, name, at) VALUES ('z', 'z', 0)`); err != nil {
			t.Fatalf("write after rollback: %v", err)
		}
	})
}

func TestTxCarriesTheClock(t *testing.T) {
	dbtest.Each(t, []db.Module{things}, func(t *testing.T, d *db.DB) {
		want := time.Date(2025, 7, 1, 7, 0, 0, 0, time.UTC)
		d.SetClock(func() time.Time { return want })
		_ = d.InTx(context.Background(), func(tx *db.Tx) error {
			if !tx.Now.Equal(want) {
				t.Errorf("tx.Now = %v, want %v", tx.Now, want)
			}
			return nil
		})
	})
}

// Many goroutines writing at once on SQLite must queue on the one writer, never
// fail with SQLITE_BUSY.
func TestConcurrentWritesNeverBusy(t *testing.T) {
	dbtest.Each(t, []db.Module{things}, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		var failed atomic.Int64
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					err := d.InTx(ctx, func(tx *db.Tx) error {
						_, err := tx.ExecContext(ctx, `INSERT INTO things (id, name, at) VALUES ($1, $1, 0)`, fmt.Sprintf("%d-%d", w, i))
						return err
					})
					if err != nil {
						t.Errorf("write: %v", err)
						failed.Add(1)
					}
					var n int
					if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM things`).Scan(&n); err != nil {
						t.Errorf("read: %v", err)
					}
				}
			}()
		}
		wg.Wait()
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM things`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 16*50 || failed.Load() > 0 {
			t.Fatalf("got %d rows and %d failures, want %d and 0", n, failed.Load(), 16*50)
		}
	})
}

// A backup taken while writers commit holds every row committed before it
// started, and the restored database is whole.
func TestBackupUnderConcurrentWritesRestores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := db.OpenSQLite(ctx, filepath.Join(dir, "live.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx, []db.Module{things}); err != nil {
		t.Fatal(err)
	}
	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }); wg.Wait() }
	defer halt()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("%d-%d", w, i)
				if _, err := d.ExecContext(ctx, `INSERT INTO things (id, name, at) VALUES ($1, $1, $2)`, id, i); err != nil {
					t.Errorf("write: %v", err)
					return
				}
				committed.Add(1)
			}
		}()
	}
	for committed.Load() < 500 {
		time.Sleep(5 * time.Millisecond)
	}
	before := committed.Load()
	backup := filepath.Join(dir, "backup", "copy.db")
	if err := d.Backup(ctx, backup); err != nil {
		t.Fatalf("backup: %v", err)
	}
	halt()
	if err := d.Backup(ctx, backup); err == nil {
		t.Fatal("backup over an existing file: want an error")
	}
	// Restore into a fresh place and count.
	target := filepath.Join(dir, "restored", "hopnhat.db")
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := db.Restore(ctx, backup, target); err != nil {
		t.Fatalf("restore: %v", err)
	}
	r, err := db.OpenSQLite(ctx, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int64
	if err := r.QueryRowContext(ctx, `SELECT COUNT(*) FROM things`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < before || n > committed.Load() {
		t.Fatalf("restored %d rows, want between %d (committed before the backup) and %d", n, before, committed.Load())
	}
	// Every row is one a writer committed: ids are unique and consecutive per writer.
	var gaps int
	if err := r.QueryRowContext(ctx, `SELECT COUNT(*) FROM things t WHERE t.at > 0 AND NOT EXISTS (
		SELECT 1 FROM things p WHERE p.id = substr(t.id, 1, instr(t.id, '-')) || (t.at - 1))`).Scan(&gaps); err != nil {
		t.Fatal(err)
	}
	if gaps != 0 {
		t.Fatalf("restored copy has %d rows whose predecessor is missing: not a consistent snapshot", gaps)
	}
}

func TestRestoreRefusesACorruptFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.db")
	if err := os.WriteFile(bad, []byte("this is not a database, just text that happens to be long enough to matter"), 0o644); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, "hopnhat.db")
	if err := os.WriteFile(live, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := db.Restore(context.Background(), bad, live); err == nil {
		t.Fatal("restore from a corrupt file: want an error")
	}
	if b, _ := os.ReadFile(live); string(b) != "keep me" {
		t.Fatal("a failed restore must leave the live file alone")
	}
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	_, err := db.Open(context.Background(), db.Config{URL: "mysql://x"})
	if err == nil {
		t.Fatal("want an error for mysql://")
	}
}

// Replicas starting together on one PostgreSQL: each migrates; the advisory
// lock lets one apply and the others find nothing pending.
func TestConcurrentMigrateOnPostgres(t *testing.T) {
	url := dbtest.PostgresSchemaURL(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := db.Open(ctx, db.Config{URL: url})
			if err != nil {
				errs <- err
				return
			}
			defer d.Close()
			errs <- d.Migrate(ctx, []db.Module{things})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	d, err := db.Open(ctx, db.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pending, err := d.Pending(ctx, []db.Module{things})
	if err != nil || pending {
		t.Fatalf("pending=%v err=%v after migrating", pending, err)
	}
}

func TestRestoreRefusesWhileServed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "hopnhat.db")
	d, err := db.OpenSQLite(ctx, live, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx, []db.Module{things}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "b.db")
	if err := d.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(backup)
	release, err := d.HoldInUse()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Restore(ctx, backup, live); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("restore under a running server: got %v, want a refusal", err)
	}
	release()
	if err := db.Restore(ctx, backup, live); err != nil {
		t.Fatalf("restore after the server stopped: %v", err)
	}
	if after, _ := os.ReadFile(backup); string(after) != string(before) {
		t.Fatal("checking the backup changed it")
	}
}
