package notify

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// Cancelling a scheduled notification: Commons' extension to scheduled_for (GOV.UK Notify
// ignores scheduled_for on the API). A notification sent with scheduled_for waits, created,
// until then; until that time comes it can be cancelled with
// POST /api/notify/v1/notifications/{id}/cancel. Its delivery job is cancelled in the same
// transaction, and the delivery worker skips anything no longer created in any case.

// mountCancel registers the cancel endpoint under the management API's prefix p.
func (s *Service) mountCancel(mux *http.ServeMux, p string) {
	mux.Handle("POST "+p+"/notifications/{id}/cancel", s.managed(s.apiCancelNotification))
}

// Cancelled is a notification that CancelNotification stopped.
type Cancelled struct {
	ID           string
	Type         Channel
	ScheduledFor time.Time
	CancelledAt  time.Time
}

// CancelNotification cancels a notification of the service that is still waiting for its
// scheduled_for time: it becomes cancelled, with a status event saying who cancelled it, and
// is never sent. Another service's notification is not found; one that has been sent, is being
// sent, was never scheduled or was already cancelled is a Conflict saying which.
func (s *Service) CancelNotification(ctx context.Context, serviceID, id, by string) (Cancelled, error) {
	if !validUUID(id) {
		return Cancelled{}, errNotificationNotFound
	}
	var out Cancelled
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		var typ string
		err := tx.QueryRow(ctx, `UPDATE notify_notifications SET status = ?, updated_at = ?
			WHERE id = ? AND service_id = ? AND status = ? AND scheduled_for IS NOT NULL AND scheduled_for > ?
			RETURNING notification_type, scheduled_for`,
			StatusCancelled, now, id, serviceID, StatusCreated, now).Scan(&typ, &out.ScheduledFor)
		if db.IsNoRows(err) {
			return s.whyNotCancellable(ctx, tx, serviceID, id, now)
		}
		if err != nil {
			return fmt.Errorf("cancel notification: %w", err)
		}
		out.ID, out.Type, out.CancelledAt = id, Channel(typ), now
		if _, err := tx.Exec(ctx, `INSERT INTO notify_status_events (notification_id, service_id, status, detail, created_at)
			VALUES (?, ?, ?, ?, ?)`, id, serviceID, StatusCancelled, "Cancelled by "+by+" before its scheduled time", now); err != nil {
			return fmt.Errorf("cancel notification: status event: %w", err)
		}
		if err := s.cancelDeliveryJobs(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, serviceID, auditNotificationCancelled, "notification", id,
			map[string]any{"type": typ, "scheduled_for": rfc3339(out.ScheduledFor)})
	})
	return out, err
}

// errNotificationNotFound is the management API's answer for an id that is not the caller's.
var errNotificationNotFound = failure.New(failure.NotFound, "Notification not found")

// whyNotCancellable explains, as a Conflict, why a notification of the service cannot be
// cancelled, or reports it not found.
func (s *Service) whyNotCancellable(ctx context.Context, tx *db.Tx, serviceID, id string, now time.Time) error {
	var status string
	var scheduled sql.NullTime
	err := tx.QueryRow(ctx, `SELECT status, scheduled_for FROM notify_notifications WHERE id = ? AND service_id = ?`,
		id, serviceID).Scan(&status, &scheduled)
	if db.IsNoRows(err) {
		return errNotificationNotFound
	}
	if err != nil {
		return fmt.Errorf("cancel notification: %w", err)
	}
	switch {
	case status == StatusCancelled:
		return failure.New(failure.Conflict, "This notification has already been cancelled")
	case status != StatusCreated:
		return failure.New(failure.Conflict, "This notification cannot be cancelled: it has already been sent (its status is %s)", status)
	case !scheduled.Valid:
		return failure.New(failure.Conflict, "This notification cannot be cancelled: it was not scheduled, so it is being sent now")
	}
	return failure.New(failure.Conflict, "This notification cannot be cancelled: its scheduled time (%s) has passed and it is being sent",
		rfc3339(scheduled.Time))
}

// cancelDeliveryJobs cancels the delivery jobs still waiting to run for a notification, in the
// transaction that cancels it. A job already running finds the notification cancelled and
// does nothing.
func (s *Service) cancelDeliveryJobs(ctx context.Context, tx *db.Tx, notificationID string) error {
	if s.cfg.Jobs == nil {
		return nil
	}
	client := s.cfg.Jobs.River()
	res, err := client.JobListTx(ctx, tx.Sql, river.NewJobListParams().
		Kinds(DeliverArgs{}.Kind()).
		States(rivertype.JobStateScheduled, rivertype.JobStateAvailable, rivertype.JobStateRetryable).
		Where("args->>'notification_id' = @notification_id", river.NamedArgs{"notification_id": notificationID}).
		First(10))
	if err != nil {
		return fmt.Errorf("cancel notification: find its delivery job: %w", err)
	}
	for _, job := range res.Jobs {
		if _, err := client.JobCancelTx(ctx, tx.Sql, job.ID); err != nil {
			return fmt.Errorf("cancel notification: cancel its delivery job: %w", err)
		}
	}
	return nil
}

// cancelledJSON is the management API's answer to a cancel.
type cancelledJSON struct {
	ID           string  `json:"id"`
	Type         Channel `json:"type"`
	Status       string  `json:"status"`
	ScheduledFor string  `json:"scheduled_for"`
	CancelledAt  string  `json:"cancelled_at"`
}

func (s *Service) apiCancelNotification(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
	c, err := s.CancelNotification(r.Context(), id.ServiceID, r.PathValue("id"), keyLabel(id))
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", cancelledJSON{ID: c.ID, Type: c.Type, Status: StatusCancelled,
		ScheduledFor: rfc3339(c.ScheduledFor), CancelledAt: rfc3339(c.CancelledAt)})
	return nil
}
