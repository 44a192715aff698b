// Package stripepsp is Pay's Stripe provider: a pay.Provider that takes card payments through
// Stripe's PaymentIntents API with the official Go client (github.com/stripe/stripe-go). The
// package is named stripepsp ("payment service provider") rather than stripe, its folder's name,
// because it uses the client's package, which is called stripe, on nearly every line.
//
// Each service has its own Stripe account: its secret key is looked up per call (Keys), so the
// adapter holds no per-service state and one instance serves every service. Money is
// authorised first (capture_method=manual) and captured later by Pay's capture job, as GOV.UK
// Pay does. Every write carries an idempotency key made from the Commons payment or refund id,
// so a call repeated after a timeout or a crash returns Stripe's first answer instead of
// charging, capturing or refunding twice.
//
// Card numbers and CVCs pass through in memory to Stripe (which must have raw card data APIs
// enabled on the account) and are never logged; neither is a secret key.
package stripepsp

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/stripe/stripe-go/v82"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/pay"
)

// Name is the provider's name: payment_provider in the API, and the provider under which a
// service's secret key is stored.
const Name = "stripe"

// currency is the only one Pay takes: amounts are pence.
const currency = "gbp"

// Keys finds a service's Stripe secret key. An error of kind failure.NotFound means the
// service has none; any other error means it could not be read just now.
type Keys interface {
	StripeKey(ctx context.Context, serviceID string) (string, error)
}

// KeyFunc is a function that is a Keys.
type KeyFunc func(ctx context.Context, serviceID string) (string, error)

// StripeKey implements Keys.
func (f KeyFunc) StripeKey(ctx context.Context, serviceID string) (string, error) {
	return f(ctx, serviceID)
}

// CredentialStore is where Pay keeps services' provider secrets (*pay.Credentials).
type CredentialStore interface {
	ProviderCredential(ctx context.Context, serviceID, provider string) (string, error)
}

// StoredKeys reads services' keys from Pay's credential store, where they are saved under the
// provider name "stripe".
func StoredKeys(store CredentialStore) Keys {
	return KeyFunc(func(ctx context.Context, serviceID string) (string, error) {
		return store.ProviderCredential(ctx, serviceID, Name)
	})
}

// Config is what the Stripe provider needs.
type Config struct {
	// Keys finds each service's secret key.
	Keys Keys
	// URL is Stripe's API address; empty means https://api.stripe.com. Tests point it at
	// stripe-mock.
	URL string
	// HTTPClient makes the calls; nil means the Stripe client's own (80 s timeout). Pay bounds
	// each call with its context as well.
	HTTPClient *http.Client
	// Retries is how many times a request that failed in transit, or that Stripe asks to be
	// retried, is sent again before giving up. It is safe because each retry carries the same
	// idempotency key. Zero means no retries.
	Retries int
	// ReturnURL is where Stripe sends the payer back to after a 3-D Secure challenge, for a
	// payment id. Without it the payer cannot be challenged, so payments that need a challenge
	// are declined (Stripe is asked to fail rather than wait for an action nobody can take).
	ReturnURL func(paymentID string) string
}

// Provider is the Stripe pay.Provider.
type Provider struct {
	cfg      Config
	backends *stripe.Backends
}

var _ pay.Provider = (*Provider)(nil)

// New returns the Stripe provider.
func New(cfg Config) *Provider {
	bc := &stripe.BackendConfig{
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: stripe.Int64(int64(max(cfg.Retries, 0))),
		// The client would log failed requests itself; Pay logs a provider's errors once, at
		// its own boundary, with the payment they belong to.
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.URL != "" {
		bc.URL = stripe.String(cfg.URL)
	}
	return &Provider{cfg: cfg, backends: stripe.NewBackendsWithConfig(bc)}
}

// Name implements pay.Provider.
func (p *Provider) Name() string { return Name }

// errNoKey is a service with no Stripe key: a definite answer for an authorisation (the payment
// cannot be taken), but for anything later a fault to be fixed and retried.
var errNoKey = errors.New("this service has no Stripe secret key")

// client returns a Stripe client acting with the service's own key. A client is a set of small
// structs around the shared backends, so one per call costs little, and a service's new key
// takes effect on its next payment.
func (p *Provider) client(ctx context.Context, serviceID string) (*stripe.Client, error) {
	if serviceID == "" {
		return nil, errors.New("the request has no service id, so no key can be chosen")
	}
	if p.cfg.Keys == nil {
		return nil, errNoKey
	}
	key, err := p.cfg.Keys.StripeKey(ctx, serviceID)
	switch {
	case failure.Is(err, failure.NotFound):
		return nil, errNoKey
	case err != nil:
		return nil, fmt.Errorf("find the service's key: %w", err)
	case key == "":
		return nil, errNoKey
	}
	return stripe.NewClient(key, stripe.WithBackends(p.backends)), nil
}

// idempotencyKey names one write for Stripe, so that sending it again (after a timeout, a crash,
// or by the capture job's next attempt) replays the first answer instead of acting twice. Stripe
// keeps keys for at least 24 hours, per account; payment and refund ids are unique.
func idempotencyKey(operation, id string) *string {
	return stripe.String("commons-pay/" + operation + "/" + id)
}

// metadata ties Stripe's objects back to Commons, for reconciliation in Stripe's dashboard and
// for finding a payment whose authorisation answer was lost.
func metadata(pairs ...string) map[string]string {
	m := make(map[string]string, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			m[pairs[i]] = pairs[i+1]
		}
	}
	return m
}
