package pay

import (
	"net/http"
	"net/url"
	"time"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/web"
)

// The reconciliation report (pay.md §11): for a range of days, the money that moved — payments
// captured, refunds, providers' fees and what is left — read from the ledger, the append-only
// record every capture and refund writes in the transaction that makes it. The page shows the
// totals and each day's; the CSV lists every movement, so that its rows add up to the page's
// totals and can be matched one by one against the provider's statement. Days are UK days; the
// CSV's times are UTC.

// maxReconciliationDays bounds a report: a year is what a finance team asks for at most.
const maxReconciliationDays = 366

// LedgerTotals adds up movements of money.
type LedgerTotals struct {
	Captured      int64 // positive
	CapturedCount int
	Refunded      int64 // negative: money going back to payers
	RefundCount   int
	Fees          int64 // negative
	Other         int64
	Net           int64
}

func (t *LedgerTotals) add(e LedgerEntry) {
	switch e.Kind {
	case "capture":
		t.Captured += e.Amount
		t.CapturedCount++
	case "refund":
		t.Refunded += e.Amount
		t.RefundCount++
	case "fee":
		t.Fees += e.Amount
	default:
		t.Other += e.Amount
	}
	t.Net += e.Amount
}

// reconciliationDay is one UK day's totals.
type reconciliationDay struct {
	Day time.Time
	LedgerTotals
}

type reconciliationData struct {
	paymentsView
	*web.Form
	Modes    []web.Option
	Totals   LedgerTotals
	Days     []reconciliationDay
	Download string
}

// reconciliationRange reads the report's form: the mode and the days, by default this month so
// far.
type reconciliationRange struct {
	form        *web.Form
	scope       Scope
	from, until time.Time // until is the start of the day after the last
}

func (p *paymentsConsole) readReconciliationRange(q url.Values, pc console.PageContext) reconciliationRange {
	f := web.NewForm()
	for _, k := range []string{"mode", "from", "to"} {
		f.Set(k, q.Get(k))
	}
	today := p.s.now().In(ukZone)
	if f.Get("mode") == "" {
		f.Set("mode", defaultMode(pc))
	}
	if f.Get("from") == "" {
		f.Set("from", today.AddDate(0, 0, 1-today.Day()).Format("2006-01-02"))
	}
	if f.Get("to") == "" {
		f.Set("to", today.Format("2006-01-02"))
	}
	rr := reconciliationRange{form: f, scope: Scope{ServiceID: pc.Service.ID, Live: f.Get("mode") == "live"}}
	if m := f.Get("mode"); m != "live" && m != "test" {
		f.AddError("mode", "Select live or test payments")
	}
	from, fromErr := parseUKDay(f.Get("from"))
	if fromErr != nil {
		f.AddError("from", "Enter the ‘from’ date as a real date, like 2026-04-01")
	}
	to, toErr := parseUKDay(f.Get("to"))
	if toErr != nil {
		f.AddError("to", "Enter the ‘to’ date as a real date, like 2026-04-30")
	}
	if fromErr == nil && toErr == nil {
		switch {
		case to.Before(from):
			f.AddError("to", "The ‘to’ date must be the same as or after the ‘from’ date")
		case to.Sub(from) > maxReconciliationDays*24*time.Hour:
			f.AddError("to", "A report can cover 366 days at most")
		}
	}
	rr.from, rr.until = from, to.AddDate(0, 0, 1)
	return rr
}

func (p *paymentsConsole) reconciliationPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	rr := p.readReconciliationRange(r.URL.Query(), pc)
	data := reconciliationData{paymentsView: newPaymentsView(pc, "reconciliation"), Form: rr.form, Modes: modeOptions}
	if !rr.form.Valid() {
		return p.renderInvalid(w, r, "reconciliation", data)
	}
	err := p.s.EachLedgerEntry(r.Context(), rr.scope, rr.from, rr.until, func(e LedgerEntry) error {
		local := e.At.In(ukZone)
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, ukZone)
		if n := len(data.Days); n == 0 || !data.Days[n-1].Day.Equal(day) {
			data.Days = append(data.Days, reconciliationDay{Day: day})
		}
		data.Days[len(data.Days)-1].add(e)
		data.Totals.add(e)
		return nil
	})
	if err != nil {
		return err
	}
	v := url.Values{}
	for _, k := range []string{"mode", "from", "to"} {
		v.Set(k, rr.form.Get(k))
	}
	data.Download = data.Base() + "/reconciliation.csv?" + v.Encode()
	return p.render(w, r, "reconciliation", data)
}

// ledgerKindLabel names a kind of movement in the CSV.
func ledgerKindLabel(kind string) string {
	switch kind {
	case "capture":
		return "Payment"
	case "refund":
		return "Refund"
	case "fee":
		return "Provider fee"
	}
	return kind
}

func (p *paymentsConsole) reconciliationCSV(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	rr := p.readReconciliationRange(r.URL.Query(), pc)
	if !rr.form.Valid() {
		data := reconciliationData{paymentsView: newPaymentsView(pc, "reconciliation"), Form: rr.form, Modes: modeOptions}
		return p.renderInvalid(w, r, "reconciliation", data)
	}
	name := "reconciliation-" + rr.form.Get("mode") + "-" + rr.form.Get("from") + "-to-" + rr.form.Get("to") + ".csv"
	cw := p.startCSV(w, name)
	_ = cw.Write([]string{"Date (UTC)", "Type", "Amount", "Payment ID", "Refund ID", "Reference"})
	err := p.s.EachLedgerEntry(r.Context(), rr.scope, rr.from, rr.until, func(e LedgerEntry) error {
		return cw.Write([]string{apiTime(e.At), ledgerKindLabel(e.Kind), poundsPlain(e.Amount), e.PaymentID, e.RefundID,
			csvText(e.Reference)})
	})
	return p.finishCSV(r, cw, err)
}
