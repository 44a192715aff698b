package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify/recipients"
)

// Sending a checked file. "Send now" and "schedule" insert one notify.bulk_send job, in the
// transaction that marks the file as sending, to run now or at the scheduled time. The job
// creates the notifications in batches; each batch is one transaction holding the batch's
// notifications, their first status events, their delivery jobs, the day's counts and the
// job's progress (rows_done). So a crash loses at most the batch in hand, which the retried
// job stores again from rows_done. A batch is claimed by moving rows_done on from the value it
// started at, while the job is still in progress: a second runner of the same batch, or a
// batch after a cancellation, changes nothing and stores nothing; and the unique index on
// (job_id, job_row) refuses a duplicate whatever happens. A run stops after a while and leaves
// the rest to a new job it inserts with its last batch, so no run outlives its timeout.

// BulkSendArgs is the job that sends a bulk job's rows.
type BulkSendArgs struct {
	JobID     string `json:"job_id"`
	ServiceID string `json:"service_id"`
}

// Kind names the job in River's tables.
func (BulkSendArgs) Kind() string { return "notify.bulk_send" }

// InsertOpts runs bulk sends on the default queue, retried with backoff after a failure.
func (BulkSendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 25}
}

// Defaults of a bulk send's worker.
const (
	// DefaultBulkBatch is how many rows one transaction stores.
	DefaultBulkBatch = 500
	// DefaultBulkRunFor is how long one run stores batches before handing over to a new job.
	DefaultBulkRunFor = 20 * time.Second
	// bulkRunTimeout bounds one run, well past DefaultBulkRunFor and within River's rescue
	// of jobs that seem stuck.
	bulkRunTimeout = 2 * time.Minute
)

// BulkWorker sends bulk jobs. Register it with RegisterBulkWorkers, or build one with
// NewBulkWorker to set its batch size.
type BulkWorker struct {
	river.WorkerDefaults[BulkSendArgs]
	s *Service
	// Batch is how many rows one transaction stores; RunFor how long a run goes on before it
	// hands over to a new job.
	Batch  int
	RunFor time.Duration
	// afterBatch, when set, runs after each committed batch; tests stop a run there.
	afterBatch func(rowsDone int) error
}

// NewBulkWorker returns a worker with the default batch size and run length.
func (s *Service) NewBulkWorker() *BulkWorker {
	return &BulkWorker{s: s, Batch: DefaultBulkBatch, RunFor: DefaultBulkRunFor}
}

// RegisterBulkWorkers adds the bulk send job's worker and the purge of old files.
func (s *Service) RegisterBulkWorkers(w *river.Workers) {
	river.AddWorker(w, s.NewBulkWorker())
	river.AddWorker(w, &bulkPurgeWorker{s: s})
}

// Timeout bounds one run.
func (w *BulkWorker) Timeout(*river.Job[BulkSendArgs]) time.Duration { return bulkRunTimeout }

// Work sends the next batches of a bulk job.
func (w *BulkWorker) Work(ctx context.Context, job *river.Job[BulkSendArgs]) error {
	return w.Run(ctx, job.Args)
}

// errBatchTaken is a batch whose job moved on (another run stored it) or stopped (cancelled)
// while it was being prepared.
var errBatchTaken = errors.New("bulk send: the batch was taken or the job stopped")

// Run sends a bulk job's rows from where it stopped, batch by batch.
func (w *BulkWorker) Run(ctx context.Context, args BulkSendArgs) error {
	s := w.s
	j, err := s.BulkJob(ctx, args.ServiceID, args.JobID)
	if failure.Is(err, failure.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch j.Status {
	case BulkScheduled:
		if j, err = s.startBulkJob(ctx, j); err != nil || j.Status != BulkInProgress {
			return err
		}
	case BulkInProgress:
	default:
		return nil // cancelled, finished, stopped at a limit, or never sent
	}
	data, err := s.bulkFile(ctx, j.ServiceID, j.ID)
	if failure.Is(err, failure.NotFound) {
		return s.stopBulkJob(ctx, j, BulkCancelled, "Commons: the file was no longer kept")
	}
	if err != nil {
		return err
	}
	t, err := s.TemplateVersion(ctx, j.ServiceID, j.TemplateID, j.TemplateVersion)
	if err != nil {
		return err
	}
	b, err := s.bulkSenderFor(ctx, j.ServiceID, t)
	if err != nil {
		return err
	}
	if b.refusal != "" {
		return s.stopBulkJob(ctx, j, BulkCancelled, "Commons: "+b.refusal)
	}
	msg, err := s.bulkMessageSettings(ctx, b)
	if err != nil {
		return err
	}
	if j.RowsDone == 0 {
		// As GOV.UK Notify does, a job that cannot all be sent today is not started.
		sent, err := s.sentToday(ctx, j.ServiceID, string(j.Type))
		if err != nil {
			return err
		}
		if j.Rows > b.settings.DailyLimit(string(j.Type))-sent {
			return s.stopBulkJob(ctx, j, BulkLimitsExceeded, "")
		}
	}
	file := recipients.Read(data)
	batch := max(w.Batch, 1)
	until := time.Now().Add(w.RunFor)
	for j.RowsDone < j.Rows {
		end := min(j.RowsDone+batch, j.Rows)
		var rows []*recipients.Row
		sum := file.Check(b.rules, j.RowsDone, end, func(r *recipients.Row) { rows = append(rows, r) })
		if len(sum.Problems) > 0 || len(rows) != end-j.RowsDone {
			return s.stopBulkJob(ctx, j, BulkCancelled, "Commons: the file no longer matches the template")
		}
		more := end < j.Rows
		handOver := more && !time.Now().Before(until)
		out := s.buildBatch(j, b, msg, rows)
		err := s.storeBatch(ctx, j, b, out, end, handOver)
		var limitErr *v2Error
		switch {
		case errors.Is(err, errBatchTaken):
			return nil
		case errors.As(err, &limitErr) && limitErr.Status == 429:
			return s.stopBulkJob(ctx, j, BulkLimitsExceeded, "")
		case err != nil:
			return err
		}
		j.RowsDone = end
		if w.afterBatch != nil {
			if err := w.afterBatch(end); err != nil {
				return err
			}
		}
		if handOver {
			return nil
		}
	}
	return nil
}

// startBulkJob marks a scheduled job as in progress when its time comes.
func (s *Service) startBulkJob(ctx context.Context, j BulkJob) (BulkJob, error) {
	now := s.now()
	if _, err := s.db.Exec(ctx, `UPDATE notify_bulk_jobs SET status = ?, started_at = ?, updated_at = ?
		WHERE id = ? AND service_id = ? AND status = ?`, BulkInProgress, now, now, j.ID, j.ServiceID, BulkScheduled); err != nil {
		return BulkJob{}, fmt.Errorf("start bulk send: %w", err)
	}
	return s.BulkJob(ctx, j.ServiceID, j.ID)
}

// stopBulkJob ends a job that cannot go on, keeping what it has sent. by, for a cancellation,
// says why.
func (s *Service) stopBulkJob(ctx context.Context, j BulkJob, status, by string) error {
	now := s.now()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var cancelledAt any
		if status == BulkCancelled {
			cancelledAt = now
		}
		if _, err := tx.Exec(ctx, `UPDATE notify_bulk_jobs SET status = ?, cancelled_by_name = ?, cancelled_at = ?,
			finished_at = ?, updated_at = ? WHERE id = ? AND service_id = ? AND status IN (?, ?)`,
			status, nullable(by), cancelledAt, now, now, j.ID, j.ServiceID, BulkScheduled, BulkInProgress); err != nil {
			return fmt.Errorf("stop bulk send: %w", err)
		}
		_, err := tx.Exec(ctx, `DELETE FROM notify_bulk_files WHERE job_id = ? AND service_id = ?`, j.ID, j.ServiceID)
		return err
	})
}

// SendBulkJob sends a checked, pending job: now when at is nil, or at that time, which must be
// in the future and at most 7 days ahead. The file is checked again first; one with problems,
// or with more rows than the service may still send today, is refused.
func (s *Service) SendBulkJob(ctx context.Context, serviceID, jobID string, at *time.Time) (BulkJob, error) {
	j, err := s.BulkJob(ctx, serviceID, jobID)
	if err != nil {
		return BulkJob{}, err
	}
	if j.Status != BulkPending {
		return BulkJob{}, failure.New(failure.Conflict, "This file has already been sent or cancelled")
	}
	now := s.now()
	if at != nil {
		when := at.UTC().Truncate(time.Microsecond)
		switch {
		case !when.After(now):
			return BulkJob{}, failure.Field("when", "The time to send must be in the future")
		case when.After(now.Add(BulkScheduleWindow)):
			return BulkJob{}, failure.Field("when", "You can only schedule sending up to 7 days ahead")
		}
		at = &when
	}
	check, err := s.CheckBulkJob(ctx, j, 0)
	if err != nil {
		return BulkJob{}, err
	}
	switch {
	case check.Refusal != "":
		return BulkJob{}, failure.New(failure.Invalid, "%s", check.Refusal)
	case !check.Summary.OK():
		return BulkJob{}, failure.New(failure.Invalid, "The file has problems: fix them and upload it again")
	case check.OverDailyLimit():
		return BulkJob{}, failure.New(failure.Invalid, "The file has more rows than your service can send in a day (%s)",
			withThousands(check.DailyLimit))
	case at == nil && check.OverToday():
		return BulkJob{}, failure.New(failure.Invalid, "Your service can only send %s more today: schedule the file for tomorrow",
			withThousands(check.RemainingToday))
	}
	status, opts := BulkInProgress, &river.InsertOpts{}
	var started any = now
	if at != nil {
		status, opts.ScheduledAt, started = BulkScheduled, *at, nil
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE notify_bulk_jobs SET status = ?, scheduled_for = ?, started_at = ?, row_count = ?,
			updated_at = ? WHERE id = ? AND service_id = ? AND status = ?`,
			status, nullTime(at), started, check.Rows, now, j.ID, serviceID, BulkPending)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return failure.New(failure.Conflict, "This file has already been sent or cancelled")
		}
		if err := s.cfg.Jobs.InsertTx(ctx, tx, BulkSendArgs{JobID: j.ID, ServiceID: serviceID}, opts); err != nil {
			return err
		}
		details := bulkDetails(j)
		details["rows"] = check.Rows
		if at != nil {
			details["scheduled_for"] = rfc3339(*at)
		}
		return s.audit(ctx, tx, serviceID, auditBulkStarted, "bulk_send", j.ID, details)
	})
	if err != nil {
		if failure.Is(err, failure.Conflict) {
			return BulkJob{}, err
		}
		return BulkJob{}, fmt.Errorf("send bulk file: %w", err)
	}
	return s.BulkJob(ctx, serviceID, j.ID)
}

// bulkPurgeWorker deletes files that were uploaded and never sent.
type bulkPurgeWorker struct {
	river.WorkerDefaults[BulkPurgeArgs]
	s *Service
}

// BulkPurgeArgs is the periodic job that deletes files of bulk sends no longer needed.
type BulkPurgeArgs struct{}

// Kind names the job in River's tables.
func (BulkPurgeArgs) Kind() string { return "notify.bulk_purge" }

func (w *bulkPurgeWorker) Work(ctx context.Context, _ *river.Job[BulkPurgeArgs]) error {
	_, err := w.s.PurgeBulkFiles(ctx)
	return err
}

// bulkPurgeEvery is how often files of bulk sends are purged.
const bulkPurgeEvery = time.Hour

// BulkPeriodicJobs are the bulk sends' periodic jobs, for jobs.Config.PeriodicJobs.
func BulkPeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(bulkPurgeEvery),
			func() (river.JobArgs, *river.InsertOpts) { return BulkPurgeArgs{}, nil },
			&river.PeriodicJobOpts{ID: "notify_bulk_purge", RunOnStart: true}),
	}
}
