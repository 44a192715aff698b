package outbox_test

import (
	"context"
	"testing"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/mail"
	"github.com/commons-gov/commons/internal/outbox"
)

func migrate(ctx context.Context, d *db.DB) error {
	if err := jobs.Migrate(ctx, d); err != nil {
		return err
	}
	return d.Migrate(ctx, outbox.Migrations)
}

// The mail job delivers to the outbox once, even when the job runs again.
func TestMailJobDeliversToOutboxOnce(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		store := outbox.New(d)
		sender := mail.OutboxSender{DB: d, Outbox: store}
		m := mail.Message{ID: "0b9e4c55-8f7e-4d0a-9a57-5b1f7a1e6d01", To: "a@example.gov.uk", Subject: "Hello", Body: "Body"}
		worker := &mail.Worker{Sender: sender}
		job := &river.Job[mail.SendArgs]{Args: mail.SendArgs{Message: m}}
		for range 2 {
			if err := worker.Work(ctx, job); err != nil {
				t.Fatal(err)
			}
		}
		got, err := store.Recent(ctx, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("outbox holds %d messages (%v), want 1", len(got), err)
		}
		one, err := store.Message(ctx, m.ID)
		if err != nil || one.Recipient != m.To || one.Subject != "Hello" || one.Channel != "email" {
			t.Fatalf("message = %+v, %v", one, err)
		}
		if _, err := store.Message(ctx, "nope"); !failure.Is(err, failure.NotFound) {
			t.Fatalf("unknown message: %v", err)
		}
	})
}
