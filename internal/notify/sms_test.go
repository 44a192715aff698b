package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/platform"
)

// smsProviderStub is an HTTPS text message provider for tests: it records requests and
// answers with a scripted status.
type smsProviderStub struct {
	mu       sync.Mutex
	requests []map[string]string
	auth     []string
	status   int
	answer   string
}

func (p *smsProviderStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req map[string]string
	_ = json.Unmarshal(body, &req)
	p.mu.Lock()
	p.requests = append(p.requests, req)
	p.auth = append(p.auth, r.Header.Get("Authorization"))
	status, answer := p.status, p.answer
	p.mu.Unlock()
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func TestHTTPSMS(t *testing.T) {
	stub := &smsProviderStub{answer: `{"reference":"prov-42","extra":true}`}
	srv := httptest.NewTLSServer(stub)
	defer srv.Close()
	p, err := NewHTTPSMS(srv.URL+"/messages", "provider-token")
	if err != nil {
		t.Fatal(err)
	}
	p.Client = srv.Client()
	ctx := context.Background()
	m := SMSMessage{NotificationID: "0b7e2f4c-1111-4222-8333-444455556666", To: "447700900123", Body: "Hello Jo", Sender: "GOVUK"}
	ref, err := p.SendSMS(ctx, m)
	if err != nil || ref != "prov-42" {
		t.Fatalf("SendSMS = %q, %v; want the provider's reference", ref, err)
	}
	want := map[string]string{"id": m.NotificationID, "to": "+447700900123", "body": "Hello Jo", "sender": "GOVUK"}
	if got := stub.requests[0]; len(got) != 4 || got["id"] != want["id"] || got["to"] != want["to"] || got["body"] != want["body"] || got["sender"] != want["sender"] {
		t.Errorf("request = %v, want %v", got, want)
	}
	if stub.auth[0] != "Bearer provider-token" {
		t.Errorf("Authorization = %q", stub.auth[0])
	}

	stub.answer = ""
	if ref, err := p.SendSMS(ctx, m); err != nil || ref != m.NotificationID {
		t.Errorf("no reference in the answer: %q, %v; want the notification id", ref, err)
	}
	for status, want := range map[int]ProviderOutcome{
		http.StatusInternalServerError: OutcomeRetry, http.StatusServiceUnavailable: OutcomeRetry,
		http.StatusTooManyRequests: OutcomeRetry, http.StatusBadRequest: OutcomeFailed, http.StatusUnauthorized: OutcomeFailed,
	} {
		stub.mu.Lock()
		stub.status = status
		stub.mu.Unlock()
		if _, err := p.SendSMS(ctx, m); outcomeOf(err) != want {
			t.Errorf("provider answers %d: %v (outcome %d), want %d", status, err, outcomeOf(err), want)
		}
	}
	srv.Close()
	if _, err := p.SendSMS(ctx, m); outcomeOf(err) != OutcomeRetry {
		t.Errorf("provider down: %v; want a retry", err)
	}

	// A provider that takes the request and never answers: unknown, never repeated.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		<-r.Context().Done()
	}))
	defer hang.Close()
	slow := &HTTPSMS{URL: hang.URL, Token: "t", Client: &http.Client{Timeout: 200 * time.Millisecond}}
	if _, err := slow.SendSMS(ctx, m); outcomeOf(err) != OutcomeUnknown {
		t.Errorf("no answer: %v; want unknown", err)
	}

	for _, bad := range [][2]string{{"", "t"}, {"ftp://x", "t"}, {"https://sms.example", ""}} {
		if _, err := NewHTTPSMS(bad[0], bad[1]); err == nil {
			t.Errorf("NewHTTPSMS(%q, %q): want an error", bad[0], bad[1])
		}
	}
}

// providerCall posts to one of the provider endpoints through the mux.
func providerCall(t *testing.T, mux *http.ServeMux, path, secret, body string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if secret != "" {
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// Receipts move a text message on while its status can still change, and are refused
// without the shared secret. The final one queues the delivery-status callback.
func TestSMSReceipts(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		stub := &smsProviderStub{}
		srv := httptest.NewServer(stub)
		defer srv.Close()
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: &recordingEmail{},
			SMS: &HTTPSMS{URL: srv.URL, Token: "t"}, SMSCallbackSecret: "shared-secret-123"}})
		if err := e.svc.SetCallback(context.Background(), Callback{ServiceID: e.serviceID, Type: CallbackDeliveryStatus,
			URL: "https://service.example/callbacks", BearerToken: "service-token-1"}); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		e.d.MountProviderCallbacks(mux)

		n := e.store(t, e.notification(SMS, "447700900123"))
		if err := e.work(t, n, 1, 25); err != nil {
			t.Fatal(err)
		}
		if st := e.state(t, n.ID); st.Status != StatusSending || st.Reference != n.ID {
			t.Fatalf("after sending: %+v", st)
		}

		for _, secret := range []string{"", "wrong", "shared-secret-1234"} {
			if code, _ := providerCall(t, mux, PathSMSReceipts, secret, `{"id":"`+n.ID+`","status":"delivered"}`); code != http.StatusUnauthorized {
				t.Errorf("secret %q: %d, want 401", secret, code)
			}
		}
		if code, body := providerCall(t, mux, PathSMSReceipts, "shared-secret-123", `{"id":"`+n.ID+`","status":"pending"}`); code != http.StatusNoContent {
			t.Fatalf("pending receipt: %d %s", code, body)
		}
		if st := e.state(t, n.ID); st.Status != StatusPending {
			t.Errorf("after a pending receipt: %s", st.Status)
		}
		if code, body := providerCall(t, mux, PathSMSReceipts, "shared-secret-123", `{"reference":"`+n.ID+`","status":"delivered","provider_extra":1}`); code != http.StatusNoContent {
			t.Fatalf("delivered receipt by reference: %d %s", code, body)
		}
		if code, _ := providerCall(t, mux, PathSMSReceipts, "shared-secret-123", `{"id":"`+n.ID+`","status":"permanent-failure"}`); code != http.StatusNoContent {
			t.Errorf("late receipt: %d, want 204 (accepted and ignored)", code)
		}
		if st := e.state(t, n.ID); st.Status != StatusDelivered {
			t.Errorf("a receipt after the final one changed the status to %s", st.Status)
		}
		events := e.events(t, n.ID)
		if len(events) != 4 || events[2] != "pending: Receipt from sms-https: pending" || events[3] != "delivered: Receipt from sms-https: delivered" {
			t.Errorf("events = %q", events)
		}
		if got := e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'notify.callback'`); got != 1 {
			t.Errorf("%d callback jobs, want 1 (for the final receipt only)", got)
		}

		for body, want := range map[string]int{
			`{"id":"` + uuid.NewString() + `","status":"delivered"}`: http.StatusNotFound,
			`{"id":"not-a-uuid","status":"delivered"}`:               http.StatusBadRequest,
			`{"id":"` + n.ID + `","status":"read"}`:                  http.StatusBadRequest,
			`{"status":"delivered"}`:                                 http.StatusBadRequest,
			`not json`:                                               http.StatusBadRequest,
		} {
			if code, _ := providerCall(t, mux, PathSMSReceipts, "shared-secret-123", body); code != want {
				t.Errorf("%s: %d, want %d", body, code, want)
			}
		}
		email := e.store(t, e.notification(Email, "jo@example.com"))
		if code, _ := providerCall(t, mux, PathSMSReceipts, "shared-secret-123", `{"id":"`+email.ID+`","status":"delivered"}`); code != http.StatusNotFound {
			t.Errorf("a text message receipt for an email: %d, want 404", code)
		}
	})
}

// Received text messages are matched to the service by its inbound number, stored once,
// and passed on to its inbound callback.
func TestSMSInbound(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		e := newDeliveryEnv(t, d, deliveryEnvOptions{dev: true, cfg: DeliveryConfig{SMSCallbackSecret: "shared-secret-123"}})
		ctx := context.Background()
		if _, err := d.Exec(ctx, `INSERT INTO notify_sms_senders (id, service_id, sms_sender, is_default, inbound, archived, created_at)
			VALUES (?, ?, '07700900999', ?, ?, ?, ?)`, uuid.NewString(), e.serviceID, true, true, false, e.svc.now()); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetCallback(ctx, Callback{ServiceID: e.serviceID, Type: CallbackInboundSMS,
			URL: "https://service.example/inbound", BearerToken: "service-token-1"}); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		e.d.MountProviderCallbacks(mux)
		msg := `{"id":"prov-msg-1","from":"07700 900123","to":"+447700900999","body":"Yes please","received_at":"2026-05-17T15:58:38.342838Z"}`
		if code, _ := providerCall(t, mux, PathSMSInbound, "", msg); code != http.StatusUnauthorized {
			t.Errorf("without the secret: %d, want 401", code)
		}
		for range 2 { // the provider repeats itself
			if code, body := providerCall(t, mux, PathSMSInbound, "shared-secret-123", msg); code != http.StatusNoContent {
				t.Fatalf("inbound: %d %s", code, body)
			}
		}
		var serviceID, user, notifyNumber, content string
		var date time.Time
		if err := d.QueryRow(ctx, `SELECT service_id, user_number, notify_number, content, provider_date FROM notify_inbound_sms`).
			Scan(&serviceID, &user, &notifyNumber, &content, &date); err != nil {
			t.Fatal(err)
		}
		if serviceID != e.serviceID || user != "447700900123" || notifyNumber != "07700900999" || content != "Yes please" ||
			!date.Equal(time.Date(2026, 5, 17, 15, 58, 38, 342838000, time.UTC)) {
			t.Errorf("stored %s %s %s %q %s", serviceID, user, notifyNumber, content, date)
		}
		if n := e.count(t, `SELECT count(*) FROM notify_inbound_sms`); n != 1 {
			t.Errorf("%d messages stored, want 1", n)
		}
		jobs := e.callbackJobs(t)
		if len(jobs) != 1 {
			t.Fatalf("%d callback jobs, want 1", len(jobs))
		}
		job := jobs[0]
		var body map[string]any
		_ = json.Unmarshal(job.Payload, &body)
		if job.CallbackType != CallbackInboundSMS || len(body) != 5 || body["source_number"] != "447700900123" ||
			body["destination_number"] != "07700900999" || body["message"] != "Yes please" ||
			body["date_received"] != "2026-05-17T15:58:38.342838Z" || body["id"] == "" {
			t.Errorf("callback job %+v body %v", job, body)
		}

		if code, _ := providerCall(t, mux, PathSMSInbound, "shared-secret-123", `{"id":"x","from":"07700900123","to":"07700900000","body":"?"}`); code != http.StatusNotFound {
			t.Errorf("unknown number: %d, want 404", code)
		}
		if code, _ := providerCall(t, mux, PathSMSInbound, "shared-secret-123", `{"id":"x","from":"","to":"07700900999","body":"?"}`); code != http.StatusBadRequest {
			t.Errorf("no sender: %d, want 400", code)
		}
		if err := e.platform.SetServicePermissions(ctx, platform.CLIActor, e.serviceID, []string{platform.ServiceSMS}); err != nil {
			t.Fatal(err)
		}
		if code, _ := providerCall(t, mux, PathSMSInbound, "shared-secret-123", `{"id":"prov-msg-2","from":"07700900123","to":"07700900999","body":"again"}`); code != http.StatusNoContent {
			t.Errorf("service without inbound_sms: %d, want 204 (dropped)", code)
		}
		if n := e.count(t, `SELECT count(*) FROM notify_inbound_sms`); n != 1 {
			t.Errorf("a message for a service without inbound_sms was stored (%d rows)", n)
		}
	})
}

func TestInboundNumber(t *testing.T) {
	for in, want := range map[string]string{
		"07700 900123": "447700900123", "+44 7700 900123": "447700900123", "00447700900123": "447700900123",
		"447700900123": "447700900123", "+1 (555) 010-9999": "15550109999", "GOVUK": "",
	} {
		if got := inboundNumber(in); got != want {
			t.Errorf("inboundNumber(%q) = %q, want %q", in, got, want)
		}
	}
}
