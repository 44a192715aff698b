package notify

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/secret"
)

// BenchmarkDeliverEmailOverSMTP measures delivery: b.N emails are queued as sends queue them,
// then one node's delivery workers (as `commons serve` configures them) hand them over SMTP to
// a real SMTP server in the same process; the time runs from starting the workers to the last
// email delivered, and emails/s is reported. The SMTP server shares the machine's cores with
// the node. Over 100,000 messages:
//
//	go test ./internal/notify -run '^$' -bench DeliverEmailOverSMTP -benchtime 100000x -timeout 30m
func BenchmarkDeliverEmailOverSMTP(b *testing.B) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			benchmarkDeliverEmail(b, dbtest.Open(b, engine, migrateForDelivery))
		})
	}
}

func benchmarkDeliverEmail(b *testing.B, d *db.DB) {
	ctx := context.Background()
	sink := newSMTPSink(b, nil)
	smtpCfg, err := ParseSMTPURL("smtp://" + sink.addr + "?tls=none")
	if err != nil {
		b.Fatal(err)
	}
	sender, err := NewSMTPSender(smtpCfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sender.Close() })

	ring, err := secret.ParseKeyring(secret.Generate())
	if err != nil {
		b.Fatal(err)
	}
	p := platform.New(d, ring)
	svc, err := p.CreateService(ctx, platform.CLIActor, platform.NewService{Name: "Apply for a Licence", Live: true,
		Permissions: []string{platform.ServiceEmail}})
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	workers := river.NewWorkers()
	queues := map[string]int{river.QueueDefault: jobs.DefaultMaxWorkers}
	maps.Copy(queues, Queues())
	jc, err := jobs.New(d, jobs.Config{Workers: workers, Work: true, Logger: logger, Queues: queues})
	if err != nil {
		b.Fatal(err)
	}
	s := New(Config{DB: d, Jobs: jc, Platform: p, Keyring: ring, Logger: logger, BaseURL: "https://commons.example"})
	delivery, err := NewDelivery(s, DeliveryConfig{Email: sender, SMS: &recordingSMS{}, EmailDomain: "notify.example.gov.uk"})
	if err != nil {
		b.Fatal(err)
	}
	delivery.RegisterWorkers(workers)

	// Queue every email first, a thousand to a transaction, each with its delivery job.
	for done := 0; done < b.N; {
		n := min(1000, b.N-done)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			args := make([]river.InsertManyParams, n)
			for i := range n {
				m := Notification{ID: uuid.NewString(), ServiceID: svc.ID, TemplateID: uuid.NewString(), TemplateVersion: 1,
					Type: Email, KeyType: apiauth.Live, Recipient: "jo@example.com", NormalisedTo: "jo@example.com",
					Status: StatusCreated, Subject: "Your licence", Body: "Hello Jo\r\n\r\nYour licence is ready.",
					CreatedAt: s.now()}
				if err := insertTestNotification(ctx, tx, m); err != nil {
					return err
				}
				args[i] = river.InsertManyParams{Args: DeliverArgs{NotificationID: m.ID, ServiceID: m.ServiceID}}
			}
			_, err := jc.River().InsertManyFastTx(ctx, tx.Sql, args)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		done += n
	}

	b.ResetTimer()
	start := time.Now()
	if err := jc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = jc.Stop(stop)
	})
	for {
		var delivered int
		if err := d.QueryRow(ctx, `SELECT count(*) FROM notify_notifications WHERE status = ?`, StatusDelivered).Scan(&delivered); err != nil {
			b.Fatal(err)
		}
		if delivered == b.N {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if got := sink.count(); got != b.N {
		b.Fatalf("the SMTP server received %d emails, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "emails/s")
}
