package pay

import (
	"context"
	"fmt"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// The payer's journey through the hosted card pages (pay.md §7.2). The pages themselves are
// built on these methods. They identify a payment by id alone: the pages hold the id in the
// payer's session once StartWithToken has redeemed the one-time token for it, and must never
// take one from anywhere else.

// ErrWrongStep is a journey step asked of a payment that is not at that step (the payer went
// back, or the payment expired or was cancelled meanwhile). The page shows the payment's
// current state instead.
var ErrWrongStep = failure.New(failure.Conflict, "The payment is not at this step")

// StartWithToken redeems next_url's one-time token and returns its payment. A payment not
// started yet moves to ENTERING CARD DETAILS (external "started"); one further along is
// returned as it is, for the page to show where it stands. A token works once: ErrTokenUsed
// after that, ErrTokenInvalid for one that is unknown, expired or not a card-page token.
func (s *Service) StartWithToken(ctx context.Context, token string) (*Payment, error) {
	var p *Payment
	err := s.inTxRetrying(ctx, func(tx *db.Tx) error {
		var err error
		p, err = redeemToken(ctx, tx, token, tokenWeb, s.now())
		if err == errTokenWrongKind {
			return ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		if p.Status == StatusCreated {
			return transition(ctx, tx, p, StatusEnteringCardDetails, s.now())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// PaymentForPage returns a payment for a page to show.
func (s *Service) PaymentForPage(ctx context.Context, id string) (*Payment, error) {
	if !validID(id) {
		return nil, errPaymentNotFound()
	}
	p, err := scanPayment(s.db.QueryRow(ctx, "SELECT "+paymentColumns+" FROM pay_payments WHERE id = ?", id))
	if db.IsNoRows(err) {
		return nil, errPaymentNotFound()
	}
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: read payment: %w", err))
	}
	return p, nil
}

// Authorise sends the card the payer entered to the provider. The returned payment's status
// says what happened: AUTHORISATION SUCCESS (show the confirm page), AUTHORISATION 3DS
// REQUIRED (show the challenge in ThreeDSData), or a finished status (show the outcome).
// ErrCardInvalid means the number could not be a card, and nothing changed.
func (s *Service) Authorise(ctx context.Context, id string, card Card) (*Payment, error) {
	if err := checkCardNumber(card.Number); err != nil {
		return nil, err
	}
	p, err := s.claim(ctx, id, []Status{StatusEnteringCardDetails}, StatusAuthorisationReady)
	if err != nil {
		return nil, err
	}
	p, _, err = s.authoriseClaimed(ctx, p, card, AuthTimeout, false)
	return p, err
}

// Authorise3DS completes an authorisation once the payer has been through the 3-D Secure
// challenge.
func (s *Service) Authorise3DS(ctx context.Context, id string, result ThreeDSResult) (*Payment, error) {
	p, err := s.claim(ctx, id, []Status{StatusAuthorisation3DSRequired}, StatusAuthorisation3DSReady)
	if err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	res := AuthoriseResult{Outcome: ProviderError}
	var callErr error
	if prov, ok := s.provider(p.Provider); ok {
		res, callErr = prov.Authorise3DS(ctx, ThreeDSRequest{ServiceID: p.ServiceID, PaymentID: p.ID, ProviderID: p.ProviderID,
			Amount: p.TotalAmount(), Result: result, SetUpAgreement: p.SaveToAgreement})
	}
	to, sets := authorisationOutcome(res, callErr)
	if to == StatusAuthorisationTimeout || to == StatusAuthorisationUnexpected {
		to = StatusAuthorisationError // the only error status 3DS READY may go to
	}
	err = s.inTxRetrying(ctx, func(tx *db.Tx) error {
		cur, err := lockPayment(ctx, tx, id)
		if err != nil || cur.Status != StatusAuthorisation3DSReady {
			return err
		}
		if err := transition(ctx, tx, cur, to, s.now(), sets...); err != nil {
			return err
		}
		return s.saveCard(ctx, tx, cur, res.RecurringToken)
	})
	if err != nil {
		return nil, err
	}
	return s.reread(ctx, p), nil
}

// Confirm is the payer pressing "Confirm payment": the payment is approved for capture, or,
// for delayed capture, waits for the service to capture it.
func (s *Service) Confirm(ctx context.Context, id string) (*Payment, error) {
	var p *Payment
	err := s.inTxRetrying(ctx, func(tx *db.Tx) error {
		var err error
		if p, err = lockPayment(ctx, tx, id); err != nil {
			return err
		}
		if p.Status != StatusAuthorisationSuccess {
			return ErrWrongStep
		}
		return s.approveCapture(ctx, tx, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// UserCancel is the payer pressing "Cancel payment". An authorised payment is voided with the
// provider first.
func (s *Service) UserCancel(ctx context.Context, id string) (*Payment, error) {
	var p *Payment
	err := s.inTxRetrying(ctx, func(tx *db.Tx) error {
		var err error
		if p, err = lockPayment(ctx, tx, id); err != nil {
			return err
		}
		switch p.Status {
		case StatusCreated, StatusEnteringCardDetails, StatusAuthorisationReady, StatusAuthorisation3DSRequired,
			StatusAuthorisation3DSReady:
			return transition(ctx, tx, p, StatusUserCancelled, s.now())
		case StatusAuthorisationSuccess:
			return transition(ctx, tx, p, StatusUserCancelReady, s.now())
		}
		return ErrWrongStep
	})
	if err != nil {
		return nil, err
	}
	if p.Status == StatusUserCancelReady {
		if err := s.voidWithProvider(context.WithoutCancel(ctx), p, StatusUserCancelled, StatusUserCancelError); err != nil {
			return nil, err
		}
		p = s.reread(ctx, p)
	}
	return p, nil
}

// claim moves a payment from one of the given statuses to the next, or fails with ErrWrongStep.
func (s *Service) claim(ctx context.Context, id string, from []Status, to Status) (*Payment, error) {
	var p *Payment
	err := s.inTxRetrying(ctx, func(tx *db.Tx) error {
		var err error
		if p, err = lockPayment(ctx, tx, id); err != nil {
			return err
		}
		for _, f := range from {
			if p.Status == f {
				return transition(ctx, tx, p, to, s.now())
			}
		}
		return ErrWrongStep
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}
