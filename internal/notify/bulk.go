package notify

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

// Bulk sending, as GOV.UK Notify's "jobs": a team member uploads a file of recipients (a CSV
// of up to 100,000 rows) for one template, sees every bad row explained, and sends the rest
// now or at a time up to 7 days ahead. The file is kept in the database until the job is done,
// so a send starts, or resumes after a restart, on whichever node picks up its job. Its
// notifications carry the job's id and their row number; the API lists them only when asked
// (include_jobs).

// Bulk job statuses.
const (
	// BulkPending is a file uploaded and checked but not yet sent or scheduled.
	BulkPending = "pending"
	// BulkScheduled waits for its scheduled time.
	BulkScheduled = "scheduled"
	// BulkInProgress is being sent: its notifications are being created, batch by batch.
	BulkInProgress = "in-progress"
	// BulkFinished has a notification (or a reason why not) for every row.
	BulkFinished = "finished"
	// BulkCancelled was stopped by a person; rows not yet sent never will be.
	BulkCancelled = "cancelled"
	// BulkLimitsExceeded stopped because the service reached a daily sending limit.
	BulkLimitsExceeded = "sending-limits-exceeded"
)

// BulkScheduleWindow is how far ahead a file may be scheduled, as in GOV.UK Notify.
const BulkScheduleWindow = 7 * 24 * time.Hour

// MaxBulkFileBytes bounds an uploaded file. 100,000 rows of a few columns fit many times over.
const MaxBulkFileBytes = 32 << 20

// maxBulkFileName bounds the file name kept with a job.
const maxBulkFileName = 255

// BulkJob is one uploaded file and its progress.
type BulkJob struct {
	ID              string
	ServiceID       string
	TemplateID      string
	TemplateVersion int
	Type            Channel
	FileName        string
	// Rows counts the file's rows with data.
	Rows   int
	Status string
	// ScheduledFor is when a scheduled job starts.
	ScheduledFor *time.Time
	// CreatedBy is the id of the user who uploaded the file; CreatedByName is their email
	// address, which the job's notifications show as created_by_name.
	CreatedBy, CreatedByName string
	// RowsDone counts the rows dealt with so far; Sent the notifications created and Skipped
	// the rows set aside.
	RowsDone, Sent, Skipped int
	CancelledByName         string
	CancelledAt             *time.Time
	StartedAt, FinishedAt   *time.Time
	CreatedAt, UpdatedAt    time.Time
}

// Done reports whether the job will create no more notifications.
func (j BulkJob) Done() bool {
	return j.Status == BulkFinished || j.Status == BulkCancelled || j.Status == BulkLimitsExceeded
}

// Cancellable reports whether the job may still be cancelled.
func (j BulkJob) Cancellable() bool {
	return j.Status == BulkPending || j.Status == BulkScheduled || j.Status == BulkInProgress
}

// Percent is how far through its rows the job is, 0 to 100.
func (j BulkJob) Percent() int {
	if j.Rows == 0 {
		return 0
	}
	return j.RowsDone * 100 / j.Rows
}

const bulkJobColumns = `id, service_id, template_id, template_version, notification_type, file_name, row_count,
	status, scheduled_for, created_by, created_by_name, rows_done, sent_count, skipped_count,
	COALESCE(cancelled_by_name, ''), cancelled_at, started_at, finished_at, created_at, updated_at`

func scanBulkJob(row interface{ Scan(...any) error }) (BulkJob, error) {
	var j BulkJob
	var typ string
	var scheduled, cancelled, started, finished sql.NullTime
	err := row.Scan(&j.ID, &j.ServiceID, &j.TemplateID, &j.TemplateVersion, &typ, &j.FileName, &j.Rows,
		&j.Status, &scheduled, &j.CreatedBy, &j.CreatedByName, &j.RowsDone, &j.Sent, &j.Skipped,
		&j.CancelledByName, &cancelled, &started, &finished, &j.CreatedAt, &j.UpdatedAt)
	if err != nil {
		return BulkJob{}, err
	}
	j.Type = Channel(typ)
	for _, t := range []struct {
		src sql.NullTime
		dst **time.Time
	}{{scheduled, &j.ScheduledFor}, {cancelled, &j.CancelledAt}, {started, &j.StartedAt}, {finished, &j.FinishedAt}} {
		if t.src.Valid {
			v := t.src.Time.UTC()
			*t.dst = &v
		}
	}
	j.CreatedAt, j.UpdatedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC()
	return j, nil
}

var errBulkJobNotFound = failure.New(failure.NotFound, "Bulk send not found")

// BulkJob returns one of a service's bulk jobs. A job of another service is not found.
func (s *Service) BulkJob(ctx context.Context, serviceID, jobID string) (BulkJob, error) {
	return s.bulkJob(ctx, s.db, serviceID, jobID, "")
}

func (s *Service) bulkJob(ctx context.Context, q db.Querier, serviceID, jobID, lock string) (BulkJob, error) {
	if uuid.Validate(jobID) != nil {
		return BulkJob{}, errBulkJobNotFound
	}
	j, err := scanBulkJob(q.QueryRow(ctx, `SELECT `+bulkJobColumns+` FROM notify_bulk_jobs
		WHERE id = ? AND service_id = ?`+lock, canonicalUUID(jobID), serviceID))
	if db.IsNoRows(err) {
		return BulkJob{}, errBulkJobNotFound
	}
	if err != nil {
		return BulkJob{}, fmt.Errorf("bulk send: %w", err)
	}
	return j, nil
}

// BulkJobs lists a service's bulk jobs, newest first, up to limit.
func (s *Service) BulkJobs(ctx context.Context, serviceID string, limit int) ([]BulkJob, error) {
	rows, err := s.db.Query(ctx, `SELECT `+bulkJobColumns+` FROM notify_bulk_jobs WHERE service_id = ?
		ORDER BY created_at DESC, id LIMIT ?`, serviceID, limit)
	if err != nil {
		return nil, fmt.Errorf("bulk sends: %w", err)
	}
	defer rows.Close()
	var out []BulkJob
	for rows.Next() {
		j, err := scanBulkJob(rows)
		if err != nil {
			return nil, fmt.Errorf("bulk sends: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// bulkFile reads a job's stored file. A job whose file has gone (finished, cancelled or
// purged) has none: not found.
func (s *Service) bulkFile(ctx context.Context, serviceID, jobID string) ([]byte, error) {
	var data []byte
	err := s.db.QueryRow(ctx, `SELECT content FROM notify_bulk_files WHERE job_id = ? AND service_id = ?`,
		jobID, serviceID).Scan(&data)
	if db.IsNoRows(err) {
		return nil, failure.New(failure.NotFound, "The file of this bulk send is no longer kept")
	}
	if err != nil {
		return nil, fmt.Errorf("bulk send file: %w", err)
	}
	return data, nil
}

// cleanFileName keeps a file name fit to store and show: valid UTF-8 without control
// characters or folders, and not too long.
func cleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > maxBulkFileName {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" {
		name = "recipients.csv"
	}
	return name
}

// BulkUpload is a file a person uploads to send from a template.
type BulkUpload struct {
	TemplateID string
	FileName   string
	Data       []byte
	// By is who uploaded it.
	By platform.User
}

// storeBulkJob keeps an uploaded file as a pending job.
func (s *Service) storeBulkJob(ctx context.Context, serviceID string, t Template, up BulkUpload, rows int) (BulkJob, error) {
	now := s.now()
	j := BulkJob{ID: uuid.NewString(), ServiceID: serviceID, TemplateID: t.ID, TemplateVersion: t.Version, Type: t.Type,
		FileName: cleanFileName(up.FileName), Rows: rows, Status: BulkPending, CreatedBy: up.By.ID,
		CreatedByName: up.By.Email, CreatedAt: now, UpdatedAt: now}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO notify_bulk_jobs (id, service_id, template_id, template_version,
			notification_type, file_name, row_count, status, created_by, created_by_name, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, j.ID, j.ServiceID, j.TemplateID, j.TemplateVersion,
			string(j.Type), j.FileName, j.Rows, j.Status, j.CreatedBy, j.CreatedByName, now, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO notify_bulk_files (job_id, service_id, content) VALUES (?, ?, ?)`,
			j.ID, serviceID, up.Data); err != nil {
			return err
		}
		return s.audit(ctx, tx, serviceID, auditBulkUploaded, "bulk_send", j.ID, bulkDetails(j))
	})
	if err != nil {
		return BulkJob{}, fmt.Errorf("store bulk send: %w", err)
	}
	return j, nil
}

// CancelBulkJob stops a job that has not finished: a pending or scheduled one never sends,
// and one being sent creates no more notifications after the batch in hand. Messages already
// created go on being delivered. by names who cancelled it.
func (s *Service) CancelBulkJob(ctx context.Context, serviceID, jobID, by string) (BulkJob, error) {
	j, err := s.BulkJob(ctx, serviceID, jobID)
	if err != nil {
		return BulkJob{}, err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// A batch being stored holds the job's row until it commits; this waits for it, so
		// no batch starts after the cancellation is committed.
		res, err := tx.Exec(ctx, `UPDATE notify_bulk_jobs SET status = ?, cancelled_by_name = ?, cancelled_at = ?,
			finished_at = ?, updated_at = ? WHERE id = ? AND service_id = ? AND status IN (?, ?, ?)`,
			BulkCancelled, by, now, now, now, j.ID, serviceID, BulkPending, BulkScheduled, BulkInProgress)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return failure.New(failure.Conflict, "This bulk send has already finished")
		}
		if _, err = tx.Exec(ctx, `DELETE FROM notify_bulk_files WHERE job_id = ? AND service_id = ?`, j.ID, serviceID); err != nil {
			return err
		}
		return s.audit(ctx, tx, serviceID, auditBulkCancelled, "bulk_send", j.ID, bulkDetails(j))
	})
	if err != nil {
		if failure.Is(err, failure.Conflict) {
			return BulkJob{}, err
		}
		return BulkJob{}, fmt.Errorf("cancel bulk send: %w", err)
	}
	return s.BulkJob(ctx, serviceID, j.ID)
}

// bulkPurgeAfter is how long an uploaded file that was never sent is kept.
const bulkPurgeAfter = 7 * 24 * time.Hour

// PurgeBulkFiles deletes the files of jobs uploaded more than 7 days ago and never sent, with
// their jobs, and the files of jobs that are done (normally deleted when they finish). It
// returns how many files it deleted.
func (s *Service) PurgeBulkFiles(ctx context.Context) (int, error) {
	before := s.now().Add(-bulkPurgeAfter)
	deleted := 0
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM notify_bulk_files WHERE job_id IN (SELECT id FROM notify_bulk_jobs
			WHERE (status = ? AND created_at < ?) OR status IN (?, ?, ?))`,
			BulkPending, before, BulkFinished, BulkCancelled, BulkLimitsExceeded)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		deleted = int(n)
		_, err = tx.Exec(ctx, `DELETE FROM notify_bulk_jobs WHERE status = ? AND created_at < ?`, BulkPending, before)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge bulk files: %w", err)
	}
	return deleted, nil
}
