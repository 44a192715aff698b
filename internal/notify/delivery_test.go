package notify

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
)

// Development mode delivers every channel to the outbox, through real jobs, and marks each
// delivered with its history recorded.
func TestDeliveryDevelopmentOutbox(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		e := newDeliveryEnv(t, d, deliveryEnvOptions{dev: true, work: true})
		email := e.queue(t, e.notification(Email, "jo@example.com"))
		sms := e.queue(t, e.notification(SMS, "447700900123"))
		letter := e.notification(Letter, "Jo Bloggs")
		letter = e.queue(t, letter)

		for _, id := range []string{email.ID, sms.ID, letter.ID} {
			deliveryWaitFor(t, 30*time.Second, "delivery to the outbox", func() bool {
				return e.state(t, id).Status == StatusDelivered
			})
			st := e.state(t, id)
			if st.Provider != "outbox" || st.Reference != id || st.SentAt == nil {
				t.Errorf("%s: provider %q, reference %q, sent_at %v; want outbox, the id, set", id, st.Provider, st.Reference, st.SentAt)
			}
			want := []string{"created: ", "sending: Handed to outbox", "delivered: Accepted by outbox"}
			if got := e.events(t, id); !slices.Equal(got, want) {
				t.Errorf("%s events = %q, want %q", id, got, want)
			}
		}
		store := outbox.New(d)
		for _, want := range []struct {
			id, channel, recipient, subject, body string
		}{
			{email.ID, "email", "jo@example.com", "Your licence", content.EmailText(email.Body)},
			{sms.ID, "sms", "447700900123", "GOVUK", sms.Body},
			{letter.ID, "letter", "Jo Bloggs", "Your licence", letter.Body},
		} {
			m, err := store.Message(context.Background(), want.id)
			if err != nil {
				t.Fatalf("outbox message %s: %v", want.id, err)
			}
			if m.Channel != want.channel || m.Recipient != want.recipient || m.Subject != want.subject ||
				m.Body != want.body || m.Reference != want.id || m.ServiceID != e.serviceID {
				t.Errorf("outbox %s = %+v", want.channel, m)
			}
		}
	})
}

// Test keys never reach a provider: the outcome is simulated from the recipient (notify.md
// §4.4), with the status history of a real send.
func TestDeliveryTestKeySimulatesOutcome(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		email, sms := &recordingEmail{}, &recordingSMS{}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: email, SMS: sms}})
		cases := []struct {
			ch   Channel
			to   string
			want string
		}{
			{Email, "temp-fail@simulator.notify", StatusTemporaryFailure},
			{Email, "perm-fail@simulator.notify", StatusPermanentFailure},
			{Email, "jo@example.com", StatusDelivered},
			{SMS, "447700900003", StatusTemporaryFailure},
			{SMS, "447700900002", StatusPermanentFailure},
			{SMS, "447700900123", StatusDelivered},
			{Letter, "Jo Bloggs", StatusDelivered},
		}
		for _, c := range cases {
			n := e.notification(c.ch, c.to)
			n.KeyType = apiauth.Test
			e.store(t, n)
			if err := e.work(t, n, 1, 25); err != nil {
				t.Fatal(err)
			}
			st := e.state(t, n.ID)
			if st.Status != c.want || st.Provider != providerTestKey || st.SentAt == nil {
				t.Errorf("%s %s: %+v; want %s by the test key", c.ch, c.to, st, c.want)
			}
			events := e.events(t, n.ID)
			if len(events) != 3 || events[1] != "sending: Handed to test-key" || !strings.HasPrefix(events[2], c.want+": Test key") {
				t.Errorf("%s %s events = %q", c.ch, c.to, events)
			}
		}
		if email.calls()+sms.calls() != 0 {
			t.Errorf("providers called %d times for test-key notifications", email.calls()+sms.calls())
		}
		if n := e.count(t, `SELECT count(*) FROM outbox_messages`); n != 0 {
			t.Errorf("%d outbox messages for test-key notifications", n)
		}
	})
}

// A delivery job for a notification already past created changes nothing and sends
// nothing; one that finds it claimed but never acknowledged marks it technical-failure and
// says why, without sending it again.
func TestDeliveryNeverSendsTwice(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		email := &recordingEmail{}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: email, SMS: &recordingSMS{}}})
		ctx := context.Background()

		done := e.store(t, e.notification(Email, "done@example.com"))
		if err := e.work(t, done, 1, 25); err != nil {
			t.Fatal(err)
		}
		if err := e.work(t, done, 2, 25); err != nil {
			t.Fatal(err)
		}
		if email.calls() != 1 || e.state(t, done.ID).Status != StatusDelivered {
			t.Errorf("second run: %d calls, status %s; want 1 call, delivered", email.calls(), e.state(t, done.ID).Status)
		}

		cancelled := e.notification(Email, "cancelled@example.com")
		cancelled.Status = StatusCancelled
		e.store(t, cancelled)
		if err := e.work(t, cancelled, 1, 25); err != nil || email.calls() != 1 || e.state(t, cancelled.ID).Status != StatusCancelled {
			t.Errorf("cancelled: err %v, %d calls, status %s", err, email.calls(), e.state(t, cancelled.ID).Status)
		}

		// A crash between the claim and the acknowledgement leaves this behind.
		crashed := e.store(t, e.notification(Email, "crashed@example.com"))
		if _, err := d.Exec(ctx, `UPDATE notify_notifications SET status = 'sending', provider = 'smtp', sent_at = ? WHERE id = ?`,
			e.svc.now(), crashed.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.work(t, crashed, 2, 25); err != nil {
			t.Fatal(err)
		}
		if email.calls() != 1 {
			t.Errorf("an interrupted delivery was sent again (%d calls)", email.calls())
		}
		if st := e.state(t, crashed.ID); st.Status != StatusTechnicalFailure {
			t.Errorf("interrupted: status %s, want technical-failure", st.Status)
		}
		events := e.events(t, crashed.ID)
		if last := events[len(events)-1]; !strings.Contains(last, "interrupted") || !strings.Contains(last, "never delivered twice") {
			t.Errorf("interrupted: last event %q does not say why", last)
		}

		missing := e.notification(Email, "gone@example.com") // deleted by retention, say
		if err := e.work(t, missing, 1, 25); err != nil || email.calls() != 1 {
			t.Errorf("missing notification: err %v, %d calls", err, email.calls())
		}
		other := e.store(t, e.notification(Email, "other@example.com"))
		other.ServiceID = "00000000-0000-0000-0000-000000000000"
		if err := e.work(t, other, 1, 25); err != nil || email.calls() != 1 {
			t.Errorf("job naming another service: err %v, %d calls", err, email.calls())
		}
	})
}

// Provider failures decide the outcome: retried ones put the notification back to created
// (and give up with technical-failure on the last attempt); refusals are final; a failure
// that leaves it unknown whether the provider took the message is never retried.
func TestDeliveryProviderFailures(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		down := &ProviderError{Outcome: OutcomeRetry, Err: errors.New("connect: connection refused")}
		email := &recordingEmail{fails: []error{down, down}}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: email, SMS: &recordingSMS{}}})

		n := e.store(t, e.notification(Email, "retry@example.com"))
		if err := e.work(t, n, 1, 3); err == nil {
			t.Fatal("a retryable failure must fail the job so that River retries it")
		}
		if st := e.state(t, n.ID); st.Status != StatusCreated || st.SentAt != nil || st.Provider != "" {
			t.Errorf("after a retryable failure: %+v; want created, no sent_at, no provider", st)
		}
		if err := e.work(t, n, 2, 3); err == nil {
			t.Fatal("second failure: want an error")
		}
		if err := e.work(t, n, 3, 3); err != nil {
			t.Fatal(err)
		}
		if st := e.state(t, n.ID); st.Status != StatusDelivered || st.Reference != "ref-"+n.ID {
			t.Errorf("third attempt: %+v; want delivered with the provider's reference", st)
		}
		want := []string{"created", "sending", "created", "sending", "created", "sending", "delivered"}
		var got []string
		for _, ev := range e.events(t, n.ID) {
			got = append(got, strings.SplitN(ev, ":", 2)[0])
		}
		if !slices.Equal(got, want) {
			t.Errorf("events = %q, want statuses %q", e.events(t, n.ID), want)
		}

		for _, c := range []struct {
			fail   error
			want   string
			detail string
		}{
			{&ProviderError{Outcome: OutcomeRetry, Err: errors.New("451 try later")}, StatusTechnicalFailure, "still failing after 3 attempts"},
			{&ProviderError{Outcome: OutcomeRejected, Err: errors.New("550 no such user")}, StatusPermanentFailure, "Refused by recording"},
			{&ProviderError{Outcome: OutcomeFailed, Err: errors.New("554 rejected")}, StatusTechnicalFailure, "refused it"},
			{&ProviderError{Outcome: OutcomeUnknown, Err: errors.New("connection reset")}, StatusTechnicalFailure, "never delivered twice"},
			{errors.New("unclassified"), StatusTechnicalFailure, "never delivered twice"},
		} {
			email.mu.Lock()
			email.sent, email.fails = nil, []error{c.fail}
			email.mu.Unlock()
			n := e.store(t, e.notification(Email, "fail@example.com"))
			if err := e.work(t, n, 3, 3); err != nil {
				t.Fatalf("%v: %v", c.fail, err)
			}
			events := e.events(t, n.ID)
			if st := e.state(t, n.ID); st.Status != c.want || !strings.Contains(events[len(events)-1], c.detail) {
				t.Errorf("%v: status %s, events %q; want %s saying %q", c.fail, st.Status, events, c.want, c.detail)
			}
		}
	})
}

// A service archived before its messages go is not sent for: technical-failure.
func TestDeliveryArchivedService(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		email := &recordingEmail{}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: email, SMS: &recordingSMS{}}})
		n := e.store(t, e.notification(Email, "jo@example.com"))
		if err := e.platform.Archive(context.Background(), platform.CLIActor, e.serviceID); err != nil {
			t.Fatal(err)
		}
		if err := e.work(t, n, 1, 25); err != nil {
			t.Fatal(err)
		}
		events := e.events(t, n.ID)
		if st := e.state(t, n.ID); st.Status != StatusTechnicalFailure || !strings.Contains(events[len(events)-1], "archived") {
			t.Errorf("status %s, events %q; want technical-failure because archived", st.Status, events)
		}
		if email.calls() != 0 {
			t.Errorf("sent %d emails for an archived service", email.calls())
		}
	})
}

// The email a provider gets: From the sender name (or service name) at the configured
// domain, the notification's reply-to and unsubscribe link, and a Message-ID naming it.
func TestDeliveryEmailMessage(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		email := &recordingEmail{}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: email, SMS: &recordingSMS{}}})
		n := e.notification(Email, "Jo@Example.com")
		n.NormalisedTo = "jo@example.com"
		n.ReplyTo = "replies@licensing.example.gov.uk"
		n.UnsubscribeURL = "https://licensing.example.gov.uk/unsubscribe/1"
		e.store(t, n)
		if err := e.work(t, n, 1, 25); err != nil {
			t.Fatal(err)
		}
		st := DefaultSettings(e.serviceID)
		st.EmailSenderName = "Licensing Team"
		if err := e.svc.SaveSettings(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(senderCacheFor + time.Second) // past the cached settings
		e.svc.Now = func() time.Time { return later }
		n2 := e.store(t, e.notification(Email, "sam@example.com"))
		if err := e.work(t, n2, 1, 25); err != nil {
			t.Fatal(err)
		}
		if email.calls() != 2 {
			t.Fatalf("%d emails sent, want 2", email.calls())
		}
		m := email.sent[0]
		if m.FromName != "Apply for a Licence" || m.FromAddress != "apply.for.a.licence@notify.example.gov.uk" ||
			m.To != "jo@example.com" || m.ReplyTo != n.ReplyTo || m.Subject != "Your licence" ||
			m.UnsubscribeURL != n.UnsubscribeURL || m.MessageID != n.ID+"@notify.example.gov.uk" ||
			!strings.Contains(m.Text, "Your licence is ready.") || !strings.Contains(m.HTML, "Your licence is ready.") {
			t.Errorf("first email = %+v", m)
		}
		if id, ok := NotificationIDFromMessageID("<" + m.MessageID + ">"); !ok || id != n.ID {
			t.Errorf("NotificationIDFromMessageID = %q, %v", id, ok)
		}
		if m := email.sent[1]; m.FromName != "Licensing Team" || m.FromAddress != "licensing.team@notify.example.gov.uk" {
			t.Errorf("with a sender name: From %q <%s>", m.FromName, m.FromAddress)
		}
	})
}

func TestEmailLocalPart(t *testing.T) {
	for in, want := range map[string]string{
		"Apply for a Licence":          "apply.for.a.licence",
		"  Café   Services  ":          "cafe.services",
		"HM Revenue & Customs":         "hm.revenue.customs",
		"Department for Work-Pensions": "department.for.workpensions",
		"a - b":                        "a.b",
		"...dots...":                   "dots",
		"Gwasanaeth Cymraeg ŵ":         "gwasanaeth.cymraeg.w",
	} {
		if got := EmailLocalPart(in); got != want {
			t.Errorf("EmailLocalPart(%q) = %q, want %q", in, got, want)
		}
	}
}

// A text message gets the service's name in front when the service asks for it; an
// international one is sent (no receipts expected) rather than sending.
func TestDeliverySMSMessage(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		sms := &recordingSMS{}
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: &recordingEmail{}, SMS: sms}})
		st := DefaultSettings(e.serviceID)
		st.PrefixSMS = true
		if err := e.svc.SaveSettings(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		uk := e.store(t, e.notification(SMS, "447700900123"))
		abroad := e.notification(SMS, "33612345678")
		abroad.International = true
		e.store(t, abroad)
		for _, n := range []Notification{uk, abroad} {
			if err := e.work(t, n, 1, 25); err != nil {
				t.Fatal(err)
			}
		}
		if sms.calls() != 2 {
			t.Fatalf("%d messages sent, want 2", sms.calls())
		}
		if m := sms.sent[0]; m.Body != "Apply for a Licence: "+uk.Body || m.To != "447700900123" || m.Sender != "GOVUK" || m.NotificationID != uk.ID {
			t.Errorf("message = %+v", m)
		}
		if st := e.state(t, uk.ID); st.Status != StatusSending || st.Reference != "sms-1" {
			t.Errorf("UK message: %+v; want sending with the provider's reference", st)
		}
		if st := e.state(t, abroad.ID); st.Status != StatusSent || st.Reference != "sms-2" {
			t.Errorf("international message: %+v; want sent", st)
		}
	})
}

// Outside development mode, live letters wait for the print batch.
func TestDeliveryLiveLetterWaitsForPrint(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: &recordingEmail{}, SMS: &recordingSMS{}}})
		n := e.store(t, e.notification(Letter, "Jo Bloggs"))
		if err := e.work(t, n, 1, 25); err != nil {
			t.Fatal(err)
		}
		if st := e.state(t, n.ID); st.Status != StatusCreated {
			t.Errorf("live letter: %s, want created until printed", st.Status)
		}
	})
}

func TestNewDeliveryRequiresProvidersOutsideDevelopment(t *testing.T) {
	svc := New(Config{})
	if _, err := NewDelivery(svc, DeliveryConfig{EmailDomain: "x.gov.uk", SMS: &recordingSMS{}}); err == nil || !strings.Contains(err.Error(), "COMMONS_SMTP_URL") {
		t.Errorf("no email provider: %v", err)
	}
	if _, err := NewDelivery(svc, DeliveryConfig{EmailDomain: "x.gov.uk", Email: &recordingEmail{}}); err == nil || !strings.Contains(err.Error(), "COMMONS_SMS_PROVIDER_URL") {
		t.Errorf("no SMS provider: %v", err)
	}
	if _, err := NewDelivery(svc, DeliveryConfig{Email: &recordingEmail{}, SMS: &recordingSMS{}}); err == nil {
		t.Error("no email domain: want an error")
	}
	dev := New(Config{Dev: true, BaseURL: "http://localhost:8080"})
	d, err := NewDelivery(dev, DeliveryConfig{Email: &recordingEmail{}, SMS: &recordingSMS{}})
	if err != nil || d.emailDomain != "localhost" {
		t.Fatalf("development mode: %v; want the base URL's host as email domain", err)
	}
	if _, ok := d.email.(OutboxEmail); !ok {
		t.Errorf("development mode sends email with %T, want the outbox", d.email)
	}
	if _, ok := d.sms.(OutboxSMS); !ok {
		t.Errorf("development mode sends text messages with %T, want the outbox", d.sms)
	}
}

func TestDefaultDeliveryRetryDelay(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	var total time.Duration
	for i, w := range want {
		if got := DefaultDeliveryRetryDelay(i + 1); got != w {
			t.Errorf("attempt %d: %s, want %s", i+1, got, w)
		}
	}
	for a := 1; a < 25; a++ {
		total += DefaultDeliveryRetryDelay(a)
	}
	if total < 3*time.Hour || total > 4*time.Hour {
		t.Errorf("25 attempts span %s; want about GOV.UK Notify's hours of retries", total)
	}
}

func TestProviderSettings(t *testing.T) {
	cfg, err := ProviderSettings{SMTPURL: "smtp://u:p@smtp.example.com", EmailFromDomain: " notify.example.gov.uk ",
		SMSProviderURL: "https://sms.example/send", SMSProviderToken: "tok", SMSCallbackSecret: "0123456789abcdef"}.DeliveryConfig()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Email.(*SMTPSender); !ok || cfg.EmailDomain != "notify.example.gov.uk" || cfg.SMSCallbackSecret != "0123456789abcdef" {
		t.Errorf("config = %+v", cfg)
	}
	if p, ok := cfg.SMS.(*HTTPSMS); !ok || p.URL != "https://sms.example/send" || p.Token != "tok" {
		t.Errorf("SMS provider = %#v", cfg.SMS)
	}
	if cfg, err := (ProviderSettings{}).DeliveryConfig(); err != nil || cfg.Email != nil || cfg.SMS != nil {
		t.Errorf("no settings: %+v, %v; want outbox defaults", cfg, err)
	}
	for _, bad := range []ProviderSettings{
		{SMTPURL: "http://mail"},
		{SMSProviderURL: "https://sms.example/send"},
		{SMSProviderToken: "tok"},
		{SMSProviderURL: "https://sms.example/send", SMSProviderToken: "tok", SMSCallbackSecret: "short"},
	} {
		if _, err := bad.DeliveryConfig(); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}
