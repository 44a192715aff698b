package pay

import (
	"context"
	"fmt"
	"time"

	"github.com/commons-gov/commons/internal/db"
)

// CaptureOnce makes one attempt at capturing an approved payment, and reports whether it should
// be tried again later. It is what the capture job runs; calling it for a payment that is
// captured already, or was never approved, does nothing.
//
// The attempt is split around the provider call: one transaction claims the payment (CAPTURE
// READY) and counts the attempt, the call happens outside any transaction, and a second
// transaction records the result. A crash in between leaves the payment CAPTURE READY, which
// the job's next run picks up again.
func (s *Service) CaptureOnce(ctx context.Context, id string) (retry bool, err error) {
	var p *Payment
	err = s.inTxRetrying(ctx, func(tx *db.Tx) error {
		var err error
		if p, err = lockPayment(ctx, tx, id); err != nil {
			return err
		}
		attempt := set{"capture_attempts", p.CaptureAttempts + 1}
		switch p.Status {
		case StatusCaptureApproved, StatusCaptureApprovedRetry:
			at := s.now()
			if err := transition(ctx, tx, p, StatusCaptureReady, at, attempt, set{"capture_submit_time", at}); err != nil {
				return err
			}
		case StatusCaptureReady:
			if _, err := tx.Exec(ctx, "UPDATE pay_payments SET capture_attempts = ? WHERE id = ?", attempt.val, p.ID); err != nil {
				return err
			}
		default:
			p = nil
			return nil
		}
		p.CaptureAttempts++
		return nil
	})
	if err != nil || p == nil {
		return false, err
	}
	ctx = context.WithoutCancel(ctx)
	var result CaptureResult
	var captureErr error
	if prov, ok := s.provider(p.Provider); ok {
		result, captureErr = prov.Capture(ctx, CaptureRequest{ServiceID: p.ServiceID, PaymentID: p.ID, ProviderID: p.ProviderID, Amount: p.TotalAmount()})
	} else {
		captureErr = fmt.Errorf("pay: no provider %q on this node", p.Provider)
	}
	err = s.inTxRetrying(ctx, func(tx *db.Tx) error {
		retry = false
		cur, err := lockPayment(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Status != StatusCaptureReady {
			return nil
		}
		now := s.now()
		if captureErr == nil {
			return s.recordCapture(ctx, tx, cur, result, now)
		}
		s.log.WarnContext(ctx, "pay: capture failed", "payment_id", id, "attempt", cur.CaptureAttempts, "error", captureErr)
		if cur.CaptureAttempts > MaxCaptureRetries {
			return transition(ctx, tx, cur, StatusCaptureError, now)
		}
		retry = true
		return transition(ctx, tx, cur, StatusCaptureApprovedRetry, now)
	})
	return retry, err
}

// recordCapture marks a payment captured and writes the money that moved to the ledger.
func (s *Service) recordCapture(ctx context.Context, tx *db.Tx, p *Payment, r CaptureResult, at time.Time) error {
	sets := []set{{"captured_at", at}}
	if r.Fee != nil {
		net := p.TotalAmount() - *r.Fee
		sets = append(sets, set{"fee", *r.Fee}, set{"net_amount", net})
	}
	if err := transition(ctx, tx, p, StatusCaptured, at, sets...); err != nil {
		return err
	}
	if err := addLedger(ctx, tx, p, "", "capture", p.TotalAmount(), at); err != nil {
		return err
	}
	if r.Fee != nil {
		return addLedger(ctx, tx, p, "", "fee", -*r.Fee, at)
	}
	return nil
}

// addLedger appends one money movement. The ledger is only ever appended to (the database
// refuses updates and deletes), so it is the record to reconcile against.
func addLedger(ctx context.Context, tx *db.Tx, p *Payment, refundID, kind string, amount int64, at time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO pay_ledger (service_id, live, payment_id, refund_id, kind, amount, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, p.ServiceID, p.Live, p.ID, nullable(refundID), kind, amount, at); err != nil {
		return fmt.Errorf("pay: ledger %s: %w", kind, err)
	}
	return nil
}
