package pay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// What a service does to a payment through the API: cancel it, capture it (delayed capture),
// read its history.

// Outcomes of Cancel and Capture the API words specially.
var (
	ErrNotCancellable   = failure.New(failure.Conflict, "The payment cannot be cancelled")
	ErrCancelInProgress = failure.New(failure.Conflict, "The payment is already being cancelled")
	ErrNotCapturable    = failure.New(failure.Conflict, "The payment cannot be captured")
)

// staleRetries bounds how often a decision is taken again after another request moved the
// payment first. Each retry sees a newer status, and every path through the state machine is
// short, so a handful always settles it.
const staleRetries = 5

// inTxRetrying runs fn in a transaction, again from the start whenever a transition in it finds
// the payment moved by someone else.
func (s *Service) inTxRetrying(ctx context.Context, fn func(tx *db.Tx) error) error {
	var err error
	for range staleRetries {
		err = s.db.InTx(ctx, fn)
		if !errors.Is(err, errStale) {
			return web.Unavailable(err)
		}
	}
	return fmt.Errorf("pay: payment kept changing: %w", err)
}

// inScope reads a payment in tx and checks that it belongs to the scope.
func inScope(ctx context.Context, tx *db.Tx, sc Scope, id string) (*Payment, error) {
	p, err := lockPayment(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if p.ServiceID != sc.ServiceID || p.Live != sc.Live {
		return nil, errPaymentNotFound()
	}
	return p, nil
}

// Cancel cancels a payment for the service (pay.md §4.4). Before authorisation it is
// cancelled here; once authorised, the provider voids the authorisation first.
func (s *Service) Cancel(ctx context.Context, sc Scope, id string) error {
	var p *Payment
	err := s.inTxRetrying(ctx, func(tx *db.Tx) error {
		var err error
		if p, err = inScope(ctx, tx, sc, id); err != nil {
			return err
		}
		switch p.Status {
		case StatusCreated, StatusEnteringCardDetails, StatusAuthorisation3DSRequired, StatusAuthorisation3DSReady:
			return transition(ctx, tx, p, StatusSystemCancelled, s.now())
		case StatusAuthorisationSuccess, StatusAwaitingCaptureRequest:
			return transition(ctx, tx, p, StatusSystemCancelReady, s.now())
		case StatusSystemCancelReady, StatusSystemCancelSubmitted:
			return ErrCancelInProgress
		}
		return ErrNotCancellable
	})
	if err != nil || p.Status != StatusSystemCancelReady {
		return err
	}
	return s.voidWithProvider(context.WithoutCancel(ctx), p, StatusSystemCancelled, StatusSystemCancelError)
}

// voidWithProvider asks the provider to void an authorisation, then moves the payment from its
// cancel-ready status to done or failed. The outcome for the service is the same either way
// (the payment will not be taken); a failure is kept for the team to look at.
func (s *Service) voidWithProvider(ctx context.Context, p *Payment, done, failed Status) error {
	to := done
	if prov, ok := s.provider(p.Provider); !ok {
		to = failed
	} else if err := prov.Cancel(ctx, CancelRequest{ServiceID: p.ServiceID, PaymentID: p.ID, ProviderID: p.ProviderID}); err != nil {
		s.log.WarnContext(ctx, "pay: provider could not void an authorisation", "payment_id", p.ID, "error", err)
		to = failed
	}
	return s.inTxRetrying(ctx, func(tx *db.Tx) error {
		cur, err := lockPayment(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if cur.Status != p.Status {
			return nil // someone else finished it
		}
		return transition(ctx, tx, cur, to, s.now())
	})
}

// Capture approves a delayed-capture payment for capture (pay.md §4.5). The external status is
// success at once; the capture job takes the money. Asking again once approved is harmless.
func (s *Service) Capture(ctx context.Context, sc Scope, id string) error {
	return s.inTxRetrying(ctx, func(tx *db.Tx) error {
		p, err := inScope(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		switch p.Status {
		case StatusAwaitingCaptureRequest:
			return s.approveCapture(ctx, tx, p)
		case StatusCaptureApproved, StatusCaptureApprovedRetry, StatusCaptureReady, StatusCaptureSubmitted, StatusCaptured:
			return nil
		}
		return ErrNotCapturable
	})
}

// approveCapture moves an authorised payment on once the payer (or, for delayed capture, the
// service) has approved it, queueing the capture job in the same transaction.
func (s *Service) approveCapture(ctx context.Context, tx *db.Tx, p *Payment) error {
	if err := s.setUpAgreement(ctx, tx, p); err != nil {
		return err
	}
	if p.Status == StatusAuthorisationSuccess && p.DelayedCapture {
		return transition(ctx, tx, p, StatusAwaitingCaptureRequest, s.now())
	}
	if err := transition(ctx, tx, p, StatusCaptureApproved, s.now()); err != nil {
		return err
	}
	return s.queueCapture(ctx, tx, p.ID)
}

// Event is one change of a payment's external state.
type Event struct {
	State External
	At    time.Time
}

// externalEvents derives a payment's external history from its internal one: one entry each
// time the external state changed, oldest first.
func (s *Service) externalEvents(ctx context.Context, p *Payment) ([]Event, error) {
	rows, err := s.db.Query(ctx, "SELECT to_status, at FROM pay_events WHERE payment_id = ? ORDER BY id", p.ID)
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: read events: %w", err))
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var to string
		var at time.Time
		if err := rows.Scan(&to, &at); err != nil {
			return nil, fmt.Errorf("pay: read events: %w", err)
		}
		ext := Status(to).External()
		if n := len(out); n > 0 && out[n-1].State == ext {
			continue
		}
		out = append(out, Event{State: ext, At: at.UTC()})
	}
	return out, rows.Err()
}
