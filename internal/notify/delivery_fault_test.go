package notify

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
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

// The SMTP server goes down for a while with emails queued and comes back: every email is
// delivered, none twice. The emails are queued in batches, as sends queue them; those the
// server could not take are retried one by one.
func TestDeliverySurvivesSMTPOutage(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		sink := newSMTPSink(t, nil)
		sender, err := NewSMTPSender(SMTPConfig{Host: sink.host(), Port: sink.port(), Security: "none", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer sender.Close()
		// 25 attempts 300 ms apart outlast the outage below many times over.
		e := newDeliveryEnv(t, d, deliveryEnvOptions{work: true, cfg: DeliveryConfig{Email: sender, SMS: &recordingSMS{},
			RetryDelay: func(int) time.Duration { return 300 * time.Millisecond }}})
		var ids []string
		queue := func(n int) {
			batch := make([]Notification, n)
			for i := range batch {
				batch[i] = e.notification(Email, "jo@example.com")
				ids = append(ids, batch[i].ID)
			}
			e.queueBatch(t, batch...)
		}
		delivered := func() int {
			return e.count(t, `SELECT count(*) FROM notify_notifications WHERE status = 'delivered'`)
		}
		queue(20)
		deliveryWaitFor(t, 60*time.Second, "the first emails", func() bool { return delivered() == 20 })

		sink.stop()
		queue(50)
		deliveryWaitFor(t, 60*time.Second, "every queued email to fail while the server is down", func() bool {
			return e.count(t, `SELECT count(DISTINCT notification_id) FROM notify_status_events
				WHERE status = 'created' AND detail LIKE 'Not sent: smtp%'`) == 50
		})
		if got := delivered(); got != 20 {
			t.Fatalf("%d delivered while the server was down", got-20)
		}
		sink.start()
		deliveryWaitFor(t, 90*time.Second, "every email once the server is back", func() bool { return delivered() == 70 })

		got := sink.byMessageID()
		if len(got) != 70 {
			t.Errorf("sink has %d distinct messages, want 70", len(got))
		}
		for _, id := range ids {
			if n := got[MessageID(id, "notify.example.gov.uk")]; n != 1 {
				t.Errorf("%s reached the sink %d times", id, n)
			}
		}
		if n := e.count(t, `SELECT count(*) FROM notify_notifications WHERE status <> 'delivered'`); n != 0 {
			t.Errorf("%d notifications not delivered", n)
		}
		// One retry job for each email the server could not take, and none for the others.
		if n := e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'notify.deliver'`); n != 50 {
			t.Errorf("%d single delivery jobs, want one for each of the 50 emails sent during the outage", n)
		}
	})
}

// Environment of the child node that TestDeliveryKilledMidBatch starts and kills.
const (
	killChildDB    = "COMMONS_NOTIFY_FAULT_CHILD_DB"
	killChildSMTP  = "COMMONS_NOTIFY_FAULT_CHILD_SMTP"
	killChildQuick = "COMMONS_NOTIFY_FAULT_CHILD_QUICK_RESCUE"
	// killBatch is how many emails are queued when the node is killed: the 10,000.
	killBatch = 10_000
	// killChildLifetime bounds a child whose parent died without stopping it.
	killChildLifetime = 4 * time.Minute
)

// TestDeliveryFaultChild is not a test on its own: run by TestDeliveryKilledMidBatch with
// the environment above, it is a Commons node working deliveries to the parent's SMTP sink
// until it is killed. Without that environment it does nothing.
func TestDeliveryFaultChild(t *testing.T) {
	url := os.Getenv(killChildDB)
	if url == "" {
		return
	}
	ctx := context.Background()
	d, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := secret.ParseKeyring(secret.Generate())
	host, port, _ := strings.Cut(os.Getenv(killChildSMTP), ":")
	p, _ := strconv.Atoi(port)
	sender, err := NewSMTPSender(SMTPConfig{Host: host, Port: p, Security: "none", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg := jobs.Config{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		FetchPollInterval: 50 * time.Millisecond}
	if os.Getenv(killChildQuick) != "" {
		// The restarted node rescues the killed node's running jobs after seconds, not minutes.
		cfg.JobTimeout, cfg.RescueStuckJobsAfter = 5*time.Second, 6*time.Second
	}
	workers := river.NewWorkers()
	cfg.Workers, cfg.Work = workers, true
	cfg.Queues = map[string]int{river.QueueDefault: 1}
	maps.Copy(cfg.Queues, Queues())
	client, err := jobs.New(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	svc := New(Config{DB: d, Jobs: client, Platform: platform.New(d, ring), Keyring: ring, Logger: cfg.Logger})
	dl, err := NewDelivery(svc, DeliveryConfig{Email: sender, SMS: &recordingSMS{}, EmailDomain: "notify.example.gov.uk",
		RetryDelay: func(int) time.Duration { return 100 * time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	dl.RegisterWorkers(workers)
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "child: working")
	time.Sleep(killChildLifetime)
	fmt.Fprintln(os.Stderr, "child: never stopped")
	os.Exit(1)
}

// faultOutput collects a child's output while it runs.
type faultOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *faultOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *faultOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// startFaultChild runs TestDeliveryFaultChild in a new process, killed when the test ends.
func startFaultChild(t *testing.T, url, smtpAddr string, quickRescue bool) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := &faultOutput{}
	child := exec.Command(exe, "-test.run=^TestDeliveryFaultChild$")
	child.Env = append(os.Environ(), killChildDB+"="+url, killChildSMTP+"="+smtpAddr)
	if quickRescue {
		child.Env = append(child.Env, killChildQuick+"=1")
	}
	child.Stdout, child.Stderr = out, out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = child.Process.Kill() // SIGKILL; a no-op for one already killed
		_ = child.Wait()
		if t.Failed() {
			t.Logf("child output:\n%s", out.String())
		}
	})
	return child
}

// A node is killed with SIGKILL while 10,000 emails are queued in batches, as sends queue
// them; another starts on the same database. Every email then reaches the SMTP sink exactly
// once, or never went past the handover the kill interrupted and says so in its status
// (technical-failure, with a detail saying it may have been delivered) — and none reaches it
// twice.
func TestDeliveryKilledMidBatch(t *testing.T) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			url := dbtest.URL(t, engine)
			d, err := db.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if err := migrateForDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
			sink := newSMTPSink(t, nil)
			e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: &recordingEmail{}, SMS: &recordingSMS{}}})
			started := time.Now()
			ids := queueEmailBatch(t, e, killBatch)
			t.Logf("queued %d emails in %s", len(ids), time.Since(started).Round(time.Millisecond))

			first := startFaultChild(t, url, sink.addr, false)
			killAt := killBatch / 3
			deliveryWaitFor(t, 120*time.Second, "the first node to deliver a third of the batch", func() bool {
				return sink.count() >= killAt
			})
			if err := first.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = first.Wait()
			atKill := sink.count()
			t.Logf("killed the first node after %s with %d emails at the sink", time.Since(started).Round(time.Millisecond), atKill)

			startFaultChild(t, url, sink.addr, true)
			deliveryWaitFor(t, 180*time.Second, "every email to reach a final status", func() bool {
				return e.count(t, `SELECT count(*) FROM notify_notifications WHERE status IN ('created', 'sending')`) == 0
			})
			t.Logf("all final after %s", time.Since(started).Round(time.Millisecond))

			atSink := sink.byMessageID()
			statuses := map[string]int{}
			rows, err := d.Query(ctx, `SELECT id, status FROM notify_notifications`)
			if err != nil {
				t.Fatal(err)
			}
			var interrupted []string
			for rows.Next() {
				var id, status string
				if err := rows.Scan(&id, &status); err != nil {
					t.Fatal(err)
				}
				statuses[status]++
				n := atSink[MessageID(id, "notify.example.gov.uk")]
				switch {
				case n > 1:
					t.Errorf("%s reached the sink %d times", id, n)
				case status == StatusDelivered && n != 1:
					t.Errorf("%s is delivered but reached the sink %d times", id, n)
				case status == StatusTechnicalFailure:
					interrupted = append(interrupted, id)
				case status != StatusDelivered:
					t.Errorf("%s ended %s", id, status)
				}
			}
			rows.Close()
			for _, id := range interrupted {
				events := e.events(t, id)
				if last := events[len(events)-1]; !strings.Contains(last, "interrupted") {
					t.Errorf("%s is technical-failure without saying why: %q", id, events)
				}
			}
			if len(interrupted) > DefaultDeliveryWorkers {
				t.Errorf("%d emails interrupted; at most one per handover slot (%d) can be", len(interrupted), DefaultDeliveryWorkers)
			}
			deliveryWaitFor(t, 60*time.Second, "every batch job to complete", func() bool {
				return e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'notify.deliver_batch' AND state = 'completed'`) == killBatch/500
			})
			if total := len(atSink); total < killBatch-len(interrupted) || total > killBatch {
				t.Errorf("sink has %d distinct emails of %d", total, killBatch)
			}
			t.Logf("statuses %v; %d interrupted by the kill, of which %d reached the sink", statuses, len(interrupted), countAtSink(atSink, interrupted))
		})
	}
}

func countAtSink(atSink map[string]int, ids []string) int {
	n := 0
	for _, id := range ids {
		n += atSink[MessageID(id, "notify.example.gov.uk")]
	}
	return n
}

// queueEmailBatch stores n live emails, 500 to a transaction, each with its batch's delivery
// job.
func queueEmailBatch(t *testing.T, e *deliveryEnv, n int) []string {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, 0, n)
	now := e.svc.now()
	for start := 0; start < n; start += 500 {
		size := min(500, n-start)
		err := e.db.InTx(ctx, func(tx *db.Tx) error {
			var rows, events strings.Builder
			var args, eventArgs []any
			batch := DeliverBatchArgs{ServiceID: e.serviceID}
			for i := range size {
				id := uuid.NewString()
				ids = append(ids, id)
				if i > 0 {
					rows.WriteString(", ")
					events.WriteString(", ")
				}
				rows.WriteString("(?, ?, ?, 1, 'email', ?, ?, ?, 'created', 'Your licence', 'Hello', ?)")
				to := fmt.Sprintf("person%d@example.com", start+i)
				args = append(args, id, e.serviceID, e.serviceID, string(apiauth.Live), to, to, now)
				events.WriteString("(?, ?, 'created', '', ?)")
				eventArgs = append(eventArgs, id, e.serviceID, now)
				batch.NotificationIDs = append(batch.NotificationIDs, id)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notify_notifications (id, service_id, template_id, template_version,
				notification_type, key_type, recipient, normalised_to, status, subject, body, created_at) VALUES `+rows.String(), args...); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notify_status_events (notification_id, service_id, status, detail, created_at)
				VALUES `+events.String(), eventArgs...); err != nil {
				return err
			}
			return e.jobs.InsertTx(ctx, tx, batch, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}
