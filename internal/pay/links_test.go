package pay

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/platform"
)

func TestGeneratedReferences(t *testing.T) {
	shape := regexp.MustCompile(`^[ABCSDEFGHJKLMNPQRSTUVWXYZ23456789]{2}[2-9][ABCSDEFGHJKLMNPQRSTUVWXYZ23456789]{3}[2-9][ABCSDEFGHJKLMNPQRSTUVWXYZ23456789]{3}$`)
	seen := map[string]bool{}
	for range 2000 {
		ref := generatedReference()
		if !shape.MatchString(ref) {
			t.Fatalf("reference %q", ref)
		}
		seen[ref] = true
	}
	if len(seen) < 1999 {
		t.Fatalf("only %d different references in 2000", len(seen))
	}
}

func TestLinkReferenceChecks(t *testing.T) {
	for ref, want := range map[string]string{
		"":                       linkReferenceMissing,
		"INV-42":                 "",
		"4242424242424242":       linkReferenceCardNumber,
		"4242 4242 4242 4242":    linkReferenceCardNumber,
		"4242-4242-4242-4242":    linkReferenceCardNumber,
		"4242424242424241":       "", // fails the Luhn check: an account number, say
		"12345678":               "",
		"371449635398431":        linkReferenceCardNumber,
		"<script>":               linkReferenceCharacters,
		strings.Repeat("x", 256): linkReferenceTooLong,
	} {
		err := checkLinkReference(ref)
		got := ""
		if err != nil {
			got = err.(*LinkInputError).Reason
		}
		if got != want {
			t.Errorf("%q: %q, want %q", ref, got, want)
		}
	}
}

func TestLinkSlugs(t *testing.T) {
	for title, want := range map[string]string{
		"Pay for a parking permit":   "pay-for-a-parking-permit",
		"  Council's  fees (2026)  ": "councils-fees-2026",
		"Talu’r dreth gyngor":        "talur-dreth-gyngor",
		"Ffioedd ŵyna":               "ffioedd-yna",
		"!!!":                        "",
	} {
		got := slugFrom(title)
		if got != want {
			t.Errorf("%q: %q, want %q", title, got, want)
		}
		if got != "" && !validSlug(got) {
			t.Errorf("%q: %q is not a valid address", title, got)
		}
	}
	if long := slugFrom(strings.Repeat("abcdefghij ", 20)); len(long) > maxLinkSlug || !validSlug(long) {
		t.Errorf("a long title makes %q", long)
	}
	for _, bad := range []string{"", "-a", "a-", "a--b", "A", "a b", "a_b", strings.Repeat("a", 81)} {
		if validSlug(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPounds(t *testing.T) {
	for in, want := range map[string]int64{"12": 1200, "12.5": 1250, "12.50": 1250, "£1,234.05": 123405, " £ 7 ": 700, ".5": 50, "0": 0} {
		if got, ok := parsePounds(in); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "£", "-1", "1.234", "1.", "12a", "1e3", "1.2.3", "99999999999999"} {
		if got, ok := parsePounds(in); ok {
			t.Errorf("%q accepted as %d", in, got)
		}
	}
	for pence, want := range map[int64]string{0: "£0.00", 5: "£0.05", 123456789: "£1,234,567.89", -1500: "-£15.00"} {
		if got := poundsText(pence); got != want {
			t.Errorf("%d: %q, want %q", pence, got, want)
		}
	}
	if got := poundsPlain(-1505); got != "-15.05" {
		t.Errorf("poundsPlain: %q", got)
	}
}

func TestLinkCatalogue(t *testing.T) {
	for key, m := range linkMessages {
		if strings.TrimSpace(m[0]) == "" || strings.TrimSpace(m[1]) == "" {
			t.Errorf("%s lacks a language: %q", key, m)
		}
		if strings.Count(m[0], "%s") != strings.Count(m[1], "%s") {
			t.Errorf("%s: the languages take different arguments", key)
		}
	}
	if got := inSentence("Invoice number"); got != "invoice number" {
		t.Errorf("inSentence: %q", got)
	}
	if got := inSentence("URN"); got != "URN" {
		t.Errorf("inSentence: %q", got)
	}
	if got := eventWords("GatewayRequires3dsAuthorisation"); got != "Gateway requires 3-D Secure authorisation" {
		t.Errorf("eventWords: %q", got)
	}
}

func TestStripeKeyShape(t *testing.T) {
	for key, want := range map[string]bool{"sk_live_abcdefghij": true, "rk_test_0123456789AB": true, "sk_live_short": false,
		"pk_live_abcdefghijkl": false, "sk_live_abc def ghij": false, "sk_live_": false} {
		if got := checkStripeKey(key); got != want {
			t.Errorf("%q: %v", key, got)
		}
	}
}

func TestConsoleLinks(t *testing.T) {
	eachTeamSite(t, nil, func(t *testing.T, s *teamSite) {
		a := s.a.id
		base := paymentsURL(a) + "/links"
		viewer := s.member("viewer@example.gov.uk", false, []string{platform.ViewActivity}, a)
		viewer.get(base).want(t, http.StatusOK, "The service has no payment links yet").lacks(t, "Make a payment link")
		viewer.get(base+"/new").want(t, http.StatusForbidden)
		viewer.post(base+"/new", url.Values{"title": {"Sneaky"}}).want(t, http.StatusForbidden)

		m := s.member("manager@example.gov.uk", false, []string{platform.ManagePayments}, a)
		m.get(base).want(t, http.StatusOK, "Make a payment link")
		m.get(base+"/new").want(t, http.StatusOK, "Make a payment link", `value="generated" checked`, `value="test" checked`)
		good := url.Values{"title": {"Pay for a parking permit"}, "amount": {"25"}, "reference": {"generated"},
			"language": {"en"}, "mode": {"test"}}
		with := func(changes ...string) url.Values {
			v := url.Values{}
			for k, vs := range good {
				v[k] = slices.Clone(vs)
			}
			for i := 0; i+1 < len(changes); i += 2 {
				v.Set(changes[i], changes[i+1])
			}
			return v
		}
		for _, c := range []struct {
			form   url.Values
			fields []string
		}{
			{with("title", ""), []string{"title"}},
			{with("title", "", "amount", "lots", "mode", "both"), []string{"title", "amount", "mode"}},
			{with("title", "Pay <b>now</b>"), []string{"title"}},
			{with("slug", "Not A Slug!"), []string{"slug"}},
			{with("amount", "0"), []string{"amount"}},
			{with("amount", "100000.01"), []string{"amount"}},
			{with("reference", "payer"), []string{"reference_label"}},
			{with("reference", "sometimes"), []string{"reference"}},
			{with("language", "fr"), []string{"language"}},
		} {
			page := m.post(base+"/new", c.form).want(t, http.StatusUnprocessableEntity, "There is a problem")
			if f := page.summaryFields(); !slices.Equal(f, c.fields) {
				t.Errorf("%v: error summary links to %v, want %v", c.form, f, c.fields)
			}
		}
		if n := s.count("SELECT count(*) FROM pay_links"); n != 0 {
			t.Fatalf("%d links made from refused forms", n)
		}

		m.post(base+"/new", good).want(t, http.StatusOK, "Payment link made: "+testBaseURL+"/pay/link/pay-for-a-parking-permit",
			"Pay for a parking permit", "£25.00", "Made for each payment", "Active")
		m.post(base+"/new", good).want(t, http.StatusUnprocessableEntity, "Another payment link already uses this web address")
		m.post(base+"/new", with("title", "Pay an invoice", "slug", "invoices", "amount", "", "reference", "payer",
			"reference_label", "Invoice number", "language", "cy", "mode", "live")).
			want(t, http.StatusOK, "/pay/link/invoices", "Payer enters", "Payer enters: Invoice number", "(Welsh)")
		invoices, err := s.svc.LinkBySlug(s.ctx, "invoices")
		if err != nil {
			t.Fatal(err)
		}
		permits, err := s.svc.LinkBySlug(s.ctx, "pay-for-a-parking-permit")
		if err != nil {
			t.Fatal(err)
		}
		if invoices.Slug != "invoices" || !invoices.Live || invoices.Amount != nil || invoices.ReferenceLabel != "Invoice number" ||
			invoices.Language != langWelsh || permits.Live || permits.Amount == nil || *permits.Amount != 2500 || permits.AsksForReference() {
			t.Fatalf("links as stored: %+v %+v", invoices, permits)
		}
		viewer.get(base).want(t, http.StatusOK, "Pay an invoice", "Pay for a parking permit").lacks(t, "Deactivate")

		m.get(base+"/"+permits.ID+"/deactivate").want(t, http.StatusOK, "Deactivate this payment link", "/pay/link/pay-for-a-parking-permit")
		m.post(base+"/"+permits.ID+"/deactivate", nil).want(t, http.StatusOK, "Payment link deactivated: Pay for a parking permit", "Deactivated")
		m.get(base+"/"+permits.ID+"/deactivate").want(t, http.StatusOK, "This link has been deactivated already").lacks(t, "Deactivate the link")
		if l, _ := s.svc.Link(s.ctx, a, permits.ID); l.Active {
			t.Fatal("the link is still active")
		}
		s.payer().get("/pay/link/pay-for-a-parking-permit").want(t, http.StatusNotFound, "This payment link is no longer available")

		for action, want := range map[string]int{auditPayLinkCreated: 2, auditPayLinkDeactivated: 1} {
			if n := s.count("SELECT count(*) FROM audit_events WHERE service_id = ? AND action = ?", a, action); n != want {
				t.Errorf("%d %s in the audit log, want %d", n, action, want)
			}
		}
	})
}
