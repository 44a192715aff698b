package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
)

// QueueCallbacks is the River queue of callbacks to services, apart from deliveries so that a
// slow service endpoint cannot hold messages up.
const QueueCallbacks = "notify_callbacks"

// callbackAttempts is GOV.UK Notify's first try and 5 retries (notify.md §7).
const callbackAttempts = 6

// CallbackArgs is the job that posts one callback to a service. The body is fixed when the
// job is queued, in the transaction of the change it reports; the URL and bearer token are
// read when it runs, so a service that changes them is called at the new address.
type CallbackArgs struct {
	ServiceID    string          `json:"service_id"`
	CallbackType string          `json:"callback_type"`
	SubjectID    string          `json:"subject_id"` // the notification or received text message
	Payload      json.RawMessage `json:"payload"`
}

// Kind names the job in River's tables.
func (CallbackArgs) Kind() string { return "notify.callback" }

// InsertOpts puts callbacks on their queue with GOV.UK Notify's number of attempts.
func (CallbackArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueCallbacks, MaxAttempts: callbackAttempts}
}

// deliveryCallbackStatuses are the statuses a delivery-status callback reports: the final
// outcomes of emails and text messages (notify.md §7; GOV.UK Notify's callback documentation
// lists these four).
var deliveryCallbackStatuses = map[string]bool{
	StatusDelivered: true, StatusPermanentFailure: true, StatusTemporaryFailure: true, StatusTechnicalFailure: true,
}

// callbackTimestamp formats a time as GOV.UK Notify's callbacks do: UTC, microseconds, "Z".
func callbackTimestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

func callbackTimestampOrNull(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := callbackTimestamp(*t)
	return &s
}

// deliveryStatusBody is the delivery-status callback's body, field for field as §7.
type deliveryStatusBody struct {
	ID               string  `json:"id"`
	Reference        *string `json:"reference"`
	To               string  `json:"to"`
	Status           string  `json:"status"`
	CreatedAt        string  `json:"created_at"`
	CompletedAt      *string `json:"completed_at"`
	SentAt           *string `json:"sent_at"`
	NotificationType string  `json:"notification_type"`
	TemplateID       string  `json:"template_id"`
	TemplateVersion  int     `json:"template_version"`
}

// inboundSMSBody is the received-text-message callback's body, field for field as §7.
type inboundSMSBody struct {
	ID                string `json:"id"`
	SourceNumber      string `json:"source_number"`
	DestinationNumber string `json:"destination_number"`
	Message           string `json:"message"`
	DateReceived      string `json:"date_received"`
}

// complaintBody is the complaint callback's body, field for field as §7.
type complaintBody struct {
	NotificationID string  `json:"notification_id"`
	ComplaintID    string  `json:"complaint_id"`
	Reference      *string `json:"reference"`
	To             string  `json:"to"`
	ComplaintDate  string  `json:"complaint_date"`
}

// returnedLetterBody is the returned-letter callback's body, field for field as §7. The
// nullable fields are null where GOV.UK Notify's are: the template of a precompiled letter
// (a hidden template), the spreadsheet of a letter not sent in bulk, the reference of a
// letter not sent through the API.
type returnedLetterBody struct {
	NotificationID       string  `json:"notification_id"`
	Reference            *string `json:"reference"`
	DateSent             string  `json:"date_sent"`
	SentBy               string  `json:"sent_by"`
	TemplateName         *string `json:"template_name"`
	TemplateID           *string `json:"template_id"`
	TemplateVersion      *int    `json:"template_version"`
	SpreadsheetFileName  *string `json:"spreadsheet_file_name"`
	SpreadsheetRowNumber *int    `json:"spreadsheet_row_number"`
	UploadLetterFileName *string `json:"upload_letter_file_name"`
}

// queueServiceCallback queues a callback of one type about subjectID with body, in the
// transaction of the change it reports, when the service has a callback of that type.
func (d *Delivery) queueServiceCallback(ctx context.Context, tx *db.Tx, serviceID, callbackType, subjectID string, body any) error {
	ok, err := hasCallback(ctx, tx, serviceID, callbackType)
	if err != nil || !ok {
		return err
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return d.insertJob(ctx, tx, CallbackArgs{ServiceID: serviceID, CallbackType: callbackType, SubjectID: subjectID, Payload: payload})
}

// queueDeliveryCallback queues the delivery-status callback for a change, in its transaction,
// when the new status is one the service hears about and the service has a callback.
func (d *Delivery) queueDeliveryCallback(ctx context.Context, tx *db.Tx, r changedRow) error {
	if (r.Type != Email && r.Type != SMS) || !deliveryCallbackStatuses[r.Status] {
		return nil
	}
	ok, err := hasCallback(ctx, tx, r.ServiceID, CallbackDeliveryStatus)
	if err != nil || !ok {
		return err
	}
	body := deliveryStatusBody{
		ID: r.ID, To: r.To, Status: r.Status, CreatedAt: callbackTimestamp(r.CreatedAt),
		CompletedAt: callbackTimestampOrNull(r.UpdatedAt), SentAt: callbackTimestampOrNull(r.SentAt),
		NotificationType: string(r.Type), TemplateID: r.TemplateID, TemplateVersion: r.TemplateVersion,
	}
	if r.Reference != "" {
		body.Reference = &r.Reference
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return d.insertJob(ctx, tx, CallbackArgs{ServiceID: r.ServiceID, CallbackType: CallbackDeliveryStatus, SubjectID: r.ID, Payload: payload})
}

// queueInboundCallback queues the received-text-message callback, in the transaction that
// stored the message, when the service has one.
func (d *Delivery) queueInboundCallback(ctx context.Context, tx *db.Tx, m InboundSMS) error {
	ok, err := hasCallback(ctx, tx, m.ServiceID, CallbackInboundSMS)
	if err != nil || !ok {
		return err
	}
	payload, err := json.Marshal(inboundSMSBody{ID: m.ID, SourceNumber: m.UserNumber, DestinationNumber: m.NotifyNumber,
		Message: m.Content, DateReceived: callbackTimestamp(m.ReceivedAt)})
	if err != nil {
		return err
	}
	return d.insertJob(ctx, tx, CallbackArgs{ServiceID: m.ServiceID, CallbackType: CallbackInboundSMS, SubjectID: m.ID, Payload: payload})
}

// hasCallback reports whether a service has a callback of a type, without opening its token.
func hasCallback(ctx context.Context, q db.Querier, serviceID, callbackType string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM notify_callbacks WHERE service_id = ? AND callback_type = ?`,
		serviceID, callbackType).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("callback for %s: %w", callbackType, err)
	}
	return n > 0, nil
}

// callbackWorker runs CallbackArgs jobs.
type callbackWorker struct {
	river.WorkerDefaults[CallbackArgs]
	d *Delivery
}

// NextRetry waits the configured time between attempts (300 s in production).
func (w *callbackWorker) NextRetry(job *river.Job[CallbackArgs]) time.Time {
	return time.Now().Add(w.d.callbackRetryDelay(job.Attempt))
}

// errCallbackRefused is returned, wrapped in river.JobCancel, for answers GOV.UK Notify does
// not retry.
var errCallbackRefused = errors.New("callback refused")

// Work posts the callback once and records the attempt. A connection error, a timeout, a 5xx
// or a 429 is retried; any other 4xx (or a redirect, which is not followed) is not.
func (w *callbackWorker) Work(ctx context.Context, job *river.Job[CallbackArgs]) error {
	d, a := w.d, job.Args
	cb, ok, err := d.s.CallbackFor(ctx, d.s.db, a.ServiceID, a.CallbackType)
	if err != nil {
		return err
	}
	if !ok {
		return nil // the service has stopped this callback since
	}
	started := time.Now()
	status, postErr := d.postCallback(ctx, cb.URL, cb.BearerToken, a.Payload)
	elapsed := time.Since(started)
	errText := ""
	if postErr != nil {
		errText = postErr.Error()
	}
	var code any
	if status != 0 {
		code = status
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := d.s.db.Exec(bg, `INSERT INTO notify_callback_attempts (id, service_id, callback_type, subject_id,
		attempt, url, status_code, error, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		uuid.NewString(), a.ServiceID, a.CallbackType, a.SubjectID, job.Attempt, cb.URL, code, errText,
		elapsed.Milliseconds(), d.s.now()); err != nil {
		d.s.log.WarnContext(ctx, "notify: could not record a callback attempt", "service_id", a.ServiceID, "error", err)
	}
	switch {
	case postErr != nil:
		return fmt.Errorf("%s callback for %s: %w", a.CallbackType, a.SubjectID, postErr)
	case status >= 500 || status == http.StatusTooManyRequests:
		return fmt.Errorf("%s callback for %s: the service answered %d", a.CallbackType, a.SubjectID, status)
	case status >= 300:
		return river.JobCancel(fmt.Errorf("%w: %s callback for %s: the service answered %d", errCallbackRefused, a.CallbackType, a.SubjectID, status))
	}
	return nil
}

// postCallback makes one callback request and returns the answer's status code.
func (d *Delivery) postCallback(ctx context.Context, url, token string, payload []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, callbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", "Commons-Notify")
	resp, err := d.callbackClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
