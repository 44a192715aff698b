package pay

import (
	"encoding/csv"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/secret"
	"github.com/commons-gov/commons/internal/web"
)

// Pay's console pages and payment link pages, tested the way people use them: through the
// console's real mux and middleware on a real listener, signed in with a browser's cookies, on
// both engines, with payments made through the /v1 API as a service would make them.

// teamSite is the API fixture plus the team console with Pay's pages and the payment link pages.
type teamSite struct {
	*fixture
	site  *httptest.Server
	creds *Credentials
}

// eachTeamSite runs fn on both engines with a fresh site.
func eachTeamSite(t *testing.T, providers map[string]Provider, fn func(t *testing.T, s *teamSite)) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, providers)
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		ring, err := secret.ParseKeyring(secret.Generate())
		if err != nil {
			t.Fatal(err)
		}
		creds := NewCredentials(d, ring)
		con, err := console.New(console.Config{Platform: f.platform, Dev: true, BaseURL: testBaseURL, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		web.MountAssets(mux)
		con.Mount(mux)
		if err := f.svc.MountConsole(mux, con, ConsoleDeps{Credentials: creds, Audit: f.platform}); err != nil {
			t.Fatal(err)
		}
		f.svc.MountLinks(mux, f.platform)
		stack, err := web.Stack(web.StackConfig{Logger: logger, BaseURL: testBaseURL})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(stack(mux))
		t.Cleanup(srv.Close)
		fn(t, &teamSite{fixture: f, site: srv, creds: creds})
	})
}

const teamPassword = "correct horse battery staple"

// member makes a team member of svc with perms (or a platform admin when perms is nil and
// admin is true), signs them in, and returns their browser.
func (s *teamSite) member(email string, admin bool, perms []string, services ...string) *teamBrowser {
	s.t.Helper()
	u, err := s.platform.CreateUser(s.ctx, platform.CLIActor, email, admin)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, id := range services {
		if err := s.platform.AddMember(s.ctx, platform.CLIActor, id, u.ID, perms); err != nil {
			s.t.Fatal(err)
		}
	}
	token, err := s.platform.IssueSignInToken(s.ctx, u.ID, platform.PurposeFirstSignIn, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	b := s.browser()
	b.post("/admin/link/"+token, nil).want(s.t, 200, "Choose a password")
	b.post("/admin/set-password", url.Values{"password": {teamPassword}}).want(s.t, 200, "Your password has been saved")
	return b
}

// browser is a browser with its own cookies that follows redirects within the site.
func (s *teamSite) browser() *teamBrowser {
	s.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &teamBrowser{s: s, client: &http.Client{Jar: jar}}
}

// payer is a browser that stops at redirects, to see where the link pages send it.
func (s *teamSite) payer() *teamBrowser {
	b := s.browser()
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b
}

type teamBrowser struct {
	s      *teamSite
	client *http.Client
}

// teamPage is a response as the person sees it.
type teamPage struct {
	status   int
	path     string
	location string
	header   http.Header
	body     string
}

func (b *teamBrowser) do(req *http.Request) teamPage {
	b.s.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.s.t.Fatal(err)
	}
	return teamPage{status: resp.StatusCode, path: resp.Request.URL.Path, location: resp.Header.Get("Location"),
		header: resp.Header, body: string(body)}
}

func (b *teamBrowser) get(path string) teamPage {
	b.s.t.Helper()
	req, err := http.NewRequest("GET", b.s.site.URL+path, nil)
	if err != nil {
		b.s.t.Fatal(err)
	}
	return b.do(req)
}

// post submits a form from one of our pages, as a browser does (same-origin).
func (b *teamBrowser) post(path string, form url.Values) teamPage {
	b.s.t.Helper()
	req, err := http.NewRequest("POST", b.s.site.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// want fails the test unless the page has the status and contains every string.
func (p teamPage) want(t testing.TB, status int, contains ...string) teamPage {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", p.path, p.status, status, readable(p.body))
	}
	return p.has(t, contains...)
}

func (p teamPage) has(t testing.TB, contains ...string) teamPage {
	t.Helper()
	for _, c := range contains {
		if !strings.Contains(p.body, c) {
			t.Fatalf("%s: page lacks %q\n%s", p.path, c, readable(p.body))
		}
	}
	return p
}

func (p teamPage) lacks(t testing.TB, strs ...string) teamPage {
	t.Helper()
	for _, c := range strs {
		if strings.Contains(p.body, c) {
			t.Fatalf("%s: page shows %q\n%s", p.path, c, readable(p.body))
		}
	}
	return p
}

// find returns the first submatch of pattern, HTML-unescaped.
func (p teamPage) find(t testing.TB, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("%s: no match for %s\n%s", p.path, pattern, readable(p.body))
	}
	return html.UnescapeString(m[1])
}

// summaryFields lists the fields the error summary links to, in order.
func (p teamPage) summaryFields() []string {
	i := strings.Index(p.body, "govuk-error-summary__list")
	if i < 0 {
		return nil
	}
	end := strings.Index(p.body[i:], "</ul>")
	var out []string
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(p.body[i:i+end], -1) {
		out = append(out, m[1])
	}
	return out
}

// csvRows parses a CSV download.
func (p teamPage) csvRows(t testing.TB) [][]string {
	t.Helper()
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("%s: Content-Type %q, want CSV\n%s", p.path, ct, readable(p.body))
	}
	rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatalf("%s: not CSV: %v", p.path, err)
	}
	return rows
}

var (
	markupTags   = regexp.MustCompile(`(?s)<[^>]*>`)
	markupSpaces = regexp.MustCompile(`\s+`)
)

// readable is a page's words without markup, for failure messages people can read.
func readable(body string) string {
	if i := strings.Index(body, `id="main-content"`); i >= 0 {
		body = body[i:]
	}
	return strings.TrimSpace(markupSpaces.ReplaceAllString(markupTags.ReplaceAllString(body, " "), " "))
}

// paymentsURL is the address of a service's Payments pages.
func paymentsURL(serviceID string) string { return "/admin/services/" + serviceID + "/payments" }

// allPaymentPerms are every team permission the Payments pages look at.
var allPaymentPerms = []string{platform.ViewActivity, platform.ManagePayments, platform.RefundPayments, platform.ManageService}
