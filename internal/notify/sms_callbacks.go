package notify

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// Paths at which the text message provider reports to Commons.
const (
	PathSMSReceipts = "/api/notify/v1/providers/sms/receipts"
	PathSMSInbound  = "/api/notify/v1/providers/sms/inbound"
)

// MountProviderCallbacks registers the endpoints the text message provider calls, each
// authenticated by Authorization: Bearer <COMMONS_SMS_CALLBACK_SECRET>:
//
//	POST /api/notify/v1/providers/sms/receipts
//	{"id": "<notification id>", "reference": "<provider's reference>", "status": "delivered"}
//
// reports a message's outcome; id or reference names it (id wins when both are given).
// status is one of delivered, permanent-failure, temporary-failure, technical-failure or
// pending. A receipt changes the status only while it can still change (notify.md §4.2);
// later and repeated receipts are accepted and ignored. 204 on success, 404 for an unknown
// message.
//
//	POST /api/notify/v1/providers/sms/inbound
//	{"id": "<provider's message id>", "from": "+447700900123", "to": "<service's number>",
//	 "body": "…", "received_at": "2026-05-17T15:58:38Z"}
//
// delivers a reply to the service whose inbound number is to, which must have the
// inbound_sms permission. It feeds GET /v2/received-text-messages and the service's
// inbound_sms callback. A repeat of an id already received is ignored. received_at defaults
// to now. 204 on success, 404 when no service has that number.
func (d *Delivery) MountProviderCallbacks(mux *http.ServeMux) {
	mux.HandleFunc("POST "+PathSMSReceipts, d.providerEndpoint(d.receiveReceipt))
	mux.HandleFunc("POST "+PathSMSInbound, d.providerEndpoint(d.receiveInbound))
}

// providerEndpoint authenticates the provider, decodes its JSON body (unknown fields are
// tolerated: providers add their own) and maps failures to RFC 9457 problems.
func (d *Delivery) providerEndpoint(handle func(ctx context.Context, body []byte) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !d.providerAuthorised(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="commons"`)
			web.WriteProblem(w, r, failure.New(failure.Unauthenticated, "A valid provider callback secret is required"))
			return
		}
		body, err := readLimited(w, r, 64<<10)
		if err == nil {
			err = handle(r.Context(), body)
		}
		if err != nil {
			web.WriteProblem(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// providerAuthorised compares the bearer token with the shared secret in constant time
// (hashing first, so that not even the secret's length leaks).
func (d *Delivery) providerAuthorised(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if d.smsSecret == "" || !ok {
		return false
	}
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(d.smsSecret))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

func readLimited(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	var raw json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit)).Decode(&raw); err != nil {
		return nil, failure.Wrap(failure.Invalid, err, "The request body must be a JSON object of at most %d bytes", limit)
	}
	return raw, nil
}

// receiptStatuses are the statuses a provider may report.
var receiptStatuses = map[string]bool{
	StatusDelivered: true, StatusPermanentFailure: true, StatusTemporaryFailure: true,
	StatusTechnicalFailure: true, StatusPending: true,
}

// receiptFrom lists the statuses a receipt may change (CanUpdate's set).
var receiptFrom = []string{StatusCreated, StatusSending, StatusPending, StatusSent, StatusPendingVirusCheck}

func (d *Delivery) receiveReceipt(ctx context.Context, body []byte) error {
	var rc struct {
		ID        string `json:"id"`
		Reference string `json:"reference"`
		Status    string `json:"status"`
	}
	if err := json.Unmarshal(body, &rc); err != nil {
		return failure.Wrap(failure.Invalid, err, "The receipt must be a JSON object")
	}
	if !receiptStatuses[rc.Status] {
		return failure.Field("status", "status must be one of delivered, permanent-failure, temporary-failure, technical-failure or pending")
	}
	if rc.ID == "" && rc.Reference == "" {
		return failure.Field("id", "id or reference is required")
	}
	id, err := d.findReceiptSubject(ctx, rc.ID, rc.Reference)
	if err != nil {
		return err
	}
	from := receiptFrom
	if rc.Status == StatusPending {
		from = []string{StatusSending}
	}
	return d.s.db.InTx(ctx, func(tx *db.Tx) error {
		_, _, err := d.change(ctx, tx, id, statusChange{
			from: from, to: rc.Status, detail: fmt.Sprintf("Receipt from %s: %s", d.sms.Name(), rc.Status),
			where: "notification_type = 'sms'",
		})
		return err
	})
}

// findReceiptSubject finds the text message a receipt is about.
func (d *Delivery) findReceiptSubject(ctx context.Context, id, reference string) (string, error) {
	var found string
	var err error
	if id != "" {
		if _, perr := uuid.Parse(id); perr != nil {
			return "", failure.Field("id", "id must be a notification id")
		}
		err = d.s.db.QueryRow(ctx, `SELECT id FROM notify_notifications WHERE id = ? AND notification_type = 'sms'`, id).Scan(&found)
	} else {
		err = d.s.db.QueryRow(ctx, `SELECT id FROM notify_notifications WHERE provider_reference = ? AND notification_type = 'sms'
			ORDER BY created_at DESC LIMIT 1`, reference).Scan(&found)
	}
	if db.IsNoRows(err) {
		return "", failure.New(failure.NotFound, "No text message with that id or reference")
	}
	return found, err
}

// InboundSMS is one text message a service received.
type InboundSMS struct {
	ID                string
	ServiceID         string
	UserNumber        string // the sender, international digits without + (447700900123)
	NotifyNumber      string // the service's inbound number, as configured
	Content           string
	ProviderReference string
	ReceivedAt        time.Time // as the provider reports it
	CreatedAt         time.Time
}

func (d *Delivery) receiveInbound(ctx context.Context, body []byte) error {
	var in struct {
		ID         string     `json:"id"`
		From       string     `json:"from"`
		To         string     `json:"to"`
		Body       string     `json:"body"`
		ReceivedAt *time.Time `json:"received_at"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return failure.Wrap(failure.Invalid, err, "The message must be a JSON object; received_at, when given, an RFC 3339 time")
	}
	var errs []error
	if inboundNumber(in.From) == "" {
		errs = append(errs, failure.Field("from", "from must be the sender's phone number"))
	}
	if inboundNumber(in.To) == "" {
		errs = append(errs, failure.Field("to", "to must be the service's inbound number"))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	m := InboundSMS{ID: uuid.NewString(), UserNumber: inboundNumber(in.From), Content: in.Body,
		ProviderReference: in.ID, CreatedAt: d.s.now(), ReceivedAt: d.s.now()}
	if in.ReceivedAt != nil {
		m.ReceivedAt = in.ReceivedAt.UTC().Truncate(time.Microsecond)
	}
	var err error
	if m.ServiceID, m.NotifyNumber, err = d.inboundService(ctx, in.To); err != nil {
		return err
	}
	svc, err := d.s.cfg.Platform.Service(ctx, m.ServiceID)
	if err != nil {
		return err
	}
	if svc.Archived || !svc.Can(platform.ServiceInboundSMS) {
		// As GOV.UK Notify does, a message for a service that may not receive them is
		// accepted from the provider and dropped.
		d.s.log.WarnContext(ctx, "notify: dropped a received text message: the service may not receive them", "service_id", m.ServiceID)
		return nil
	}
	return d.s.db.InTx(ctx, func(tx *db.Tx) error {
		var ref any
		if m.ProviderReference != "" {
			ref = m.ProviderReference
		}
		res, err := tx.Exec(ctx, `INSERT INTO notify_inbound_sms (id, service_id, user_number, notify_number, content,
			provider_reference, provider_date, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			m.ID, m.ServiceID, m.UserNumber, m.NotifyNumber, m.Content, ref, m.ReceivedAt, m.CreatedAt)
		if err != nil {
			return fmt.Errorf("store received text message: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // a repeat of a message already received
		}
		return d.queueInboundCallback(ctx, tx, m)
	})
}

// inboundService finds the service whose inbound number is to.
func (d *Delivery) inboundService(ctx context.Context, to string) (serviceID, number string, err error) {
	want := inboundNumber(to)
	rows, err := d.s.db.Query(ctx, `SELECT service_id, sms_sender FROM notify_sms_senders
		WHERE inbound AND NOT archived ORDER BY created_at, id`)
	if err != nil {
		return "", "", fmt.Errorf("inbound numbers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&serviceID, &number); err != nil {
			return "", "", err
		}
		if inboundNumber(number) == want {
			return serviceID, number, nil
		}
	}
	if err := rows.Err(); err != nil {
		return "", "", err
	}
	return "", "", failure.New(failure.NotFound, "No service has the inbound number %s", to)
}

// inboundNumber puts a phone number in international digits without + for matching: 07700
// 900123, +44 7700 900123 and 00447700900123 are all 447700900123. Anything without digits
// is "".
func inboundNumber(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	digits := b.String()
	switch {
	case strings.HasPrefix(digits, "00"):
		return digits[2:]
	case strings.HasPrefix(digits, "0"):
		return "44" + digits[1:]
	}
	return digits
}
