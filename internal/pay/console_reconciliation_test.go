package pay

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/platform"
)

// feeSandbox is the sandbox with a provider's fee on every capture, as Stripe reports one.
type feeSandbox struct{ Sandbox }

const sandboxFee = 25

func (feeSandbox) Capture(ctx context.Context, req CaptureRequest) (CaptureResult, error) {
	r, err := Sandbox{}.Capture(ctx, req)
	fee := int64(sandboxFee)
	r.Fee = &fee
	return r, err
}

// TestConsoleReconciliation checks that the report's totals, and the rows of its CSV, add up to
// the payments captured and the refunds made on the days chosen, worked out independently from
// the payments and refunds themselves.
func TestConsoleReconciliation(t *testing.T) {
	eachTeamSite(t, map[string]Provider{SandboxName: feeSandbox{}}, func(t *testing.T, s *teamSite) {
		a := s.a.id
		sc := Scope{ServiceID: a}
		refund := func(id string, amount int64) {
			t.Helper()
			if _, err := s.svc.CreateRefund(s.ctx, sc, id, amount, nil); err != nil {
				t.Fatal(err)
			}
		}
		// 12 May, UK time: two payments, one partly refunded.
		p1 := s.captured(s.a.testKey, 1000)
		p2 := s.captured(s.a.testKey, 2550)
		refund(p1, 500)
		// 13 May: another payment, and a refund of one made the day before.
		s.clock.Advance(24 * time.Hour)
		s.captured(s.a.testKey, 4000)
		refund(p2, 1000)
		// 16 May: outside the report.
		s.clock.Advance(3 * 24 * time.Hour)
		late := s.captured(s.a.testKey, 7000)
		refund(late, 7000)
		// Live payments and another service's are in other reports.
		s.captured(s.a.liveKey, 9900)
		s.captured(s.b.testKey, 1234)

		from := time.Date(2026, 5, 12, 0, 0, 0, 0, ukZone)
		until := time.Date(2026, 5, 14, 0, 0, 0, 0, ukZone)
		var captured, captures, refunded, refunds int64
		if err := s.d.QueryRow(s.ctx, `SELECT COALESCE(sum(amount), 0), count(*) FROM pay_payments WHERE service_id = ? AND live = ?
			AND status = ? AND captured_at >= ? AND captured_at < ?`, a, false, string(StatusCaptured), from.UTC(), until.UTC()).
			Scan(&captured, &captures); err != nil {
			t.Fatal(err)
		}
		if err := s.d.QueryRow(s.ctx, `SELECT COALESCE(sum(amount), 0), count(*) FROM pay_refunds WHERE service_id = ? AND live = ?
			AND status = ? AND created_at >= ? AND created_at < ?`, a, false, RefundSuccess, from.UTC(), until.UTC()).
			Scan(&refunded, &refunds); err != nil {
			t.Fatal(err)
		}
		if captured != 7550 || captures != 3 || refunded != 1500 || refunds != 2 {
			t.Fatalf("the fixture is not what the test expects: %d in %d captures, %d in %d refunds", captured, captures, refunded, refunds)
		}
		fees := -sandboxFee * captures
		net := captured - refunded + fees

		m := s.member("finance@example.gov.uk", false, []string{platform.ViewActivity}, a)
		base := paymentsURL(a) + "/reconciliation"
		page := m.get(base+"?mode=test&from=2026-05-12&to=2026-05-13").want(t, http.StatusOK, "13 May 2026", "12 May 2026").
			lacks(t, "16 May 2026")
		for id, want := range map[string]string{
			"captured": poundsText(captured), "captured-count": strconv.FormatInt(captures, 10),
			"refunded": poundsText(-refunded), "refund-count": strconv.FormatInt(refunds, 10),
			"fees": poundsText(fees), "net": "<strong>" + poundsText(net) + "</strong>",
		} {
			if got := page.find(t, `id="`+id+`">([^<]*(?:<strong>[^<]*</strong>)?)<`); got != want {
				t.Errorf("%s shows %q, want %q", id, got, want)
			}
		}

		csvLink := page.find(t, `href="([^"]*/reconciliation\.csv[^"]*)"`)
		rows := m.get(csvLink).want(t, http.StatusOK).csvRows(t)
		if rows[0][0] != "Date (UTC)" || rows[0][1] != "Type" || rows[0][2] != "Amount" {
			t.Fatalf("header %v", rows[0])
		}
		sums := map[string]int64{}
		counts := map[string]int64{}
		var total int64
		for _, row := range rows[1:] {
			f, err := strconv.ParseFloat(row[2], 64)
			if err != nil {
				t.Fatalf("amount %q: %v", row[2], err)
			}
			pence := int64(math.Round(f * 100))
			sums[row[1]] += pence
			counts[row[1]]++
			total += pence
		}
		if sums["Payment"] != captured || counts["Payment"] != captures || sums["Refund"] != -refunded ||
			counts["Refund"] != refunds || sums["Provider fee"] != fees || total != net || len(rows) != int(1+2*captures+refunds) {
			t.Fatalf("the CSV's rows add up to %v (%v), %d in all; want %d captured, %d refunded, %d fees, %d net",
				sums, counts, total, captured, -refunded, fees, net)
		}

		// By default the report covers this month so far, which takes in the 16th.
		m.get(paymentsURL(a)+"/reconciliation").want(t, http.StatusOK)
		m.get(paymentsURL(a)+"/reconciliation?mode=test").want(t, http.StatusOK, "16 May 2026", poundsText(captured+7000))
		// Live money is a report of its own.
		m.get(base+"?mode=live&from=2026-05-01&to=2026-05-31").want(t, http.StatusOK, poundsText(9900))

		for query, field := range map[string]string{"?from=2026-05-13&to=2026-05-12": "to", "?from=never": "from",
			"?from=2025-01-01&to=2026-05-12": "to", "?mode=all": "mode"} {
			p := m.get(base+query).want(t, http.StatusUnprocessableEntity, "There is a problem")
			if f := p.summaryFields(); len(f) != 1 || f[0] != field {
				t.Errorf("%s: error summary links to %v, want %s", query, f, field)
			}
		}
		m.get(base+".csv?from=never").want(t, http.StatusUnprocessableEntity)
	})
}
