package pay

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

func TestRefunds(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		id := f.captured(f.a.testKey, 1000)
		self := testBaseURL + "/v1/payments/" + id

		t.Run("partial refund", func(t *testing.T) {
			r := f.do("POST", "/v1/payments/"+id+"/refunds", f.a.testKey, `{"amount":300,"refund_amount_available":1000}`)
			ref, _ := r.body["refund_id"].(string)
			r.wantJSON(t, http.StatusAccepted, fmt.Sprintf(`{"refund_id":%q,"created_date":"2026-05-12T09:30:15.123Z",
				"amount":300,"_links":{"self":{"href":"%s/refunds/%s","method":"GET"},"payment":{"href":%q,"method":"GET"}},
				"status":"success","settlement_summary":{}}`, ref, self, ref, self))
			summary := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body["refund_summary"]
			if fmt.Sprint(summary) != "map[amount_available:700 amount_submitted:300 status:available]" {
				t.Fatalf("refund_summary %v", summary)
			}
			f.do("GET", "/v1/payments/"+id+"/refunds/"+ref, f.a.testKey, nil).wantJSON(t, 200, fmt.Sprintf(`{"refund_id":%q,
				"created_date":"2026-05-12T09:30:15.123Z","amount":300,"_links":{"self":{"href":"%s/refunds/%s","method":"GET"},
				"payment":{"href":%q,"method":"GET"}},"status":"success","settlement_summary":{}}`, ref, self, ref, self))
		})

		t.Run("amount available must match", func(t *testing.T) {
			f.do("POST", "/v1/payments/"+id+"/refunds", f.a.testKey, `{"amount":100,"refund_amount_available":1000}`).wantError(t, 412,
				`{"code":"P0604","description":"Refund amount available mismatch."}`)
		})

		t.Run("more than is left", func(t *testing.T) {
			f.do("POST", "/v1/payments/"+id+"/refunds", f.a.testKey, `{"amount":701}`).wantError(t, 400,
				`{"code":"P0603","description":"The payment is not available for refund. Payment refund status: amount_not_available"}`)
		})

		t.Run("the rest, then nothing", func(t *testing.T) {
			f.do("POST", "/v1/payments/"+id+"/refunds", f.a.testKey, `{"amount":700,"refund_amount_available":700}`).want(t, 202)
			summary := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body["refund_summary"]
			if fmt.Sprint(summary) != "map[amount_available:0 amount_submitted:1000 status:full]" {
				t.Fatalf("refund_summary %v", summary)
			}
			f.do("POST", "/v1/payments/"+id+"/refunds", f.a.testKey, `{"amount":1}`).wantError(t, 400,
				`{"code":"P0603","description":"The payment is not available for refund. Payment refund status: full"}`)
		})

		t.Run("list", func(t *testing.T) {
			r := f.do("GET", "/v1/payments/"+id+"/refunds", f.a.testKey, nil).want(t, 200)
			emb := r.body["_embedded"].(map[string]any)["refunds"].([]any)
			if len(emb) != 2 || r.body["payment_id"] != id {
				t.Fatalf("list %s", r.raw)
			}
			links := r.body["_links"].(map[string]any)
			if links["self"].(map[string]any)["href"] != self+"/refunds" || links["payment"].(map[string]any)["href"] != self {
				t.Fatalf("links %v", links)
			}
		})

		t.Run("not refundable before capture", func(t *testing.T) {
			pending, _ := f.create(f.a.testKey, webPayment(100))
			f.do("POST", "/v1/payments/"+pending+"/refunds", f.a.testKey, `{"amount":50}`).wantError(t, 400,
				`{"code":"P0603","description":"The payment is not available for refund. Payment refund status: pending"}`)
			f.do("POST", "/v1/payments/"+pending+"/cancel", f.a.testKey, nil).want(t, 204)
			f.do("POST", "/v1/payments/"+pending+"/refunds", f.a.testKey, `{"amount":50}`).wantError(t, 400,
				`{"code":"P0603","description":"The payment is not available for refund. Payment refund status: unavailable"}`)
			f.do("GET", "/v1/payments/"+pending+"/refunds", f.a.testKey, nil).wantJSON(t, 200, fmt.Sprintf(`{"payment_id":%q,
				"_links":{"self":{"href":"%s/v1/payments/%s/refunds","method":"GET"},"payment":{"href":"%s/v1/payments/%s","method":"GET"}},
				"_embedded":{"refunds":[]}}`, pending, testBaseURL, pending, testBaseURL, pending))
		})

		t.Run("request errors", func(t *testing.T) {
			for _, c := range []struct {
				body   string
				status int
				want   string
			}{
				{`{"amount":`, 400, `{"code":"P0697","description":"Unable to parse JSON"}`},
				{`{}`, 400, `{"field":"amount","code":"P0601","description":"Missing mandatory attribute: amount"}`},
				{`{"amount":"1"}`, 400, `{"field":"amount","code":"P0602","description":"Invalid attribute value: amount. Must be a valid numeric format"}`},
				{`{"amount":0}`, 422, `{"field":"amount","code":"P0602","description":"Invalid attribute value: amount. Must be greater than or equal to 1"}`},
				{`{"amount":10000001}`, 422, `{"field":"amount","code":"P0602","description":"Invalid attribute value: amount. Must be less than or equal to 10000000"}`},
			} {
				f.do("POST", "/v1/payments/"+id+"/refunds", f.a.testKey, c.body).wantError(t, c.status, c.want)
			}
			f.do("POST", "/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa/refunds", f.a.testKey, `{"amount":1}`).wantError(t, 404,
				`{"code":"P0600","description":"Not found"}`)
			f.do("GET", "/v1/payments/"+id+"/refunds/aaaaaaaaaaaaaaaaaaaaaaaaaa", f.a.testKey, nil).wantError(t, 404,
				`{"code":"P0700","description":"Not found"}`)
			f.do("GET", "/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa/refunds", f.a.testKey, nil).wantError(t, 404,
				`{"code":"P0800","description":"Not found"}`)
		})

		t.Run("ledger", func(t *testing.T) {
			var capture, refunds int64
			if err := f.d.QueryRow(f.ctx, "SELECT amount FROM pay_ledger WHERE payment_id = ? AND kind = 'capture'", id).Scan(&capture); err != nil {
				t.Fatal(err)
			}
			if err := f.d.QueryRow(f.ctx, "SELECT sum(amount) FROM pay_ledger WHERE payment_id = ? AND kind = 'refund'", id).Scan(&refunds); err != nil {
				t.Fatal(err)
			}
			if capture != 1000 || refunds != -1000 {
				t.Fatalf("ledger capture %d refunds %d", capture, refunds)
			}
			if _, err := f.d.Exec(f.ctx, "UPDATE pay_ledger SET amount = 0"); err == nil {
				t.Fatal("the ledger accepted an update")
			}
			if _, err := f.d.Exec(f.ctx, "DELETE FROM pay_ledger"); err == nil {
				t.Fatal("the ledger accepted a delete")
			}
		})
	})
}

// refundsFail is the sandbox, except that refunds fail.
type refundsFail struct{ Sandbox }

func (refundsFail) Refund(context.Context, RefundRequest) (RefundResult, error) {
	return RefundResult{}, errProvider
}

func TestRefundErrorGivesTheAmountBack(t *testing.T) {
	eachWith(t, map[string]Provider{SandboxName: refundsFail{}}, func(t *testing.T, f *fixture) {
		id := f.captured(f.a.testKey, 500)
		r := f.do("POST", "/v1/payments/"+id+"/refunds", f.a.testKey, `{"amount":200}`).want(t, 202)
		if r.body["status"] != "error" {
			t.Fatalf("refund %s", r.raw)
		}
		summary := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body["refund_summary"]
		if fmt.Sprint(summary) != "map[amount_available:500 amount_submitted:0 status:available]" {
			t.Fatalf("refund_summary %v", summary)
		}
		if n := f.count("SELECT count(*) FROM pay_ledger WHERE kind = 'refund'"); n != 0 {
			t.Fatalf("%d ledger rows for a failed refund", n)
		}
	})
}

// TestConcurrentRefunds fires 20 refunds at once at a payment that can take only some of
// them: exactly as many succeed as fit, and the refunds never add up to more than was captured.
func TestConcurrentRefunds(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		id := f.captured(f.a.testKey, 1000)
		var wg sync.WaitGroup
		statuses := make([]int, 20)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = f.do("POST", "/v1/payments/"+id+"/refunds", f.a.testKey, `{"amount":150}`).status
			}()
		}
		wg.Wait()
		accepted, refused := 0, 0
		for _, st := range statuses {
			switch st {
			case http.StatusAccepted:
				accepted++
			case http.StatusBadRequest:
				refused++
			default:
				t.Errorf("status %d", st)
			}
		}
		if accepted != 6 || refused != 14 {
			t.Fatalf("%d accepted, %d refused; want 6 and 14", accepted, refused)
		}
		var sum int64
		if err := f.d.QueryRow(f.ctx, "SELECT sum(amount) FROM pay_refunds WHERE payment_id = ? AND status <> 'error'", id).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		p, _ := f.svc.Payment(f.ctx, f.a.id, id)
		if sum != 900 || p.RefundedAmount != 900 || p.RefundAvailable() != 100 {
			t.Fatalf("refunded %d (payment says %d, %d left)", sum, p.RefundedAmount, p.RefundAvailable())
		}
	})
}
