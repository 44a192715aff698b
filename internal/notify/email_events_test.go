package notify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/failure"
)

// crlf writes a message as it travels: lines end CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// bounceReport is a delivery status notification as Postfix writes one, about the email
// whose Message-ID is messageID, with one recipient block and the original's headers.
func bounceReport(messageID, action, status string) string {
	return crlf(`Return-Path: <>
From: MAILER-DAEMON@mx.example.gov.uk (Mail Delivery System)
To: bounces@notify.example.gov.uk
Subject: Undelivered Mail Returned to Sender
Date: Thu, 12 Jun 2025 15:31:00 +0100 (BST)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="B0UND.1749738660/mx.example.gov.uk"
Message-Id: <20250612143100.4F2A1@mx.example.gov.uk>

This is a MIME-encapsulated message.

--B0UND.1749738660/mx.example.gov.uk
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--B0UND.1749738660/mx.example.gov.uk
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.gov.uk
X-Postfix-Queue-ID: 4F2A1
Arrival-Date: Thu, 12 Jun 2025 15:30:58 +0100 (BST)

Final-Recipient: rfc822; jo@example.com
Original-Recipient: rfc822;jo@example.com
Action: ` + action + `
Status: ` + status + `
Remote-MTA: dns; mail.example.com
Diagnostic-Code: smtp; 550 5.1.1 <jo@example.com>: Recipient address rejected:
    User unknown in local recipient table

--B0UND.1749738660/mx.example.gov.uk
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Received: from commons (commons.example.gov.uk [192.0.2.1])
	by mx.example.gov.uk (Postfix) with ESMTPS id 4F2A1
Message-ID: <` + messageID + `>
From: "Apply for a Licence" <apply.for.a.licence@notify.example.gov.uk>
To: jo@example.com
Subject: Your licence

--B0UND.1749738660/mx.example.gov.uk--
`)
}

// complaintReport is an RFC 5965 feedback report quoting the whole original email.
func complaintReport(messageID, feedbackType string) string {
	return crlf(`From: <feedback@mailbox.example.com>
To: <abuse@notify.example.gov.uk>
Subject: Complaint about a message from notify.example.gov.uk
Date: Thu, 12 Jun 2025 17:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="part1_13d.2e68ed54"

--part1_13d.2e68ed54
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP 192.0.2.1.

--part1_13d.2e68ed54
Content-Type: message/feedback-report

Feedback-Type: ` + feedbackType + `
User-Agent: MailboxFeedback/1.0
Version: 1
Original-Mail-From: <bounces@notify.example.gov.uk>
Arrival-Date: Thu, 12 Jun 2025 16:45:10 +0000

--part1_13d.2e68ed54
Content-Type: message/rfc822
Content-Disposition: inline

From: "Apply for a Licence" <apply.for.a.licence@notify.example.gov.uk>
To: jo@example.com
Subject: Your licence
Message-ID: <` + messageID + `>
Content-Type: text/plain

Hello Jo

--part1_13d.2e68ed54--
`)
}

func TestParseEmailReport(t *testing.T) {
	const id = "7d4a5b0c-2b1e-4c47-9a0e-3f1f7a0d9c11@notify.example.gov.uk"
	permanent, err := ParseEmailReport(strings.NewReader(bounceReport(id, "failed", "5.1.1")))
	if err != nil {
		t.Fatal(err)
	}
	if permanent.MessageID != id || permanent.Kind != EmailBounce || !permanent.Permanent ||
		permanent.Detail != "Bounced (permanent), the mail system reports: 5.1.1 smtp; 550 5.1.1 <[address]>: Recipient address rejected: User unknown in local recipient table" {
		t.Errorf("permanent bounce: %+v", permanent)
	}
	temporary, err := ParseEmailReport(strings.NewReader(bounceReport(id, "failed", "4.2.2 (mailbox full)")))
	if err != nil || temporary.Kind != EmailBounce || temporary.Permanent || !strings.HasPrefix(temporary.Detail, "Bounced (temporary), the mail system reports: 4.2.2 smtp;") {
		t.Errorf("temporary bounce: %+v %v", temporary, err)
	}
	delivered, err := ParseEmailReport(strings.NewReader(bounceReport(id, "delivered", "2.0.0")))
	if err != nil || delivered.Kind != EmailDelivered || delivered.MessageID != id {
		t.Errorf("delivery report: %+v %v", delivered, err)
	}
	for _, action := range []string{"delayed", "relayed"} {
		if _, err := ParseEmailReport(strings.NewReader(bounceReport(id, action, "4.4.1"))); !errors.Is(err, ErrNotEmailReport) {
			t.Errorf("%s: %v, want ErrNotEmailReport", action, err)
		}
	}

	complaint, err := ParseEmailReport(strings.NewReader(complaintReport(id, "abuse")))
	if err != nil || complaint.Kind != EmailComplaint || complaint.MessageID != id || complaint.ComplaintType != "abuse" ||
		!complaint.At.Equal(time.Date(2025, 6, 12, 16, 45, 10, 0, time.UTC)) {
		t.Errorf("complaint: %+v %v", complaint, err)
	}
	if _, err := ParseEmailReport(strings.NewReader(complaintReport(id, "not-spam"))); !errors.Is(err, ErrNotEmailReport) {
		t.Errorf("not-spam: %v, want ErrNotEmailReport", err)
	}

	// The original whole and base64-encoded, the report inside a forwarding system's
	// multipart/mixed, and the Message-ID only in In-Reply-To.
	original := base64.StdEncoding.EncodeToString([]byte(crlf("Message-ID: <" + id + ">\nSubject: Your licence\n\nHello\n")))
	wrapped := crlf(`From: postmaster@example.com
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/report; report-type=delivery-status; boundary="inner"

--inner
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; jo@example.com
Action: failed
Status: 5.0.0

--inner
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

` + original + `
--inner--

--outer--
`)
	if _, err := ParseEmailReport(strings.NewReader(wrapped)); !errors.Is(err, ErrNotEmailReport) {
		t.Errorf("a multipart/mixed message is not itself a report: %v", err)
	}
	nested := strings.Replace(wrapped, "multipart/mixed", "multipart/report; report-type=delivery-status", 1)
	if ev, err := ParseEmailReport(strings.NewReader(nested)); err != nil || ev.MessageID != id || !ev.Permanent {
		t.Errorf("nested, base64 original: %+v %v", ev, err)
	}
	headerOnly := crlf(`From: postmaster@example.com
In-Reply-To: <` + id + `>
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; jo@example.com
Action: failed
Status: 5.1.1

--b--
`)
	if ev, err := ParseEmailReport(strings.NewReader(headerOnly)); err != nil || ev.MessageID != id {
		t.Errorf("In-Reply-To: %+v %v", ev, err)
	}
	noID := strings.Replace(headerOnly, "In-Reply-To: <"+id+">\r\n", "", 1)
	if _, err := ParseEmailReport(strings.NewReader(noID)); !errors.Is(err, ErrNotEmailReport) {
		t.Errorf("no Message-ID anywhere: %v, want ErrNotEmailReport", err)
	}
	plain := crlf("From: postmaster@example.com\nSubject: failure notice\n\nHi. This is the qmail-send program.\n")
	if _, err := ParseEmailReport(strings.NewReader(plain)); !errors.Is(err, ErrNotEmailReport) {
		t.Errorf("a plain-text bounce: %v, want ErrNotEmailReport", err)
	}
	if _, err := ParseEmailReport(strings.NewReader("not an email")); !failure.Is(err, failure.Invalid) {
		t.Errorf("not a message: %v, want Invalid", err)
	}
	broken := strings.Replace(bounceReport(id, "failed", "5.1.1"), "--B0UND.1749738660/mx.example.gov.uk--", "", 1)
	if _, err := ParseEmailReport(strings.NewReader(broken)); !failure.Is(err, failure.Invalid) {
		t.Errorf("a report cut short: %v, want Invalid", err)
	}
}

const emailEventsSecret = "mail-system-secret-123"

// emailEventCall posts a report to the endpoint.
func emailEventCall(t *testing.T, mux *http.ServeMux, secret, contentType, body string) int {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, PathEmailEvents, strings.NewReader(body))
	if secret != "" {
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	r.Header.Set("Content-Type", contentType)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w.Code
}

// Bounces and deliveries move emails on through the endpoint, with their status events and
// delivery-status callbacks; complaints are stored once and call the service back; what is
// not Commons' own is accepted and ignored; the secret is required.
func TestEmailEvents(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newDeliveryEnv(t, d, deliveryEnvOptions{cfg: DeliveryConfig{Email: &recordingEmail{}, SMS: &recordingSMS{}}})
		for _, typ := range []string{CallbackDeliveryStatus, CallbackComplaint} {
			if err := e.svc.SetCallback(ctx, Callback{ServiceID: e.serviceID, Type: typ,
				URL: "https://service.example/" + typ, BearerToken: "service-token-1"}); err != nil {
				t.Fatal(err)
			}
		}
		mux := http.NewServeMux()
		e.d.MountEmailEvents(mux, emailEventsSecret)
		unconfigured := http.NewServeMux()
		e.d.MountEmailEvents(unconfigured, "")
		msgID := func(n Notification) string { return MessageID(n.ID, "notify.example.gov.uk") }
		// sent is an email the SMTP server has taken: delivered, as far as Commons knows.
		sent := func() Notification {
			n := e.store(t, e.notification(Email, "jo@example.com"))
			if err := e.work(t, n, 1, 25); err != nil {
				t.Fatal(err)
			}
			if st := e.state(t, n.ID); st.Status != StatusDelivered {
				t.Fatalf("after sending: %+v", st)
			}
			return n
		}
		sending := func() Notification {
			n := e.notification(Email, "sam@example.com")
			n.Status = StatusSending
			return e.store(t, n)
		}

		bounced := sent()
		for _, secret := range []string{"", "wrong", emailEventsSecret + "x"} {
			if code := emailEventCall(t, mux, secret, "message/rfc822", bounceReport(msgID(bounced), "failed", "5.1.1")); code != http.StatusUnauthorized {
				t.Errorf("secret %q: %d, want 401", secret, code)
			}
		}
		if code := emailEventCall(t, unconfigured, emailEventsSecret, "message/rfc822", bounceReport(msgID(bounced), "failed", "5.1.1")); code != http.StatusUnauthorized {
			t.Errorf("no secret configured: %d, want 401", code)
		}
		if st := e.state(t, bounced.ID); st.Status != StatusDelivered {
			t.Fatalf("an unauthenticated report changed the status to %s", st.Status)
		}
		for range 2 { // the mail system repeats itself
			if code := emailEventCall(t, mux, emailEventsSecret, "message/rfc822", bounceReport("<"+msgID(bounced)+">", "failed", "5.1.1")); code != http.StatusNoContent {
				t.Fatalf("bounce: %d", code)
			}
		}
		if st := e.state(t, bounced.ID); st.Status != StatusPermanentFailure {
			t.Errorf("after a permanent bounce: %s", st.Status)
		}
		events := e.events(t, bounced.ID)
		if len(events) != 4 || !strings.HasPrefix(events[3], "permanent-failure: Bounced (permanent), the mail system reports: 5.1.1 smtp; 550 5.1.1 <[address]>") {
			t.Errorf("events = %q", events)
		}

		soft := sending()
		if code := emailEventCall(t, mux, emailEventsSecret, "application/json; charset=utf-8",
			`{"message_id":"`+msgID(soft)+`","event":"bounce","bounce":"temporary","provider":"x"}`); code != http.StatusNoContent {
			t.Fatalf("JSON bounce: %d", code)
		}
		// A delivery after a failure is too late.
		if code := emailEventCall(t, mux, emailEventsSecret, "application/json", `{"message_id":"`+msgID(soft)+`","event":"delivered"}`); code != http.StatusNoContent {
			t.Fatalf("late delivery: %d", code)
		}
		if st := e.state(t, soft.ID); st.Status != StatusTemporaryFailure {
			t.Errorf("after a temporary bounce and a late delivery: %s", st.Status)
		}
		arrived := sending()
		if code := emailEventCall(t, mux, emailEventsSecret, "application/json", `{"message_id":"<`+msgID(arrived)+`>","event":"delivered"}`); code != http.StatusNoContent {
			t.Fatalf("delivery: %d", code)
		}
		if st := e.state(t, arrived.ID); st.Status != StatusDelivered {
			t.Errorf("after a delivery: %s", st.Status)
		}

		// Test-key emails were never sent; text messages and letters have no Message-ID.
		testKey := e.notification(Email, "jo@example.com")
		testKey.KeyType, testKey.Status = apiauth.Test, StatusDelivered
		e.store(t, testKey)
		sms := e.notification(SMS, "447700900123")
		sms.Status = StatusSending
		e.store(t, sms)
		for _, n := range []Notification{testKey, sms} {
			if code := emailEventCall(t, mux, emailEventsSecret, "application/json", `{"message_id":"`+msgID(n)+`","event":"bounce","bounce":"permanent"}`); code != http.StatusNoContent {
				t.Errorf("%s: %d, want 204", n.Type, code)
			}
		}
		if a, b := e.state(t, testKey.ID).Status, e.state(t, sms.ID).Status; a != StatusDelivered || b != StatusSending {
			t.Errorf("a bounce moved a test-key email (%s) or a text message (%s)", a, b)
		}
		// Reports about emails Commons does not know are accepted and ignored.
		for _, other := range []string{
			MessageID(uuid.NewString(), "notify.example.gov.uk"), // deleted, or never ours
			MessageID(arrived.ID, "elsewhere.example.com"),       // another system's
			"20250612143100.4F2A1@mx.example.gov.uk",
		} {
			if code := emailEventCall(t, mux, emailEventsSecret, "message/rfc822", bounceReport(other, "failed", "5.1.1")); code != http.StatusNoContent {
				t.Errorf("%s: %d, want 204", other, code)
			}
		}
		if code := emailEventCall(t, mux, emailEventsSecret, "message/rfc822", bounceReport(msgID(arrived), "delayed", "4.4.1")); code != http.StatusNoContent {
			t.Errorf("a delay warning: %d, want 204", code)
		}
		if st := e.state(t, arrived.ID); st.Status != StatusDelivered {
			t.Errorf("a report about another email moved this one to %s", st.Status)
		}

		for _, c := range []struct{ contentType, body string }{
			{"text/plain", bounceReport(msgID(arrived), "failed", "5.1.1")},
			{"application/json", `{"event":"bounce"}`},
			{"application/json", `{"message_id":"` + msgID(arrived) + `","event":"opened"}`},
			{"application/json", `{"message_id":"` + msgID(arrived) + `","event":"bounce","bounce":"soft"}`},
			{"application/json", `not json`},
			{"message/rfc822", "not an email"},
		} {
			if code := emailEventCall(t, mux, emailEventsSecret, c.contentType, c.body); code != http.StatusBadRequest {
				t.Errorf("%s %q: %d, want 400", c.contentType, c.body, code)
			}
		}

		// Complaints: stored once, whether reported raw or as JSON, each calling back once.
		complained := sent()
		for range 2 {
			if code := emailEventCall(t, mux, emailEventsSecret, "message/rfc822", complaintReport(msgID(complained), "abuse")); code != http.StatusNoContent {
				t.Fatalf("complaint: %d", code)
			}
		}
		if code := emailEventCall(t, mux, emailEventsSecret, "application/json", `{"message_id":"`+msgID(complained)+`","event":"complaint"}`); code != http.StatusNoContent {
			t.Fatalf("JSON complaint: %d", code)
		}
		again := sent()
		if code := emailEventCall(t, mux, emailEventsSecret, "application/json",
			`{"message_id":"`+msgID(again)+`","event":"complaint","timestamp":"2025-06-13T09:00:00.5Z"}`); code != http.StatusNoContent {
			t.Fatalf("JSON complaint: %d", code)
		}
		if st := e.state(t, complained.ID); st.Status != StatusDelivered {
			t.Errorf("a complaint changed the status to %s", st.Status)
		}
		complaints, err := e.svc.Complaints(ctx, e.serviceID, 10)
		if err != nil {
			t.Fatal(err)
		}
		byEmail := map[string]Complaint{}
		for _, c := range complaints {
			byEmail[c.NotificationID] = c
		}
		if c := byEmail[complained.ID]; len(complaints) != 2 || c.Type != "abuse" || c.Recipient != "jo@example.com" ||
			c.Reference != "ref-1" || !c.ComplaintDate.Equal(time.Date(2025, 6, 12, 16, 45, 10, 0, time.UTC)) ||
			byEmail[again.ID].ID == "" {
			t.Errorf("complaints = %+v", complaints)
		}
		if other, err := e.svc.Complaints(ctx, uuid.NewString(), 10); err != nil || len(other) != 0 {
			t.Errorf("another service's complaints: %v %v", other, err)
		}

		var statusCallbacks []string
		var complaintBodies []map[string]any
		for _, job := range e.callbackJobs(t) {
			var body map[string]any
			if err := json.Unmarshal(job.Payload, &body); err != nil {
				t.Fatal(err)
			}
			switch job.CallbackType {
			case CallbackDeliveryStatus:
				statusCallbacks = append(statusCallbacks, job.SubjectID+" "+body["status"].(string))
			case CallbackComplaint:
				if job.SubjectID != body["notification_id"] {
					t.Errorf("complaint callback about %s has body %v", job.SubjectID, body)
				}
				complaintBodies = append(complaintBodies, body)
			}
		}
		want := map[string]bool{bounced.ID + " " + StatusPermanentFailure: true, soft.ID + " " + StatusTemporaryFailure: true,
			arrived.ID + " " + StatusDelivered: true}
		found := 0
		for _, c := range statusCallbacks {
			if want[c] {
				found++
			}
		}
		if found != len(want) {
			t.Errorf("delivery-status callbacks %q lack some of %v", statusCallbacks, want)
		}
		if len(complaintBodies) != 2 {
			t.Fatalf("%d complaint callbacks, want 2", len(complaintBodies))
		}
		first := complaintBodies[0]
		if len(first) != 5 || first["notification_id"] != complained.ID || first["complaint_id"] != byEmail[complained.ID].ID ||
			first["reference"] != "ref-1" || first["to"] != "jo@example.com" || first["complaint_date"] != "2025-06-12T16:45:10.000000Z" {
			t.Errorf("complaint callback body %v", first)
		}
		if second := complaintBodies[1]; second["complaint_date"] != "2025-06-13T09:00:00.500000Z" {
			t.Errorf("complaint callback body %v", second)
		}
	})
}

// A complaint's callback reaches the service with the bearer token, and the attempt is
// recorded like any other callback's.
func TestComplaintCallbackDelivered(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		endpoint := &serviceEndpoint{}
		srv := httptest.NewTLSServer(endpoint)
		defer srv.Close()
		e := newDeliveryEnv(t, d, deliveryEnvOptions{work: true, cfg: DeliveryConfig{Email: &recordingEmail{}, SMS: &recordingSMS{},
			CallbackClient: srv.Client()}})
		if err := e.svc.SetCallback(ctx, Callback{ServiceID: e.serviceID, Type: CallbackComplaint,
			URL: srv.URL + "/complaints", BearerToken: "service-token-1"}); err != nil {
			t.Fatal(err)
		}
		n := e.notification(Email, "jo@example.com")
		n.Status = StatusDelivered
		e.store(t, n)
		changed, err := e.d.RecordEmailEvent(ctx, EmailEvent{MessageID: MessageID(n.ID, "notify.example.gov.uk"), Kind: EmailComplaint})
		if err != nil || !changed {
			t.Fatalf("complaint: %v %v", changed, err)
		}
		deliveryWaitFor(t, 30*time.Second, "the complaint callback", func() bool { return len(endpoint.received()) == 1 })
		got := endpoint.received()[0]
		if got.Auth != "Bearer service-token-1" || got.ContentType != "application/json" || got.Body["notification_id"] != n.ID ||
			got.Body["to"] != "jo@example.com" || !callbackTimeFormat.MatchString(got.Body["complaint_date"].(string)) {
			t.Errorf("callback %+v", got)
		}
		deliveryWaitFor(t, 30*time.Second, "the attempt's record", func() bool {
			return e.count(t, `SELECT count(*) FROM notify_callback_attempts WHERE callback_type = ? AND subject_id = ? AND status_code = 200`,
				CallbackComplaint, n.ID) == 1
		})
	})
}
