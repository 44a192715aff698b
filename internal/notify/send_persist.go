package notify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
)

// persist stores an accepted notification in one transaction: the row, its first status
// event, the job that delivers it (scheduled for scheduled_for when given) and, for keys that
// count, the day's counts of each limit named. extra, when set, runs in the same transaction
// (a precompiled letter stores its PDF there). Nothing is stored unless all of it is.
func (s *Service) persist(ctx context.Context, n *Notification, sc sendContext, limitNames []string, extra func(tx *db.Tx) error) error {
	personalisation, err := json.Marshal(n.Personalisation)
	if err != nil {
		return fmt.Errorf("store notification: personalisation: %w", err)
	}
	if n.Personalisation == nil {
		personalisation = []byte("{}")
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if sc.caller.KeyType != apiauth.Test {
			today := day(n.CreatedAt)
			for _, name := range limitNames {
				if err := countSend(ctx, tx, n.ServiceID, name, today, sc.settings.DailyLimit(name)); err != nil {
					return err
				}
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO notify_notifications (id, service_id, template_id, template_version,
			notification_type, api_key_id, key_type, recipient, normalised_to, international, personalisation,
			client_reference, status, subject, body, postage, reply_to, sender, one_click_unsubscribe_url,
			billable_units, rate_multiplier, pages, created_by_name, scheduled_for, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			n.ID, n.ServiceID, n.TemplateID, n.TemplateVersion, string(n.Type), nullable(n.APIKeyID), string(n.KeyType),
			n.Recipient, n.NormalisedTo, n.International, string(personalisation), nullable(n.ClientReference),
			n.Status, nullable(n.Subject), n.Body, nullable(n.Postage), nullable(n.ReplyTo), nullable(n.Sender),
			nullable(n.UnsubscribeURL), n.BillableUnits, n.RateMultiplier, n.Pages, nullable(n.CreatedByName),
			nullTime(n.ScheduledFor), n.CreatedAt, nullTime(n.UpdatedAt)); err != nil {
			return fmt.Errorf("store notification: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO notify_status_events (notification_id, service_id, status, detail, created_at)
			VALUES (?, ?, ?, ?, ?)`, n.ID, n.ServiceID, n.Status, "", n.CreatedAt); err != nil {
			return fmt.Errorf("store notification status: %w", err)
		}
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		if IsFinal(n.Status) {
			return nil // refused on arrival (a precompiled letter that is not printable): nothing to deliver
		}
		var opts *river.InsertOpts
		if n.ScheduledFor != nil {
			opts = &river.InsertOpts{ScheduledAt: *n.ScheduledFor}
		}
		return s.cfg.Jobs.InsertTx(ctx, tx, DeliverArgs{NotificationID: n.ID, ServiceID: n.ServiceID}, opts)
	})
}
