// Package mail sends the emails Commons itself writes to people — console invitations and
// sign-in links — through a durable job, so that an email decided in a transaction is sent
// once that transaction commits and never lost to a crash.
package mail

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/outbox"
)

// Message is one email.
type Message struct {
	// ID identifies the message; delivery is keyed by it, so a retried job never sends twice.
	ID        string `json:"id"`
	To        string `json:"to"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	Reference string `json:"reference,omitempty"`
}

// SendArgs is the job that sends one Message.
type SendArgs struct {
	Message Message `json:"message"`
}

// Kind names the job in River's tables.
func (SendArgs) Kind() string { return "mail.send" }

// InsertOpts keeps a flood of invitations from starving other work.
func (SendArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

// Sender delivers a message. Implementations must be idempotent by Message.ID.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Worker runs SendArgs jobs.
type Worker struct {
	river.WorkerDefaults[SendArgs]
	Sender Sender
}

// Work sends the message.
func (w *Worker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	if err := w.Sender.Send(ctx, job.Args.Message); err != nil {
		return fmt.Errorf("send mail %s: %w", job.Args.Message.ID, err)
	}
	return nil
}

// OutboxSender delivers to the development outbox instead of the outside world.
type OutboxSender struct {
	DB     *db.DB
	Outbox *outbox.Store
}

// Send keeps the message in the outbox. A message already there (a retry after a crash
// between delivery and the job's completion) is not added again.
func (o OutboxSender) Send(ctx context.Context, m Message) error {
	_, err := o.Outbox.Add(ctx, o.DB, outbox.Message{
		ID: m.ID, Channel: "email", Recipient: m.To, Subject: m.Subject, Body: m.Body, Reference: m.Reference,
	})
	if db.IsUniqueViolation(err) {
		return nil
	}
	return err
}
