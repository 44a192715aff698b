// Package jobs is Commons' durable background work: a River client over the same database as
// everything else, on SQLite and PostgreSQL alike. A platform inserts a job in the transaction
// that made the change the job follows from, so the job exists exactly when the change does; a
// worker that crashes mid-job has the job rescued and run again on any node; two nodes never
// run one job at once.
//
// Platforms register their workers with river.AddWorker on a *river.Workers before New. The
// client runs them only when Config.Work is set (`--role all` and `--role worker`); otherwise
// it only inserts (`--role api`).
package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/commons-gov/commons/internal/db"
)

// Defaults for the Config knobs left at zero.
const (
	// DefaultMaxWorkers is how many jobs of the default queue one node works at once.
	DefaultMaxWorkers = 10
	// DefaultJobTimeout bounds one run of a job; its context is cancelled after this.
	DefaultJobTimeout = time.Minute
	// DefaultRescueStuckJobsAfter is how long a job may stay running before it is taken to
	// belong to a dead node and scheduled again. It is well past DefaultJobTimeout, so a live
	// worker has long since had its context cancelled and returned.
	DefaultRescueStuckJobsAfter = 5 * time.Minute
	// DefaultFetchPollInterval is how often an idle node looks for new jobs. Both engines poll
	// (SQLite has no LISTEN, and database/sql offers PostgreSQL's only through a second pool),
	// so this is the latency of a job inserted by another node; it costs one small query per
	// queue per interval when idle.
	DefaultFetchPollInterval = 200 * time.Millisecond
	// hardStopWait is how long Stop waits, after cancelling in-flight jobs, for their workers
	// to return so that River can hand their jobs back.
	hardStopWait = 10 * time.Second
)

// Config configures a Client. Workers and Work are all a working node needs; every other knob
// has a production default and exists for tuning and for tests.
type Config struct {
	// Workers holds every job kind's worker. An insert-only client uses it too, so that
	// inserting a kind no worker handles fails at once rather than sitting in the queue.
	Workers *river.Workers
	// Work makes the client fetch and run jobs, elect a leader and run River's maintenance
	// (rescue, retries, periodic jobs, cleanup). False gives an insert-only client.
	Work bool
	// Logger receives River's logs; nil means slog.Default().
	Logger *slog.Logger
	// PeriodicJobs are enqueued on schedule by whichever working node is the leader; an
	// insert-only client ignores them.
	PeriodicJobs []*river.PeriodicJob
	// Queues maps a queue name to how many of its jobs this node works at once. Nil means
	// the default queue with DefaultMaxWorkers.
	Queues map[string]int
	// JobTimeout bounds one run of a job (DefaultJobTimeout when zero). Negative (no timeout)
	// is refused: River never rescues a job that has no timeout.
	JobTimeout time.Duration
	// RescueStuckJobsAfter is how long a job may run before it is rescued as abandoned by a
	// dead node (DefaultRescueStuckJobsAfter when zero, or JobTimeout plus that when JobTimeout
	// is longer). It must be at least JobTimeout.
	RescueStuckJobsAfter time.Duration
	// FetchPollInterval is how often an idle node looks for jobs (DefaultFetchPollInterval).
	FetchPollInterval time.Duration
}

// Client inserts jobs and, when Config.Work is set, runs them.
type Client struct {
	river  *river.Client[*sql.Tx]
	db     *db.DB
	work   bool
	logger *slog.Logger
	runs   *runMetrics
}

// New builds a client over d; River's schema must already be migrated (Migrate).
func New(d *db.DB, cfg Config) (*Client, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.Work && cfg.Workers == nil {
		return nil, errors.New("jobs: a working client needs Workers")
	}
	if cfg.JobTimeout < 0 {
		return nil, errors.New("jobs: JobTimeout must be positive: a job without one is never rescued after a crash")
	}
	timeout := cmp.Or(cfg.JobTimeout, DefaultJobTimeout)
	rescue := cfg.RescueStuckJobsAfter
	if rescue == 0 {
		rescue = DefaultRescueStuckJobsAfter
		if timeout >= rescue {
			rescue += timeout
		}
	}
	if rescue < timeout {
		return nil, fmt.Errorf("jobs: RescueStuckJobsAfter (%s) is shorter than JobTimeout (%s), so running jobs would be run twice", rescue, timeout)
	}
	poll := cmp.Or(cfg.FetchPollInterval, DefaultFetchPollInterval)
	runs := newRunMetrics()
	rc := &river.Config{
		Workers:              cfg.Workers,
		Logger:               logger,
		JobTimeout:           timeout,
		RescueStuckJobsAfter: rescue,
		FetchPollInterval:    poll,
		// The cooldown caps how often a busy queue fetches; it may not exceed the poll.
		FetchCooldown: min(poll, river.FetchCooldownDefault),
		// Polling on both engines: see DefaultFetchPollInterval. On SQLite this also saves
		// River's 50 ms notification poll on the one write connection.
		PollOnly:   true,
		Middleware: []rivertype.Middleware{runs},
	}
	if cfg.Work {
		rc.PeriodicJobs = cfg.PeriodicJobs
		rc.Queues = map[string]river.QueueConfig{}
		for name, n := range cfg.Queues {
			rc.Queues[name] = river.QueueConfig{MaxWorkers: n}
		}
		if len(rc.Queues) == 0 {
			rc.Queues[river.QueueDefault] = river.QueueConfig{MaxWorkers: DefaultMaxWorkers}
		}
	}
	rv, err := river.NewClient(driver(d), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: new client: %w", err)
	}
	return &Client{river: rv, db: d, work: cfg.Work, logger: logger, runs: runs}, nil
}

// River returns the underlying River client, for what this package does not wrap (listing,
// cancelling, subscribing to events).
func (c *Client) River() *river.Client[*sql.Tx] { return c.river }

// Start begins fetching and working jobs; an insert-only client has nothing to start. Jobs run
// until Stop, whatever later happens to ctx: shutdown is Stop's job, so that it can be graceful.
func (c *Client) Start(ctx context.Context) error {
	if !c.work {
		return nil
	}
	if err := c.river.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching and waits for in-flight jobs to finish. If ctx ends first, the jobs'
// contexts are cancelled; a worker that then returns has its job made available again at once,
// for this node or another, without the cut-short run counting as an attempt. A worker that
// ignores its context is left behind after hardStopWait, and its job is rescued later.
func (c *Client) Stop(ctx context.Context) error {
	if !c.work {
		return nil
	}
	err := c.river.Stop(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() == nil:
		return fmt.Errorf("jobs: stop: %w", err)
	}
	c.logger.WarnContext(ctx, "jobs: in-flight jobs did not finish before the stop deadline; cancelling them so they are handed back")
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), hardStopWait)
	defer cancel()
	if err := c.river.StopAndCancel(hard); err != nil {
		return fmt.Errorf("jobs: stop: cancelled jobs did not return: %w", err)
	}
	return nil
}

// InsertTx adds a job in tx, so that it is committed, and so run, only if tx commits.
// opts may be nil.
func (c *Client) InsertTx(ctx context.Context, tx *db.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := c.river.InsertTx(ctx, tx.Sql, args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// Insert adds a job in a transaction of its own. On SQLite it needs the one write connection,
// so it must not be called while a transaction is open on the same goroutine's behalf: use
// InsertTx there. opts may be nil.
func (c *Client) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := c.river.Insert(ctx, args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}
