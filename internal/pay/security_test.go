package pay

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/web"
)

// "Card numbers and CVCs are never stored or logged": payments are taken every way a card can
// reach Commons — the hosted card pages over HTTP (through the full middleware stack, access log
// included), the journey's Go API, the MOTO API, and recurring payments on a saved card — with
// cards that are authorised, declined, in error, challenged by 3-D Secure and not cards at all.
// Everything logged at any level is captured, every table of the database is read back in full
// as text, and neither a card number (plain, spaced or form-encoded) nor one of the CVCs used
// may appear anywhere. On SQLite the database files' raw bytes are searched too, which also
// finds rows written and deleted since.

// secCard is a card used in the test, with a CVC chosen to be unlike any other number the test
// produces (amounts, times), so that finding it means it leaked.
type secCard struct{ number, cvc string }

var (
	secAuthorised = secCard{"4444333322221111", "947"}
	secDeclined   = secCard{"4000000000000002", "862"}
	secError      = secCard{"4000000000000119", "638"}
	sec3DS        = secCard{"4000002500003155", "571"}
	secAmex       = secCard{"371449635398431", "7351"}
	secNotACard   = secCard{"4444333322221112", "274"} // fails the Luhn check
	secExpired    = secCard{"4000000000000069", "905"}
	secMOTO       = secCard{"4242424242424242", "736"}
	secMOTOBad    = secCard{"1234567812345678", "318"}
	secRecurring  = secCard{"5105105105105100", "419"}
	secDiscover   = secCard{"6011000990139424", "583"}
	secSetUp      = secCard{"4000056655665556", "692"}
)

var secCards = []secCard{secAuthorised, secDeclined, secError, sec3DS, secAmex, secNotACard, secExpired, secMOTO,
	secMOTOBad, secRecurring, secDiscover, secSetUp}

// syncBuffer collects output written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestCardNumbersAndCVCsAreNeverStoredOrLogged(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Anything that logs through slog's default, or the standard log package, lands here too.
	previous := slog.Default()
	slog.SetDefault(logger)
	t.Cleanup(func() { slog.SetDefault(previous) })

	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, nil)
		f.svc.log = logger
		pages := &syncBuffer{}
		srv := secServer(t, f, logger)
		runWorkers(t, f, logger)
		if err := f.svc.SetSettings(f.ctx, f.a.id, Settings{Provider: SandboxName, MOTOAPIEnabled: true, RecurringEnabled: true}); err != nil {
			t.Fatal(err)
		}
		var toCapture []string

		// The hosted pages, as a browser uses them.
		for _, c := range []struct {
			card   secCard
			spaced bool
			want   Status
		}{
			{secAuthorised, true, StatusCaptureApproved},
			{secDeclined, false, StatusAuthorisationRejected},
			{secError, false, StatusAuthorisationError},
			{sec3DS, false, StatusCaptureApproved},
			{secAmex, true, StatusCaptureApproved},
		} {
			id, tok := f.create(f.a.testKey, webPayment(1999))
			b := newSecBrowser(t, srv, pages)
			b.do("GET", "/pay/secure/"+tok, nil)
			number := c.card.number
			if c.spaced {
				number = spaced(number)
			}
			// First with an expiry in the past, so that the form comes back with errors, then right.
			b.do("POST", "/pay/card_details/"+id, secForm(number, c.card.cvc, "01", "20"))
			r := b.do("POST", "/pay/card_details/"+id, secForm(number, c.card.cvc, "12", "30"))
			if strings.HasSuffix(r.Header.Get("Location"), "/3ds_required") {
				b.do("GET", "/pay/card_details/"+id+"/3ds_required", nil)
				b.do("POST", "/pay/card_details/"+id+"/3ds_handler", url.Values{"result": {"pass"}})
			}
			if st := f.status(id); st == StatusAuthorisationSuccess {
				b.do("GET", "/pay/card_details/"+id+"/confirm", nil)
				b.do("POST", "/pay/card_details/"+id+"/confirm", url.Values{})
			}
			if st := f.status(id); st != c.want && !(c.want == StatusCaptureApproved && st == StatusCaptured) {
				t.Fatalf("card %s…%s through the pages: %s, want %s", c.card.number[:6], last4(c.card.number), st, c.want)
			}
			if c.want == StatusCaptureApproved {
				toCapture = append(toCapture, id)
			}
		}
		// A number that is not a card is refused by the form, and then by the journey's API.
		id, tok := f.create(f.a.testKey, webPayment(1999))
		b := newSecBrowser(t, srv, pages)
		b.do("GET", "/pay/secure/"+tok, nil)
		b.do("POST", "/pay/card_details/"+id, secForm(secNotACard.number, secNotACard.cvc, "12", "30"))
		if _, err := f.svc.Authorise(f.ctx, id, secCardOf(secNotACard)); err != ErrCardInvalid {
			t.Fatalf("not a card: %v", err)
		}

		// The journey's Go API, as other front ends would use it.
		for _, c := range []secCard{secExpired, secDiscover} {
			id, tok := f.create(f.a.testKey, webPayment(2999))
			p, err := f.svc.StartWithToken(f.ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if p, err = f.svc.Authorise(f.ctx, p.ID, secCardOf(c)); err != nil {
				t.Fatal(err)
			}
			if p.Status == StatusAuthorisationSuccess {
				if _, err := f.svc.Confirm(f.ctx, id); err != nil {
					t.Fatal(err)
				}
				toCapture = append(toCapture, id)
			}
		}

		// The MOTO API: authorised, declined, and a number that is not a card.
		for _, c := range []secCard{secMOTO, secExpired, secMOTOBad} {
			r := f.do("POST", "/v1/payments", f.a.testKey, map[string]any{"amount": 3999, "reference": "tel", "description": "Phone",
				"authorisation_mode": "moto_api"}).want(t, http.StatusCreated)
			f.do("POST", "/v1/auth", "", fmt.Sprintf(`{"one_time_token":%q,"card_number":%q,"cvc":%q,"expiry_date":"12/30","cardholder_name":"J Smith"}`,
				r.motoToken(t), c.number, c.cvc))
			if c == secMOTO {
				toCapture = append(toCapture, r.body["payment_id"].(string))
			}
		}

		// Recurring payments: a card saved through the pages, charged by the job; and the card
		// the sandbox saves but then refuses.
		for _, c := range []secCard{secSetUp, secRecurring} {
			agreement := f.newAgreement(f.a.testKey, "SEC")
			id, tok := f.setUpPayment(f.a.testKey, agreement)
			b := newSecBrowser(t, srv, pages)
			b.do("GET", "/pay/secure/"+tok, nil)
			b.do("POST", "/pay/card_details/"+id, secForm(c.number, c.cvc, "12", "30"))
			b.do("POST", "/pay/card_details/"+id+"/confirm", url.Values{})
			toCapture = append(toCapture, id)
			rec := f.do("POST", "/v1/payments", f.a.testKey, recurringBody(agreement, 1500)).want(t, http.StatusCreated)
			recID := rec.body["payment_id"].(string)
			waitFor(t, func() bool { st := f.status(recID); return st == StatusCaptured || st == StatusAuthorisationRejected },
				"recurring payment "+recID)
		}

		for _, id := range toCapture {
			waitFor(t, func() bool { return f.status(id) == StatusCaptured }, "capture of "+id)
		}
		// Refund one, so that the refund paths have run too.
		if _, err := f.svc.CreateRefund(f.ctx, Scope{ServiceID: f.a.id}, toCapture[0], 100, nil); err != nil {
			t.Fatal(err)
		}

		// Nothing was vacuous: the requests above were logged, each with its route.
		captured := logs.String()
		if os.Getenv("COMMONS_SECURITY_TEST_LOGS") != "" {
			_ = os.WriteFile(os.Getenv("COMMONS_SECURITY_TEST_LOGS")+"."+string(d.Dialect), []byte(captured+"\n\n"+dumpDatabase(t, d)), 0o600)
		}
		for _, want := range []string{`"route":"/pay/card_details/{id}"`, `"route":"/v1/auth"`, `"route":"/v1/payments"`} {
			if !strings.Contains(captured, want) {
				t.Fatalf("the logs lack %q; the test would prove nothing", want)
			}
		}
		dump := dumpDatabase(t, d)
		if !strings.Contains(dump, "444433") || !strings.Contains(dump, "1111") {
			t.Fatal("the dump lacks the first and last digits every authorised payment keeps")
		}
		checkNoCard(t, "the database", dump)
		checkNoCard(t, "the logs", logMeasures.ReplaceAllString(captured, ""))
		checkNoCard(t, "the pages' responses", pages.String())
		if d.Dialect == db.SQLite {
			checkRawFiles(t, strings.TrimPrefix(d.URL(), "sqlite:"))
		}
	})
}

// secServer serves the API and the hosted pages through the web kit's whole middleware stack,
// logging to logger.
func secServer(t *testing.T, f *fixture, logger *slog.Logger) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	f.svc.Mount(mux)
	f.svc.MountPages(mux, f.platform)
	stack, err := web.Stack(web.StackConfig{Logger: logger, BaseURL: testBaseURL})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(stack(mux))
	t.Cleanup(srv.Close)
	f.srv = srv // the fixture's API requests go through the stack as well
	return srv
}

// runWorkers works Pay's jobs (capture, recurring authorisation) as a node does, logging to
// logger at every level.
func runWorkers(t *testing.T, f *fixture, logger *slog.Logger) {
	t.Helper()
	workers := river.NewWorkers()
	f.svc.RegisterWorkers(workers)
	worker, err := jobs.New(f.d, jobs.Config{Workers: workers, Work: true, Queues: Queues(),
		FetchPollInterval: 20 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = worker.Stop(context.Background()) })
}

func waitFor(t *testing.T, done func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// secBrowser is a payer's browser that keeps every page it is sent.
type secBrowser struct {
	t      *testing.T
	base   string
	client *http.Client
	pages  io.Writer
}

func newSecBrowser(t *testing.T, srv *httptest.Server, pages io.Writer) *secBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &secBrowser{t: t, base: srv.URL, pages: pages, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *secBrowser) do(method, path string, form url.Values) *http.Response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		b.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	_, _ = b.pages.Write(raw)
	_, _ = fmt.Fprintln(b.pages, resp.Header)
	return resp
}

// secForm is the card form as a browser sends it.
func secForm(number, cvc, month, year string) url.Values {
	return url.Values{"cardNo": {number}, "expiryMonth": {month}, "expiryYear": {year}, "cardholderName": {"Ada Lovelace"},
		"cvc": {cvc}, "addressLine1": {"1 Horse Guards Road"}, "addressCity": {"London"}, "addressPostcode": {"SW1A 2HQ"},
		"addressCountry": {"GB"}, "email": {"ada@example.com"}}
}

func secCardOf(c secCard) Card {
	return Card{Number: c.number, CVC: c.cvc, ExpiryDate: "12/30", CardholderName: "Ada Lovelace",
		BillingAddress: &Address{Line1: "1 Street", City: "London", Postcode: "SW1A 1AA", Country: "GB"}}
}

// spaced writes a card number in groups of four, as payers often type it.
func spaced(number string) string {
	var b strings.Builder
	for i, r := range number {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// logMeasures are the numbers logs carry about requests and jobs (sizes, durations, counts,
// statuses). They are left out of the CVC check, where a response of 947 bytes would otherwise
// look like a leaked CVC; a CVC, which arrives as text, is never logged as one of them.
var logMeasures = regexp.MustCompile(`"(bytes|duration|duration_ms|num_jobs|status|attempt|job_id)":[0-9.]+`)

// checkNoCard fails if text holds any test card's number, in any form it was sent in, or any
// of the CVCs as a number standing on its own.
func checkNoCard(t *testing.T, where, text string) {
	t.Helper()
	for _, c := range secCards {
		for _, form := range []string{c.number, spaced(c.number), strings.ReplaceAll(spaced(c.number), " ", "+"),
			strings.ReplaceAll(spaced(c.number), " ", "%20")} {
			if i := strings.Index(text, form); i >= 0 {
				t.Errorf("%s holds card number %s: …%s…", where, form, excerpt(text, i))
			}
		}
		// A CVC is a number of its own: not part of a longer number, a decimal, an id or a UUID.
		cvc := regexp.MustCompile(`(^|[^0-9A-Za-z.-])` + c.cvc + `($|[^0-9A-Za-z.-])`)
		if loc := cvc.FindStringIndex(text); loc != nil {
			t.Errorf("%s holds CVC %s: …%s…", where, c.cvc, excerpt(text, loc[0]))
		}
	}
}

func excerpt(text string, i int) string {
	return text[max(0, i-120):min(len(text), i+120)]
}

// dumpDatabase reads every row of every table, every column cast to text, into one string:
// whatever was stored, in whichever table, is in it.
func dumpDatabase(t *testing.T, d *db.DB) string {
	t.Helper()
	ctx := context.Background()
	listTables := `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	if d.Dialect == db.Postgres {
		listTables = `SELECT table_schema || '.' || table_name FROM information_schema.tables
			WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`
	}
	tables := queryStrings(t, d, listTables)
	if len(tables) < 10 {
		t.Fatalf("only %d tables: %v", len(tables), tables)
	}
	var out strings.Builder
	for _, table := range tables {
		quoted := quoteIdent(table)
		var cols []string
		if d.Dialect == db.Postgres {
			schema, name, _ := strings.Cut(table, ".")
			cols = queryStrings(t, d, `SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?
				ORDER BY ordinal_position`, schema, name)
		} else {
			cols = queryStrings(t, d, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
		}
		exprs := make([]string, len(cols))
		for i, c := range cols {
			exprs[i] = "CAST(" + quoteIdent(c) + " AS TEXT)"
		}
		rows, err := d.Query(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+quoted)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		fmt.Fprintf(&out, "== %s (%s)\n", table, strings.Join(cols, ", "))
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			for _, v := range vals {
				out.WriteString(v.String)
				out.WriteByte('\t')
			}
			out.WriteByte('\n')
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

// quoteIdent quotes a (possibly schema-qualified) identifier for both engines.
func quoteIdent(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
	}
	return strings.Join(parts, ".")
}

func queryStrings(t *testing.T, d *db.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := d.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// checkRawFiles searches the SQLite database's files byte for byte, free pages and the
// write-ahead log included, for any test card number.
func checkRawFiles(t *testing.T, dbPath string) {
	t.Helper()
	matches, err := filepath.Glob(dbPath + "*")
	if err != nil || len(matches) == 0 {
		t.Fatalf("database files at %s: %v", dbPath, err)
	}
	for _, path := range matches {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range secCards {
			if bytes.Contains(raw, []byte(c.number)) || bytes.Contains(raw, []byte(spaced(c.number))) {
				t.Errorf("%s holds card number %s", filepath.Base(path), c.number)
			}
		}
	}
}
