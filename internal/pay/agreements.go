package pay

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// Agreements (pay.md §4.9): a service's standing permission to take recurring payments from a
// payer's saved card. An agreement starts `created`; a payment made with set_up_agreement saves
// the payer's card, and once the payer confirms that payment the agreement is `active` and
// payments in authorisation_mode "agreement" charge the card with nobody present. The service
// may cancel an active agreement; a recurring payment the provider refuses for good makes it
// `inactive`. Either can be made active again by another set-up payment, with a new card.

// Agreement statuses, stored and shown as they are.
const (
	AgreementCreated   = "created"
	AgreementActive    = "active"
	AgreementCancelled = "cancelled"
	AgreementInactive  = "inactive"
)

// Payment instrument statuses: a saved card is created when the provider authorises the set-up
// payment, active once it is the agreement's card, cancelled when replaced or when its agreement
// is cancelled.
const (
	instrumentCreated   = "created"
	instrumentActive    = "active"
	instrumentCancelled = "cancelled"
)

// Agreement events, named as GOV.UK Pay's ledger names them.
const (
	eventAgreementCreated     = "AgreementCreated"
	eventAgreementSetUp       = "AgreementSetUp"
	eventAgreementCancelled   = "AgreementCancelledByService"
	eventAgreementInactivated = "AgreementInactivated"
)

// Agreement is one recurring-payments agreement.
type Agreement struct {
	ID             string
	ServiceID      string
	Live           bool
	Reference      string
	Description    string
	UserIdentifier string
	Status         string
	// Instrument is the saved card, once a set-up payment saved one; nil before.
	Instrument  *PaymentInstrument
	CreatedAt   time.Time
	CancelledAt *time.Time
	UpdatedAt   time.Time
}

// PaymentInstrument is a saved card: what may be kept of it, and the provider's reference for
// charging it again. Never the card number or the security code.
type PaymentInstrument struct {
	ID        string
	PaymentID string // the set-up payment that saved it
	Status    string
	Provider  string
	// Token is the provider's reusable reference to the card.
	Token     string
	Card      CardDetails
	CreatedAt time.Time
}

// NewAgreement is an agreement to create, already checked against the API's rules.
type NewAgreement struct {
	Reference      string
	Description    string
	UserIdentifier string
}

// Agreement failures.
var (
	// ErrAgreementNotActive is a cancellation of an agreement that is not active.
	ErrAgreementNotActive = failure.New(failure.Conflict, "Only an active agreement can be cancelled")
)

// errAgreementNotFound is the not-found every lookup answers for an agreement that does not
// exist or belongs to another service or mode.
func errAgreementNotFound() error { return failure.New(failure.NotFound, "Agreement not found") }

// agreementColumns reads an agreement with its current card, if any.
const agreementColumns = `a.id, a.service_id, a.live, a.reference, a.description, a.user_identifier, a.status,
	a.created_at, a.cancelled_at, a.updated_at, i.id, i.payment_id, i.status, i.provider, i.provider_token,
	i.card_brand, i.card_type, i.first_digits, i.last_digits, i.expiry_date, i.cardholder_name, i.billing_line1,
	i.billing_line2, i.billing_city, i.billing_postcode, i.billing_country, i.created_at`

const agreementFrom = ` FROM pay_agreements a LEFT JOIN pay_payment_instruments i ON i.id = a.payment_instrument_id`

func scanAgreement(row scanner) (*Agreement, error) {
	var a Agreement
	var userID, instID, instPayment, instStatus, instProvider, token sql.NullString
	var brand, cardType, first, last, expiry, holder, line1, line2, city, postcode, country sql.NullString
	var cancelled, instCreated sql.NullTime
	err := row.Scan(&a.ID, &a.ServiceID, &a.Live, &a.Reference, &a.Description, &userID, &a.Status, &a.CreatedAt,
		&cancelled, &a.UpdatedAt, &instID, &instPayment, &instStatus, &instProvider, &token, &brand, &cardType, &first,
		&last, &expiry, &holder, &line1, &line2, &city, &postcode, &country, &instCreated)
	if err != nil {
		return nil, err
	}
	a.UserIdentifier = userID.String
	a.CreatedAt, a.UpdatedAt, a.CancelledAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC(), nullTime(cancelled)
	if instID.Valid {
		inst := &PaymentInstrument{ID: instID.String, PaymentID: instPayment.String, Status: instStatus.String,
			Provider: instProvider.String, Token: token.String, CreatedAt: instCreated.Time.UTC(),
			Card: CardDetails{Brand: brand.String, Type: cardType.String, FirstDigits: first.String, LastDigits: last.String,
				ExpiryDate: expiry.String, CardholderName: holder.String}}
		addr := Address{Line1: line1.String, Line2: line2.String, City: city.String, Postcode: postcode.String, Country: country.String}
		if !addr.empty() {
			inst.Card.BillingAddress = &addr
		}
		a.Instrument = inst
	}
	return &a, nil
}

// CreateAgreement stores a new agreement, status created, and its first event.
func (s *Service) CreateAgreement(ctx context.Context, sc Scope, na NewAgreement) (*Agreement, error) {
	now := s.now()
	a := &Agreement{ID: NewID(), ServiceID: sc.ServiceID, Live: sc.Live, Reference: na.Reference,
		Description: na.Description, UserIdentifier: na.UserIdentifier, Status: AgreementCreated, CreatedAt: now, UpdatedAt: now}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO pay_agreements (id, service_id, live, reference, description, user_identifier,
			status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.ServiceID, a.Live, a.Reference,
			a.Description, nullable(a.UserIdentifier), a.Status, a.CreatedAt, a.UpdatedAt); err != nil {
			return fmt.Errorf("pay: insert agreement: %w", err)
		}
		return recordAgreementEvent(ctx, tx, a.ID, a.ServiceID, eventAgreementCreated, "", now)
	})
	if err != nil {
		return nil, web.Unavailable(err)
	}
	return a, nil
}

// Agreement returns an agreement within a scope.
func (s *Service) Agreement(ctx context.Context, sc Scope, id string) (*Agreement, error) {
	return agreementInScope(ctx, s.db, sc, id, "")
}

// agreementInScope reads an agreement of a scope through q, with suffix (a row lock, say)
// appended to the query.
func agreementInScope(ctx context.Context, q db.Querier, sc Scope, id, suffix string) (*Agreement, error) {
	if !validID(id) {
		return nil, errAgreementNotFound()
	}
	// Found by its id alone, then checked, for the reason payment.go gives.
	a, err := scanAgreement(q.QueryRow(ctx, "SELECT "+agreementColumns+agreementFrom+" WHERE a.id = ?"+suffix, id))
	if db.IsNoRows(err) || err == nil && (a.ServiceID != sc.ServiceID || a.Live != sc.Live) {
		return nil, errAgreementNotFound()
	}
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: read agreement: %w", err))
	}
	return a, nil
}

// lockAgreement reads an agreement in tx, locking its row on PostgreSQL until tx ends. Only the
// agreement's own row is locked (FOR UPDATE OF a): its card's row is never changed in place
// by anyone else.
func lockAgreement(ctx context.Context, tx *db.Tx, sc Scope, id string) (*Agreement, error) {
	suffix := ""
	if tx.ForUpdate() != "" {
		suffix = " FOR UPDATE OF a"
	}
	return agreementInScope(ctx, tx, sc, id, suffix)
}

// AgreementFilter narrows an agreement search. Zero values do not filter.
type AgreementFilter struct {
	Reference string // exact, ignoring case
	Status    string
}

// SearchAgreements returns one page of a scope's agreements matching f, newest first, and how
// many match in all.
func (s *Service) SearchAgreements(ctx context.Context, sc Scope, f AgreementFilter, pg Page) ([]*Agreement, int, error) {
	where := "a.service_id = ? AND a.live = ?"
	args := []any{sc.ServiceID, sc.Live}
	if f.Reference != "" {
		where += " AND lower(a.reference) = lower(?)"
		args = append(args, f.Reference)
	}
	if f.Status != "" {
		where += " AND a.status = ?"
		args = append(args, strings.ToLower(f.Status))
	}
	var total int
	if err := s.db.QueryRow(ctx, "SELECT count(*) FROM pay_agreements a WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, web.Unavailable(fmt.Errorf("pay: count agreements: %w", err))
	}
	rows, err := s.db.Query(ctx, "SELECT "+agreementColumns+agreementFrom+" WHERE "+where+
		" ORDER BY a.created_at DESC, a.id DESC LIMIT ? OFFSET ?", append(args, pg.Size, (pg.Number-1)*pg.Size)...)
	if err != nil {
		return nil, 0, web.Unavailable(fmt.Errorf("pay: search agreements: %w", err))
	}
	defer rows.Close()
	var out []*Agreement
	for rows.Next() {
		a, err := scanAgreement(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("pay: search agreements: %w", err)
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// CancelAgreement cancels an active agreement for the service: no more recurring payments can
// be taken with it, and its saved card is no longer used.
func (s *Service) CancelAgreement(ctx context.Context, sc Scope, id string) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		a, err := lockAgreement(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		if a.Status != AgreementActive {
			return ErrAgreementNotActive
		}
		now := s.now()
		if _, err := tx.Exec(ctx, "UPDATE pay_agreements SET status = ?, cancelled_at = ?, updated_at = ? WHERE id = ?",
			AgreementCancelled, now, now, a.ID); err != nil {
			return fmt.Errorf("pay: cancel agreement: %w", err)
		}
		if _, err := tx.Exec(ctx, "UPDATE pay_payment_instruments SET status = ?, updated_at = ? WHERE agreement_id = ? AND status = ?",
			instrumentCancelled, now, a.ID, instrumentActive); err != nil {
			return fmt.Errorf("pay: cancel agreement's card: %w", err)
		}
		return recordAgreementEvent(ctx, tx, a.ID, a.ServiceID, eventAgreementCancelled, "", now)
	})
	return web.Unavailable(err)
}

// recordAgreementEvent appends one row to an agreement's history.
func recordAgreementEvent(ctx context.Context, tx *db.Tx, agreementID, serviceID, event, paymentID string, at time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO pay_agreement_events (agreement_id, service_id, event, payment_id, at)
		VALUES (?, ?, ?, ?, ?)`, agreementID, serviceID, event, nullable(paymentID), at); err != nil {
		return fmt.Errorf("pay: record %s: %w", event, err)
	}
	return nil
}
