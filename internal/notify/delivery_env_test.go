package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/ratelimit"
	"github.com/commons-gov/commons/internal/secret"
)

// migrateForDelivery gives a fresh test database every schema delivery touches.
func migrateForDelivery(ctx context.Context, d *db.DB) error {
	if err := jobs.Migrate(ctx, d); err != nil {
		return err
	}
	return d.Migrate(ctx, platform.Migrations, outbox.Migrations, ratelimit.Migrations, Migrations)
}

// deliveryEnv is one test's Notify with delivery wired as internal/app wires it: the workers
// bundle, then the job client, then the service, then delivery's workers.
type deliveryEnv struct {
	db        *db.DB
	ring      *secret.Keyring
	platform  *platform.Store
	svc       *Service
	d         *Delivery
	jobs      *jobs.Client
	serviceID string
}

type deliveryEnvOptions struct {
	dev  bool
	work bool // start the job client, so queued jobs run
	// periodic gives the job client Notify's periodic jobs.
	periodic bool
	// serviceName names the service the environment creates ("Apply for a Licence").
	serviceName string
	cfg         DeliveryConfig
}

func newDeliveryEnv(t *testing.T, d *db.DB, o deliveryEnvOptions) *deliveryEnv {
	t.Helper()
	ctx := context.Background()
	ring, err := secret.ParseKeyring(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	e := &deliveryEnv{db: d, ring: ring, platform: platform.New(d, ring)}
	name := o.serviceName
	if name == "" {
		name = "Apply for a Licence"
	}
	svc, err := e.platform.CreateService(ctx, platform.CLIActor, platform.NewService{Name: name, Live: true,
		Permissions: []string{platform.ServiceEmail, platform.ServiceSMS, platform.ServiceLetter, platform.ServiceInboundSMS}})
	if err != nil {
		t.Fatal(err)
	}
	e.serviceID = svc.ID

	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	workers := river.NewWorkers()
	queues := map[string]int{river.QueueDefault: 2}
	maps.Copy(queues, Queues())
	var periodic []*river.PeriodicJob
	if o.periodic {
		periodic = PeriodicJobs()
	}
	e.jobs, err = jobs.New(d, jobs.Config{Workers: workers, Work: o.work, Logger: logger, Queues: queues,
		FetchPollInterval: 50 * time.Millisecond, PeriodicJobs: periodic})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = New(Config{DB: d, Jobs: e.jobs, Platform: e.platform, Keyring: ring, Logger: logger,
		BaseURL: "https://commons.example", Dev: o.dev})
	cfg := o.cfg
	if cfg.EmailDomain == "" {
		cfg.EmailDomain = "notify.example.gov.uk"
	}
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = func(int) time.Duration { return 10 * time.Millisecond }
	}
	if cfg.CallbackRetryDelay == nil {
		cfg.CallbackRetryDelay = func(int) time.Duration { return 10 * time.Millisecond }
	}
	if e.d, err = NewDelivery(e.svc, cfg); err != nil {
		t.Fatal(err)
	}
	e.d.RegisterWorkers(workers)
	if o.work {
		if err := e.jobs.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := e.jobs.Stop(stop); err != nil {
				t.Errorf("stop jobs: %v", err)
			}
		})
	}
	return e
}

// outgoingNotification returns a notification ready to queue, with the fields a send would
// have filled.
func (e *deliveryEnv) notification(ch Channel, to string) Notification {
	n := Notification{ID: uuid.NewString(), ServiceID: e.serviceID, TemplateID: uuid.NewString(), TemplateVersion: 3,
		Type: ch, KeyType: apiauth.Live, Recipient: to, NormalisedTo: to, Status: StatusCreated,
		Body: "Hello Jo\r\n\r\nYour licence is ready.", ClientReference: "ref-1", CreatedAt: e.svc.now()}
	switch ch {
	case Email:
		n.Subject = "Your licence"
	case SMS:
		n.Body = "Hello Jo, your licence is ready."
		n.Sender = "GOVUK"
	case Letter:
		n.Subject = "Your licence"
		n.Postage = "second"
	}
	return n
}

// queue stores n and its delivery job in one transaction, as sending does.
func (e *deliveryEnv) queue(t testing.TB, n Notification) Notification {
	t.Helper()
	err := e.db.InTx(context.Background(), func(tx *db.Tx) error {
		if err := insertTestNotification(context.Background(), tx, n); err != nil {
			return err
		}
		return e.jobs.InsertTx(context.Background(), tx, DeliverArgs{NotificationID: n.ID, ServiceID: n.ServiceID}, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// store saves n without a delivery job, for tests that run the worker by hand.
func (e *deliveryEnv) store(t testing.TB, n Notification) Notification {
	t.Helper()
	err := e.db.InTx(context.Background(), func(tx *db.Tx) error { return insertTestNotification(context.Background(), tx, n) })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func insertTestNotification(ctx context.Context, tx *db.Tx, n Notification) error {
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	if _, err := tx.Exec(ctx, `INSERT INTO notify_notifications (id, service_id, template_id, template_version,
		notification_type, key_type, recipient, normalised_to, international, personalisation, client_reference, status,
		subject, body, postage, reply_to, sender, one_click_unsubscribe_url, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.ID, n.ServiceID, n.TemplateID, n.TemplateVersion, string(n.Type), string(n.KeyType), n.Recipient, n.NormalisedTo,
		n.International, orNull(n.ClientReference), n.Status, orNull(n.Subject), n.Body, orNull(n.Postage), orNull(n.ReplyTo),
		orNull(n.Sender), orNull(n.UnsubscribeURL), n.CreatedAt); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO notify_status_events (notification_id, service_id, status, detail, created_at)
		VALUES (?, ?, ?, '', ?)`, n.ID, n.ServiceID, n.Status, n.CreatedAt)
	return err
}

// work runs the delivery worker once for n, as River would on the given attempt.
func (e *deliveryEnv) work(t testing.TB, n Notification, attempt, maxAttempts int) error {
	t.Helper()
	job := &river.Job[DeliverArgs]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: maxAttempts, Kind: DeliverArgs{}.Kind()},
		Args:   DeliverArgs{NotificationID: n.ID, ServiceID: n.ServiceID},
	}
	return (&deliverWorker{d: e.d}).Work(context.Background(), job)
}

// state is a notification's status, provider, provider reference and sent_at.
type deliveryState struct {
	Status, Provider, Reference string
	SentAt                      *time.Time
}

func (e *deliveryEnv) state(t testing.TB, id string) deliveryState {
	t.Helper()
	var s deliveryState
	var sent sql.NullTime
	err := e.db.QueryRow(context.Background(), `SELECT status, COALESCE(provider, ''), COALESCE(provider_reference, ''), sent_at
		FROM notify_notifications WHERE id = ?`, id).Scan(&s.Status, &s.Provider, &s.Reference, &sent)
	if err != nil {
		t.Fatalf("notification %s: %v", id, err)
	}
	if sent.Valid {
		s.SentAt = &sent.Time
	}
	return s
}

// events lists a notification's status events as "status: detail".
func (e *deliveryEnv) events(t testing.TB, id string) []string {
	t.Helper()
	rows, err := e.db.Query(context.Background(), `SELECT status, detail FROM notify_status_events
		WHERE notification_id = ? ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s, detail string
		if err := rows.Scan(&s, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, s+": "+detail)
	}
	return out
}

// callbackJobs returns the arguments of every queued callback job, oldest first.
func (e *deliveryEnv) callbackJobs(t testing.TB) []CallbackArgs {
	t.Helper()
	res, err := e.jobs.River().JobList(context.Background(), river.NewJobListParams().Kinds(CallbackArgs{}.Kind()).First(1000))
	if err != nil {
		t.Fatal(err)
	}
	var out []CallbackArgs
	for _, j := range res.Jobs {
		var a CallbackArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func (e *deliveryEnv) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// deliveryWaitFor polls cond until it holds. The limit bounds a hung test; it is not a
// claim about speed.
func deliveryWaitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recordingEmail and recordingSMS are providers for tests of delivery's own logic: they
// record every call and answer with a scripted error. The real adapters have their own tests.
type recordingEmail struct {
	mu    sync.Mutex
	sent  []EmailMessage
	fails []error // answers for successive calls; nil or exhausted means success
}

func (r *recordingEmail) Name() string { return "recording" }

func (r *recordingEmail) SendEmail(_ context.Context, m EmailMessage) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	if i := len(r.sent) - 1; i < len(r.fails) && r.fails[i] != nil {
		return "", r.fails[i]
	}
	return "ref-" + m.NotificationID, nil
}

func (r *recordingEmail) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

type recordingSMS struct {
	mu   sync.Mutex
	sent []SMSMessage
	fail error
}

func (r *recordingSMS) Name() string { return "recording-sms" }

func (r *recordingSMS) SendSMS(_ context.Context, m SMSMessage) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	if r.fail != nil {
		return "", r.fail
	}
	return fmt.Sprintf("sms-%d", len(r.sent)), nil
}

func (r *recordingSMS) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}
