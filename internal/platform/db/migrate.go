package db

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// Module is one module's embedded migrations. Each module keeps its own goose
// version table, goose_<Name>, so modules migrate independently.
type Module struct {
	Name string
	FS   fs.FS // holds *.sql files at its root
}

// EmbeddedModule returns the module whose migrations are the *.sql files in
// the folder "migrations" of fsys (a module's embed.FS).
func EmbeddedModule(name string, fsys fs.FS) Module {
	sub, err := fs.Sub(fsys, "migrations")
	if err != nil {
		panic(fmt.Sprintf("migrations of %s: %v", name, err)) // a build mistake, caught by any test
	}
	return Module{Name: name, FS: sub}
}

// MigrationState is one migration's status.
type MigrationState struct {
	Module  string
	Version int64
	Source  string
	Applied bool
}

func (db *DB) provider(m Module, log *slog.Logger) (*goose.Provider, error) {
	d := database.DialectSQLite3
	if db.dialect == Postgres {
		d = database.DialectPostgres
	}
	store, err := database.NewStore(d, "goose_"+m.Name)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithStore(store), goose.WithDisableGlobalRegistry(true)}
	if db.dialect == Postgres {
		// Several replicas starting at once on one PostgreSQL: one migrates, the
		// others wait for the advisory lock.
		// The lock is per schema and module: replicas of one deployment queue,
		// other schemas on the same server (tests, other provinces) do not.
		h := fnv.New64a()
		h.Write([]byte(db.schema + "\x00" + m.Name))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 600))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	return goose.NewProvider("", db.w, m.FS, opts...)
}

// Migrate applies every pending migration of every module, in order. On
// PostgreSQL replicas queue on an advisory lock; on SQLite, processes sharing
// the file queue on a lock file beside it.
func (db *DB) Migrate(ctx context.Context, modules []Module) error {
	if db.dialect == SQLite {
		unlock, err := lockFile(db.path + ".migrate-lock")
		if err != nil {
			return err
		}
		defer unlock()
	}
	for _, m := range modules {
		p, err := db.provider(m, nil)
		if err != nil {
			return fmt.Errorf("migrations of %s: %w", m.Name, err)
		}
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	return nil
}

// MigrationStatus lists every migration of every module and whether it is applied.
func (db *DB) MigrationStatus(ctx context.Context, modules []Module) ([]MigrationState, error) {
	var out []MigrationState
	for _, m := range modules {
		p, err := db.provider(m, nil)
		if err != nil {
			return nil, fmt.Errorf("migrations of %s: %w", m.Name, err)
		}
		st, err := p.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("status of %s: %w", m.Name, err)
		}
		for _, s := range st {
			out = append(out, MigrationState{Module: m.Name, Version: s.Source.Version, Source: s.Source.Path, Applied: s.State == goose.StateApplied})
		}
	}
	return out, nil
}

// Pending reports whether any module has a migration not yet applied.
func (db *DB) Pending(ctx context.Context, modules []Module) (bool, error) {
	for _, m := range modules {
		p, err := db.provider(m, nil)
		if err != nil {
			return false, err
		}
		has, err := p.HasPending(ctx)
		if err != nil || has {
			return has, err
		}
	}
	return false, nil
}
