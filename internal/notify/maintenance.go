package notify

import (
	"context"
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // Europe/London for retention's day boundaries, also in a static binary without zoneinfo

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
)

// TimeoutSendingArgs is the periodic job that ends emails and text messages left sending or
// pending for SendingTimeout: they become temporary-failure, and the service hears of it.
type TimeoutSendingArgs struct{}

// Kind names the job in River's tables.
func (TimeoutSendingArgs) Kind() string { return "notify.timeout_sending" }

// RetentionArgs is the periodic job that deletes notifications and received text messages
// older than their service's retention.
type RetentionArgs struct{}

// Kind names the job in River's tables.
func (RetentionArgs) Kind() string { return "notify.retention" }

// Upkeep schedules. Both jobs are idempotent and cheap when there is nothing to do, so they
// run often enough that nothing waits long past its time.
const (
	timeoutEvery   = 15 * time.Minute
	retentionEvery = time.Hour
	// DefaultRetentionDays is how long a service without settings keeps its data.
	DefaultRetentionDays = 7
	// maintenanceBatch bounds each transaction of upkeep, keeping SQLite's one writer free
	// for deliveries in between.
	maintenanceBatch = 500
)

// PeriodicJobs returns Notify's periodic jobs, which the leader node enqueues on schedule
// (jobs.Config.PeriodicJobs). They run on River's default queue.
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(timeoutEvery),
			func() (river.JobArgs, *river.InsertOpts) { return TimeoutSendingArgs{}, nil },
			&river.PeriodicJobOpts{ID: "notify_timeout_sending", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(retentionEvery),
			func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
			&river.PeriodicJobOpts{ID: "notify_retention", RunOnStart: true}),
	}
}

type timeoutWorker struct {
	river.WorkerDefaults[TimeoutSendingArgs]
	d *Delivery
}

func (w *timeoutWorker) Work(ctx context.Context, _ *river.Job[TimeoutSendingArgs]) error {
	_, err := w.d.TimeoutSending(ctx)
	return err
}

type retentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	d *Delivery
}

func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	_, err := w.d.PurgeExpired(ctx)
	return err
}

// TimeoutSending moves emails and text messages created more than SendingTimeout ago and
// still sending or pending to temporary-failure, queueing their delivery-status callbacks,
// and returns how many it moved. Letters are not timed out (notify.md §4.2).
func (d *Delivery) TimeoutSending(ctx context.Context) (int, error) {
	cutoff := d.s.now().Add(-SendingTimeout)
	total := 0
	for {
		var n int
		err := d.s.db.InTx(ctx, func(tx *db.Tx) error {
			rows, err := tx.Query(ctx, `UPDATE notify_notifications SET status = ?, updated_at = ?
				WHERE id IN (SELECT id FROM notify_notifications WHERE status IN (?, ?)
					AND notification_type IN (?, ?) AND created_at < ? LIMIT ?)
				AND status IN (?, ?) RETURNING `+changedColumns,
				StatusTemporaryFailure, d.s.now(), StatusSending, StatusPending, string(Email), string(SMS), cutoff,
				maintenanceBatch, StatusSending, StatusPending)
			if err != nil {
				return err
			}
			var changed []changedRow
			for rows.Next() {
				r, err := scanChanged(rows)
				if err != nil {
					rows.Close()
					return err
				}
				changed = append(changed, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range changed {
				if err := d.recordChange(ctx, tx, r, "No delivery receipt within 72 hours"); err != nil {
					return err
				}
			}
			n = len(changed)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("time out sending notifications: %w", err)
		}
		total += n
		if n < maintenanceBatch {
			return total, nil
		}
	}
}

// Purged counts what PurgeExpired deleted.
type Purged struct {
	Notifications int
	ReceivedTexts int
}

var retentionColumns = map[Channel]string{
	Email: "email_retention_days", SMS: "sms_retention_days", Letter: "letter_retention_days",
}

// PurgeExpired deletes, for each service and channel, the notifications created before
// midnight (London time) of the day that many days of retention ago, as GOV.UK Notify's
// nightly task does — the whole notification with its status events, callback attempts and
// letter PDF — and likewise received text messages by the text message retention. A service
// without settings keeps DefaultRetentionDays.
func (d *Delivery) PurgeExpired(ctx context.Context) (Purged, error) {
	var out Purged
	now := d.s.now()
	for _, ch := range []Channel{Email, SMS, Letter} {
		col := retentionColumns[ch]
		days, err := d.distinctRetentions(ctx, col)
		if err != nil {
			return out, err
		}
		for _, n := range days {
			c, err := d.purgeNotifications(ctx, ch, retentionCutoff(now, n),
				`service_id IN (SELECT service_id FROM notify_settings WHERE `+col+` = ?)`, n)
			out.Notifications += c
			if err != nil {
				return out, err
			}
		}
		c, err := d.purgeNotifications(ctx, ch, retentionCutoff(now, DefaultRetentionDays),
			`service_id NOT IN (SELECT service_id FROM notify_settings)`)
		out.Notifications += c
		if err != nil {
			return out, err
		}
	}
	days, err := d.distinctRetentions(ctx, retentionColumns[SMS])
	if err != nil {
		return out, err
	}
	for _, n := range days {
		c, err := d.purgeInbound(ctx, retentionCutoff(now, n),
			`service_id IN (SELECT service_id FROM notify_settings WHERE sms_retention_days = ?)`, n)
		out.ReceivedTexts += c
		if err != nil {
			return out, err
		}
	}
	c, err := d.purgeInbound(ctx, retentionCutoff(now, DefaultRetentionDays), `service_id NOT IN (SELECT service_id FROM notify_settings)`)
	out.ReceivedTexts += c
	return out, d.purgeDocuments(ctx, now, err)
}

func (d *Delivery) distinctRetentions(ctx context.Context, col string) ([]int, error) {
	rows, err := d.s.db.Query(ctx, `SELECT DISTINCT `+col+` FROM notify_settings`)
	if err != nil {
		return nil, fmt.Errorf("retention periods: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// purgeNotifications deletes one channel's notifications created before cutoff among the
// services that cond (with args) selects, in batches.
func (d *Delivery) purgeNotifications(ctx context.Context, ch Channel, cutoff time.Time, cond string, args ...any) (int, error) {
	query := `DELETE FROM notify_notifications WHERE id IN (SELECT id FROM notify_notifications
		WHERE notification_type = ? AND created_at < ? AND ` + cond + ` LIMIT ?) RETURNING id`
	params := append(append([]any{string(ch), cutoff}, args...), maintenanceBatch)
	return d.purge(ctx, query, params, func(ctx context.Context, tx *db.Tx, ids []any) error {
		in := sqlPlaceholders(len(ids))
		if _, err := tx.Exec(ctx, `DELETE FROM notify_status_events WHERE notification_id IN (`+in+`)`, ids...); err != nil {
			return err
		}
		if ch == Letter {
			if _, err := tx.Exec(ctx, `DELETE FROM notify_letter_pdfs WHERE notification_id IN (`+in+`)`, ids...); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM notify_callback_attempts WHERE subject_id IN (`+in+`)`, ids...)
		return err
	})
}

// purgeInbound deletes received text messages created before cutoff among the services that
// cond selects, in batches.
func (d *Delivery) purgeInbound(ctx context.Context, cutoff time.Time, cond string, args ...any) (int, error) {
	query := `DELETE FROM notify_inbound_sms WHERE id IN (SELECT id FROM notify_inbound_sms
		WHERE created_at < ? AND ` + cond + ` LIMIT ?) RETURNING id`
	params := append(append([]any{cutoff}, args...), maintenanceBatch)
	return d.purge(ctx, query, params, func(ctx context.Context, tx *db.Tx, ids []any) error {
		_, err := tx.Exec(ctx, `DELETE FROM notify_callback_attempts WHERE subject_id IN (`+sqlPlaceholders(len(ids))+`)`, ids...)
		return err
	})
}

// purge runs a DELETE … RETURNING id batch after batch, with after removing what hangs off
// the deleted rows in the same transaction, until a batch comes back short.
func (d *Delivery) purge(ctx context.Context, query string, params []any, after func(context.Context, *db.Tx, []any) error) (int, error) {
	total := 0
	for {
		var ids []any
		err := d.s.db.InTx(ctx, func(tx *db.Tx) error {
			ids = ids[:0]
			rows, err := tx.Query(ctx, query, params...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil || len(ids) == 0 {
				return err
			}
			return after(ctx, tx, ids)
		})
		if err != nil {
			return total, fmt.Errorf("retention: %w", err)
		}
		total += len(ids)
		if len(ids) < maintenanceBatch {
			return total, nil
		}
	}
}

var (
	londonOnce sync.Once
	london     *time.Location
)

// retentionCutoff is midnight in London at the start of the day `days` days before now's
// day there, in UTC: GOV.UK Notify keeps "7 days" as the last 7 whole London days and today.
func retentionCutoff(now time.Time, days int) time.Time {
	londonOnce.Do(func() {
		var err error
		if london, err = time.LoadLocation("Europe/London"); err != nil {
			london = time.UTC
		}
	})
	t := now.In(london)
	return time.Date(t.Year(), t.Month(), t.Day()-days, 0, 0, 0, 0, london).UTC()
}
