package pay

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCreatePayment(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		t.Run("web payment, exact body and headers", func(t *testing.T) {
			body := webPayment(1000)
			body["metadata"] = map[string]any{"ledger_code": "AB100", "reconciled": true, "count": 3}
			body["email"] = "payer@example.com"
			r := f.do("POST", "/v1/payments", f.a.testKey, body)
			id, tok := r.body["payment_id"].(string), r.webToken(t)
			if len(id) != 26 || !validID(id) {
				t.Fatalf("payment_id %q", id)
			}
			self := testBaseURL + "/v1/payments/" + id
			r.wantJSON(t, http.StatusCreated, fmt.Sprintf(`{"payment_id":%q,"payment_provider":"sandbox","amount":1000,
				"description":"A licence","reference":"ref-1","created_date":"2026-05-12T09:30:15.123Z",
				"refund_summary":{"status":"pending","amount_available":1000,"amount_submitted":0},"settlement_summary":{},
				"language":"en","delayed_capture":false,"moto":false,
				"metadata":{"count":3,"ledger_code":"AB100","reconciled":true},
				"return_url":"https://service.example.gov.uk/return","email":"payer@example.com",
				"state":{"status":"created","finished":false},"authorisation_mode":"web",
				"_links":{"self":{"href":%q,"method":"GET"},
				"next_url":{"href":"http://commons.test/pay/secure/%s","method":"GET"},
				"next_url_post":{"href":"http://commons.test/pay/secure","method":"POST","type":"application/x-www-form-urlencoded","params":{"chargeTokenId":%q}},
				"events":{"href":"%s/events","method":"GET"},"refunds":{"href":"%s/refunds","method":"GET"},
				"cancel":{"href":"%s/cancel","method":"POST"}}}`, id, self, tok, tok, self, self, self))
			if got := r.header.Get("Location"); got != self {
				t.Errorf("Location %q, want %q", got, self)
			}
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
				t.Errorf("cache headers %v", r.header)
			}
			if n := f.count("SELECT count(*) FROM pay_events WHERE payment_id = ? AND event = 'PaymentCreated'", id); n != 1 {
				t.Errorf("%d PaymentCreated events", n)
			}
		})

		t.Run("every optional field", func(t *testing.T) {
			body := webPayment(250)
			body["language"] = "cy"
			body["delayed_capture"] = true
			body["prefilled_cardholder_details"] = map[string]any{"cardholder_name": "J Bloggs",
				"billing_address": map[string]any{"line1": "1 Road", "line2": "Flat 2", "city": "Cardiff", "postcode": "CF10 1AA", "country": "GB"}}
			r := f.do("POST", "/v1/payments", f.a.testKey, body).want(t, http.StatusCreated)
			if r.body["language"] != "cy" || r.body["delayed_capture"] != true {
				t.Fatalf("body %s", r.raw)
			}
			p, err := f.svc.Payment(f.ctx, f.a.id, r.body["payment_id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if p.PrefilledCardholderName != "J Bloggs" || p.PrefilledAddress != (Address{Line1: "1 Road", Line2: "Flat 2",
				City: "Cardiff", Postcode: "CF10 1AA", Country: "GB"}) || p.Live || p.Source != SourceAPI {
				t.Fatalf("stored %+v", p)
			}
		})

		t.Run("moto_api payment has auth_url_post and no next_url", func(t *testing.T) {
			body := map[string]any{"amount": 500, "reference": "tel", "description": "By phone", "authorisation_mode": "moto_api"}
			f.do("POST", "/v1/payments", f.a.testKey, body).wantError(t, 422, `{"code":"P0195","description":"Using authorisation_mode of moto_api is not allowed for this account"}`)
			if err := f.svc.SetSettings(f.ctx, f.a.id, Settings{Provider: SandboxName, MOTOAPIEnabled: true}); err != nil {
				t.Fatal(err)
			}
			r := f.do("POST", "/v1/payments", f.a.testKey, body)
			id, tok := r.body["payment_id"].(string), r.motoToken(t)
			self := testBaseURL + "/v1/payments/" + id
			r.wantJSON(t, http.StatusCreated, fmt.Sprintf(`{"payment_id":%q,"payment_provider":"sandbox","amount":500,
				"description":"By phone","reference":"tel","created_date":"2026-05-12T09:30:15.123Z",
				"refund_summary":{"status":"pending","amount_available":500,"amount_submitted":0},"settlement_summary":{},
				"language":"en","delayed_capture":false,"moto":false,"state":{"status":"created","finished":false},
				"authorisation_mode":"moto_api","_links":{"self":{"href":%q,"method":"GET"},
				"auth_url_post":{"href":"http://commons.test/v1/auth","method":"POST","type":"application/json","params":{"one_time_token":%q}},
				"events":{"href":"%s/events","method":"GET"},"refunds":{"href":"%s/refunds","method":"GET"},
				"cancel":{"href":"%s/cancel","method":"POST"}}}`, id, self, tok, self, self, self))
		})

		t.Run("moto needs the account setting", func(t *testing.T) {
			body := webPayment(100)
			body["moto"] = true
			f.do("POST", "/v1/payments", f.b.testKey, body).wantError(t, 422, `{"code":"P0196","description":"MOTO payments are not enabled for this account. Please contact support if you would like to process MOTO payments - https://www.payments.service.gov.uk/support/ ."}`)
			if err := f.svc.SetSettings(f.ctx, f.b.id, Settings{Provider: SandboxName, MOTOEnabled: true}); err != nil {
				t.Fatal(err)
			}
			r := f.do("POST", "/v1/payments", f.b.testKey, body).want(t, http.StatusCreated)
			if r.body["moto"] != true {
				t.Fatalf("body %s", r.raw)
			}
		})

		t.Run("live keys need https and make live payments", func(t *testing.T) {
			body := webPayment(100)
			body["return_url"] = "http://service.example.gov.uk/return"
			f.do("POST", "/v1/payments", f.a.liveKey, body).wantError(t, 422,
				`{"field":"return_url","code":"P0920","description":"Invalid attribute value: return_url. Must begin with https:// for a live gateway account"}`)
			// Test and team keys may use http.
			f.do("POST", "/v1/payments", f.a.teamKey, body).want(t, http.StatusCreated)
			id, _ := f.create(f.a.liveKey, webPayment(100))
			p, err := f.svc.Payment(f.ctx, f.a.id, id)
			if err != nil || !p.Live || p.Provider != SandboxName {
				t.Fatalf("%+v %v", p, err)
			}
			// Each mode sees only its own payments.
			f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, http.StatusNotFound)
			f.do("GET", "/v1/payments/"+id, f.a.liveKey, nil).want(t, http.StatusOK)
		})

		t.Run("zero amount needs the account setting", func(t *testing.T) {
			f.do("POST", "/v1/payments", f.b.testKey, webPayment(0)).wantError(t, 422,
				`{"field":"amount","code":"P0102","description":"Invalid attribute value: amount. Must be greater than or equal to 1. Refer to https://docs.payments.service.gov.uk/making_payments/#amount"}`)
		})

		t.Run("authentication", func(t *testing.T) {
			r := f.do("POST", "/v1/payments", "", webPayment(100)).want(t, http.StatusUnauthorized)
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate")
			}
			f.do("POST", "/v1/payments", "not-a-key", webPayment(100)).want(t, http.StatusUnauthorized)
			bad := f.a.testKey[:len(f.a.testKey)-4] + "0000"
			f.do("GET", "/v1/payments", bad, nil).want(t, http.StatusUnauthorized)
		})

		t.Run("unknown path", func(t *testing.T) {
			f.do("GET", "/v1/nothing", f.a.testKey, nil).wantJSON(t, 404, `{"code":404,"message":"HTTP 404 Not Found"}`)
		})
	})
}

// TestCreatePaymentErrors checks every refusal of a create, body for body.
func TestCreatePaymentErrors(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name   string
		body   string
		header []string
		status int
		want   string
	}{
		{"not JSON", `{"amount":`, nil, 400, `{"code":"P0197","description":"Unable to parse JSON"}`},
		{"empty body", ``, nil, 400, `{"code":"P0197","description":"Unable to parse JSON"}`},
		{"amount missing", `{"reference":"r","description":"d","return_url":"https://a.gov.uk"}`, nil, 400,
			`{"field":"amount","code":"P0101","description":"Missing mandatory attribute: amount"}`},
		{"amount null", `{"amount":null,"reference":"r","description":"d"}`, nil, 400,
			`{"field":"amount","code":"P0101","description":"Missing mandatory attribute: amount"}`},
		{"amount a string", `{"amount":"100","reference":"r","description":"d"}`, nil, 400,
			`{"field":"amount","code":"P0102","description":"Invalid attribute value: amount. Must be a valid numeric format"}`},
		{"amount a fraction", `{"amount":1.5,"reference":"r","description":"d"}`, nil, 400,
			`{"field":"amount","code":"P0102","description":"Invalid attribute value: amount. Must be a valid numeric format"}`},
		{"amount beyond int", `{"amount":3000000000,"reference":"r","description":"d"}`, nil, 400,
			`{"field":"amount","code":"P0102","description":"Invalid attribute value: amount. Must be a valid numeric format"}`},
		{"amount too big", `{"amount":10000001,"reference":"r","description":"d","return_url":"https://a.gov.uk"}`, nil, 422,
			`{"field":"amount","code":"P0102","description":"Invalid attribute value: amount. Must be less than or equal to 10000000"}`},
		{"amount negative", `{"amount":-1,"reference":"r","description":"d","return_url":"https://a.gov.uk"}`, nil, 422,
			`{"field":"amount","code":"P0102","description":"Invalid attribute value: amount. Must be greater than or equal to 1"}`},
		{"reference missing", `{"amount":100,"description":"d"}`, nil, 400,
			`{"field":"reference","code":"P0101","description":"Missing mandatory attribute: reference"}`},
		{"reference blank", `{"amount":100,"reference":"  ","description":"d"}`, nil, 400,
			`{"field":"reference","code":"P0101","description":"Missing mandatory attribute: reference"}`},
		{"reference a number", `{"amount":100,"reference":5,"description":"d"}`, nil, 400,
			`{"field":"reference","code":"P0102","description":"Invalid attribute value: reference. Must be a valid string format"}`},
		{"reference with <", `{"amount":100,"reference":"a<b","description":"d"}`, nil, 400,
			`{"field":"reference","code":"P0102","description":"Invalid attribute value: reference. Must be a valid string format"}`},
		{"reference too long", `{"amount":100,"reference":"` + long(256) + `","description":"d","return_url":"https://a.gov.uk"}`, nil, 422,
			`{"field":"reference","code":"P0102","description":"Invalid attribute value: reference. Must be less than or equal to 255 characters length"}`},
		{"description missing", `{"amount":100,"reference":"r"}`, nil, 400,
			`{"field":"description","code":"P0101","description":"Missing mandatory attribute: description"}`},
		{"description with |", `{"amount":100,"reference":"r","description":"a|b"}`, nil, 400,
			`{"field":"description","code":"P0102","description":"Invalid attribute value: description. Must be a valid string format"}`},
		{"description too long", `{"amount":100,"reference":"r","description":"` + long(256) + `","return_url":"https://a.gov.uk"}`, nil, 422,
			`{"field":"description","code":"P0102","description":"Invalid attribute value: description. Must be less than or equal to 255 characters length"}`},
		{"return_url a number", `{"amount":100,"reference":"r","description":"d","return_url":5}`, nil, 400,
			`{"field":"return_url","code":"P0102","description":"Invalid attribute value: return_url. Must be a valid URL format"}`},
		{"return_url missing", `{"amount":100,"reference":"r","description":"d"}`, nil, 400,
			`{"code":"P0101","description":"Missing mandatory attribute: return_url"}`},
		{"return_url not a URL", `{"amount":100,"reference":"r","description":"d","return_url":"not a url"}`, nil, 422,
			`{"code":"P0102","description":"Invalid attribute value: return_url. Must be a valid URL format"}`},
		{"return_url too long", `{"amount":100,"reference":"r","description":"d","return_url":"https://a.gov.uk/` + long(2000) + `"}`, nil, 422,
			`{"field":"return_url","code":"P0102","description":"Invalid attribute value: return_url. Must be less than or equal to 2000 characters length"}`},
		{"moto not boolean", `{"amount":100,"reference":"r","description":"d","moto":"yes"}`, nil, 400,
			`{"field":"moto","code":"P0102","description":"Invalid attribute value: moto. Must be true or false"}`},
		{"moto null", `{"amount":100,"reference":"r","description":"d","moto":null}`, nil, 400,
			`{"field":"moto","code":"P0102","description":"Invalid attribute value: moto. Must be true or false"}`},
		{"delayed_capture not boolean", `{"amount":100,"reference":"r","description":"d","delayed_capture":1}`, nil, 400,
			`{"field":"delayed_capture","code":"P0102","description":"Invalid attribute value: delayed_capture. Must be true or false"}`},
		{"authorisation_mode a number", `{"amount":100,"reference":"r","description":"d","authorisation_mode":1}`, nil, 400,
			`{"field":"authorisation_mode","code":"P0102","description":"Invalid attribute value: authorisation_mode. Must be one of web, moto_api, agreement"}`},
		{"authorisation_mode unknown", `{"amount":100,"reference":"r","description":"d","authorisation_mode":"external"}`, nil, 422,
			`{"field":"authorisation_mode","code":"P0102","description":"Invalid attribute value: authorisation_mode. Must be one of web, moto_api, agreement"}`},
		{"agreement_id without agreement mode", `{"amount":100,"reference":"r","description":"d","agreement_id":"abc"}`, nil, 400,
			`{"code":"P0104","description":"Unexpected attribute: agreement_id"}`},
		{"agreement_payment_type alone", `{"amount":100,"reference":"r","description":"d","agreement_payment_type":"recurring"}`, nil, 400,
			`{"code":"P0104","description":"Unexpected attribute: agreement_payment_type"}`},
		{"agreement_payment_type unknown", `{"amount":100,"reference":"r","description":"d","authorisation_mode":"agreement","agreement_id":"` + long(26) + `","agreement_payment_type":"weekly"}`, nil, 422,
			`{"field":"agreement_payment_type","code":"P0102","description":"Invalid attribute value: agreement_payment_type. Must be one of instalment, recurring, unscheduled"}`},
		{"agreement_id wrong length", `{"amount":100,"reference":"r","description":"d","authorisation_mode":"agreement","agreement_id":"short"}`, nil, 422,
			`{"field":"agreement_id","code":"P0102","description":"Invalid attribute value: agreement_id. Field [agreement_id] length must be 26"}`},
		{"agreement mode without recurring", `{"amount":100,"reference":"r","description":"d","authorisation_mode":"agreement","agreement_id":"` + long(26) + `"}`, nil, 422,
			`{"code":"P0942","description":"Recurring card payments are currently disabled for this service. Contact support with your error code - https://www.payments.service.gov.uk/support/"}`},
		{"set_up_agreement without recurring", `{"amount":100,"reference":"r","description":"d","return_url":"https://a.gov.uk","set_up_agreement":"` + long(26) + `"}`, nil, 422,
			`{"code":"P0942","description":"Recurring card payments are currently disabled for this service. Contact support with your error code - https://www.payments.service.gov.uk/support/"}`},
		{"return_url with moto_api", `{"amount":100,"reference":"r","description":"d","authorisation_mode":"moto_api","return_url":"https://a.gov.uk"}`, nil, 400,
			`{"code":"P0104","description":"Unexpected attribute: return_url"}`},
		{"language a number", `{"amount":100,"reference":"r","description":"d","language":1}`, nil, 400,
			`{"field":"language","code":"P0102","description":"Invalid attribute value: language. Must be \"en\" or \"cy\""}`},
		{"language unknown", `{"amount":100,"reference":"r","description":"d","language":"fr"}`, nil, 422,
			`{"field":"language","code":"P0102","description":"Invalid attribute value: language. Must be \"en\" or \"cy\""}`},
		{"email a number", `{"amount":100,"reference":"r","description":"d","email":5}`, nil, 400,
			`{"field":"email","code":"P0102","description":"Invalid attribute value: email. Field must be a string"}`},
		{"email too long", `{"amount":100,"reference":"r","description":"d","return_url":"https://a.gov.uk","email":"` + long(255) + `"}`, nil, 422,
			`{"field":"email","code":"P0102","description":"Invalid attribute value: email. Must be less than or equal to 254 characters length"}`},
		{"prefilled name a number", `{"amount":100,"reference":"r","description":"d","prefilled_cardholder_details":{"cardholder_name":5}}`, nil, 400,
			`{"field":"cardholder_name","code":"P0102","description":"Invalid attribute value: cardholder_name. Field must be a string"}`},
		{"prefilled postcode too long", `{"amount":100,"reference":"r","description":"d","return_url":"https://a.gov.uk","prefilled_cardholder_details":{"billing_address":{"postcode":"` + long(26) + `"}}}`, nil, 422,
			`{"field":"postcode","code":"P0102","description":"Invalid attribute value: postcode. Must be less than or equal to 25 characters length"}`},
		{"metadata null", `{"amount":100,"reference":"r","description":"d","metadata":null}`, nil, 422,
			`{"field":"metadata","code":"P0102","description":"Invalid attribute value: metadata. Value must not be null"}`},
		{"metadata not an object", `{"amount":100,"reference":"r","description":"d","metadata":[1]}`, nil, 422,
			`{"field":"metadata","code":"P0102","description":"Invalid attribute value: metadata. Must be an object of JSON key-value pairs"}`},
		{"metadata too many keys", `{"amount":100,"reference":"r","description":"d","metadata":{` + manyKeys(16) + `}}`, nil, 422,
			`{"field":"metadata","code":"P0102","description":"Invalid attribute value: metadata. Cannot have more than 15 key-value pairs"}`},
		{"metadata key too long, value an object", `{"amount":100,"reference":"r","description":"d","metadata":{"` + long(31) + `":{"a":1}}}`, nil, 422,
			`{"field":"metadata","code":"P0102","description":"Invalid attribute value: metadata. Keys must be between 1 and 30 characters long. Values must be of type String, Boolean or Number"}`},
		{"metadata value too long", `{"amount":100,"reference":"r","description":"d","metadata":{"k":"` + long(101) + `"}}`, nil, 422,
			`{"field":"metadata","code":"P0102","description":"Invalid attribute value: metadata. Values must be no greater than 100 characters long"}`},
		{"metadata null value", `{"amount":100,"reference":"r","description":"d","metadata":{"k":null}}`, nil, 422,
			`{"field":"metadata","code":"P0102","description":"Invalid attribute value: metadata. Must not have null values"}`},
		{"metadata keys same but for case", `{"amount":100,"reference":"r","description":"d","metadata":{"Key":1,"key":2}}`, nil, 422,
			`{"field":"metadata","code":"P0102","description":"Invalid attribute value: metadata. Must have case insensitive unique keys"}`},
		{"metadata empty key", `{"amount":100,"reference":"r","description":"d","metadata":{"":"v"}}`, nil, 422,
			`{"field":"metadata","code":"P0102","description":"Invalid attribute value: metadata. Keys must be between 1 and 30 characters long"}`},
		{"source not allowed", `{"amount":100,"reference":"r","description":"d","internal":{"source":"CARD_API"}}`, nil, 400,
			`{"field":"source","code":"P0102","description":"Invalid attribute value: source. Accepted values are only CARD_PAYMENT_LINK, CARD_AGENT_INITIATED_MOTO"}`},
		{"source unknown", `{"amount":100,"reference":"r","description":"d","internal":{"source":"SOMETHING"}}`, nil, 422,
			`{"field":"source","code":"P0102","description":"Invalid attribute value: source. Accepted values are only CARD_PAYMENT_LINK, CARD_AGENT_INITIATED_MOTO"}`},
		{"idempotency key too long", `{"amount":100,"reference":"r","description":"d","return_url":"https://a.gov.uk"}`,
			[]string{"Idempotency-Key", long(256)}, 422,
			`{"header":"Idempotency-Key","code":"P0102","description":"Header [Idempotency-Key] can have a size between 1 and 255"}`},
		{"idempotency key with other characters", `{"amount":100,"reference":"r","description":"d","return_url":"https://a.gov.uk"}`,
			[]string{"Idempotency-Key", "a_b"}, 422,
			`{"header":"Idempotency-Key","code":"P0102","description":"Header [Idempotency-Key] can only contain alphanumeric characters and hyphens"}`},
	}
	each(t, func(t *testing.T, f *fixture) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f.do("POST", "/v1/payments", f.a.testKey, c.body, c.header...).wantError(t, c.status, c.want)
			})
		}
		if n := f.count("SELECT count(*) FROM pay_payments"); n != 0 {
			t.Errorf("%d payments stored by refused requests", n)
		}
	})
}

func manyKeys(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`"k%d":%d`, i, i))
	}
	return strings.Join(parts, ",")
}

func TestIdempotencyKey(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		first := f.do("POST", "/v1/payments", f.a.testKey, webPayment(100), "Idempotency-Key", "order-42").want(t, http.StatusCreated)
		id := first.body["payment_id"]
		// The same body with its keys in another order and other spacing is the same request.
		again := f.do("POST", "/v1/payments", f.a.testKey,
			`{ "return_url": "https://service.example.gov.uk/return", "description": "A licence", "reference": "ref-1", "amount": 100 }`,
			"Idempotency-Key", "order-42").want(t, http.StatusOK)
		if again.body["payment_id"] != id || again.header.Get("Location") != "" {
			t.Fatalf("replay %s (Location %q), want payment %v", again.raw, again.header.Get("Location"), id)
		}
		if again.webToken(t) == first.webToken(t) {
			t.Error("replay reused the one-time token")
		}
		f.do("POST", "/v1/payments", f.a.testKey, webPayment(101), "Idempotency-Key", "order-42").wantError(t, 409,
			"{\"code\":\"P0191\",\"description\":\"The `Idempotency-Key` you sent in the request header has already been used to create a payment.\"}")
		// Keys belong to a service: another service may use the same one.
		f.do("POST", "/v1/payments", f.b.testKey, webPayment(101), "Idempotency-Key", "order-42").want(t, http.StatusCreated)
		// After 24 hours the key is forgotten.
		f.clock.Advance(IdempotencyWindow + time.Second)
		later := f.do("POST", "/v1/payments", f.a.testKey, webPayment(100), "Idempotency-Key", "order-42").want(t, http.StatusCreated)
		if later.body["payment_id"] == id {
			t.Fatal("expired key replayed")
		}
		if n := f.count("SELECT count(*) FROM pay_payments WHERE service_id = ?", f.a.id); n != 2 {
			t.Fatalf("%d payments, want 2", n)
		}
	})
}
