package pay

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/web"
)

// Reads the console needs beyond the API's: a payment's full history, every payment of a search
// one at a time for an export, and the ledger's movements for reconciliation. Each filters by
// the service (and mode) it is given, as every query in Pay does.

// PaymentEvent is one change of a payment's internal status, as recorded.
type PaymentEvent struct {
	Event    string
	From, To Status
	At       time.Time
}

// maxShownPaymentEvents bounds a payment's history on its page; a payment changes status a
// dozen times at most, even with capture retries.
const maxShownPaymentEvents = 200

// PaymentEvents returns a payment's history, oldest first.
func (s *Service) PaymentEvents(ctx context.Context, serviceID, paymentID string) ([]PaymentEvent, error) {
	rows, err := s.db.Query(ctx, `SELECT event, from_status, to_status, at FROM pay_events
		WHERE payment_id = ? AND service_id = ? ORDER BY id LIMIT ?`, paymentID, serviceID, maxShownPaymentEvents)
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: read events: %w", err))
	}
	defer rows.Close()
	var out []PaymentEvent
	for rows.Next() {
		var e PaymentEvent
		var from, to string
		if err := rows.Scan(&e.Event, &from, &to, &e.At); err != nil {
			return nil, fmt.Errorf("pay: read events: %w", err)
		}
		e.From, e.To, e.At = Status(from), Status(to), e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// EachPayment calls fn with every payment of a scope matching f, newest first, reading them one
// at a time so that an export of any size is written as it is read. fn's error stops the walk
// and is returned.
func (s *Service) EachPayment(ctx context.Context, sc Scope, f PaymentFilter, fn func(*Payment) error) error {
	where, args := f.where(sc)
	rows, err := s.db.Query(ctx, "SELECT "+paymentColumns+" FROM pay_payments WHERE "+where+" ORDER BY created_at DESC, id DESC", args...)
	if err != nil {
		return web.Unavailable(fmt.Errorf("pay: export payments: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return fmt.Errorf("pay: export payments: %w", err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LedgerEntry is one movement of money in pay_ledger, with the reference of its payment.
type LedgerEntry struct {
	Kind      string // capture, refund, fee (or payment)
	Amount    int64  // signed pence, from the service's point of view
	PaymentID string
	RefundID  string
	Reference string
	At        time.Time
}

// EachLedgerEntry calls fn with every movement of a scope's money at or after from and before
// until, oldest first.
func (s *Service) EachLedgerEntry(ctx context.Context, sc Scope, from, until time.Time, fn func(LedgerEntry) error) error {
	rows, err := s.db.Query(ctx, `SELECT l.kind, l.amount, l.payment_id, l.refund_id, COALESCE(p.reference, ''), l.at
		FROM pay_ledger l LEFT JOIN pay_payments p ON p.id = l.payment_id AND p.service_id = l.service_id
		WHERE l.service_id = ? AND l.live = ? AND l.at >= ? AND l.at < ? ORDER BY l.at, l.id`,
		sc.ServiceID, sc.Live, from.UTC(), until.UTC())
	if err != nil {
		return web.Unavailable(fmt.Errorf("pay: read ledger: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var e LedgerEntry
		var refundID sql.NullString
		if err := rows.Scan(&e.Kind, &e.Amount, &e.PaymentID, &refundID, &e.Reference, &e.At); err != nil {
			return fmt.Errorf("pay: read ledger: %w", err)
		}
		e.RefundID, e.At = refundID.String, e.At.UTC()
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// linkOfPayment returns the link a payment was started through; ok is false for a payment
// that was not started through one.
func (s *Service) linkOfPayment(ctx context.Context, serviceID, paymentID string) (l *Link, ok bool, err error) {
	var linkID string
	err = s.db.QueryRow(ctx, "SELECT link_id FROM pay_link_payments WHERE payment_id = ? AND service_id = ?",
		paymentID, serviceID).Scan(&linkID)
	if db.IsNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, web.Unavailable(fmt.Errorf("pay: read link payment: %w", err))
	}
	if l, err = s.readLink(ctx, s.db, "id = ? AND service_id = ?", linkID, serviceID); err != nil {
		return nil, false, err
	}
	return l, true, nil
}
