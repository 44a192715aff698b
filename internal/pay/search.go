package pay

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/web"
)

// Searching payments and refunds (pay.md §4.3, §4.7): newest first, a page at a time.

// PaymentFilter narrows a payment search. Zero values do not filter.
type PaymentFilter struct {
	Reference      string // exact, ignoring case
	Email          string // part of, ignoring case
	State          string // external status
	CardBrand      string // brand slug
	FromDate       time.Time
	ToDate         time.Time
	CardholderName string // part of, ignoring case
	FirstDigits    string
	LastDigits     string
	FromSettled    string // YYYY-MM-DD
	ToSettled      string
	AgreementID    string
}

// Page is one page of a search.
type Page struct {
	Number int // from 1
	Size   int
}

// where builds the WHERE clause and its arguments for a payment search within a scope.
func (f PaymentFilter) where(sc Scope) (string, []any) {
	var b strings.Builder
	args := []any{sc.ServiceID, sc.Live}
	b.WriteString("service_id = ? AND live = ?")
	add := func(clause string, a ...any) {
		b.WriteString(" AND " + clause)
		args = append(args, a...)
	}
	if f.Reference != "" {
		add("lower(reference) = lower(?)", f.Reference)
	}
	if f.Email != "" {
		add(`lower(email) LIKE ? ESCAPE '\'`, "%"+likeEscape(strings.ToLower(f.Email))+"%")
	}
	if f.State != "" {
		statuses := externalStatuses(f.State)
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(statuses)), ", ")
		var a []any
		for _, st := range statuses {
			a = append(a, string(st))
		}
		add("status IN ("+marks+")", a...)
	}
	if f.CardBrand != "" {
		add("card_brand = ?", strings.ToLower(f.CardBrand))
	}
	if !f.FromDate.IsZero() {
		add("created_at >= ?", f.FromDate)
	}
	if !f.ToDate.IsZero() {
		add("created_at < ?", f.ToDate)
	}
	if f.CardholderName != "" {
		add(`lower(cardholder_name) LIKE ? ESCAPE '\'`, "%"+likeEscape(strings.ToLower(f.CardholderName))+"%")
	}
	if f.FirstDigits != "" {
		add("first_digits = ?", f.FirstDigits)
	}
	if f.LastDigits != "" {
		add("last_digits = ?", f.LastDigits)
	}
	if f.FromSettled != "" {
		add("settled_date >= ?", f.FromSettled)
	}
	if f.ToSettled != "" {
		add("settled_date <= ?", f.ToSettled)
	}
	if f.AgreementID != "" {
		add("agreement_id = ?", f.AgreementID)
	}
	return b.String(), args
}

// likeEscape makes a search term match itself literally inside a LIKE pattern.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// SearchPayments returns one page of a scope's payments matching f, and how many match in all.
func (s *Service) SearchPayments(ctx context.Context, sc Scope, f PaymentFilter, pg Page) ([]*Payment, int, error) {
	where, args := f.where(sc)
	var total int
	if err := s.db.QueryRow(ctx, "SELECT count(*) FROM pay_payments WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, web.Unavailable(fmt.Errorf("pay: count payments: %w", err))
	}
	rows, err := s.db.Query(ctx, "SELECT "+paymentColumns+" FROM pay_payments WHERE "+where+
		" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", append(args, pg.Size, (pg.Number-1)*pg.Size)...)
	if err != nil {
		return nil, 0, web.Unavailable(fmt.Errorf("pay: search payments: %w", err))
	}
	defer rows.Close()
	var out []*Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("pay: search payments: %w", err)
		}
		out = append(out, p)
	}
	return out, total, rows.Err()
}

// RefundFilter narrows a refund search.
type RefundFilter struct {
	FromDate, ToDate       time.Time
	FromSettled, ToSettled string
}

// SearchRefunds returns one page of a scope's refunds matching f, and how many match in all.
func (s *Service) SearchRefunds(ctx context.Context, sc Scope, f RefundFilter, pg Page) ([]*Refund, int, error) {
	where := "service_id = ? AND live = ?"
	args := []any{sc.ServiceID, sc.Live}
	if !f.FromDate.IsZero() {
		where += " AND created_at >= ?"
		args = append(args, f.FromDate)
	}
	if !f.ToDate.IsZero() {
		where += " AND created_at < ?"
		args = append(args, f.ToDate)
	}
	if f.FromSettled != "" {
		where += " AND settled_date >= ?"
		args = append(args, f.FromSettled)
	}
	if f.ToSettled != "" {
		where += " AND settled_date <= ?"
		args = append(args, f.ToSettled)
	}
	var total int
	if err := s.db.QueryRow(ctx, "SELECT count(*) FROM pay_refunds WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, web.Unavailable(fmt.Errorf("pay: count refunds: %w", err))
	}
	rows, err := s.db.Query(ctx, "SELECT "+refundColumns+" FROM pay_refunds WHERE "+where+
		" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", append(args, pg.Size, (pg.Number-1)*pg.Size)...)
	if err != nil {
		return nil, 0, web.Unavailable(fmt.Errorf("pay: search refunds: %w", err))
	}
	defer rows.Close()
	var out []*Refund
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("pay: search refunds: %w", err)
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}
