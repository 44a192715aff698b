package pay

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/web"
)

// The hosted card pages, tested as a browser uses them: through the web kit's middleware stack
// and the same mux as the /v1 API, on each engine, with a cookie jar per browser.

// pagesFixture is the API fixture plus a server with the pages mounted, and a record of
// everything logged.
type pagesFixture struct {
	*fixture
	pages *httptest.Server
	logs  *lockedBuffer
}

// lockedBuffer collects log output from concurrent requests.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func eachPages(t *testing.T, fn func(t *testing.T, f *pagesFixture)) { eachPagesWith(t, nil, fn) }

// eachPagesWith is eachPages with providers besides the sandbox.
func eachPagesWith(t *testing.T, providers map[string]Provider, fn func(t *testing.T, f *pagesFixture)) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		f := &pagesFixture{fixture: newFixture(t, d, providers), logs: &lockedBuffer{}}
		logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		f.svc.log = logger
		mux := http.NewServeMux()
		f.svc.Mount(mux)
		f.svc.MountPages(mux, f.platform)
		stack, err := web.Stack(web.StackConfig{Logger: logger, BaseURL: testBaseURL, CrossSiteForms: CrossSiteForms})
		if err != nil {
			t.Fatal(err)
		}
		f.pages = httptest.NewServer(stack(mux))
		t.Cleanup(f.pages.Close)
		fn(t, f)
	})
}

// browser is one payer's browser: its own cookies, and redirects left for the test to follow.
type browser struct {
	t      *testing.T
	f      *pagesFixture
	client *http.Client
}

func (f *pagesFixture) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, f: f, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// served is one response.
type served struct {
	status   int
	location string
	header   http.Header
	body     string
}

func (b *browser) do(method, path string, form url.Values, headers ...string) served {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.f.pages.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return served{status: resp.StatusCode, location: resp.Header.Get("Location"), header: resp.Header, body: string(raw)}
}

func (b *browser) get(path string) served { b.t.Helper(); return b.do("GET", path, nil) }
func (b *browser) post(path string, form url.Values) served {
	b.t.Helper()
	return b.do("POST", path, form)
}

// want checks the status, and for a redirect where it leads.
func (p served) want(t *testing.T, status int, location ...string) served {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d; location %q; body %s", p.status, status, p.location, p.body)
	}
	if len(location) > 0 && p.location != location[0] {
		t.Fatalf("redirect to %q, want %q", p.location, location[0])
	}
	return p
}

// has checks the body contains each string.
func (p served) has(t *testing.T, want ...string) served {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Fatalf("page lacks %q:\n%s", w, p.body)
		}
	}
	return p
}

// lacks checks the body contains none of the strings.
func (p served) lacks(t *testing.T, unwanted ...string) served {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(p.body, u) {
			t.Fatalf("page contains %q:\n%s", u, p.body)
		}
	}
	return p
}

// start opens next_url and follows it to the first page, returning the payment's page path.
func (b *browser) start(token string) string {
	b.t.Helper()
	r := b.get("/pay/secure/"+token).want(b.t, http.StatusSeeOther)
	if !strings.HasPrefix(r.location, "/pay/card_details/") {
		b.t.Fatalf("next_url led to %q", r.location)
	}
	return r.location
}

// goodCard is a complete, valid card form for number.
func goodCard(number string) url.Values {
	return url.Values{fieldCardNo: {number}, fieldMonth: {"12"}, fieldYear: {"30"}, fieldName: {"Ada Lovelace"},
		fieldCVC: {"123"}, fieldLine1: {"1 Horse Guards Road"}, fieldLine2: {""}, fieldCity: {"London"},
		fieldPostcode: {"sw1a2hq"}, fieldCountry: {"GB"}, fieldEmail: {"ada@example.com"}}
}

// createPayment makes a web payment through the API and returns its id and token.
func (f *pagesFixture) createPayment(extra map[string]any) (string, string) {
	body := webPayment(1234)
	maps.Copy(body, extra)
	return f.create(f.a.testKey, body)
}

// apiState is the payment's state as the service sees it.
func (f *pagesFixture) apiState(t *testing.T, id string) map[string]any {
	t.Helper()
	return f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body["state"].(map[string]any)
}

const returnURL = "https://service.example.gov.uk/return"

func TestPagesSuccessfulPayment(t *testing.T) {
	eachPages(t, func(t *testing.T, f *pagesFixture) {
		id, tok := f.createPayment(nil)
		b := f.browser(t)
		r := b.get("/pay/secure/"+tok).want(t, http.StatusSeeOther, "/pay/card_details/"+id)
		cookie := r.header.Get("Set-Cookie")
		for _, attr := range []string{paySessionCookie + "=", "Path=/pay/", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(cookie, attr) {
				t.Fatalf("session cookie %q lacks %s", cookie, attr)
			}
		}
		if strings.Contains(cookie, "Secure") {
			t.Fatalf("session cookie %q is Secure over plain http", cookie)
		}
		if n := f.count("SELECT count(*) FROM pay_sessions WHERE payment_id = ?", id); n != 1 {
			t.Fatalf("%d session rows", n)
		}

		card := b.get("/pay/card_details/"+id).want(t, http.StatusOK).
			has(t, `<html lang="en"`, "Enter card details", "Service A", "A licence", "£12.34",
				`name="cardNo"`, `name="expiryMonth"`, `name="expiryYear"`, `name="cardholderName"`, `name="cvc"`,
				`name="addressLine1"`, `name="addressLine2"`, `name="addressCity"`, `name="addressPostcode"`,
				`name="addressCountry"`, `name="email"`, `<option value="GB" selected>`, "Cancel payment").
			lacks(t, "<script")
		checkPageHeaders(t, card, "")
		if started := f.apiState(t, id)["status"]; started != "started" {
			t.Fatalf("state %v", started)
		}

		b.post("/pay/card_details/"+id, goodCard("4444 3333 2222 1111")).want(t, http.StatusSeeOther, "/pay/card_details/"+id+"/confirm")
		confirm := b.get("/pay/card_details/"+id+"/confirm").want(t, http.StatusOK).
			has(t, "Confirm your payment", "A licence", "£12.34", "1111", "12/30", "Ada Lovelace", "1 Horse Guards Road",
				"SW1A 2HQ", "United Kingdom", "ada@example.com", "Confirm payment").
			lacks(t, "4444333322221111", "4444 3333 2222 1111")
		checkPageHeaders(t, confirm, "https://service.example.gov.uk")

		b.post("/pay/card_details/"+id+"/confirm", url.Values{}).want(t, http.StatusSeeOther, returnURL)
		st := f.apiState(t, id)
		if st["status"] != "success" {
			t.Fatalf("state %v", st)
		}
		got := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200)
		if got.body["email"] != "ada@example.com" || strings.Contains(string(got.raw), "4444333322221111") {
			t.Fatalf("payment %s", got.raw)
		}
		card1 := got.body["card_details"].(map[string]any)
		if card1["last_digits_card_number"] != "1111" || card1["cardholder_name"] != "Ada Lovelace" {
			t.Fatalf("card details %v", card1)
		}

		// Coming back later shows the payment is complete, with a way back to the service.
		b.get("/pay/card_details/"+id).want(t, http.StatusSeeOther, "/pay/card_details/"+id+"/outcome")
		b.get("/pay/card_details/"+id+"/outcome").want(t, http.StatusOK).
			has(t, "This payment is complete", `href="`+returnURL+`"`, "Continue")
		// Confirming again (a double click) sends the payer back to the service, not to an error.
		b.post("/pay/card_details/"+id+"/confirm", url.Values{}).want(t, http.StatusSeeOther, returnURL)
		// Reloading next_url in the browser that used it goes to the payment's page.
		b.get("/pay/secure/"+tok).want(t, http.StatusSeeOther, "/pay/card_details/"+id+"/outcome")
		checkNoCardData(t, f, "4444333322221111", "123")
	})
}

// checkPageHeaders checks a page's caching, referrer and content security policy. formTarget is
// the extra origin its forms may lead to, if any.
func checkPageHeaders(t *testing.T, p served, formTarget string) {
	t.Helper()
	if cc := p.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	if rp := p.header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Fatalf("Referrer-Policy %q", rp)
	}
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'none'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("CSP %q lacks %s", csp, want)
		}
	}
	action := "form-action 'self';"
	if formTarget != "" {
		action = "form-action 'self' " + formTarget + ";"
	}
	if !strings.Contains(csp, action) {
		t.Fatalf("CSP %q lacks %q", csp, action)
	}
	if xfo := p.header.Get("X-Frame-Options"); xfo != "DENY" {
		t.Fatalf("X-Frame-Options %q", xfo)
	}
}

// checkNoCardData checks that no log line and no stored row holds the card number or CVC.
func checkNoCardData(t *testing.T, f *pagesFixture, number, cvc string) {
	t.Helper()
	if logs := f.logs.String(); strings.Contains(logs, number) || strings.Contains(logs, "cvc="+cvc) {
		t.Fatalf("card data in the logs:\n%s", logs)
	}
	for _, table := range []string{"pay_payments", "pay_events", "pay_sessions", "pay_tokens"} {
		rows, err := f.d.Query(f.ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var s string
				switch x := v.(type) {
				case string:
					s = x
				case []byte:
					s = string(x)
				}
				if strings.Contains(s, number) {
					t.Fatalf("%s.%s holds the card number", table, cols[i])
				}
			}
		}
		rows.Close()
	}
}

func TestPagesOutcomes(t *testing.T) {
	eachPages(t, func(t *testing.T, f *pagesFixture) {
		for _, c := range []struct {
			name, number, heading, code string
		}{
			{"declined", "4000000000000002", "Your payment has been declined", "P0010"},
			{"expired card", "4000000000000069", "Your payment has been declined", "P0010"},
			{"provider error", "4000000000000119", "Sorry, we could not take your payment", "P0050"},
			{"unsupported card", "4012888888881881", "Sorry, we could not take your payment", "P0050"},
		} {
			t.Run(c.name, func(t *testing.T) {
				id, tok := f.createPayment(nil)
				b := f.browser(t)
				page := b.start(tok)
				b.post(page, goodCard(c.number)).want(t, http.StatusSeeOther, page+"/outcome")
				b.get(page+"/outcome").want(t, http.StatusOK).
					has(t, c.heading, "No money has been taken from your account.", `href="`+returnURL+`"`, "Continue")
				if st := f.apiState(t, id); st["code"] != c.code {
					t.Fatalf("state %v", st)
				}
				// Nothing else can be done with it: every step leads back to the outcome.
				b.post(page, goodCard("4444333322221111")).want(t, http.StatusSeeOther, page+"/outcome")
				b.get(page+"/confirm").want(t, http.StatusSeeOther, page+"/outcome")
				b.post(page+"/cancel", url.Values{}).want(t, http.StatusSeeOther, page+"/outcome")
				checkNoCardData(t, f, c.number, "123")
			})
		}
	})
}

func TestPagesThreeDSecure(t *testing.T) {
	eachPages(t, func(t *testing.T, f *pagesFixture) {
		t.Run("pass", func(t *testing.T) {
			id, tok := f.createPayment(nil)
			b := f.browser(t)
			page := b.start(tok)
			b.post(page, goodCard(sandbox3DS)).want(t, http.StatusSeeOther, page+"/3ds_required")
			b.get(page).want(t, http.StatusSeeOther, page+"/3ds_required")
			b.get(page+"/3ds_required").want(t, http.StatusOK).
				has(t, "Your bank needs to check it is you", `action="/pay/card_details/`+id+`/3ds_handler"`,
					`value="pass"`, `value="fail"`, ">Pass<", ">Fail<")
			b.post(page+"/3ds_handler", url.Values{"result": {"pass"}}).want(t, http.StatusSeeOther, page+"/confirm")
			// The answer sent twice finds the challenge done and goes on to the same page.
			b.post(page+"/3ds_handler", url.Values{"result": {"fail"}}).want(t, http.StatusSeeOther, page+"/confirm")
			b.post(page+"/confirm", url.Values{}).want(t, http.StatusSeeOther, returnURL)
			got := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body
			if got["state"].(map[string]any)["status"] != "success" || got["authorisation_summary"] == nil {
				t.Fatalf("payment %v", got)
			}
		})
		t.Run("fail", func(t *testing.T) {
			id, tok := f.createPayment(nil)
			b := f.browser(t)
			page := b.start(tok)
			b.post(page, goodCard(sandbox3DS)).want(t, http.StatusSeeOther, page+"/3ds_required")
			b.post(page+"/3ds_handler", url.Values{"result": {"fail"}}).want(t, http.StatusSeeOther, page+"/outcome")
			b.get(page+"/outcome").want(t, http.StatusOK).has(t, "Your payment has been declined")
			if st := f.apiState(t, id); st["code"] != "P0010" {
				t.Fatalf("state %v", st)
			}
		})
	})
}

// bankChallenge is a provider whose 3-D Secure challenge is its bank's own page, as Stripe's
// is: the payer goes there by a link and comes back to ThreeDSReturnURL.
type bankChallenge struct{ Sandbox }

func (bankChallenge) Name() string { return "bank" }

func (bankChallenge) Authorise(_ context.Context, req AuthoriseRequest) (AuthoriseResult, error) {
	return AuthoriseResult{Outcome: ThreeDSRequired, ProviderID: "pi_" + req.PaymentID,
		ThreeDS: &ThreeDSChallenge{URL: "https://bank.example/challenge/" + req.PaymentID}}, nil
}

func (bankChallenge) Authorise3DS(_ context.Context, req ThreeDSRequest) (AuthoriseResult, error) {
	if req.Result.Data["payment_intent"] == req.ProviderID {
		return AuthoriseResult{Outcome: Authorised, ProviderID: req.ProviderID}, nil
	}
	return AuthoriseResult{Outcome: Rejected, ProviderID: req.ProviderID}, nil
}

func TestPagesThreeDSecureAtTheBank(t *testing.T) {
	eachPagesWith(t, map[string]Provider{"bank": bankChallenge{}}, func(t *testing.T, f *pagesFixture) {
		if err := f.svc.SetSettings(f.ctx, f.a.id, Settings{Provider: "bank"}); err != nil {
			t.Fatal(err)
		}
		id, tok := f.create(f.a.liveKey, webPayment(500))
		b := f.browser(t)
		page := b.start(tok)
		b.post(page, goodCard("4242424242424242")).want(t, http.StatusSeeOther, page+"/3ds_required")
		b.get(page+"/3ds_required").want(t, http.StatusOK).
			has(t, `href="https://bank.example/challenge/`+id+`"`, "Continue to your bank").lacks(t, ">Pass<")
		if got := f.svc.ThreeDSReturnURL(id); got != testBaseURL+page+"/3ds_required_in" {
			t.Fatalf("return URL %s", got)
		}
		// Only the payer's browser may come back with the bank's answer.
		f.browser(t).get(page+"/3ds_required_in?payment_intent=pi_"+id).want(t, http.StatusForbidden)
		b.get(page+"/3ds_required_in?payment_intent=pi_"+id).want(t, http.StatusSeeOther, page+"/confirm")
		b.get(page+"/3ds_required_in?payment_intent=pi_"+id).want(t, http.StatusSeeOther, page+"/confirm")
		b.post(page+"/confirm", url.Values{}).want(t, http.StatusSeeOther, returnURL)

		// A sandbox payment never ends its challenge by that address.
		_, tok = f.createPayment(nil)
		page = b.start(tok)
		b.post(page, goodCard(sandbox3DS)).want(t, http.StatusSeeOther, page+"/3ds_required")
		b.get(page+"/3ds_required_in").want(t, http.StatusSeeOther, page+"/3ds_required")
	})
}

func TestPagesCancel(t *testing.T) {
	eachPages(t, func(t *testing.T, f *pagesFixture) {
		t.Run("on the card page", func(t *testing.T) {
			id, tok := f.createPayment(nil)
			b := f.browser(t)
			page := b.start(tok)
			b.get(page).has(t, `action="/pay/card_details/`+id+`/cancel"`)
			b.post(page+"/cancel", url.Values{}).want(t, http.StatusSeeOther, page+"/outcome")
			b.get(page+"/outcome").want(t, http.StatusOK).
				has(t, "Your payment has been cancelled", "No money has been taken", `href="`+returnURL+`"`)
			if st := f.apiState(t, id); st["code"] != "P0030" {
				t.Fatalf("state %v", st)
			}
		})
		t.Run("on the confirm page", func(t *testing.T) {
			id, tok := f.createPayment(nil)
			b := f.browser(t)
			page := b.start(tok)
			b.post(page, goodCard("4242424242424242")).want(t, http.StatusSeeOther, page+"/confirm")
			b.post(page+"/cancel", url.Values{}).want(t, http.StatusSeeOther, page+"/outcome")
			if st := f.status(id); st != StatusUserCancelled {
				t.Fatalf("status %s", st)
			}
			b.post(page+"/confirm", url.Values{}).want(t, http.StatusSeeOther, page+"/outcome")
		})
		t.Run("by the service", func(t *testing.T) {
			id, tok := f.createPayment(nil)
			b := f.browser(t)
			page := b.start(tok)
			f.do("POST", "/v1/payments/"+id+"/cancel", f.a.testKey, nil).want(t, http.StatusNoContent)
			b.post(page, goodCard("4242424242424242")).want(t, http.StatusSeeOther, page+"/outcome")
			b.get(page+"/outcome").want(t, http.StatusOK).has(t, "Your payment has been cancelled")
		})
	})
}

func TestPagesExpiredPayment(t *testing.T) {
	eachPages(t, func(t *testing.T, f *pagesFixture) {
		id, tok := f.createPayment(nil)
		b := f.browser(t)
		page := b.start(tok)
		f.clock.Advance(ExpiryWindow + time.Minute)
		if n, err := f.svc.ExpireAbandoned(f.ctx); err != nil || n != 1 {
			t.Fatalf("expired %d: %v", n, err)
		}
		b.get(page).want(t, http.StatusSeeOther, page+"/outcome")
		b.get(page+"/outcome").want(t, http.StatusOK).
			has(t, "The time to make this payment has run out", "No money has been taken", `href="`+returnURL+`"`)
		// A card sent after the payment expired goes nowhere near the provider.
		b.post(page, goodCard("4242424242424242")).want(t, http.StatusSeeOther, page+"/outcome")
		if st := f.apiState(t, id); st["code"] != "P0020" {
			t.Fatalf("state %v", st)
		}
		// The browser's session outlives the payment only so long.
		f.clock.Advance(paySessionLifetime)
		b.get(page+"/outcome").want(t, http.StatusForbidden).has(t, "This payment link cannot be used again")
	})
}

func TestPagesSessions(t *testing.T) {
	eachPages(t, func(t *testing.T, f *pagesFixture) {
		t.Run("a used token without the session", func(t *testing.T) {
			_, tok := f.createPayment(nil)
			payer := f.browser(t)
			page := payer.start(tok)
			other := f.browser(t)
			other.get("/pay/secure/"+tok).want(t, http.StatusForbidden).
				has(t, "This payment link cannot be used again", "Service A").
				lacks(t, returnURL, "A licence", "£12.34")
			// The payer's own browser still gets in.
			payer.get("/pay/secure/"+tok).want(t, http.StatusSeeOther, page)
		})
		t.Run("an unknown token", func(t *testing.T) {
			b := f.browser(t)
			b.get("/pay/secure/nosuchtoken").want(t, http.StatusNotFound).has(t, "This payment link cannot be used again")
			b.post("/pay/secure", url.Values{"chargeTokenId": {"nosuchtoken"}}).want(t, http.StatusNotFound)
			b.get("/pay/secure/"+strings.Repeat("x", 500)).want(t, http.StatusNotFound)
		})
		t.Run("a HEAD request leaves the token alone", func(t *testing.T) {
			id, tok := f.createPayment(nil)
			b := f.browser(t)
			b.do("HEAD", "/pay/secure/"+tok, nil).want(t, http.StatusOK)
			b.get("/pay/secure/"+tok).want(t, http.StatusSeeOther, "/pay/card_details/"+id)
		})
		t.Run("the cookie is Secure behind TLS", func(t *testing.T) {
			_, tok := f.createPayment(nil)
			r := f.browser(t).do("GET", "/pay/secure/"+tok, nil, "X-Forwarded-Proto", "https").want(t, http.StatusSeeOther)
			if c := r.header.Get("Set-Cookie"); !strings.Contains(c, "; Secure") || !strings.Contains(c, "HttpOnly") {
				t.Fatalf("cookie %q", c)
			}
		})
		t.Run("next_url_post", func(t *testing.T) {
			id, tok := f.createPayment(nil)
			b := f.browser(t)
			b.post("/pay/secure", url.Values{"chargeTokenId": {tok}}).want(t, http.StatusSeeOther, "/pay/card_details/"+id)
			b.get("/pay/card_details/"+id).want(t, http.StatusOK)
		})
		t.Run("next_url_post from a form on the service's own site", func(t *testing.T) {
			id, tok := f.createPayment(nil)
			b := f.browser(t)
			b.do("POST", "/pay/secure", url.Values{"chargeTokenId": {tok}}, "Sec-Fetch-Site", "cross-site").
				want(t, http.StatusSeeOther, "/pay/card_details/"+id)
			// Only the token exchange is open to other sites; the card form is not.
			b.do("POST", "/pay/card_details/"+id, goodCard("4242424242424242"), "Sec-Fetch-Site", "cross-site").
				want(t, http.StatusForbidden)
		})
		t.Run("another browser cannot open the payment", func(t *testing.T) {
			id, tok := f.createPayment(nil)
			payer := f.browser(t)
			page := payer.start(tok)
			_, tok2 := f.createPayment(nil)
			other := f.browser(t)
			other.start(tok2) // a session of its own, for another payment
			for _, path := range []string{page, page + "/confirm", page + "/3ds_required", page + "/outcome", page + "/auth_waiting"} {
				other.get(path).want(t, http.StatusForbidden).lacks(t, "A licence", returnURL)
			}
			other.post(page, goodCard("4242424242424242")).want(t, http.StatusForbidden)
			other.post(page+"/cancel", url.Values{}).want(t, http.StatusForbidden)
			other.post(page+"/confirm", url.Values{}).want(t, http.StatusForbidden)
			if st := f.status(id); st != StatusEnteringCardDetails {
				t.Fatalf("another browser moved the payment to %s", st)
			}
			// Nor can a browser with no session, or with a made-up one.
			f.browser(t).get(page).want(t, http.StatusForbidden)
			forged := f.browser(t)
			u, _ := url.Parse(f.pages.URL + "/pay/")
			forged.client.Jar.SetCookies(u, []*http.Cookie{{Name: paySessionCookie, Value: newSessionID(), Path: "/pay/"}})
			forged.get(page).want(t, http.StatusForbidden)
			f.browser(t).get("/pay/card_details/nosuchpayment").want(t, http.StatusNotFound)
		})
		t.Run("one browser, several payments", func(t *testing.T) {
			b := f.browser(t)
			var pages []string
			for range maxSessionPayments + 1 {
				_, tok := f.createPayment(nil)
				pages = append(pages, b.start(tok))
				f.clock.Advance(time.Second)
			}
			// The newest are all open to it; the oldest has been let go.
			for _, p := range pages[1:] {
				b.get(p).want(t, http.StatusOK)
			}
			b.get(pages[0]).want(t, http.StatusForbidden)
		})
		t.Run("a planted session id does not hold the payment", func(t *testing.T) {
			planted := newSessionID()
			b := f.browser(t)
			u, _ := url.Parse(f.pages.URL + "/pay/")
			b.client.Jar.SetCookies(u, []*http.Cookie{{Name: paySessionCookie, Value: planted, Path: "/pay/"}})
			id, tok := f.createPayment(nil)
			b.start(tok)
			if n := f.count("SELECT count(*) FROM pay_sessions WHERE session_hash = ?", sessionHash(planted)); n != 0 {
				t.Fatalf("the planted session holds %d payments", n)
			}
			b.get("/pay/card_details/"+id).want(t, http.StatusOK)
		})
		t.Run("a form from another site is refused", func(t *testing.T) {
			id, tok := f.createPayment(nil)
			b := f.browser(t)
			page := b.start(tok)
			b.do("POST", page+"/cancel", url.Values{}, "Sec-Fetch-Site", "cross-site").want(t, http.StatusForbidden)
			if st := f.status(id); st != StatusEnteringCardDetails {
				t.Fatalf("status %s", st)
			}
		})
	})
}

// errorSummary returns the links of the page's error summary, in order, as "field: message".
func errorSummary(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<li><a href="#([^"]+)">([^<]+)</a></li>`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+": "+m[2])
	}
	return out
}

func TestPagesValidation(t *testing.T) {
	eachPages(t, func(t *testing.T, f *pagesFixture) {
		id, tok := f.createPayment(nil)
		b := f.browser(t)
		page := b.start(tok)

		empty := b.post(page, url.Values{fieldCountry: {"GB"}}).want(t, http.StatusUnprocessableEntity).
			has(t, "<title>Error: Enter card details", "There is a problem", `class="govuk-error-message"`,
				`aria-describedby="cardNo-hint cardNo-error"`, `aria-describedby="expiry-hint expiry-error"`)
		want := []string{
			"cardNo: Enter your card number", "expiryMonth: Enter the expiry date",
			"cardholderName: Enter the name as it appears on the card", "cvc: Enter the card security code",
			"addressLine1: Enter the first line of your billing address", "addressCity: Enter your town or city",
			"addressPostcode: Enter your postcode", "email: Enter your email address",
		}
		if got := errorSummary(empty.body); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("error summary\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}

		bad := goodCard("4444 3333 2222 1112")
		bad.Set(fieldCVC, "98765")
		bad.Set(fieldName, "Ada 4444 3333 2222 1111")
		bad.Set(fieldPostcode, "SW1A")
		bad.Set(fieldEmail, "ada@example")
		bad.Set(fieldLine2, "Flat 9")
		r := b.post(page, bad).want(t, http.StatusUnprocessableEntity).
			// What the payer typed comes back, except the card number and the security code.
			has(t, `value="Flat 9"`, `value="1 Horse Guards Road"`, `value="ada@example"`, `value="12"`, `value="30"`).
			lacks(t, "4444 3333 2222 1112", "4444333322221112", "98765")
		want = []string{
			"cardNo: Enter a valid card number", "cardholderName: The name on the card must not include a card number",
			"cvc: Card security code must be 3 or 4 digits", "addressPostcode: Enter a real postcode, like SW1A 1AA",
			"email: Enter an email address in the correct format, like name@example.com",
		}
		if got := errorSummary(r.body); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("error summary\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !regexp.MustCompile(`<input[^>]*id="cardNo"[^>]*>`).MatchString(r.body) ||
			regexp.MustCompile(`<input[^>]*id="(cardNo|cvc)"[^>]*value=`).MatchString(r.body) {
			t.Fatalf("the secret fields carry a value:\n%s", r.body)
		}
		if st := f.status(id); st != StatusEnteringCardDetails {
			t.Fatalf("an invalid form moved the payment to %s", st)
		}
		// A form put right goes through.
		b.post(page, goodCard("4444333322221111")).want(t, http.StatusSeeOther, page+"/confirm")
		checkNoCardData(t, f, "4444333322221112", "98765")
	})
}

func TestPagesWelsh(t *testing.T) {
	eachPages(t, func(t *testing.T, f *pagesFixture) {
		id, tok := f.createPayment(map[string]any{"language": "cy"})
		b := f.browser(t)
		page := b.start(tok)
		b.get(page).want(t, http.StatusOK).
			has(t, `<html lang="cy"`, "Rhowch fanylion y cerdyn", "Rhif y cerdyn", "Dyddiad dod i ben", "Enw ar y cerdyn",
				"Cod diogelwch y cerdyn", "Cyfeiriad bilio", "Cyfeiriad e-bost", "Parhau", "Canslo’r taliad",
				"Neidio i’r prif gynnwys", `<option value="GB" selected>Y Deyrnas Unedig</option>`).
			lacks(t, "Enter card details", "Card number", "Skip to main content")
		r := b.post(page, url.Values{fieldCountry: {"GB"}}).want(t, http.StatusUnprocessableEntity).
			has(t, "<title>Gwall: Rhowch fanylion y cerdyn", "Mae problem wedi codi", "Rhowch rif eich cerdyn",
				`<span class="govuk-visually-hidden">Gwall:</span>`)
		if got := errorSummary(r.body); len(got) == 0 || got[0] != "cardNo: Rhowch rif eich cerdyn" {
			t.Fatalf("error summary %v", got)
		}
		b.post(page, goodCard("4444333322221111")).want(t, http.StatusSeeOther, page+"/confirm")
		b.get(page+"/confirm").want(t, http.StatusOK).
			has(t, "Cadarnhewch eich taliad", "Cadarnhau’r taliad", "yn gorffen gyda", "Y Deyrnas Unedig").
			lacks(t, "Confirm your payment")
		b.post(page+"/cancel", url.Values{}).want(t, http.StatusSeeOther, page+"/outcome")
		b.get(page+"/outcome").want(t, http.StatusOK).
			has(t, `<html lang="cy"`, "Mae eich taliad wedi cael ei ganslo", "Nid oes unrhyw arian wedi cael ei gymryd", "Parhau")
		// The "cannot be used again" page speaks the payment's language too.
		f.browser(t).get("/pay/secure/"+tok).want(t, http.StatusForbidden).
			has(t, `<html lang="cy"`, "Nid oes modd defnyddio’r ddolen dalu hon eto")
		if got := f.apiState(t, id); got["code"] != "P0030" {
			t.Fatalf("state %v", got)
		}
	})
}

// TestPagesDoubleSubmit sends the card form twice at once, as a double click does: exactly
// one authorisation happens, and both requests end on a page, not an error.
func TestPagesDoubleSubmit(t *testing.T) {
	eachPages(t, func(t *testing.T, f *pagesFixture) {
		for range 5 {
			id, tok := f.createPayment(nil)
			b := f.browser(t)
			page := b.start(tok)
			var wg sync.WaitGroup
			results := make([]served, 2)
			for i := range results {
				wg.Go(func() { results[i] = b.post(page, goodCard("4444333322221111")) })
			}
			wg.Wait()
			for _, r := range results {
				if r.status != http.StatusSeeOther {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				if r.location != page+"/confirm" && r.location != page+"/auth_waiting" {
					t.Fatalf("sent to %s", r.location)
				}
			}
			if n := f.count("SELECT count(*) FROM pay_events WHERE payment_id = ? AND to_status = ?", id,
				string(StatusAuthorisationReady)); n != 1 {
				t.Fatalf("%d authorisations", n)
			}
			// The page for a payment mid-authorisation waits; once done it moves on.
			b.get(page+"/auth_waiting").want(t, http.StatusSeeOther, page+"/confirm")
			b.post(page, goodCard("4444333322221111")).want(t, http.StatusSeeOther, page+"/confirm")
			// Two confirms at once: both go back to the service; the payment is captured once.
			var confirms [2]served
			for i := range confirms {
				wg.Go(func() { confirms[i] = b.post(page+"/confirm", url.Values{}) })
			}
			wg.Wait()
			for _, r := range confirms {
				r.want(t, http.StatusSeeOther, returnURL)
			}
			if n := f.count("SELECT count(*) FROM pay_events WHERE payment_id = ? AND to_status = ?", id,
				string(StatusCaptureApproved)); n != 1 {
				t.Fatalf("%d capture approvals", n)
			}
		}
	})
}

func TestPagesWaiting(t *testing.T) {
	eachPages(t, func(t *testing.T, f *pagesFixture) {
		id, tok := f.createPayment(map[string]any{"language": "cy"})
		b := f.browser(t)
		page := b.start(tok)
		// A payment whose authorisation is under way, as another request left it.
		if _, err := f.svc.claim(f.ctx, id, []Status{StatusEnteringCardDetails}, StatusAuthorisationReady); err != nil {
			t.Fatal(err)
		}
		b.get(page).want(t, http.StatusSeeOther, page+"/auth_waiting")
		b.get(page+"/auth_waiting").want(t, http.StatusOK).
			has(t, "Rydym yn prosesu eich taliad", `href="`+page+`/auth_waiting"`)
		b.post(page, goodCard("4444333322221111")).want(t, http.StatusSeeOther, page+"/auth_waiting")
	})
}
