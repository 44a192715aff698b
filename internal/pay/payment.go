package pay

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// Authorisation modes (authorisation_mode): how the card details reach us.
const (
	ModeWeb       = "web"       // the payer types them on our hosted pages
	ModeMOTOAPI   = "moto_api"  // the service sends them to POST /v1/auth
	ModeAgreement = "agreement" // a card saved against a recurring-payments agreement
	ModeExternal  = "external"  // taken elsewhere and only reported (telephone payments)
)

// Sources (internal.source) say which product created a payment.
const (
	SourceAPI                = "CARD_API"
	SourcePaymentLink        = "CARD_PAYMENT_LINK"
	SourceAgentInitiatedMOTO = "CARD_AGENT_INITIATED_MOTO"
)

// Address is a billing address, prefilled by the service or entered by the payer.
type Address struct {
	Line1, Line2, City, Postcode, Country string
}

func (a Address) empty() bool { return a == Address{} }

// CardDetails is what is kept of a card once it has been sent to the provider: never the full
// number or the CVC.
type CardDetails struct {
	Brand          string // slug, such as "visa" or "master-card"
	Type           string // "credit", "debit" or "" when unknown
	FirstDigits    string // first six digits
	LastDigits     string // last four digits
	ExpiryDate     string // MM/YY
	CardholderName string
	BillingAddress *Address
	WalletType     string // "Apple Pay", "Google Pay" or ""
}

// Payment is one card payment.
type Payment struct {
	ID          string
	ServiceID   string
	Live        bool
	KeyType     apiauth.KeyType
	APIKeyID    string
	Amount      int64
	Reference   string
	Description string
	ReturnURL   string
	Language    string
	Email       string
	// DelayedCapture payments wait, once the payer has confirmed, for the service to capture.
	DelayedCapture bool
	MOTO           bool
	// Metadata is the JSON object the service attached, as stored; nil when none.
	Metadata             json.RawMessage
	AuthorisationMode    string
	AgreementID          string
	AgreementPaymentType string
	SaveToAgreement      bool
	Source               string
	Provider             string
	ProviderID           string
	Status               Status

	PrefilledCardholderName string
	PrefilledAddress        Address

	Card               *CardDetails
	ThreeDSRequired    *bool
	ThreeDSData        string // the provider's challenge, for the hosted 3-D Secure page
	CanRetry           *bool
	CorporateSurcharge *int64
	Fee                *int64
	NetAmount          *int64
	// RefundedAmount is the sum of refunds submitted or succeeded.
	RefundedAmount    int64
	CaptureAttempts   int
	CaptureSubmitTime *time.Time
	CapturedAt        *time.Time
	SettledDate       string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// TotalAmount is what the payer pays: the amount plus any corporate card surcharge.
func (p *Payment) TotalAmount() int64 {
	if p.CorporateSurcharge != nil {
		return p.Amount + *p.CorporateSurcharge
	}
	return p.Amount
}

// RefundAvailable is how much may still be refunded.
func (p *Payment) RefundAvailable() int64 { return p.TotalAmount() - p.RefundedAmount }

// RefundStatus is refund_summary.status.
func (p *Payment) RefundStatus() string { return refundAvailability(p.Status, p.RefundAvailable()) }

const paymentColumns = `id, service_id, live, key_type, api_key_id, amount, reference, description, return_url, language,
	email, delayed_capture, moto, metadata, authorisation_mode, agreement_id, agreement_payment_type, save_to_agreement,
	source, provider, provider_id, status, prefilled_cardholder_name, prefilled_line1, prefilled_line2, prefilled_city,
	prefilled_postcode, prefilled_country, card_brand, card_type, first_digits, last_digits, expiry_date, cardholder_name,
	billing_line1, billing_line2, billing_city, billing_postcode, billing_country, wallet_type, three_ds_required,
	three_ds_data, can_retry, corporate_surcharge, fee, net_amount, refunded_amount, capture_attempts,
	capture_submit_time, captured_at, settled_date, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

// scanPayment reads one row of paymentColumns.
func scanPayment(row scanner) (*Payment, error) {
	var p Payment
	var keyType, status string
	var returnURL, email, metadata, agreementID, agreementType, providerID sql.NullString
	var pName, pLine1, pLine2, pCity, pPostcode, pCountry sql.NullString
	var brand, cardType, first, last, expiry, holder, bLine1, bLine2, bCity, bPostcode, bCountry, wallet sql.NullString
	var threeDS, canRetry sql.NullBool
	var threeDSData, settled sql.NullString
	var surcharge, fee, net sql.NullInt64
	var submitted, captured sql.NullTime
	err := row.Scan(&p.ID, &p.ServiceID, &p.Live, &keyType, &p.APIKeyID, &p.Amount, &p.Reference, &p.Description,
		&returnURL, &p.Language, &email, &p.DelayedCapture, &p.MOTO, &metadata, &p.AuthorisationMode, &agreementID,
		&agreementType, &p.SaveToAgreement, &p.Source, &p.Provider, &providerID, &status, &pName, &pLine1, &pLine2,
		&pCity, &pPostcode, &pCountry, &brand, &cardType, &first, &last, &expiry, &holder, &bLine1, &bLine2, &bCity,
		&bPostcode, &bCountry, &wallet, &threeDS, &threeDSData, &canRetry, &surcharge, &fee, &net, &p.RefundedAmount,
		&p.CaptureAttempts, &submitted, &captured, &settled, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return nil, err
	}
	p.KeyType, p.Status = apiauth.KeyType(keyType), Status(status)
	p.ReturnURL, p.Email, p.AgreementID = returnURL.String, email.String, agreementID.String
	p.AgreementPaymentType, p.ProviderID = agreementType.String, providerID.String
	if metadata.Valid {
		p.Metadata = json.RawMessage(metadata.String)
	}
	p.PrefilledCardholderName = pName.String
	p.PrefilledAddress = Address{Line1: pLine1.String, Line2: pLine2.String, City: pCity.String,
		Postcode: pPostcode.String, Country: pCountry.String}
	if brand.Valid || last.Valid || holder.Valid {
		c := &CardDetails{Brand: brand.String, Type: cardType.String, FirstDigits: first.String, LastDigits: last.String,
			ExpiryDate: expiry.String, CardholderName: holder.String, WalletType: wallet.String}
		a := Address{Line1: bLine1.String, Line2: bLine2.String, City: bCity.String, Postcode: bPostcode.String, Country: bCountry.String}
		if !a.empty() {
			c.BillingAddress = &a
		}
		p.Card = c
	}
	p.ThreeDSRequired, p.CanRetry = nullBool(threeDS), nullBool(canRetry)
	p.ThreeDSData, p.SettledDate = threeDSData.String, settled.String
	p.CorporateSurcharge, p.Fee, p.NetAmount = nullInt(surcharge), nullInt(fee), nullInt(net)
	p.CaptureSubmitTime, p.CapturedAt = nullTime(submitted), nullTime(captured)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

func nullBool(v sql.NullBool) *bool {
	if !v.Valid {
		return nil
	}
	return &v.Bool
}

func nullInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

func nullTime(v sql.NullTime) *time.Time {
	if !v.Valid {
		return nil
	}
	t := v.Time.UTC()
	return &t
}

// nullable stores an empty string as NULL, so that "not given" reads back as absent.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// errPaymentNotFound is the not-found every lookup answers for a payment that does not exist
// or belongs to another service (or the other mode): the caller cannot tell which.
func errPaymentNotFound() error { return failure.New(failure.NotFound, "Payment not found") }

// Scope is whose payments a caller may see: one service, in one mode. Test and team keys see
// test payments; live keys see live payments.
type Scope struct {
	ServiceID string
	Live      bool
}

// scopeOf is the scope of an API caller.
func scopeOf(id apiauth.Identity) Scope {
	return Scope{ServiceID: id.ServiceID, Live: id.KeyType == apiauth.Live}
}

// A payment is always found by its id alone, and its service and mode checked afterwards. On
// PostgreSQL a statement is prepared once per connection and, after a few runs, planned once
// for any values; planned while the table is small, "id = ? AND service_id = ?" can be given
// the index on (service_id, …), which then reads every payment of the service to find one —
// for as long as the connection lives. With the id alone only the primary key can be used.

// payment reads a payment within a scope.
func (s *Service) payment(ctx context.Context, q db.Querier, sc Scope, id string) (*Payment, error) {
	if !validID(id) {
		return nil, errPaymentNotFound()
	}
	p, err := scanPayment(q.QueryRow(ctx, "SELECT "+paymentColumns+" FROM pay_payments WHERE id = ?", id))
	if db.IsNoRows(err) || err == nil && (p.ServiceID != sc.ServiceID || p.Live != sc.Live) {
		return nil, errPaymentNotFound()
	}
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: read payment: %w", err))
	}
	return p, nil
}

// lockPayment reads a payment in tx, locking its row on PostgreSQL until tx ends (SQLite's
// write transaction already excludes every other writer).
func lockPayment(ctx context.Context, tx *db.Tx, id string) (*Payment, error) {
	if !validID(id) {
		return nil, errPaymentNotFound()
	}
	p, err := scanPayment(tx.QueryRow(ctx, "SELECT "+paymentColumns+" FROM pay_payments WHERE id = ?"+tx.ForUpdate(), id))
	if db.IsNoRows(err) {
		return nil, errPaymentNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("pay: read payment: %w", err)
	}
	return p, nil
}

// Payment returns a payment of a service in either mode, for the console and other platforms.
func (s *Service) Payment(ctx context.Context, serviceID, id string) (*Payment, error) {
	if !validID(id) {
		return nil, errPaymentNotFound()
	}
	p, err := scanPayment(s.db.QueryRow(ctx, "SELECT "+paymentColumns+" FROM pay_payments WHERE id = ?", id))
	if db.IsNoRows(err) || err == nil && p.ServiceID != serviceID {
		return nil, errPaymentNotFound()
	}
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: read payment: %w", err))
	}
	return p, nil
}
