package stripepsp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/pay"
)

// Outcomes that stripe-mock's fixtures cannot show (declines, challenges, Stripe's faults),
// against a fake Stripe answering with the documented shapes of Stripe's JSON.

type reply struct {
	status int
	body   string
}

// fakeStripe answers each "METHOD /path" with its replies in turn, repeating the last.
func fakeStripe(t *testing.T, cfg Config, routes map[string][]reply) (*Provider, *recorder) {
	t.Helper()
	var mu sync.Mutex
	served := map[string]int{}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := r.Method + " " + r.URL.Path
		mu.Lock()
		replies, n := routes[route], served[route]
		served[route]++
		mu.Unlock()
		if len(replies) == 0 {
			t.Errorf("unexpected request %s", route)
			http.Error(w, "no route", http.StatusNotFound)
			return
		}
		rp := replies[min(n, len(replies)-1)]
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_test")
		w.WriteHeader(rp.status)
		_, _ = w.Write([]byte(rp.body))
	}))
	t.Cleanup(upstream.Close)
	rec := newRecorder(t, upstream.URL)
	cfg.URL = rec.URL
	if cfg.Keys == nil {
		cfg.Keys = testKeys
	}
	return New(cfg), rec
}

const pmDebit = `{"id":"pm_1","object":"payment_method","type":"card","card":{"brand":"visa","funding":"debit","last4":"0005"}}`

// intent is a payment intent with its client secret, which must never reach an error or a log.
func intent(status string, extra ...string) string {
	fields := append([]string{`"id":"pi_1"`, `"object":"payment_intent"`, `"amount":1234`, `"currency":"gbp"`,
		`"client_secret":"pi_1_secret_do_not_log"`, `"status":"` + status + `"`}, extra...)
	return "{" + strings.Join(fields, ",") + "}"
}

// stripeError is Stripe's error body.
func stripeError(kind, code, declineCode, message string, extra ...string) string {
	fields := []string{`"type":"` + kind + `"`, `"message":"` + message + `"`}
	if code != "" {
		fields = append(fields, `"code":"`+code+`"`)
	}
	if declineCode != "" {
		fields = append(fields, `"decline_code":"`+declineCode+`"`)
	}
	return `{"error":{` + strings.Join(append(fields, extra...), ",") + `}}`
}

var (
	declinedIntent = `"payment_intent":` + intent("requires_payment_method")
	ok200          = func(body string) []reply { return []reply{{200, body}} }
)

func authoriseReq() pay.AuthoriseRequest {
	return pay.AuthoriseRequest{ServiceID: "svc-a", PaymentID: "pay1", Amount: 1234, Card: testCard()}
}

func TestAuthoriseOutcomes(t *testing.T) {
	cases := []struct {
		name        string
		pm, pi      []reply
		outcome     pay.AuthoriseOutcome // 0: an error, not a result
		providerID  string
		cardType    string
		message     string
		threeDSURL  string
		wantPICalls bool
	}{
		{name: "authorised", pm: ok200(pmDebit), pi: ok200(intent("requires_capture")),
			outcome: pay.Authorised, providerID: "pi_1", cardType: "debit"},
		{name: "succeeded counts as authorised", pm: ok200(pmDebit), pi: ok200(intent("succeeded")),
			outcome: pay.Authorised, providerID: "pi_1", cardType: "debit"},
		{name: "challenge", pm: ok200(pmDebit), pi: ok200(intent("requires_action",
			`"next_action":{"type":"redirect_to_url","redirect_to_url":{"url":"https://hooks.stripe.com/3ds/abc","return_url":"https://commons.example/r"}}`)),
			outcome: pay.ThreeDSRequired, providerID: "pi_1", cardType: "debit", threeDSURL: "https://hooks.stripe.com/3ds/abc"},
		{name: "an action only Stripe's JavaScript can take", pm: ok200(pmDebit), pi: ok200(intent("requires_action",
			`"next_action":{"type":"use_stripe_sdk","use_stripe_sdk":{}}`)),
			outcome: pay.ProviderError, providerID: "pi_1", cardType: "debit", message: "cannot take"},
		{name: "declined", pm: ok200(pmDebit),
			pi:      []reply{{402, stripeError("card_error", "card_declined", "insufficient_funds", "Your card has insufficient funds.", declinedIntent)}},
			outcome: pay.Rejected, providerID: "pi_1", cardType: "debit", message: "card_declined (insufficient_funds): Your card has insufficient funds."},
		{name: "expired card", pm: ok200(pmDebit),
			pi:      []reply{{402, stripeError("card_error", "expired_card", "expired_card", "Your card has expired.", declinedIntent)}},
			outcome: pay.Rejected, providerID: "pi_1", cardType: "debit", message: "expired_card: Your card has expired."},
		{name: "card number refused before any intent",
			pm:      []reply{{402, stripeError("card_error", "incorrect_number", "", "Your card number is incorrect.")}},
			outcome: pay.Rejected, message: "incorrect_number"},
		{name: "processing error", pm: ok200(pmDebit),
			pi:      []reply{{402, stripeError("card_error", "processing_error", "", "An error occurred while processing your card.", declinedIntent)}},
			outcome: pay.ProviderError, providerID: "pi_1", cardType: "debit", message: "processing_error"},
		{name: "invalid request", pm: ok200(pmDebit),
			pi:      []reply{{400, stripeError("invalid_request_error", "amount_too_small", "", "Amount must be at least £0.30 gbp")}},
			outcome: pay.ProviderError, cardType: "debit", message: "amount_too_small"},
		{name: "revoked key",
			pm:      []reply{{401, stripeError("invalid_request_error", "", "", "Invalid API Key provided: sk_live_****abcd")}},
			outcome: pay.ProviderError, message: "Invalid API Key"},
		{name: "declined without an error answer", pm: ok200(pmDebit), pi: ok200(intent("requires_payment_method",
			`"last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"do_not_honor","message":"Your card was declined."}`)),
			outcome: pay.Rejected, providerID: "pi_1", cardType: "debit", message: "card_declined (do_not_honor)"},
		{name: "cancelled intent", pm: ok200(pmDebit), pi: ok200(intent("canceled")),
			outcome: pay.ProviderError, providerID: "pi_1", cardType: "debit"},
		{name: "still processing", pm: ok200(pmDebit), pi: ok200(intent("processing"))},
		{name: "Stripe fault", pm: ok200(pmDebit),
			pi: []reply{{500, stripeError("api_error", "", "", "Something went wrong on Stripe's end.", declinedIntent)}}},
		{name: "rate limited", pm: ok200(pmDebit),
			pi: []reply{{429, stripeError("invalid_request_error", "rate_limit", "", "Too many requests.")}}},
		{name: "same key still running", pm: ok200(pmDebit),
			pi: []reply{{409, stripeError("invalid_request_error", "idempotency_key_in_use", "", "There is currently another in-progress request using this Stripe-Idempotency-Key.")}}},
		{name: "idempotency key reused with other parameters", pm: ok200(pmDebit),
			pi: []reply{{400, stripeError("idempotency_error", "", "", "Keys for idempotent requests can only be used with the same parameters they were first used with.")}}},
		{name: "a proxy's error page", pm: ok200(pmDebit), pi: []reply{{502, "<html>Bad Gateway</html>"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			routes := map[string][]reply{"POST /v1/payment_methods": c.pm}
			if c.pi != nil {
				routes["POST /v1/payment_intents"] = c.pi
			}
			prov, rec := fakeStripe(t, Config{ReturnURL: func(id string) string { return "https://commons.example/r/" + id }}, routes)
			res, err := prov.Authorise(context.Background(), authoriseReq())
			if c.outcome == 0 {
				if err == nil {
					t.Fatalf("want an error, got %+v", res)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("want outcome %d, got error %v", c.outcome, err)
			}
			if res.Outcome != c.outcome || res.ProviderID != c.providerID || res.CardType != c.cardType ||
				!strings.Contains(res.Message, c.message) {
				t.Fatalf("got %+v", res)
			}
			if strings.Contains(res.Message, "secret") {
				t.Fatalf("message shows a secret: %q", res.Message)
			}
			if c.threeDSURL != "" && (res.ThreeDS == nil || res.ThreeDS.URL != c.threeDSURL) {
				t.Fatalf("challenge: %+v", res.ThreeDS)
			}
			if c.pi == nil && len(rec.take()) != 1 {
				t.Fatal("an intent was created for a refused card")
			}
		})
	}
}

func TestAuthoriseWithoutAnAnswer(t *testing.T) {
	ctx := context.Background()

	t.Run("unreachable", func(t *testing.T) {
		closed := httptest.NewServer(http.NotFoundHandler())
		closed.Close()
		prov := New(Config{Keys: testKeys, URL: closed.URL})
		if res, err := prov.Authorise(ctx, authoriseReq()); err == nil {
			t.Fatalf("got %+v", res)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(slow.Close)
		t.Cleanup(func() { close(release) }) // runs first: the server cannot close with a handler waiting
		prov := New(Config{Keys: testKeys, URL: slow.URL})
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := prov.Authorise(short, authoriseReq())
		// Pay tells a timeout from other failures by context.DeadlineExceeded.
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("key store down", func(t *testing.T) {
		prov := New(Config{URL: "http://127.0.0.1:1", Keys: KeyFunc(func(context.Context, string) (string, error) {
			return "", failure.Wrap(failure.Unavailable, errors.New("database gone"), "unavailable")
		})})
		if res, err := prov.Authorise(ctx, authoriseReq()); err == nil {
			t.Fatalf("got %+v", res)
		}
	})

	t.Run("no service", func(t *testing.T) {
		prov := New(Config{URL: "http://127.0.0.1:1", Keys: testKeys})
		req := authoriseReq()
		req.ServiceID = ""
		if res, err := prov.Authorise(ctx, req); err == nil {
			t.Fatalf("got %+v", res)
		}
	})

	t.Run("retried with the same key", func(t *testing.T) {
		// Stripe's client retries what never got an answer and lock timeouts, not its errors.
		prov, rec := fakeStripe(t, Config{Retries: 1}, map[string][]reply{
			"POST /v1/payment_methods": ok200(pmDebit),
			"POST /v1/payment_intents": {{429, stripeError("invalid_request_error", "lock_timeout", "", "Try again.")},
				{200, intent("requires_capture")}},
		})
		res, err := prov.Authorise(ctx, authoriseReq())
		if err != nil || res.Outcome != pay.Authorised {
			t.Fatalf("got %+v %v", res, err)
		}
		calls := rec.take()
		if len(calls) != 3 || calls[1].IdempotencyKey != calls[2].IdempotencyKey || calls[1].IdempotencyKey == "" {
			t.Fatalf("calls: %+v", calls)
		}
	})
}

func TestAuthoriseRequestShape(t *testing.T) {
	ctx := context.Background()
	routes := map[string][]reply{"POST /v1/payment_methods": ok200(pmDebit), "POST /v1/payment_intents": ok200(intent("requires_capture"))}

	t.Run("without a return address a challenge fails the payment", func(t *testing.T) {
		prov, rec := fakeStripe(t, Config{}, routes)
		if _, err := prov.Authorise(ctx, authoriseReq()); err != nil {
			t.Fatal(err)
		}
		pi := rec.take()[1]
		if pi.Form.Get("error_on_requires_action") != "true" || pi.Form.Has("return_url") {
			t.Fatalf("sent %v", pi.Form)
		}
	})

	t.Run("bad expiry date", func(t *testing.T) {
		prov, rec := fakeStripe(t, Config{}, routes)
		req := authoriseReq()
		req.Card.ExpiryDate = "13/30"
		res, err := prov.Authorise(ctx, req)
		if err != nil || res.Outcome != pay.Rejected || len(rec.take()) != 0 {
			t.Fatalf("got %+v %v", res, err)
		}
	})
}

func TestAuthorise3DSOutcomes(t *testing.T) {
	pmCredit := `"payment_method":{"id":"pm_1","object":"payment_method","type":"card","card":{"funding":"credit"}}`
	cases := []struct {
		name     string
		answer   reply
		outcome  pay.AuthoriseOutcome
		cardType string
		message  string
	}{
		{name: "passed", answer: reply{200, intent("requires_capture", pmCredit)}, outcome: pay.Authorised, cardType: "credit"},
		{name: "failed", answer: reply{200, intent("requires_payment_method", pmCredit,
			`"last_payment_error":{"type":"invalid_request_error","code":"payment_intent_authentication_failure","message":"We are unable to authenticate your payment method."}`)},
			outcome: pay.Rejected, cardType: "credit", message: "payment_intent_authentication_failure"},
		{name: "not finished", answer: reply{200, intent("requires_action", `"payment_method":"pm_1"`,
			`"next_action":{"type":"redirect_to_url","redirect_to_url":{"url":"https://hooks.stripe.com/3ds/abc"}}`)},
			outcome: pay.ThreeDSRequired},
		{name: "no such intent", answer: reply{404, stripeError("invalid_request_error", "resource_missing", "", "No such payment_intent: 'pi_1'")},
			outcome: pay.ProviderError, message: "resource_missing"},
		{name: "Stripe fault", answer: reply{500, stripeError("api_error", "", "", "Try again.")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prov, rec := fakeStripe(t, Config{}, map[string][]reply{"GET /v1/payment_intents/pi_1": {c.answer}})
			res, err := prov.Authorise3DS(context.Background(), pay.ThreeDSRequest{ServiceID: "svc-a", PaymentID: "pay1", ProviderID: "pi_1"})
			if c.outcome == 0 {
				if err == nil {
					t.Fatalf("got %+v", res)
				}
				return
			}
			if err != nil || res.Outcome != c.outcome || res.CardType != c.cardType || !strings.Contains(res.Message, c.message) {
				t.Fatalf("got %+v %v", res, err)
			}
			if calls := rec.take(); calls[0].Form.Get("expand[0]") != "payment_method" {
				t.Fatalf("sent %v", calls[0].Form)
			}
		})
	}
	if _, err := New(Config{Keys: testKeys}).Authorise3DS(context.Background(), pay.ThreeDSRequest{ServiceID: "svc-a"}); err == nil {
		t.Fatal("no payment intent id accepted")
	}
}

func TestCapture(t *testing.T) {
	ctx := context.Background()
	req := pay.CaptureRequest{ServiceID: "svc-a", PaymentID: "pay1", ProviderID: "pi_1", Amount: 1234}
	charge := func(currency string) string {
		return fmt.Sprintf(`"latest_charge":{"id":"ch_1","object":"charge","balance_transaction":{"id":"txn_1","object":"balance_transaction","currency":%q,"fee":37}}`, currency)
	}
	unexpectedState := reply{400, stripeError("invalid_request_error", "payment_intent_unexpected_state", "", "This PaymentIntent could not be captured because it has a status of succeeded.")}

	t.Run("fee in pence", func(t *testing.T) {
		prov, _ := fakeStripe(t, Config{}, map[string][]reply{"POST /v1/payment_intents/pi_1/capture": ok200(intent("succeeded", charge("gbp")))})
		res, err := prov.Capture(ctx, req)
		if err != nil || res.Reference != "ch_1" || res.Fee == nil || *res.Fee != 37 {
			t.Fatalf("got %+v %v", res, err)
		}
	})
	t.Run("no charge in the answer", func(t *testing.T) {
		prov, _ := fakeStripe(t, Config{}, map[string][]reply{"POST /v1/payment_intents/pi_1/capture": ok200(intent("succeeded", `"latest_charge":"ch_9"`))})
		res, err := prov.Capture(ctx, req)
		if err != nil || res.Reference != "ch_9" || res.Fee != nil {
			t.Fatalf("got %+v %v", res, err)
		}
	})
	t.Run("captured before", func(t *testing.T) {
		prov, rec := fakeStripe(t, Config{}, map[string][]reply{
			"POST /v1/payment_intents/pi_1/capture": {unexpectedState},
			"GET /v1/payment_intents/pi_1":          ok200(intent("succeeded", charge("gbp"))),
		})
		res, err := prov.Capture(ctx, req)
		if err != nil || res.Reference != "ch_1" || *res.Fee != 37 {
			t.Fatalf("got %+v %v", res, err)
		}
		if calls := rec.take(); len(calls) != 2 || calls[1].Form.Get("expand[0]") != "latest_charge.balance_transaction" {
			t.Fatalf("calls: %+v", calls)
		}
	})
	t.Run("cannot be captured", func(t *testing.T) {
		prov, _ := fakeStripe(t, Config{}, map[string][]reply{
			"POST /v1/payment_intents/pi_1/capture": {unexpectedState},
			"GET /v1/payment_intents/pi_1":          ok200(intent("canceled")),
		})
		if res, err := prov.Capture(ctx, req); err == nil || !strings.Contains(err.Error(), "payment_intent_unexpected_state") {
			t.Fatalf("got %+v %v", res, err)
		}
	})
	t.Run("Stripe fault", func(t *testing.T) {
		prov, _ := fakeStripe(t, Config{}, map[string][]reply{"POST /v1/payment_intents/pi_1/capture": {{500, stripeError("api_error", "", "", "Try again.")}}})
		if res, err := prov.Capture(ctx, req); err == nil {
			t.Fatalf("got %+v", res)
		}
	})
	t.Run("no key is a fault to retry", func(t *testing.T) {
		prov := New(Config{Keys: testKeys, URL: "http://127.0.0.1:1"})
		r := req
		r.ServiceID = "svc-unknown"
		if res, err := prov.Capture(ctx, r); err == nil || !errors.Is(err, errNoKey) {
			t.Fatalf("got %+v %v", res, err)
		}
	})
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	req := pay.CancelRequest{ServiceID: "svc-a", PaymentID: "pay1", ProviderID: "pi_1"}
	unexpectedState := reply{400, stripeError("invalid_request_error", "payment_intent_unexpected_state", "", "This PaymentIntent's status is canceled.")}

	t.Run("cancelled before", func(t *testing.T) {
		prov, _ := fakeStripe(t, Config{}, map[string][]reply{
			"POST /v1/payment_intents/pi_1/cancel": {unexpectedState},
			"GET /v1/payment_intents/pi_1":         ok200(intent("canceled")),
		})
		if err := prov.Cancel(ctx, req); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("captured meanwhile", func(t *testing.T) {
		prov, _ := fakeStripe(t, Config{}, map[string][]reply{
			"POST /v1/payment_intents/pi_1/cancel": {unexpectedState},
			"GET /v1/payment_intents/pi_1":         ok200(intent("succeeded")),
		})
		if err := prov.Cancel(ctx, req); err == nil {
			t.Fatal("a captured payment reported cancelled")
		}
	})
}

func TestRefund(t *testing.T) {
	ctx := context.Background()
	req := pay.RefundRequest{ServiceID: "svc-a", PaymentID: "pay1", RefundID: "r1", ProviderID: "pi_1", Amount: 500}
	refund := func(status string) []reply {
		return ok200(`{"id":"re_1","object":"refund","amount":500,"currency":"gbp","payment_intent":"pi_1","status":"` + status + `"}`)
	}
	for _, c := range []struct {
		status  string
		settled bool
		fails   bool
	}{{"succeeded", true, false}, {"pending", false, false}, {"requires_action", false, false}, {"failed", false, true}} {
		t.Run(c.status, func(t *testing.T) {
			prov, _ := fakeStripe(t, Config{}, map[string][]reply{"POST /v1/refunds": refund(c.status)})
			res, err := prov.Refund(ctx, req)
			if c.fails {
				if err == nil {
					t.Fatalf("got %+v", res)
				}
				return
			}
			if err != nil || res.Reference != "re_1" || res.Settled != c.settled {
				t.Fatalf("got %+v %v", res, err)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		prov, _ := fakeStripe(t, Config{}, map[string][]reply{"POST /v1/refunds": {{400, stripeError("invalid_request_error",
			"charge_already_refunded", "", "Charge ch_1 has already been refunded.")}}})
		if res, err := prov.Refund(ctx, req); err == nil || !strings.Contains(err.Error(), "charge_already_refunded") {
			t.Fatalf("got %+v %v", res, err)
		}
	})
}

func TestParseExpiry(t *testing.T) {
	for in, want := range map[string][2]int64{"01/30": {1, 2030}, "12/99": {12, 2099}, " 04/27 ": {4, 2027}} {
		m, y, ok := parseExpiry(in)
		if !ok || m != want[0] || y != want[1] {
			t.Errorf("parseExpiry(%q) = %d %d %v", in, m, y, ok)
		}
	}
	for _, in := range []string{"", "1/30", "00/30", "13/30", "04/2030", "ab/cd", "04-30"} {
		if _, _, ok := parseExpiry(in); ok {
			t.Errorf("parseExpiry(%q) accepted", in)
		}
	}
}

func TestRedactKeys(t *testing.T) {
	got := redactKeys("Invalid API Key provided: sk_live_abc123DEF and rk_test_xyz, not pk_live_pub")
	if strings.Contains(got, "abc123") || strings.Contains(got, "xyz") || !strings.Contains(got, "pk_live_pub") {
		t.Fatalf("got %q", got)
	}
}
