package pay

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestGetPayment(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		t.Run("created payment, with a fresh token each time", func(t *testing.T) {
			id, tok := f.create(f.a.testKey, webPayment(1500))
			r := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil)
			tok2 := r.webToken(t)
			if tok2 == tok {
				t.Fatal("GET reused the create's token")
			}
			self := testBaseURL + "/v1/payments/" + id
			r.wantJSON(t, http.StatusOK, fmt.Sprintf(`{"payment_id":%q,"payment_provider":"sandbox","amount":1500,
				"description":"A licence","reference":"ref-1","created_date":"2026-05-12T09:30:15.123Z",
				"refund_summary":{"status":"pending","amount_available":1500,"amount_submitted":0},"settlement_summary":{},
				"language":"en","delayed_capture":false,"moto":false,"return_url":"https://service.example.gov.uk/return",
				"state":{"status":"created","finished":false},"authorisation_mode":"web",
				"_links":{"self":{"href":%q,"method":"GET"},
				"next_url":{"href":"http://commons.test/pay/secure/%s","method":"GET"},
				"next_url_post":{"href":"http://commons.test/pay/secure","method":"POST","type":"application/x-www-form-urlencoded","params":{"chargeTokenId":%q}},
				"events":{"href":"%s/events","method":"GET"},"refunds":{"href":"%s/refunds","method":"GET"},
				"cancel":{"href":"%s/cancel","method":"POST"}}}`, id, self, tok2, tok2, self, self, self))
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
				t.Errorf("cache headers %v", r.header)
			}
		})

		t.Run("captured payment shows card details, settlement and refunds", func(t *testing.T) {
			id := f.captured(f.a.testKey, 2000)
			p, _ := f.svc.Payment(f.ctx, f.a.id, id)
			self := testBaseURL + "/v1/payments/" + id
			f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).wantJSON(t, http.StatusOK, fmt.Sprintf(`{"payment_id":%q,
				"payment_provider":"sandbox","amount":2000,"description":"A licence","reference":"ref-1",
				"created_date":"2026-05-12T09:30:15.123Z",
				"refund_summary":{"status":"available","amount_available":2000,"amount_submitted":0},
				"settlement_summary":{"capture_submit_time":"2026-05-12T09:30:15.123Z","captured_date":"2026-05-12"},
				"card_details":{"last_digits_card_number":"1111","first_digits_card_number":"444433","cardholder_name":"Ada Lovelace",
				"expiry_date":"12/30","billing_address":{"line1":"1 Street","postcode":"SW1A 1AA","city":"London","country":"GB"},
				"card_brand":"Visa","card_type":"credit","wallet_type":null},
				"language":"en","delayed_capture":false,"moto":false,"provider_id":%q,
				"return_url":"https://service.example.gov.uk/return","state":{"status":"success","finished":true},
				"authorisation_mode":"web","_links":{"self":{"href":%q,"method":"GET"},
				"events":{"href":"%s/events","method":"GET"},"refunds":{"href":"%s/refunds","method":"GET"}},
				"card_brand":"Visa"}`, id, p.ProviderID, self, self, self))
		})

		t.Run("not found", func(t *testing.T) {
			for _, id := range []string{"aaaaaaaaaaaaaaaaaaaaaaaaaa", "nope", "0123456789abcdefghijklmnoz"} {
				f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).wantError(t, 404, `{"code":"P0200","description":"Not found"}`)
			}
		})
	})
}

func TestEvents(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		id, tok := f.create(f.a.testKey, webPayment(700))
		f.clock.Advance(time.Second)
		f.pay(tok, "4000056655665556")
		f.clock.Advance(time.Second)
		if _, err := f.svc.CaptureOnce(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		self := testBaseURL + "/v1/payments/" + id
		ev := func(state, at string) string {
			return fmt.Sprintf(`{"payment_id":%q,"state":%s,"updated":%q,"_links":{"payment_url":{"href":%q,"method":"GET"}}}`,
				id, state, at, self)
		}
		// Started, authorised and confirmed one second after creation; captured (no change of
		// external state) a second later.
		f.do("GET", "/v1/payments/"+id+"/events", f.a.testKey, nil).wantJSON(t, http.StatusOK, fmt.Sprintf(
			`{"payment_id":%q,"events":[%s,%s,%s,%s],"_links":{"self":{"href":"%s/events","method":"GET"}}}`, id,
			ev(`{"status":"created","finished":false}`, "2026-05-12T09:30:15.123Z"),
			ev(`{"status":"started","finished":false}`, "2026-05-12T09:30:16.123Z"),
			ev(`{"status":"submitted","finished":false}`, "2026-05-12T09:30:16.123Z"),
			ev(`{"status":"success","finished":true}`, "2026-05-12T09:30:16.123Z"), self))
		f.do("GET", "/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa/events", f.a.testKey, nil).wantError(t, 404, `{"code":"P0300","description":"Not found"}`)
		// Every internal change is recorded.
		if n := f.count("SELECT count(*) FROM pay_events WHERE payment_id = ?", id); n != 7 {
			t.Errorf("%d internal events, want 7", n)
		}
	})
}

func TestCancel(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		t.Run("before card details", func(t *testing.T) {
			id, _ := f.create(f.a.testKey, webPayment(100))
			r := f.do("POST", "/v1/payments/"+id+"/cancel", f.a.testKey, nil).want(t, http.StatusNoContent)
			if len(r.raw) != 0 {
				t.Fatalf("body %q", r.raw)
			}
			body := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body
			if st := body["state"].(map[string]any); st["status"] != "cancelled" || st["code"] != "P0040" ||
				st["message"] != "Payment was cancelled by the service" || st["finished"] != true {
				t.Fatalf("state %v", st)
			}
			links := body["_links"].(map[string]any)
			if links["cancel"] != nil || links["next_url"] != nil {
				t.Fatalf("links %v", links)
			}
			if rs := body["refund_summary"].(map[string]any); rs["status"] != "unavailable" {
				t.Fatalf("refund_summary %v", rs)
			}
			// Once finished, a cancel fails.
			f.do("POST", "/v1/payments/"+id+"/cancel", f.a.testKey, nil).wantError(t, 400,
				`{"code":"P0501","description":"Cancellation of payment failed"}`)
		})
		t.Run("after authorisation the provider voids it", func(t *testing.T) {
			id, tok := f.create(f.a.testKey, webPayment(100))
			p, _ := f.svc.StartWithToken(f.ctx, tok)
			if _, err := f.svc.Authorise(f.ctx, p.ID, card("4242424242424242")); err != nil {
				t.Fatal(err)
			}
			f.do("POST", "/v1/payments/"+id+"/cancel", f.a.testKey, nil).want(t, http.StatusNoContent)
			if st := f.status(id); st != StatusSystemCancelled {
				t.Fatalf("status %s", st)
			}
		})
		t.Run("captured payments cannot be cancelled", func(t *testing.T) {
			id := f.captured(f.a.testKey, 100)
			f.do("POST", "/v1/payments/"+id+"/cancel", f.a.testKey, nil).wantError(t, 400,
				`{"code":"P0501","description":"Cancellation of payment failed"}`)
		})
		t.Run("a cancel already under way", func(t *testing.T) {
			id, tok := f.create(f.a.testKey, webPayment(100))
			p, _ := f.svc.StartWithToken(f.ctx, tok)
			p, _ = f.svc.Authorise(f.ctx, p.ID, card("4242424242424242"))
			forceStatus(t, f, p.ID, StatusSystemCancelReady)
			f.do("POST", "/v1/payments/"+id+"/cancel", f.a.testKey, nil).wantError(t, 409,
				`{"code":"P0502","description":"Cancellation of payment failed"}`)
		})
		t.Run("not found", func(t *testing.T) {
			f.do("POST", "/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa/cancel", f.a.testKey, nil).wantError(t, 404,
				`{"code":"P0500","description":"Not found"}`)
		})
	})
}

// forceStatus sets a payment's status directly, to set up a state the API cannot reach in a
// test.
func forceStatus(t *testing.T, f *fixture, id string, st Status) {
	t.Helper()
	if _, err := f.d.Exec(f.ctx, "UPDATE pay_payments SET status = ? WHERE id = ?", string(st), id); err != nil {
		t.Fatal(err)
	}
}

func TestDelayedCapture(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		body := webPayment(900)
		body["delayed_capture"] = true
		id, tok := f.create(f.a.testKey, body)
		f.do("POST", "/v1/payments/"+id+"/capture", f.a.testKey, nil).wantError(t, 409,
			`{"code":"P1003","description":"Payment cannot be captured"}`)
		p := f.pay(tok, "4444333322221111")
		if p.Status != StatusAwaitingCaptureRequest {
			t.Fatalf("confirmed to %s", p.Status)
		}
		r := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200)
		links := r.body["_links"].(map[string]any)
		if r.body["state"].(map[string]any)["status"] != "capturable" || links["capture"] == nil || links["next_url"] != nil {
			t.Fatalf("capturable payment %s", r.raw)
		}
		if rs := r.body["refund_summary"].(map[string]any); rs["status"] != "unavailable" {
			t.Fatalf("refund_summary %v", rs)
		}
		if n := f.count("SELECT count(*) FROM river_job WHERE kind = 'pay.capture'"); n != 0 {
			t.Fatalf("%d capture jobs before the service captured", n)
		}
		f.do("POST", "/v1/payments/"+id+"/capture", f.a.testKey, nil).want(t, http.StatusNoContent)
		if st := f.status(id); st != StatusCaptureApproved {
			t.Fatalf("status %s", st)
		}
		if n := f.count("SELECT count(*) FROM river_job WHERE kind = 'pay.capture'"); n != 1 {
			t.Fatalf("%d capture jobs, want 1", n)
		}
		// Capturing again is harmless.
		f.do("POST", "/v1/payments/"+id+"/capture", f.a.testKey, nil).want(t, http.StatusNoContent)
		body2 := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body
		if body2["state"].(map[string]any)["status"] != "success" {
			t.Fatalf("state %v", body2["state"])
		}
		f.do("POST", "/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa/capture", f.a.testKey, nil).wantError(t, 404,
			`{"code":"P1000","description":"Not found"}`)
	})
}

// TestCrossTenant checks that one service's keys cannot see or touch another's payments.
func TestCrossTenant(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		id := f.captured(f.b.testKey, 1000)
		pending, _ := f.create(f.b.testKey, webPayment(100))
		for _, c := range []struct {
			method, path, body, want string
		}{
			{"GET", "/v1/payments/" + pending, "", `{"code":"P0200","description":"Not found"}`},
			{"GET", "/v1/payments/" + pending + "/events", "", `{"code":"P0300","description":"Not found"}`},
			{"POST", "/v1/payments/" + pending + "/cancel", "", `{"code":"P0500","description":"Not found"}`},
			{"POST", "/v1/payments/" + pending + "/capture", "", `{"code":"P1000","description":"Not found"}`},
			{"POST", "/v1/payments/" + id + "/refunds", `{"amount":100}`, `{"code":"P0600","description":"Not found"}`},
			{"GET", "/v1/payments/" + id + "/refunds", "", `{"code":"P0800","description":"Not found"}`},
		} {
			var body any
			if c.body != "" {
				body = c.body
			}
			f.do(c.method, c.path, f.a.testKey, body).wantError(t, 404, c.want)
		}
		ref := f.do("POST", "/v1/payments/"+id+"/refunds", f.b.testKey, `{"amount":100}`).want(t, 202).body["refund_id"].(string)
		f.do("GET", "/v1/payments/"+id+"/refunds/"+ref, f.a.testKey, nil).wantError(t, 404, `{"code":"P0700","description":"Not found"}`)
		// Searches see nothing of B's.
		f.do("GET", "/v1/payments", f.a.testKey, nil).want(t, 200)
		if r := f.do("GET", "/v1/payments", f.a.testKey, nil); r.body["total"] != float64(0) {
			t.Fatalf("A's search found %v", r.body["total"])
		}
		if r := f.do("GET", "/v1/refunds", f.a.testKey, nil); r.body["total"] != float64(0) {
			t.Fatalf("A's refund search found %v", r.body["total"])
		}
		// Nothing of B's changed.
		if st := f.status(pending); st != StatusCreated {
			t.Fatalf("B's payment is %s", st)
		}
	})
}
