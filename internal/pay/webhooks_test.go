package pay

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/secret"
)

// Webhooks tested end to end on both engines: payments moved through the state machine queue
// messages in their own transactions, and the messages are posted to a real TLS server.

// receivedWebhook is one request the receiver got.
type receivedWebhook struct {
	header http.Header
	body   []byte
}

// webhookReceiver is a service's endpoint: it records every request and answers with the
// statuses queued on it (200 once they run out).
type webhookReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	got      []receivedWebhook
	statuses []int
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	rc := &webhookReceiver{}
	rc.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, receivedWebhook{header: r.Header.Clone(), body: body})
		status := http.StatusOK
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// client reaches the receiver whatever host a URL names, trusting its certificate, which is
// valid for example.com and its subdomains.
func (rc *webhookReceiver) client() *http.Client {
	tr := rc.srv.Client().Transport.(*http.Transport).Clone()
	addr := rc.srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr, Timeout: WebhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (rc *webhookReceiver) answer(statuses ...int) {
	rc.mu.Lock()
	rc.statuses = append(rc.statuses, statuses...)
	rc.mu.Unlock()
}

func (rc *webhookReceiver) requests() []receivedWebhook {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// sentConfirmationEmail is one call of the recording Emailer.
type sentConfirmationEmail struct {
	serviceID, templateID, to, reference string
	personalisation                      map[string]string
}

// recordingConfirmationEmailer stands in for Notify, answering with the errors queued on it.
type recordingConfirmationEmailer struct {
	mu     sync.Mutex
	sent   []sentConfirmationEmail
	errors []error
}

func (e *recordingConfirmationEmailer) SendEmail(_ context.Context, serviceID, templateID, to string, personalisation map[string]string, reference string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.errors) > 0 {
		err := e.errors[0]
		e.errors = e.errors[1:]
		if err != nil {
			return err
		}
	}
	e.sent = append(e.sent, sentConfirmationEmail{serviceID, templateID, to, reference, personalisation})
	return nil
}

func (e *recordingConfirmationEmailer) calls() []sentConfirmationEmail {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.sent)
}

// webhookFixture is the Pay fixture with webhooks set up.
type webhookFixture struct {
	*fixture
	receiver *webhookReceiver
	emailer  *recordingConfirmationEmailer
}

func eachWebhook(t *testing.T, fn func(t *testing.T, f *webhookFixture)) {
	each(t, func(t *testing.T, f *fixture) {
		ring, err := secret.ParseKeyring(secret.Generate())
		if err != nil {
			t.Fatal(err)
		}
		wf := &webhookFixture{fixture: f, receiver: newWebhookReceiver(t), emailer: &recordingConfirmationEmailer{}}
		f.svc.cfg.Webhooks = WebhooksConfig{Sealer: ring, Client: wf.receiver.client(), Emailer: wf.emailer, Audit: f.platform}
		fn(t, wf)
	})
}

// webhook makes a webhook and returns it with its secret.
func (f *webhookFixture) webhook(serviceID string, live bool, url string, events ...string) (Webhook, string) {
	f.t.Helper()
	w, secret, err := f.svc.CreateWebhook(f.ctx, serviceID, live, WebhookInput{CallbackURL: url, Subscriptions: events})
	if err != nil {
		f.t.Fatal(err)
	}
	return w, secret
}

// messages lists the ids and event types of the messages of a webhook, oldest first.
func (f *webhookFixture) messages(webhookID string) (ids, types []string) {
	f.t.Helper()
	rows, err := f.d.Query(f.ctx, `SELECT id, event_type FROM pay_webhook_messages WHERE webhook_id = ? ORDER BY created_at, event_type`, webhookID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, typ string
		if err := rows.Scan(&id, &typ); err != nil {
			f.t.Fatal(err)
		}
		ids, types = append(ids, id), append(types, typ)
	}
	return ids, types
}

func (f *webhookFixture) deliver(messageID string, attempt int) error {
	f.t.Helper()
	return f.svc.deliverWebhookMessage(f.ctx, messageID, attempt, webhookMaxAttempts)
}

func (f *webhookFixture) messageStatus(id string) (status string, attempts int, next *time.Time) {
	f.t.Helper()
	var n sql.NullTime
	if err := f.d.QueryRow(f.ctx, `SELECT status, attempts, next_attempt_at FROM pay_webhook_messages WHERE id = ?`, id).
		Scan(&status, &attempts, &n); err != nil {
		f.t.Fatal(err)
	}
	return status, attempts, nullTime(n)
}

// webhookHMACHex is the signature worked out here, apart from the code under test.
func webhookHMACHex(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func TestWebhookSignatureAndPayload(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		hook, secret := f.webhook(f.a.id, false, "https://hooks.example.com/pay?token=abc",
			EventCardPaymentSucceeded, EventCardPaymentCaptured)
		if !regexp.MustCompile(`^webhook_test_[a-z2-7]{32}$`).MatchString(secret) {
			t.Fatalf("signing secret %q", secret)
		}
		body := webPayment(1234)
		body["email"] = "payer@example.com"
		id, token := f.create(f.a.testKey, body)
		f.pay(token, "4444333322221111")
		approvedAt := f.clock.Now()
		f.clock.Advance(time.Second)
		if _, err := f.svc.CaptureOnce(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		ids, types := f.messages(hook.ID)
		if !slices.Equal(types, []string{EventCardPaymentSucceeded, EventCardPaymentCaptured}) {
			t.Fatalf("messages %v", types)
		}
		if n := f.count(`SELECT count(*) FROM river_job WHERE kind = 'pay.webhook_send' AND queue = ?`, QueuePayWebhooks); n != 2 {
			t.Fatalf("%d delivery jobs, want one per message", n)
		}
		for i, mid := range ids {
			if err := f.deliver(mid, 1); err != nil {
				t.Fatal(err)
			}
			if st, n, next := f.messageStatus(mid); st != MessageSuccessful || n != 1 || next != nil {
				t.Fatalf("message %d: %s after %d attempts, next %v", i, st, n, next)
			}
		}
		got := f.receiver.requests()
		if len(got) != 2 {
			t.Fatalf("%d requests, want 2", len(got))
		}
		get := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, http.StatusOK)
		for i, req := range got {
			if ct := req.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if sig, want := req.header.Get("Pay-Signature"), webhookHMACHex(secret, req.body); sig != want {
				t.Errorf("Pay-Signature %q, want %q", sig, want)
			}
			var msg map[string]any
			if err := json.Unmarshal(req.body, &msg); err != nil {
				t.Fatal(err)
			}
			wantDate := approvedAt.Add(time.Duration(i) * time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
			for k, v := range map[string]any{"webhook_message_id": ids[i], "api_version": float64(1), "created_date": wantDate,
				"resource_id": id, "resource_type": "payment", "event_type": types[i]} {
				if msg[k] != v {
					t.Errorf("%s = %v, want %v", k, msg[k], v)
				}
			}
			if len(msg) != 7 {
				t.Errorf("message has %d keys: %s", len(msg), req.body)
			}
			// The resource is the payment as GET shows it, less the links and what GOV.UK Pay's
			// webhooks leave out.
			resource := msg["resource"].(map[string]any)
			for k, v := range get.body {
				switch k {
				case "_links", "provider_id", "card_brand", "authorisation_mode", "agreement_id", "agreement_payment_type":
					if _, ok := resource[k]; ok {
						t.Errorf("resource has %s", k)
					}
				default:
					a, _ := json.Marshal(resource[k])
					b, _ := json.Marshal(v)
					if string(a) != string(b) {
						t.Errorf("resource %s = %s, GET shows %s", k, a, b)
					}
				}
			}
			if resource["email"] != "payer@example.com" || resource["amount"] != float64(1234) {
				t.Errorf("resource %v", resource)
			}
		}
	})
}

func TestWebhookEventMapping(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		hook, _ := f.webhook(f.a.id, false, "https://hooks.example.com/all", WebhookEventTypes...)
		live, _ := f.webhook(f.a.id, true, "https://hooks.example.gov.uk/all", WebhookEventTypes...)
		other, _ := f.webhook(f.b.id, false, "https://hooks.example.com/b", WebhookEventTypes...)

		// Rejected by the card's bank: failed.
		_, tok := f.create(f.a.testKey, webPayment(100))
		p, err := f.svc.StartWithToken(f.ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authorise(f.ctx, p.ID, card("4000000000000002")); err != nil {
			t.Fatal(err)
		}
		// Cancelled by the service: failed.
		cancelled, _ := f.create(f.a.testKey, webPayment(100))
		f.do("POST", "/v1/payments/"+cancelled+"/cancel", f.a.testKey, nil).want(t, http.StatusNoContent)
		// Captured and refunded: succeeded, captured, refunded.
		paid := f.captured(f.a.testKey, 500)
		f.do("POST", "/v1/payments/"+paid+"/refunds", f.a.testKey, map[string]any{"amount": 100}).want(t, http.StatusAccepted)
		// Left alone: expired.
		expired, _ := f.create(f.a.testKey, webPayment(100))
		f.clock.Advance(ExpiryWindow + time.Minute)
		if _, err := f.svc.ExpireAbandoned(f.ctx); err != nil {
			t.Fatal(err)
		}
		_, types := f.messages(hook.ID)
		slices.Sort(types)
		want := []string{EventCardPaymentCaptured, EventCardPaymentExpired, EventCardPaymentFailed, EventCardPaymentFailed,
			EventCardPaymentRefunded, EventCardPaymentSucceeded}
		if !slices.Equal(types, want) {
			t.Fatalf("messages %v, want %v", types, want)
		}
		var about string
		if err := f.d.QueryRow(f.ctx, `SELECT resource_id FROM pay_webhook_messages WHERE webhook_id = ? AND event_type = ?`,
			hook.ID, EventCardPaymentExpired).Scan(&about); err != nil || about != expired {
			t.Fatalf("expired message about %s (%v), want %s", about, err, expired)
		}
		// Test payments reach neither the live webhook nor another service's.
		for _, w := range []Webhook{live, other} {
			if ids, _ := f.messages(w.ID); len(ids) != 0 {
				t.Errorf("webhook %s has %d messages", w.CallbackURL, len(ids))
			}
		}
	})
}

func TestWebhookRetrySchedule(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		hook, _ := f.webhook(f.a.id, false, "https://hooks.example.com/", EventCardPaymentSucceeded)
		_, tok := f.create(f.a.testKey, webPayment(100))
		f.pay(tok, "4444333322221111")
		ids, _ := f.messages(hook.ID)
		worker := &webhookSendWorker{s: f.svc}
		delays := []time.Duration{time.Minute, 5 * time.Minute, time.Hour, 24 * time.Hour, 48 * time.Hour}
		for attempt := 1; attempt <= 6; attempt++ {
			f.receiver.answer(http.StatusInternalServerError)
			err := f.deliver(ids[0], attempt)
			st, n, next := f.messageStatus(ids[0])
			if st != MessageFailed || n != attempt {
				t.Fatalf("attempt %d: %s after %d attempts", attempt, st, n)
			}
			if attempt < 6 {
				if err == nil {
					t.Fatalf("attempt %d: no error, so River would not try again", attempt)
				}
				want := f.clock.Now().Add(delays[attempt-1])
				if next == nil || !next.Equal(want) {
					t.Fatalf("attempt %d: next attempt %v, want %v", attempt, next, want)
				}
				job := &river.Job[WebhookSendArgs]{JobRow: &rivertype.JobRow{Attempt: attempt}}
				if got := worker.NextRetry(job); !got.Equal(want) {
					t.Fatalf("attempt %d: River retries at %v, want %v", attempt, got, want)
				}
				f.clock.Advance(delays[attempt-1])
				continue
			}
			// The last attempt gives up: FAILED for good, and River is told it is done.
			if err != nil || next != nil {
				t.Fatalf("last attempt: error %v, next %v", err, next)
			}
		}
		if got := len(f.receiver.requests()); got != 6 {
			t.Fatalf("%d requests, want 6", got)
		}
		if n := f.count(`SELECT count(*) FROM pay_webhook_attempts WHERE message_id = ? AND result = 'FAILED' AND status_code = 500`, ids[0]); n != 6 {
			t.Fatalf("%d attempts recorded, want 6", n)
		}
		if (WebhookSendArgs{}).InsertOpts().MaxAttempts != 6 {
			t.Fatal("River would not make 6 attempts")
		}
	})
}

func TestWebhookFailedThenSucceeded(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		hook, secret := f.webhook(f.a.id, false, "https://hooks.example.com/", EventCardPaymentSucceeded)
		_, tok := f.create(f.a.testKey, webPayment(100))
		f.pay(tok, "4444333322221111")
		ids, _ := f.messages(hook.ID)
		f.receiver.answer(http.StatusServiceUnavailable)
		if err := f.deliver(ids[0], 1); err == nil {
			t.Fatal("a 503 was taken as delivered")
		}
		f.clock.Advance(time.Minute)
		if err := f.deliver(ids[0], 2); err != nil {
			t.Fatal(err)
		}
		if st, n, next := f.messageStatus(ids[0]); st != MessageSuccessful || n != 2 || next != nil {
			t.Fatalf("%s after %d attempts, next %v", st, n, next)
		}
		// A run of the job after the success (a crash before River heard) sends nothing more.
		if err := f.deliver(ids[0], 3); err != nil {
			t.Fatal(err)
		}
		got := f.receiver.requests()
		if len(got) != 2 || string(got[0].body) != string(got[1].body) {
			t.Fatalf("%d requests; a retry must send the same body", len(got))
		}
		if got[1].header.Get("Pay-Signature") != webhookHMACHex(secret, got[1].body) {
			t.Fatal("retry not signed")
		}
		a, attempts, err := f.svc.WebhookMessage(f.ctx, f.a.id, hook.ID, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != MessageSuccessful || len(attempts) != 2 || attempts[0].StatusCode != 503 || attempts[0].Result != MessageFailed ||
			attempts[1].StatusCode != 200 || !attempts[1].Succeeded() {
			t.Fatalf("log %+v", attempts)
		}
		// Another service cannot read the log.
		if _, _, err := f.svc.WebhookMessage(f.ctx, f.b.id, hook.ID, ids[0]); !failure.Is(err, failure.NotFound) {
			t.Fatalf("other service: %v", err)
		}
	})
}

func TestWebhookInactiveNotSent(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		off, _ := f.webhook(f.a.id, false, "https://off.example.com/", EventCardPaymentSucceeded)
		later, _ := f.webhook(f.a.id, false, "https://later.example.com/", EventCardPaymentSucceeded)
		if _, err := f.svc.DeactivateWebhook(f.ctx, f.a.id, off.ID); err != nil {
			t.Fatal(err)
		}
		_, tok := f.create(f.a.testKey, webPayment(100))
		f.pay(tok, "4444333322221111")
		if ids, _ := f.messages(off.ID); len(ids) != 0 {
			t.Fatalf("inactive webhook got %d messages", len(ids))
		}
		// Switched off after the message was queued: recorded as not sent, never posted.
		ids, _ := f.messages(later.ID)
		if _, err := f.svc.DeactivateWebhook(f.ctx, f.a.id, later.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.deliver(ids[0], 1); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := f.messageStatus(ids[0]); st != MessageWillNotSend {
			t.Fatalf("status %s", st)
		}
		if n := len(f.receiver.requests()); n != 0 {
			t.Fatalf("%d requests to an inactive webhook", n)
		}
	})
}

func TestWebhookURLRules(t *testing.T) {
	s := New(Config{})
	for _, c := range []struct {
		url  string
		live bool
		ok   bool
	}{
		{"https://hooks.example.com/pay", false, true},
		{"https://hooks.example.com:8443/pay?x=1", false, true},
		{"http://hooks.example.com/pay", false, false},
		{"https://127.0.0.1/pay", false, false},
		{"https://[::1]/pay", false, false},
		{"https://localhost/pay", false, false},
		{"https://user:pass@hooks.example.com/", false, false},
		{"hooks.example.com/pay", false, false},
		{"https:///pay", false, false},
		{"https://hooks.example.com/" + strings.Repeat("a", 2048), false, false},
		{"https://hooks.example.com/pay", true, false},
		{"https://payments.service.gov.uk/hook", true, true},
		{"https://gov.uk/hook", true, true},
		{"https://evilgov.uk/hook", true, false},
		{"https://gov.uk.example.com/hook", true, false},
		{"https://hooks.nhs.net/hook", true, true},
	} {
		err := s.checkCallbackURL(c.url, c.live)
		if (err == nil) != c.ok {
			t.Errorf("%q live=%v: %v", c.url, c.live, err)
		}
		if err != nil && !failure.Is(err, failure.Invalid) {
			t.Errorf("%q: %v is not a validation failure", c.url, err)
		}
	}
	// The operator's list replaces the default one.
	s = New(Config{Webhooks: WebhooksConfig{LiveDomains: []string{"example.org"}}})
	if s.checkCallbackURL("https://a.example.org/", true) != nil || s.checkCallbackURL("https://a.gov.uk/", true) == nil {
		t.Error("LiveDomains not applied")
	}
	// The default client will not connect inside the network, whatever the name resolved to.
	inside := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("the default client reached a loopback address")
	}))
	defer inside.Close()
	if _, err := s.postWebhook(context.Background(), inside.URL, "secret", []byte("{}")); err == nil ||
		!strings.Contains(err.Error(), errNonPublicWebhookAddress.Error()) {
		t.Errorf("loopback: %v", err)
	}
}

func TestWebhookURLRecheckedAtSend(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		f.svc.cfg.Webhooks.LiveDomains = []string{"example.com"}
		hook, _ := f.webhook(f.a.id, true, "https://hooks.example.com/", EventCardPaymentSucceeded)
		_, tok := f.create(f.a.liveKey, webPayment(100))
		f.pay(tok, "4444333322221111")
		ids, _ := f.messages(hook.ID)
		if len(ids) != 1 {
			t.Fatalf("%d messages for a live payment", len(ids))
		}
		// The operator has since narrowed the list.
		f.svc.cfg.Webhooks.LiveDomains = nil
		if err := f.deliver(ids[0], 1); err != nil {
			t.Fatal(err)
		}
		_, attempts, err := f.svc.WebhookMessage(f.ctx, f.a.id, hook.ID, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(attempts) != 1 || attempts[0].Result != MessageWillNotSend || attempts[0].Error != "Violates security rules" {
			t.Fatalf("attempts %+v", attempts)
		}
		if n := len(f.receiver.requests()); n != 0 {
			t.Fatalf("%d requests to a URL against the rules", n)
		}
		// Nor can it be turned back on after a pause.
		if _, err := f.svc.DeactivateWebhook(f.ctx, f.a.id, hook.ID); err != nil {
			t.Fatal(err)
		}
		active := WebhookActive
		if _, err := f.svc.UpdateWebhook(f.ctx, f.a.id, hook.ID, WebhookUpdate{Status: &active}); !failure.Is(err, failure.Invalid) {
			t.Fatalf("reactivated against the rules: %v", err)
		}
	})
}

func TestWebhookSecretRotation(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		hook, old := f.webhook(f.a.id, false, "https://hooks.example.com/", EventCardPaymentSucceeded)
		var sealed string
		if err := f.d.QueryRow(f.ctx, `SELECT sealed_secret FROM pay_webhooks WHERE id = ?`, hook.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sealed, old) || strings.Contains(sealed, "webhook_") {
			t.Fatal("the signing secret is stored in the clear")
		}
		_, tok := f.create(f.a.testKey, webPayment(100))
		f.pay(tok, "4444333322221111")
		ids, _ := f.messages(hook.ID)
		f.receiver.answer(http.StatusInternalServerError)
		_ = f.deliver(ids[0], 1)

		fresh, err := f.svc.RotateWebhookSecret(f.ctx, f.a.id, hook.ID)
		if err != nil {
			t.Fatal(err)
		}
		if fresh == old || !strings.HasPrefix(fresh, "webhook_test_") {
			t.Fatalf("new secret %q", fresh)
		}
		if got, err := f.svc.WebhookSecret(f.ctx, f.a.id, hook.ID); err != nil || got != fresh {
			t.Fatalf("secret %q, %v", got, err)
		}
		if err := f.deliver(ids[0], 2); err != nil {
			t.Fatal(err)
		}
		got := f.receiver.requests()
		if sig := got[0].header.Get("Pay-Signature"); sig != webhookHMACHex(old, got[0].body) {
			t.Fatal("first attempt not signed with the secret of the time")
		}
		if sig := got[1].header.Get("Pay-Signature"); sig != webhookHMACHex(fresh, got[1].body) || sig == webhookHMACHex(old, got[1].body) {
			t.Fatal("the retry after rotation is not signed with the new secret alone")
		}
		// Another service cannot rotate it, and a secret sealed for one webhook does not open
		// for another.
		if _, err := f.svc.RotateWebhookSecret(f.ctx, f.b.id, hook.ID); !failure.Is(err, failure.NotFound) {
			t.Fatalf("other service rotated: %v", err)
		}
		other, _ := f.webhook(f.a.id, false, "https://other.example.com/", EventCardPaymentSucceeded)
		if _, err := f.d.Exec(f.ctx, `UPDATE pay_webhooks SET sealed_secret = (SELECT sealed_secret FROM pay_webhooks WHERE id = ?) WHERE id = ?`,
			hook.ID, other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.WebhookSecret(f.ctx, f.a.id, other.ID); err == nil {
			t.Fatal("a copied secret opened for another webhook")
		}
	})
}

func TestWebhookPurge(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		hook, _ := f.webhook(f.a.id, false, "https://hooks.example.com/", EventCardPaymentSucceeded)
		_, tok := f.create(f.a.testKey, webPayment(100))
		f.pay(tok, "4444333322221111")
		old, _ := f.messages(hook.ID)
		if err := f.deliver(old[0], 1); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(WebhookRetention - time.Hour)
		_, tok = f.create(f.a.testKey, webPayment(200))
		f.pay(tok, "4444333322221111")
		f.clock.Advance(2 * time.Hour)
		n, err := f.svc.PurgeWebhookMessages(f.ctx)
		if err != nil || n != 1 {
			t.Fatalf("purged %d (%v), want 1", n, err)
		}
		left, _ := f.messages(hook.ID)
		if len(left) != 1 || left[0] == old[0] {
			t.Fatalf("left %v", left)
		}
		if n := f.count(`SELECT count(*) FROM pay_webhook_attempts`); n != 0 {
			t.Fatalf("%d attempts left", n)
		}
		// The job of a purged message finds nothing to do.
		if err := f.deliver(old[0], 2); err != nil {
			t.Fatal(err)
		}
	})
}

// TestWebhookJobRuns has a real River client work the delivery job that a payment queues.
func TestWebhookJobRuns(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		hook, _ := f.webhook(f.a.id, false, "https://hooks.example.com/", EventCardPaymentSucceeded)
		// River schedules and retries by its own clock.
		f.svc.Now = time.Now
		startWebhookWorkers(t, f.fixture)
		_, tok := f.create(f.a.testKey, webPayment(100))
		f.pay(tok, "4444333322221111")
		ids, _ := f.messages(hook.ID)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if st, _, _ := f.messageStatus(ids[0]); st == MessageSuccessful {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("message not delivered")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := len(f.receiver.requests()); n != 1 {
			t.Fatalf("%d requests", n)
		}
	})
}

// startWebhookWorkers runs a working River client for the fixture until the test ends.
func startWebhookWorkers(t *testing.T, f *fixture) {
	workers := river.NewWorkers()
	f.svc.RegisterWorkers(workers)
	worker, err := jobs.New(f.d, jobs.Config{Workers: workers, Work: true, Queues: Queues(),
		FetchPollInterval: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = worker.Stop(f.ctx) })
}
