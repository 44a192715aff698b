package pay

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/jobs"
)

// Agreements and recurring payments, through the API on each engine.

const recurringDisabled = `{"code":"P0942","description":"Recurring card payments are currently disabled for this service. Contact support with your error code - https://www.payments.service.gov.uk/support/"}`

// enableRecurring lets a service take recurring payments.
func (f *fixture) enableRecurring(serviceID string) {
	f.t.Helper()
	if err := f.svc.SetSettings(f.ctx, serviceID, Settings{Provider: SandboxName, RecurringEnabled: true}); err != nil {
		f.t.Fatal(err)
	}
}

// newAgreement creates an agreement with key and returns its id.
func (f *fixture) newAgreement(key, reference string) string {
	f.t.Helper()
	r := f.do("POST", "/v1/agreements", key, map[string]any{"reference": reference, "description": "Monthly licence"}).
		want(f.t, http.StatusCreated)
	return r.body["agreement_id"].(string)
}

// setUpPayment creates a set-up payment for an agreement and returns its id and token.
func (f *fixture) setUpPayment(key, agreementID string) (string, string) {
	f.t.Helper()
	body := webPayment(500)
	body["set_up_agreement"] = agreementID
	return f.create(key, body)
}

// setUp saves a card against an agreement through the card pages' journey: the set-up payment
// is authorised with number and confirmed.
func (f *fixture) setUp(key, agreementID, number string) string {
	f.t.Helper()
	id, tok := f.setUpPayment(key, agreementID)
	f.pay(tok, number)
	return id
}

// recurringBody is an agreement-mode create.
func recurringBody(agreementID string, amount int) map[string]any {
	return map[string]any{"amount": amount, "reference": "month-2", "description": "Monthly licence",
		"authorisation_mode": "agreement", "agreement_id": agreementID, "agreement_payment_type": "recurring"}
}

// agreementStatus reads an agreement's status through the API.
func (f *fixture) agreementStatus(key, id string) string {
	f.t.Helper()
	return f.do("GET", "/v1/agreements/"+id, key, nil).want(f.t, http.StatusOK).body["status"].(string)
}

// charge runs the recurring payment's job body once.
func (f *fixture) charge(id string) {
	f.t.Helper()
	if err := f.svc.ChargeAgreement(f.ctx, id); err != nil {
		f.t.Fatal(err)
	}
}

func TestAgreementCreate(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		body := map[string]any{"reference": "CT-1", "description": "Monthly licence", "user_identifier": "user-7"}
		f.do("POST", "/v1/agreements", f.a.testKey, body).wantError(t, 422, recurringDisabled)
		f.enableRecurring(f.a.id)
		r := f.do("POST", "/v1/agreements", f.a.testKey, body)
		id, _ := r.body["agreement_id"].(string)
		r.wantJSON(t, http.StatusCreated, `{"agreement_id":"`+id+`","reference":"CT-1","description":"Monthly licence",
			"status":"created","created_date":"2026-05-12T09:30:15.123Z","user_identifier":"user-7"}`)
		if !validID(id) || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("id %q, headers %v", id, r.header)
		}
		f.do("GET", "/v1/agreements/"+id, f.a.testKey, nil).wantJSON(t, http.StatusOK, string(r.raw))
		if n := f.count("SELECT count(*) FROM pay_agreement_events WHERE agreement_id = ? AND event = 'AgreementCreated'", id); n != 1 {
			t.Fatalf("%d created events", n)
		}

		long := strings.Repeat("x", 256)
		for _, c := range []struct {
			name, body string
			status     int
			want       string
		}{
			{"not JSON", `{"reference":`, 400, `{"code":"P2197","description":"Unable to parse JSON"}`},
			{"no reference", `{"description":"d"}`, 400, `{"field":"reference","code":"P2101","description":"Missing mandatory attribute: reference"}`},
			{"blank reference", `{"reference":" ","description":"d"}`, 400, `{"field":"reference","code":"P2101","description":"Missing mandatory attribute: reference"}`},
			{"null description", `{"reference":"r","description":null}`, 400, `{"field":"description","code":"P2101","description":"Missing mandatory attribute: description"}`},
			{"reference a number", `{"reference":1,"description":"d"}`, 400, `{"field":"reference","code":"P2102","description":"Invalid attribute value: reference. Must be a valid string format"}`},
			{"description with a pipe", `{"reference":"r","description":"a|b"}`, 400, `{"field":"description","code":"P2102","description":"Invalid attribute value: description. Must be a valid string format"}`},
			{"user_identifier a number", `{"reference":"r","description":"d","user_identifier":5}`, 400, `{"field":"user_identifier","code":"P2102","description":"Invalid attribute value: user_identifier. Field must be a string"}`},
			{"reference too long", `{"reference":"` + long + `","description":"d"}`, 422, `{"field":"reference","code":"P2102","description":"Invalid attribute value: reference. Must be less than or equal to 255 characters length"}`},
			{"description too long", `{"reference":"r","description":"` + long + `"}`, 422, `{"field":"description","code":"P2102","description":"Invalid attribute value: description. Must be less than or equal to 255 characters length"}`},
			{"user_identifier empty", `{"reference":"r","description":"d","user_identifier":""}`, 422, `{"field":"user_identifier","code":"P2102","description":"Invalid attribute value: user_identifier. Must be less than or equal to 255 characters length"}`},
			{"user_identifier too long", `{"reference":"r","description":"d","user_identifier":"` + long + `"}`, 422, `{"field":"user_identifier","code":"P2102","description":"Invalid attribute value: user_identifier. Must be less than or equal to 255 characters length"}`},
		} {
			t.Run(c.name, func(t *testing.T) { f.do("POST", "/v1/agreements", f.a.testKey, c.body).wantError(t, c.status, c.want) })
		}
		// A null user_identifier is no user_identifier; 255 characters are allowed.
		r = f.do("POST", "/v1/agreements", f.a.testKey, `{"reference":"`+long[1:]+`","description":"d","user_identifier":null}`).
			want(t, http.StatusCreated)
		if _, has := r.body["user_identifier"]; has {
			t.Fatalf("user_identifier in %s", r.raw)
		}
		f.do("POST", "/v1/agreements", "", body).want(t, http.StatusUnauthorized)
	})
}

func TestAgreementNotFoundAcrossTenantsAndModes(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.enableRecurring(f.a.id)
		f.enableRecurring(f.b.id)
		id := f.newAgreement(f.a.testKey, "A-1")
		f.setUp(f.a.testKey, id, "4444333322221111")
		notFound := func(code string) string { return `{"code":"` + code + `","description":"Not found"}` }
		for _, key := range []string{f.b.testKey, f.b.liveKey, f.a.liveKey} {
			f.do("GET", "/v1/agreements/"+id, key, nil).wantError(t, 404, notFound("P2200"))
			f.do("POST", "/v1/agreements/"+id+"/cancel", key, nil).wantError(t, 404, notFound("P2500"))
			r := f.do("GET", "/v1/agreements", key, nil).want(t, 200)
			if r.body["total"].(float64) != 0 {
				t.Fatalf("another scope sees %s", r.raw)
			}
			// Neither a set-up payment nor a recurring payment can name another scope's agreement.
			body := webPayment(100)
			body["set_up_agreement"] = id
			f.do("POST", "/v1/payments", key, body).wantError(t, 400,
				`{"field":"set_up_agreement","code":"P0103","description":"Invalid attribute value: set_up_agreement. Agreement ID does not exist"}`)
			f.do("POST", "/v1/payments", key, recurringBody(id, 100)).wantError(t, 400,
				`{"field":"agreement_id","code":"P0102","description":"Invalid attribute value: agreement_id. Agreement does not exist"}`)
		}
		for _, bad := range []string{"aaaaaaaaaaaaaaaaaaaaaaaaaa", "short", "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"} {
			f.do("GET", "/v1/agreements/"+bad, f.a.testKey, nil).wantError(t, 404, notFound("P2200"))
			f.do("POST", "/v1/agreements/"+bad+"/cancel", f.a.testKey, nil).wantError(t, 404, notFound("P2500"))
		}
		// The team key sees the test key's agreements: both are test mode.
		f.do("GET", "/v1/agreements/"+id, f.a.teamKey, nil).want(t, 200)
		if st := f.agreementStatus(f.a.testKey, id); st != AgreementActive {
			t.Fatalf("agreement %s", st)
		}
	})
}

func TestAgreementSearch(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.enableRecurring(f.a.id)
		var ids []string
		for i, ref := range []string{"Ref-One", "ref-two", "REF-ONE", "other"} {
			ids = append(ids, f.newAgreement(f.a.testKey, ref))
			f.clock.Advance(time.Second * time.Duration(i+1))
		}
		f.setUp(f.a.testKey, ids[1], "4242424242424242")

		r := f.do("GET", "/v1/agreements?reference=ref-one", f.a.testKey, nil).want(t, 200)
		results := r.body["results"].([]any)
		if r.body["total"].(float64) != 2 || len(results) != 2 ||
			results[0].(map[string]any)["agreement_id"] != ids[2] || results[1].(map[string]any)["agreement_id"] != ids[0] {
			t.Fatalf("reference search %s", r.raw)
		}
		r = f.do("GET", "/v1/agreements?status=active", f.a.testKey, nil).want(t, 200)
		if r.body["total"].(float64) != 1 {
			t.Fatalf("status search %s", r.raw)
		}
		active := r.body["results"].([]any)[0].(map[string]any)
		inst := active["payment_instrument"].(map[string]any)
		card := inst["card_details"].(map[string]any)
		if active["agreement_id"] != ids[1] || inst["type"] != "card" || card["card_brand"] != "visa" ||
			card["last_digits_card_number"] != "4242" || card["first_digits_card_number"] != "424242" ||
			card["expiry_date"] != "12/30" || card["cardholder_name"] != "Ada Lovelace" || card["card_type"] != "credit" {
			t.Fatalf("active agreement %v", active)
		}
		if _, ok := card["wallet_type"]; !ok || strings.Contains(string(r.raw), "4242424242424242") {
			t.Fatalf("card details %s", r.raw)
		}

		r = f.do("GET", "/v1/agreements?display_size=3&page=2", f.a.testKey, nil).want(t, 200)
		base := testBaseURL + "/v1/agreements?display_size=3&page="
		r.wantJSON(t, 200, fmt.Sprintf(`{"total":4,"count":1,"page":2,"results":[%s],"_links":{"self":{"href":"%s2"},
			"first_page":{"href":"%s1"},"last_page":{"href":"%s2"},"prev_page":{"href":"%s1"}}}`,
			mustJSON(t, agreementBodyFor(t, f, ids[0])), base, base, base, base))
		f.do("GET", "/v1/agreements?display_size=3&page=3", f.a.testKey, nil).wantError(t, 404,
			`{"code":"P2402","description":"Page not found"}`)
		f.do("GET", "/v1/agreements?status=ended&page=0&display_size=501&reference="+strings.Repeat("r", 256), f.a.testKey, nil).
			wantError(t, 422, `{"code":"P2401","description":"Invalid parameters: reference, status, page, display_size. See Public API documentation for the correct data formats"}`)
		f.do("GET", "/v1/agreements?status=created&reference=other", f.a.testKey, nil).want(t, 200)
		r = f.do("GET", "/v1/agreements?status=cancelled", f.a.testKey, nil).want(t, 200)
		r.wantJSON(t, 200, `{"total":0,"count":0,"page":1,"results":[],"_links":{
			"self":{"href":"`+testBaseURL+`/v1/agreements?status=cancelled&display_size=500&page=1"},
			"first_page":{"href":"`+testBaseURL+`/v1/agreements?status=cancelled&display_size=500&page=1"},
			"last_page":{"href":"`+testBaseURL+`/v1/agreements?status=cancelled&display_size=500&page=1"}}}`)
	})
}

// agreementBodyFor is an agreement as the API shows it, for building expected pages.
func agreementBodyFor(t *testing.T, f *fixture, id string) wireAgreement {
	t.Helper()
	a, err := f.svc.Agreement(f.ctx, Scope{ServiceID: f.a.id}, id)
	if err != nil {
		t.Fatal(err)
	}
	return agreementBody(a)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := marshalJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAgreementCancel(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.enableRecurring(f.a.id)
		id := f.newAgreement(f.a.testKey, "C-1")
		failed := `{"code":"P2501","description":"Cancellation of agreement failed"}`
		f.do("POST", "/v1/agreements/"+id+"/cancel", f.a.testKey, nil).wantError(t, 400, failed)

		f.setUp(f.a.testKey, id, "4444333322221111")
		r := f.do("POST", "/v1/agreements/"+id+"/cancel", f.a.testKey, nil).want(t, http.StatusNoContent)
		if len(r.raw) != 0 {
			t.Fatalf("body %q", r.raw)
		}
		got := f.do("GET", "/v1/agreements/"+id, f.a.testKey, nil).want(t, 200)
		if got.body["status"] != AgreementCancelled || got.body["payment_instrument"] == nil {
			t.Fatalf("cancelled agreement %s", got.raw)
		}
		f.do("POST", "/v1/agreements/"+id+"/cancel", f.a.testKey, nil).wantError(t, 400, failed)
		f.do("POST", "/v1/payments", f.a.testKey, recurringBody(id, 100)).wantError(t, 400,
			`{"field":"agreement_id","code":"P0102","description":"Invalid attribute value: agreement_id. Agreement must be active"}`)
		if n := f.count("SELECT count(*) FROM pay_payment_instruments WHERE agreement_id = ? AND status = 'cancelled'", id); n != 1 {
			t.Fatalf("%d cancelled cards", n)
		}

		// A new set-up payment makes a cancelled agreement active again, with the new card.
		f.setUp(f.a.testKey, id, "371449635398431")
		got = f.do("GET", "/v1/agreements/"+id, f.a.testKey, nil).want(t, 200)
		card := got.body["payment_instrument"].(map[string]any)["card_details"].(map[string]any)
		if got.body["status"] != AgreementActive || card["last_digits_card_number"] != "8431" || card["card_brand"] != "american-express" {
			t.Fatalf("re-activated agreement %s", got.raw)
		}
		var events []string
		rows, err := f.d.Query(f.ctx, "SELECT event FROM pay_agreement_events WHERE agreement_id = ? ORDER BY id", id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var e string
			if err := rows.Scan(&e); err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
		if strings.Join(events, ",") != "AgreementCreated,AgreementSetUp,AgreementCancelledByService,AgreementSetUp" {
			t.Fatalf("events %v", events)
		}
	})
}

func TestRecurringPaymentFlow(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.enableRecurring(f.a.id)
		agreement := f.newAgreement(f.a.testKey, "R-1")
		f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 100)).wantError(t, 400,
			`{"field":"agreement_id","code":"P0102","description":"Invalid attribute value: agreement_id. Agreement must be active"}`)

		// The set-up payment: its create shows the agreement, and the agreement stays created
		// until the payer confirms.
		setUpID, tok := f.setUpPayment(f.a.testKey, agreement)
		created := f.do("GET", "/v1/payments/"+setUpID, f.a.testKey, nil).want(t, 200)
		if created.body["agreement_id"] != agreement {
			t.Fatalf("set-up payment %s", created.raw)
		}
		p, err := f.svc.StartWithToken(f.ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if p, err = f.svc.Authorise(f.ctx, p.ID, card("4444333322221111")); err != nil || p.Status != StatusAuthorisationSuccess {
			t.Fatalf("authorise: %v %v", p, err)
		}
		if st := f.agreementStatus(f.a.testKey, agreement); st != AgreementCreated {
			t.Fatalf("agreement %s before the payer confirmed", st)
		}
		var token string
		if err := f.d.QueryRow(f.ctx, "SELECT provider_token FROM pay_payment_instruments WHERE payment_id = ?", setUpID).Scan(&token); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(token, "sandbox-card-") || strings.Contains(token, "4444333322221111") {
			t.Fatalf("token %q", token)
		}
		if _, err := f.svc.Confirm(f.ctx, setUpID); err != nil {
			t.Fatal(err)
		}
		if st := f.agreementStatus(f.a.testKey, agreement); st != AgreementActive {
			t.Fatalf("agreement %s after set-up", st)
		}

		// A recurring payment: queued at once, charged by the job, then captured. While queued its
		// refund_summary is unavailable, as GOV.UK Pay's is: that status is not among those its
		// refund calculator counts as pending.
		r := f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 2500), "Idempotency-Key", "month-2")
		id, _ := r.body["payment_id"].(string)
		self := testBaseURL + "/v1/payments/" + id
		r.wantJSON(t, http.StatusCreated, `{"payment_id":"`+id+`","payment_provider":"sandbox","amount":2500,
			"description":"Monthly licence","reference":"month-2","created_date":"2026-05-12T09:30:15.123Z",
			"refund_summary":{"status":"unavailable","amount_available":2500,"amount_submitted":0},"settlement_summary":{},
			"language":"en","delayed_capture":false,"moto":false,"state":{"status":"started","finished":false},
			"agreement_id":"`+agreement+`","authorisation_mode":"agreement","agreement_payment_type":"recurring",
			"_links":{"self":{"href":"`+self+`","method":"GET"},"events":{"href":"`+self+`/events","method":"GET"},
			"refunds":{"href":"`+self+`/refunds","method":"GET"}}}`)
		if r.header.Get("Location") != self || f.status(id) != StatusAuthorisationQueued {
			t.Fatalf("location %q, status %s", r.header.Get("Location"), f.status(id))
		}
		if n := f.count("SELECT count(*) FROM river_job WHERE kind = 'pay.authorise_agreement' AND CAST(args AS TEXT) LIKE ?", "%"+id+"%"); n != 1 {
			t.Fatalf("%d authorisation jobs", n)
		}
		// The same Idempotency-Key and request answer with the same payment; another request is refused.
		replay := f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 2500), "Idempotency-Key", "month-2").want(t, 200)
		if replay.body["payment_id"] != id {
			t.Fatalf("replay %s", replay.raw)
		}
		f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 2600), "Idempotency-Key", "month-2").wantError(t, 409,
			`{"code":"P0191","description":"The `+"`Idempotency-Key`"+` you sent in the request header has already been used to create a payment."}`)
		if n := f.count("SELECT count(*) FROM river_job WHERE kind = 'pay.authorise_agreement'"); n != 1 {
			t.Fatalf("%d authorisation jobs after the replays", n)
		}
		// A service cannot cancel a recurring payment in flight.
		f.do("POST", "/v1/payments/"+id+"/cancel", f.a.testKey, nil).want(t, 400)

		f.charge(id)
		if st := f.status(id); st != StatusCaptureApproved {
			t.Fatalf("recurring payment %s", st)
		}
		f.charge(id) // a second run of the job finds nothing to do
		if _, err := f.svc.CaptureOnce(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		got := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200)
		cd := got.body["card_details"].(map[string]any)
		if got.body["state"].(map[string]any)["status"] != "success" || cd["last_digits_card_number"] != "1111" ||
			cd["card_brand"] != "Visa" || got.body["provider_id"] == nil {
			t.Fatalf("captured recurring payment %s", got.raw)
		}
		if _, has := got.body["_links"].(map[string]any)["next_url"]; has {
			t.Fatalf("recurring payment has a next_url: %s", got.raw)
		}
		ev := f.do("GET", "/v1/payments/"+id+"/events", f.a.testKey, nil).want(t, 200)
		var states []string
		for _, e := range ev.body["events"].([]any) {
			states = append(states, e.(map[string]any)["state"].(map[string]any)["status"].(string))
		}
		if strings.Join(states, ",") != "created,started,submitted,success" {
			t.Fatalf("events %v", states)
		}
		// Search by agreement finds the set-up and the recurring payment.
		s := f.do("GET", "/v1/payments?agreement_id="+agreement, f.a.testKey, nil).want(t, 200)
		if s.body["total"].(float64) != 2 {
			t.Fatalf("payments of the agreement %s", s.raw)
		}
		if f.agreementStatus(f.a.testKey, agreement) != AgreementActive {
			t.Fatal("agreement no longer active")
		}
	})
}

func TestRecurringPaymentDeclinedMakesAgreementInactive(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.enableRecurring(f.a.id)
		agreement := f.newAgreement(f.a.testKey, "D-1")
		// 5105105105105100 authorises when saved…
		f.setUp(f.a.testKey, agreement, "5105105105105100")
		if st := f.agreementStatus(f.a.testKey, agreement); st != AgreementActive {
			t.Fatalf("agreement %s", st)
		}
		// …and is refused for good on every recurring payment.
		id := f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 700)).want(t, 201).body["payment_id"].(string)
		f.charge(id)
		got := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200)
		st := got.body["state"].(map[string]any)
		if st["status"] != "failed" || st["code"] != "P0010" || st["can_retry"] != false || st["finished"] != true {
			t.Fatalf("declined recurring payment %s", got.raw)
		}
		if f.agreementStatus(f.a.testKey, agreement) != AgreementInactive {
			t.Fatal("agreement still active after a final refusal")
		}
		f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 700)).wantError(t, 400,
			`{"field":"agreement_id","code":"P0102","description":"Invalid attribute value: agreement_id. Agreement must be active"}`)
		f.do("POST", "/v1/agreements/"+agreement+"/cancel", f.a.testKey, nil).want(t, 400)

		// Setting it up again with a good card makes it active, and payments work.
		f.setUp(f.a.testKey, agreement, "4000056655665556")
		id = f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 700)).want(t, 201).body["payment_id"].(string)
		f.charge(id)
		if st := f.status(id); st != StatusCaptureApproved {
			t.Fatalf("payment after re-set-up %s", st)
		}
	})
}

func TestSetUpPaymentThatFailsLeavesAgreementCreated(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.enableRecurring(f.a.id)
		agreement := f.newAgreement(f.a.testKey, "F-1")
		// Declined.
		_, tok := f.setUpPayment(f.a.testKey, agreement)
		p, err := f.svc.StartWithToken(f.ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if p, err = f.svc.Authorise(f.ctx, p.ID, card("4000000000000002")); err != nil || p.Status != StatusAuthorisationRejected {
			t.Fatalf("authorise: %v, %v", p, err)
		}
		// Authorised, then cancelled by the payer on the confirm page.
		_, tok = f.setUpPayment(f.a.testKey, agreement)
		if p, err = f.svc.StartWithToken(f.ctx, tok); err != nil {
			t.Fatal(err)
		}
		if p, err = f.svc.Authorise(f.ctx, p.ID, card("4444333322221111")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UserCancel(f.ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		got := f.do("GET", "/v1/agreements/"+agreement, f.a.testKey, nil).want(t, 200)
		if got.body["status"] != AgreementCreated || got.body["payment_instrument"] != nil {
			t.Fatalf("agreement %s", got.raw)
		}
		// A 3-D Secure set-up saves the card once the challenge passes.
		id, tok := f.setUpPayment(f.a.testKey, agreement)
		if p, err = f.svc.StartWithToken(f.ctx, tok); err != nil {
			t.Fatal(err)
		}
		if p, err = f.svc.Authorise(f.ctx, id, card(sandbox3DS)); err != nil || p.Status != StatusAuthorisation3DSRequired {
			t.Fatalf("authorise: %v, %v", p, err)
		}
		if p, err = f.svc.Authorise3DS(f.ctx, id, ThreeDSResult{Passed: true}); err != nil || p.Status != StatusAuthorisationSuccess {
			t.Fatalf("3ds: %v, %v", p, err)
		}
		if _, err := f.svc.Confirm(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		if st := f.agreementStatus(f.a.testKey, agreement); st != AgreementActive {
			t.Fatalf("agreement %s after a 3-D Secure set-up", st)
		}
		rec := f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 900)).want(t, 201).body["payment_id"].(string)
		f.charge(rec)
		if st := f.status(rec); st != StatusCaptureApproved {
			t.Fatalf("recurring payment with a 3-D Secure card %s", st)
		}
	})
}

func TestAgreementCreateRules(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.enableRecurring(f.a.id)
		agreement := f.newAgreement(f.a.testKey, "V-1")
		f.setUp(f.a.testKey, agreement, "4444333322221111")
		unknown := NewID()
		with := func(extra map[string]any) map[string]any {
			b := recurringBody(agreement, 100)
			for k, v := range extra {
				b[k] = v
			}
			return b
		}
		for _, c := range []struct {
			name   string
			body   map[string]any
			status int
			want   string
		}{
			{"return_url", with(map[string]any{"return_url": "https://a.gov.uk"}), 400, `{"code":"P0104","description":"Unexpected attribute: return_url"}`},
			{"email", with(map[string]any{"email": "a@b.gov.uk"}), 400, `{"code":"P0104","description":"Unexpected attribute: email"}`},
			{"prefilled", with(map[string]any{"prefilled_cardholder_details": map[string]any{"cardholder_name": "A"}}), 400,
				`{"code":"P0104","description":"Unexpected attribute: prefilled_cardholder_details"}`},
			{"unknown agreement", with(map[string]any{"agreement_id": unknown}), 400,
				`{"field":"agreement_id","code":"P0102","description":"Invalid attribute value: agreement_id. Agreement does not exist"}`},
			{"no agreement_id", map[string]any{"amount": 1, "reference": "r", "description": "d", "authorisation_mode": "agreement"}, 400,
				`{"code":"P0101","description":"Missing mandatory attribute: agreement_id"}`},
		} {
			t.Run(c.name, func(t *testing.T) { f.do("POST", "/v1/payments", f.a.testKey, c.body).wantError(t, c.status, c.want) })
		}
		body := webPayment(100)
		body["set_up_agreement"] = unknown
		f.do("POST", "/v1/payments", f.a.testKey, body).wantError(t, 400,
			`{"field":"set_up_agreement","code":"P0103","description":"Invalid attribute value: set_up_agreement. Agreement ID does not exist"}`)
		// Service B has recurring payments off.
		f.do("POST", "/v1/agreements", f.b.testKey, map[string]any{"reference": "r", "description": "d"}).wantError(t, 422, recurringDisabled)
	})
}

// retryingProvider refuses recurring payments, saying a later attempt may succeed, or fails
// with an error when broken is set.
type retryingProvider struct {
	Sandbox
	broken atomic.Bool
}

func (p *retryingProvider) AuthoriseSaved(_ context.Context, req SavedCardRequest) (AuthoriseResult, error) {
	if p.broken.Load() {
		return AuthoriseResult{}, errProvider
	}
	yes := true
	return AuthoriseResult{Outcome: Rejected, ProviderID: "r-1", CanRetry: &yes}, nil
}

func TestRecurringPaymentThatMayBeRetriedKeepsAgreementActive(t *testing.T) {
	prov := &retryingProvider{}
	eachWith(t, map[string]Provider{SandboxName: prov}, func(t *testing.T, f *fixture) {
		prov.broken.Store(false)
		f.enableRecurring(f.a.id)
		agreement := f.newAgreement(f.a.testKey, "T-1")
		f.setUp(f.a.testKey, agreement, "4444333322221111")
		id := f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 300)).want(t, 201).body["payment_id"].(string)
		f.charge(id)
		st := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body["state"].(map[string]any)
		if st["status"] != "failed" || st["can_retry"] != true {
			t.Fatalf("state %v", st)
		}
		if f.agreementStatus(f.a.testKey, agreement) != AgreementActive {
			t.Fatal("a refusal that may be retried ended the agreement")
		}
		// A provider that cannot be reached: the payment is in error, the agreement unchanged.
		prov.broken.Store(true)
		id = f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 300)).want(t, 201).body["payment_id"].(string)
		f.charge(id)
		st = f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body["state"].(map[string]any)
		if st["status"] != "error" || st["code"] != "P0050" {
			t.Fatalf("state %v", st)
		}
		if f.agreementStatus(f.a.testKey, agreement) != AgreementActive {
			t.Fatal("a provider error ended the agreement")
		}
	})
}

// TestRecurringPaymentJobRuns has a real River client work the authorisation job a recurring
// payment queues, and the capture job that follows.
func TestRecurringPaymentJobRuns(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		workers := river.NewWorkers()
		f.svc.RegisterWorkers(workers)
		worker, err := jobs.New(f.d, jobs.Config{Workers: workers, Work: true, Queues: Queues(),
			FetchPollInterval: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if err := worker.Start(f.ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = worker.Stop(f.ctx) })
		f.enableRecurring(f.a.id)
		agreement := f.newAgreement(f.a.testKey, "J-1")
		f.setUp(f.a.testKey, agreement, "4444333322221111")
		id := f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 100)).want(t, 201).body["payment_id"].(string)
		deadline := time.Now().Add(30 * time.Second)
		for f.status(id) != StatusCaptured {
			if time.Now().After(deadline) {
				t.Fatalf("recurring payment still %s", f.status(id))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func TestDisputeSearch(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		empty := `{"total":0,"count":0,"page":1,"results":[],"links":{
			"self":{"href":"` + testBaseURL + `/v1/disputes?display_size=500&page=1"},
			"first_page":{"href":"` + testBaseURL + `/v1/disputes?display_size=500&page=1"},
			"last_page":{"href":"` + testBaseURL + `/v1/disputes?display_size=500&page=1"}}}`
		f.do("GET", "/v1/disputes", f.a.testKey, nil).wantJSON(t, 200, empty)
		f.do("GET", "/v1/disputes?page=2", f.a.testKey, nil).wantError(t, 404, `{"code":"P0402","description":"Page not found"}`)
		f.do("GET", "/v1/disputes?status=open&from_date=yesterday&to_settled_date=2026-13-01&page=x&display_size=0", f.a.testKey, nil).
			wantError(t, 422, `{"code":"P0401","description":"Invalid parameters: from_date, to_settled_date, status, page, display_size. See Public API documentation for the correct data formats"}`)

		paid := f.captured(f.a.testKey, 5000)
		other := f.captured(f.b.testKey, 5000)
		fee, net := int64(1500), int64(-6500)
		due := start.Add(7 * 24 * time.Hour)
		lost, err := f.svc.RecordDispute(f.ctx, Dispute{PaymentID: paid, ProviderDisputeID: "dp_1", Amount: 5000, Fee: &fee,
			NetAmount: &net, Reason: "fraudulent", Status: DisputeNeedsResponse, EvidenceDueDate: &due})
		if err != nil {
			t.Fatal(err)
		}
		// Reported again when lost: the same dispute, updated.
		if lost, err = f.svc.RecordDispute(f.ctx, Dispute{PaymentID: paid, ProviderDisputeID: "dp_1", Amount: 5000, Fee: &fee,
			NetAmount: &net, Reason: "fraudulent", Status: DisputeLost, EvidenceDueDate: &due, SettledDate: "2026-05-20"}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour)
		if _, err := f.svc.RecordDispute(f.ctx, Dispute{PaymentID: paid, ProviderDisputeID: "dp_2", Amount: 1000,
			Reason: "chargeback_weird", Status: DisputeUnderReview}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RecordDispute(f.ctx, Dispute{PaymentID: other, ProviderDisputeID: "dp_3", Amount: 5000,
			Reason: "duplicate", Status: DisputeWon}); err != nil {
			t.Fatal(err)
		}
		if n := f.count("SELECT count(*) FROM pay_disputes WHERE payment_id = ?", paid); n != 2 {
			t.Fatalf("%d disputes", n)
		}
		r := f.do("GET", "/v1/disputes?status=lost", f.a.testKey, nil)
		href := testBaseURL + "/v1/disputes?status=lost&display_size=500&page=1"
		r.wantJSON(t, 200, `{"total":1,"count":1,"page":1,"results":[{"amount":5000,"created_date":"2026-05-12T09:30:15.123Z",
			"dispute_id":"`+lost.ID+`","evidence_due_date":"2026-05-19T09:30:15.123Z","fee":1500,"net_amount":-6500,
			"payment_id":"`+paid+`","reason":"fraudulent","settlement_summary":{"settled_date":"2026-05-20"},"status":"lost",
			"_links":{"payment":{"href":"`+testBaseURL+`/v1/payments/`+paid+`","method":"GET"}}}],
			"links":{"self":{"href":"`+href+`"},"first_page":{"href":"`+href+`"},"last_page":{"href":"`+href+`"}}}`)
		r = f.do("GET", "/v1/disputes?display_size=1", f.a.testKey, nil).want(t, 200)
		first := r.body["results"].([]any)[0].(map[string]any)
		if r.body["total"].(float64) != 2 || first["reason"] != "other" || first["status"] != "under_review" ||
			r.body["links"].(map[string]any)["next_page"] == nil || r.body["_links"] != nil {
			t.Fatalf("page %s", r.raw)
		}
		r = f.do("GET", "/v1/disputes?from_date=2026-05-12T10:00:00Z&from_settled_date=2026-05-01", f.a.testKey, nil).want(t, 200)
		if r.body["total"].(float64) != 0 {
			t.Fatalf("date filters %s", r.raw)
		}
		if r = f.do("GET", "/v1/disputes", f.b.testKey, nil).want(t, 200); r.body["total"].(float64) != 1 {
			t.Fatalf("service B sees %s", r.raw)
		}
		if r = f.do("GET", "/v1/disputes", f.a.liveKey, nil).want(t, 200); r.body["total"].(float64) != 0 {
			t.Fatalf("live key sees %s", r.raw)
		}
		if _, err := f.svc.RecordDispute(f.ctx, Dispute{PaymentID: paid, ProviderDisputeID: "dp_4", Status: "open"}); err == nil {
			t.Fatal("unknown status recorded")
		}
	})
}
