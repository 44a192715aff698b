package jobs_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/jobs"
)

// childEnv, when set to a database URL, makes the test binary run as a worker node that takes
// one job, records that it started and then hangs, waiting to be killed.
const childEnv = "COMMONS_JOBS_TEST_CHILD_DB"

// childLifetime bounds a child whose parent died without killing it.
const childLifetime = 3 * time.Minute

func TestMain(m *testing.M) {
	if url := os.Getenv(childEnv); url != "" {
		os.Exit(runChild(url))
	}
	os.Exit(m.Run())
}

func runChild(url string) int {
	ctx := context.Background()
	d, err := db.Open(ctx, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[recordArgs]) error {
		if err := record(ctx, d, job, "child", "started"); err != nil {
			return err
		}
		select {} // hangs mid-job until the parent kills the process
	}))
	c, err := jobs.New(d, jobs.Config{Workers: workers, Work: true, JobTimeout: childLifetime})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	if err := c.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	time.Sleep(childLifetime)
	fmt.Fprintln(os.Stderr, "child: never killed")
	return 1
}

// syncBuffer collects a child's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A job whose node is killed mid-run is rescued and run to completion by another node.
//
// Rescue is made prompt by the surviving node's settings: RescueStuckJobsAfter 2s (a running
// job is presumed abandoned after that) and JobTimeout 1s (River rescues a job only once its
// timeout has passed). What remains is River's own pace: the killed node was the leader, whose
// lease lasts up to 15 s; the survivor bids every 5–6 s; the leader's rescuer runs at once on
// taking office, the retry is due about 1 s later and the scheduler makes it available within
// 5 s. The engines run in parallel to keep the whole test near half a minute.
func TestKilledNodesJobRunsAgain(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := dbtest.URL(t, engine)
			d := openURL(t, url)
			if err := migrate(ctx, d); err != nil {
				t.Fatal(err)
			}
			api := newClient(t, d, jobs.Config{Workers: recordingWorkers(d, "api")})
			if err := api.Insert(ctx, recordArgs{Key: "survivor"}, nil); err != nil {
				t.Fatal(err)
			}

			var out syncBuffer
			child := exec.Command(exe, "-test.run=^$")
			child.Env = append(os.Environ(), childEnv+"="+url)
			child.Stdout, child.Stderr = &out, &out
			if err := child.Start(); err != nil {
				t.Fatal(err)
			}
			killed := false
			t.Cleanup(func() {
				if !killed {
					child.Process.Kill()
					child.Wait()
				}
				if t.Failed() {
					t.Logf("child output:\n%s", out.String())
				}
			})
			waitFor(t, 60*time.Second, "the child to start the job", func() (bool, error) {
				n, err := count(ctx, d, "SELECT count(*) FROM test_runs WHERE node = 'child' AND event = 'started'")
				return n == 1, err
			})
			if err := child.Process.Kill(); err != nil { // SIGKILL: no chance to clean up
				t.Fatal(err)
			}
			child.Wait()
			killed = true

			newClient(t, d, jobs.Config{
				Workers:              recordingWorkers(d, "survivor"),
				Work:                 true,
				JobTimeout:           time.Second,
				RescueStuckJobsAfter: 2 * time.Second,
			})
			waitFor(t, 120*time.Second, "the job to be rescued and run again", func() (bool, error) {
				n, err := count(ctx, d, "SELECT count(*) FROM river_job WHERE state = 'completed'")
				return n == 1, err
			})
			if n, err := count(ctx, d, "SELECT count(*) FROM test_runs WHERE node = 'survivor' AND event = 'done'"); err != nil || n != 1 {
				t.Errorf("survivor ran the job %d times (%v); want 1", n, err)
			}
			if n, err := count(ctx, d, "SELECT count(*) FROM river_job WHERE attempt = 2"); err != nil || n != 1 {
				t.Errorf("%d jobs completed on attempt 2 (%v); want the one, after the killed attempt 1", n, err)
			}
		})
	}
}
