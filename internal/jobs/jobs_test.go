package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/jobs"
)

// recordArgs is the test job: its workers write a row to test_runs for every run, so a test
// can see from the database which jobs ran, where and how often.
type recordArgs struct {
	Key string `json:"key"`
}

func (recordArgs) Kind() string { return "test_record" }

// migrate gives a fresh test database River's schema and the test_runs table.
func migrate(ctx context.Context, d *db.DB) error {
	if err := jobs.Migrate(ctx, d); err != nil {
		return err
	}
	_, err := d.Exec(ctx, `CREATE TABLE IF NOT EXISTS test_runs (
		job_id BIGINT NOT NULL,
		job_key TEXT NOT NULL,
		node TEXT NOT NULL,
		event TEXT NOT NULL
	)`)
	return err
}

// record notes a run of job in test_runs.
func record(ctx context.Context, d *db.DB, job *river.Job[recordArgs], node, event string) error {
	_, err := d.Exec(ctx, "INSERT INTO test_runs (job_id, job_key, node, event) VALUES (?, ?, ?, ?)",
		job.ID, job.Args.Key, node, event)
	return err
}

// recordingWorkers registers a worker that records each run as event "done" by node.
func recordingWorkers(d *db.DB, node string) *river.Workers {
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[recordArgs]) error {
		return record(ctx, d, job, node, "done")
	}))
	return workers
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newClient builds a client and, if it works jobs, starts it and stops it when the test ends
// (before the database closes: cleanups run last-registered first).
func newClient(t testing.TB, d *db.DB, cfg jobs.Config) *jobs.Client {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	c, err := jobs.New(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return c
}

// waitFor polls cond until it holds, failing the test if it does not within limit. The limit
// is a generous bound on a hung test, not a claim about speed.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func count(ctx context.Context, d *db.DB, query string, args ...any) (int, error) {
	var n int
	err := d.QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

func TestMigrate(t *testing.T) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			url := dbtest.URL(t, engine)
			fresh := openURL(t, url)
			pending, err := jobs.Pending(ctx, fresh)
			if err != nil || !pending {
				t.Fatalf("fresh database: pending = %v, %v; want true", pending, err)
			}
			// Several processes starting at once: each has its own pool, as separate
			// processes would, and all must succeed.
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				d := openURL(t, url)
				wg.Go(func() { errs[i] = jobs.Migrate(ctx, d) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatalf("concurrent migrate: %v", err)
			}
			if err := jobs.Migrate(ctx, fresh); err != nil {
				t.Fatalf("migrate again: %v", err)
			}
			pending, err = jobs.Pending(ctx, fresh)
			if err != nil || pending {
				t.Fatalf("after migrate: pending = %v, %v; want false", pending, err)
			}
		})
	}
}

func openURL(t testing.TB, url string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// each runs fn on both engines, like dbtest.Each, but also hands fn the database's URL so that
// the test can open more pools on it, as further nodes would.
func each(t *testing.T, fn func(t *testing.T, url string, d *db.DB)) {
	t.Helper()
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			url := dbtest.URL(t, engine)
			d := openURL(t, url)
			if err := migrate(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			fn(t, url, d)
		})
	}
}

func TestNewRejectsUnsafeConfig(t *testing.T) {
	d := dbtest.Open(t, db.SQLite, migrate)
	for name, cfg := range map[string]jobs.Config{
		"no workers":       {Work: true},
		"no timeout":       {Workers: recordingWorkers(d, "x"), JobTimeout: -1},
		"rescue too early": {Workers: recordingWorkers(d, "x"), JobTimeout: time.Minute, RescueStuckJobsAfter: time.Second},
	} {
		if _, err := jobs.New(d, cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

// A job inserted in a transaction that rolls back never exists, so never runs; one inserted in
// a transaction that commits runs. The inserting client is insert-only, as on `--role api`.
func TestInsertTxFollowsTheTransaction(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		api := newClient(t, d, jobs.Config{Workers: recordingWorkers(d, "worker")})
		newClient(t, d, jobs.Config{Workers: recordingWorkers(d, "worker"), Work: true})

		boom := errors.New("boom")
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if err := api.InsertTx(ctx, tx, recordArgs{Key: "rolled-back"}, nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		err = d.InTx(ctx, func(tx *db.Tx) error {
			return api.InsertTx(ctx, tx, recordArgs{Key: "committed"}, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the committed job to run", func() (bool, error) {
			n, err := count(ctx, d, "SELECT count(*) FROM test_runs WHERE job_key = ?", "committed")
			return n == 1, err
		})
		if n, err := count(ctx, d, "SELECT count(*) FROM test_runs WHERE job_key = ?", "rolled-back"); err != nil || n != 0 {
			t.Errorf("rolled-back job ran %d times (%v)", n, err)
		}
		if n, err := count(ctx, d, "SELECT count(*) FROM river_job"); err != nil || n != 1 {
			t.Errorf("river_job holds %d jobs (%v); want only the committed one", n, err)
		}
	})
}

// Two nodes working one queue never run the same job, and both take a share.
func TestTwoNodesRunEachJobOnce(t *testing.T) {
	each(t, func(t *testing.T, url string, d *db.DB) {
		ctx := context.Background()
		const total = 300
		// Each node has its own pools on the same database, as a separate process would.
		nodes := map[string]*db.DB{"a": openURL(t, url), "b": openURL(t, url)}
		for name, nd := range nodes {
			workers := river.NewWorkers()
			river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[recordArgs]) error {
				// A little work, so that one node cannot drain a fetch before the other polls.
				time.Sleep(5 * time.Millisecond)
				return record(ctx, nd, job, name, "done")
			}))
			newClient(t, nd, jobs.Config{Workers: workers, Work: true, Queues: map[string]int{river.QueueDefault: 8}})
		}
		api := newClient(t, d, jobs.Config{Workers: recordingWorkers(d, "api")})
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for i := range total {
				if err := api.InsertTx(ctx, tx, recordArgs{Key: fmt.Sprint(i)}, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 90*time.Second, "every job to complete", func() (bool, error) {
			n, err := count(ctx, d, "SELECT count(*) FROM river_job WHERE state = 'completed'")
			return n == total, err
		})
		if n, err := count(ctx, d, "SELECT count(*) FROM test_runs"); err != nil || n != total {
			t.Errorf("%d runs recorded (%v); want %d, one per job", n, err, total)
		}
		if n, err := count(ctx, d, "SELECT count(*) FROM (SELECT job_id FROM test_runs GROUP BY job_id HAVING count(*) > 1) dup"); err != nil || n != 0 {
			t.Errorf("%d jobs ran more than once (%v)", n, err)
		}
		for name := range nodes {
			n, err := count(ctx, d, "SELECT count(*) FROM test_runs WHERE node = ?", name)
			if err != nil || n == 0 {
				t.Errorf("node %s ran %d jobs (%v); want both nodes to work", name, n, err)
			}
		}
	})
}
