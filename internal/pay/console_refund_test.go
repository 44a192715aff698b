package pay

import (
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/commons-gov/commons/internal/platform"
)

func TestConsoleRefunds(t *testing.T) {
	eachTeamSite(t, nil, func(t *testing.T, s *teamSite) {
		a := s.a.id
		id := s.captured(s.a.testKey, 5000)
		base := paymentsURL(a) + "/" + id

		// Without refund_payments: no button, and the form is forbidden, shown or sent.
		viewer := s.member("viewer@example.gov.uk", false, []string{platform.ViewActivity, platform.ManagePayments, platform.ManageService}, a)
		viewer.get(base).want(t, http.StatusOK, "£50.00").lacks(t, "Refund payment")
		viewer.get(base+"/refund").want(t, http.StatusForbidden)
		viewer.post(base+"/refund", url.Values{"amount": {"10"}, "available": {"5000"}}).want(t, http.StatusForbidden)
		if n := s.count("SELECT count(*) FROM pay_refunds WHERE payment_id = ?", id); n != 0 {
			t.Fatalf("a refund was made without permission: %d", n)
		}

		r := s.member("refunder@example.gov.uk", false, []string{platform.RefundPayments}, a)
		r.get(base).want(t, http.StatusOK, "Refund payment", base+"/refund")
		form := r.get(base+"/refund").want(t, http.StatusOK, "Available to refund", "£50.00")
		if got := form.find(t, `name="available" value="(\d+)"`); got != "5000" {
			t.Fatalf("the form carries %s available", got)
		}
		for amount, message := range map[string]string{
			"":      "Enter the amount to refund",
			"ten":   "Enter the amount to refund in pounds and pence",
			"1.234": "Enter the amount to refund in pounds and pence",
			"-5":    "Enter the amount to refund in pounds and pence",
			"0":     "The amount to refund must be at least £0.01",
			"50.01": "The amount to refund must be £50.00 or less",
		} {
			page := r.post(base+"/refund", url.Values{"amount": {amount}, "available": {"5000"}}).
				want(t, http.StatusUnprocessableEntity, message)
			if f := page.summaryFields(); !slices.Equal(f, []string{"amount"}) {
				t.Errorf("%q: error summary links to %v", amount, f)
			}
		}
		// A page that claims more is available than is: the core's check refuses it too.
		r.post(base+"/refund", url.Values{"amount": {"60"}, "available": {"6000"}}).
			want(t, http.StatusUnprocessableEntity, "Another refund of this payment was made", "£50.00 left")
		if n := s.count("SELECT count(*) FROM pay_refunds WHERE payment_id = ?", id); n != 0 {
			t.Fatalf("a refused refund was made: %d", n)
		}

		r.post(base+"/refund", url.Values{"amount": {"£12.50"}, "available": {"5000"}}).
			want(t, http.StatusOK, "Refunded £12.50", "£12.50", "Refunded</strong>", "£37.50 can still be refunded")
		var refunded int64
		if err := s.d.QueryRow(s.ctx, "SELECT sum(amount) FROM pay_refunds WHERE payment_id = ? AND status = ?", id, RefundSuccess).Scan(&refunded); err != nil || refunded != 1250 {
			t.Fatalf("refunded %d (%v), want 1250", refunded, err)
		}
		// The same page sent again is out of date: it is refused, with today's figure.
		again := r.post(base+"/refund", url.Values{"amount": {"12.50"}, "available": {"5000"}}).
			want(t, http.StatusUnprocessableEntity, "£37.50 left")
		if got := again.find(t, `name="available" value="(\d+)"`); got != "3750" {
			t.Fatalf("the redisplayed form carries %s available", got)
		}
		r.post(base+"/refund", url.Values{"amount": {"37.50"}, "available": {"3750"}}).want(t, http.StatusOK, "Refunded £37.50")
		r.get(base+"/refund").want(t, http.StatusOK, "This payment has been refunded in full").lacks(t, `name="amount"`)
		r.get(base).want(t, http.StatusOK).lacks(t, "Refund payment")
		r.post(base+"/refund", url.Values{"amount": {"1"}, "available": {"0"}}).want(t, http.StatusUnprocessableEntity)

		// A payment not yet taken cannot be refunded.
		pending, _ := s.payment(s.a.testKey, "NOT-YET", "", 100)
		r.get(paymentsURL(a)+"/"+pending+"/refund").want(t, http.StatusOK, "cannot be refunded until it has been taken").lacks(t, `name="amount"`)

		if n := s.count("SELECT count(*) FROM audit_events WHERE service_id = ? AND action = ?", a, auditPayRefund); n != 2 {
			t.Fatalf("%d refunds in the audit log, want 2", n)
		}
	})
}

// TestConsoleRefundsRace sends the same refund page many times at once: each refunds £20 of a
// £50 payment from a page that said £50 was available, so exactly one may succeed.
func TestConsoleRefundsRace(t *testing.T) {
	eachTeamSite(t, nil, func(t *testing.T, s *teamSite) {
		id := s.captured(s.a.testKey, 5000)
		r := s.member("refunder@example.gov.uk", false, []string{platform.RefundPayments}, s.a.id)
		base := paymentsURL(s.a.id) + "/" + id
		const n = 6
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				statuses[i] = r.post(base+"/refund", url.Values{"amount": {"20"}, "available": {"5000"}}).status
			})
		}
		wg.Wait()
		ok := 0
		for _, st := range statuses {
			switch st {
			case http.StatusOK:
				ok++
			case http.StatusUnprocessableEntity:
			default:
				t.Fatalf("statuses %v", statuses)
			}
		}
		var refunded, count int64
		if err := s.d.QueryRow(s.ctx, "SELECT count(*), COALESCE(sum(amount), 0) FROM pay_refunds WHERE payment_id = ?", id).Scan(&count, &refunded); err != nil {
			t.Fatal(err)
		}
		if ok != 1 || count != 1 || refunded != 2000 {
			t.Fatalf("%d accepted, %d refunds of %dp in all; want exactly one of 2000p", ok, count, refunded)
		}
	})
}
