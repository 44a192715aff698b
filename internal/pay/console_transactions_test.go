package pay

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/platform"
)

// payment makes a test-key payment in service A with a reference and an email address.
func (s *teamSite) payment(key, reference, email string, amount int) (string, string) {
	s.t.Helper()
	body := webPayment(amount)
	body["reference"] = reference
	if email != "" {
		body["email"] = email
	}
	return s.create(key, body)
}

func TestConsoleTransactionFilters(t *testing.T) {
	eachTeamSite(t, nil, func(t *testing.T, s *teamSite) {
		a := s.a.id
		paid, token := s.payment(s.a.testKey, "INV-001", "ada@example.com", 1500)
		s.pay(token, "4242424242424242")
		s.clock.Advance(48 * time.Hour) // 14 May
		waiting, _ := s.payment(s.a.testKey, "INV-002", "grace@example.org", 2500)
		declined, token := s.payment(s.a.testKey, "INV-003", "", 3500)
		p, err := s.svc.StartWithToken(s.ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.Authorise(s.ctx, p.ID, card("4000000000000002")); err != nil {
			t.Fatal(err)
		}
		live, _ := s.payment(s.a.liveKey, "LIVE-1", "", 999)
		theirs, _ := s.payment(s.b.testKey, "B-REF", "", 100)

		m := s.member("viewer@example.gov.uk", false, []string{platform.ViewActivity}, a)
		base := paymentsURL(a)
		// show checks which payments a search finds; want lists them in the order paid, waiting,
		// declined, live, theirs (waiting and declined were made at the same moment, so the page
		// may list them either way round).
		show := func(query string, want ...string) {
			t.Helper()
			page := m.get(base+query).want(t, http.StatusOK)
			var got []string
			for _, id := range []string{paid, waiting, declined, live, theirs} {
				if strings.Contains(page.body, base+"/"+id+`"`) {
					got = append(got, id)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: shows %v, want %v\n%s", query, got, want, readable(page.body))
			}
		}
		// Service A is live, so its live payments come first; test payments are a choice away.
		show("", live)
		show("?mode=test", paid, waiting, declined)
		show("?mode=test&status=success", paid)
		show("?mode=test&status=failed", declined)
		show("?mode=test&status=created", waiting)
		show("?mode=test&reference=inv-002", waiting)
		show("?mode=test&email=GRACE", waiting)
		show("?mode=test&last_digits=4242", paid)
		show("?mode=test&from=2026-05-13", waiting, declined)
		show("?mode=test&to=2026-05-12", paid)
		show("?mode=test&from=2026-05-14&to=2026-05-14", waiting, declined)
		show("?mode=test&reference=B-REF")
		m.get(base+"?mode=test&reference=nothing").want(t, http.StatusOK, "No payments match your search.")
		m.get(base+"?mode=test").want(t, http.StatusOK, "Showing 1 to 3 of 3 payments", "Declined", "Success", "Created")

		for query, field := range map[string]string{
			"?last_digits=12ab":                  "last_digits",
			"?status=nonsense":                   "status",
			"?mode=both":                         "mode",
			"?from=2026-13-01":                   "from",
			"?from=2026-05-14&to=2026-05-13":     "to",
			"?mode=test&to=yesterday&status=bad": "status",
		} {
			page := m.get(base+query).want(t, http.StatusUnprocessableEntity, "There is a problem")
			if f := page.summaryFields(); len(f) == 0 || !slices.Contains(f, field) {
				t.Errorf("%s: error summary links to %v, want %s", query, f, field)
			}
		}
		m.get(base+"?page=0").want(t, http.StatusNotFound)
		m.get(base+"?page=two").want(t, http.StatusNotFound)

		// The payment's own page: its history and its refunds, and nothing of another service.
		m.get(base+"/"+paid).want(t, http.StatusOK, "INV-001", "ada@example.com", "£15.00", "Visa ending 4242",
			"Payment created", "Authorisation succeeded", "User approved for capture", "This payment has not been refunded",
			"Made through</dt><dd class=\"govuk-summary-list__value\">API").lacks(t, "4242424242424242", "Refund payment")
		m.get(base+"/"+declined).want(t, http.StatusOK, "Declined", "Authorisation rejected")
		m.get(base+"/"+theirs).want(t, http.StatusNotFound, "Page not found")
		m.get(base+"/not-an-id").want(t, http.StatusNotFound)
	})
}

func TestConsoleTransactionPages(t *testing.T) {
	eachTeamSite(t, nil, func(t *testing.T, s *teamSite) {
		b := s.b.id
		for i := range 52 {
			s.payment(s.b.testKey, fmt.Sprintf("P-%02d", i), "", 100+i)
			s.clock.Advance(time.Second)
		}
		m := s.member("pager@example.gov.uk", false, []string{platform.ManagePayments}, b)
		base := paymentsURL(b)
		first := m.get(base+"?mode=test").want(t, http.StatusOK, "Showing 1 to 50 of 52 payments", ">P-51<", ">P-02<").lacks(t, ">P-01<")
		next := first.find(t, `<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="next"`)
		if next != base+"?mode=test&page=2" {
			t.Fatalf("next page link %q", next)
		}
		second := m.get(next).want(t, http.StatusOK, "Showing 51 to 52 of 52 payments", ">P-01<", ">P-00<").lacks(t, ">P-02<", `rel="next"`)
		if prev := second.find(t, `<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="prev"`); prev != base+"?mode=test" {
			t.Fatalf("previous page link %q", prev)
		}
		m.get(base+"?mode=test&page=3").want(t, http.StatusOK, "There are no payments here yet").lacks(t, "<table")
	})
}

func TestConsoleExport(t *testing.T) {
	eachTeamSite(t, nil, func(t *testing.T, s *teamSite) {
		a := s.a.id
		paid, token := s.payment(s.a.testKey, "=HYPERLINK(\"x\")", "ada@example.com", 1234)
		s.pay(token, "4242424242424242")
		if _, err := s.svc.CaptureOnce(s.ctx, paid); err != nil {
			t.Fatal(err)
		}
		s.clock.Advance(time.Minute)
		other, _ := s.payment(s.a.testKey, "INV-2", "", 500)
		s.payment(s.a.liveKey, "LIVE-1", "", 999)
		s.payment(s.b.testKey, "B-REF", "", 100)

		m := s.member("exporter@example.gov.uk", false, []string{platform.ViewActivity}, a)
		base := paymentsURL(a)
		list := m.get(base+"?mode=test").want(t, http.StatusOK)
		link := list.find(t, `href="([^"]*/export\.csv[^"]*)"`)
		resp := m.get(link).want(t, http.StatusOK)
		if cd := resp.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="payments-test-`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		if strings.Contains(resp.body, "4242424242424242") {
			t.Fatal("the export holds a card number")
		}
		rows := resp.csvRows(t)
		if len(rows) != 3 {
			t.Fatalf("%d rows, want a header and 2 payments: %v", len(rows), rows)
		}
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		newest, oldest := rows[1], rows[2]
		if newest[col["Payment ID"]] != other || oldest[col["Payment ID"]] != paid {
			t.Fatalf("rows are not the test payments newest first: %v", rows)
		}
		for name, want := range map[string]string{
			"Reference": "'=HYPERLINK(\"x\")", "Email": "ada@example.com", "Amount": "12.34", "Total amount": "12.34",
			"State": "success", "Finished": "true", "Card brand": "Visa", "Last 4 digits": "4242", "Cardholder name": "Ada Lovelace",
			"Source": SourceAPI, "Live": "false", "Amount refunded": "0.00", "Refund status": "available", "Provider": "sandbox",
			"Created (UTC)": "2026-05-12T09:30:15.123Z",
		} {
			if got := oldest[col[name]]; got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if oldest[col["Captured (UTC)"]] == "" {
			t.Error("no capture time")
		}

		// The export takes the page's filters.
		if rows := m.get(base+"/export.csv?mode=test&reference=INV-2").want(t, http.StatusOK).csvRows(t); len(rows) != 2 || rows[1][0] != other {
			t.Fatalf("filtered export: %v", rows)
		}
		if rows := m.get(base+"/export.csv").want(t, http.StatusOK).csvRows(t); len(rows) != 2 || rows[1][col["Reference"]] != "LIVE-1" {
			t.Fatalf("live export: %v", rows)
		}
		m.get(base+"/export.csv?last_digits=x").want(t, http.StatusUnprocessableEntity, "There is a problem")
	})
}

func TestConsoleCrossTenant(t *testing.T) {
	eachTeamSite(t, nil, func(t *testing.T, s *teamSite) {
		a, b := s.a.id, s.b.id
		mine := s.captured(s.a.testKey, 1000)
		theirs := s.captured(s.b.testKey, 2000)
		link, err := s.svc.CreateLink(s.ctx, b, NewLink{Title: "B's link", Language: langEnglish})
		if err != nil {
			t.Fatal(err)
		}
		m := s.member("a-team@example.gov.uk", false, allPaymentPerms, a)

		// Another service's pages are not found, so that its existence is not given away.
		other := paymentsURL(b)
		for _, path := range []string{"", "?mode=test", "/export.csv?mode=test", "/" + theirs, "/" + theirs + "/refund",
			"/reconciliation?mode=test", "/reconciliation.csv?mode=test", "/settings", "/links", "/links/new",
			"/links/" + link.ID + "/deactivate"} {
			m.get(other+path).want(t, http.StatusNotFound)
		}
		m.post(other+"/"+theirs+"/refund", url.Values{"amount": {"5"}, "available": {"2000"}}).want(t, http.StatusNotFound)
		m.post(other+"/links/"+link.ID+"/deactivate", nil).want(t, http.StatusNotFound)
		m.post(other+"/settings", url.Values{"provider": {"sandbox"}, "options": {"moto"}}).want(t, http.StatusNotFound)

		// Their ids under one's own service's address are not found either.
		own := paymentsURL(a)
		m.get(own+"/"+theirs).want(t, http.StatusNotFound)
		m.get(own+"/"+theirs+"/refund").want(t, http.StatusNotFound)
		m.post(own+"/"+theirs+"/refund", url.Values{"amount": {"5"}, "available": {"2000"}}).want(t, http.StatusNotFound)
		m.get(own+"/links/"+link.ID+"/deactivate").want(t, http.StatusNotFound)
		m.post(own+"/links/"+link.ID+"/deactivate", nil).want(t, http.StatusNotFound)
		m.get(own+"?mode=test").want(t, http.StatusOK, own+"/"+mine).lacks(t, theirs)
		if body := m.get(own+"/export.csv?mode=test").want(t, http.StatusOK).body; strings.Contains(body, theirs) {
			t.Fatal("another service's payment is in the export")
		}
		m.get(own+"/links").want(t, http.StatusOK).lacks(t, "B&#39;s link", link.ID)

		if n := s.count("SELECT count(*) FROM pay_refunds WHERE payment_id = ?", theirs); n != 0 {
			t.Fatalf("another service's payment was refunded %d times", n)
		}
		if l, err := s.svc.Link(s.ctx, b, link.ID); err != nil || !l.Active {
			t.Fatalf("another service's link changed: %+v %v", l, err)
		}
		if st, _ := s.svc.Settings(s.ctx, b); st.MOTOEnabled {
			t.Fatal("another service's settings changed")
		}
	})
}
