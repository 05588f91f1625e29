package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFS embed.FS

const (
	createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)`
	selectSchemaVersion = `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`
	insertMigration     = `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`
)

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the dialect's numbered migrations ("0001_init.sql") in order.
func (d dialect) loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, d.migrations)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(d.migrations, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %q: expected number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion returns the number of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.read.QueryRowContext(ctx, selectSchemaVersion).Scan(&v)
	return v, err
}

// migrate applies the pending migrations, each in its own transaction. The
// version is read inside the transaction, under the dialect's migration
// lock, so two processes starting at once (a server and `keys create`, or
// two instances) apply each migration exactly once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := s.dialect.loadMigrations()
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *writeTx) error {
		if err := s.lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, createMigrationsTable)
		return err
	})
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for {
		done, err := s.applyNext(ctx, ms)
		if err != nil || done {
			return err
		}
	}
}

func (s *Store) applyNext(ctx context.Context, ms []migration) (done bool, err error) {
	err = s.inTx(ctx, func(tx *writeTx) error {
		if err := s.lockMigrations(ctx, tx); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRowContext(ctx, selectSchemaVersion).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("database schema version %d is newer than this binary knows (%d): upgrade loyalpass", current, len(ms))
		}
		if current == len(ms) {
			done = true
			return nil
		}
		m := ms[current]
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, insertMigration, m.version, m.name, s.nowUTC()); err != nil {
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
		return nil
	})
	return done, err
}

// lockMigrations holds the dialect's migration lock until tx ends.
func (s *Store) lockMigrations(ctx context.Context, tx *writeTx) error {
	if s.dialect.migrationLock == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.dialect.migrationLock); err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	return nil
}
