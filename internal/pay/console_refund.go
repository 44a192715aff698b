package pay

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/web"
)

// The refund form. It refunds through CreateRefund, the same function as the API's refunds,
// so the rules that keep refunds within what was paid hold however many people refund at once.
// The form carries the amount available when it was shown, which CreateRefund checks as the
// API's refund_amount_available: someone who refunds from a page that another refund has
// overtaken is told, rather than refunding on out-of-date figures.

type refundData struct {
	paymentsView
	*web.Form
	Payment *Payment
	// Refusal says why the payment cannot be refunded at all, in place of the form.
	Refusal string
}

func (p *paymentsConsole) refundablePayment(r *http.Request, pc console.PageContext) (*Payment, error) {
	if err := refuseArchived(pc); err != nil {
		return nil, err
	}
	pay, err := p.s.Payment(r.Context(), pc.Service.ID, r.PathValue("payment"))
	if err != nil {
		return nil, notFoundAsPage(err)
	}
	return pay, nil
}

func (p *paymentsConsole) refundPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	pay, err := p.refundablePayment(r, pc)
	if err != nil {
		return err
	}
	f := web.NewForm()
	f.Set("available", strconv.FormatInt(pay.RefundAvailable(), 10))
	data := refundData{paymentsView: newPaymentsView(pc, "transactions"), Form: f, Payment: pay}
	if pay.RefundStatus() != RefundAvailable {
		data.Refusal = refundRefusal(pay, "")
	}
	return p.render(w, r, "refund", data)
}

func (p *paymentsConsole) refund(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	pay, err := p.refundablePayment(r, pc)
	if err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	data := refundData{paymentsView: newPaymentsView(pc, "transactions"), Form: f, Payment: pay}
	expected, err := strconv.ParseInt(f.Get("available"), 10, 64)
	if err != nil {
		// The hidden field is ours; without it there is nothing to check against, so the form
		// is shown again with today's figure.
		expected = pay.RefundAvailable()
		f.Set("available", strconv.FormatInt(expected, 10))
	}
	amount, ok := parsePounds(f.Get("amount"))
	switch {
	case f.Get("amount") == "":
		f.AddError("amount", "Enter the amount to refund")
	case !ok:
		f.AddError("amount", "Enter the amount to refund in pounds and pence, like 12.50")
	case amount < 1:
		f.AddError("amount", "The amount to refund must be at least £0.01")
	case amount > expected:
		f.AddError("amount", "The amount to refund must be "+poundsText(expected)+" or less")
	}
	if !f.Valid() {
		return p.renderInvalid(w, r, "refund", data)
	}
	ref, err := p.s.CreateRefund(r.Context(), Scope{ServiceID: pc.Service.ID, Live: pay.Live}, pay.ID, amount, &expected)
	var notAvailable *RefundNotAvailable
	switch {
	case errors.Is(err, ErrRefundMismatch):
		// Someone else refunded since the page was shown: show today's figure.
		if now, err := p.s.Payment(r.Context(), pc.Service.ID, pay.ID); err == nil {
			data.Payment = now
		}
		f.Set("available", strconv.FormatInt(data.Payment.RefundAvailable(), 10))
		f.AddError("amount", "Another refund of this payment was made while you were on this page. "+
			"It now has "+poundsText(data.Payment.RefundAvailable())+" left to refund. Check the amount and try again")
		return p.renderInvalid(w, r, "refund", data)
	case errors.As(err, &notAvailable) && notAvailable.Reason == "amount_not_available":
		f.AddError("amount", refundRefusal(pay, notAvailable.Reason))
		return p.renderInvalid(w, r, "refund", data)
	case errors.As(err, &notAvailable):
		// The payment changed since the page was shown (a refund in full, say).
		if now, err := p.s.Payment(r.Context(), pc.Service.ID, pay.ID); err == nil {
			data.Payment = now
		}
		data.Refusal = refundRefusal(data.Payment, notAvailable.Reason)
		return p.renderInvalid(w, r, "refund", data)
	case err != nil:
		return notFoundAsPage(err)
	}
	p.auditAfter(r.Context(), pc, auditPayRefund, "payment", pay.ID, map[string]any{
		"name": pay.Reference, "refund_id": ref.ID, "amount": ref.Amount, "status": ref.Status})
	to := data.Base() + "/" + pay.ID
	switch ref.Status {
	case RefundSuccess:
		return p.done(w, r, to, "Refunded "+poundsText(ref.Amount))
	case RefundSubmitted:
		return p.done(w, r, to, "Refund of "+poundsText(ref.Amount)+" sent to the payment provider")
	}
	// The provider refused or could not be reached; CreateRefund has given the amount back
	// to the payment.
	f.AddError("amount", "The payment provider could not make the refund, so no money was refunded. Try again later")
	return p.renderInvalid(w, r, "refund", data)
}

// refundRefusal words why a payment cannot take a refund.
func refundRefusal(pay *Payment, reason string) string {
	if reason == "" {
		reason = pay.RefundStatus()
	}
	switch reason {
	case "amount_not_available":
		return "The amount to refund must be " + poundsText(pay.RefundAvailable()) + " or less"
	case RefundFull:
		return "This payment has been refunded in full"
	case RefundPending:
		return "This payment cannot be refunded until it has been taken"
	}
	return "This payment cannot be refunded"
}
