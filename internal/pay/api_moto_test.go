package pay

import (
	"fmt"
	"net/http"
	"testing"
)

func TestMOTOAuthorisation(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		if err := f.svc.SetSettings(f.ctx, f.a.id, Settings{Provider: SandboxName, MOTOAPIEnabled: true}); err != nil {
			t.Fatal(err)
		}
		newMOTO := func(delayed bool) (string, string) {
			body := map[string]any{"amount": 1200, "reference": "tel-1", "description": "By phone",
				"authorisation_mode": "moto_api", "delayed_capture": delayed}
			r := f.do("POST", "/v1/payments", f.a.testKey, body).want(t, http.StatusCreated)
			return r.body["payment_id"].(string), r.motoToken(t)
		}
		auth := func(token, number string) response {
			return f.do("POST", "/v1/auth", "", fmt.Sprintf(`{"one_time_token":%q,"card_number":%q,"cvc":"123",
				"expiry_date":"12/30","cardholder_name":"J Smith"}`, token, number))
		}

		t.Run("authorised and approved for capture", func(t *testing.T) {
			id, tok := newMOTO(false)
			r := auth(tok, "4242424242424242").want(t, http.StatusNoContent)
			if len(r.raw) != 0 {
				t.Fatalf("body %q", r.raw)
			}
			if st := f.status(id); st != StatusCaptureApproved {
				t.Fatalf("status %s", st)
			}
			body := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body
			if body["state"].(map[string]any)["status"] != "success" || body["_links"].(map[string]any)["auth_url_post"] != nil {
				t.Fatalf("payment %v", body)
			}
			auth(tok, "4242424242424242").wantError(t, 400, `{"code":"P1212","description":"The one_time_token has already been used"}`)
		})
		t.Run("delayed capture waits for the service", func(t *testing.T) {
			id, tok := newMOTO(true)
			auth(tok, "4000056655665556").want(t, http.StatusNoContent)
			if st := f.status(id); st != StatusAwaitingCaptureRequest {
				t.Fatalf("status %s", st)
			}
		})
		t.Run("declined", func(t *testing.T) {
			id, tok := newMOTO(false)
			auth(tok, "4000000000000002").wantError(t, 402, `{"code":"P0010","description":"The payment was rejected"}`)
			state := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body["state"]
			if fmt.Sprint(state) != "map[code:P0010 finished:true message:Payment method rejected status:failed]" {
				t.Fatalf("state %v", state)
			}
		})
		t.Run("provider error", func(t *testing.T) {
			id, tok := newMOTO(false)
			auth(tok, "4000000000000119").wantError(t, 500, `{"code":"P0050","description":"There was an error authorising the payment"}`)
			if st := f.status(id); st != StatusAuthorisationError {
				t.Fatalf("status %s", st)
			}
		})
		t.Run("unsupported card", func(t *testing.T) {
			_, tok := newMOTO(false)
			auth(tok, "4012888888881881").wantError(t, 500, `{"code":"P0050","description":"There was an error authorising the payment"}`)
		})
		t.Run("card number that cannot be a card", func(t *testing.T) {
			id, tok := newMOTO(false)
			auth(tok, "4242424242424241").wantError(t, 402, `{"code":"P0010","description":"The card_number is not a valid card number"}`)
			if st := f.status(id); st != StatusAuthorisationRejected {
				t.Fatalf("status %s", st)
			}
		})
		t.Run("3-D Secure card needs no challenge by phone", func(t *testing.T) {
			_, tok := newMOTO(false)
			auth(tok, sandbox3DS).want(t, http.StatusNoContent)
		})
		t.Run("tokens", func(t *testing.T) {
			auth("nosuchtoken", "4242424242424242").wantError(t, 400, `{"code":"P1211","description":"The one_time_token is not valid"}`)
			_, webTok := f.create(f.a.testKey, webPayment(100))
			auth(webTok, "4242424242424242").wantError(t, 400, `{"code":"P1211","description":"The one_time_token is not a valid moto api token"}`)
			// A fresh GET mints another token; the used one stays used.
			id, tok := newMOTO(false)
			fresh := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).motoToken(t)
			auth(fresh, "4242424242424242").want(t, http.StatusNoContent)
			auth(tok, "4242424242424242").wantError(t, 500, `{"code":"P0198","description":"Downstream system error"}`)
		})
		t.Run("request errors", func(t *testing.T) {
			_, tok := newMOTO(false)
			full := map[string]string{"one_time_token": tok, "card_number": "4242424242424242", "cvc": "123",
				"expiry_date": "12/30", "cardholder_name": "J Smith"}
			with := func(k, v string) map[string]any {
				m := map[string]any{}
				for kk, vv := range full {
					m[kk] = vv
				}
				if v == "<absent>" {
					delete(m, k)
				} else {
					m[k] = v
				}
				return m
			}
			for _, c := range []struct {
				body   any
				status int
				want   string
			}{
				{`{"one_time_token":`, 400, `{"code":400,"message":"Unable to process JSON"}`},
				{with("one_time_token", "<absent>"), 422, `{"field":"one_time_token","code":"P0101","description":"Missing mandatory attribute: one_time_token"}`},
				{with("card_number", "<absent>"), 422, `{"field":"card_number","code":"P0101","description":"Missing mandatory attribute: card_number"}`},
				{with("card_number", "42424242"), 422, `{"field":"card_number","code":"P0102","description":"Invalid attribute value: card_number. Must be between 12 and 19 characters long"}`},
				{with("cvc", "12"), 422, `{"field":"cvc","code":"P0102","description":"Invalid attribute value: cvc. Must be between 3 and 4 characters long"}`},
				{with("expiry_date", "1230"), 422, `{"field":"expiry_date","code":"P0102","description":"Invalid attribute value: expiry_date. Must be a valid date with the format MM/YY"}`},
				{with("cardholder_name", " "), 422, `{"field":"cardholder_name","code":"P0101","description":"Missing mandatory attribute: cardholder_name"}`},
				{map[string]any{"one_time_token": tok, "card_number": 4242424242424242, "cvc": "123", "expiry_date": "12/30", "cardholder_name": "J"},
					422, `{"field":"card_number","code":"P0102","description":"Invalid attribute value: card_number. Must be a valid String format"}`},
				{with("card_number", "4242 4242 4242"), 422, `{"code":"P0102","description":"Invalid attribute value: card_number. Must be a valid card number"}`},
				{with("cvc", "12a"), 422, `{"code":"P0102","description":"Invalid attribute value: cvc. Must contain numbers only"}`},
				{with("expiry_date", "13/30"), 422, `{"code":"P0102","description":"Invalid attribute value: expiry_date. Must be a valid date with the format MM/YY"}`},
				{with("expiry_date", "04/26"), 422, `{"code":"P0102","description":"Invalid attribute value: expiry_date. Must be a valid date in the future"}`},
			} {
				f.do("POST", "/v1/auth", "", c.body).wantError(t, c.status, c.want)
			}
			// None of that spent the token.
			auth(tok, "4242424242424242").want(t, http.StatusNoContent)
		})
	})
}
