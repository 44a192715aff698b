package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/secret"
	"github.com/commons-gov/commons/internal/web"
)

func migrate(ctx context.Context, d *db.DB) error {
	if err := d.Migrate(ctx, platform.Migrations); err != nil {
		return err
	}
	return d.Migrate(ctx, outbox.Migrations)
}

// clock is a settable clock, so that authenticator codes can move to the next 30-second step
// without the test waiting for it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// site is the console served through the real middleware stack, on a real listener.
type site struct {
	t     *testing.T
	ctx   context.Context
	store *platform.Store
	box   *outbox.Store
	d     *db.DB
	clock *clock
	srv   *httptest.Server
}

// each runs fn on both engines with a fresh console.
func each(t *testing.T, requireTOTP bool, fn func(t *testing.T, s *site)) {
	t.Helper()
	keys, err := secret.ParseKeyring(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		store := platform.New(d, keys)
		c := &clock{t: time.Now().UTC().Truncate(time.Second)}
		store.Now = c.Now
		box := outbox.New(d)
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		con, err := console.New(console.Config{Platform: store, Dev: true, BaseURL: "http://commons.test",
			Logger: logger, RequireTOTPForAdmins: requireTOTP, Outbox: box})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		web.MountAssets(mux)
		con.Mount(mux)
		stack, err := web.Stack(web.StackConfig{Logger: logger, BaseURL: "http://commons.test"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(stack(mux))
		t.Cleanup(srv.Close)
		fn(t, &site{t: t, ctx: context.Background(), store: store, box: box, d: d, clock: c, srv: srv})
	})
}

// browser is one person's browser: its own cookies, following redirects as browsers do.
type browser struct {
	s      *site
	client *http.Client
}

func (s *site) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &browser{s: s, client: &http.Client{Jar: jar}}
}

// page is a response as the person would see it: where they ended up, and what it says.
type page struct {
	status int
	path   string
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.s.t.Helper()
	req.Header.Set("Accept", "text/html")
	resp, err := b.client.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.s.t.Fatal(err)
	}
	return page{status: resp.StatusCode, path: resp.Request.URL.Path, body: string(body)}
}

func (b *browser) get(path string) page {
	b.s.t.Helper()
	req, err := http.NewRequest("GET", b.s.srv.URL+path, nil)
	if err != nil {
		b.s.t.Fatal(err)
	}
	return b.do(req)
}

// post submits a form from one of our own pages, as a browser does (same-origin).
func (b *browser) post(path string, form url.Values) page {
	b.s.t.Helper()
	return b.postFrom(path, form, "same-origin")
}

func (b *browser) postFrom(path string, form url.Values, fetchSite string) page {
	b.s.t.Helper()
	req, err := http.NewRequest("POST", b.s.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", fetchSite)
	return b.do(req)
}

// expect fails the test unless the page has the status and contains every string.
func (p page) expect(t *testing.T, status int, contains ...string) page {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", p.path, p.status, status, text(p.body))
	}
	for _, c := range contains {
		if !strings.Contains(p.body, c) {
			t.Fatalf("%s: page lacks %q\n%s", p.path, c, text(p.body))
		}
	}
	return p
}

// at fails the test unless the browser ended up on path.
func (p page) at(t *testing.T, path string) page {
	t.Helper()
	if p.path != path {
		t.Fatalf("ended at %s, want %s\n%s", p.path, path, text(p.body))
	}
	return p
}

var (
	tags   = regexp.MustCompile(`(?s)<[^>]*>`)
	spaces = regexp.MustCompile(`\s+`)
)

// text is a page's words without markup, for failure messages people can read.
func text(body string) string {
	if i := strings.Index(body, `id="main-content"`); i >= 0 {
		body = body[i:]
	}
	return strings.TrimSpace(spaces.ReplaceAllString(tags.ReplaceAllString(body, " "), " "))
}

// find returns the first submatch of pattern in a page, failing when there is none.
func (p page) find(t *testing.T, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("%s: no match for %s\n%s", p.path, pattern, text(p.body))
	}
	return m[1]
}
