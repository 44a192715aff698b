package pay

import (
	"context"
	"fmt"
	"log/slog"
)

// Provider is a payment service provider (PSP): what actually moves the money. The state
// machine, the API and the jobs only ever talk to this interface, so a new provider (Stripe,
// Worldpay, Adyen) is a new implementation registered by name in Config.Providers, with no
// change anywhere else.
//
// A method returns an error only when it could not get an answer (the provider was unreachable,
// timed out, or answered nonsense); a definite answer, including a refusal, is a result. Every
// method must be safe to call again for the same payment after an error, because a crash
// between the call and the transaction that records its result makes the caller try again.
//
// Card data passes through in memory only: implementations must not log or keep Card.
type Provider interface {
	// Name is the payment_provider shown in the API.
	Name() string
	// Authorise asks the provider to authorise a card payment. The outcome may be that the
	// payer must complete a 3-D Secure challenge first.
	Authorise(ctx context.Context, req AuthoriseRequest) (AuthoriseResult, error)
	// Authorise3DS completes an authorisation after the payer's 3-D Secure challenge.
	Authorise3DS(ctx context.Context, req ThreeDSRequest) (AuthoriseResult, error)
	// Capture takes authorised money. An error means "try again later".
	Capture(ctx context.Context, req CaptureRequest) (CaptureResult, error)
	// Cancel voids an authorisation that will not be captured.
	Cancel(ctx context.Context, req CancelRequest) error
	// Refund returns captured money to the payer.
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
}

// Card is a payment card as entered by the payer or sent to POST /v1/auth.
type Card struct {
	Number         string // digits only
	CVC            string
	ExpiryDate     string // MM/YY
	CardholderName string
	BillingAddress *Address
}

// String keeps card data out of any log or error a Card is formatted into by mistake.
func (c Card) String() string { return "card ending " + last4(c.Number) }

// LogValue does the same for log/slog.
func (c Card) LogValue() slog.Value { return slog.StringValue(c.String()) }

// GoString does the same for %#v.
func (c Card) GoString() string { return c.String() }

// Format covers every other verb, so that no formatting of a Card prints its number.
func (c Card) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(c.String())) }

func last4(number string) string {
	if len(number) < 4 {
		return ""
	}
	return number[len(number)-4:]
}

// AuthoriseRequest is a request to authorise a payment.
type AuthoriseRequest struct {
	// ServiceID is the service the payment belongs to: a provider uses that service's credentials.
	ServiceID   string
	PaymentID   string
	Amount      int64 // total, including any surcharge
	Description string
	Reference   string
	Card        Card
	// MOTO payments are taken over the phone or by post: the payer is not there to do
	// 3-D Secure, and the card schemes exempt them from it.
	MOTO bool
	Live bool
	// SetUpAgreement asks the provider to keep the card for recurring payments and to return
	// its reusable reference in AuthoriseResult.RecurringToken.
	SetUpAgreement bool
}

// AuthoriseOutcome is how an authorisation ended.
type AuthoriseOutcome int

const (
	// Authorised: the money is reserved and can be captured.
	Authorised AuthoriseOutcome = iota + 1
	// Rejected: the card or the payment was declined.
	Rejected
	// ProviderError: the provider answered with an error; no money was reserved.
	ProviderError
	// ThreeDSRequired: the payer must complete the challenge in ThreeDS first.
	ThreeDSRequired
)

// AuthoriseResult is a provider's answer to an authorisation.
type AuthoriseResult struct {
	Outcome AuthoriseOutcome
	// ProviderID is the provider's id for the transaction (provider_id in the API).
	ProviderID string
	// Message is the provider's reason, for logs and the MOTO API's errors.
	Message string
	// CardType is "credit" or "debit" when the provider knows.
	CardType string
	// ThreeDS is the challenge to show the payer when Outcome is ThreeDSRequired: opaque to
	// everything but the hosted pages and the provider.
	ThreeDS *ThreeDSChallenge
	// CanRetry says, for a rejected recurring payment, whether trying again may succeed.
	CanRetry *bool
	// RecurringToken is the provider's reusable reference to a card kept for recurring
	// payments (SetUpAgreement), for RecurringProvider.AuthoriseSaved.
	RecurringToken string
}

// ThreeDSChallenge is what the hosted 3-D Secure page needs to send the payer to their bank.
type ThreeDSChallenge struct {
	URL  string            `json:"url"`
	Data map[string]string `json:"data,omitempty"`
}

// ThreeDSRequest completes an authorisation after a 3-D Secure challenge.
type ThreeDSRequest struct {
	// ServiceID is the service the payment belongs to: a provider uses that service's credentials.
	ServiceID  string
	PaymentID  string
	ProviderID string
	Amount     int64
	Result     ThreeDSResult
	// SetUpAgreement is AuthoriseRequest's: keep the card and return its reusable reference.
	SetUpAgreement bool
}

// ThreeDSResult is what came back from the payer's bank, via the hosted page.
type ThreeDSResult struct {
	// Passed is the sandbox's whole answer; real providers read Data.
	Passed bool
	Data   map[string]string
}

// CaptureRequest asks to take authorised money.
type CaptureRequest struct {
	// ServiceID is the service the payment belongs to: a provider uses that service's credentials.
	ServiceID  string
	PaymentID  string
	ProviderID string
	Amount     int64
}

// CaptureResult is a successful capture.
type CaptureResult struct {
	// Reference is the provider's id for the capture.
	Reference string
	// Fee is the provider's fee, when it reports one (Stripe).
	Fee *int64
}

// CancelRequest asks to void an authorisation.
type CancelRequest struct {
	// ServiceID is the service the payment belongs to: a provider uses that service's credentials.
	ServiceID  string
	PaymentID  string
	ProviderID string
}

// RefundRequest asks to return money.
type RefundRequest struct {
	// ServiceID is the service the payment belongs to: a provider uses that service's credentials.
	ServiceID  string
	PaymentID  string
	RefundID   string
	ProviderID string
	Amount     int64
}

// RefundResult is the provider's acceptance of a refund.
type RefundResult struct {
	Reference string
	// Settled is true when the refund is already complete (status success); false means it
	// was submitted and the provider will confirm later.
	Settled bool
}

// provider returns a payment's provider.
func (s *Service) provider(name string) (Provider, bool) {
	p, ok := s.providers[name]
	return p, ok
}
