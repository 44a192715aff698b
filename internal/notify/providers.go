package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/outbox"
)

// EmailMessage is one email as a mail provider receives it: already rendered, addressed and
// identified.
type EmailMessage struct {
	NotificationID string
	FromName       string
	FromAddress    string
	To             string
	ReplyTo        string
	Subject        string
	HTML           string
	Text           string
	// UnsubscribeURL, when set, becomes the RFC 8058 one-click List-Unsubscribe headers.
	UnsubscribeURL string
	// MessageID is the Message-ID header's value without angle brackets. It embeds the
	// notification id, so that a bounce quoting it can be tied back to the notification.
	MessageID string
}

// EmailSender hands emails to a mail system.
type EmailSender interface {
	// Name identifies the provider in the notification's record ("smtp", "outbox").
	Name() string
	// SendEmail sends m and returns the provider's reference for it. A failure should be a
	// *ProviderError saying whether the email may have been taken; any other error is treated
	// as OutcomeUnknown, so that the email is never sent twice.
	SendEmail(ctx context.Context, m EmailMessage) (reference string, err error)
}

// SMSMessage is one text message as a provider receives it.
type SMSMessage struct {
	// NotificationID doubles as an idempotency key: a provider that deduplicates by it can
	// never deliver one notification twice.
	NotificationID string
	// To is the recipient in international form without the plus sign (447700900123).
	To string
	// Body is what the phone shows, with the service-name prefix when the service uses one.
	Body          string
	Sender        string
	International bool
}

// SMSProvider hands text messages to a network. Adapters: OutboxSMS (development) and
// HTTPSMS (a generic HTTPS provider).
type SMSProvider interface {
	// Name identifies the provider in the notification's record.
	Name() string
	// SendSMS sends m and returns the provider's reference for it, which its delivery
	// receipts may quote. Failures are classified as for EmailSender.SendEmail.
	SendSMS(ctx context.Context, m SMSMessage) (reference string, err error)
}

// ProviderOutcome says what a provider's failure means for the message.
type ProviderOutcome int

const (
	// OutcomeRetry: the provider certainly did not take the message (it could not be reached,
	// or refused it for now). The message goes back to created and is tried again later.
	OutcomeRetry ProviderOutcome = iota
	// OutcomeRejected: the provider refused the message for good because of its recipient
	// (an SMTP 5xx answer to RCPT TO). The notification becomes permanent-failure.
	OutcomeRejected
	// OutcomeFailed: the provider refused the message for good for another reason. The
	// notification becomes technical-failure.
	OutcomeFailed
	// OutcomeUnknown: the provider may or may not have taken the message (the connection
	// broke after the whole message was written). It is not tried again, so that it is never
	// delivered twice; the notification becomes technical-failure with a detail saying so.
	OutcomeUnknown
)

// ProviderError is a provider's failure, classified.
type ProviderError struct {
	Outcome ProviderOutcome
	Err     error
}

func (e *ProviderError) Error() string { return e.Err.Error() }
func (e *ProviderError) Unwrap() error { return e.Err }

// outcomeOf classifies any error a provider returned.
func outcomeOf(err error) ProviderOutcome {
	var pe *ProviderError
	if errors.As(err, &pe) {
		return pe.Outcome
	}
	return OutcomeUnknown
}

// txEmailSender and txSMSProvider are implemented by providers that keep messages in
// Commons' own database: delivery then writes the message and its status in one transaction,
// so it happens exactly once.
type txEmailSender interface {
	sendEmailTx(ctx context.Context, tx *db.Tx, m EmailMessage, serviceID string) (string, error)
}

type txSMSProvider interface {
	sendSMSTx(ctx context.Context, tx *db.Tx, m SMSMessage, serviceID string) (string, error)
}

// OutboxEmail is development mode's email provider: the console outbox in DB.
type OutboxEmail struct {
	DB     *db.DB
	Outbox *outbox.Store
}

// Name implements EmailSender.
func (OutboxEmail) Name() string { return "outbox" }

// SendEmail keeps the email (its plain-text part) in the outbox under the notification's id;
// a second call for the same notification adds nothing.
func (o OutboxEmail) SendEmail(ctx context.Context, m EmailMessage) (string, error) {
	return addToOutbox(ctx, o.Outbox, o.DB, emailOutboxMessage(m, ""))
}

func (o OutboxEmail) sendEmailTx(ctx context.Context, tx *db.Tx, m EmailMessage, serviceID string) (string, error) {
	return addToOutbox(ctx, o.Outbox, tx, emailOutboxMessage(m, serviceID))
}

func emailOutboxMessage(m EmailMessage, serviceID string) outbox.Message {
	return outbox.Message{ID: m.NotificationID, ServiceID: serviceID, Channel: string(Email), Recipient: m.To,
		Subject: m.Subject, Body: m.Text, Reference: m.NotificationID}
}

// OutboxSMS is development mode's text message provider: the console outbox in DB.
type OutboxSMS struct {
	DB     *db.DB
	Outbox *outbox.Store
}

// Name implements SMSProvider.
func (OutboxSMS) Name() string { return "outbox" }

// SendSMS keeps the message in the outbox under the notification's id; a second call for the
// same notification adds nothing.
func (o OutboxSMS) SendSMS(ctx context.Context, m SMSMessage) (string, error) {
	return addToOutbox(ctx, o.Outbox, o.DB, smsOutboxMessage(m, ""))
}

func (o OutboxSMS) sendSMSTx(ctx context.Context, tx *db.Tx, m SMSMessage, serviceID string) (string, error) {
	return addToOutbox(ctx, o.Outbox, tx, smsOutboxMessage(m, serviceID))
}

func smsOutboxMessage(m SMSMessage, serviceID string) outbox.Message {
	return outbox.Message{ID: m.NotificationID, ServiceID: serviceID, Channel: string(SMS), Recipient: m.To,
		Subject: m.Sender, Body: m.Body, Reference: m.NotificationID}
}

// addToOutbox writes one outbox message through q (a transaction or the database). The
// message's id is the notification's, so a repeat is recognised rather than added twice.
func addToOutbox(ctx context.Context, store *outbox.Store, q db.Querier, m outbox.Message) (string, error) {
	if store == nil || q == nil {
		return "", &ProviderError{Outcome: OutcomeFailed, Err: errors.New("outbox: no outbox store configured")}
	}
	_, err := store.Add(ctx, q, m)
	if err != nil && !db.IsUniqueViolation(err) {
		return "", &ProviderError{Outcome: OutcomeRetry, Err: err}
	}
	return m.ID, nil
}

// DeliveryConfig says where messages go and how delivery and callbacks retry. In development
// mode every channel goes to the console outbox, whatever Email and SMS say.
type DeliveryConfig struct {
	// Email sends emails; required outside development mode.
	Email EmailSender
	// SMS sends text messages; required outside development mode.
	SMS SMSProvider
	// Outbox receives every channel in development mode; nil means outbox.New on the
	// service's database.
	Outbox *outbox.Store
	// EmailDomain is the domain of From addresses (local_part@EmailDomain) and of
	// Message-IDs (COMMONS_EMAIL_FROM_DOMAIN). Required outside development mode, where it
	// defaults to the base URL's host.
	EmailDomain string
	// SMSCallbackSecret authenticates the text message provider's receipts and inbound
	// messages (Authorization: Bearer <secret>). Empty refuses every provider callback.
	SMSCallbackSecret string
	// RetryDelay is how long a delivery waits after its attempt-th failed attempt; nil means
	// DefaultDeliveryRetryDelay. Tests make it short.
	RetryDelay func(attempt int) time.Duration
	// CallbackRetryDelay is how long a callback to a service waits after a failed attempt;
	// nil means 300 s, as GOV.UK Notify waits.
	CallbackRetryDelay func(attempt int) time.Duration
	// CallbackClient posts callbacks to services; nil means a client with a 5 s timeout that
	// does not follow redirects.
	CallbackClient *http.Client
}

// ProviderSettings are delivery's settings as `commons serve` reads them from its flags and
// environment. Development mode needs none of them (everything goes to the outbox); outside
// it SMTPURL, EmailFromDomain, SMSProviderURL and SMSProviderToken are required.
type ProviderSettings struct {
	SMTPURL           string // COMMONS_SMTP_URL, see ParseSMTPURL
	EmailFromDomain   string // COMMONS_EMAIL_FROM_DOMAIN
	SMSProviderURL    string // COMMONS_SMS_PROVIDER_URL
	SMSProviderToken  string // COMMONS_SMS_PROVIDER_TOKEN
	SMSCallbackSecret string // COMMONS_SMS_CALLBACK_SECRET
}

// DeliveryConfig checks the settings and builds the providers they name.
func (p ProviderSettings) DeliveryConfig() (DeliveryConfig, error) {
	cfg := DeliveryConfig{EmailDomain: strings.TrimSpace(p.EmailFromDomain), SMSCallbackSecret: p.SMSCallbackSecret}
	if p.SMTPURL != "" {
		c, err := ParseSMTPURL(p.SMTPURL)
		if err != nil {
			return DeliveryConfig{}, fmt.Errorf("COMMONS_SMTP_URL: %w", err)
		}
		sender, err := NewSMTPSender(c)
		if err != nil {
			return DeliveryConfig{}, fmt.Errorf("COMMONS_SMTP_URL: %w", err)
		}
		cfg.Email = sender
	}
	if p.SMSProviderURL != "" || p.SMSProviderToken != "" {
		sms, err := NewHTTPSMS(p.SMSProviderURL, p.SMSProviderToken)
		if err != nil {
			return DeliveryConfig{}, fmt.Errorf("COMMONS_SMS_PROVIDER_URL and COMMONS_SMS_PROVIDER_TOKEN: %w", err)
		}
		cfg.SMS = sms
	}
	if cfg.SMS != nil && len(p.SMSCallbackSecret) < 16 {
		return DeliveryConfig{}, errors.New("COMMONS_SMS_CALLBACK_SECRET must be at least 16 characters when a text message provider is set, " +
			"so that its receipts and replies can be authenticated")
	}
	return cfg, nil
}

// Delivery hands notifications to providers, receives the providers' receipts and inbound
// messages, calls services back and runs Notify's periodic upkeep.
type Delivery struct {
	s                  *Service
	email              EmailSender
	sms                SMSProvider
	outbox             *outbox.Store
	emailDomain        string
	smsSecret          string
	retryDelay         func(int) time.Duration
	callbackRetryDelay func(int) time.Duration
	callbackClient     *http.Client
	// slots bounds the messages the node has with providers outside Commons at once.
	slots *handoverSlots

	sendersMu sync.Mutex
	senders   map[string]cachedSender
}

// Defaults of delivery's knobs.
const (
	// DefaultDeliveryWorkers is how many delivery jobs one node works at once, and how many
	// messages it has with providers outside Commons at once, over all those jobs.
	// Deliveries mostly wait on the network, so this is well above the number of cores.
	DefaultDeliveryWorkers = 100
	// DefaultCallbackWorkers is how many callbacks to services one node makes at once.
	DefaultCallbackWorkers = 10
	// SendingTimeout is how long a message may stay sending or pending before it is taken to
	// have failed (temporary-failure), as GOV.UK Notify does after 72 hours.
	SendingTimeout = 72 * time.Hour
	// callbackTimeout bounds one callback request, as GOV.UK Notify's 5 seconds.
	callbackTimeout = 5 * time.Second
	// callbackRetryAfter is GOV.UK Notify's wait between callback attempts.
	callbackRetryAfter = 300 * time.Second
)

// DefaultDeliveryRetryDelay waits 30 s after the first failed attempt, doubling up to 10
// minutes: with DeliverArgs' 25 attempts a message is tried for about three and a half hours,
// as GOV.UK Notify tries for four.
func DefaultDeliveryRetryDelay(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

// NewDelivery sets up delivery for s. Outside development mode it needs a real email sender
// and text message provider.
func NewDelivery(s *Service, cfg DeliveryConfig) (*Delivery, error) {
	d := &Delivery{s: s, email: cfg.Email, sms: cfg.SMS, outbox: cfg.Outbox, emailDomain: cfg.EmailDomain,
		smsSecret: cfg.SMSCallbackSecret, retryDelay: cfg.RetryDelay, callbackRetryDelay: cfg.CallbackRetryDelay,
		callbackClient: cfg.CallbackClient, senders: map[string]cachedSender{}, slots: newHandoverSlots(DefaultDeliveryWorkers)}
	if d.outbox == nil {
		d.outbox = outbox.New(s.db)
	}
	if s.cfg.Dev {
		d.email, d.sms = OutboxEmail{DB: s.db, Outbox: d.outbox}, OutboxSMS{DB: s.db, Outbox: d.outbox}
	}
	if d.email == nil {
		return nil, errors.New("notify: outside development mode an email provider is required (set COMMONS_SMTP_URL)")
	}
	if d.sms == nil {
		return nil, errors.New("notify: outside development mode a text message provider is required (set COMMONS_SMS_PROVIDER_URL and COMMONS_SMS_PROVIDER_TOKEN)")
	}
	if d.emailDomain == "" && s.cfg.Dev {
		d.emailDomain = "commons.localhost"
		if u, err := url.Parse(s.cfg.BaseURL); err == nil && u.Hostname() != "" {
			d.emailDomain = u.Hostname()
		}
	}
	if d.emailDomain == "" {
		return nil, errors.New("notify: an email domain is required for From addresses (set COMMONS_EMAIL_FROM_DOMAIN)")
	}
	if d.retryDelay == nil {
		d.retryDelay = DefaultDeliveryRetryDelay
	}
	if d.callbackRetryDelay == nil {
		d.callbackRetryDelay = func(int) time.Duration { return callbackRetryAfter }
	}
	if d.callbackClient == nil {
		d.callbackClient = &http.Client{
			Timeout: callbackTimeout,
			// A service's callback URL is checked when it is saved; a redirect would take the
			// request (and its bearer token) somewhere that was not.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return d, nil
}

// Queues returns the River queues delivery uses and how many of their jobs a node works at
// once, to merge into jobs.Config.Queues. The periodic jobs run on the default queue.
func Queues() map[string]int {
	return map[string]int{QueueDelivery: DefaultDeliveryWorkers, QueueCallbacks: DefaultCallbackWorkers}
}

// RegisterWorkers adds delivery's, callbacks' and upkeep's workers. River looks workers up
// when it works a job, so this may run after jobs.New as long as it runs before Start.
func (d *Delivery) RegisterWorkers(w *river.Workers) {
	river.AddWorker(w, &deliverWorker{d: d})
	river.AddWorker(w, &deliverBatchWorker{d: d})
	river.AddWorker(w, &callbackWorker{d: d})
	river.AddWorker(w, &timeoutWorker{d: d})
	river.AddWorker(w, &retentionWorker{d: d})
}
