package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/jobs"
)

// Stop lets a job that is already running finish, and returns only once it has.
func TestStopLetsInFlightJobFinish(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		release := make(chan struct{})
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[recordArgs]) error {
			if err := record(ctx, d, job, "node", "started"); err != nil {
				return err
			}
			select {
			case <-release:
			case <-ctx.Done(): // a graceful stop must not get here
				return ctx.Err()
			}
			return record(ctx, d, job, "node", "finished")
		}))
		c := newClient(t, d, jobs.Config{Workers: workers, Work: true})
		if err := c.Insert(ctx, recordArgs{Key: "graceful"}, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the job to start", func() (bool, error) {
			n, err := count(ctx, d, "SELECT count(*) FROM test_runs WHERE event = 'started'")
			return n == 1, err
		})

		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			stopped <- c.Stop(ctx)
		}()
		// Give Stop a head start so that the job is released into a stopping client. This is
		// not an assertion: were Stop slower, the job would finish first and the test still pass.
		time.Sleep(200 * time.Millisecond)
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) while a job was still running", err)
		default:
		}
		close(release)
		if err := <-stopped; err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if n, err := count(ctx, d, "SELECT count(*) FROM test_runs WHERE event = 'finished'"); err != nil || n != 1 {
			t.Errorf("job finished %d times (%v) by the time Stop returned; want 1", n, err)
		}
		if n, err := count(ctx, d, "SELECT count(*) FROM river_job WHERE state = 'completed'"); err != nil || n != 1 {
			t.Errorf("%d completed jobs (%v) by the time Stop returned; want 1", n, err)
		}
	})
}

// When Stop's deadline passes first, in-flight jobs are cancelled and handed back, ready for
// the next node to run, rather than left running for the rescuer.
func TestStopReleasesJobsPastTheDeadline(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[recordArgs]) error {
			if err := record(ctx, d, job, "node", "started"); err != nil {
				return err
			}
			<-ctx.Done()
			return ctx.Err()
		}))
		c := newClient(t, d, jobs.Config{Workers: workers, Work: true})
		if err := c.Insert(ctx, recordArgs{Key: "slow"}, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the job to start", func() (bool, error) {
			n, err := count(ctx, d, "SELECT count(*) FROM test_runs WHERE event = 'started'")
			return n == 1, err
		})
		stopCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if err := c.Stop(stopCtx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		var state string
		var attempt int
		if err := d.QueryRow(ctx, "SELECT CAST(state AS TEXT), attempt FROM river_job").Scan(&state, &attempt); err != nil {
			t.Fatal(err)
		}
		// River does not count an attempt cut short by its own client stopping.
		if state != "available" || attempt != 0 {
			t.Errorf("job is %s after attempt %d; want it available again, attempt 0", state, attempt)
		}
		if got := runs(t, c, "interrupted"); got != 1 {
			t.Errorf("%d runs counted as interrupted; want 1", got)
		}
		newClient(t, d, jobs.Config{Workers: recordingWorkers(d, "next"), Work: true})
		waitFor(t, 30*time.Second, "the next node to run the released job", func() (bool, error) {
			n, err := count(ctx, d, "SELECT count(*) FROM test_runs WHERE node = 'next' AND event = 'done'")
			return n == 1, err
		})
	})
}
