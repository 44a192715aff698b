package pay

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	neturl "net/url"
	"syscall"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
)

// Delivering webhook messages (pay.md §9): one POST of the message's JSON, signed with the
// webhook's secret in Pay-Signature; any 2xx is success. Anything else is tried again after
// 60 s, 5 min, 1 h, 1 day and 2 days, then given up. Each attempt is recorded for the service
// to see, and a message that may no longer be sent (its webhook switched off, or its URL now
// against the rules) is recorded as WILL_NOT_SEND.

// QueuePayWebhooks is the River queue of webhook deliveries, apart from captures so that slow
// service endpoints cannot hold money up.
const QueuePayWebhooks = "pay_webhooks"

// DefaultWebhookWorkers is how many webhook messages one node sends at once.
const DefaultWebhookWorkers = 20

// WebhookTimeout bounds one delivery attempt.
const WebhookTimeout = 3 * time.Second

// WebhookRetention is how long messages and their attempts are kept.
const WebhookRetention = 7 * 24 * time.Hour

// webhookRetryDelays are the waits after the first, second, … failed attempt; one attempt more
// than there are delays is made in all.
var webhookRetryDelays = []time.Duration{time.Minute, 5 * time.Minute, time.Hour, 24 * time.Hour, 48 * time.Hour}

// webhookMaxAttempts is the first try and one after each delay.
var webhookMaxAttempts = len(webhookRetryDelays) + 1

// webhookRetryDelay is the wait after failed attempt n (1-based).
func webhookRetryDelay(attempt int) time.Duration {
	i := min(max(attempt, 1), len(webhookRetryDelays)) - 1
	return webhookRetryDelays[i]
}

// WebhookSendArgs is the job that delivers one webhook message.
type WebhookSendArgs struct {
	MessageID string `json:"message_id"`
}

// Kind names the job in River's tables.
func (WebhookSendArgs) Kind() string { return "pay.webhook_send" }

// InsertOpts puts deliveries on their queue with the schedule's number of attempts.
func (WebhookSendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePayWebhooks, MaxAttempts: webhookMaxAttempts}
}

type webhookSendWorker struct {
	river.WorkerDefaults[WebhookSendArgs]
	s *Service
}

// NextRetry follows GOV.UK Pay's schedule rather than River's backoff.
func (w *webhookSendWorker) NextRetry(job *river.Job[WebhookSendArgs]) time.Time {
	return w.s.Now().Add(webhookRetryDelay(job.Attempt))
}

// Timeout leaves room for the request and for recording it.
func (w *webhookSendWorker) Timeout(*river.Job[WebhookSendArgs]) time.Duration {
	return WebhookTimeout + 30*time.Second
}

func (w *webhookSendWorker) Work(ctx context.Context, job *river.Job[WebhookSendArgs]) error {
	return w.s.deliverWebhookMessage(ctx, job.Args.MessageID, job.Attempt, job.MaxAttempts)
}

// webhookPayload is the body of a message, field for field as pay.md §9.
type webhookPayload struct {
	WebhookMessageID string          `json:"webhook_message_id"`
	APIVersion       int             `json:"api_version"`
	CreatedDate      string          `json:"created_date"`
	ResourceID       string          `json:"resource_id"`
	ResourceType     string          `json:"resource_type"`
	EventType        string          `json:"event_type"`
	Resource         webhookResource `json:"resource"`
}

// webhookResource is the payment object of GET /v1/payments/{id}, less what GOV.UK Pay's
// webhooks leave out: the links, the PSP's id, the deprecated top-level card brand and the
// agreement fields. The shallower fields hide the embedded ones of the same JSON name, and
// being empty are omitted.
type webhookResource struct {
	wirePayment
	Links                any    `json:"_links,omitempty"`
	ProviderID           string `json:"provider_id,omitempty"`
	CardBrand            string `json:"card_brand,omitempty"`
	AuthorisationMode    string `json:"authorisation_mode,omitempty"`
	AgreementID          string `json:"agreement_id,omitempty"`
	AgreementPaymentType string `json:"agreement_payment_type,omitempty"`
}

// webhookSignature is the Pay-Signature of a body: lower-case hex HMAC-SHA256 keyed with the
// signing secret.
func webhookSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// webhookQueuedMessage is a message with what sending it needs of its webhook.
type webhookQueuedMessage struct {
	ID, WebhookID, ServiceID, EventType, ResourceID string
	EventAt                                         time.Time
	Body                                            []byte
	Status                                          string
	URL, WebhookStatus, SealedSecret                string
	Live                                            bool
}

// deliverWebhookMessage makes attempt n of maxAttempts at a message. It returns an error only
// when River should run the job again: a failed POST before the last attempt, or a fault of
// ours.
func (s *Service) deliverWebhookMessage(ctx context.Context, messageID string, attempt, maxAttempts int) error {
	var m webhookQueuedMessage
	var body sql.NullString
	err := s.db.QueryRow(ctx, `SELECT m.id, m.webhook_id, m.service_id, m.event_type, m.resource_id, m.event_at, m.body, m.status,
		w.callback_url, w.status, w.sealed_secret, w.live
		FROM pay_webhook_messages m JOIN pay_webhooks w ON w.id = m.webhook_id AND w.service_id = m.service_id
		WHERE m.id = ?`, messageID).Scan(&m.ID, &m.WebhookID, &m.ServiceID, &m.EventType, &m.ResourceID, &m.EventAt, &body,
		&m.Status, &m.URL, &m.WebhookStatus, &m.SealedSecret, &m.Live)
	switch {
	case db.IsNoRows(err):
		return nil // deleted after the retention period
	case err != nil:
		return fmt.Errorf("pay: read webhook message %s: %w", messageID, err)
	case m.Status == MessageSuccessful || m.Status == MessageWillNotSend:
		return nil // a run whose outcome was recorded but not reported to River
	}
	if body.Valid {
		m.Body = []byte(body.String)
	}
	if m.WebhookStatus != WebhookActive {
		return s.recordWebhookAttempt(ctx, m, attempt, MessageWillNotSend, 0, "The webhook is inactive", 0, nil)
	}
	if err := s.checkCallbackURL(m.URL, m.Live); err != nil {
		return s.recordWebhookAttempt(ctx, m, attempt, MessageWillNotSend, 0, "Violates security rules", 0, nil)
	}
	secret, err := s.openWebhookSecret(m.ServiceID, m.WebhookID, m.SealedSecret)
	if err != nil {
		return err
	}
	if m.Body == nil {
		if m.Body, err = s.fixWebhookBody(ctx, m); err != nil {
			return err
		}
	}
	started := time.Now()
	status, postErr := s.postWebhook(ctx, m.URL, secret, m.Body)
	elapsed := time.Since(started)
	if postErr == nil && status >= 200 && status < 300 {
		return s.recordWebhookAttempt(ctx, m, attempt, MessageSuccessful, status, "", elapsed, nil)
	}
	// The URL is left out of the error: its query may hold a token of the service's, and
	// River keeps job errors.
	var urlErr *neturl.Error
	if errors.As(postErr, &urlErr) {
		postErr = urlErr.Err
	}
	errText := ""
	if postErr != nil {
		errText = postErr.Error()
	} else {
		postErr = fmt.Errorf("the service answered %d", status)
	}
	var next *time.Time
	if attempt < maxAttempts {
		t := s.now().Add(webhookRetryDelay(attempt))
		next = &t
	}
	if err := s.recordWebhookAttempt(ctx, m, attempt, MessageFailed, status, errText, elapsed, next); err != nil {
		return err
	}
	if next == nil {
		s.log.WarnContext(ctx, "pay: webhook message abandoned after its last attempt", "service_id", m.ServiceID,
			"webhook_id", m.WebhookID, "message_id", m.ID)
		return nil
	}
	return fmt.Errorf("pay: webhook message %s attempt %d: %w", m.ID, attempt, postErr)
}

// fixWebhookBody builds a message's body from the payment as it stands and keeps it, so that
// every retry sends the same bytes.
func (s *Service) fixWebhookBody(ctx context.Context, m webhookQueuedMessage) ([]byte, error) {
	p, err := s.Payment(ctx, m.ServiceID, m.ResourceID)
	if err != nil {
		return nil, fmt.Errorf("pay: read payment %s for webhook message %s: %w", m.ResourceID, m.ID, err)
	}
	body, err := json.Marshal(webhookPayload{
		WebhookMessageID: m.ID, APIVersion: 1, CreatedDate: apiTime(m.EventAt), ResourceID: m.ResourceID,
		ResourceType: "payment", EventType: m.EventType, Resource: webhookResource{wirePayment: s.paymentBody(p)},
	})
	if err != nil {
		return nil, fmt.Errorf("pay: webhook message %s: %w", m.ID, err)
	}
	if _, err := s.db.Exec(ctx, `UPDATE pay_webhook_messages SET body = ? WHERE id = ?`, string(body), m.ID); err != nil {
		return nil, fmt.Errorf("pay: keep webhook message %s: %w", m.ID, err)
	}
	return body, nil
}

// recordWebhookAttempt writes an attempt and the message's new status together. A recording
// that fails is returned, so that River runs the job again rather than losing the outcome.
func (s *Service) recordWebhookAttempt(ctx context.Context, m webhookQueuedMessage, attempt int, result string, status int,
	errText string, elapsed time.Duration, next *time.Time) error {
	now := s.now()
	var code any
	if status != 0 {
		code = status
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO pay_webhook_attempts (id, message_id, webhook_id, service_id, attempt, result,
			status_code, error, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			NewID(), m.ID, m.WebhookID, m.ServiceID, attempt, result, code, errText, elapsed.Milliseconds(), now); err != nil {
			return err
		}
		var nextAt any
		if next != nil {
			nextAt = *next
		}
		_, err := tx.Exec(ctx, `UPDATE pay_webhook_messages SET status = ?, attempts = attempts + 1, last_attempt_at = ?,
			next_attempt_at = ? WHERE id = ?`, result, now, nextAt, m.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("pay: record webhook attempt for %s: %w", m.ID, err)
	}
	return nil
}

// postWebhook makes one request and returns the answer's status code.
func (s *Service) postWebhook(ctx context.Context, url, secret string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Pay-Signature", webhookSignature(secret, body))
	req.Header.Set("User-Agent", "Commons-Pay-Webhooks")
	client := s.cfg.Webhooks.Client
	if client == nil {
		client = defaultWebhookClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// defaultWebhookClient follows no redirects (the URL that was checked is the one called) and
// connects only to public internet addresses: a domain name may resolve anywhere, and a
// service's webhook must not reach into the network Commons runs in.
var defaultWebhookClient = &http.Client{
	Timeout:       WebhookTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	// No proxy: the address check below must see the service's own host, not a proxy's.
	Transport: &http.Transport{
		DialContext: (&net.Dialer{
			Timeout: WebhookTimeout,
			Control: refuseNonPublicWebhookAddress,
		}).DialContext,
		TLSHandshakeTimeout: WebhookTimeout,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	},
}

// errNonPublicWebhookAddress is a webhook host that resolved to an address outside the public internet.
var errNonPublicWebhookAddress = errors.New("the callback URL's host is not on the public internet")

// webhookSharedAddressSpace is carrier-grade NAT (RFC 6598), which netip does not count as private.
var webhookSharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

func refuseNonPublicWebhookAddress(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return errNonPublicWebhookAddress
	}
	ip := ap.Addr().Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || webhookSharedAddressSpace.Contains(ip) {
		return errNonPublicWebhookAddress
	}
	return nil
}

// WebhookPurgeArgs is the periodic job that deletes webhook messages, their attempts and the
// confirmation-email records after WebhookRetention.
type WebhookPurgeArgs struct{}

// Kind names the job in River's tables.
func (WebhookPurgeArgs) Kind() string { return "pay.webhook_purge" }

// InsertOpts puts the purge on Pay's queue.
func (WebhookPurgeArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueuePay} }

// webhookPurgeEvery is how often the purge runs.
const webhookPurgeEvery = time.Hour

// webhookPurgeJob is the purge's periodic schedule, for PeriodicJobs.
func webhookPurgeJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(webhookPurgeEvery),
		func() (river.JobArgs, *river.InsertOpts) { return WebhookPurgeArgs{}, nil },
		&river.PeriodicJobOpts{ID: "pay_webhook_purge"})
}

type webhookPurgeWorker struct {
	river.WorkerDefaults[WebhookPurgeArgs]
	s *Service
}

func (w *webhookPurgeWorker) Work(ctx context.Context, _ *river.Job[WebhookPurgeArgs]) error {
	_, err := w.s.PurgeWebhookMessages(ctx)
	return err
}

// PurgeWebhookMessages deletes what is older than WebhookRetention, a batch at a time so that
// SQLite's one writer is free in between, and returns how many messages went.
func (s *Service) PurgeWebhookMessages(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-WebhookRetention)
	total := 0
	for _, table := range []struct{ name, key, at string }{
		{"pay_webhook_attempts", "id", "created_at"},
		{"pay_webhook_messages", "id", "created_at"},
		{"pay_confirmation_emails", "payment_id", "created_at"},
	} {
		for {
			res, err := s.db.Exec(ctx, `DELETE FROM `+table.name+` WHERE `+table.key+` IN (SELECT `+table.key+` FROM `+
				table.name+` WHERE `+table.at+` < ? LIMIT ?)`, cutoff, sweepBatch)
			if err != nil {
				return total, fmt.Errorf("pay: purge %s: %w", table.name, err)
			}
			n, _ := res.RowsAffected()
			if table.name == "pay_webhook_messages" {
				total += int(n)
			}
			if n < sweepBatch {
				break
			}
		}
	}
	return total, nil
}

// registerWebhookWorkers adds the workers of webhooks and confirmation emails (jobs.go).
func (s *Service) registerWebhookWorkers(w *river.Workers) {
	river.AddWorker(w, &webhookSendWorker{s: s})
	river.AddWorker(w, &webhookPurgeWorker{s: s})
	river.AddWorker(w, &confirmationEmailWorker{s: s})
}
