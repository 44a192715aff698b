package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/notify/recipients"
)

// One batch of a bulk send: its rows made into notifications as a send through the API makes
// them (the same rendering, addressing and sender rules), then stored in one transaction.

// bulkMessage is what every message of a job shares: the service's default email reply-to
// address or text message sender.
type bulkMessage struct {
	replyTo, sender string
}

// bulkMessageSettings reads the sender details a job's messages go out with.
func (s *Service) bulkMessageSettings(ctx context.Context, b bulkSender) (bulkMessage, error) {
	var m bulkMessage
	var err error
	switch b.template.Type {
	case Email:
		m.replyTo, err = s.emailReplyTo(ctx, b.service.ID, "")
	case SMS:
		m.sender, err = s.smsSender(ctx, b.service.ID, "")
		m.sender = formatSMSSender(m.sender)
	}
	return m, err
}

// bulkSkip is a row set aside without a notification, and why.
type bulkSkip struct {
	row              int
	recipient, cause string
}

// bulkBatch is a batch ready to store.
type bulkBatch struct {
	notifications   []*Notification
	personalisation []string
	skipped         []bulkSkip
	international   int // text messages abroad, which also count towards their own limit
}

// buildBatch makes a notification of each row that can be sent.
func (s *Service) buildBatch(j BulkJob, b bulkSender, m bulkMessage, rows []*recipients.Row) bulkBatch {
	var out bulkBatch
	now := s.now()
	sc := sendContext{caller: apiauth.Identity{ServiceID: j.ServiceID, ServiceLive: b.service.Live, KeyType: apiauth.Live},
		service: b.service, settings: b.settings}
	for _, row := range rows {
		n, cause := s.bulkNotification(j, b, m, sc, row)
		if cause != "" {
			out.skipped = append(out.skipped, bulkSkip{row: row.Number, recipient: row.Recipient, cause: cause})
			continue
		}
		personalisation, err := personalisationJSON(n)
		if err != nil {
			out.skipped = append(out.skipped, bulkSkip{row: row.Number, recipient: row.Recipient, cause: "The row’s values could not be stored"})
			continue
		}
		n.CreatedAt = now
		if n.Type == SMS && row.Phone.CountryPrefix != "44" {
			out.international++
		}
		out.notifications = append(out.notifications, n)
		out.personalisation = append(out.personalisation, personalisation)
	}
	return out
}

// bulkNotification makes one row's notification, or says why the row is not sent.
func (s *Service) bulkNotification(j BulkJob, b bulkSender, m bulkMessage, sc sendContext, row *recipients.Row) (*Notification, string) {
	if !row.OK() {
		return nil, strings.Join(row.Problems, ". ")
	}
	t := b.template
	msg, err := renderForSend(t, row.Personalisation, b.contactBlock, b.rules.SMSPrefix)
	if err == nil {
		err = msg.tooLong
	}
	if err != nil {
		return nil, refusalText(err)
	}
	n := &Notification{
		ID: uuid.NewString(), ServiceID: j.ServiceID, TemplateID: t.ID, TemplateVersion: t.Version, Type: t.Type,
		KeyType: apiauth.Live, JobID: j.ID, JobRow: row.Number, Personalisation: row.Personalisation,
		Status: StatusCreated, Subject: msg.Subject, Body: msg.Body, CreatedByName: j.CreatedByName,
		RateMultiplier: 1, ReplyTo: b.contactBlock,
	}
	switch t.Type {
	case Email:
		if content.IsSimulatedEmail(row.To) {
			return nil, simulatedRow
		}
		n.Recipient, n.NormalisedTo, n.ReplyTo = row.Recipient, row.To, m.replyTo
	case SMS:
		if content.IsSimulatedPhone(row.To) {
			return nil, simulatedRow
		}
		n.Recipient, n.NormalisedTo, n.Sender = row.Recipient, row.To, m.sender
		n.International, n.RateMultiplier = row.Phone.International, float64(row.Phone.RateMultiplier)
	case Letter:
		if err := addressLetter(sc, n, t); err != nil {
			return nil, refusalText(err)
		}
	}
	return n, ""
}

// simulatedRow is why a row addressed to one of GOV.UK Notify's test recipients has no
// notification: as through the API, nothing is stored or sent for them.
const simulatedRow = "A test address: nothing is sent to it"

// refusalText is the message of a send's refusal.
func refusalText(err error) string {
	var se *SendError
	if errors.As(asSendError(err), &se) {
		return se.Message
	}
	return "The message could not be made"
}

// bulkInsertChunk is how many rows one INSERT statement stores, well within both engines'
// limits on a statement's parameters.
const bulkInsertChunk = 200

// bulkNotificationColumns are the columns of a job's notification: a notification's and the
// job's own.
const bulkNotificationColumns = notificationColumns + `, job_id, job_row`

// storeBatch stores a batch in one transaction, moving the job's progress on to rowsDone. The
// job must still be in progress and at the progress it had when the batch was read, or nothing
// is stored (errBatchTaken). The last batch finishes the job and deletes its file; handOver
// queues a new job to carry on.
func (s *Service) storeBatch(ctx context.Context, j BulkJob, b bulkSender, out bulkBatch, rowsDone int, handOver bool) error {
	now := s.now()
	last := rowsDone >= j.Rows
	status, finished := BulkInProgress, any(nil)
	if last {
		status, finished = BulkFinished, now
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		// First, so that on PostgreSQL the job's row is locked for the whole batch and a
		// cancellation waits for it.
		res, err := tx.Exec(ctx, `UPDATE notify_bulk_jobs SET rows_done = ?, sent_count = sent_count + ?,
			skipped_count = skipped_count + ?, status = ?, finished_at = ?, updated_at = ?
			WHERE id = ? AND service_id = ? AND rows_done = ? AND status = ?`,
			rowsDone, len(out.notifications), len(out.skipped), status, finished, now,
			j.ID, j.ServiceID, j.RowsDone, BulkInProgress)
		if err != nil {
			return fmt.Errorf("bulk send progress: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errBatchTaken
		}
		if err := s.countBulk(ctx, tx, j, b.settings, out); err != nil {
			return err
		}
		if err := insertBulkNotifications(ctx, tx, j, out); err != nil {
			return err
		}
		for _, sk := range out.skipped {
			if _, err := tx.Exec(ctx, `INSERT INTO notify_bulk_skipped (job_id, job_row, service_id, recipient, reason)
				VALUES (?, ?, ?, ?, ?)`, j.ID, sk.row, j.ServiceID, sk.recipient, sk.cause); err != nil {
				return fmt.Errorf("bulk send skipped row: %w", err)
			}
		}
		if len(out.notifications) > 0 {
			if _, err := s.cfg.Jobs.River().InsertManyFastTx(ctx, tx.Sql, deliveryJobs(out.notifications)); err != nil {
				return fmt.Errorf("bulk send deliveries: %w", err)
			}
		}
		if last {
			if _, err := tx.Exec(ctx, `DELETE FROM notify_bulk_files WHERE job_id = ? AND service_id = ?`, j.ID, j.ServiceID); err != nil {
				return fmt.Errorf("bulk send file: %w", err)
			}
		}
		if handOver {
			return s.cfg.Jobs.InsertTx(ctx, tx, BulkSendArgs{JobID: j.ID, ServiceID: j.ServiceID}, nil)
		}
		return nil
	})
}

// insertBulkNotifications stores a batch's notifications and their first status events, a
// chunk of rows to a statement.
func insertBulkNotifications(ctx context.Context, tx *db.Tx, j BulkJob, out bulkBatch) error {
	for from := 0; from < len(out.notifications); from += bulkInsertChunk {
		chunk := out.notifications[from:min(from+bulkInsertChunk, len(out.notifications))]
		args := make([]any, 0, len(chunk)*(notificationColumnCount+2))
		events := make([]any, 0, len(chunk)*statusEventColumnCount)
		for i, n := range chunk {
			args = append(args, notificationRow(n, out.personalisation[from+i])...)
			args = append(args, j.ID, n.JobRow)
			events = append(events, statusEventRow(n)...)
		}
		if _, err := tx.Exec(ctx, multiRowInsert(`INSERT INTO notify_notifications (`+bulkNotificationColumns+`) VALUES `,
			notificationColumnCount+2, len(chunk)), args...); err != nil {
			return fmt.Errorf("bulk send notifications: %w", err)
		}
		if _, err := tx.Exec(ctx, insertStatusEventSQL(len(chunk)), events...); err != nil {
			return fmt.Errorf("bulk send status events: %w", err)
		}
	}
	return nil
}

// addBulkCountSQL adds a batch's sends to a daily count, unless that would pass the limit.
const addBulkCountSQL = `INSERT INTO notify_daily_counts (service_id, channel, day, sent) VALUES (?, ?, ?, ?)
	ON CONFLICT (service_id, channel, day) DO UPDATE SET sent = notify_daily_counts.sent + excluded.sent
	WHERE notify_daily_counts.sent + excluded.sent <= ?
	RETURNING sent`

// countBulk counts a batch towards the day's limits of its channel (and of text messages
// abroad), refusing with the API's 429 when a limit would be passed.
func (s *Service) countBulk(ctx context.Context, tx *db.Tx, j BulkJob, st Settings, out bulkBatch) error {
	today := day(s.now())
	add := func(limitName string, n int) error {
		if n == 0 {
			return nil
		}
		limit := st.DailyLimit(limitName)
		if n > limit {
			return tooManyToday(limitName, limit)
		}
		rows, err := tx.Query(ctx, addBulkCountSQL, j.ServiceID, limitName, today, n, limit)
		if err != nil {
			return fmt.Errorf("count bulk send: %w", err)
		}
		defer rows.Close()
		counted := rows.Next()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("count bulk send: %w", err)
		}
		if !counted {
			return tooManyToday(limitName, limit)
		}
		return nil
	}
	if err := add(string(j.Type), len(out.notifications)); err != nil {
		return err
	}
	return add(internationalSMSLimit, out.international)
}
