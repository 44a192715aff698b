package notify

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"os"
	"strings"
	"syscall"
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

// BenchmarkDeliverEmailOverSMTP measures delivery: b.N emails are queued as sends under load
// queue them (maxSendBatch to a transaction, with the delivery jobs the send path inserts),
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

	// Queue every email first, as the send path stores them: a batch to a transaction, with
	// the batch's delivery jobs.
	for done := 0; done < b.N; {
		n := min(maxSendBatch, b.N-done)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			batch := make([]*Notification, n)
			for i := range batch {
				batch[i] = &Notification{ID: uuid.NewString(), ServiceID: svc.ID, TemplateID: uuid.NewString(), TemplateVersion: 1,
					Type: Email, KeyType: apiauth.Live, Recipient: "jo@example.com", NormalisedTo: "jo@example.com",
					Status: StatusCreated, Subject: "Your licence", Body: "Hello Jo\r\n\r\nYour licence is ready.",
					CreatedAt: s.now()}
				if err := insertTestNotification(ctx, tx, *batch[i]); err != nil {
					return err
				}
			}
			_, err := jc.River().InsertManyFastTx(ctx, tx.Sql, deliveryJobs(batch))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		done += n
	}

	b.Logf("%d emails queued; load average %s", b.N, loadAverage())
	b.ResetTimer()
	start, startCPU := time.Now(), processCPU()
	if err := jc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = jc.Stop(stop)
	})
	// The server's count first, which costs the node nothing to read; then the database, where
	// an email is delivered once its acknowledgement is recorded.
	for sink.count() < b.N {
		time.Sleep(10 * time.Millisecond)
	}
	for {
		var delivered int
		if err := d.QueryRow(ctx, `SELECT count(*) FROM notify_notifications WHERE status = ?`, StatusDelivered).Scan(&delivered); err != nil {
			b.Fatal(err)
		}
		if delivered == b.N {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed, cpu := time.Since(start), processCPU()-startCPU
	b.StopTimer()
	if got := sink.count(); got != b.N {
		b.Fatalf("the SMTP server received %d emails, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "emails/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "µs-CPU/email")
	b.Logf("%d emails delivered in %s; load average %s", b.N, elapsed.Round(time.Millisecond), loadAverage())
}

// processCPU is the CPU time the process has used, the node's and the SMTP server's
// together (and, on SQLite, the database's).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the machine's load average, for the record: the benchmark shares the
// machine.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
