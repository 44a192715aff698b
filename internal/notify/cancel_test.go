package notify

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Cancelling scheduled notifications through POST /api/notify/v1/notifications/{id}/cancel,
// on each engine, with notifications made through the real /v2 send path.

// scheduleEmail sends service A's email template at `at` with key, and returns its id.
func (f *docFixture) scheduleEmail(t *testing.T, key string, at time.Time) string {
	t.Helper()
	body := map[string]any{"email_address": "person@example.com", "template_id": f.a.emailTemplate.ID,
		"personalisation": map[string]any{"name": "Jo"}}
	if !at.IsZero() {
		body["scheduled_for"] = at.UTC().Format(time.RFC3339)
	}
	r := f.do("POST", "/v2/notifications/email", key, body)
	r.want(t, http.StatusCreated)
	return r.body["id"].(string)
}

func (f *docFixture) cancel(t *testing.T, key, id string) (int, map[string]any) {
	t.Helper()
	r := f.do("POST", "/api/notify/v1/notifications/"+id+"/cancel", key, nil)
	var body map[string]any
	if err := json.Unmarshal(r.raw, &body); err != nil {
		t.Fatalf("cancel %s: status %d, body is not JSON: %s", id, r.status, r.raw)
	}
	return r.status, body
}

// wantProblem checks an RFC 9457 answer: its status and a detail containing detail.
func wantProblem(t *testing.T, status int, body map[string]any, wantStatus int, detail string) {
	t.Helper()
	if status != wantStatus || body["status"] != float64(wantStatus) || !strings.Contains(body["detail"].(string), detail) {
		t.Fatalf("status %d, body %v; want %d with detail containing %q", status, body, wantStatus, detail)
	}
}

func (f *docFixture) status(t *testing.T, id string) string {
	t.Helper()
	var s string
	if err := f.d.QueryRow(f.ctx, "SELECT status FROM notify_notifications WHERE id = ?", id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// deliveryJob returns the delivery job River holds for a notification.
func (f *docFixture) deliveryJob(t *testing.T, id string) *rivertype.JobRow {
	t.Helper()
	res, err := f.svc.cfg.Jobs.River().JobList(f.ctx, river.NewJobListParams().Kinds(DeliverArgs{}.Kind()).First(1000))
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range res.Jobs {
		var a DeliverArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			t.Fatal(err)
		}
		if a.NotificationID == id {
			return j
		}
	}
	t.Fatalf("no delivery job for %s", id)
	return nil
}

// deliver runs the delivery worker for a notification, as River would when its job comes up,
// with a provider that records what it is given.
func (f *docFixture) deliver(t *testing.T, email *recordingEmail, id string) {
	t.Helper()
	d, err := NewDelivery(f.svc, DeliveryConfig{Email: email, SMS: &recordingSMS{}, EmailDomain: "notify.example.gov.uk"})
	if err != nil {
		t.Fatal(err)
	}
	job := &river.Job[DeliverArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1, MaxAttempts: 25, Kind: DeliverArgs{}.Kind()},
		Args: DeliverArgs{NotificationID: id, ServiceID: f.a.id}}
	if err := (&deliverWorker{d: d}).Work(f.ctx, job); err != nil {
		t.Fatal(err)
	}
}

// A scheduled email cancelled before its time becomes cancelled, with its history recorded and
// its delivery job cancelled, and is never handed to the provider even if its job runs.
func TestCancelScheduledNotification(t *testing.T) {
	eachDocs(t, func(t *testing.T, f *docFixture) {
		at := f.clock.Now().Add(26 * time.Hour).Truncate(time.Second)
		id := f.scheduleEmail(t, f.a.liveKey, at)
		status, body := f.cancel(t, f.a.liveKey, id)
		if status != http.StatusOK || body["id"] != id || body["status"] != "cancelled" || body["type"] != "email" ||
			body["scheduled_for"] != at.UTC().Format(time.RFC3339Nano) || body["cancelled_at"] != rfc3339(f.clock.Now()) {
			t.Fatalf("cancel: %d %v", status, body)
		}
		if got := f.status(t, id); got != StatusCancelled {
			t.Fatalf("status %s", got)
		}
		var events []string
		rows, err := f.d.Query(f.ctx, "SELECT status, detail FROM notify_status_events WHERE notification_id = ? ORDER BY id", id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s, detail string
			if err := rows.Scan(&s, &detail); err != nil {
				t.Fatal(err)
			}
			events = append(events, s+": "+detail)
		}
		rows.Close()
		if want := []string{"created: ", "cancelled: Cancelled by API key live key before its scheduled time"}; !slices.Equal(events, want) {
			t.Fatalf("events %q, want %q", events, want)
		}
		if job := f.deliveryJob(t, id); job.State != rivertype.JobStateCancelled {
			t.Fatalf("delivery job is %s, want cancelled", job.State)
		}
		g := f.do("GET", "/v2/notifications/"+id, f.a.liveKey, nil)
		if g.body["status"] != "cancelled" {
			t.Fatalf("GET /v2/notifications/%s: %s", id, g.raw)
		}

		// When its time comes, nothing is sent even if the job runs.
		f.clock.Advance(27 * time.Hour)
		email := &recordingEmail{}
		f.deliver(t, email, id)
		if email.calls() != 0 || f.status(t, id) != StatusCancelled {
			t.Fatalf("a cancelled email was delivered: %d calls, status %s", email.calls(), f.status(t, id))
		}

		// An email scheduled alongside and not cancelled is delivered then.
		kept := f.scheduleEmail(t, f.a.liveKey, f.clock.Now().Add(time.Hour))
		f.clock.Advance(2 * time.Hour)
		f.deliver(t, email, kept)
		if email.calls() != 1 || f.status(t, kept) != StatusDelivered {
			t.Fatalf("the scheduled email was not delivered: %d calls, status %s", email.calls(), f.status(t, kept))
		}
	})
}

// Only the owning service's live and team keys may cancel, and only a notification still
// waiting for its time; every refusal says why and changes nothing.
func TestCancelRefusals(t *testing.T) {
	eachDocs(t, func(t *testing.T, f *docFixture) {
		at := f.clock.Now().Add(48 * time.Hour)
		id := f.scheduleEmail(t, f.a.liveKey, at)

		status, body := f.cancel(t, f.b.liveKey, id)
		wantProblem(t, status, body, http.StatusNotFound, "Notification not found")
		status, body = f.cancel(t, f.b.teamKey, id)
		wantProblem(t, status, body, http.StatusNotFound, "Notification not found")
		status, body = f.cancel(t, f.a.liveKey, uuid.NewString())
		wantProblem(t, status, body, http.StatusNotFound, "Notification not found")
		status, body = f.cancel(t, f.a.liveKey, "not-a-uuid")
		wantProblem(t, status, body, http.StatusNotFound, "Notification not found")
		status, body = f.cancel(t, f.a.testKey, id)
		wantProblem(t, status, body, http.StatusForbidden, "Test keys")
		status, body = f.cancel(t, "", id)
		wantProblem(t, status, body, http.StatusUnauthorized, "Authentication failed")
		if got := f.status(t, id); got != StatusCreated {
			t.Fatalf("refused cancels left it %s", got)
		}
		if job := f.deliveryJob(t, id); job.State != rivertype.JobStateScheduled {
			t.Fatalf("refused cancels left its job %s", job.State)
		}

		// The team key of the owning service may cancel.
		status, body = f.cancel(t, f.a.teamKey, id)
		if status != http.StatusOK || body["status"] != "cancelled" {
			t.Fatalf("team key cancel: %d %v", status, body)
		}
		status, body = f.cancel(t, f.a.liveKey, id)
		wantProblem(t, status, body, http.StatusConflict, "already been cancelled")

		now := f.scheduleEmail(t, f.a.liveKey, time.Time{})
		status, body = f.cancel(t, f.a.liveKey, now)
		wantProblem(t, status, body, http.StatusConflict, "it was not scheduled")

		due := f.scheduleEmail(t, f.a.liveKey, f.clock.Now().Add(time.Hour))
		f.clock.Advance(time.Hour + time.Second)
		status, body = f.cancel(t, f.a.liveKey, due)
		wantProblem(t, status, body, http.StatusConflict, "its scheduled time")
		email := &recordingEmail{}
		f.deliver(t, email, due)
		status, body = f.cancel(t, f.a.liveKey, due)
		wantProblem(t, status, body, http.StatusConflict, "it has already been sent (its status is delivered)")
		if email.calls() != 1 || f.status(t, due) != StatusDelivered {
			t.Fatalf("the sent email: %d calls, status %s", email.calls(), f.status(t, due))
		}
	})
}
