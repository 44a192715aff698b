package notify

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
)

// queueBatch stores ns and one batch delivery job for them in one transaction, as sending
// does.
func (e *deliveryEnv) queueBatch(t testing.TB, ns ...Notification) DeliverBatchArgs {
	t.Helper()
	args := DeliverBatchArgs{ServiceID: e.serviceID}
	err := e.db.InTx(context.Background(), func(tx *db.Tx) error {
		for _, n := range ns {
			if err := insertTestNotification(context.Background(), tx, n); err != nil {
				return err
			}
			args.NotificationIDs = append(args.NotificationIDs, n.ID)
		}
		return e.jobs.InsertTx(context.Background(), tx, args, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	return args
}

// workBatch runs the batch worker once, as River would on the given attempt.
func (e *deliveryEnv) workBatch(ctx context.Context, args DeliverBatchArgs, attempt int) error {
	job := &river.Job[DeliverBatchArgs]{
		JobRow: &rivertype.JobRow{ID: 7, Attempt: attempt, MaxAttempts: deliverMaxAttempts, Kind: DeliverBatchArgs{}.Kind()},
		Args:   args,
	}
	return (&deliverBatchWorker{d: e.d}).Work(ctx, job)
}

// singleJobs returns the queued DeliverArgs jobs.
func (e *deliveryEnv) singleJobs(t testing.TB) []*rivertype.JobRow {
	t.Helper()
	res, err := e.jobs.River().JobList(context.Background(), river.NewJobListParams().Kinds(DeliverArgs{}.Kind()).First(1000))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}

// scriptedEmail is an email provider whose answer depends on the recipient, so that the
// outcome of each message of a batch sent at once is known.
type scriptedEmail struct {
	mu    sync.Mutex
	sent  map[string]int // by notification id
	fails map[string]error
}

func (s *scriptedEmail) Name() string { return "scripted" }

func (s *scriptedEmail) SendEmail(_ context.Context, m EmailMessage) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string]int{}
	}
	s.sent[m.NotificationID]++
	if err := s.fails[m.To]; err != nil {
		return "", err
	}
	return "ref-" + m.NotificationID, nil
}

func (s *scriptedEmail) calls(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent[id]
}

func (s *scriptedEmail) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.sent {
		n += c
	}
	return n
}

func statusesOf(events []string) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = strings.SplitN(ev, ":", 2)[0]
	}
	return out
}

// One batch of every kind: each message ends as DeliverArgs would have left it, a retryable
// failure gets a single DeliverArgs job of its own, and running the batch again sends nothing
// twice.
func TestDeliverBatchMixedOutcomes(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		email := &scriptedEmail{fails: map[string]error{
			"retry@example.com":    &ProviderError{Outcome: OutcomeRetry, Err: errors.New("451 try later")},
			"rejected@example.com": &ProviderError{Outcome: OutcomeRejected, Err: errors.New("550 no such user")},
			"refused@example.com":  &ProviderError{Outcome: OutcomeFailed, Err: errors.New("554 rejected")},
			"unknown@example.com":  &ProviderError{Outcome: OutcomeUnknown, Err: errors.New("connection reset")},
		}}
		sms := &recordingSMS{}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: email, SMS: sms,
			RetryDelay: func(attempt int) time.Duration { return time.Duration(attempt) * time.Hour }}})
		other := newDeliveryEnv(t, d, deliveryEnvOptions{serviceName: "Another Service", cfg: DeliveryConfig{Email: email, SMS: sms}})

		ok := e.notification(Email, "ok@example.com")
		retry := e.notification(Email, "retry@example.com")
		rejected := e.notification(Email, "rejected@example.com")
		refused := e.notification(Email, "refused@example.com")
		unknown := e.notification(Email, "unknown@example.com")
		testKey := e.notification(Email, "jo@example.com")
		testKey.KeyType = apiauth.Test
		testTempFail := e.notification(Email, "temp-fail@simulator.notify")
		testTempFail.KeyType = apiauth.Test
		text := e.notification(SMS, "447700900123")
		abroad := e.notification(SMS, "33612345678")
		abroad.International = true
		letter := e.notification(Letter, "Jo Bloggs")
		cancelled := e.notification(Email, "cancelled@example.com")
		cancelled.Status = StatusCancelled
		crashed := e.notification(Email, "crashed@example.com")
		foreign := other.store(t, other.notification(Email, "foreign@example.com"))
		args := e.queueBatch(t, ok, retry, rejected, refused, unknown, testKey, testTempFail, text, abroad, letter, cancelled, crashed)
		// A crash between claim and acknowledgement left this one behind.
		if _, err := d.Exec(ctx, `UPDATE notify_notifications SET status = 'sending', provider = 'scripted', sent_at = ? WHERE id = ?`,
			e.svc.now(), crashed.ID); err != nil {
			t.Fatal(err)
		}
		// Another service's notification named in the job, and one deleted since.
		args.NotificationIDs = append(args.NotificationIDs, foreign.ID, uuid.NewString())

		if err := e.workBatch(ctx, args, 1); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			n      Notification
			status string
			last   string
		}{
			{ok, StatusDelivered, "delivered: Accepted by scripted"},
			{retry, StatusCreated, "created: Not sent: scripted: 451 try later; trying again in 1h0m0s"},
			{rejected, StatusPermanentFailure, "permanent-failure: Refused by scripted"},
			{refused, StatusTechnicalFailure, "technical-failure: Not sent: scripted refused it"},
			{unknown, StatusTechnicalFailure, "technical-failure: Not known whether scripted took the message"},
			{testKey, StatusDelivered, "delivered: Test key"},
			{testTempFail, StatusTemporaryFailure, "temporary-failure: Test key"},
			{text, StatusSending, "sending: Handed to recording-sms"},
			{abroad, StatusSent, "sent: Accepted by recording-sms"},
			{letter, StatusCreated, "created: "},
			{cancelled, StatusCancelled, "cancelled: "},
			{crashed, StatusTechnicalFailure, "technical-failure: Delivery was interrupted"},
		} {
			events := e.events(t, c.n.ID)
			if st := e.state(t, c.n.ID); st.Status != c.status || !strings.HasPrefix(events[len(events)-1], c.last) {
				t.Errorf("%s: status %s, events %q; want %s, last %q", c.n.NormalisedTo, st.Status, events, c.status, c.last)
			}
		}
		if st := e.state(t, ok.ID); st.Reference != "ref-"+ok.ID || st.Provider != "scripted" || st.SentAt == nil {
			t.Errorf("delivered: %+v", st)
		}
		if st := e.state(t, testKey.ID); st.Reference != testKey.ID || st.Provider != providerTestKey {
			t.Errorf("test key: %+v", st)
		}
		if st := e.state(t, text.ID); st.Reference != "sms-1" && st.Reference != "sms-2" {
			t.Errorf("text message: %+v; want the provider's reference", st)
		}
		if got, want := statusesOf(e.events(t, ok.ID)), []string{"created", "sending", "delivered"}; !slices.Equal(got, want) {
			t.Errorf("delivered events %q, want %q", got, want)
		}
		if st := other.state(t, foreign.ID); st.Status != StatusCreated || email.calls(foreign.ID) != 0 {
			t.Errorf("another service's notification: %+v, sent %d times", st, email.calls(foreign.ID))
		}
		for _, n := range []Notification{testKey, testTempFail, crashed, cancelled} {
			if c := email.calls(n.ID); c != 0 {
				t.Errorf("%s sent %d times", n.NormalisedTo, c)
			}
		}
		if email.total() != 5 || sms.calls() != 2 {
			t.Errorf("%d emails and %d text messages sent, want 5 and 2", email.total(), sms.calls())
		}

		// The retryable failure, and only it, has a job of its own, after the first retry's
		// delay, continuing the count of attempts.
		jobs := e.singleJobs(t)
		if len(jobs) != 1 {
			t.Fatalf("%d single delivery jobs, want 1", len(jobs))
		}
		var a DeliverArgs
		if err := json.Unmarshal(jobs[0].EncodedArgs, &a); err != nil {
			t.Fatal(err)
		}
		if a.NotificationID != retry.ID || a.ServiceID != e.serviceID || a.EarlierAttempts != 1 ||
			jobs[0].MaxAttempts != deliverMaxAttempts-1 || jobs[0].Queue != QueueDelivery ||
			time.Until(jobs[0].ScheduledAt) < 50*time.Minute {
			t.Errorf("retry job %+v, scheduled %s, max attempts %d", a, jobs[0].ScheduledAt, jobs[0].MaxAttempts)
		}

		// River runs the batch again (say its acknowledgement was lost): nothing is sent again,
		// and the message that now has its own job is left to it.
		if err := e.workBatch(ctx, args, 2); err != nil {
			t.Fatal(err)
		}
		if email.total() != 5 || sms.calls() != 2 || len(e.singleJobs(t)) != 1 {
			t.Errorf("second run: %d emails, %d text messages, %d single jobs; want 5, 2, 1", email.total(), sms.calls(), len(e.singleJobs(t)))
		}
		if got, want := statusesOf(e.events(t, retry.ID)), []string{"created", "sending", "created"}; !slices.Equal(got, want) {
			t.Errorf("retried message events %q, want %q", got, want)
		}

		// Its own job delivers it, as the batch's second attempt.
		delete(email.fails, "retry@example.com")
		job := &river.Job[DeliverArgs]{JobRow: &rivertype.JobRow{ID: 8, Attempt: 1, MaxAttempts: jobs[0].MaxAttempts, Kind: a.Kind()}, Args: a}
		if err := (&deliverWorker{d: e.d}).Work(ctx, job); err != nil {
			t.Fatal(err)
		}
		if st := e.state(t, retry.ID); st.Status != StatusDelivered || email.calls(retry.ID) != 2 {
			t.Errorf("retried: %+v after %d calls; want delivered after 2", st, email.calls(retry.ID))
		}
	})
}

// A message that keeps failing after the batch handed it over is given up after as many
// attempts, counting the batch's, as one sent alone.
func TestDeliverBatchRetriesCountTheBatchAttempt(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		down := &ProviderError{Outcome: OutcomeRetry, Err: errors.New("connect: connection refused")}
		email := &scriptedEmail{fails: map[string]error{"jo@example.com": down}}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: email, SMS: &recordingSMS{}}})
		n := e.notification(Email, "jo@example.com")
		if err := e.workBatch(ctx, e.queueBatch(t, n), 1); err != nil {
			t.Fatal(err)
		}
		var a DeliverArgs
		if err := json.Unmarshal(e.singleJobs(t)[0].EncodedArgs, &a); err != nil {
			t.Fatal(err)
		}
		w := &deliverWorker{d: e.d}
		max := deliverMaxAttempts - a.EarlierAttempts
		for attempt := 1; attempt <= max; attempt++ {
			job := &river.Job[DeliverArgs]{JobRow: &rivertype.JobRow{ID: 8, Attempt: attempt, MaxAttempts: max, Kind: a.Kind()}, Args: a}
			err := w.Work(ctx, job)
			if (err == nil) != (attempt == max) {
				t.Fatalf("attempt %d: %v", attempt, err)
			}
		}
		events := e.events(t, n.ID)
		if st := e.state(t, n.ID); st.Status != StatusTechnicalFailure ||
			!strings.Contains(events[len(events)-1], "still failing after 25 attempts") {
			t.Errorf("status %s, last event %q; want technical-failure after 25 attempts", st.Status, events[len(events)-1])
		}
		if email.calls(n.ID) != deliverMaxAttempts {
			t.Errorf("tried %d times, want %d", email.calls(n.ID), deliverMaxAttempts)
		}
	})
}

// Over a real SMTP server: a recipient the server defers for now is retried by a job of its
// own while the rest of the batch is delivered, and every email arrives exactly once.
func TestDeliverBatchOverSMTP(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sink := newSMTPSink(t, nil)
		sink.mu.Lock()
		sink.rcptErr = map[string]*smtp.SMTPError{"deferred@example.com": {Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try later"}}
		sink.mu.Unlock()
		sender := plainSender(t, sink)
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: sender, SMS: &recordingSMS{}}})
		var ns []Notification
		for _, to := range []string{"a@example.com", "b@example.com", "deferred@example.com", "c@example.com", "d@example.com"} {
			ns = append(ns, e.notification(Email, to))
		}
		if err := e.workBatch(ctx, e.queueBatch(t, ns...), 1); err != nil {
			t.Fatal(err)
		}
		deferred := ns[2]
		for _, n := range ns {
			want := StatusDelivered
			if n.ID == deferred.ID {
				want = StatusCreated
			}
			if st := e.state(t, n.ID); st.Status != want {
				t.Errorf("%s: %s, want %s", n.NormalisedTo, st.Status, want)
			}
		}
		events := e.events(t, deferred.ID)
		if last := events[len(events)-1]; !strings.HasPrefix(last, "created: Not sent: smtp: ") || strings.Contains(last, "deferred@example.com") {
			t.Errorf("deferred: last event %q", last)
		}
		jobs := e.singleJobs(t)
		if len(jobs) != 1 {
			t.Fatalf("%d single delivery jobs, want 1", len(jobs))
		}
		var a DeliverArgs
		if err := json.Unmarshal(jobs[0].EncodedArgs, &a); err != nil || a.NotificationID != deferred.ID {
			t.Fatalf("retry job %s: %v", jobs[0].EncodedArgs, err)
		}

		sink.mu.Lock()
		sink.rcptErr = nil
		sink.mu.Unlock()
		job := &river.Job[DeliverArgs]{JobRow: &rivertype.JobRow{ID: 8, Attempt: 1, MaxAttempts: jobs[0].MaxAttempts, Kind: a.Kind()}, Args: a}
		if err := (&deliverWorker{d: e.d}).Work(ctx, job); err != nil {
			t.Fatal(err)
		}
		got := sink.byMessageID()
		for _, n := range ns {
			if c := got[MessageID(n.ID, "notify.example.gov.uk")]; c != 1 {
				t.Errorf("%s reached the server %d times", n.NormalisedTo, c)
			}
			if st := e.state(t, n.ID); st.Status != StatusDelivered || st.Reference != MessageID(n.ID, "notify.example.gov.uk") {
				t.Errorf("%s: %+v", n.NormalisedTo, st)
			}
		}
	})
}

// A batch run again after a crash: what it had claimed and not acknowledged becomes
// technical-failure, unsent; what it had put back for a job of its own, and which that job is
// now sending, is left to that job; the rest is delivered.
func TestDeliverBatchInterruptedClaims(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		email := &scriptedEmail{}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: email, SMS: &recordingSMS{}}})
		claimed := e.notification(Email, "claimed@example.com")
		handedOn := e.notification(Email, "handed-on@example.com")
		fresh := e.notification(Email, "fresh@example.com")
		args := e.queueBatch(t, claimed, handedOn, fresh)
		now := e.svc.now()
		for _, q := range []struct {
			query string
			args  []any
		}{
			{`UPDATE notify_notifications SET status = 'sending', provider = 'scripted', sent_at = ? WHERE id IN (?, ?)`,
				[]any{now, claimed.ID, handedOn.ID}},
			{`INSERT INTO notify_status_events (notification_id, service_id, status, detail, created_at) VALUES
				(?, ?, 'sending', 'Handed to scripted', ?), (?, ?, 'sending', 'Handed to scripted', ?),
				(?, ?, 'created', 'Not sent: scripted: 451; trying again in 30s', ?), (?, ?, 'sending', 'Handed to scripted', ?)`,
				[]any{claimed.ID, e.serviceID, now, handedOn.ID, e.serviceID, now, handedOn.ID, e.serviceID, now, handedOn.ID, e.serviceID, now}},
		} {
			if _, err := d.Exec(ctx, q.query, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.workBatch(ctx, args, 2); err != nil {
			t.Fatal(err)
		}
		events := e.events(t, claimed.ID)
		if st := e.state(t, claimed.ID); st.Status != StatusTechnicalFailure || !strings.Contains(events[len(events)-1], "interrupted") {
			t.Errorf("claimed: %s, events %q; want technical-failure saying it was interrupted", st.Status, events)
		}
		if st := e.state(t, handedOn.ID); st.Status != StatusSending || len(e.events(t, handedOn.ID)) != 4 {
			t.Errorf("handed on: %+v, events %q; want it left sending to its own job", st, e.events(t, handedOn.ID))
		}
		if st := e.state(t, fresh.ID); st.Status != StatusDelivered {
			t.Errorf("fresh: %s, want delivered", st.Status)
		}
		if email.calls(claimed.ID)+email.calls(handedOn.ID) != 0 || email.calls(fresh.ID) != 1 {
			t.Errorf("sent claimed %d, handed on %d, fresh %d times; want 0, 0, 1",
				email.calls(claimed.ID), email.calls(handedOn.ID), email.calls(fresh.ID))
		}
	})
}

// A batch claims nothing while the node has no handover slot free for it; when its run's time
// is up it snoozes, to carry on later, and then delivers.
func TestDeliverBatchWaitsForSlots(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		email := &scriptedEmail{}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: email, SMS: &recordingSMS{}}})
		n := e.notification(Email, "jo@example.com")
		args := e.queueBatch(t, n)
		if err := e.d.slots.acquire(context.Background(), DefaultDeliveryWorkers, singleDeliveryRank); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := e.workBatch(ctx, args, 1)
		var snooze *river.JobSnoozeError
		if !errors.As(err, &snooze) {
			t.Fatalf("with no slot free: %v; want a snooze", err)
		}
		if st := e.state(t, n.ID); st.Status != StatusCreated || email.total() != 0 {
			t.Errorf("with no slot free: %+v, %d sent; want created, unsent", st, email.total())
		}
		e.d.slots.release(DefaultDeliveryWorkers)
		if err := e.workBatch(context.Background(), args, 1); err != nil {
			t.Fatal(err)
		}
		if st := e.state(t, n.ID); st.Status != StatusDelivered || email.total() != 1 {
			t.Errorf("after: %+v, %d sent; want delivered once", st, email.total())
		}
	})
}

// Development mode delivers a batch to the outbox, through real jobs.
func TestDeliverBatchDevelopmentOutbox(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		e := newDeliveryEnv(t, d, deliveryEnvOptions{dev: true, work: true})
		ns := []Notification{e.notification(Email, "jo@example.com"), e.notification(SMS, "447700900123"), e.notification(Letter, "Jo Bloggs")}
		e.queueBatch(t, ns...)
		store := outbox.New(d)
		for _, n := range ns {
			deliveryWaitFor(t, 30*time.Second, "delivery to the outbox", func() bool { return e.state(t, n.ID).Status == StatusDelivered })
			want := []string{"created: ", "sending: Handed to outbox", "delivered: Accepted by outbox"}
			if got := e.events(t, n.ID); !slices.Equal(got, want) {
				t.Errorf("%s events = %q, want %q", n.Type, got, want)
			}
			if m, err := store.Message(context.Background(), n.ID); err != nil || m.ServiceID != e.serviceID {
				t.Errorf("%s outbox message %+v: %v", n.Type, m, err)
			}
		}
	})
}

// A batch for an archived service sends nothing.
func TestDeliverBatchArchivedService(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		email := &scriptedEmail{}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: email, SMS: &recordingSMS{}}})
		n := e.notification(Email, "jo@example.com")
		args := e.queueBatch(t, n)
		if err := e.platform.Archive(context.Background(), platform.CLIActor, e.serviceID); err != nil {
			t.Fatal(err)
		}
		if err := e.workBatch(context.Background(), args, 1); err != nil {
			t.Fatal(err)
		}
		events := e.events(t, n.ID)
		if st := e.state(t, n.ID); st.Status != StatusTechnicalFailure || !strings.Contains(events[len(events)-1], "archived") || email.total() != 0 {
			t.Errorf("status %s, events %q, %d sent", st.Status, events, email.total())
		}
	})
}

// Sends stored together get one batch job per service; scheduled ones keep a job each, at
// their time; a batch holds at most maxDeliverBatch notifications.
func TestDeliveryJobs(t *testing.T) {
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	var ns []*Notification
	add := func(service string, scheduled bool) *Notification {
		n := &Notification{ID: uuid.NewString(), ServiceID: service}
		if scheduled {
			n.ScheduledFor = &at
		}
		ns = append(ns, n)
		return n
	}
	a1, b1, sched, a2 := add("a", false), add("b", false), add("a", true), add("a", false)
	for range maxDeliverBatch {
		add("c", false)
	}
	c := add("c", false)
	jobs := deliveryJobs(ns)
	if len(jobs) != 5 {
		t.Fatalf("%d jobs, want 5: %+v", len(jobs), jobs)
	}
	if got, ok := jobs[0].Args.(DeliverBatchArgs); !ok || got.ServiceID != "a" || !slices.Equal(got.NotificationIDs, []string{a1.ID, a2.ID}) {
		t.Errorf("first job %+v", jobs[0].Args)
	}
	if got, ok := jobs[1].Args.(DeliverBatchArgs); !ok || !slices.Equal(got.NotificationIDs, []string{b1.ID}) {
		t.Errorf("second job %+v", jobs[1].Args)
	}
	if got, ok := jobs[2].Args.(DeliverArgs); !ok || got.NotificationID != sched.ID || jobs[2].InsertOpts == nil || !jobs[2].InsertOpts.ScheduledAt.Equal(at) {
		t.Errorf("scheduled job %+v %+v", jobs[2].Args, jobs[2].InsertOpts)
	}
	if got := jobs[3].Args.(DeliverBatchArgs); len(got.NotificationIDs) != maxDeliverBatch {
		t.Errorf("full batch of %d", len(got.NotificationIDs))
	}
	if got := jobs[4].Args.(DeliverBatchArgs); !slices.Equal(got.NotificationIDs, []string{c.ID}) {
		t.Errorf("last batch %+v", got)
	}
	if jobs[0].Args.(DeliverBatchArgs).InsertOpts().Queue != QueueDelivery {
		t.Error("batches must go on the delivery queue")
	}
}

// Slots go to the lowest rank first, a request all at once; a waiter that gives up holds none.
func TestHandoverSlots(t *testing.T) {
	ctx := context.Background()
	s := newHandoverSlots(4)
	if err := s.acquire(ctx, 3, 10); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 3)
	wait := func(name string, n int, rank int64) {
		go func() {
			if err := s.acquire(ctx, n, rank); err == nil {
				got <- name
			}
		}()
	}
	wait("young batch", 2, 30)
	waitForWaiters(t, s, 1)
	wait("old batch", 2, 20)
	waitForWaiters(t, s, 2)
	wait("single", 1, singleDeliveryRank)
	if name := <-got; name != "single" {
		t.Fatalf("first served %q, want the single delivery", name)
	}
	s.release(1) // 1 free: not enough for the old batch, which the young one may not pass
	select {
	case name := <-got:
		t.Fatalf("%q served with one slot free", name)
	case <-time.After(50 * time.Millisecond):
	}
	s.release(1)
	if name := <-got; name != "old batch" {
		t.Fatalf("then %q, want the old batch", name)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := s.acquire(short, 4, 5); err == nil {
		t.Fatal("four slots granted while two are held")
	}
	s.release(3)
	if name := <-got; name != "young batch" {
		t.Fatalf("then %q, want the young batch", name)
	}
	s.release(3)
	if s.free != 4 || len(s.waiters) != 0 {
		t.Errorf("after all: %d free, %d waiting; want 4, 0", s.free, len(s.waiters))
	}
	var none *handoverSlots
	if err := none.acquire(ctx, 1000, 0); err != nil {
		t.Errorf("no bound: %v", err)
	}
}

func waitForWaiters(t *testing.T, s *handoverSlots, n int) {
	t.Helper()
	deliveryWaitFor(t, 5*time.Second, "waiters", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.waiters) == n
	})
}

// Sends stored together by the send path are queued as one batch job per service, in the
// same transaction, with a job of its own for a scheduled one; the batches are then delivered.
func TestSendBatchQueuesDeliveryBatches(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		email := &scriptedEmail{}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{work: true, cfg: DeliveryConfig{Email: email, SMS: &recordingSMS{}}})
		other, err := e.platform.CreateService(context.Background(), platform.CLIActor, platform.NewService{Name: "Another Service",
			Live: true, Permissions: []string{platform.ServiceEmail}})
		if err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Hour)
		var batch []*pendingSend
		var now []string
		for i := range 5 {
			n := e.notification(Email, "jo@example.com")
			if i == 3 {
				n.ServiceID = other.ID
			}
			if i == 4 {
				n.ScheduledFor = &later
			} else {
				now = append(now, n.ID)
			}
			batch = append(batch, &pendingSend{n: &n, personalisation: "{}", done: make(chan error, 1)})
		}
		e.svc.storeSendBatch(batch)
		for _, p := range batch {
			if err := <-p.done; err != nil {
				t.Fatal(err)
			}
		}
		count := func(kind string) int {
			return e.count(t, `SELECT count(*) FROM river_job WHERE kind = ?`, kind)
		}
		if got, single := count(DeliverBatchArgs{}.Kind()), count(DeliverArgs{}.Kind()); got != 2 || single != 1 {
			t.Errorf("%d batch jobs and %d single jobs, want one batch for each service and the scheduled one alone", got, single)
		}
		for _, id := range now {
			deliveryWaitFor(t, 30*time.Second, "the batch to be delivered", func() bool { return e.state(t, id).Status == StatusDelivered })
		}
		if st := e.state(t, batch[4].n.ID); st.Status != StatusCreated || email.total() != 4 {
			t.Errorf("scheduled: %s after %d emails; want created, 4 emails", st.Status, email.total())
		}
	})
}
