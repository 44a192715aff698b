package pay

import (
	"context"
	"strings"

	"github.com/google/uuid"
)

// The sandbox's recurring payments (pay.md §8.1). A saved card is known only by what is kept of
// it, so the sandbox decides by its first six and last four digits, matched against its full
// card numbers, as GOV.UK Pay's sandbox does. 5105105105105100 authorises when it is saved but
// refuses every recurring payment after, for testing what an integration does when a saved
// card stops working.

// sandboxRecurringDeclined is the card that is saved but refused for recurring payments.
const sandboxRecurringDeclined = "5105105105105100"

// sandboxRecurringToken is the sandbox's reusable reference to a saved card: random, because
// the sandbox keeps nothing, and never derived from the card number.
func sandboxRecurringToken() string { return "sandbox-card-" + uuid.NewString() }

// AuthoriseSaved implements RecurringProvider. Every refusal is final (can_retry false), as in
// GOV.UK Pay's sandbox.
func (Sandbox) AuthoriseSaved(_ context.Context, req SavedCardRequest) (AuthoriseResult, error) {
	first, last := req.Card.FirstDigits, req.Card.LastDigits
	id := uuid.NewString()
	no := false
	matches := func(number string) bool {
		return len(first) == 6 && len(last) == 4 && strings.HasPrefix(number, first) && strings.HasSuffix(number, last)
	}
	if matches(sandboxRecurringDeclined) {
		return AuthoriseResult{Outcome: Rejected, ProviderID: id, CanRetry: &no}, nil
	}
	if matches(sandboxError) {
		return AuthoriseResult{Outcome: ProviderError, ProviderID: id, Message: sandboxErrorMessage}, nil
	}
	for n := range sandboxRejected {
		if matches(n) {
			return AuthoriseResult{Outcome: Rejected, ProviderID: id, CanRetry: &no}, nil
		}
	}
	for n := range sandboxAuthorised {
		if matches(n) {
			return AuthoriseResult{Outcome: Authorised, ProviderID: id, CardType: cardTypeOf(n)}, nil
		}
	}
	// A card saved after passing the sandbox's 3-D Secure challenge is charged without one.
	if matches(sandbox3DS) {
		return AuthoriseResult{Outcome: Authorised, ProviderID: id, CardType: cardTypeOf(sandbox3DS)}, nil
	}
	return AuthoriseResult{Outcome: ProviderError, ProviderID: id, Message: sandboxUnsupportedMessage}, nil
}
