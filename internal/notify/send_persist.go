package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
)

// persist stores an accepted notification in one transaction: the row, its first status
// event, the job that delivers it (scheduled for scheduled_for when given) and, for keys that
// count, the day's counts of each limit named. extra, when set, runs in the same transaction
// (a precompiled letter stores its PDF there). Nothing is stored unless all of it is.
//
// A plain send (no extra, to be delivered) goes through the node's send batcher, which stores
// it in a transaction shared with the sends that arrived at the same moment, with the same
// guarantees; persist returns once that transaction has committed.
func (s *Service) persist(ctx context.Context, n *Notification, sc sendContext, limitNames []string, extra func(tx *db.Tx) error) error {
	personalisation, err := personalisationJSON(n)
	if err != nil {
		return err
	}
	var counts []countedLimit
	if sc.caller.KeyType != apiauth.Test {
		today := day(n.CreatedAt)
		for _, name := range limitNames {
			counts = append(counts, countedLimit{key: dailyKey{serviceID: n.ServiceID, limit: name, day: today},
				max: sc.settings.DailyLimit(name)})
		}
	}
	if extra == nil && !IsFinal(n.Status) {
		return s.sending.batcher(s).submit(ctx, &pendingSend{n: n, personalisation: personalisation, counts: counts})
	}
	sent := make([]int, len(counts))
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for i, c := range counts {
			n, err := countSend(ctx, tx, c)
			if err != nil {
				return err
			}
			sent[i] = n
		}
		if _, err := tx.Exec(ctx, insertNotificationSQL(1), notificationRow(n, personalisation)...); err != nil {
			return fmt.Errorf("store notification: %w", err)
		}
		if _, err := tx.Exec(ctx, insertStatusEventSQL(1), statusEventRow(n)...); err != nil {
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
		return s.cfg.Jobs.InsertTx(ctx, tx, DeliverArgs{NotificationID: n.ID, ServiceID: n.ServiceID}, deliverOpts(n))
	})
	if err != nil {
		return err
	}
	for i, c := range counts {
		s.sending.counts.saw(c.key, sent[i], time.Now())
	}
	return nil
}

// personalisationJSON is the personalisation as stored: a JSON object, {} when there is none.
func personalisationJSON(n *Notification) (string, error) {
	if n.Personalisation == nil {
		return "{}", nil
	}
	b, err := json.Marshal(n.Personalisation)
	if err != nil {
		return "", fmt.Errorf("store notification: personalisation: %w", err)
	}
	return string(b), nil
}

// deliverOpts schedules the delivery job for scheduled_for when the notification has one.
func deliverOpts(n *Notification) *river.InsertOpts {
	if n.ScheduledFor == nil {
		return nil
	}
	return &river.InsertOpts{ScheduledAt: *n.ScheduledFor}
}

// notificationColumns are the columns a new notification is stored with, in the order of
// notificationRow.
const notificationColumns = `id, service_id, template_id, template_version, notification_type, api_key_id, key_type,
	recipient, normalised_to, international, personalisation, client_reference, status, subject, body, postage,
	reply_to, sender, one_click_unsubscribe_url, billable_units, rate_multiplier, pages, created_by_name,
	scheduled_for, created_at, updated_at`

const notificationColumnCount = 26

func notificationRow(n *Notification, personalisation string) []any {
	return []any{n.ID, n.ServiceID, n.TemplateID, n.TemplateVersion, string(n.Type), nullable(n.APIKeyID), string(n.KeyType),
		n.Recipient, n.NormalisedTo, n.International, personalisation, nullable(n.ClientReference),
		n.Status, nullable(n.Subject), n.Body, nullable(n.Postage), nullable(n.ReplyTo), nullable(n.Sender),
		nullable(n.UnsubscribeURL), n.BillableUnits, n.RateMultiplier, n.Pages, nullable(n.CreatedByName),
		nullTime(n.ScheduledFor), n.CreatedAt, nullTime(n.UpdatedAt)}
}

func statusEventRow(n *Notification) []any {
	return []any{n.ID, n.ServiceID, n.Status, "", n.CreatedAt}
}

const statusEventColumnCount = 5

// insertNotificationSQL inserts rows notifications at once.
func insertNotificationSQL(rows int) string { return insertSQL(rows).notifications }

// insertStatusEventSQL inserts the first status event of rows notifications at once.
func insertStatusEventSQL(rows int) string { return insertSQL(rows).statusEvents }

type multiRowSQL struct{ notifications, statusEvents string }

// insertSQLs holds the statements for each number of rows a batch inserts at once.
var insertSQLs sync.Map // int → multiRowSQL

func insertSQL(rows int) multiRowSQL {
	if v, ok := insertSQLs.Load(rows); ok {
		return v.(multiRowSQL)
	}
	m := multiRowSQL{
		notifications: multiRowInsert(`INSERT INTO notify_notifications (`+notificationColumns+`) VALUES `, notificationColumnCount, rows),
		statusEvents: multiRowInsert(`INSERT INTO notify_status_events (notification_id, service_id, status, detail, created_at) VALUES `,
			statusEventColumnCount, rows),
	}
	insertSQLs.Store(rows, m)
	return m
}

func multiRowInsert(prefix string, columns, rows int) string {
	row := "(?" + strings.Repeat(", ?", columns-1) + ")"
	out := make([]byte, 0, len(prefix)+rows*(len(row)+2))
	out = append(out, prefix...)
	for i := range rows {
		if i > 0 {
			out = append(out, ", "...)
		}
		out = append(out, row...)
	}
	return string(out)
}
