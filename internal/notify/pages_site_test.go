package notify_test

import (
	"context"
	"encoding/json"
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

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/notify"
	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/ratelimit"
	"github.com/commons-gov/commons/internal/secret"
	"github.com/commons-gov/commons/internal/web"
)

// The console pages are tested the way a person uses them: through the console's real mux and
// middleware on a real listener, signed in with a browser's cookies, on both engines.

func migrateConsolePages(ctx context.Context, d *db.DB) error {
	if err := jobs.Migrate(ctx, d); err != nil {
		return err
	}
	return d.Migrate(ctx, platform.Migrations, outbox.Migrations, ratelimit.Migrations, notify.Migrations)
}

// pagesNow is Notify's clock in these tests: a Thursday afternoon in June, UK summer time.
var pagesNow = time.Date(2025, 6, 12, 14, 30, 0, 0, time.UTC)

// pagesSite is the console with Notify's pages, served as in production.
type pagesSite struct {
	t      *testing.T
	ctx    context.Context
	d      *db.DB
	store  *platform.Store
	notify *notify.Service
	srv    *httptest.Server
	org    platform.Organisation
}

// eachPagesSite runs fn on both engines with a fresh site.
func eachPagesSite(t *testing.T, fn func(t *testing.T, s *pagesSite)) {
	t.Helper()
	keys, err := secret.ParseKeyring(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, migrateConsolePages, func(t *testing.T, d *db.DB) {
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		store := platform.New(d, keys)
		// Messages sent from the console wait in the queue: delivery is not what these tests are about.
		workers := river.NewWorkers()
		river.AddWorker(workers, heldDelivery{})
		river.AddWorker(workers, heldBatch{})
		queue, err := jobs.New(d, jobs.Config{Workers: workers, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		n := notify.New(notify.Config{DB: d, Jobs: queue, Platform: store, Keyring: keys, Logger: logger, Dev: true,
			BaseURL: "http://commons.test"})
		n.Now = func() time.Time { return pagesNow }
		con, err := console.New(console.Config{Platform: store, Dev: true, BaseURL: "http://commons.test", Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		web.MountAssets(mux)
		con.Mount(mux)
		if err := n.MountConsole(mux, con); err != nil {
			t.Fatal(err)
		}
		stack, err := web.Stack(web.StackConfig{Logger: logger, BaseURL: "http://commons.test"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(stack(mux))
		t.Cleanup(srv.Close)
		s := &pagesSite{t: t, ctx: context.Background(), d: d, store: store, notify: n, srv: srv}
		if s.org, err = store.CreateOrganisation(s.ctx, platform.CLIActor, "Department for Testing"); err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
}

// service makes a service in trial mode with the default platform permissions.
func (s *pagesSite) service(name string) platform.Service {
	s.t.Helper()
	svc, err := s.store.CreateService(s.ctx, platform.CLIActor, platform.NewService{Name: name, OrganisationID: s.org.ID})
	if err != nil {
		s.t.Fatal(err)
	}
	return svc
}

const pagesPassword = "correct horse battery staple"

// signIn makes a user, follows their first sign-in link and chooses a password. A user who is
// not an admin is made a member of each service in memberOf with perms.
func (s *pagesSite) signIn(email string, admin bool, perms []string, memberOf ...platform.Service) *pagesBrowser {
	s.t.Helper()
	u, err := s.store.CreateUser(s.ctx, platform.CLIActor, email, admin)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, svc := range memberOf {
		if err := s.store.AddMember(s.ctx, platform.CLIActor, svc.ID, u.ID, perms); err != nil {
			s.t.Fatal(err)
		}
	}
	token, err := s.store.IssueSignInToken(s.ctx, u.ID, platform.PurposeFirstSignIn, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	b := &pagesBrowser{s: s, client: &http.Client{Jar: jar}}
	b.post("/admin/link/"+token, nil).expect(s.t, 200, "Choose a password")
	b.post("/admin/set-password", url.Values{"password": {pagesPassword}}).expect(s.t, 200, "Your password has been saved")
	return b
}

// heldDelivery stands in for delivery's worker, so that sends can be queued.
type heldDelivery struct {
	river.WorkerDefaults[notify.DeliverArgs]
}

func (heldDelivery) Work(context.Context, *river.Job[notify.DeliverArgs]) error { return nil }

// heldBatch stands in for the batch delivery worker.
type heldBatch struct {
	river.WorkerDefaults[notify.DeliverBatchArgs]
}

func (heldBatch) Work(context.Context, *river.Job[notify.DeliverBatchArgs]) error { return nil }

// pagesBrowser is one person's browser: its own cookies, following redirects.
type pagesBrowser struct {
	s      *pagesSite
	client *http.Client
}

// shown is a response as the person sees it.
type shown struct {
	status int
	path   string
	header http.Header
	body   string
}

func (b *pagesBrowser) do(req *http.Request) shown {
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
	return shown{status: resp.StatusCode, path: resp.Request.URL.Path, header: resp.Header, body: string(body)}
}

func (b *pagesBrowser) get(path string) shown {
	b.s.t.Helper()
	req, err := http.NewRequest("GET", b.s.srv.URL+path, nil)
	if err != nil {
		b.s.t.Fatal(err)
	}
	return b.do(req)
}

// post submits a form from one of our pages, as a browser does (same-origin).
func (b *pagesBrowser) post(path string, form url.Values) shown {
	b.s.t.Helper()
	req, err := http.NewRequest("POST", b.s.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// expect fails the test unless the page has the status and contains every string.
func (p shown) expect(t *testing.T, status int, contains ...string) shown {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", p.path, p.status, status, pageText(p.body))
	}
	for _, c := range contains {
		if !strings.Contains(p.body, c) {
			t.Fatalf("%s: page lacks %q\n%s", p.path, c, pageText(p.body))
		}
	}
	return p
}

// has fails the test unless the page contains every string.
func (p shown) has(t *testing.T, strs ...string) shown {
	t.Helper()
	return p.expect(t, p.status, strs...)
}

// lacks fails the test if the page contains any of the strings.
func (p shown) lacks(t *testing.T, strs ...string) shown {
	t.Helper()
	for _, c := range strs {
		if strings.Contains(p.body, c) {
			t.Fatalf("%s: page shows %q\n%s", p.path, c, pageText(p.body))
		}
	}
	return p
}

// at fails the test unless the browser ended up on path.
func (p shown) at(t *testing.T, path string) shown {
	t.Helper()
	if p.path != path {
		t.Fatalf("ended at %s, want %s\n%s", p.path, path, pageText(p.body))
	}
	return p
}

// find returns the first submatch of pattern, HTML-unescaped, failing when there is none.
func (p shown) find(t *testing.T, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("%s: no match for %s\n%s", p.path, pattern, pageText(p.body))
	}
	return html.UnescapeString(m[1])
}

// errorLinks lists the fields the error summary links to, in order.
func (p shown) errorLinks() []string {
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

var (
	pageTags   = regexp.MustCompile(`(?s)<[^>]*>`)
	pageSpaces = regexp.MustCompile(`\s+`)
)

// pageText is a page's words without markup, for failure messages people can read.
func pageText(body string) string {
	if i := strings.Index(body, `id="main-content"`); i >= 0 {
		body = body[i:]
	}
	return strings.TrimSpace(pageSpaces.ReplaceAllString(pageTags.ReplaceAllString(body, " "), " "))
}

// sentRow describes a notification to store directly, as sending and delivery would have.
type sentRow struct {
	ID, ServiceID, Type, Status, To, Reference, Subject, Body, ReplyTo, Postage string
	KeyType                                                                     apiauth.KeyType
	CreatedAt                                                                   time.Time
	TemplateID                                                                  string
	Personalisation                                                             map[string]any
}

// insertSent stores a notification and its first status event.
func (s *pagesSite) insertSent(n sentRow) {
	s.t.Helper()
	if n.KeyType == "" {
		n.KeyType = apiauth.Live
	}
	if n.TemplateID == "" {
		n.TemplateID = "00000000-0000-4000-8000-000000000000"
	}
	if n.Body == "" {
		n.Body = "Hello"
	}
	personalisation, err := json.Marshal(n.Personalisation)
	if err != nil {
		s.t.Fatal(err)
	}
	normalised := strings.ToLower(n.To)
	if n.Type == "sms" {
		normalised = strings.NewReplacer(" ", "", "+", "").Replace(n.To)
		if strings.HasPrefix(normalised, "07") {
			normalised = "44" + normalised[1:]
		}
	}
	nullable := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	if _, err := s.d.Exec(s.ctx, `INSERT INTO notify_notifications (id, service_id, template_id, template_version,
		notification_type, key_type, recipient, normalised_to, personalisation, client_reference, status, subject, body,
		postage, reply_to, created_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.ID, n.ServiceID, n.TemplateID, n.Type, string(n.KeyType), n.To, normalised, string(personalisation),
		nullable(n.Reference), n.Status, nullable(n.Subject), n.Body, nullable(n.Postage), nullable(n.ReplyTo),
		n.CreatedAt.UTC()); err != nil {
		s.t.Fatal(err)
	}
	s.statusEvent(n.ID, n.ServiceID, notify.StatusCreated, "", n.CreatedAt)
}

func (s *pagesSite) statusEvent(id, serviceID, status, detail string, at time.Time) {
	s.t.Helper()
	if _, err := s.d.Exec(s.ctx, `INSERT INTO notify_status_events (notification_id, service_id, status, detail, created_at)
		VALUES (?, ?, ?, ?, ?)`, id, serviceID, status, detail, at.UTC()); err != nil {
		s.t.Fatal(err)
	}
}
