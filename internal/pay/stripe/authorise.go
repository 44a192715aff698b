package stripepsp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/stripe/stripe-go/v82"

	"github.com/commons-gov/commons/internal/pay"
)

// Authorise implements pay.Provider. The card becomes a PaymentMethod, then a PaymentIntent for
// it is created and confirmed in the same call with capture_method=manual, so that the money is
// reserved now and taken when Pay captures. Both calls carry idempotency keys made from the
// payment id: a payment is authorised once, so a repeat is always the same request.
func (p *Provider) Authorise(ctx context.Context, req pay.AuthoriseRequest) (pay.AuthoriseResult, error) {
	client, err := p.client(ctx, req.ServiceID)
	if err != nil {
		return authoriseFailure("authorise", err)
	}
	month, year, ok := parseExpiry(req.Card.ExpiryDate)
	if !ok {
		return pay.AuthoriseResult{Outcome: pay.Rejected, Message: "expiry date is not in the form MM/YY"}, nil
	}
	pm, err := client.V1PaymentMethods.Create(ctx, paymentMethodParams(req, month, year))
	if err != nil {
		return authoriseFailure("create payment method", err)
	}
	pi, err := client.V1PaymentIntents.Create(ctx, p.paymentIntentParams(req, pm.ID))
	if err != nil {
		res, err := authoriseFailure("create payment intent", err)
		if err == nil {
			res.CardType = cardType(pm) // kept with a declined payment's card details too
		}
		return res, err
	}
	return outcome(pi, cardType(pm))
}

// Authorise3DS implements pay.Provider. Stripe completes the challenge with the payer's bank
// itself and sends the payer back to ReturnURL; what is left is to read where the payment
// intent ended up. The data the hosted page passes back is not needed.
func (p *Provider) Authorise3DS(ctx context.Context, req pay.ThreeDSRequest) (pay.AuthoriseResult, error) {
	if req.ProviderID == "" {
		return pay.AuthoriseResult{}, errors.New("stripe: complete 3-D Secure: the payment has no payment intent id")
	}
	client, err := p.client(ctx, req.ServiceID)
	if err != nil {
		return authoriseFailure("complete 3-D Secure", err)
	}
	params := &stripe.PaymentIntentRetrieveParams{}
	params.AddExpand("payment_method") // for the card's funding type
	pi, err := client.V1PaymentIntents.Retrieve(ctx, req.ProviderID, params)
	if err != nil {
		return authoriseFailure("read payment intent", err)
	}
	return outcome(pi, cardType(pi.PaymentMethod))
}

func paymentMethodParams(req pay.AuthoriseRequest, month, year int64) *stripe.PaymentMethodCreateParams {
	c := req.Card
	params := &stripe.PaymentMethodCreateParams{
		Type: stripe.String(string(stripe.PaymentMethodTypeCard)),
		Card: &stripe.PaymentMethodCreateCardParams{
			Number:   stripe.String(c.Number),
			CVC:      optional(c.CVC),
			ExpMonth: stripe.Int64(month),
			ExpYear:  stripe.Int64(year),
		},
	}
	// The name and address help the issuer's fraud checks (address and postcode verification).
	if c.CardholderName != "" || c.BillingAddress != nil {
		bd := &stripe.PaymentMethodCreateBillingDetailsParams{Name: optional(c.CardholderName)}
		if a := c.BillingAddress; a != nil {
			bd.Address = &stripe.AddressParams{Line1: optional(a.Line1), Line2: optional(a.Line2),
				City: optional(a.City), PostalCode: optional(a.Postcode), Country: optional(a.Country)}
		}
		params.BillingDetails = bd
	}
	params.IdempotencyKey = idempotencyKey("payment-method", req.PaymentID)
	return params
}

func (p *Provider) paymentIntentParams(req pay.AuthoriseRequest, paymentMethodID string) *stripe.PaymentIntentCreateParams {
	params := &stripe.PaymentIntentCreateParams{
		Amount:             stripe.Int64(req.Amount),
		Currency:           stripe.String(currency),
		PaymentMethod:      stripe.String(paymentMethodID),
		PaymentMethodTypes: []*string{stripe.String(string(stripe.PaymentMethodTypeCard))},
		CaptureMethod:      stripe.String(string(stripe.PaymentIntentCaptureMethodManual)),
		Confirm:            stripe.Bool(true),
		ConfirmationMethod: stripe.String(string(stripe.PaymentIntentConfirmationMethodAutomatic)),
		Description:        optional(req.Description),
		Metadata:           metadata("commons_payment_id", req.PaymentID, "reference", req.Reference),
	}
	switch {
	case req.MOTO:
		// Taken over the phone or by post: exempt from Strong Customer Authentication, and with
		// no payer present a challenge must fail the payment rather than wait.
		params.PaymentMethodOptions = &stripe.PaymentIntentCreatePaymentMethodOptionsParams{
			Card: &stripe.PaymentIntentCreatePaymentMethodOptionsCardParams{MOTO: stripe.Bool(true)}}
		params.ErrorOnRequiresAction = stripe.Bool(true)
	case p.cfg.ReturnURL != nil:
		// With a return address Stripe's next action is a plain redirect the hosted page can
		// follow, rather than one for Stripe's own JavaScript.
		params.ReturnURL = stripe.String(p.cfg.ReturnURL(req.PaymentID))
	default:
		params.ErrorOnRequiresAction = stripe.Bool(true)
	}
	params.IdempotencyKey = idempotencyKey("authorise", req.PaymentID)
	return params
}

// outcome maps where a payment intent stands after confirmation to Pay's outcome.
func outcome(pi *stripe.PaymentIntent, cardType string) (pay.AuthoriseResult, error) {
	res := pay.AuthoriseResult{ProviderID: pi.ID, CardType: cardType}
	switch pi.Status {
	case stripe.PaymentIntentStatusRequiresCapture, stripe.PaymentIntentStatusSucceeded:
		res.Outcome = pay.Authorised
	case stripe.PaymentIntentStatusRequiresAction:
		if na := pi.NextAction; na != nil && na.RedirectToURL != nil && na.RedirectToURL.URL != "" {
			res.Outcome = pay.ThreeDSRequired
			res.ThreeDS = &pay.ThreeDSChallenge{URL: na.RedirectToURL.URL}
		} else {
			// Only a redirect can be shown without Stripe's JavaScript; the intent is left to
			// expire, having reserved nothing.
			res.Outcome = pay.ProviderError
			res.Message = "Stripe asked for an action the payment pages cannot take"
		}
	case stripe.PaymentIntentStatusRequiresPaymentMethod:
		// A failed challenge or a decline sends the intent back for another card.
		res.Outcome = pay.Rejected
		res.Message = lastPaymentError(pi)
	case stripe.PaymentIntentStatusProcessing:
		return pay.AuthoriseResult{}, fmt.Errorf("stripe: payment intent %s is still processing", pi.ID)
	case stripe.PaymentIntentStatusCanceled:
		res.Outcome = pay.ProviderError
		res.Message = "the payment intent was cancelled"
	default:
		res.Outcome = pay.ProviderError
		res.Message = fmt.Sprintf("unexpected payment intent status %q", pi.Status)
	}
	return res, nil
}

// lastPaymentError is why an intent needs another payment method, in the short form.
func lastPaymentError(pi *stripe.PaymentIntent) string {
	if se := pi.LastPaymentError; se != nil {
		e := &apiError{kind: se.Type, code: se.Code, declineCode: se.DeclineCode, message: redactKeys(se.Msg)}
		return e.reason()
	}
	return "the card was not authorised"
}

// cardType is Pay's card_type for a payment method. Pay's API knows only credit and debit, so a
// prepaid card, or one whose funding Stripe does not know, has none.
func cardType(pm *stripe.PaymentMethod) string {
	if pm == nil || pm.Card == nil {
		return ""
	}
	switch pm.Card.Funding {
	case stripe.CardFundingCredit:
		return "credit"
	case stripe.CardFundingDebit:
		return "debit"
	}
	return ""
}

// parseExpiry reads Pay's MM/YY expiry date as Stripe's month and four-digit year.
func parseExpiry(s string) (month, year int64, ok bool) {
	mm, yy, found := strings.Cut(strings.TrimSpace(s), "/")
	if !found || len(mm) != 2 || len(yy) != 2 {
		return 0, 0, false
	}
	m, err1 := strconv.ParseInt(mm, 10, 64)
	y, err2 := strconv.ParseInt(yy, 10, 64)
	if err1 != nil || err2 != nil || m < 1 || m > 12 || y < 0 {
		return 0, 0, false
	}
	return m, 2000 + y, true
}

// optional is a parameter that is left out when empty, rather than sent blank (which Stripe
// would take as clearing the field).
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return stripe.String(s)
}
