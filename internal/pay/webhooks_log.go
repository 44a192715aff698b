package pay

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// The delivery log a service reads: its webhooks' messages and every attempt at each, newest
// first, for the 7 days they are kept.

// WebhookMessagePage is how many messages or attempts one page lists.
const WebhookMessagePage = 50

// WebhookMessage is one event queued for one webhook.
type WebhookMessage struct {
	ID            string
	WebhookID     string
	EventType     string
	ResourceID    string // the payment
	EventAt       time.Time
	Status        string
	Attempts      int
	LastAttemptAt *time.Time
	NextAttemptAt *time.Time
	CreatedAt     time.Time
}

// WebhookAttempt is one try at delivering a message, or the decision not to.
type WebhookAttempt struct {
	ID         string
	MessageID  string
	EventType  string
	ResourceID string
	Attempt    int
	Result     string
	StatusCode int // 0 when no answer came
	Error      string
	DurationMS int
	CreatedAt  time.Time
}

// Succeeded reports whether the service accepted the message.
func (a WebhookAttempt) Succeeded() bool { return a.Result == MessageSuccessful }

// Outcome says in words what happened, for the log.
func (a WebhookAttempt) Outcome() string {
	switch {
	case a.StatusCode != 0:
		return "HTTP " + strconv.Itoa(a.StatusCode)
	case a.Error != "":
		return a.Error
	}
	return "No response"
}

// WebhookMessageFilter narrows a listing of messages.
type WebhookMessageFilter struct {
	// Status is one of the delivery statuses, or "" for all.
	Status string
	// After is the id of the last message of the previous page.
	After string
}

const webhookMessageColumns = `id, webhook_id, event_type, resource_id, event_at, status, attempts, last_attempt_at,
	next_attempt_at, created_at`

func scanWebhookMessage(row scanner) (WebhookMessage, error) {
	var m WebhookMessage
	var last, next sql.NullTime
	if err := row.Scan(&m.ID, &m.WebhookID, &m.EventType, &m.ResourceID, &m.EventAt, &m.Status, &m.Attempts, &last, &next,
		&m.CreatedAt); err != nil {
		return WebhookMessage{}, err
	}
	m.EventAt, m.CreatedAt = m.EventAt.UTC(), m.CreatedAt.UTC()
	m.LastAttemptAt, m.NextAttemptAt = nullTime(last), nullTime(next)
	return m, nil
}

// WebhookMessages lists a webhook's messages, newest first, one page at a time; more reports
// whether there is another page.
func (s *Service) WebhookMessages(ctx context.Context, serviceID, webhookID string, f WebhookMessageFilter) (list []WebhookMessage, more bool, err error) {
	if f.Status != "" && !slices.Contains([]string{MessagePending, MessageSuccessful, MessageFailed, MessageWillNotSend}, f.Status) {
		return nil, false, failure.Field("status", "Status must be PENDING, SUCCESSFUL, FAILED or WILL_NOT_SEND")
	}
	q := "SELECT " + webhookMessageColumns + " FROM pay_webhook_messages WHERE webhook_id = ? AND service_id = ?"
	args := []any{webhookID, serviceID}
	if f.Status != "" {
		q += " AND status = ?"
		args = append(args, f.Status)
	}
	if f.After != "" {
		var at time.Time
		err := s.db.QueryRow(ctx, `SELECT created_at FROM pay_webhook_messages WHERE id = ? AND webhook_id = ? AND service_id = ?`,
			f.After, webhookID, serviceID).Scan(&at)
		if db.IsNoRows(err) {
			return nil, false, failure.Field("after", "No message of this webhook has that id; it may have been deleted after 7 days")
		}
		if err != nil {
			return nil, false, webhookStoreError("list webhook messages", err)
		}
		q += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, at, at, f.After)
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT " + strconv.Itoa(WebhookMessagePage+1)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, false, webhookStoreError("list webhook messages", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanWebhookMessage(rows)
		if err != nil {
			return nil, false, webhookStoreError("list webhook messages", err)
		}
		list = append(list, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, webhookStoreError("list webhook messages", err)
	}
	if len(list) > WebhookMessagePage {
		return list[:WebhookMessagePage], true, nil
	}
	return list, false, nil
}

// WebhookMessage returns one of a webhook's messages with its attempts, oldest first.
func (s *Service) WebhookMessage(ctx context.Context, serviceID, webhookID, id string) (WebhookMessage, []WebhookAttempt, error) {
	notFound := failure.New(failure.NotFound, "Webhook message not found")
	if !validID(id) {
		return WebhookMessage{}, nil, notFound
	}
	m, err := scanWebhookMessage(s.db.QueryRow(ctx, "SELECT "+webhookMessageColumns+
		" FROM pay_webhook_messages WHERE id = ? AND webhook_id = ? AND service_id = ?", id, webhookID, serviceID))
	if db.IsNoRows(err) {
		return WebhookMessage{}, nil, notFound
	}
	if err != nil {
		return WebhookMessage{}, nil, webhookStoreError("read webhook message", err)
	}
	attempts, err := s.webhookAttempts(ctx, `a.message_id = ? AND a.service_id = ?`, []any{id, serviceID},
		"a.created_at, a.attempt", 1000)
	if err != nil {
		return WebhookMessage{}, nil, err
	}
	return m, attempts, nil
}

// WebhookAttempts lists a webhook's attempts, newest first, one page at a time, continuing
// after the attempt before when it is set; more reports whether there is another page.
func (s *Service) WebhookAttempts(ctx context.Context, serviceID, webhookID, before string) (list []WebhookAttempt, more bool, err error) {
	where := `a.webhook_id = ? AND a.service_id = ?`
	args := []any{webhookID, serviceID}
	if before != "" {
		var at time.Time
		err := s.db.QueryRow(ctx, `SELECT created_at FROM pay_webhook_attempts WHERE id = ? AND webhook_id = ? AND service_id = ?`,
			before, webhookID, serviceID).Scan(&at)
		if db.IsNoRows(err) {
			return nil, false, failure.New(failure.NotFound, "Page not found")
		}
		if err != nil {
			return nil, false, webhookStoreError("list webhook attempts", err)
		}
		where += ` AND (a.created_at < ? OR (a.created_at = ? AND a.id < ?))`
		args = append(args, at, at, before)
	}
	list, err = s.webhookAttempts(ctx, where, args, "a.created_at DESC, a.id DESC", WebhookMessagePage+1)
	if err != nil {
		return nil, false, err
	}
	if len(list) > WebhookMessagePage {
		return list[:WebhookMessagePage], true, nil
	}
	return list, false, nil
}

func (s *Service) webhookAttempts(ctx context.Context, where string, args []any, order string, limit int) ([]WebhookAttempt, error) {
	rows, err := s.db.Query(ctx, `SELECT a.id, a.message_id, m.event_type, m.resource_id, a.attempt, a.result, a.status_code,
		a.error, a.duration_ms, a.created_at FROM pay_webhook_attempts a JOIN pay_webhook_messages m ON m.id = a.message_id
		WHERE `+where+` ORDER BY `+order+` LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, webhookStoreError("list webhook attempts", err)
	}
	defer rows.Close()
	var out []WebhookAttempt
	for rows.Next() {
		var a WebhookAttempt
		var code sql.NullInt64
		if err := rows.Scan(&a.ID, &a.MessageID, &a.EventType, &a.ResourceID, &a.Attempt, &a.Result, &code, &a.Error,
			&a.DurationMS, &a.CreatedAt); err != nil {
			return nil, webhookStoreError("list webhook attempts", err)
		}
		a.StatusCode, a.CreatedAt = int(code.Int64), a.CreatedAt.UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, webhookStoreError("list webhook attempts", err)
	}
	return out, nil
}
