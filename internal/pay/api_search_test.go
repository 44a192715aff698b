package pay

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSearchPayments(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		var ids []string
		for i := range 5 {
			body := webPayment(100 + i)
			body["reference"] = fmt.Sprintf("REF-%d", i%2)
			body["email"] = fmt.Sprintf("person%d@example.com", i)
			id, _ := f.create(f.a.testKey, body)
			ids = append(ids, id)
			f.clock.Advance(time.Minute)
		}
		paidID := f.captured(f.a.testKey, 999) // 4444333322221111, Visa, at start+5m
		f.create(f.a.liveKey, webPayment(1))   // another mode: never found below

		search := func(query string) response {
			return f.do("GET", "/v1/payments?"+query, f.a.testKey, nil).want(t, http.StatusOK)
		}
		found := func(r response) []string {
			var out []string
			for _, res := range r.body["results"].([]any) {
				out = append(out, res.(map[string]any)["payment_id"].(string))
			}
			return out
		}
		check := func(query string, want ...string) {
			t.Helper()
			r := search(query)
			if got := found(r); fmt.Sprint(got) != fmt.Sprint(want) || r.body["total"] != float64(len(want)) {
				t.Errorf("%s: found %v (total %v), want %v", query, got, r.body["total"], want)
			}
		}
		check("", paidID, ids[4], ids[3], ids[2], ids[1], ids[0])
		check("reference=ref-1", paidID, ids[3], ids[1])
		check("email=PERSON3", ids[3])
		check("email=%25") // a literal percent sign matches nothing
		check("state=success", paidID)
		check("state=created", ids[4], ids[3], ids[2], ids[1], ids[0])
		check("card_brand=visa", paidID)
		check("last_digits_card_number=1111&first_digits_card_number=444433", paidID)
		check("cardholder_name=lovelace", paidID)
		check("from_date=2026-05-12T09:32:00Z&to_date=2026-05-12T09:34:00Z", ids[3], ids[2])

		t.Run("result shape", func(t *testing.T) {
			r := search("reference=REF-0&display_size=2")
			res := r.body["results"].([]any)[0].(map[string]any)
			links := res["_links"].(map[string]any)
			if links["next_url"] != nil || links["cancel"] == nil || links["self"] == nil {
				t.Fatalf("result links %v", links)
			}
			paid := found(search("state=success"))
			if len(paid) != 1 {
				t.Fatal(paid)
			}
			pr := search("state=success").body["results"].([]any)[0].(map[string]any)
			if pr["card_brand"] != "Visa" || pr["card_details"] == nil {
				t.Fatalf("paid result %v", pr)
			}
		})

		t.Run("pages", func(t *testing.T) {
			r := search("state=created&display_size=2&page=2")
			if fmt.Sprint(found(r)) != fmt.Sprint([]string{ids[2], ids[1]}) || r.body["count"] != float64(2) || r.body["page"] != float64(2) {
				t.Fatalf("page 2: %s", r.raw)
			}
			base := testBaseURL + "/v1/payments?state=created&display_size=2&page="
			want := fmt.Sprintf(`{"self":{"href":"%[1]s2"},"first_page":{"href":"%[1]s1"},"last_page":{"href":"%[1]s3"},"prev_page":{"href":"%[1]s1"},"next_page":{"href":"%[1]s3"}}`, base)
			if !strings.HasSuffix(string(r.raw), `"_links":`+want+"}") {
				t.Fatalf("links in %s\nwant %s", r.raw, want)
			}
			last := search("state=created&display_size=2&page=3")
			if l := last.body["_links"].(map[string]any); l["next_page"] != nil || len(found(last)) != 1 {
				t.Fatalf("last page %s", last.raw)
			}
			f.do("GET", "/v1/payments?state=created&display_size=2&page=4", f.a.testKey, nil).wantError(t, 404,
				`{"code":"P0402","description":"Page not found"}`)
			empty := search("reference=none")
			if empty.body["total"] != float64(0) || len(found(empty)) != 0 {
				t.Fatalf("empty search %s", empty.raw)
			}
		})

		t.Run("invalid parameters", func(t *testing.T) {
			q := url.Values{"state": {"capturable"}, "page": {"0"}, "display_size": {"501"}, "from_date": {"yesterday"},
				"first_digits_card_number": {"12345"}, "last_digits_card_number": {"12a4"}, "card_brand": {"a-very-long-card-brand"},
				"to_settled_date": {"2026-13-01"}}
			f.do("GET", "/v1/payments?"+q.Encode(), f.a.testKey, nil).wantError(t, 422,
				`{"code":"P0401","description":"Invalid parameters: state, card_brand, from_date, page, display_size, first_digits_card_number, last_digits_card_number, to_settled_date. See Public API documentation for the correct data formats"}`)
		})
	})
}

func TestSearchRefunds(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		id := f.captured(f.a.testKey, 1000)
		var refunds []string
		for i := range 3 {
			r := f.do("POST", "/v1/payments/"+id+"/refunds", f.a.testKey, fmt.Sprintf(`{"amount":%d}`, 10+i)).want(t, 202)
			refunds = append(refunds, r.body["refund_id"].(string))
			f.clock.Advance(time.Minute)
		}
		r := f.do("GET", "/v1/refunds?display_size=2", f.a.testKey, nil).want(t, http.StatusOK)
		self := testBaseURL + "/v1/payments/" + id
		base := testBaseURL + "/v1/refunds?display_size=2&page="
		r.wantJSON(t, http.StatusOK, fmt.Sprintf(`{"total":3,"count":2,"page":1,"results":[
			{"refund_id":%[1]q,"created_date":"2026-05-12T09:32:15.123Z","payment_id":%[3]q,"amount":12,
			"_links":{"self":{"href":"%[4]s/refunds/%[1]s","method":"GET"},"payment":{"href":%[4]q,"method":"GET"}},
			"status":"success","settlement_summary":{}},
			{"refund_id":%[2]q,"created_date":"2026-05-12T09:31:15.123Z","payment_id":%[3]q,"amount":11,
			"_links":{"self":{"href":"%[4]s/refunds/%[2]s","method":"GET"},"payment":{"href":%[4]q,"method":"GET"}},
			"status":"success","settlement_summary":{}}],
			"_links":{"self":{"href":"%[5]s1"},"first_page":{"href":"%[5]s1"},"last_page":{"href":"%[5]s2"},"next_page":{"href":"%[5]s2"}}}`,
			refunds[2], refunds[1], id, self, base))
		from := url.QueryEscape("2026-05-12T09:31:00Z")
		if r := f.do("GET", "/v1/refunds?from_date="+from, f.a.testKey, nil).want(t, 200); r.body["total"] != float64(2) {
			t.Fatalf("from_date: %s", r.raw)
		}
		f.do("GET", "/v1/refunds?page=3&display_size=2", f.a.testKey, nil).wantError(t, 404, `{"code":"P1100","description":"Page not found"}`)
		f.do("GET", "/v1/refunds?from_date=x&page=-1", f.a.testKey, nil).wantError(t, 422,
			`{"code":"P1101","description":"Invalid parameters: from_date, page. See Public API documentation for the correct data formats"}`)
		if r := f.do("GET", "/v1/refunds", f.b.testKey, nil).want(t, 200); r.body["total"] != float64(0) {
			t.Fatalf("B sees A's refunds: %s", r.raw)
		}
	})
}
