package db

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Migrations is one platform's forward-only schema history: files named NNNN_what.sql under
// sqlite/ and postgres/ in FS, with the same names in both folders.
type Migrations struct {
	Platform string
	FS       fs.FS
}

// Names lists the migration files of a dialect in the order they apply.
func (m Migrations) Names(dialect Dialect) ([]string, error) {
	entries, err := fs.ReadDir(m.FS, string(dialect))
	if err != nil {
		return nil, fmt.Errorf("%s migrations: %w", m.Platform, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

const migrationsTable = `CREATE TABLE IF NOT EXISTS commons_migrations (
	platform TEXT NOT NULL,
	name TEXT NOT NULL,
	applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (platform, name)
)`

// Migrate applies every migration not yet applied, each in its own transaction together with
// its record, so a failure leaves the database at the last complete migration. On PostgreSQL an
// advisory lock keeps two nodes starting at once from racing; on SQLite the write transaction
// does the same.
func (d *DB) Migrate(ctx context.Context, sets ...Migrations) error {
	conn, err := d.Write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if d.Dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7263001)"); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7263001)")
	}
	if _, err := conn.ExecContext(ctx, migrationsTable); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, set := range sets {
		names, err := set.Names(d.Dialect)
		if err != nil {
			return err
		}
		for _, name := range names {
			if err := d.applyOne(ctx, conn, set, name); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *DB) applyOne(ctx context.Context, conn *sql.Conn, set Migrations, name string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s/%s: %w", set.Platform, name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, d.Rebind("SELECT count(*) FROM commons_migrations WHERE platform = ? AND name = ?"),
		set.Platform, name).Scan(&n); err != nil {
		return fmt.Errorf("migrate %s/%s: %w", set.Platform, name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(set.FS, path.Join(string(d.Dialect), name))
	if err != nil {
		return fmt.Errorf("migrate %s/%s: %w", set.Platform, name, err)
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migrate %s/%s: %w", set.Platform, name, err)
	}
	if _, err := tx.ExecContext(ctx, d.Rebind("INSERT INTO commons_migrations (platform, name) VALUES (?, ?)"),
		set.Platform, name); err != nil {
		return fmt.Errorf("migrate %s/%s: %w", set.Platform, name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s/%s: %w", set.Platform, name, err)
	}
	return nil
}

// Pending lists the migrations not yet applied, as "platform/name". /readyz reports not ready
// while any are pending.
func (d *DB) Pending(ctx context.Context, sets ...Migrations) ([]string, error) {
	applied := map[string]bool{}
	rows, err := d.Query(ctx, "SELECT platform, name FROM commons_migrations")
	if err != nil {
		if pingErr := d.Ping(ctx); pingErr != nil {
			return nil, fmt.Errorf("pending migrations: %w", pingErr)
		}
		rows = nil // the database answers but has no migrations table yet: all are pending
	}
	if rows != nil {
		for rows.Next() {
			var p, n string
			if err := rows.Scan(&p, &n); err != nil {
				rows.Close()
				return nil, err
			}
			applied[p+"/"+n] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var pending []string
	for _, set := range sets {
		names, err := set.Names(d.Dialect)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if !applied[set.Platform+"/"+n] {
				pending = append(pending, set.Platform+"/"+n)
			}
		}
	}
	return pending, nil
}

// CheckPairs reports an error unless the sqlite/ and postgres/ folders hold the same file
// names, so neither engine can silently miss a migration.
func (m Migrations) CheckPairs() error {
	lite, err := m.Names(SQLite)
	if err != nil {
		return err
	}
	pg, err := m.Names(Postgres)
	if err != nil {
		return err
	}
	if !slices.Equal(lite, pg) {
		return fmt.Errorf("%s migrations differ between engines: sqlite has %v, postgres has %v", m.Platform, lite, pg)
	}
	return nil
}
