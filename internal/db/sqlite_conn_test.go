package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
)

// Statements a connection keeps give the same results as compiling each time: reused in and
// out of transactions, used again while their own rows are still open, after an error, and
// past the number a connection keeps.
func TestKeptStatements(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		const insert = `INSERT INTO things (id, name, made_at) VALUES (?, ?, ?)`
		for i := range 3 {
			if _, err := d.Exec(ctx, insert, fmt.Sprint(i), fmt.Sprint("thing ", i), now); err != nil {
				t.Fatal(err)
			}
		}
		// The same failing statement, then the same statement succeeding.
		if _, err := d.Exec(ctx, insert, "x", "thing 1", now); !db.IsUniqueViolation(err) {
			t.Fatalf("duplicate name: %v", err)
		}
		if _, err := d.Exec(ctx, insert, "3", "thing 3", now); err != nil {
			t.Fatalf("after an error: %v", err)
		}
		// In one transaction (one connection): the same query while its rows are open, which
		// SQLite allows (PostgreSQL's protocol does not).
		const names = `SELECT name FROM things WHERE id >= ? ORDER BY id`
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if d.Dialect != db.SQLite {
				_, err := tx.Exec(ctx, insert, "4", "thing 4", now)
				return err
			}
			outer, err := tx.Query(ctx, names, "0")
			if err != nil {
				return err
			}
			defer outer.Close()
			var seen []string
			for outer.Next() {
				var name string
				if err := outer.Scan(&name); err != nil {
					return err
				}
				var n int
				inner, err := tx.Query(ctx, names, "2")
				if err != nil {
					return err
				}
				for inner.Next() {
					n++
				}
				inner.Close()
				if n != 2 {
					return fmt.Errorf("inner query saw %d rows, want 2", n)
				}
				seen = append(seen, name)
			}
			if len(seen) != 4 {
				return fmt.Errorf("outer query saw %v", seen)
			}
			_, err = tx.Exec(ctx, insert, "4", "thing 4", now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// A rolled back transaction leaves nothing, through kept statements too.
		_ = d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, insert, "5", "thing 5", now); err != nil {
				t.Fatal(err)
			}
			return context.Canceled
		})
		// More distinct statements than a connection keeps.
		for i := range 300 {
			var n int
			if err := d.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) + %d FROM things`, i)).Scan(&n); err != nil || n != 5+i {
				t.Fatalf("statement %d: %d %v", i, n, err)
			}
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT count(*) FROM things`).Scan(&n); err != nil || n != 5 {
			t.Fatalf("%d things (%v), want 5", n, err)
		}
	})
}
