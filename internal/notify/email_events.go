package notify

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// What became of an email after the SMTP server took it. The server's acceptance is all
// Commons sees while sending; a bounce or a complaint comes back days later as a message to
// the envelope sender, which the mail system passes on to PathEmailEvents. The Message-ID
// Commons gave the email (<notification id@email domain>) ties the report to its
// notification.

// PathEmailEvents is where the mail system reports bounces, deliveries and complaints.
const PathEmailEvents = "/api/notify/v1/providers/email/events"

// maxEmailReport bounds a report's size. A delivery status notification may quote the
// whole original email, which Notify keeps small (no attachments: files go by link).
const maxEmailReport = 2 << 20

// Kinds of EmailEvent.
const (
	EmailDelivered = "delivered"
	EmailBounce    = "bounce"
	EmailComplaint = "complaint"
)

// EmailEvent is one thing the mail system reports about one email.
type EmailEvent struct {
	// MessageID is the email's Message-ID, with or without angle brackets.
	MessageID string
	// Kind is EmailDelivered, EmailBounce or EmailComplaint.
	Kind string
	// Permanent says whether a bounce is permanent (the address does not exist) rather than
	// temporary (a full mailbox, a server that gave up retrying).
	Permanent bool
	// Detail is what the mail system said, for the message's status history: a delivery
	// status notification's status code and diagnostic, with any email address hidden.
	Detail string
	// ComplaintType is a feedback report's Feedback-Type (abuse, fraud …), if it had one.
	ComplaintType string
	// At is when it happened, when the report says; zero means now.
	At time.Time
}

// MountEmailEvents registers the endpoint the mail system calls, authenticated by
// Authorization: Bearer <secret> (COMMONS_EMAIL_CALLBACK_SECRET); an empty secret refuses
// every request.
//
//	POST /api/notify/v1/providers/email/events
//
// takes either of:
//
//   - Content-Type: message/rfc822 — a report exactly as it arrived at the envelope sender's
//     mailbox, as a mail system's pipe posts it: an RFC 3464 delivery status notification
//     (multipart/report; report-type=delivery-status) or an RFC 5965 complaint
//     (multipart/report; report-type=feedback-report). The email it is about is found by the
//     Message-ID of the original in its message/rfc822 or text/rfc822-headers part.
//   - Content-Type: application/json — {"message_id": "<id@domain>", "event":
//     "delivered"|"bounce"|"complaint", "bounce": "permanent"|"temporary", "timestamp":
//     "<RFC 3339, optional>"}; a bounce without a type is taken as temporary, as GOV.UK
//     Notify takes an undetermined one.
//
// A permanent bounce makes the email permanent-failure and a temporary one
// temporary-failure, while it is sending, pending or delivered (the SMTP server's acceptance
// made it delivered, and a bounce is the later news that it was not); a delivery moves it from
// sending to delivered. Each change records a status event and queues the service's
// delivery-status callback. A complaint is stored once per email and queues the service's
// complaint callback. 204 on success. A report about an email Commons does not know (another
// system's, or one whose retention has passed), or that reports nothing to act on (a delay
// warning), is logged and answered 204 too, so that the mail system does not retry it; 400
// for a body that cannot be read; 401 without the secret.
func (d *Delivery) MountEmailEvents(mux *http.ServeMux, secret string) {
	mux.HandleFunc("POST "+PathEmailEvents, d.emailEventsEndpoint(secret))
}

func (d *Delivery) emailEventsEndpoint(secret string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !bearerMatches(r, secret) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="commons"`)
			web.WriteProblem(w, r, failure.New(failure.Unauthenticated, "A valid email callback secret is required"))
			return
		}
		ev, err := readEmailEvent(w, r)
		if errors.Is(err, ErrNotEmailReport) {
			d.s.log.InfoContext(r.Context(), "notify: ignored an email report", "reason", err.Error())
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if err == nil {
			_, err = d.RecordEmailEvent(r.Context(), ev)
		}
		if err != nil {
			web.WriteProblem(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// bearerMatches compares the request's bearer token with secret in constant time (hashing
// first, so that not even the secret's length leaks). An empty secret matches nothing.
func bearerMatches(r *http.Request, secret string) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if secret == "" || !ok {
		return false
	}
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// readEmailEvent reads the request's report in either of its forms.
func readEmailEvent(w http.ResponseWriter, r *http.Request) (EmailEvent, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mediaType = ""
	}
	body := http.MaxBytesReader(w, r.Body, maxEmailReport)
	switch mediaType {
	case "message/rfc822":
		return ParseEmailReport(body)
	case "application/json":
		return decodeEmailEventJSON(body)
	}
	return EmailEvent{}, failure.New(failure.Invalid, "Content-Type must be message/rfc822 (a delivery status notification or complaint as received) or application/json")
}

// emailEventJSON is the JSON form of a report.
type emailEventJSON struct {
	MessageID string     `json:"message_id"`
	Event     string     `json:"event"`
	Bounce    string     `json:"bounce"`
	Timestamp *time.Time `json:"timestamp"`
}

func decodeEmailEventJSON(r io.Reader) (EmailEvent, error) {
	var in emailEventJSON
	// Unknown fields are tolerated: mail systems add their own.
	if err := json.NewDecoder(r).Decode(&in); err != nil {
		return EmailEvent{}, failure.Wrap(failure.Invalid, err, "The body must be a JSON object of at most %d bytes; timestamp, when given, an RFC 3339 time", maxEmailReport)
	}
	var errs []error
	if strings.TrimSpace(in.MessageID) == "" {
		errs = append(errs, failure.Field("message_id", "message_id is required"))
	}
	ev := EmailEvent{MessageID: in.MessageID, Kind: in.Event}
	switch in.Event {
	case EmailDelivered:
		ev.Detail = "Delivered, the mail system reports"
	case EmailComplaint:
	case EmailBounce:
		switch in.Bounce {
		case "permanent":
			ev.Permanent, ev.Detail = true, "Bounced (permanent), the mail system reports"
		case "temporary", "":
			ev.Detail = "Bounced (temporary), the mail system reports"
		default:
			errs = append(errs, failure.Field("bounce", "bounce must be permanent or temporary"))
		}
	default:
		errs = append(errs, failure.Field("event", "event must be delivered, bounce or complaint"))
	}
	if len(errs) > 0 {
		return EmailEvent{}, errors.Join(errs...)
	}
	if in.Timestamp != nil {
		ev.At = in.Timestamp.UTC()
	}
	return ev, nil
}

// RecordEmailEvent applies what the mail system reported about an email (see
// MountEmailEvents for what each kind does) and reports whether anything changed. A report
// about an email that is not one of Commons' (another domain's Message-ID, an unknown or
// deleted notification, a test key's simulated email) changes nothing and is not an error,
// and so is one that comes too late (a delivery after a bounce, a second complaint).
func (d *Delivery) RecordEmailEvent(ctx context.Context, ev EmailEvent) (bool, error) {
	id, ok := d.ownMessageID(ev.MessageID)
	if !ok {
		d.s.log.InfoContext(ctx, "notify: ignored an email report about a message that is not ours", "kind", ev.Kind)
		return false, nil
	}
	var n struct {
		serviceID, recipient, reference, keyType string
	}
	err := d.s.db.QueryRow(ctx, `SELECT service_id, recipient, COALESCE(client_reference, ''), key_type
		FROM notify_notifications WHERE id = ? AND notification_type = ?`, id, string(Email)).
		Scan(&n.serviceID, &n.recipient, &n.reference, &n.keyType)
	if db.IsNoRows(err) {
		d.s.log.InfoContext(ctx, "notify: ignored an email report about an unknown email", "notification_id", id, "kind", ev.Kind)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("email report: %w", err)
	}
	var changed bool
	err = d.s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		switch ev.Kind {
		case EmailComplaint:
			changed, err = d.recordComplaint(ctx, tx, id, n.serviceID, n.recipient, n.reference, ev)
		case EmailDelivered:
			_, changed, err = d.change(ctx, tx, id, statusChange{from: []string{StatusSending}, to: StatusDelivered,
				detail: emailEventDetail(ev), where: "notification_type = 'email'"})
		case EmailBounce:
			to := StatusTemporaryFailure
			if ev.Permanent {
				to = StatusPermanentFailure
			}
			_, changed, err = d.change(ctx, tx, id, statusChange{
				from: []string{StatusSending, StatusPending, StatusSent, StatusDelivered}, to: to, detail: emailEventDetail(ev),
				where: "notification_type = 'email' AND key_type <> 'test'",
			})
		default:
			return failure.Field("event", "event must be delivered, bounce or complaint")
		}
		return err
	})
	if err != nil {
		return false, err
	}
	if !changed {
		d.s.log.InfoContext(ctx, "notify: an email report changed nothing", "notification_id", id, "kind", ev.Kind)
	}
	return changed, nil
}

// ownMessageID returns the notification id in a Message-ID Commons made, and false for any
// other: one from another domain names another system's email, even when its local part looks
// like an id.
func (d *Delivery) ownMessageID(messageID string) (string, bool) {
	id, ok := NotificationIDFromMessageID(messageID)
	if !ok || !validUUID(id) {
		return "", false
	}
	_, domain, _ := strings.Cut(strings.Trim(strings.TrimSpace(messageID), "<>"), "@")
	if d.emailDomain != "" && !strings.EqualFold(domain, d.emailDomain) {
		return "", false
	}
	return strings.ToLower(id), true
}

func emailEventDetail(ev EmailEvent) string {
	if ev.Detail != "" {
		return ev.Detail
	}
	switch {
	case ev.Kind == EmailDelivered:
		return "Delivered, the mail system reports"
	case ev.Permanent:
		return "Bounced (permanent), the mail system reports"
	}
	return "Bounced (temporary), the mail system reports"
}

// recordComplaint stores a complaint about an email, once, and queues the service's
// complaint callback in the same transaction.
func (d *Delivery) recordComplaint(ctx context.Context, tx *db.Tx, id, serviceID, recipient, reference string, ev EmailEvent) (bool, error) {
	now := d.s.now()
	at := ev.At
	if at.IsZero() {
		at = now
	}
	at = at.UTC().Truncate(time.Microsecond)
	complaintID := uuid.NewString()
	res, err := tx.Exec(ctx, `INSERT INTO notify_complaints (id, service_id, notification_id, complaint_type, complaint_date, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (notification_id) DO NOTHING`,
		complaintID, serviceID, id, ev.ComplaintType, at, now)
	if err != nil {
		return false, fmt.Errorf("store complaint: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	body := complaintBody{NotificationID: id, ComplaintID: complaintID, To: recipient, ComplaintDate: callbackTimestamp(at)}
	if reference != "" {
		body.Reference = &reference
	}
	return true, d.queueServiceCallback(ctx, tx, serviceID, CallbackComplaint, id, body)
}

// Complaint is a recipient's complaint about one of a service's emails.
type Complaint struct {
	ID             string
	ServiceID      string
	NotificationID string
	Type           string // the feedback report's Feedback-Type, if it had one
	ComplaintDate  time.Time
	CreatedAt      time.Time
	// Recipient and Reference are the email's, while it is kept (its retention has not
	// passed); "" after.
	Recipient, Reference string
}

// Complaints returns up to limit of a service's complaints, newest first.
func (s *Service) Complaints(ctx context.Context, serviceID string, limit int) ([]Complaint, error) {
	rows, err := s.db.Query(ctx, `SELECT c.id, c.service_id, c.notification_id, c.complaint_type, c.complaint_date, c.created_at,
		COALESCE(n.recipient, ''), COALESCE(n.client_reference, '')
		FROM notify_complaints c LEFT JOIN notify_notifications n ON n.id = c.notification_id AND n.service_id = c.service_id
		WHERE c.service_id = ? ORDER BY c.created_at DESC, c.id DESC LIMIT ?`, serviceID, limit)
	if err != nil {
		return nil, fmt.Errorf("complaints: %w", err)
	}
	defer rows.Close()
	var out []Complaint
	for rows.Next() {
		var c Complaint
		if err := rows.Scan(&c.ID, &c.ServiceID, &c.NotificationID, &c.Type, &c.ComplaintDate, &c.CreatedAt,
			&c.Recipient, &c.Reference); err != nil {
			return nil, fmt.Errorf("complaints: %w", err)
		}
		c.ComplaintDate, c.CreatedAt = c.ComplaintDate.UTC(), c.CreatedAt.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
