package pay

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
)

// Pay's background work (pay.md §6.4): capturing approved payments, expiring abandoned ones,
// and forgetting spent tokens and idempotency keys.

// QueuePay is the River queue Pay's jobs run on, so that a backlog of captures does not wait
// behind other platforms' work or hold it up.
const QueuePay = "pay"

// DefaultWorkers is how many Pay jobs one node works at once.
const DefaultWorkers = 10

// Queues returns Pay's queues and their concurrency, for jobs.Config.Queues.
func Queues() map[string]int {
	return map[string]int{QueuePay: DefaultWorkers, QueuePayWebhooks: DefaultWebhookWorkers}
}

// Timers.
const (
	// ExpiryWindow: a payment not completed this long after it was created expires.
	ExpiryWindow = 90 * time.Minute
	// DelayedCaptureWindow: a delayed-capture payment not captured this long after it was
	// created expires.
	DelayedCaptureWindow = 5 * 24 * time.Hour
	// ExpiryGrace: a payment that changed this recently is left alone by the sweep, so that a
	// payer who is mid-way through a step is not cut off at the last moment.
	ExpiryGrace = 5 * time.Minute
	// CaptureRetryInterval is the wait between capture attempts that failed.
	CaptureRetryInterval = time.Hour
	// MaxCaptureRetries is how many times a failed capture is tried again before the
	// payment is given up as CAPTURE ERROR.
	MaxCaptureRetries = 26
	// sweepEvery is how often the expiry and clean-up sweep runs.
	sweepEvery = 5 * time.Minute
	// sweepBatch bounds one sweep's work, keeping SQLite's one writer free in between.
	sweepBatch = 500
)

// CaptureArgs is the job that captures one approved payment. It is inserted in the
// transaction that approved the payment.
type CaptureArgs struct {
	PaymentID string `json:"payment_id"`
}

// Kind names the job in River's tables.
func (CaptureArgs) Kind() string { return "pay.capture" }

// InsertOpts puts captures on Pay's queue. Retries are Pay's own (hourly, counted on the
// payment), so River's attempts only cover crashes.
func (CaptureArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePay, MaxAttempts: 10}
}

// SweepArgs is the periodic job that expires abandoned payments and forgets spent tokens and
// idempotency keys.
type SweepArgs struct{}

// Kind names the job in River's tables.
func (SweepArgs) Kind() string { return "pay.sweep" }

// InsertOpts puts the sweep on Pay's queue.
func (SweepArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueuePay} }

// PeriodicJobs returns Pay's periodic jobs, which the leader node enqueues on schedule.
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(sweepEvery),
			func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: "pay_sweep", RunOnStart: true}),
		webhookPurgeJob(),
	}
}

// RegisterWorkers adds Pay's workers. River looks workers up when it works a job, so this may
// run after jobs.New as long as it runs before Start.
func (s *Service) RegisterWorkers(w *river.Workers) {
	river.AddWorker(w, &captureWorker{s: s})
	river.AddWorker(w, &sweepWorker{s: s})
	s.registerWebhookWorkers(w)
	s.registerAgreementWorkers(w)
}

type captureWorker struct {
	river.WorkerDefaults[CaptureArgs]
	s *Service
}

func (w *captureWorker) Work(ctx context.Context, job *river.Job[CaptureArgs]) error {
	retry, err := w.s.CaptureOnce(ctx, job.Args.PaymentID)
	if err != nil {
		return err
	}
	if retry {
		return river.JobSnooze(CaptureRetryInterval)
	}
	return nil
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	s *Service
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	if _, err := w.s.ExpireAbandoned(ctx); err != nil {
		return err
	}
	return w.s.ForgetSpent(ctx)
}

// queueCapture inserts the capture job for a payment in tx.
func (s *Service) queueCapture(ctx context.Context, tx *db.Tx, paymentID string) error {
	return s.cfg.Jobs.InsertTx(ctx, tx, CaptureArgs{PaymentID: paymentID}, nil)
}
