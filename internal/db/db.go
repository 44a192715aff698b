// Package db opens Commons' database — an embedded SQLite file or a PostgreSQL server — and
// gives every platform the same small surface over both: queries written with `?` placeholders,
// transactions, migrations and a few named helpers where the dialects really differ.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open Commons database. On SQLite, writes go through one connection (SQLite allows one
// writer at a time; queueing in Go is cheaper than SQLITE_BUSY retries) and reads through a pool.
// On PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	// Write is the pool that writes and transactions use. River uses it too, so that a job is
	// inserted in the same transaction as the change that caused it.
	Write *sql.DB
	// Read is the pool for plain reads outside transactions.
	Read *sql.DB
	url  string

	stopCheckpoints, checkpointsDone chan struct{} // SQLite's background checkpoints
}

// ErrBadURL reports a database URL Commons cannot use.
var ErrBadURL = errors.New("database URL must look like sqlite:PATH or postgres://USER@HOST:PORT/NAME")

// Parse checks a database URL and returns its dialect and the driver's connection string.
func Parse(rawURL string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(rawURL, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", fmt.Errorf("%w: the sqlite: URL has no file path", ErrBadURL)
		}
		return SQLite, path, nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("%w: %q has no host", ErrBadURL, redact(rawURL))
		}
		return Postgres, rawURL, nil
	default:
		return "", "", fmt.Errorf("%w (got %q)", ErrBadURL, redact(rawURL))
	}
}

// redact hides a password in a URL so that it can go into an error message or a log.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Open connects to the database named by rawURL and checks that it answers. A SQLite file's
// folder is created if missing.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	dialect, dsn, err := Parse(rawURL)
	if err != nil {
		return nil, err
	}
	d := &DB{Dialect: dialect, url: rawURL}
	switch dialect {
	case SQLite:
		if dir := filepath.Dir(dsn); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("open database: create folder %s: %w", dir, err)
			}
		}
		// busy_timeout comes first so that the journal_mode change itself waits for other
		// processes (the admin CLI beside a running server) rather than failing.
		pragmas := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
			"&_pragma=foreign_keys(ON)&_txlock=immediate&_time_format=sqlite" +
			fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", walAutocheckpointPages)
		if d.Write, err = openSQLite("file:" + dsn + pragmas); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		d.Write.SetMaxOpenConns(1)
		d.Write.SetMaxIdleConns(1)
		d.Write.SetConnMaxLifetime(0)
		if d.Read, err = openSQLite("file:" + dsn + pragmas); err != nil {
			d.Write.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
		n := max(4, runtime.NumCPU()*2)
		d.Read.SetMaxOpenConns(n)
		d.Read.SetMaxIdleConns(n)
	case Postgres:
		if d.Write, err = sql.Open("pgx", dsn); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		d.Write.SetMaxOpenConns(max(20, runtime.NumCPU()*8))
		d.Write.SetMaxIdleConns(max(20, runtime.NumCPU()*8))
		d.Read = d.Write
	}
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("open database %s: %w", redact(rawURL), err)
	}
	if dialect == SQLite {
		d.startCheckpoints()
	}
	return d, nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.Write.PingContext(ctx); err != nil {
		return err
	}
	if d.Read != d.Write {
		return d.Read.PingContext(ctx)
	}
	return nil
}

// Close closes both pools.
func (d *DB) Close() error {
	d.stopBackground()
	err := d.Write.Close()
	if d.Read != nil && d.Read != d.Write {
		err = errors.Join(err, d.Read.Close())
	}
	return err
}

// URL returns the URL the database was opened with, password hidden.
func (d *DB) URL() string { return redact(d.url) }

// Rebind turns `?` placeholders into the dialect's own ($1, $2, … on PostgreSQL).
// A `?` inside a single-quoted string literal is left alone.
func (d *DB) Rebind(query string) string { return rebind(d.Dialect, query) }

func rebind(dialect Dialect, query string) string {
	if dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(fmt.Sprint(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Exec runs a statement on the write pool.
func (d *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.Write.ExecContext(ctx, d.Rebind(query), args...)
}

// Query runs a read on the read pool.
func (d *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.Read.QueryContext(ctx, d.Rebind(query), args...)
}

// QueryRow runs a one-row read on the read pool.
func (d *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return d.Read.QueryRowContext(ctx, d.Rebind(query), args...)
}
