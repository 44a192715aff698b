package pay

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// The transactions pages: a search of the service's payments in one mode (live or test) by
// status, reference, email, card and date, a page at a time; the same search as a CSV file;
// and one payment with its history and refunds.

// transactionsPageSize is how many payments a page of the list shows.
const transactionsPageSize = 50

// ukZone is the zone team members read dates in; the database keeps UTC.
var ukZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// stateOptions are the status filter's choices: the API's external states, as the search API
// takes them.
var stateOptions = []web.Option{
	{Value: "", Label: "Any status"},
	{Value: "created", Label: "Created"},
	{Value: "started", Label: "In progress"},
	{Value: "submitted", Label: "Waiting for the payer to confirm"},
	{Value: "capturable", Label: "Waiting for capture"},
	{Value: "success", Label: "Success"},
	{Value: "failed", Label: "Failed (declined, timed out or cancelled by the payer)"},
	{Value: "cancelled", Label: "Cancelled by the service"},
	{Value: "error", Label: "Error"},
}

// modeOptions are the two worlds a payment lives in.
var modeOptions = []web.Option{
	{Value: "live", Label: "Live payments"},
	{Value: "test", Label: "Test payments"},
}

// transactionFilterFields are the search form's fields, in the order of the page.
var transactionFilterFields = []string{"mode", "status", "reference", "email", "last_digits", "from", "to"}

// transactionSearch is the search form, read from the query and checked.
type transactionSearch struct {
	form   *web.Form
	scope  Scope
	filter PaymentFilter
	// Filtered is true when anything but the mode narrows the search.
	Filtered bool
}

// readTransactionSearch reads the search form from the query, reporting what is wrong on the
// form. The mode defaults to live payments for a live service and test payments otherwise:
// what the team is most likely to be looking for.
func readTransactionSearch(q url.Values, pc console.PageContext) transactionSearch {
	f := web.NewForm()
	for _, k := range transactionFilterFields {
		f.Set(k, q.Get(k))
	}
	if f.Get("mode") == "" {
		f.Set("mode", defaultMode(pc))
	}
	ts := transactionSearch{form: f, scope: Scope{ServiceID: pc.Service.ID, Live: f.Get("mode") == "live"}}
	if m := f.Get("mode"); m != "live" && m != "test" {
		f.AddError("mode", "Select live or test payments")
	}
	ts.filter.State = f.Get("status")
	if ts.filter.State != "" && !hasOption(stateOptions, ts.filter.State) {
		f.AddError("status", "Select a status from the list")
	}
	ts.filter.Reference = f.Get("reference")
	ts.filter.Email = f.Get("email")
	ts.filter.LastDigits = f.Get("last_digits")
	if d := ts.filter.LastDigits; d != "" && (len(d) != 4 || !allDigits(d)) {
		f.AddError("last_digits", "Enter the last 4 digits of the card, like 4242")
	}
	from, fromErr := parseUKDay(f.Get("from"))
	if fromErr != nil {
		f.AddError("from", "Enter the ‘from’ date as a real date, like 2026-04-30")
	}
	to, toErr := parseUKDay(f.Get("to"))
	if toErr != nil {
		f.AddError("to", "Enter the ‘to’ date as a real date, like 2026-04-30")
	}
	if fromErr == nil && toErr == nil && !from.IsZero() && !to.IsZero() && to.Before(from) {
		f.AddError("to", "The ‘to’ date must be the same as or after the ‘from’ date")
	}
	if !from.IsZero() {
		ts.filter.FromDate = from.UTC()
	}
	if !to.IsZero() {
		ts.filter.ToDate = to.AddDate(0, 0, 1).UTC() // the 'to' day is included
	}
	for _, k := range transactionFilterFields[1:] {
		if f.Get(k) != "" {
			ts.Filtered = true
		}
	}
	return ts
}

func defaultMode(pc console.PageContext) string {
	if pc.Service.Live {
		return "live"
	}
	return "test"
}

func hasOption(opts []web.Option, v string) bool {
	for _, o := range opts {
		if o.Value == v {
			return true
		}
	}
	return false
}

// parseUKDay reads a yyyy-mm-dd date (what a date input sends) as the start of that day in UK
// time; "" is no date.
func parseUKDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, ukZone), nil
}

// query is the search as query parameters, for links to other pages of it and to its export.
func (ts transactionSearch) query() url.Values {
	v := url.Values{}
	for _, k := range transactionFilterFields {
		if s := ts.form.Get(k); s != "" {
			v.Set(k, s)
		}
	}
	return v
}

type transactionsData struct {
	paymentsView
	*web.Form
	States, Modes []web.Option
	Payments      []*Payment
	Total         int
	From, To      int // the positions of the first and last payment shown, from 1
	Previous      string
	Next          string
	Export        string
	Filtered      bool
}

func (p *paymentsConsole) transactionsPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	q := r.URL.Query()
	ts := readTransactionSearch(q, pc)
	data := transactionsData{paymentsView: newPaymentsView(pc, "transactions"), Form: ts.form, States: stateOptions,
		Modes: modeOptions, Filtered: ts.Filtered}
	number := 1
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1_000_000 {
			return errConsoleNotFound
		}
		number = n
	}
	if !ts.form.Valid() {
		return p.renderInvalid(w, r, "payments", data)
	}
	list, total, err := p.s.SearchPayments(r.Context(), ts.scope, ts.filter, Page{Number: number, Size: transactionsPageSize})
	if err != nil {
		return err
	}
	data.Payments, data.Total = list, total
	if len(list) > 0 {
		data.From = (number-1)*transactionsPageSize + 1
		data.To = data.From + len(list) - 1
	}
	link := func(page int) string {
		v := ts.query()
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		if len(v) == 0 {
			return data.Base()
		}
		return data.Base() + "?" + v.Encode()
	}
	if number > 1 {
		data.Previous = link(number - 1)
	}
	if number*transactionsPageSize < total {
		data.Next = link(number + 1)
	}
	data.Export = data.Base() + "/export.csv?" + ts.query().Encode()
	return p.render(w, r, "payments", data)
}

// exportTransactions writes every payment the search finds as CSV, as it reads them, so that
// an export of any size needs no more memory than one row. Times are UTC, as in the API.
func (p *paymentsConsole) exportTransactions(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	ts := readTransactionSearch(r.URL.Query(), pc)
	if !ts.form.Valid() {
		data := transactionsData{paymentsView: newPaymentsView(pc, "transactions"), Form: ts.form, States: stateOptions,
			Modes: modeOptions, Filtered: ts.Filtered}
		return p.renderInvalid(w, r, "payments", data)
	}
	mode := "test"
	if ts.scope.Live {
		mode = "live"
	}
	name := "payments-" + mode + "-" + p.s.now().In(ukZone).Format("2006-01-02") + ".csv"
	cw := p.startCSV(w, name)
	_ = cw.Write([]string{"Payment ID", "Created (UTC)", "Reference", "Description", "Email", "Amount", "Corporate surcharge",
		"Total amount", "State", "Finished", "Error code", "Error message", "Card brand", "Cardholder name", "Last 4 digits",
		"Expiry date", "Wallet", "Provider", "Provider ID", "Source", "Live", "MOTO", "Captured (UTC)", "Fee", "Net amount",
		"Amount refunded", "Refund status"})
	err := p.s.EachPayment(r.Context(), ts.scope, ts.filter, func(pay *Payment) error {
		ext := pay.Status.External()
		var brand, holder, last, expiry, wallet string
		if c := pay.Card; c != nil {
			brand, holder, last, expiry, wallet = brandLabel(c.Brand), c.CardholderName, c.LastDigits, c.ExpiryDate, c.WalletType
			if brand == "" {
				brand = c.Brand
			}
		}
		optional := func(v *int64) string {
			if v == nil {
				return ""
			}
			return poundsPlain(*v)
		}
		captured := ""
		if pay.CapturedAt != nil {
			captured = apiTime(*pay.CapturedAt)
		}
		return cw.Write([]string{pay.ID, apiTime(pay.CreatedAt), csvText(pay.Reference), csvText(pay.Description),
			csvText(pay.Email), poundsPlain(pay.Amount), optional(pay.CorporateSurcharge), poundsPlain(pay.TotalAmount()),
			ext.Status, strconv.FormatBool(ext.Finished), ext.Code, ext.Message, brand, csvText(holder), last, expiry, wallet,
			pay.Provider, pay.ProviderID, pay.Source, strconv.FormatBool(pay.Live), strconv.FormatBool(pay.MOTO), captured,
			optional(pay.Fee), optional(pay.NetAmount), poundsPlain(pay.RefundedAmount), pay.RefundStatus()})
	})
	return p.finishCSV(r, cw, err)
}

// startCSV sends the headers of a CSV download and returns a writer for its rows.
func (p *paymentsConsole) startCSV(w http.ResponseWriter, filename string) *csv.Writer {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	return csv.NewWriter(w)
}

// finishCSV flushes a download. A failure half-way cannot be reported in a response that has
// begun, and a file cut short would look complete, so the connection is dropped instead: the
// browser shows the download as failed.
func (p *paymentsConsole) finishCSV(r *http.Request, cw *csv.Writer, err error) error {
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		p.s.log.ErrorContext(r.Context(), "pay: CSV download failed part-way", "path", r.URL.Path, "error", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// csvText keeps text a payer or service typed from being read as a formula by a spreadsheet
// the file is opened in: a leading =, +, -, @ or control character is escaped with a quote.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type paymentData struct {
	paymentsView
	Payment   *Payment
	Events    []PaymentEvent
	Refunds   []*Refund
	Link      *Link
	CanRefund bool
	Metadata  []web.SummaryRow
}

func (p *paymentsConsole) paymentPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	ctx := r.Context()
	pay, err := p.s.Payment(ctx, pc.Service.ID, r.PathValue("payment"))
	if err != nil {
		return notFoundAsPage(err)
	}
	events, err := p.s.PaymentEvents(ctx, pc.Service.ID, pay.ID)
	if err != nil {
		return err
	}
	refunds, err := p.s.Refunds(ctx, Scope{ServiceID: pc.Service.ID, Live: pay.Live}, pay.ID)
	if err != nil {
		return err
	}
	data := paymentData{paymentsView: newPaymentsView(pc, "transactions"), Payment: pay, Events: events, Refunds: refunds,
		CanRefund: pc.Can(platform.RefundPayments) && pay.RefundStatus() == RefundAvailable && !pc.Service.Archived}
	if pay.Source == SourcePaymentLink {
		if l, ok, err := p.s.linkOfPayment(ctx, pc.Service.ID, pay.ID); err != nil {
			return err
		} else if ok {
			data.Link = l
		}
	}
	data.Metadata = metadataRows(pay.Metadata)
	return p.render(w, r, "payment", data)
}

// metadataRows shows the metadata a service attached, a row per key in key order.
func metadataRows(raw json.RawMessage) []web.SummaryRow {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rows := make([]web.SummaryRow, 0, len(keys))
	for _, k := range keys {
		v := fmt.Sprint(m[k])
		if f, ok := m[k].(float64); ok {
			v = strconv.FormatFloat(f, 'f', -1, 64)
		}
		rows = append(rows, web.SummaryRow{Key: k, Value: v})
	}
	return rows
}
