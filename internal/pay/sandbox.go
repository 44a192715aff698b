package pay

import (
	"context"

	"github.com/google/uuid"
)

// SandboxName is the sandbox provider's name.
const SandboxName = "sandbox"

// Sandbox is the in-process provider behind test keys (and live keys until a real provider is
// configured). It decides by the full card number, exactly as GOV.UK Pay's sandbox does
// (pay.md §8.1), so that integrations test the same outcomes here as there.
type Sandbox struct{}

// Sandbox card numbers (pay.md §8.1).
var (
	sandboxAuthorised = setOf(
		"4444333322221111", "4917610000000000003", "4000056655665556", "371449635398431", "3566002020360505",
		"6011000990139424", "36148900647913", "4242424242424242", "5105105105105100", "222100000000000",
		"4000000000000010", "4000160000000004", "4000020000000000",
		// corporate
		"4988080000000000", "4111111111111111", "4293189100000008", "5101180000000007",
		// corporate prepaid debit
		"4131840000000003", "4000180000000002", "5200828282828210",
	)
	sandboxRejected = setOf("4000000000000002", "4000000000000069", "4000000000000127")
	sandboxError    = "4000000000000119"
	// sandbox3DS asks for a 3-D Secure challenge: a Commons extension, with the number
	// Stripe's test mode uses for the same thing, so that the hosted 3-D Secure pages can be
	// tested without a real provider.
	sandbox3DS = "4000002500003155"
)

// Sandbox messages, as GOV.UK Pay's sandbox words them.
const (
	sandboxErrorMessage       = "This transaction could be not be processed."
	sandboxUnsupportedMessage = "Unsupported card details."
)

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// Name implements Provider.
func (Sandbox) Name() string { return SandboxName }

// Authorise implements Provider.
func (sb Sandbox) Authorise(ctx context.Context, req AuthoriseRequest) (AuthoriseResult, error) {
	res, err := sb.authorise(ctx, req)
	if req.SetUpAgreement && res.Outcome == Authorised {
		res.RecurringToken = sandboxRecurringToken()
	}
	return res, err
}

func (Sandbox) authorise(_ context.Context, req AuthoriseRequest) (AuthoriseResult, error) {
	n := req.Card.Number
	id := uuid.NewString()
	switch {
	case sandboxAuthorised[n]:
		return AuthoriseResult{Outcome: Authorised, ProviderID: id, CardType: cardTypeOf(n)}, nil
	case n == sandbox3DS && req.MOTO:
		return AuthoriseResult{Outcome: Authorised, ProviderID: id, CardType: cardTypeOf(n)}, nil
	case n == sandbox3DS:
		return AuthoriseResult{Outcome: ThreeDSRequired, ProviderID: id, CardType: cardTypeOf(n),
			ThreeDS: &ThreeDSChallenge{URL: "sandbox"}}, nil
	case sandboxRejected[n]:
		no := false
		return AuthoriseResult{Outcome: Rejected, ProviderID: id, CanRetry: &no}, nil
	case n == sandboxError:
		return AuthoriseResult{Outcome: ProviderError, ProviderID: id, Message: sandboxErrorMessage}, nil
	}
	return AuthoriseResult{Outcome: ProviderError, ProviderID: id, Message: sandboxUnsupportedMessage}, nil
}

// Authorise3DS implements Provider: the sandbox's challenge passes or fails as the hosted
// page says.
func (Sandbox) Authorise3DS(_ context.Context, req ThreeDSRequest) (AuthoriseResult, error) {
	if req.Result.Passed {
		res := AuthoriseResult{Outcome: Authorised, ProviderID: req.ProviderID}
		if req.SetUpAgreement {
			res.RecurringToken = sandboxRecurringToken()
		}
		return res, nil
	}
	return AuthoriseResult{Outcome: Rejected, ProviderID: req.ProviderID}, nil
}

// Capture implements Provider: always at once.
func (Sandbox) Capture(context.Context, CaptureRequest) (CaptureResult, error) {
	return CaptureResult{Reference: uuid.NewString()}, nil
}

// Cancel implements Provider: always at once.
func (Sandbox) Cancel(context.Context, CancelRequest) error { return nil }

// Refund implements Provider: always complete at once.
func (Sandbox) Refund(context.Context, RefundRequest) (RefundResult, error) {
	return RefundResult{Reference: uuid.NewString(), Settled: true}, nil
}
