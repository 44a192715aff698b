package pay

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/ratelimit"
)

// linkPaymentRow reads what a link payment was created with.
type linkPaymentRow struct {
	id, source, reference, description, language, returnURL string
	amount                                                  int64
	live                                                    bool
}

func (s *teamSite) newestPayment(serviceID string) linkPaymentRow {
	s.t.Helper()
	var r linkPaymentRow
	if err := s.d.QueryRow(s.ctx, `SELECT id, source, reference, description, language, return_url, amount, live
		FROM pay_payments WHERE service_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`, serviceID).
		Scan(&r.id, &r.source, &r.reference, &r.description, &r.language, &r.returnURL, &r.amount, &r.live); err != nil {
		s.t.Fatal(err)
	}
	return r
}

func TestPaymentLinkJourney(t *testing.T) {
	eachTeamSite(t, nil, func(t *testing.T, s *teamSite) {
		a := s.a.id
		l, err := s.svc.CreateLink(s.ctx, a, NewLink{Title: "Pay an invoice", Description: "For invoices from the parks team.",
			ReferenceLabel: "Invoice number", ReferenceHint: "It is at the top of the invoice", Language: langEnglish})
		if err != nil {
			t.Fatal(err)
		}
		if l.Slug != "pay-an-invoice" {
			t.Fatalf("slug %q", l.Slug)
		}
		payer := s.payer()
		path := "/pay/link/pay-an-invoice"
		first := payer.get(path).want(t, http.StatusOK, `<html lang="en"`, "Pay an invoice", "For invoices from the parks team.",
			"Invoice number", "It is at the top of the invoice", "Amount to pay", "Service A")
		if csp := first.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'none'") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self' "+testBaseURL) {
			t.Errorf("Content-Security-Policy %q", csp)
		}
		if strings.Contains(first.body, "<script") {
			t.Error("the page loads a script")
		}
		// A service can prefill the answers in the address.
		payer.get(path+"?reference=INV_42&amount=1250").want(t, http.StatusOK, `value="INV 42"`, `value="12.50"`)

		for _, c := range []struct {
			form   url.Values
			fields []string
			says   string
		}{
			{url.Values{}, []string{"reference", "amount"}, "Enter your invoice number"},
			{url.Values{"reference": {"4242 4242 4242 4242"}, "amount": {"12.50"}}, []string{"reference"}, "Do not enter a card number here. Enter your invoice number"},
			{url.Values{"reference": {"INV-42"}, "amount": {"twelve"}}, []string{"amount"}, "Enter the amount in pounds and pence"},
			{url.Values{"reference": {"INV-42"}, "amount": {"100000.01"}}, []string{"amount"}, "The amount must be £100,000.00 or less"},
			{url.Values{"reference": {"INV-42"}, "amount": {"0.00"}}, []string{"amount"}, "The amount must be at least £0.01"},
		} {
			page := payer.post(path, c.form).want(t, http.StatusUnprocessableEntity, "There is a problem", c.says, "<title>Error:")
			if f := page.summaryFields(); !slices.Equal(f, c.fields) {
				t.Errorf("%v: error summary links to %v, want %v", c.form, f, c.fields)
			}
			if strings.Contains(page.body, "4242 4242 4242 4242") {
				t.Error("a card number is shown back to the payer")
			}
		}

		check := payer.post(path, url.Values{"reference": {" INV-42 "}, "amount": {"£12.5"}}).
			want(t, http.StatusOK, "Check your payment details", "Invoice number", "INV-42", "£12.50")
		if got := check.find(t, `name="amount_pence" value="(\d+)"`); got != "1250" {
			t.Fatalf("the check page carries %s pence", got)
		}
		payer.post(path, url.Values{"reference": {"INV-42"}, "amount_pence": {"1250"}, "change": {"yes"}}).
			want(t, http.StatusOK, `value="INV-42"`, `value="12.50"`).lacks(t, "There is a problem")

		// Answers are checked again when the payment is made: the hidden fields are the payer's.
		payer.post(path+"/confirm", url.Values{"reference": {"4242424242424242"}, "amount_pence": {"1250"}}).
			want(t, http.StatusUnprocessableEntity, "Do not enter a card number here")
		payer.post(path+"/confirm", url.Values{"reference": {"INV-42"}, "amount_pence": {"-5"}}).
			want(t, http.StatusUnprocessableEntity, "The amount must be at least £0.01")
		if n := s.count("SELECT count(*) FROM pay_payments"); n != 0 {
			t.Fatalf("%d payments made from refused answers", n)
		}

		sent := payer.post(path+"/confirm", url.Values{"reference": {"INV-42"}, "amount_pence": {"1250"}}).want(t, http.StatusSeeOther)
		if !strings.HasPrefix(sent.location, testBaseURL+"/pay/secure/") {
			t.Fatalf("sent to %q, want the card pages", sent.location)
		}
		token := strings.TrimPrefix(sent.location, testBaseURL+"/pay/secure/")
		p := s.newestPayment(a)
		if p.source != SourcePaymentLink || p.reference != "INV-42" || p.amount != 1250 || p.description != "Pay an invoice" ||
			p.language != langEnglish || p.live {
			t.Fatalf("payment %+v", p)
		}
		back := regexp.MustCompile(`^` + regexp.QuoteMeta(testBaseURL+path+"/complete/") + `([0-9a-v]{26})$`).FindStringSubmatch(p.returnURL)
		if back == nil || back[1] == p.id {
			t.Fatalf("return_url %q", p.returnURL)
		}
		complete := path + "/complete/" + back[1]
		payer.get(complete).want(t, http.StatusOK, "Your payment has not finished", "Start again")

		paid := s.pay(token, "4242424242424242")
		payer.get(complete).want(t, http.StatusOK, "Your payment was successful", "INV-42", "£12.50", "Invoice number").
			lacks(t, "4242424242424242")
		if paid.Source != SourcePaymentLink {
			t.Fatalf("source %q", paid.Source)
		}
		payer.get(path+"/complete/"+p.id).want(t, http.StatusNotFound)
		payer.get("/pay/link/other/complete/"+back[1]).want(t, http.StatusNotFound)

		// The team sees it like any payment, marked as made through the link.
		m := s.member("team@example.gov.uk", false, []string{platform.ViewActivity}, a)
		m.get(paymentsURL(a)+"?mode=test").want(t, http.StatusOK, "INV-42", "Payment link")
		m.get(paymentsURL(a)+"/"+p.id).want(t, http.StatusOK, "Payment link: Pay an invoice")
		// And so does the API.
		s.do("GET", "/v1/payments/"+p.id, s.a.testKey, nil).want(t, http.StatusOK)

		// A payment declined at the card pages comes back to say so.
		s.clock.Advance(time.Second)
		again := payer.post(path+"/confirm", url.Values{"reference": {"INV-43"}, "amount_pence": {"500"}}).want(t, http.StatusSeeOther)
		declined := s.newestPayment(a)
		started, err := s.svc.StartWithToken(s.ctx, strings.TrimPrefix(again.location, testBaseURL+"/pay/secure/"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.Authorise(s.ctx, started.ID, card("4000000000000002")); err != nil {
			t.Fatal(err)
		}
		if declined.id != started.ID || declined.reference != "INV-43" {
			t.Fatalf("declined payment %+v, started %s", declined, started.ID)
		}
		payer.get(strings.TrimPrefix(declined.returnURL, testBaseURL)).
			want(t, http.StatusOK, "Your payment was not completed", "No money has been taken", "Try paying again")

		// Unknown addresses are not found; a deactivated link says it is no longer available.
		payer.get("/pay/link/no-such-link").want(t, http.StatusNotFound, "Page not found")
		payer.get("/pay/link/Not_A_Slug").want(t, http.StatusNotFound)
		if err := s.svc.DeactivateLink(s.ctx, a, l.ID); err != nil {
			t.Fatal(err)
		}
		payer.get(path).want(t, http.StatusNotFound, "This payment link is no longer available")
		payer.post(path+"/confirm", url.Values{"reference": {"INV-45"}, "amount_pence": {"500"}}).
			want(t, http.StatusNotFound, "This payment link is no longer available")
		payer.get(complete).want(t, http.StatusOK, "Your payment was successful").lacks(t, "Start again")
	})
}

func TestPaymentLinkGeneratedReferenceInWelsh(t *testing.T) {
	eachTeamSite(t, nil, func(t *testing.T, s *teamSite) {
		amount := int64(3000)
		if _, err := s.svc.CreateLink(s.ctx, s.b.id, NewLink{Title: "Talu am drwydded", Slug: "trwydded", Amount: &amount,
			Language: langWelsh, Live: true}); err != nil {
			t.Fatal(err)
		}
		payer := s.payer()
		page := payer.get("/pay/link/trwydded").want(t, http.StatusOK, `<html lang="cy"`, "Talu am drwydded", "Swm i’w dalu",
			"£30.00", "Parhau i dalu", "Neidio i’r prif gynnwys").lacks(t, "Amount to pay", "Skip to main content", `name="amount"`)
		if !strings.Contains(page.body, `action="/pay/link/trwydded/confirm"`) {
			t.Fatal("a link that asks nothing does not go straight to the payment")
		}
		// Whatever a payer sends, a fixed amount stays fixed.
		sent := payer.post("/pay/link/trwydded/confirm", url.Values{"amount_pence": {"1"}, "reference": {"MINE"}}).want(t, http.StatusSeeOther)
		if !strings.HasPrefix(sent.location, testBaseURL+"/pay/secure/") {
			t.Fatalf("sent to %q", sent.location)
		}
		p := s.newestPayment(s.b.id)
		if p.amount != 3000 || p.language != langWelsh || !p.live || p.source != SourcePaymentLink || p.description != "Talu am drwydded" {
			t.Fatalf("payment %+v", p)
		}
		if !regexp.MustCompile(`^[A-Z2-9]{2}[2-9][A-Z2-9]{3}[2-9][A-Z2-9]{3}$`).MatchString(p.reference) || strings.ContainsAny(p.reference, "IO01") {
			t.Fatalf("generated reference %q", p.reference)
		}
		payer.get(strings.TrimPrefix(p.returnURL, testBaseURL)).want(t, http.StatusOK, "Nid yw eich taliad wedi gorffen", `<html lang="cy"`)
	})
}

// TestPaymentLinkRateLimit: a link's address is public, so it makes payments no faster than
// the API lets a key make them.
func TestPaymentLinkRateLimit(t *testing.T) {
	eachTeamSite(t, nil, func(t *testing.T, s *teamSite) {
		limiter := ratelimit.New(s.d)
		limiter.Now = s.clock.Now
		s.svc.cfg.Limiter = limiter
		amount := int64(500)
		if _, err := s.svc.CreateLink(s.ctx, s.a.id, NewLink{Title: "Busy", Amount: &amount, Language: langEnglish}); err != nil {
			t.Fatal(err)
		}
		payer := s.payer()
		for range int(postLimit.Capacity) {
			payer.post("/pay/link/busy/confirm", nil).want(t, http.StatusSeeOther)
		}
		refused := payer.post("/pay/link/busy/confirm", nil).want(t, http.StatusTooManyRequests, "Sorry, there is a problem with the service")
		if refused.header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		s.clock.Advance(time.Second)
		payer.post("/pay/link/busy/confirm", nil).want(t, http.StatusSeeOther)
	})
}
