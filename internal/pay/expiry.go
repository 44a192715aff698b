package pay

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/web"
)

// Expiry (pay.md §6.4): a payment the payer has not completed 90 minutes after it was created
// expires (P0020), and so does a delayed-capture payment the service has not captured within 5
// days. A payment that moved in the last 5 minutes is left for the next sweep.

// expiringStatuses may expire after ExpiryWindow; those before authorisation simply expire,
// an authorised one is voided with the provider first.
var expiringStatuses = []Status{
	StatusCreated, StatusEnteringCardDetails, StatusAuthorisationReady, StatusAuthorisation3DSRequired,
	StatusAuthorisation3DSReady, StatusAuthorisationSuccess,
}

// ExpireAbandoned expires every payment past its time and returns how many it expired.
func (s *Service) ExpireAbandoned(ctx context.Context) (int, error) {
	total := 0
	for {
		ids, err := s.expiryCandidates(ctx)
		if err != nil {
			return total, err
		}
		n := 0
		for _, id := range ids {
			expired, err := s.expireOne(ctx, id)
			if err != nil {
				return total, err
			}
			if expired {
				n++
			}
		}
		total += n
		// A full batch in which nothing could be expired would come back the same.
		if len(ids) < sweepBatch || n == 0 {
			return total, nil
		}
	}
}

// expiryCandidates lists payments that look due; expireOne checks each again under lock.
func (s *Service) expiryCandidates(ctx context.Context) ([]string, error) {
	now := s.now()
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(expiringStatuses)), ", ")
	args := []any{}
	for _, st := range expiringStatuses {
		args = append(args, string(st))
	}
	args = append(args, now.Add(-ExpiryWindow), now.Add(-ExpiryGrace), string(StatusAwaitingCaptureRequest),
		now.Add(-DelayedCaptureWindow), now.Add(-ExpiryGrace), sweepBatch)
	rows, err := s.db.Query(ctx, `SELECT id FROM pay_payments WHERE
		(status IN (`+marks+`) AND created_at < ? AND updated_at < ?) OR
		(status = ? AND created_at < ? AND updated_at < ?)
		ORDER BY created_at LIMIT ?`, args...)
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: find expired payments: %w", err))
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// due reports whether a payment should expire now.
func due(p *Payment, now time.Time) bool {
	if !p.UpdatedAt.Before(now.Add(-ExpiryGrace)) {
		return false
	}
	if p.Status == StatusAwaitingCaptureRequest {
		return p.CreatedAt.Before(now.Add(-DelayedCaptureWindow))
	}
	for _, st := range expiringStatuses {
		if p.Status == st {
			return p.CreatedAt.Before(now.Add(-ExpiryWindow))
		}
	}
	return false
}

// expireOne expires one payment if it is still due.
func (s *Service) expireOne(ctx context.Context, id string) (bool, error) {
	var p *Payment
	err := s.inTxRetrying(ctx, func(tx *db.Tx) error {
		var err error
		if p, err = lockPayment(ctx, tx, id); err != nil {
			return err
		}
		now := s.now()
		if !due(p, now) {
			p = nil
			return nil
		}
		if p.Status == StatusAuthorisationSuccess || p.Status == StatusAwaitingCaptureRequest {
			return transition(ctx, tx, p, StatusExpireCancelReady, now)
		}
		return transition(ctx, tx, p, StatusExpired, now)
	})
	if err != nil || p == nil {
		return false, err
	}
	if p.Status == StatusExpireCancelReady {
		if err := s.voidWithProvider(ctx, p, StatusExpired, StatusExpireCancelFailed); err != nil {
			return false, err
		}
	}
	return true, nil
}

// ForgetSpent deletes tokens past their lifetime and idempotency keys past their window. Both
// are refused once expired anyway; this only keeps the tables small.
func (s *Service) ForgetSpent(ctx context.Context) error {
	now := s.now()
	if _, err := s.db.Exec(ctx, "DELETE FROM pay_tokens WHERE expires_at < ?", now); err != nil {
		return web.Unavailable(fmt.Errorf("pay: forget tokens: %w", err))
	}
	if _, err := s.db.Exec(ctx, "DELETE FROM pay_idempotency WHERE created_at < ?", now.Add(-IdempotencyWindow)); err != nil {
		return web.Unavailable(fmt.Errorf("pay: forget idempotency keys: %w", err))
	}
	return nil
}
