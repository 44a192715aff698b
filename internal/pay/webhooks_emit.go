package pay

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/commons-gov/commons/internal/db"
)

// What a payment event sets off, queued in the transaction that records the event: a message
// for each of the service's active webhooks subscribed to the event's type, and the
// confirmation email when a payment succeeds. A rolled-back change therefore sends nothing, and
// a committed one cannot lose its messages.

// followEvent is called by transition after it has recorded a state-machine event.
func followEvent(ctx context.Context, tx *db.Tx, p *Payment, event string, at time.Time) error {
	eventType, ok := webhookEventOf[event]
	if !ok {
		return nil
	}
	if err := queueWebhookMessages(ctx, tx, p.ServiceID, p.Live, p.ID, eventType, at); err != nil {
		return err
	}
	if eventType == EventCardPaymentSucceeded {
		return queueConfirmationEmail(ctx, tx, p, at)
	}
	return nil
}

// followRefund is called by refunds.go in the transaction that records a refund's success.
// The message is about the payment, as GOV.UK Pay's is.
func followRefund(ctx context.Context, tx *db.Tx, p *Payment, at time.Time) error {
	return queueWebhookMessages(ctx, tx, p.ServiceID, p.Live, p.ID, EventCardPaymentRefunded, at)
}

// queueWebhookMessages adds a PENDING message and its delivery job for each matching webhook.
func queueWebhookMessages(ctx context.Context, tx *db.Tx, serviceID string, live bool, paymentID, eventType string, at time.Time) error {
	rows, err := tx.Query(ctx, `SELECT w.id FROM pay_webhooks w
		JOIN pay_webhook_subscriptions s ON s.webhook_id = w.id AND s.event_type = ?
		WHERE w.service_id = ? AND w.live = ? AND w.status = ?`, eventType, serviceID, live, WebhookActive)
	if err != nil {
		return fmt.Errorf("pay: find webhooks for %s: %w", eventType, err)
	}
	var webhooks []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("pay: find webhooks for %s: %w", eventType, err)
		}
		webhooks = append(webhooks, id)
	}
	rows.Close() // SQLite's transaction has one connection: finish reading before writing
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pay: find webhooks for %s: %w", eventType, err)
	}
	for _, webhookID := range webhooks {
		id := NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO pay_webhook_messages (id, webhook_id, service_id, event_type, resource_id,
			event_at, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id, webhookID, serviceID, eventType, paymentID, at, MessagePending, at); err != nil {
			return fmt.Errorf("pay: queue %s message: %w", eventType, err)
		}
		if err := insertWebhookJobTx(ctx, tx, WebhookSendArgs{MessageID: id}); err != nil {
			return err
		}
	}
	return nil
}

// insertWebhookJobTx adds a job in tx. The state machine has a transaction but no Service (transition
// is a plain function, called from every step of the journey), so it cannot reach the
// Service's jobs client. Inserting in a transaction needs nothing of a River client but its
// driver's SQL, so a client without a pool, one per engine, does it; the Service's own client,
// on the same tables, works the jobs.
func insertWebhookJobTx(ctx context.Context, tx *db.Tx, args river.JobArgs) error {
	c, err := webhookTxInserter(tx.Dialect())
	if err != nil {
		return err
	}
	if _, err := c.InsertTx(ctx, tx.Sql, args, nil); err != nil {
		return fmt.Errorf("pay: insert %s: %w", args.Kind(), err)
	}
	return nil
}

var webhookTxInserters struct {
	sync.Mutex
	clients map[db.Dialect]*river.Client[*sql.Tx]
}

func webhookTxInserter(d db.Dialect) (*river.Client[*sql.Tx], error) {
	webhookTxInserters.Lock()
	defer webhookTxInserters.Unlock()
	if c := webhookTxInserters.clients[d]; c != nil {
		return c, nil
	}
	// PollOnly matches the working clients (internal/jobs), which poll on both engines, and
	// keeps the insert from issuing a NOTIFY nobody listens for.
	cfg := &river.Config{PollOnly: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var c *river.Client[*sql.Tx]
	var err error
	if d == db.SQLite {
		c, err = river.NewClient(riversqlite.New(nil), cfg)
	} else {
		c, err = river.NewClient(riverdatabasesql.New(nil), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("pay: job inserter: %w", err)
	}
	if webhookTxInserters.clients == nil {
		webhookTxInserters.clients = map[db.Dialect]*river.Client[*sql.Tx]{}
	}
	webhookTxInserters.clients[d] = c
	return c, nil
}
