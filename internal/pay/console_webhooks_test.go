package pay

import (
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
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// The webhook pages as a team member uses them: the console's real mux and middleware on a
// real listener, signed in with a browser's cookies, on both engines.

// webhookSite is the console with the webhook pages.
type webhookSite struct {
	*webhookFixture
	srv *httptest.Server
}

func eachWebhookSite(t *testing.T, fn func(t *testing.T, s *webhookSite)) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		con, err := console.New(console.Config{Platform: f.platform, Dev: true, BaseURL: "http://commons.test", Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		web.MountAssets(mux)
		con.Mount(mux)
		if err := f.svc.MountWebhookConsole(mux, con); err != nil {
			t.Fatal(err)
		}
		stack, err := web.Stack(web.StackConfig{Logger: logger, BaseURL: "http://commons.test"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(stack(mux))
		t.Cleanup(srv.Close)
		fn(t, &webhookSite{webhookFixture: f, srv: srv})
	})
}

// webhookBrowser is one person's browser: its own cookies, following redirects.
type webhookBrowser struct {
	s      *webhookSite
	client *http.Client
}

// webhookPage is a response as the person sees it.
type webhookPage struct {
	status int
	path   string
	body   string
}

// signIn makes a team member of serviceID with perms and signs them in.
func (s *webhookSite) signIn(email, serviceID string, perms ...string) *webhookBrowser {
	s.t.Helper()
	u, err := s.platform.CreateUser(s.ctx, platform.CLIActor, email, false)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.platform.AddMember(s.ctx, platform.CLIActor, serviceID, u.ID, perms); err != nil {
		s.t.Fatal(err)
	}
	token, err := s.platform.IssueSignInToken(s.ctx, u.ID, platform.PurposeFirstSignIn, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	b := &webhookBrowser{s: s, client: &http.Client{Jar: jar}}
	b.post("/admin/link/"+token, nil).expect(s.t, http.StatusOK, "Choose a password")
	b.post("/admin/set-password", url.Values{"password": {"correct horse battery staple"}}).expect(s.t, http.StatusOK, "Your password has been saved")
	return b
}

func (b *webhookBrowser) do(req *http.Request) webhookPage {
	b.s.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return webhookPage{status: resp.StatusCode, path: resp.Request.URL.Path, body: string(body)}
}

func (b *webhookBrowser) get(path string) webhookPage {
	b.s.t.Helper()
	req, err := http.NewRequest("GET", b.s.srv.URL+path, nil)
	if err != nil {
		b.s.t.Fatal(err)
	}
	return b.do(req)
}

// post submits a form from one of our pages, as a browser does (same-origin).
func (b *webhookBrowser) post(path string, form url.Values) webhookPage {
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
func (p webhookPage) expect(t testing.TB, status int, contains ...string) webhookPage {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", p.path, p.status, status, p.body)
	}
	for _, c := range contains {
		if !strings.Contains(html.UnescapeString(p.body), c) {
			t.Fatalf("%s: page lacks %q\n%s", p.path, c, p.body)
		}
	}
	return p
}

// find returns the first submatch of pattern, failing when there is none.
func (p webhookPage) find(t testing.TB, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("%s: no match for %s\n%s", p.path, pattern, p.body)
	}
	return html.UnescapeString(m[1])
}

func TestWebhookPages(t *testing.T) {
	eachWebhookSite(t, func(t *testing.T, s *webhookSite) {
		b := s.signIn("ada@example.gov.uk", s.a.id, platform.ManageService)
		base := "/admin/services/" + s.a.id + "/payment-webhooks"
		b.get(base).expect(t, http.StatusOK, "Payment webhooks", "The service has no webhooks yet", "Payers are not emailed")

		// A form with mistakes says what they are, next to the fields.
		bad := b.post(base+"/new", url.Values{"mode": {"test"}, "callback_url": {"http://hooks.example.com/"}})
		bad.expect(t, http.StatusUnprocessableEntity, "There is a problem", "Callback URL must start with https://",
			"Choose at least one event type")
		b.post(base+"/new", url.Values{"mode": {"live"}, "callback_url": {"https://hooks.example.com/"},
			"subscriptions": {EventCardPaymentFailed}}).expect(t, http.StatusUnprocessableEntity, "Live webhooks can only call addresses on gov.uk")

		made := b.post(base+"/new", url.Values{"mode": {"test"}, "callback_url": {"https://hooks.example.com/pay"},
			"description": {"Case system"}, "subscriptions": {EventCardPaymentSucceeded, EventCardPaymentFailed}})
		made.expect(t, http.StatusOK, "Webhook made", "https://hooks.example.com/pay", "Payment succeeded", "Payment failed",
			"Webhook for test payments", "No messages have been sent")
		id := strings.TrimPrefix(made.path, base+"/")
		if !validID(id) {
			t.Fatalf("landed on %s", made.path)
		}

		secretPage := b.get(base+"/"+id+"/signing-secret").expect(t, http.StatusOK, "Signing secret", "Pay-Signature")
		first := secretPage.find(t, `id="signing-secret">([^<]+)<`)
		if want, _ := s.svc.WebhookSecret(s.ctx, s.a.id, id); first != want || !strings.HasPrefix(first, "webhook_test_") {
			t.Fatalf("page shows %q", first)
		}
		rotated := b.post(base+"/"+id+"/signing-secret", nil).expect(t, http.StatusOK, "New signing secret made")
		if second := rotated.find(t, `id="signing-secret">([^<]+)<`); second == first {
			t.Fatal("secret unchanged")
		}

		// The delivery log shows each attempt and what the service answered.
		_, tok := s.create(s.a.testKey, webPayment(100))
		s.pay(tok, "4444333322221111")
		ids, _ := s.messages(id)
		s.receiver.answer(http.StatusBadGateway)
		_ = s.deliver(ids[0], 1)
		b.get(base+"/"+id).expect(t, http.StatusOK, "Delivery attempts", "Failed", "HTTP 502", "Payment succeeded")

		b.get(base+"/"+id+"/edit").expect(t, http.StatusOK, "Change a webhook", "Case system")
		b.post(base+"/"+id+"/edit", url.Values{"callback_url": {"https://hooks.example.com/v2"}, "description": {"Finance"},
			"subscriptions": {EventCardPaymentCaptured}}).expect(t, http.StatusOK, "Webhook saved", "https://hooks.example.com/v2",
			"Finance", "Payment captured")
		b.post(base+"/"+id+"/status", url.Values{"status": {"inactive"}}).expect(t, http.StatusOK, "Webhook turned off", "Inactive", "Turn on")
		b.post(base+"/"+id+"/status", url.Values{"status": {"active"}}).expect(t, http.StatusOK, "Webhook turned on", "Turn off")

		b.post(base+"/confirmation-email", url.Values{"enabled": {"yes"}}).expect(t, http.StatusUnprocessableEntity,
			"Enter the id of the Notify email template to send")
		b.post(base+"/confirmation-email", url.Values{"enabled": {"yes"}, "template_id": {confirmationTemplate}}).
			expect(t, http.StatusOK, "Confirmation email saved", "Payers are emailed when a payment succeeds", confirmationTemplate)

		// Another service's webhook is not found from this service's pages; another service's
		// pages are not found at all; without manage_service the pages are forbidden.
		other, _ := s.webhook(s.b.id, false, "https://b.example.com/", EventCardPaymentFailed)
		for _, path := range []string{base + "/" + other.ID, base + "/" + other.ID + "/signing-secret", base + "/" + other.ID + "/edit"} {
			if p := b.get(path); p.status != http.StatusNotFound || strings.Contains(p.body, "b.example.com") {
				t.Fatalf("%s: status %d", path, p.status)
			}
		}
		if p := b.post(base+"/"+other.ID+"/signing-secret", nil); p.status != http.StatusNotFound {
			t.Fatalf("rotated another service's secret: %d", p.status)
		}
		if p := b.get("/admin/services/" + s.b.id + "/payment-webhooks"); p.status != http.StatusNotFound {
			t.Fatalf("another service's pages: %d", p.status)
		}
		viewer := s.signIn("bob@example.gov.uk", s.a.id, platform.ViewActivity)
		if p := viewer.get(base + "/" + id + "/signing-secret"); p.status != http.StatusForbidden {
			t.Fatalf("without manage_service: %d", p.status)
		}
	})
}
