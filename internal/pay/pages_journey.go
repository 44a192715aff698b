package pay

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/commons-gov/commons/internal/web"
)

// The steps of the payer's journey (pay.md §7.2). Every page first finds where the payment
// stands and, if that is not this page, sends the browser to the page that is: the back
// button, a reload, a second tab or a form sent twice all land on the right page.

// maxTokenLength bounds a token taken from a URL or form before it is hashed and looked up.
const maxTokenLength = 128

// secureLink is next_url: GET /pay/secure/{token}. A HEAD request (a link checker's, say)
// is answered without redeeming the token, which would leave the payer a used link.
func (p *payPages) secureLink(w http.ResponseWriter, r *http.Request) error {
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	return p.start(w, r, r.PathValue("token"))
}

// secureForm is next_url_post: POST /pay/secure with chargeTokenId.
func (p *payPages) secureForm(w http.ResponseWriter, r *http.Request) error {
	form, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	return p.start(w, r, form.Raw("chargeTokenId"))
}

// start redeems a one-time token, gives this browser the payment, and sends it to the page for
// where the payment stands. A token used already still works for the browser that used it (a
// reload of next_url); anyone else sees the "cannot be used again" page.
func (p *payPages) start(w http.ResponseWriter, r *http.Request, token string) error {
	ctx := r.Context()
	if token == "" || len(token) > maxTokenLength {
		return p.sessionEnded(w, r, "")
	}
	pay, err := p.s.StartWithToken(ctx, token)
	switch {
	case err == nil:
		if err := p.bindSession(w, r, pay.ID); err != nil {
			return err
		}
		redirect(w, r, pageFor(pay))
		return nil
	case errors.Is(err, ErrTokenUsed):
		id, err := p.s.paymentOfUsedToken(ctx, token)
		if err != nil {
			return err
		}
		ok, err := p.boundTo(ctx, r, id)
		if err != nil {
			return err
		}
		if !ok {
			return p.sessionEnded(w, r, id)
		}
		pay, err := p.s.PaymentForPage(ctx, id)
		if err != nil {
			return err
		}
		redirect(w, r, pageFor(pay))
		return nil
	case errors.Is(err, ErrTokenInvalid):
		return p.sessionEnded(w, r, "")
	}
	return err
}

// at returns the payment a GET page is about when the payment stands at that page. Otherwise
// it has answered already (sent the browser on, or refused it) and returns nil.
func (p *payPages) at(w http.ResponseWriter, r *http.Request) (*Payment, error) {
	pay, err := p.payment(w, r)
	if err != nil || pay == nil {
		return nil, err
	}
	if want := pageFor(pay); want != r.URL.Path {
		redirect(w, r, want)
		return nil, nil
	}
	return pay, nil
}

// moveOn sends the browser to where a payment stands now, after a step found that it had
// moved on (ErrWrongStep).
func (p *payPages) moveOn(w http.ResponseWriter, r *http.Request, id string) error {
	pay, err := p.s.PaymentForPage(r.Context(), id)
	if err != nil {
		return err
	}
	redirect(w, r, pageFor(pay))
	return nil
}

// cardPage is the card details form, prefilled with what the service sent.
func (p *payPages) cardPage(w http.ResponseWriter, r *http.Request) error {
	pay, err := p.at(w, r)
	if err != nil || pay == nil {
		return err
	}
	form := web.NewForm()
	form.Set(fieldName, pay.PrefilledCardholderName)
	a := pay.PrefilledAddress
	form.Set(fieldLine1, a.Line1)
	form.Set(fieldLine2, a.Line2)
	form.Set(fieldCity, a.City)
	form.Set(fieldPostcode, a.Postcode)
	form.Set(fieldCountry, strings.ToUpper(a.Country))
	if a.Country == "" {
		form.Set(fieldCountry, "GB")
	}
	form.Set(fieldEmail, pay.Email)
	return p.showCard(w, r, pay, form, http.StatusOK)
}

func (p *payPages) showCard(w http.ResponseWriter, r *http.Request, pay *Payment, form *web.Form, status int) error {
	data, err := p.view(r.Context(), pay)
	if err != nil {
		return err
	}
	for _, f := range secretFields {
		form.Forget(f)
	}
	data.Form = form
	data.Countries = countryOptions(data.Lang, form.Get(fieldCountry))
	p.render(w, r, status, "card", data)
	return nil
}

// submitCard checks the card form and, when it is right, sends the card to the provider. The
// card number and security code live only in this request: they go to the provider and are
// dropped, never shown back, logged or stored.
func (p *payPages) submitCard(w http.ResponseWriter, r *http.Request) error {
	form, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	pay, err := p.payment(w, r)
	if err != nil || pay == nil {
		return err
	}
	if pay.Status != StatusEnteringCardDetails {
		redirect(w, r, pageFor(pay))
		return nil
	}
	entry := checkCardForm(form, pageLang(pay), p.s.now())
	if form.HasErrors() {
		return p.showCard(w, r, pay, form, http.StatusUnprocessableEntity)
	}
	if err := p.s.recordPayerEmail(r.Context(), pay.ID, entry.Email); err != nil {
		return err
	}
	done, err := p.s.Authorise(r.Context(), pay.ID, entry.Card)
	switch {
	case errors.Is(err, ErrWrongStep):
		return p.moveOn(w, r, pay.ID)
	case errors.Is(err, ErrCardInvalid):
		form.AddError(fieldCardNo, mustMessage(pageLang(pay), "card_number_invalid"))
		return p.showCard(w, r, pay, form, http.StatusUnprocessableEntity)
	case err != nil:
		return err
	}
	redirect(w, r, pageFor(done))
	return nil
}

// waitingPage is shown while an authorisation is under way, which is only ever briefly unless
// the provider is slow; the payer checks again with the button, as the page has no script.
func (p *payPages) waitingPage(w http.ResponseWriter, r *http.Request) error {
	pay, err := p.at(w, r)
	if err != nil || pay == nil {
		return err
	}
	data, err := p.view(r.Context(), pay)
	if err != nil {
		return err
	}
	p.render(w, r, http.StatusOK, "waiting", data)
	return nil
}

// threeDSPage shows the 3-D Secure challenge. The sandbox's challenge is a page of ours that
// lets the tester pass or fail it; a real provider's is its bank's page, reached by a link.
func (p *payPages) threeDSPage(w http.ResponseWriter, r *http.Request) error {
	pay, err := p.at(w, r)
	if err != nil || pay == nil {
		return err
	}
	data, err := p.view(r.Context(), pay)
	if err != nil {
		return err
	}
	var ch ThreeDSChallenge
	_ = json.Unmarshal([]byte(pay.ThreeDSData), &ch)
	switch {
	case pay.Provider == SandboxName:
		data.Sandbox3DS = true
	case strings.HasPrefix(ch.URL, "https://"):
		data.ChallengeURL = ch.URL
	}
	p.render(w, r, http.StatusOK, "3ds", data)
	return nil
}

// submitThreeDS is the answer to the challenge. What the bank sent back (every field of the
// form) goes to the provider; the sandbox reads only the tester's pass or fail.
func (p *payPages) submitThreeDS(w http.ResponseWriter, r *http.Request) error {
	form, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	pay, err := p.payment(w, r)
	if err != nil || pay == nil {
		return err
	}
	if pay.Status != StatusAuthorisation3DSRequired {
		redirect(w, r, pageFor(pay))
		return nil
	}
	res := ThreeDSResult{Passed: form.Raw("result") == "pass", Data: map[string]string{}}
	for k, v := range r.PostForm {
		if k != "result" && len(v) > 0 {
			res.Data[k] = v[0]
		}
	}
	return p.finishThreeDS(w, r, pay.ID, res)
}

// threeDSReturn is where a real provider's challenge sends the payer back to, by a redirect
// (so a GET, which the session cookie accompanies because it is SameSite=Lax). What the bank
// put in the address goes to the provider, which reads the outcome from its own records. The
// sandbox's challenge never ends here, so a sandbox payment is only sent to its page.
func (p *payPages) threeDSReturn(w http.ResponseWriter, r *http.Request) error {
	pay, err := p.payment(w, r)
	if err != nil || pay == nil {
		return err
	}
	if pay.Status != StatusAuthorisation3DSRequired || pay.Provider == SandboxName {
		redirect(w, r, pageFor(pay))
		return nil
	}
	res := ThreeDSResult{Data: map[string]string{}}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			res.Data[k] = v[0]
		}
	}
	return p.finishThreeDS(w, r, pay.ID, res)
}

// finishThreeDS hands the challenge's outcome to the provider and sends the payer on to the
// page for where the payment now stands.
func (p *payPages) finishThreeDS(w http.ResponseWriter, r *http.Request, id string, res ThreeDSResult) error {
	done, err := p.s.Authorise3DS(r.Context(), id, res)
	switch {
	case errors.Is(err, ErrWrongStep):
		return p.moveOn(w, r, id)
	case err != nil:
		return err
	}
	redirect(w, r, pageFor(done))
	return nil
}

// confirmPage shows what the payer is about to pay with. Its form is the one that ends at the
// service's return_url, so its policy lets a form lead there.
func (p *payPages) confirmPage(w http.ResponseWriter, r *http.Request) error {
	pay, err := p.at(w, r)
	if err != nil || pay == nil {
		return err
	}
	data, err := p.view(r.Context(), pay)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Security-Policy", pagePolicy(originOf(pay.ReturnURL)))
	p.render(w, r, http.StatusOK, "confirm", data)
	return nil
}

// submitConfirm approves the payment and sends the payer back to the service. Sent twice, the
// second finds the payment confirmed and sends the payer back too.
func (p *payPages) submitConfirm(w http.ResponseWriter, r *http.Request) error {
	pay, err := p.payment(w, r)
	if err != nil || pay == nil {
		return err
	}
	if pay.Status == StatusAuthorisationSuccess {
		pay, err = p.s.Confirm(r.Context(), pay.ID)
		if errors.Is(err, ErrWrongStep) {
			pay, err = p.s.PaymentForPage(r.Context(), r.PathValue("id"))
		}
		if err != nil {
			return err
		}
	}
	if to := pageFor(pay); strings.HasSuffix(to, "/outcome") && outcomeOf(pay) == "complete" && pay.ReturnURL != "" {
		redirect(w, r, pay.ReturnURL)
		return nil
	}
	redirect(w, r, pageFor(pay))
	return nil
}

// submitCancel is the payer's "Cancel payment".
func (p *payPages) submitCancel(w http.ResponseWriter, r *http.Request) error {
	pay, err := p.payment(w, r)
	if err != nil || pay == nil {
		return err
	}
	done, err := p.s.UserCancel(r.Context(), pay.ID)
	switch {
	case errors.Is(err, ErrWrongStep):
		return p.moveOn(w, r, pay.ID)
	case err != nil:
		return err
	}
	redirect(w, r, pageFor(done))
	return nil
}

// outcomePage is the end of a journey that did not end at the service: declined, failed,
// expired, cancelled, or a payment completed earlier that the payer came back to.
func (p *payPages) outcomePage(w http.ResponseWriter, r *http.Request) error {
	pay, err := p.at(w, r)
	if err != nil || pay == nil {
		return err
	}
	data, err := p.view(r.Context(), pay)
	if err != nil {
		return err
	}
	data.Outcome = outcomeOf(pay)
	data.NoMoneyTaken = data.Outcome != "complete"
	p.render(w, r, http.StatusOK, "outcome", data)
	return nil
}
