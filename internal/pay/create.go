package pay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/web"
)

// NewPayment is a payment to create, already checked against the API's rules.
type NewPayment struct {
	Amount                  int64           `json:"amount"`
	Reference               string          `json:"reference"`
	Description             string          `json:"description"`
	ReturnURL               string          `json:"return_url,omitempty"`
	Language                string          `json:"language"`
	Email                   string          `json:"email,omitempty"`
	DelayedCapture          bool            `json:"delayed_capture"`
	MOTO                    bool            `json:"moto"`
	Metadata                json.RawMessage `json:"metadata,omitempty"`
	AuthorisationMode       string          `json:"authorisation_mode"`
	AgreementID             string          `json:"agreement_id,omitempty"`
	AgreementPaymentType    string          `json:"agreement_payment_type,omitempty"`
	SetUpAgreement          string          `json:"set_up_agreement,omitempty"`
	Source                  string          `json:"source"`
	PrefilledCardholderName string          `json:"prefilled_cardholder_name,omitempty"`
	PrefilledAddress        Address         `json:"prefilled_address"`
	// Provider takes the payment; the API decides it from the key and the service's settings.
	Provider string `json:"-"`
}

// hash identifies a request for idempotency: two creates are "the same" when their parsed
// requests are, whatever the spacing or key order of the JSON they came in.
func (np NewPayment) hash() string {
	b, _ := json.Marshal(np)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// IdempotencyWindow is how long an Idempotency-Key is remembered (pay.md §6.4).
const IdempotencyWindow = 24 * time.Hour

// created is the outcome of a create.
type created struct {
	payment *Payment
	token   string // for next_url or auth_url_post; "" when the payment needs none
	replay  bool   // an earlier create with the same Idempotency-Key and body
}

// create stores a new payment, its first event and its first token in one transaction: shared
// with the other creates ready at the same moment (create_batch.go), unless it has an
// Idempotency-Key or is a recurring payment. With an Idempotency-Key, a repeat of an earlier
// create within the window answers with the earlier payment instead, and a different request
// with the same key is refused.
func (s *Service) create(ctx context.Context, caller apiauth.Identity, np NewPayment, idempotencyKey string) (created, error) {
	sc := scopeOf(caller)
	now := s.now()
	p := &Payment{
		ID: NewID(), ServiceID: caller.ServiceID, Live: sc.Live, KeyType: caller.KeyType, APIKeyID: caller.KeyID,
		Amount: np.Amount, Reference: np.Reference, Description: np.Description, ReturnURL: np.ReturnURL,
		Language: np.Language, Email: np.Email, DelayedCapture: np.DelayedCapture, MOTO: np.MOTO, Metadata: np.Metadata,
		AuthorisationMode: np.AuthorisationMode, AgreementID: np.AgreementID, AgreementPaymentType: np.AgreementPaymentType,
		SaveToAgreement: np.SetUpAgreement != "", Source: np.Source, Provider: np.Provider, Status: StatusCreated,
		PrefilledCardholderName: np.PrefilledCardholderName, PrefilledAddress: np.PrefilledAddress,
		CreatedAt: now, UpdatedAt: now,
	}
	if np.SetUpAgreement != "" {
		p.AgreementID = np.SetUpAgreement
	}
	if idempotencyKey == "" && p.AuthorisationMode != ModeAgreement {
		token, err := s.creates.submit(ctx, s, p)
		if err != nil {
			return created{}, web.Unavailable(err)
		}
		return created{payment: p, token: token}, nil
	}
	var out created
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		out = created{}
		if idempotencyKey != "" {
			earlier, err := s.idempotentReplay(ctx, tx, sc, idempotencyKey, np.hash(), now)
			if err != nil {
				return err
			}
			if earlier != nil {
				out.payment, out.replay = earlier, true
				return out.mintToken(ctx, tx, now)
			}
		}
		if err := insertPayment(ctx, tx, p); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx, p.ID, p.ServiceID, StatusUndefined, StatusCreated, "PaymentCreated", now); err != nil {
			return err
		}
		if err := s.queueAgreementPayment(ctx, tx, p); err != nil {
			return err
		}
		if idempotencyKey != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO pay_idempotency (service_id, live, idempotency_key, request_hash, payment_id, created_at)
				VALUES (?, ?, ?, ?, ?, ?)`, sc.ServiceID, sc.Live, idempotencyKey, np.hash(), p.ID, now); err != nil {
				if db.IsUniqueViolation(err) {
					// Another create with this key committed while this one ran.
					return errIdempotencyConflict
				}
				return fmt.Errorf("pay: record idempotency key: %w", err)
			}
		}
		out.payment = p
		return out.mintToken(ctx, tx, now)
	})
	if err != nil {
		return created{}, web.Unavailable(err)
	}
	return out, nil
}

// mintToken gives the answer its one-time token, when the payment's links need one, in the
// create's own transaction: one commit per create rather than two, which on SQLite's single
// writer is most of what a create costs. A replay gets a fresh token as a new payment does.
func (c *created) mintToken(ctx context.Context, tx *db.Tx, now time.Time) error {
	if !needsNextURL(c.payment) {
		return nil
	}
	var err error
	c.token, err = mintToken(ctx, tx, c.payment, now)
	return err
}

// idempotentReplay looks up an Idempotency-Key: the earlier payment when the request is the
// same, errIdempotencyConflict when it is not, or nil when the key is new (or expired, in which
// case its record is forgotten).
func (s *Service) idempotentReplay(ctx context.Context, tx *db.Tx, sc Scope, key, hash string, now time.Time) (*Payment, error) {
	var earlierHash, paymentID string
	var at time.Time
	err := tx.QueryRow(ctx, `SELECT request_hash, payment_id, created_at FROM pay_idempotency
		WHERE service_id = ? AND live = ? AND idempotency_key = ?`+tx.ForUpdate(), sc.ServiceID, sc.Live, key).
		Scan(&earlierHash, &paymentID, &at)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pay: read idempotency key: %w", err)
	}
	if !at.After(now.Add(-IdempotencyWindow)) {
		_, err := tx.Exec(ctx, "DELETE FROM pay_idempotency WHERE service_id = ? AND live = ? AND idempotency_key = ?",
			sc.ServiceID, sc.Live, key)
		return nil, err
	}
	if earlierHash != hash {
		return nil, errIdempotencyConflict
	}
	return s.payment(ctx, tx, sc, paymentID)
}

// insertPayment writes a new payment row.
func insertPayment(ctx context.Context, tx *db.Tx, p *Payment) error {
	if _, err := tx.Exec(ctx, insertPaymentSQL, paymentRow(p)...); err != nil {
		return fmt.Errorf("pay: insert payment: %w", err)
	}
	return nil
}

// paymentInsertColumns are the columns a new payment row is written with, in paymentRow's order.
const paymentInsertColumns = `id, service_id, live, key_type, api_key_id, amount, reference,
	description, return_url, language, email, delayed_capture, moto, metadata, authorisation_mode, agreement_id,
	agreement_payment_type, save_to_agreement, source, provider, status, prefilled_cardholder_name, prefilled_line1,
	prefilled_line2, prefilled_city, prefilled_postcode, prefilled_country, created_at, updated_at`

// paymentInsertColumnCount is the number of paymentInsertColumns.
const paymentInsertColumnCount = 29

// insertPaymentSQL inserts one payment.
var insertPaymentSQL = "INSERT INTO pay_payments (" + paymentInsertColumns + ") VALUES " + valuesRows(1, paymentInsertColumnCount)

// paymentRow is a new payment's values for paymentInsertColumns.
func paymentRow(p *Payment) []any {
	var metadata any
	if len(p.Metadata) > 0 {
		metadata = string(p.Metadata)
	}
	a := p.PrefilledAddress
	return []any{p.ID, p.ServiceID, p.Live, string(p.KeyType), p.APIKeyID, p.Amount, p.Reference, p.Description,
		nullable(p.ReturnURL), p.Language, nullable(p.Email), p.DelayedCapture, p.MOTO, metadata, p.AuthorisationMode,
		nullable(p.AgreementID), nullable(p.AgreementPaymentType), p.SaveToAgreement, p.Source, p.Provider,
		string(p.Status), nullable(p.PrefilledCardholderName), nullable(a.Line1), nullable(a.Line2), nullable(a.City),
		nullable(a.Postcode), nullable(a.Country), p.CreatedAt, p.UpdatedAt}
}
