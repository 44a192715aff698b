package stripepsp

import (
	"context"
	"errors"
	"fmt"

	"github.com/stripe/stripe-go/v82"

	"github.com/commons-gov/commons/internal/pay"
)

// After authorisation every call is made by a job or a team member's request that will be
// retried, so any failure is an error: Pay tries again later, and the idempotency keys make the
// repeat harmless.

// chargeWithFee asks for the capture's charge and its balance transaction in the same answer,
// which is where Stripe reports its fee.
const chargeWithFee = "latest_charge.balance_transaction"

// Capture implements pay.Provider: /v1/payment_intents/{id}/capture for the payment's amount.
func (p *Provider) Capture(ctx context.Context, req pay.CaptureRequest) (pay.CaptureResult, error) {
	if req.ProviderID == "" {
		return pay.CaptureResult{}, errors.New("stripe: capture: the payment has no payment intent id")
	}
	client, err := p.client(ctx, req.ServiceID)
	if err != nil {
		return pay.CaptureResult{}, fmt.Errorf("stripe: capture: %w", err)
	}
	params := &stripe.PaymentIntentCaptureParams{AmountToCapture: stripe.Int64(req.Amount)}
	params.AddExpand(chargeWithFee)
	params.IdempotencyKey = idempotencyKey("capture", req.PaymentID)
	pi, err := client.V1PaymentIntents.Capture(ctx, req.ProviderID, params)
	if hasCode(err, stripe.ErrorCodePaymentIntentUnexpectedState) {
		// Captured already, by an attempt whose answer was lost longer ago than Stripe keeps
		// idempotency keys: the money is taken, which is all the capture job needs to know.
		pi, err = p.captured(ctx, client, req.ProviderID, err)
	}
	if err != nil {
		return pay.CaptureResult{}, failed("capture", err)
	}
	return captureResult(pi), nil
}

// captured re-reads an intent that could not be captured and returns it if it has been, or
// the capture's error if not.
func (p *Provider) captured(ctx context.Context, client *stripe.Client, id string, captureErr error) (*stripe.PaymentIntent, error) {
	params := &stripe.PaymentIntentRetrieveParams{}
	params.AddExpand(chargeWithFee)
	pi, err := client.V1PaymentIntents.Retrieve(ctx, id, params)
	if err != nil || pi.Status != stripe.PaymentIntentStatusSucceeded {
		return nil, captureErr
	}
	return pi, nil
}

// captureResult reads the capture's reference (its charge) and Stripe's fee. The fee is pence
// only when Stripe settles the account in pounds; in any other currency it is left unknown
// rather than reported in the wrong unit.
func captureResult(pi *stripe.PaymentIntent) pay.CaptureResult {
	res := pay.CaptureResult{Reference: pi.ID}
	ch := pi.LatestCharge
	if ch == nil || ch.ID == "" {
		return res
	}
	res.Reference = ch.ID
	if bt := ch.BalanceTransaction; bt != nil && bt.ID != "" && bt.Currency == stripe.Currency(currency) {
		fee := bt.Fee
		res.Fee = &fee
	}
	return res
}

// Cancel implements pay.Provider: /v1/payment_intents/{id}/cancel, which releases the
// reserved money on the payer's card.
func (p *Provider) Cancel(ctx context.Context, req pay.CancelRequest) error {
	if req.ProviderID == "" {
		return errors.New("stripe: cancel: the payment has no payment intent id")
	}
	client, err := p.client(ctx, req.ServiceID)
	if err != nil {
		return fmt.Errorf("stripe: cancel: %w", err)
	}
	params := &stripe.PaymentIntentCancelParams{}
	params.IdempotencyKey = idempotencyKey("cancel", req.PaymentID)
	_, err = client.V1PaymentIntents.Cancel(ctx, req.ProviderID, params)
	if hasCode(err, stripe.ErrorCodePaymentIntentUnexpectedState) {
		// Cancelled already (by an earlier attempt, or by Stripe when the authorisation
		// lapsed) is what was asked for.
		pi, readErr := client.V1PaymentIntents.Retrieve(ctx, req.ProviderID, nil)
		if readErr == nil && pi.Status == stripe.PaymentIntentStatusCanceled {
			return nil
		}
	}
	if err != nil {
		return failed("cancel", err)
	}
	return nil
}

// Refund implements pay.Provider: /v1/refunds against the payment intent, keyed by the Commons
// refund id so that one refund is never paid twice.
func (p *Provider) Refund(ctx context.Context, req pay.RefundRequest) (pay.RefundResult, error) {
	if req.ProviderID == "" || req.RefundID == "" {
		return pay.RefundResult{}, errors.New("stripe: refund: the refund has no refund id or payment intent id")
	}
	client, err := p.client(ctx, req.ServiceID)
	if err != nil {
		return pay.RefundResult{}, fmt.Errorf("stripe: refund: %w", err)
	}
	params := &stripe.RefundCreateParams{
		PaymentIntent: stripe.String(req.ProviderID),
		Amount:        stripe.Int64(req.Amount),
		Metadata:      metadata("commons_payment_id", req.PaymentID, "commons_refund_id", req.RefundID),
	}
	params.IdempotencyKey = idempotencyKey("refund", req.RefundID)
	r, err := client.V1Refunds.Create(ctx, params)
	if err != nil {
		return pay.RefundResult{}, failed("refund", err)
	}
	switch r.Status {
	case stripe.RefundStatusSucceeded:
		return pay.RefundResult{Reference: r.ID, Settled: true}, nil
	case stripe.RefundStatusPending, stripe.RefundStatusRequiresAction:
		// Accepted; Stripe reports the end later (its refund.updated event).
		return pay.RefundResult{Reference: r.ID}, nil
	}
	return pay.RefundResult{}, fmt.Errorf("stripe: refund %s was not accepted: status %s", r.ID, r.Status)
}
