package pay

import (
	"context"
	"regexp"
	"strconv"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// The MOTO API (pay.md §4.10): a service's own telephone or mail-order system sends the card
// details of a moto_api payment with the payment's one-time token, and hears at once whether
// they were authorised. An authorised payment goes straight on to capture (or to waiting for
// the service's capture, for delayed capture): there is no confirm page.

// Outcomes of a MOTO authorisation other than success.
var (
	// ErrTokenNotMOTO is a one-time token that belongs to a card-page journey.
	ErrTokenNotMOTO = failure.New(failure.Invalid, "The one_time_token is not a valid moto api token")
	// ErrCardRejected is a card number rejected before it reached the provider.
	ErrCardRejected = failure.New(failure.Invalid, "The card_number is not a valid card number")
	// ErrAuthorisationRejected is the provider declining the payment.
	ErrAuthorisationRejected = failure.New(failure.Invalid, "The payment was rejected")
	// ErrAuthorisationFailed is the provider failing, or not answering in time.
	ErrAuthorisationFailed = failure.New(failure.Unavailable, "There was an error authorising the payment")
)

// expiryPattern is MM/YY.
var expiryPattern = regexp.MustCompile(`^(0[1-9]|1[0-2])/[0-9]{2}$`)

// expiryInFuture reports whether an MM/YY expiry date is this month or later. "This month" is
// taken 12 hours behind UTC, so that a card still valid in a time zone behind UTC is accepted;
// the issuer has the last word.
func expiryInFuture(expiry string, now time.Time) bool {
	month, _ := strconv.Atoi(expiry[:2])
	year, _ := strconv.Atoi(expiry[3:])
	t := now.UTC().Add(-12 * time.Hour)
	cardYear := 2000 + year
	return cardYear > t.Year() || cardYear == t.Year() && month >= int(t.Month())
}

// AuthoriseMOTO redeems a moto_api one-time token and authorises the card. It returns nil once
// authorised, or one of ErrTokenInvalid, ErrTokenUsed, ErrTokenNotMOTO, ErrCardRejected,
// ErrAuthorisationRejected, ErrAuthorisationFailed.
func (s *Service) AuthoriseMOTO(ctx context.Context, token string, card Card) error {
	var p *Payment
	var cardRejected bool
	err := s.inTxRetrying(ctx, func(tx *db.Tx) error {
		var err error
		cardRejected = false
		p, err = redeemToken(ctx, tx, token, tokenMOTO, s.now())
		if err == errTokenWrongKind {
			// A card-page token is told apart from one that does not exist, as the reference does.
			return ErrTokenNotMOTO
		}
		if err != nil {
			return err
		}
		if p.Status != StatusCreated {
			return ErrWrongStep
		}
		if checkCardNumber(card.Number) != nil {
			// The token is spent and the payment fails, so that a MOTO system cannot probe
			// card numbers against one payment.
			cardRejected = true
			return transition(ctx, tx, p, StatusAuthorisationRejected, s.now(), cardSets(card, AuthoriseResult{})...)
		}
		return transition(ctx, tx, p, StatusAuthorisationReady, s.now())
	})
	if err != nil {
		return err
	}
	if cardRejected {
		return ErrCardRejected
	}
	p, _, err = s.authoriseClaimed(ctx, p, card, MOTOAuthTimeout, true)
	if err != nil {
		return err
	}
	switch p.Status {
	case StatusCaptureApproved, StatusAwaitingCaptureRequest, StatusAuthorisationSuccess:
		return nil
	case StatusAuthorisationRejected:
		return ErrAuthorisationRejected
	}
	return ErrAuthorisationFailed
}
