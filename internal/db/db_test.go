package db_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
)

var testMigrations = db.Migrations{Platform: "dbtest", FS: os.DirFS("testdata/migrations")}

func migrate(ctx context.Context, d *db.DB) error { return d.Migrate(ctx, testMigrations) }

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		url     string
		dialect db.Dialect
		ok      bool
	}{
		{"sqlite:./commons-data/commons.db", db.SQLite, true},
		{"sqlite:", "", false},
		{"postgres://postgres@127.0.0.1:5432/test", db.Postgres, true},
		{"postgres:///nohost", "", false},
		{"mysql://x", "", false},
		{"commons.db", "", false},
	} {
		d, _, err := db.Parse(tc.url)
		if (err == nil) != tc.ok || d != tc.dialect {
			t.Errorf("Parse(%q) = %q, %v; want %q ok=%v", tc.url, d, err, tc.dialect, tc.ok)
		}
		if !tc.ok && !errors.Is(err, db.ErrBadURL) {
			t.Errorf("Parse(%q) error %v does not wrap ErrBadURL", tc.url, err)
		}
	}
}

func TestRebind(t *testing.T) {
	d := &db.DB{Dialect: db.Postgres}
	got := d.Rebind("SELECT '?' , a FROM t WHERE a = ? AND b = ?")
	if want := "SELECT '?' , a FROM t WHERE a = $1 AND b = $2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	lite := &db.DB{Dialect: db.SQLite}
	if got := lite.Rebind("a = ?"); got != "a = ?" {
		t.Errorf("sqlite rebind changed the query: %q", got)
	}
}

func TestMigrationsPair(t *testing.T) {
	if err := testMigrations.CheckPairs(); err != nil {
		t.Fatal(err)
	}
}

func TestStoreOnBothEngines(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// Migrating again is a no-op.
		if err := d.Migrate(ctx, testMigrations); err != nil {
			t.Fatal(err)
		}
		pending, err := d.Pending(ctx, testMigrations)
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending = %v, %v", pending, err)
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		if _, err := d.Exec(ctx, "INSERT INTO things (id, name, made_at, ok) VALUES (?, ?, ?, ?)", "1", "one", now, true); err != nil {
			t.Fatal(err)
		}
		_, err = d.Exec(ctx, "INSERT INTO things (id, name, made_at) VALUES (?, ?, ?)", "2", "one", now)
		if !db.IsUniqueViolation(err) {
			t.Fatalf("duplicate name: got %v, want a unique violation", err)
		}
		// A failed transaction leaves nothing behind.
		boom := errors.New("boom")
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO things (id, name, made_at) VALUES (?, ?, ?)", "3", "three", now); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v", err)
		}
		var n int
		var made time.Time
		var ok bool
		if err := d.QueryRow(ctx, "SELECT count(*) FROM things").Scan(&n); err != nil || n != 1 {
			t.Fatalf("count = %d, %v; want 1", n, err)
		}
		if err := d.QueryRow(ctx, "SELECT made_at, ok FROM things WHERE id = ?", "1").Scan(&made, &ok); err != nil {
			t.Fatal(err)
		}
		if !made.Equal(now) || !ok {
			t.Errorf("read back %v %v, want %v true", made, ok, now)
		}
	})
}
