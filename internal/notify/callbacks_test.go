package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
)

// serviceEndpoint is a service's callback receiver: it records each request and answers with
// the next scripted status (200 once the script runs out).
type serviceEndpoint struct {
	mu       sync.Mutex
	requests []callbackRequest
	script   []int
}

type callbackRequest struct {
	Auth, ContentType string
	Body              map[string]any
	Raw               string
}

func (s *serviceEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	s.requests = append(s.requests, callbackRequest{Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Body: body, Raw: string(raw)})
	status := http.StatusOK
	if len(s.script) > 0 {
		status, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	w.WriteHeader(status)
}

func (s *serviceEndpoint) received() []callbackRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]callbackRequest(nil), s.requests...)
}

var callbackTimeFormat = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

// Delivery-status callbacks reach the service with GOV.UK Notify's body and headers, for
// emails and text messages (test keys included) and never for letters.
func TestDeliveryStatusCallbacks(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		endpoint := &serviceEndpoint{}
		srv := httptest.NewTLSServer(endpoint)
		defer srv.Close()
		e := newDeliveryEnv(t, d, deliveryEnvOptions{dev: true, work: true, cfg: DeliveryConfig{CallbackClient: srv.Client()}})
		if err := e.svc.SetCallback(context.Background(), Callback{ServiceID: e.serviceID, Type: CallbackDeliveryStatus,
			URL: srv.URL + "/notify/status", BearerToken: "service-bearer-token"}); err != nil {
			t.Fatal(err)
		}
		email := e.notification(Email, "Jo@Example.com")
		email.NormalisedTo = "jo@example.com"
		e.queue(t, email)
		sms := e.notification(SMS, "07700 900123")
		sms.ClientReference = ""
		sms.NormalisedTo = "447700900123"
		e.queue(t, sms)
		e.queue(t, e.notification(Letter, "Jo Bloggs"))
		testKey := e.notification(Email, "temp-fail@simulator.notify")
		testKey.KeyType = apiauth.Test
		e.queue(t, testKey)

		deliveryWaitFor(t, 30*time.Second, "three callbacks", func() bool { return len(endpoint.received()) >= 3 })
		byID := map[string]callbackRequest{}
		for _, r := range endpoint.received() {
			byID[r.Body["id"].(string)] = r
			if r.Auth != "Bearer service-bearer-token" || r.ContentType != "application/json" {
				t.Errorf("headers: Authorization %q, Content-Type %q", r.Auth, r.ContentType)
			}
			if len(r.Body) != 10 {
				t.Errorf("body has %d fields, want 10: %s", len(r.Body), r.Raw)
			}
			for _, f := range []string{"created_at", "completed_at", "sent_at"} {
				if s, _ := r.Body[f].(string); !callbackTimeFormat.MatchString(s) {
					t.Errorf("%s = %v, want GOV.UK Notify's timestamp format", f, r.Body[f])
				}
			}
		}
		want := map[string]map[string]any{
			email.ID: {"reference": "ref-1", "to": "Jo@Example.com", "status": "delivered", "notification_type": "email",
				"template_id": email.TemplateID, "template_version": float64(3)},
			sms.ID: {"reference": nil, "to": "07700 900123", "status": "delivered", "notification_type": "sms",
				"template_id": sms.TemplateID, "template_version": float64(3)},
			testKey.ID: {"reference": "ref-1", "to": "temp-fail@simulator.notify", "status": "temporary-failure", "notification_type": "email"},
		}
		for id, fields := range want {
			r, ok := byID[id]
			if !ok {
				t.Errorf("no callback for %s", id)
				continue
			}
			for k, v := range fields {
				if r.Body[k] != v {
					t.Errorf("%s: %s = %#v, want %#v", id, k, r.Body[k], v)
				}
			}
		}
		if len(endpoint.received()) != 3 {
			t.Errorf("%d callbacks, want 3 (none for the letter)", len(endpoint.received()))
		}
		// The attempt is recorded once the answer is in, just after the endpoint saw it.
		deliveryWaitFor(t, 30*time.Second, "three successful attempts recorded", func() bool {
			return e.count(t, `SELECT count(*) FROM notify_callback_attempts WHERE status_code = 200 AND attempt = 1`) == 3
		})
	})
}

// runCallback runs the callback worker once, as River would on the given attempt.
func runCallback(e *deliveryEnv, a CallbackArgs, attempt int) error {
	job := &river.Job[CallbackArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: 6, Kind: a.Kind()}, Args: a}
	return (&callbackWorker{d: e.d}).Work(context.Background(), job)
}

// Connection errors, timeouts, 5xx and 429 are retried; other 4xx are not; every attempt is
// recorded.
func TestCallbackRetryRules(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		endpoint := &serviceEndpoint{script: []int{500, 503, 429, 400, 404, 301, 200}}
		srv := httptest.NewServer(endpoint)
		defer srv.Close()
		e := newDeliveryEnv(t, d, deliveryEnvOptions{dev: true, cfg: DeliveryConfig{}})
		ctx := context.Background()
		if err := e.svc.SetCallback(ctx, Callback{ServiceID: e.serviceID, Type: CallbackDeliveryStatus,
			URL: srv.URL, BearerToken: "service-bearer-token"}); err != nil {
			t.Fatal(err)
		}
		a := CallbackArgs{ServiceID: e.serviceID, CallbackType: CallbackDeliveryStatus, SubjectID: "n-1", Payload: json.RawMessage(`{"id":"n-1"}`)}
		for i, want := range []string{"retry", "retry", "retry", "cancel", "cancel", "cancel", "done"} {
			err := runCallback(e, a, i+1)
			var cancel *rivertype.JobCancelError
			got := "done"
			switch {
			case errors.As(err, &cancel):
				got = "cancel"
			case err != nil:
				got = "retry"
			}
			if got != want {
				t.Errorf("answer %d: %s (%v), want %s", i+1, got, err, want)
			}
		}
		srv.Close()
		if err := runCallback(e, a, 8); err == nil {
			t.Error("service unreachable: want a retry")
		}
		rows, err := d.Query(ctx, `SELECT attempt, COALESCE(status_code, 0), error, url FROM notify_callback_attempts
			WHERE subject_id = 'n-1' ORDER BY attempt`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var codes []int
		for rows.Next() {
			var attempt, code int
			var errText, url string
			if err := rows.Scan(&attempt, &code, &errText, &url); err != nil {
				t.Fatal(err)
			}
			codes = append(codes, code)
			if url != srv.URL || (code == 0) != (errText != "") {
				t.Errorf("attempt %d: url %q, code %d, error %q", attempt, url, code, errText)
			}
		}
		if want := []int{500, 503, 429, 400, 404, 301, 200, 0}; len(codes) != len(want) || codes[0] != 500 || codes[6] != 200 || codes[7] != 0 {
			t.Errorf("recorded codes %v, want %v", codes, want)
		}

		if err := e.svc.RemoveCallback(ctx, e.serviceID, CallbackDeliveryStatus); err != nil {
			t.Fatal(err)
		}
		if err := runCallback(e, a, 1); err != nil {
			t.Errorf("callback removed since it was queued: %v, want nothing done", err)
		}
	})
}

// Through River: a callback that fails is tried again, up to GOV.UK Notify's six attempts.
func TestCallbackRetriedBySchedule(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		endpoint := &serviceEndpoint{script: []int{503, 502, 500, 500, 500, 500, 500}}
		srv := httptest.NewServer(endpoint)
		defer srv.Close()
		e := newDeliveryEnv(t, d, deliveryEnvOptions{dev: true, work: true})
		ctx := context.Background()
		if err := e.svc.SetCallback(ctx, Callback{ServiceID: e.serviceID, Type: CallbackInboundSMS,
			URL: srv.URL, BearerToken: "service-bearer-token"}); err != nil {
			t.Fatal(err)
		}
		if err := e.jobs.Insert(ctx, CallbackArgs{ServiceID: e.serviceID, CallbackType: CallbackInboundSMS, SubjectID: "s-1",
			Payload: json.RawMessage(`{}`)}, nil); err != nil {
			t.Fatal(err)
		}
		deliveryWaitFor(t, 60*time.Second, "six attempts", func() bool {
			return e.count(t, `SELECT count(*) FROM notify_callback_attempts WHERE subject_id = 's-1'`) == 6
		})
		deliveryWaitFor(t, 30*time.Second, "the job to be discarded", func() bool {
			return e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'notify.callback' AND state = 'discarded'`) == 1
		})
		if n := len(endpoint.received()); n != 6 {
			t.Errorf("service called %d times, want 6", n)
		}
		if n := e.count(t, `SELECT max(attempt) FROM notify_callback_attempts WHERE subject_id = 's-1'`); n != 6 {
			t.Errorf("last attempt recorded as %d, want 6", n)
		}
	})
}
