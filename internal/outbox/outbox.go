// Package outbox is development mode's stand-in for the outside world: every email, text
// message or letter that would have been sent is kept here instead, and the console shows it.
// It lets a team try every journey on a laptop without an SMTP server or an SMS provider.
package outbox

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

//go:embed migrations
var migrations embed.FS

// Migrations creates the outbox's table.
var Migrations = db.Migrations{Platform: "outbox", FS: db.SubFS(migrations, "migrations")}

// Message is one thing that would have been sent.
type Message struct {
	ID        string
	ServiceID string // empty for messages Commons sends itself, such as console invitations
	Channel   string // "email", "sms" or "letter"
	Recipient string
	Subject   string
	Body      string
	Reference string // ties the message back to what caused it (a notification id, an invite)
	CreatedAt time.Time
}

// Store keeps outbox messages.
type Store struct {
	db  *db.DB
	Now func() time.Time
}

// New returns a Store over d.
func New(d *db.DB) *Store { return &Store{db: d, Now: time.Now} }

// Add keeps a message, inside the caller's transaction when q is a *db.Tx.
func (s *Store) Add(ctx context.Context, q db.Querier, m Message) (Message, error) {
	if m.ID == "" {
		m.ID = uuid.NewString()
	}
	m.CreatedAt = s.Now().UTC()
	_, err := q.Exec(ctx, `INSERT INTO outbox_messages (id, service_id, channel, recipient, subject, body, reference, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, nullable(m.ServiceID), m.Channel, m.Recipient, m.Subject, m.Body, m.Reference, m.CreatedAt)
	if err != nil {
		return Message{}, fmt.Errorf("outbox add: %w", err)
	}
	return m, nil
}

// Recent lists the newest messages first, at most limit of them.
func (s *Store) Recent(ctx context.Context, limit int) ([]Message, error) {
	rows, err := s.db.Query(ctx, `SELECT id, COALESCE(service_id, ''), channel, recipient, subject, body, reference, created_at
		FROM outbox_messages ORDER BY created_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox recent: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.ServiceID, &m.Channel, &m.Recipient, &m.Subject, &m.Body, &m.Reference, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("outbox recent: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Message returns one message.
func (s *Store) Message(ctx context.Context, id string) (Message, error) {
	var m Message
	err := s.db.QueryRow(ctx, `SELECT id, COALESCE(service_id, ''), channel, recipient, subject, body, reference, created_at
		FROM outbox_messages WHERE id = ?`, id).
		Scan(&m.ID, &m.ServiceID, &m.Channel, &m.Recipient, &m.Subject, &m.Body, &m.Reference, &m.CreatedAt)
	if err != nil {
		if db.IsNoRows(err) {
			return Message{}, failure.New(failure.NotFound, "No message with that id")
		}
		return Message{}, fmt.Errorf("outbox message: %w", err)
	}
	return m, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
