package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/commons-gov/commons/internal/db"
)

// Outcomes of one run of a job, as the outcome label of commons_job_run_duration_seconds.
const (
	OutcomeCompleted = "completed" // the worker returned nil
	OutcomeError     = "error"     // the worker failed; River retries or discards the job
	OutcomeCancelled = "cancelled" // the worker cancelled the job for good (river.JobCancel)
	OutcomeSnoozed   = "snoozed"   // the worker put the job off (river.JobSnooze)
	OutcomePanic     = "panic"     // the worker panicked; River recovers and retries
	// OutcomeInterrupted is a run cut short by this node stopping; River makes the job
	// available again without counting the attempt.
	OutcomeInterrupted = "interrupted"
)

// countTimeout bounds the scrape-time count so that a slow database cannot hang /metrics.
const countTimeout = 5 * time.Second

// runMetrics is River worker middleware that observes every run of a job on this node. It
// cannot see a run cut short by the process dying; that job shows up again as rescued and
// retried in commons_jobs.
type runMetrics struct {
	river.MiddlewareDefaults
	duration *prometheus.HistogramVec
	wait     *prometheus.HistogramVec
}

func newRunMetrics() *runMetrics {
	return &runMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "commons_job_run_duration_seconds",
			Help:    "Runs of jobs on this node by kind and outcome, and how long each took.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"kind", "outcome"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "commons_job_wait_seconds",
			Help:    "How long jobs waited between being due and being started on this node, by kind.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"kind"}),
	}
}

// Work times the run and records its outcome. A panic is observed and passed on, since River
// recovers it further out.
func (m *runMetrics) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	if job.AttemptedAt != nil {
		m.wait.WithLabelValues(job.Kind).Observe(max(0, job.AttemptedAt.Sub(job.ScheduledAt).Seconds()))
	}
	outcome := OutcomePanic
	defer func() {
		m.duration.WithLabelValues(job.Kind, outcome).Observe(time.Since(start).Seconds())
	}()
	err := doInner(ctx)
	outcome = outcomeOf(ctx, err)
	return err
}

func outcomeOf(ctx context.Context, err error) string {
	var cancel *rivertype.JobCancelError
	var snooze *rivertype.JobSnoozeError
	switch {
	case err == nil:
		return OutcomeCompleted
	case errors.As(err, &cancel), errors.Is(context.Cause(ctx), river.ErrJobCancelledRemotely):
		return OutcomeCancelled
	// Out here nothing else cancels: the job's own timeout is set further in, around the worker.
	case ctx.Err() != nil:
		return OutcomeInterrupted
	case errors.As(err, &snooze):
		return OutcomeSnoozed
	default:
		return OutcomeError
	}
}

// Collector returns the Prometheus collector for jobs: commons_jobs{kind,state}, counted in the
// database when scraped (so it agrees across nodes), and this node's run and wait histograms.
// Register it once: every collector of a client shares the same histograms.
func (c *Client) Collector() prometheus.Collector {
	return &collector{
		d:      c.db,
		logger: c.logger,
		runs:   c.runs,
		jobs: prometheus.NewDesc("commons_jobs",
			"Jobs in the database by kind and state (completed jobs are kept for a day).",
			[]string{"kind", "state"}, nil),
		kinds: map[string]bool{},
	}
}

type collector struct {
	d      *db.DB
	logger *slog.Logger
	runs   *runMetrics
	jobs   *prometheus.Desc

	mu sync.Mutex
	// kinds remembers every kind seen, so that a state whose last job has gone reads 0 rather
	// than vanishing (a vanished series leaves graphs and alerts on its last value).
	kinds map[string]bool
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	c.runs.duration.Describe(ch)
	c.runs.wait.Describe(ch)
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.runs.duration.Collect(ch)
	c.runs.wait.Collect(ch)
	counts, err := c.count()
	if err != nil {
		// The other metrics on /metrics stay useful while the database is unwell; the
		// readiness check reports the database itself.
		c.logger.Warn("jobs: count jobs for metrics", "err", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range counts {
		c.kinds[k.kind] = true
	}
	for kind := range c.kinds {
		for _, state := range rivertype.JobStates() {
			n := counts[kindState{kind, string(state)}]
			ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(n), kind, string(state))
		}
	}
}

type kindState struct{ kind, state string }

// count groups river_job by kind and state. The table holds live jobs plus a day of finished
// ones (River's cleaner deletes older), and the query reads through the read pool, so on SQLite
// it does not wait for the writer.
func (c *collector) count() (map[kindState]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), countTimeout)
	defer cancel()
	rows, err := c.d.Query(ctx, "SELECT kind, CAST(state AS TEXT), count(*) FROM river_job GROUP BY kind, state")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[kindState]int64{}
	for rows.Next() {
		var k kindState
		var n int64
		if err := rows.Scan(&k.kind, &k.state, &n); err != nil {
			return nil, err
		}
		counts[k] = n
	}
	return counts, rows.Err()
}
