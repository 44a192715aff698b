package pay

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

func TestConsoleSettings(t *testing.T) {
	eachTeamSite(t, map[string]Provider{stripeProvider: Sandbox{}}, func(t *testing.T, s *teamSite) {
		a := s.a.id
		base := paymentsURL(a) + "/settings"
		s.member("viewer@example.gov.uk", false, []string{platform.ViewActivity, platform.ManagePayments, platform.RefundPayments}, a).
			get(base).want(t, http.StatusForbidden)

		m := s.member("owner@example.gov.uk", false, []string{platform.ManageService}, a)
		m.get(base).want(t, http.StatusOK, "Secret key: not saved", `value="sandbox" checked`)

		const key = "sk_test_51AbCdEfGhIjKlMnOpQrStUvWXYZ"
		for _, c := range []struct {
			form   url.Values
			fields []string
		}{
			{url.Values{"provider": {stripeProvider}}, []string{"stripe_key"}},
			{url.Values{"provider": {"worldpay"}}, []string{"provider"}},
			{url.Values{"provider": {SandboxName}, "stripe_key": {"pk_test_not-a-secret-key"}}, []string{"stripe_key"}},
			{url.Values{"provider": {SandboxName}, "options": {"free-money"}}, []string{"options"}},
		} {
			page := m.post(base, c.form).want(t, http.StatusUnprocessableEntity, "There is a problem").lacks(t, "pk_test_not-a-secret-key")
			if f := page.summaryFields(); !slices.Equal(f, c.fields) {
				t.Errorf("%v: error summary links to %v, want %v", c.form, f, c.fields)
			}
		}

		page := m.post(base, url.Values{"provider": {stripeProvider}, "stripe_key": {"  " + key + "\n"}, "options": {optionMOTO, optionZeroAmount}}).
			want(t, http.StatusOK, "Payment settings saved", "Secret key: saved, ending", ">WXYZ<", `value="stripe" checked`,
				`value="moto" checked`, `value="zero_amount" checked`).lacks(t, key, "sk_test_51")
		if strings.Contains(page.body, `value="moto_api" checked`) {
			t.Error("an option that was not chosen is ticked")
		}
		st, err := s.svc.Settings(s.ctx, a)
		if err != nil || st != (Settings{Provider: stripeProvider, MOTOEnabled: true, AllowZeroAmount: true}) {
			t.Fatalf("settings %+v %v", st, err)
		}
		// The key is kept sealed, and opens only for its own service.
		if n := s.count("SELECT count(*) FROM pay_provider_credentials WHERE sealed_secret LIKE ?", "%"+key[8:20]+"%"); n != 0 {
			t.Fatal("the secret key is stored in the clear")
		}
		if got, err := s.creds.ProviderCredential(s.ctx, a, stripeProvider); err != nil || got != key {
			t.Fatalf("stored key %q, %v", got, err)
		}
		if _, err := s.creds.ProviderCredential(s.ctx, s.b.id, stripeProvider); !failure.Is(err, failure.NotFound) {
			t.Fatalf("service B has a key: %v", err)
		}

		// Saving again without a key keeps the one saved.
		m.post(base, url.Values{"provider": {stripeProvider}}).want(t, http.StatusOK, "Payment settings saved", ">WXYZ<")
		// The key cannot be removed while live payments use it.
		m.post(base+"/stripe-key/remove", nil).want(t, http.StatusUnprocessableEntity, "Choose another provider")
		m.post(base, url.Values{"provider": {SandboxName}}).want(t, http.StatusOK, "Payment settings saved")
		m.post(base+"/stripe-key/remove", nil).want(t, http.StatusOK, "Stripe secret key removed", "Secret key: not saved")
		if _, err := s.creds.ProviderCredential(s.ctx, a, stripeProvider); !failure.Is(err, failure.NotFound) {
			t.Fatalf("the key is still there: %v", err)
		}

		var details string
		for _, action := range []string{auditPaySettings, auditPayCredentialsSaved, auditPayCredentialRemoved} {
			if n := s.count("SELECT count(*) FROM audit_events WHERE service_id = ? AND action = ?", a, action); n == 0 {
				t.Errorf("no %s in the audit log", action)
			}
		}
		rows, err := s.d.Query(s.ctx, "SELECT details FROM audit_events WHERE service_id = ?", a)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&details); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(details, key[8:]) {
				t.Fatalf("the audit log holds the secret key: %s", details)
			}
		}
	})
}

// TestConsoleSettingsWithoutStripe: a node that has no Stripe provider cannot be chosen for it.
func TestConsoleSettingsWithoutStripe(t *testing.T) {
	eachTeamSite(t, nil, func(t *testing.T, s *teamSite) {
		m := s.member("owner@example.gov.uk", false, []string{platform.ManageService}, s.a.id)
		base := paymentsURL(s.a.id) + "/settings"
		page := m.post(base, url.Values{"provider": {stripeProvider}, "stripe_key": {"sk_live_abcdefghijklmnop"}}).
			want(t, http.StatusUnprocessableEntity, "Commons is not set up to take payments with this provider")
		if f := page.summaryFields(); !slices.Equal(f, []string{"provider"}) {
			t.Fatalf("error summary links to %v", f)
		}
		m.post(base, url.Values{"provider": {SandboxName}, "options": {optionRecurring}}).want(t, http.StatusOK, "Payment settings saved")
		if st, _ := s.svc.Settings(s.ctx, s.a.id); st.Provider != SandboxName || !st.RecurringEnabled {
			t.Fatalf("settings %+v", st)
		}
	})
}
