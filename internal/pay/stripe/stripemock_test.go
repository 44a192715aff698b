package stripepsp

import (
	"context"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/pay"
)

// testKeys gives each service its own key, as Pay's credential store does.
var testKeys = KeyFunc(func(_ context.Context, serviceID string) (string, error) {
	switch serviceID {
	case "svc-a":
		return "sk_test_serviceA", nil
	case "svc-b":
		return "sk_test_serviceB", nil
	}
	return "", failure.New(failure.NotFound, "no key")
})

func testCard() pay.Card {
	return pay.Card{Number: "4000058260000005", CVC: "123", ExpiryDate: "04/30", CardholderName: "Mx Payer",
		BillingAddress: &pay.Address{Line1: "1 Street", City: "London", Postcode: "SW1A 1AA", Country: "GB"}}
}

// TestAgainstStripeMock checks the requests the adapter makes against Stripe's own description
// of its API (stripe-mock refuses a request that does not fit it) and what the adapter makes of
// the fixture answers. The fixtures do not depend on the card, so declines and challenges are
// tested in outcome_test.go.
func TestAgainstStripeMock(t *testing.T) {
	rec := newRecorder(t, startStripeMock(t))
	prov := New(Config{Keys: testKeys, URL: rec.URL,
		ReturnURL: func(id string) string { return "https://commons.example/pay/3ds/" + id }})
	ctx := context.Background()

	t.Run("authorise", func(t *testing.T) {
		req := pay.AuthoriseRequest{ServiceID: "svc-a", PaymentID: "pay123", Amount: 1234, Description: "Pond permit",
			Reference: "REF-1", Card: testCard()}
		res, err := prov.Authorise(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		calls := rec.take()
		if len(calls) != 2 {
			t.Fatalf("want 2 calls, got %+v", calls)
		}
		pm, pi := calls[0], calls[1]
		wantCall(t, pm, "POST", "/v1/payment_methods", "commons-pay/payment-method/pay123", "sk_test_serviceA", map[string]string{
			"type": "card", "card[number]": "4000058260000005", "card[cvc]": "123", "card[exp_month]": "4",
			"card[exp_year]": "2030", "billing_details[name]": "Mx Payer", "billing_details[address][line1]": "1 Street",
			"billing_details[address][postal_code]": "SW1A 1AA", "billing_details[address][country]": "GB",
		})
		if !strings.HasPrefix(pm.ResponseID, "pm_") {
			t.Fatalf("payment method answer: %+v", pm)
		}
		wantCall(t, pi, "POST", "/v1/payment_intents", "commons-pay/authorise/pay123", "sk_test_serviceA", map[string]string{
			"amount": "1234", "currency": "gbp", "capture_method": "manual", "confirm": "true",
			"confirmation_method": "automatic", "payment_method": pm.ResponseID, "payment_method_types[0]": "card",
			"description": "Pond permit", "metadata[commons_payment_id]": "pay123", "metadata[reference]": "REF-1",
			"return_url": "https://commons.example/pay/3ds/pay123",
		})
		noParams(t, pi, "error_on_requires_action", "payment_method_options[card][moto]")
		// The fixture intent is left waiting for a payment method: Stripe's state after a
		// decline. The card's funding comes from the payment method's answer.
		if res.Outcome != pay.Rejected || res.ProviderID != pi.ResponseID || !strings.HasPrefix(res.ProviderID, "pi_") ||
			res.CardType != "credit" {
			t.Fatalf("result: %+v", res)
		}

		// The same payment again (a retry after a crash) sends the same keys, so Stripe
		// replays its first answers instead of authorising twice.
		if _, err := prov.Authorise(ctx, req); err != nil {
			t.Fatal(err)
		}
		again := rec.take()
		if len(again) != 2 || again[0].IdempotencyKey != pm.IdempotencyKey || again[1].IdempotencyKey != pi.IdempotencyKey {
			t.Fatalf("retry used other keys: %+v", again)
		}
	})

	t.Run("each service uses its own key", func(t *testing.T) {
		if _, err := prov.Authorise(ctx, pay.AuthoriseRequest{ServiceID: "svc-b", PaymentID: "pay456", Amount: 500,
			Card: testCard()}); err != nil {
			t.Fatal(err)
		}
		calls := rec.take()
		if len(calls) != 2 {
			t.Fatalf("calls: %+v", calls)
		}
		wantCall(t, calls[0], "POST", "/v1/payment_methods", "commons-pay/payment-method/pay456", "sk_test_serviceB", nil)
		wantCall(t, calls[1], "POST", "/v1/payment_intents", "commons-pay/authorise/pay456", "sk_test_serviceB", nil)
	})

	t.Run("moto", func(t *testing.T) {
		if _, err := prov.Authorise(ctx, pay.AuthoriseRequest{ServiceID: "svc-a", PaymentID: "pay789", Amount: 2500,
			Card: pay.Card{Number: "4242424242424242", CVC: "123", ExpiryDate: "12/29"}, MOTO: true}); err != nil {
			t.Fatal(err)
		}
		calls := rec.take()
		if len(calls) != 2 {
			t.Fatalf("calls: %+v", calls)
		}
		wantCall(t, calls[1], "POST", "/v1/payment_intents", "commons-pay/authorise/pay789", "sk_test_serviceA", map[string]string{
			"amount": "2500", "payment_method_options[card][moto]": "true", "error_on_requires_action": "true",
		})
		noParams(t, calls[1], "return_url")
		noParams(t, calls[0], "billing_details[name]")
	})

	t.Run("no key", func(t *testing.T) {
		res, err := prov.Authorise(ctx, pay.AuthoriseRequest{ServiceID: "svc-unknown", PaymentID: "p", Amount: 100, Card: testCard()})
		if err != nil || res.Outcome != pay.ProviderError {
			t.Fatalf("got %+v %v", res, err)
		}
		if calls := rec.take(); len(calls) != 0 {
			t.Fatalf("sent without a key: %+v", calls)
		}
	})

	t.Run("a refused key is not repeated", func(t *testing.T) {
		// stripe-mock refuses live keys, quoting the request's Authorization header back.
		bad := New(Config{URL: rec.URL, Keys: KeyFunc(func(context.Context, string) (string, error) {
			return "sk_live_abc123secret", nil
		})})
		res, err := bad.Authorise(ctx, pay.AuthoriseRequest{ServiceID: "svc-a", PaymentID: "p", Amount: 100, Card: testCard()})
		if err != nil || res.Outcome != pay.ProviderError || strings.Contains(res.Message, "abc123secret") {
			t.Fatalf("got %+v %v", res, err)
		}
		err = bad.Cancel(ctx, pay.CancelRequest{ServiceID: "svc-a", PaymentID: "p", ProviderID: "pi_abc"})
		if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "abc123secret") {
			t.Fatalf("cancel: %v", err)
		}
		if calls := rec.take(); len(calls) != 2 || calls[0].Status != 401 {
			t.Fatalf("calls: %+v", calls)
		}
	})

	t.Run("authorise 3ds", func(t *testing.T) {
		res, err := prov.Authorise3DS(ctx, pay.ThreeDSRequest{ServiceID: "svc-a", PaymentID: "pay123", ProviderID: "pi_abc", Amount: 1234})
		if err != nil {
			t.Fatal(err)
		}
		calls := rec.take()
		if len(calls) != 1 {
			t.Fatalf("calls: %+v", calls)
		}
		wantCall(t, calls[0], "GET", "/v1/payment_intents/pi_abc", "", "sk_test_serviceA", map[string]string{
			"expand[0]": "payment_method",
		})
		if res.Outcome != pay.Rejected || res.ProviderID != "pi_abc" || res.CardType != "credit" {
			t.Fatalf("result: %+v", res)
		}
	})

	t.Run("capture", func(t *testing.T) {
		res, err := prov.Capture(ctx, pay.CaptureRequest{ServiceID: "svc-a", PaymentID: "pay123", ProviderID: "pi_abc", Amount: 1234})
		if err != nil {
			t.Fatal(err)
		}
		calls := rec.take()
		if len(calls) != 1 {
			t.Fatalf("calls: %+v", calls)
		}
		wantCall(t, calls[0], "POST", "/v1/payment_intents/pi_abc/capture", "commons-pay/capture/pay123", "sk_test_serviceA",
			map[string]string{"amount_to_capture": "1234", "expand[0]": "latest_charge.balance_transaction"})
		// The fixture's charge settles in dollars, so its fee is not reported as pence.
		if !strings.HasPrefix(res.Reference, "ch_") || res.Fee != nil {
			t.Fatalf("result: %+v", res)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		if err := prov.Cancel(ctx, pay.CancelRequest{ServiceID: "svc-a", PaymentID: "pay123", ProviderID: "pi_abc"}); err != nil {
			t.Fatal(err)
		}
		calls := rec.take()
		if len(calls) != 1 {
			t.Fatalf("calls: %+v", calls)
		}
		wantCall(t, calls[0], "POST", "/v1/payment_intents/pi_abc/cancel", "commons-pay/cancel/pay123", "sk_test_serviceA", nil)
	})

	t.Run("refund", func(t *testing.T) {
		res, err := prov.Refund(ctx, pay.RefundRequest{ServiceID: "svc-a", PaymentID: "pay123", RefundID: "ref42",
			ProviderID: "pi_abc", Amount: 500})
		if err != nil {
			t.Fatal(err)
		}
		calls := rec.take()
		if len(calls) != 1 {
			t.Fatalf("calls: %+v", calls)
		}
		wantCall(t, calls[0], "POST", "/v1/refunds", "commons-pay/refund/ref42", "sk_test_serviceA", map[string]string{
			"payment_intent": "pi_abc", "amount": "500", "metadata[commons_refund_id]": "ref42",
			"metadata[commons_payment_id]": "pay123",
		})
		if !res.Settled || res.Reference != calls[0].ResponseID || !strings.HasPrefix(res.Reference, "re_") {
			t.Fatalf("result: %+v", res)
		}
	})
}

// wantCall checks one request: where it went, its idempotency key and key, and that Stripe
// accepted it.
func wantCall(t *testing.T, c call, method, path, idempotencyKey, key string, params map[string]string) {
	t.Helper()
	if c.Method != method || c.Path != path {
		t.Fatalf("sent %s %s, want %s %s", c.Method, c.Path, method, path)
	}
	if c.Status != 200 {
		t.Fatalf("%s %s: Stripe answered %d", method, path, c.Status)
	}
	if c.IdempotencyKey != idempotencyKey && idempotencyKey != "" {
		t.Errorf("%s %s: idempotency key %q, want %q", method, path, c.IdempotencyKey, idempotencyKey)
	}
	if c.Authorization != "Bearer "+key {
		t.Errorf("%s %s: sent with key %q", method, path, c.Authorization)
	}
	for name, want := range params {
		if got := c.Form.Get(name); got != want {
			t.Errorf("%s %s: %s = %q, want %q", method, path, name, got, want)
		}
	}
}

func noParams(t *testing.T, c call, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, ok := c.Form[n]; ok {
			t.Errorf("%s %s: sent %s", c.Method, c.Path, n)
		}
	}
}
