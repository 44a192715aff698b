package pay

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// Authorisation: card details go to the provider, and the answer decides the payment's next
// status. The card itself is only ever in memory, in the Card passed along.

// AuthTimeout bounds a provider's authorisation call. GOV.UK Pay waits up to 50 s for a card
// page's authorisation; the MOTO API, which answers synchronously, gives up after 10 s.
const (
	AuthTimeout     = 50 * time.Second
	MOTOAuthTimeout = 10 * time.Second
)

// ErrCardInvalid is a card number that cannot be a card of an accepted brand: wrong length,
// not digits, failing the Luhn check, or from no brand we recognise.
var ErrCardInvalid = failure.Field("card_number", "Enter a valid card number")

// checkCardNumber applies the checks made before any provider sees a card.
func checkCardNumber(number string) error {
	if !allDigits(number) || len(number) < 12 || len(number) > 19 || !luhnValid(number) || brandOf(number) == "" {
		return ErrCardInvalid
	}
	return nil
}

// authoriseClaimed sends a payment, already moved to AUTHORISATION READY, to its provider, and
// records the outcome with the card details kept. approve moves an authorised payment straight
// on to capture (the MOTO API has no confirm page).
func (s *Service) authoriseClaimed(ctx context.Context, p *Payment, card Card, timeout time.Duration, approve bool) (*Payment, AuthoriseResult, error) {
	ctx = context.WithoutCancel(ctx) // a payer who leaves must not strand the payment mid-authorisation
	var res AuthoriseResult
	var callErr error
	prov, ok := s.provider(p.Provider)
	if ok {
		callCtx, cancel := context.WithTimeout(ctx, timeout)
		res, callErr = prov.Authorise(callCtx, AuthoriseRequest{ServiceID: p.ServiceID, PaymentID: p.ID, Amount: p.TotalAmount(),
			Description: p.Description, Reference: p.Reference, Card: card, MOTO: p.MOTO || p.AuthorisationMode == ModeMOTOAPI,
			Live: p.Live, SetUpAgreement: p.SaveToAgreement})
		cancel()
	} else {
		res, callErr = AuthoriseResult{Outcome: ProviderError, Message: "no such provider on this node"}, nil
	}
	to, sets := authorisationOutcome(res, callErr)
	sets = append(sets, cardSets(card, res)...)
	var out *Payment
	err := s.inTxRetrying(ctx, func(tx *db.Tx) error {
		cur, err := lockPayment(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if cur.Status != StatusAuthorisationReady {
			out = cur // expired or cancelled meanwhile: the late answer is not recorded
			return nil
		}
		if err := transition(ctx, tx, cur, to, s.now(), sets...); err != nil {
			return err
		}
		if err := s.saveCard(ctx, tx, cur, res.RecurringToken); err != nil {
			return err
		}
		if approve && to == StatusAuthorisationSuccess {
			if err := s.approveCapture(ctx, tx, cur); err != nil {
				return err
			}
		}
		out = cur
		return nil
	})
	if err != nil {
		return nil, res, err
	}
	return s.reread(ctx, out), res, nil
}

// authorisationOutcome maps a provider's answer to the next status and what to record.
func authorisationOutcome(res AuthoriseResult, callErr error) (Status, []set) {
	switch {
	case callErr != nil && errors.Is(callErr, context.DeadlineExceeded):
		return StatusAuthorisationTimeout, nil
	case callErr != nil:
		return StatusAuthorisationUnexpected, nil
	}
	sets := []set{{"provider_id", nullable(res.ProviderID)}}
	if res.CanRetry != nil {
		sets = append(sets, set{"can_retry", *res.CanRetry})
	}
	switch res.Outcome {
	case Authorised:
		return StatusAuthorisationSuccess, sets
	case Rejected:
		return StatusAuthorisationRejected, sets
	case ThreeDSRequired:
		data, _ := json.Marshal(res.ThreeDS)
		return StatusAuthorisation3DSRequired, append(sets, set{"three_ds_required", true}, set{"three_ds_data", string(data)})
	}
	return StatusAuthorisationError, sets
}

// cardSets are the columns that keep what may be kept of a card.
func cardSets(card Card, res AuthoriseResult) []set {
	a := Address{}
	if card.BillingAddress != nil {
		a = *card.BillingAddress
	}
	return []set{
		{"card_brand", nullable(brandOf(card.Number))},
		{"card_type", nullable(res.CardType)},
		{"first_digits", nullable(firstN(card.Number, 6))},
		{"last_digits", nullable(last4(card.Number))},
		{"expiry_date", nullable(card.ExpiryDate)},
		{"cardholder_name", nullable(card.CardholderName)},
		{"billing_line1", nullable(a.Line1)},
		{"billing_line2", nullable(a.Line2)},
		{"billing_city", nullable(a.City)},
		{"billing_postcode", nullable(a.Postcode)},
		{"billing_country", nullable(a.Country)},
	}
}

func firstN(s string, n int) string {
	if len(s) < n {
		return ""
	}
	return s[:n]
}

// reread returns the payment as stored now, or the given copy if it cannot be read (the
// change has committed; only the answer would be stale).
func (s *Service) reread(ctx context.Context, p *Payment) *Payment {
	if fresh, err := s.Payment(ctx, p.ServiceID, p.ID); err == nil {
		return fresh
	}
	return p
}
