package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/commons-gov/commons/internal/db"
)

// migrateLockKey is the PostgreSQL advisory lock held while River's schema migrates. It differs
// from internal/db's key so that a process running both migrations in turn never waits on itself.
const migrateLockKey = 7263002

// driver returns the River driver for the database. Both work over database/sql, so a job can be
// inserted in the same *sql.Tx as the domain write that caused it. On SQLite River gets the
// one-connection write pool: SQLite has one writer, and River's background work queueing for
// that connection in Go is cheaper than SQLITE_BUSY retries.
func driver(d *db.DB) riverdriver.Driver[*sql.Tx] {
	if d.Dialect == db.SQLite {
		return riversqlite.New(d.Write)
	}
	return riverdatabasesql.New(d.Write)
}

func migrator(d *db.DB) (*rivermigrate.Migrator[*sql.Tx], error) {
	// River logs each applied version at info level; Migrate's caller reports the outcome.
	m, err := rivermigrate.New(driver(d), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("jobs: migrator: %w", err)
	}
	return m, nil
}

// Migrate brings River's tables (river_job, river_leader, river_queue, …) to the version this
// build expects. It is idempotent, and safe when several processes start at once: River's
// migrator takes no lock of its own, so on PostgreSQL an advisory lock makes the others wait and
// then find nothing to do, and on SQLite the whole migration is one IMMEDIATE transaction, which
// holds the file's write lock from its first statement.
func Migrate(ctx context.Context, d *db.DB) error {
	m, err := migrator(d)
	if err != nil {
		return err
	}
	if d.Dialect == db.SQLite {
		err := d.InTx(ctx, func(tx *db.Tx) error {
			// MigrateTx is deprecated because some PostgreSQL migrations need a commit between
			// them; SQLite's DDL is transactional and River's SQLite migrations need none.
			//lint:ignore SA1019 one transaction is what serialises two processes on SQLite.
			_, err := m.MigrateTx(ctx, tx.Sql, rivermigrate.DirectionUp, nil)
			return err
		})
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		return nil
	}
	conn, err := d.Write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("jobs: migrate: lock: %w", err)
	}
	// The lock is the session's, so it must be released before the connection goes back to the
	// pool, even when ctx has ended.
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey)
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	return nil
}

// Pending reports whether River's schema is behind this build (or missing), so that /readyz can
// say not ready until Migrate has run.
func Pending(ctx context.Context, d *db.DB) (bool, error) {
	m, err := migrator(d)
	if err != nil {
		return false, err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("jobs: pending migrations: %w", err)
	}
	return !res.OK, nil
}
