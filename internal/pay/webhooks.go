package pay

import (
	"crypto/rand"
	"encoding/base32"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/failure"
)

// Webhooks (pay.md §9): a service names URLs that Commons calls when its payments change, each
// for the event types it subscribes to and for either live or test payments. A message is
// queued in the transaction of the change it reports, then posted by a job, signed with the
// webhook's secret, and tried again on GOV.UK Pay's schedule until the service accepts it.

// Event types a webhook may subscribe to.
const (
	EventCardPaymentStarted   = "card_payment_started"
	EventCardPaymentSucceeded = "card_payment_succeeded"
	EventCardPaymentCaptured  = "card_payment_captured"
	EventCardPaymentRefunded  = "card_payment_refunded"
	EventCardPaymentFailed    = "card_payment_failed"
	EventCardPaymentExpired   = "card_payment_expired"
	// EventCardPaymentSettled is documented by GOV.UK Pay but not sent by it; integrations
	// subscribe to it anyway, so it is accepted and, likewise, never sent.
	EventCardPaymentSettled = "card_payment_settled"
)

// WebhookEventTypes lists the event types in the order pages show them.
var WebhookEventTypes = []string{
	EventCardPaymentStarted, EventCardPaymentSucceeded, EventCardPaymentCaptured, EventCardPaymentRefunded,
	EventCardPaymentFailed, EventCardPaymentExpired, EventCardPaymentSettled,
}

// webhookEventOf maps the state machine's events (transitions.go) to the webhook event types they
// are reported as. Events not listed are not reported; none is reported as started. Refunds are
// reported from refunds.go, which has no state-machine event.
var webhookEventOf = map[string]string{
	"UserApprovedForCapture":    EventCardPaymentSucceeded,
	"ServiceApprovedForCapture": EventCardPaymentSucceeded,
	"QueuedForCapture":          EventCardPaymentSucceeded,

	"AuthorisationRejected":                     EventCardPaymentFailed,
	"AuthorisationCancelled":                    EventCardPaymentFailed,
	"GatewayErrorDuringAuthorisation":           EventCardPaymentFailed,
	"GatewayTimeoutDuringAuthorisation":         EventCardPaymentFailed,
	"UnexpectedGatewayErrorDuringAuthorisation": EventCardPaymentFailed,
	"CancelledByExternalService":                EventCardPaymentFailed,
	"CancelledByUser":                           EventCardPaymentFailed,

	"CancelledByExpiration": EventCardPaymentExpired,
	"PaymentExpired":        EventCardPaymentExpired,

	"CaptureConfirmed": EventCardPaymentCaptured,
}

// Webhook statuses.
const (
	WebhookActive   = "active"
	WebhookInactive = "inactive"
)

// Delivery statuses of a webhook message (and results of an attempt, less PENDING).
const (
	MessagePending     = "PENDING"
	MessageSuccessful  = "SUCCESSFUL"
	MessageFailed      = "FAILED"
	MessageWillNotSend = "WILL_NOT_SEND"
)

// Limits.
const (
	// MaxWebhooks is how many webhooks a service may have for its live payments, and again for
	// its test payments: enough for every system that needs to hear, few enough that one payment
	// cannot fan out into a flood of requests.
	MaxWebhooks = 10
	// maxCallbackURL and maxWebhookDescription bound what is stored, as GOV.UK Pay does.
	maxCallbackURL        = 2048
	maxWebhookDescription = 255
)

// DefaultLiveWebhookDomains are the domains (with their subdomains) that live webhooks may call
// unless the operator configures others: live payments carry payers' details, so they go only
// to public-sector addresses.
var DefaultLiveWebhookDomains = []string{
	"gov.uk", "gov.scot", "gov.wales", "llyw.cymru", "nhs.uk", "nhs.net", "police.uk", "mod.uk",
	"parliament.uk", "naturalresources.wales",
}

// WebhooksConfig is what webhooks and confirmation emails need from the application.
type WebhooksConfig struct {
	// Sealer seals signing secrets at rest (the application's *secret.Keyring). Without one,
	// webhooks cannot be created or sent.
	Sealer Sealer
	// LiveDomains are the domains live webhooks may call, each with its subdomains; empty
	// means DefaultLiveWebhookDomains. Test webhooks may call any domain name.
	LiveDomains []string
	// Client posts the messages; nil means a client with the 3-second timeout that follows no
	// redirects and connects only to public internet addresses.
	Client *http.Client
	// Emailer sends confirmation emails through Notify; nil means none are sent.
	Emailer Emailer
	// Audit records changes to webhooks and to the confirmation email in the audit log (the
	// platform's store); nil records nothing.
	Audit Auditor // console.go
}

// Webhook is where a service hears about its payments.
type Webhook struct {
	ID          string
	ServiceID   string
	Live        bool
	CallbackURL string
	Description string
	// Subscriptions are the event types sent to it, in WebhookEventTypes order.
	Subscriptions []string
	Status        string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Active reports whether messages are sent to the webhook.
func (w Webhook) Active() bool { return w.Status == WebhookActive }

// Subscribes reports whether the webhook is sent events of a type.
func (w Webhook) Subscribes(eventType string) bool {
	return slices.Contains(w.Subscriptions, eventType)
}

// WebhookInput is what a service says about a webhook it creates.
type WebhookInput struct {
	CallbackURL   string
	Description   string
	Subscriptions []string
}

// WebhookUpdate changes some of a webhook's settings; nil fields stay as they are.
type WebhookUpdate struct {
	CallbackURL   *string
	Description   *string
	Subscriptions *[]string
	Status        *string
}

// newSigningSecret returns a fresh secret in GOV.UK Pay's form: webhook_live_… or webhook_test_…
// followed by 32 base32 characters (160 random bits).
func newSigningSecret(live bool) string {
	var b [20]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	prefix := "webhook_test_"
	if live {
		prefix = "webhook_live_"
	}
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// webhookSecretContext binds a sealed signing secret to its webhook, so that a value copied into
// another row does not open there.
func webhookSecretContext(serviceID, webhookID string) []byte {
	return []byte("pay_webhooks\x00" + serviceID + "\x00" + webhookID)
}

// liveDomains is the allow-list in force.
func (s *Service) liveDomains() []string {
	if len(s.cfg.Webhooks.LiveDomains) > 0 {
		return s.cfg.Webhooks.LiveDomains
	}
	return DefaultLiveWebhookDomains
}

// checkCallbackURL applies the callback URL rules (pay.md §9): https, a domain name rather than
// an address, no credentials in the URL, and for live webhooks an allow-listed domain. It runs
// when a webhook is saved and again before every send, so that a rule tightened since still
// holds.
func (s *Service) checkCallbackURL(raw string, live bool) error {
	const field = "callback_url"
	if raw == "" {
		return failure.Field(field, "Enter a callback URL")
	}
	if len(raw) > maxCallbackURL {
		return failure.Field(field, "Callback URL must be %d characters or fewer", maxCallbackURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return failure.Field(field, "Callback URL must start with https://")
	}
	if u.User != nil {
		return failure.Field(field, "Callback URL must not contain a user name or password")
	}
	host := strings.ToLower(u.Hostname())
	if !webhookDomainName(host) {
		return failure.Field(field, "Callback URL must use a domain name, not an IP address")
	}
	if live && !webhookHostAllowed(host, s.liveDomains()) {
		return failure.Field(field, "Live webhooks can only call addresses on %s", strings.Join(s.liveDomains(), ", "))
	}
	return nil
}

// webhookDomainName reports whether host is a fully qualified DNS name: at least two labels of
// letters, digits and hyphens, the last not all digits (which would make it an address).
func webhookDomainName(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 253 || net.ParseIP(host) != nil {
		return false
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// webhookHostAllowed reports whether host is one of domains or below one of them.
func webhookHostAllowed(host string, domains []string) bool {
	host = strings.TrimSuffix(host, ".")
	for _, d := range domains {
		d = strings.ToLower(strings.Trim(d, ". "))
		if d != "" && (host == d || strings.HasSuffix(host, "."+d)) {
			return true
		}
	}
	return false
}

// checkWebhookSubscriptions refuses unknown event types and returns the known ones once each, in
// WebhookEventTypes order.
func checkWebhookSubscriptions(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, failure.Field("subscriptions", "Choose at least one event type")
	}
	for _, t := range in {
		if !slices.Contains(WebhookEventTypes, t) {
			return nil, failure.Field("subscriptions", "%q is not an event type; use %s", t, strings.Join(WebhookEventTypes, ", "))
		}
	}
	var out []string
	for _, t := range WebhookEventTypes {
		if slices.Contains(in, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func checkWebhookDescription(d string) error {
	if len([]rune(d)) > maxWebhookDescription {
		return failure.Field("description", "Description must be %d characters or fewer", maxWebhookDescription)
	}
	return nil
}
