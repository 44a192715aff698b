// Package dbtest runs a test against both storage engines: a fresh SQLite file, and a fresh,
// uniquely named PostgreSQL database on the server named by COMMONS_TEST_POSTGRES_URL, dropped
// when the test ends.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/commons-gov/commons/internal/db"
)

// Migrator brings a fresh database to the schema a test needs (River's tables and platform
// migrations). It is a function so that dbtest need not import every platform.
type Migrator func(ctx context.Context, d *db.DB) error

// RequireAll reports whether skipped suites must fail instead (CI sets COMMONS_REQUIRE_ALL=1).
func RequireAll() bool { return os.Getenv("COMMONS_REQUIRE_ALL") == "1" }

// SkipOrFail skips the test, or fails it when every suite is required.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if RequireAll() {
		t.Fatalf("COMMONS_REQUIRE_ALL=1 and this suite cannot run: %s", reason)
	}
	t.Skip(reason)
}

// Each runs fn once per engine as subtests "sqlite" and "postgres", each with its own fresh,
// migrated database.
func Each(t *testing.T, migrate Migrator, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			d := Open(t, engine, migrate)
			fn(t, d)
		})
	}
}

// Open returns a fresh migrated database of the given engine, closed (and on PostgreSQL
// dropped) when the test ends.
func Open(t testing.TB, engine db.Dialect, migrate Migrator) *db.DB {
	t.Helper()
	u := URL(t, engine)
	d, err := db.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { d.Close() })
	if migrate != nil {
		if err := migrate(context.Background(), d); err != nil {
			t.Fatalf("migrate %s: %v", engine, err)
		}
	}
	return d
}

// URL returns the URL of a fresh, empty database of the given engine for this test. On
// PostgreSQL the database is created now and dropped at cleanup.
func URL(t testing.TB, engine db.Dialect) string {
	t.Helper()
	if engine == db.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "commons.db")
	}
	base := os.Getenv("COMMONS_TEST_POSTGRES_URL")
	if base == "" {
		SkipOrFail(t, "COMMONS_TEST_POSTGRES_URL is not set, so the PostgreSQL half cannot run")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "commons_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatalf("COMMONS_TEST_POSTGRES_URL: %v", err)
	}
	pu.Path = "/" + name
	return pu.String()
}
