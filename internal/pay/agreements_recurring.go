package pay

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// Recurring payments: saving a card against an agreement, and charging it later with nobody
// present.
//
// A set-up payment (set_up_agreement) goes through the card pages like any other. When the
// provider authorises it, the card is saved (saveCard) with the reusable reference the provider
// returned; when the payer confirms, that card becomes the agreement's and the agreement is
// active (setUpAgreement). A payment in authorisation_mode "agreement" is queued as it is
// created (AUTHORISATION USER NOT PRESENT QUEUED, shown as started) together with a job, and
// the job charges the saved card through the provider (ChargeAgreement), then approves the
// payment for capture as a confirmed card-page payment is.

// RecurringProvider is a Provider that can charge a card it saved earlier. A provider that
// cannot is refused nothing at set-up, but its recurring payments end in a provider error.
type RecurringProvider interface {
	// AuthoriseSaved authorises a payment with a saved card, with nobody present to do 3-D
	// Secure. A refusal says, in CanRetry, whether a later attempt may succeed.
	AuthoriseSaved(ctx context.Context, req SavedCardRequest) (AuthoriseResult, error)
}

// SavedCardRequest asks a provider to charge a saved card.
type SavedCardRequest struct {
	// ServiceID is the service the payment belongs to: a provider uses that service's credentials.
	ServiceID   string
	PaymentID   string
	Amount      int64
	Description string
	Reference   string
	// Token is the provider's own reference to the card, from the set-up payment's authorisation.
	Token string
	// Card is what is kept of the card: brand, first six and last four digits, expiry, name.
	Card CardDetails
	Live bool
}

// AgreementAuthoriseArgs is the job that charges a queued agreement payment. It is inserted in
// the transaction that created the payment.
type AgreementAuthoriseArgs struct {
	PaymentID string `json:"payment_id"`
}

// Kind names the job in River's tables.
func (AgreementAuthoriseArgs) Kind() string { return "pay.authorise_agreement" }

// InsertOpts puts the job on Pay's queue. A run that fails on our side (the database, not the
// provider's answer) is retried by River; the provider is then asked again, which the Provider
// contract makes safe.
func (AgreementAuthoriseArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePay, MaxAttempts: 10}
}

type agreementAuthoriseWorker struct {
	river.WorkerDefaults[AgreementAuthoriseArgs]
	s *Service
}

func (w *agreementAuthoriseWorker) Work(ctx context.Context, job *river.Job[AgreementAuthoriseArgs]) error {
	return w.s.ChargeAgreement(ctx, job.Args.PaymentID)
}

// registerAgreementWorkers adds the recurring payments' worker.
func (s *Service) registerAgreementWorkers(w *river.Workers) {
	river.AddWorker(w, &agreementAuthoriseWorker{s: s})
}

// queueAgreementPayment, in the transaction that creates a payment, queues an agreement-mode
// payment for authorisation with the saved card. Other payments are left as they are.
func (s *Service) queueAgreementPayment(ctx context.Context, tx *db.Tx, p *Payment) error {
	if p.AuthorisationMode != ModeAgreement {
		return nil
	}
	if err := transition(ctx, tx, p, StatusAuthorisationQueued, p.CreatedAt); err != nil {
		return err
	}
	return s.cfg.Jobs.InsertTx(ctx, tx, AgreementAuthoriseArgs{PaymentID: p.ID}, nil)
}

// saveCard, in the transaction that records a set-up payment's successful authorisation,
// saves the card: the details the payment now holds and the provider's token. It is not the
// agreement's card until the payer confirms.
func (s *Service) saveCard(ctx context.Context, tx *db.Tx, p *Payment, token string) error {
	if !p.SaveToAgreement || p.AgreementID == "" || p.Status != StatusAuthorisationSuccess {
		return nil
	}
	cur, err := lockPayment(ctx, tx, p.ID) // with the card details the authorisation just wrote
	if err != nil {
		return err
	}
	c := CardDetails{}
	if cur.Card != nil {
		c = *cur.Card
	}
	a := Address{}
	if c.BillingAddress != nil {
		a = *c.BillingAddress
	}
	now := s.now()
	if _, err := tx.Exec(ctx, `INSERT INTO pay_payment_instruments (id, service_id, live, agreement_id, payment_id, status,
		provider, provider_token, card_brand, card_type, first_digits, last_digits, expiry_date, cardholder_name,
		billing_line1, billing_line2, billing_city, billing_postcode, billing_country, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		NewID(), cur.ServiceID, cur.Live, cur.AgreementID, cur.ID, instrumentCreated, cur.Provider, nullable(token),
		nullable(c.Brand), nullable(c.Type), nullable(c.FirstDigits), nullable(c.LastDigits), nullable(c.ExpiryDate),
		nullable(c.CardholderName), nullable(a.Line1), nullable(a.Line2), nullable(a.City), nullable(a.Postcode),
		nullable(a.Country), now, now); err != nil {
		return fmt.Errorf("pay: save card: %w", err)
	}
	return nil
}

// setUpAgreement, in the transaction that approves a set-up payment once the payer confirmed
// it, makes the card it saved the agreement's and the agreement active. A card saved before
// for the agreement is retired. Other payments are left as they are.
func (s *Service) setUpAgreement(ctx context.Context, tx *db.Tx, p *Payment) error {
	if !p.SaveToAgreement || p.AgreementID == "" || p.Status != StatusAuthorisationSuccess {
		return nil
	}
	var instrumentID string
	err := tx.QueryRow(ctx, "SELECT id FROM pay_payment_instruments WHERE payment_id = ? AND status = ?",
		p.ID, instrumentCreated).Scan(&instrumentID)
	if db.IsNoRows(err) {
		return nil // authorised before the card could be saved: the agreement stays as it was
	}
	if err != nil {
		return fmt.Errorf("pay: find saved card: %w", err)
	}
	a, err := lockAgreement(ctx, tx, Scope{ServiceID: p.ServiceID, Live: p.Live}, p.AgreementID)
	if err != nil {
		return err
	}
	now := s.now()
	for _, q := range []struct {
		query string
		args  []any
	}{
		{"UPDATE pay_payment_instruments SET status = ?, updated_at = ? WHERE agreement_id = ? AND status = ?",
			[]any{instrumentCancelled, now, a.ID, instrumentActive}},
		{"UPDATE pay_payment_instruments SET status = ?, updated_at = ? WHERE id = ?",
			[]any{instrumentActive, now, instrumentID}},
		{"UPDATE pay_agreements SET status = ?, payment_instrument_id = ?, cancelled_at = NULL, updated_at = ? WHERE id = ?",
			[]any{AgreementActive, instrumentID, now, a.ID}},
	} {
		if _, err := tx.Exec(ctx, q.query, q.args...); err != nil {
			return fmt.Errorf("pay: set up agreement: %w", err)
		}
	}
	return recordAgreementEvent(ctx, tx, a.ID, a.ServiceID, eventAgreementSetUp, p.ID, now)
}

// ChargeAgreement authorises a queued agreement payment with the agreement's saved card, then
// approves it for capture. It is what the job runs; for a payment that is not queued (done
// already, say) it does nothing.
//
// Like a capture, the work is split around the provider call: one transaction claims the
// payment (AUTHORISATION READY), the call happens outside any transaction, and a second records
// the answer. A crash in between leaves the payment AUTHORISATION READY, and the job's next run
// asks the provider again.
func (s *Service) ChargeAgreement(ctx context.Context, id string) error {
	var p *Payment
	var a *Agreement
	err := s.inTxRetrying(ctx, func(tx *db.Tx) error {
		p, a = nil, nil
		cur, err := lockPayment(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.AuthorisationMode != ModeAgreement {
			return nil
		}
		switch cur.Status {
		case StatusAuthorisationQueued:
			if err := transition(ctx, tx, cur, StatusAuthorisationReady, s.now()); err != nil {
				return err
			}
		case StatusAuthorisationReady:
		default:
			return nil
		}
		p = cur
		a, err = agreementInScope(ctx, tx, Scope{ServiceID: cur.ServiceID, Live: cur.Live}, cur.AgreementID, "")
		if err != nil && !failure.Is(err, failure.NotFound) {
			return err
		}
		return nil
	})
	if err != nil || p == nil {
		return err
	}
	res, callErr := s.authoriseSaved(context.WithoutCancel(ctx), p, a)
	to, sets := authorisationOutcome(res, callErr)
	if a != nil && a.Instrument != nil {
		sets = append(sets, instrumentCardSets(a.Instrument.Card)...)
	}
	return s.inTxRetrying(ctx, func(tx *db.Tx) error {
		cur, err := lockPayment(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Status != StatusAuthorisationReady {
			return nil // expired or cancelled meanwhile: the late answer is not recorded
		}
		if err := transition(ctx, tx, cur, to, s.now(), sets...); err != nil {
			return err
		}
		switch {
		case to == StatusAuthorisationSuccess:
			return s.approveCapture(ctx, tx, cur)
		case to == StatusAuthorisationRejected && res.CanRetry != nil && !*res.CanRetry:
			return s.inactivateAgreement(ctx, tx, cur)
		}
		return nil
	})
}

// authoriseSaved asks the agreement's provider to charge its saved card. An agreement that is
// no longer active, or never had a card, is refused without asking: trying again cannot help.
// A 3-D Secure challenge cannot be met with nobody present, so it is a refusal too.
func (s *Service) authoriseSaved(ctx context.Context, p *Payment, a *Agreement) (AuthoriseResult, error) {
	no := false
	if a == nil || a.Status != AgreementActive || a.Instrument == nil {
		return AuthoriseResult{Outcome: Rejected, CanRetry: &no, Message: "the agreement is not active"}, nil
	}
	inst := a.Instrument
	prov, ok := s.provider(inst.Provider)
	recurring, canCharge := prov.(RecurringProvider)
	if !ok || !canCharge {
		return AuthoriseResult{Outcome: ProviderError, Message: "the provider cannot take recurring payments"}, nil
	}
	callCtx, cancel := context.WithTimeout(ctx, AuthTimeout)
	defer cancel()
	res, err := recurring.AuthoriseSaved(callCtx, SavedCardRequest{ServiceID: p.ServiceID, PaymentID: p.ID,
		Amount: p.TotalAmount(), Description: p.Description, Reference: p.Reference, Token: inst.Token, Card: inst.Card,
		Live: p.Live})
	if err == nil && res.Outcome == ThreeDSRequired {
		res = AuthoriseResult{Outcome: Rejected, ProviderID: res.ProviderID, CardType: res.CardType, CanRetry: &no,
			Message: "the card asked for 3-D Secure with nobody present"}
	}
	return res, err
}

// inactivateAgreement, in the transaction that records a recurring payment refused for good,
// makes its agreement inactive: the service must set it up again with a card that works.
func (s *Service) inactivateAgreement(ctx context.Context, tx *db.Tx, p *Payment) error {
	a, err := lockAgreement(ctx, tx, Scope{ServiceID: p.ServiceID, Live: p.Live}, p.AgreementID)
	if failure.Is(err, failure.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.Status != AgreementActive {
		return nil
	}
	now := s.now()
	if _, err := tx.Exec(ctx, "UPDATE pay_agreements SET status = ?, updated_at = ? WHERE id = ?",
		AgreementInactive, now, a.ID); err != nil {
		return fmt.Errorf("pay: inactivate agreement: %w", err)
	}
	return recordAgreementEvent(ctx, tx, a.ID, a.ServiceID, eventAgreementInactivated, p.ID, now)
}

// instrumentCardSets copy a saved card's details onto a recurring payment, for its
// card_details.
func instrumentCardSets(c CardDetails) []set {
	a := Address{}
	if c.BillingAddress != nil {
		a = *c.BillingAddress
	}
	return []set{
		{"card_brand", nullable(c.Brand)},
		{"card_type", nullable(c.Type)},
		{"first_digits", nullable(c.FirstDigits)},
		{"last_digits", nullable(c.LastDigits)},
		{"expiry_date", nullable(c.ExpiryDate)},
		{"cardholder_name", nullable(c.CardholderName)},
		{"billing_line1", nullable(a.Line1)},
		{"billing_line2", nullable(a.Line2)},
		{"billing_city", nullable(a.City)},
		{"billing_postcode", nullable(a.Postcode)},
		{"billing_country", nullable(a.Country)},
	}
}

// agreementForCreate returns the agreement a create names, within the caller's scope, or nil
// when there is none.
func (s *Service) agreementForCreate(ctx context.Context, sc Scope, id string) (*Agreement, error) {
	a, err := s.Agreement(ctx, sc, id)
	if failure.Is(err, failure.NotFound) {
		return nil, nil
	}
	return a, web.Unavailable(err)
}
