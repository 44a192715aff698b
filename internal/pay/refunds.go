package pay

import (
	"context"
	"fmt"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// Refunds (pay.md §4.7). A refund is submitted to the provider and succeeds or fails; refunds
// submitted or succeeded count against the payment, so amount_available is the total less
// them. The payment row keeps that sum (refunded_amount), and a refund is only created by a
// conditional update of it inside the refund's transaction, with the payment row locked: any
// number of concurrent refunds can never add up to more than was captured.

// Refund statuses.
const (
	RefundSubmitted = "submitted"
	RefundSuccess   = "success"
	RefundError     = "error"
)

// Refund is money returned to a payer.
type Refund struct {
	ID          string
	PaymentID   string
	ServiceID   string
	Live        bool
	Amount      int64
	Status      string
	ProviderID  string
	SettledDate string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RefundNotAvailable is a refund the payment cannot take; Reason is the payment's refund
// status, or "amount_not_available" when the amount is more than is left.
type RefundNotAvailable struct{ Reason string }

func (e *RefundNotAvailable) Error() string { return "pay: refund not available: " + e.Reason }

// ErrRefundMismatch is a refund whose expected amount available is not the current one: the
// service's view of the payment is out of date.
var ErrRefundMismatch = failure.New(failure.Conflict, "Refund amount available mismatch.")

// errRefundNotFound is the not-found of a refund lookup.
func errRefundNotFound() error { return failure.New(failure.NotFound, "Refund not found") }

// CreateRefund refunds amount of a payment. expected, when not nil, must equal the amount
// available now (the optimistic check GOV.UK Pay asks for).
func (s *Service) CreateRefund(ctx context.Context, sc Scope, paymentID string, amount int64, expected *int64) (*Refund, error) {
	var p *Payment
	var ref *Refund
	err := s.inTxRetrying(ctx, func(tx *db.Tx) error {
		var err error
		if p, err = inScope(ctx, tx, sc, paymentID); err != nil {
			return err
		}
		available := p.RefundAvailable()
		if st := p.RefundStatus(); st != RefundAvailable {
			return &RefundNotAvailable{Reason: st}
		}
		if expected != nil && *expected != available {
			return ErrRefundMismatch
		}
		if amount > available {
			return &RefundNotAvailable{Reason: "amount_not_available"}
		}
		// The row is found by its id alone, as in transition.
		res, err := tx.Exec(ctx, `UPDATE pay_payments SET refunded_amount = refunded_amount + ?
			WHERE id = ? AND status || '' = ? AND refunded_amount = ? AND refunded_amount + ? <= ?`,
			amount, p.ID, string(StatusCaptured), p.RefundedAmount, amount, p.TotalAmount())
		if err != nil {
			return fmt.Errorf("pay: reserve refund: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errStale
		}
		now := s.now()
		ref = &Refund{ID: NewID(), PaymentID: p.ID, ServiceID: p.ServiceID, Live: p.Live, Amount: amount,
			Status: RefundSubmitted, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.Exec(ctx, `INSERT INTO pay_refunds (id, payment_id, service_id, live, amount, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ref.ID, ref.PaymentID, ref.ServiceID, ref.Live, ref.Amount, ref.Status,
			ref.CreatedAt, ref.UpdatedAt); err != nil {
			return fmt.Errorf("pay: insert refund: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.submitRefund(context.WithoutCancel(ctx), p, ref)
}

// submitRefund sends a refund to the provider and records the answer: success (or still
// submitted, for providers that confirm later) with its ledger row, or error, which gives the
// amount back to the payment.
func (s *Service) submitRefund(ctx context.Context, p *Payment, ref *Refund) (*Refund, error) {
	var result RefundResult
	var callErr error
	if prov, ok := s.provider(p.Provider); ok {
		result, callErr = prov.Refund(ctx, RefundRequest{ServiceID: p.ServiceID, PaymentID: p.ID, RefundID: ref.ID, ProviderID: p.ProviderID, Amount: ref.Amount})
	} else {
		callErr = fmt.Errorf("pay: no provider %q on this node", p.Provider)
	}
	now := s.now()
	status := RefundSubmitted
	switch {
	case callErr != nil:
		s.log.WarnContext(ctx, "pay: refund failed", "payment_id", p.ID, "refund_id", ref.ID, "error", callErr)
		status = RefundError
	case result.Settled:
		status = RefundSuccess
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE pay_refunds SET status = ?, provider_id = ?, updated_at = ? WHERE id = ?",
			status, nullable(result.Reference), now, ref.ID); err != nil {
			return err
		}
		switch status {
		case RefundError:
			_, err := tx.Exec(ctx, "UPDATE pay_payments SET refunded_amount = refunded_amount - ?, updated_at = ? WHERE id = ?",
				ref.Amount, now, p.ID)
			return err
		case RefundSuccess:
			if err := addLedger(ctx, tx, p, ref.ID, "refund", -ref.Amount, now); err != nil {
				return err
			}
			return followRefund(ctx, tx, p, now) // webhooks_emit.go
		}
		return nil
	})
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: record refund: %w", err))
	}
	ref.Status, ref.ProviderID, ref.UpdatedAt = status, result.Reference, now
	return ref, nil
}

const refundColumns = "id, payment_id, service_id, live, amount, status, provider_id, settled_date, created_at, updated_at"

func scanRefund(row scanner) (*Refund, error) {
	var r Refund
	var providerID, settled *string
	if err := row.Scan(&r.ID, &r.PaymentID, &r.ServiceID, &r.Live, &r.Amount, &r.Status, &providerID, &settled,
		&r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, err
	}
	if providerID != nil {
		r.ProviderID = *providerID
	}
	if settled != nil {
		r.SettledDate = *settled
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return &r, nil
}

// Refunds lists a payment's refunds, oldest first.
func (s *Service) Refunds(ctx context.Context, sc Scope, paymentID string) ([]*Refund, error) {
	if _, err := s.payment(ctx, s.db, sc, paymentID); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT "+refundColumns+" FROM pay_refunds WHERE payment_id = ? AND service_id = ? ORDER BY created_at, id",
		paymentID, sc.ServiceID)
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: list refunds: %w", err))
	}
	defer rows.Close()
	var out []*Refund
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, fmt.Errorf("pay: list refunds: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Refund returns one refund of a payment.
func (s *Service) Refund(ctx context.Context, sc Scope, paymentID, refundID string) (*Refund, error) {
	if !validID(paymentID) || !validID(refundID) {
		return nil, errRefundNotFound()
	}
	r, err := scanRefund(s.db.QueryRow(ctx, "SELECT "+refundColumns+` FROM pay_refunds
		WHERE id = ? AND payment_id = ? AND service_id = ? AND live = ?`, refundID, paymentID, sc.ServiceID, sc.Live))
	if db.IsNoRows(err) {
		return nil, errRefundNotFound()
	}
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: read refund: %w", err))
	}
	return r, nil
}
