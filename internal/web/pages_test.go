package web

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/commons-gov/commons/internal/failure"
)

var testTemplates = fstest.MapFS{
	"shared/nav.tmpl": {Data: []byte(`{{define "navigation"}}<nav class="test-nav">Test nav</nav>{{end}}`)},
	"hello.tmpl":      {Data: []byte(`{{define "title"}}Hello{{end}}{{define "content"}}<h1 class="govuk-heading-l">Hello {{.Data}}</h1>{{end}}`)},
	"broken.tmpl":     {Data: []byte(`{{define "title"}}Broken{{end}}{{define "content"}}<p>half a page</p>{{.Data.Missing}}{{end}}`)},
	"form.tmpl": {Data: []byte(`{{define "title"}}Your details{{end}}{{define "content"}}
{{template "error-summary" .Data}}
<form method="post" novalidate>
{{template "input" (field .Data "email" "Email address" "type" "email" "hint" "We will write to you")}}
{{template "password" (field .Data "password" "Password")}}
{{template "radios" (field .Data "kind" "Kind" "options" kinds)}}
{{template "checkboxes" (field .Data "perms" "Permissions" "options" kinds)}}
{{template "button" "Continue"}}
</form>{{end}}`)},
}

func testPages(t *testing.T) *Pages {
	t.Helper()
	p, err := NewPages(PagesConfig{
		Templates:   testTemplates,
		Logger:      slog.New(slog.DiscardHandler),
		ServiceName: "Test console",
		ServiceURL:  "/test",
		Funcs: map[string]any{"kinds": func() []Option {
			return []Option{{Value: "a", Label: "Apple", Hint: "Crunchy"}, {Value: "b", Label: "Banana"}}
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func render(t *testing.T, p *Pages, name string, data any) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	p.Render(rec, httptest.NewRequest("GET", "/test", nil), 200, name, data)
	return rec
}

func TestRenderUsesSharedLayout(t *testing.T) {
	rec := render(t, testPages(t), "hello", "<world>")
	body := rec.Body.String()
	for _, want := range []string{
		"<title>Hello – Test console – Commons</title>", `class="govuk-skip-link"`, "govuk-phase-banner",
		`<nav class="test-nav">`, `id="main-content"`, "Hello &lt;world&gt;", "govuk-footer", "Commons</a>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "<script >") {
		t.Error("page has an inline script, which the CSP forbids")
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("cache control %q", rec.Header().Get("Cache-Control"))
	}
}

func TestRenderFailureGivesClean500(t *testing.T) {
	rec := render(t, testPages(t), "broken", "a string has no fields")
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "half a page") {
		t.Fatal("half-rendered page was sent")
	}
	if !strings.Contains(body, "Sorry, there is a problem with the service") {
		t.Fatalf("error page missing: %s", body)
	}
	if rec := render(t, testPages(t), "no-such-page", nil); rec.Code != 500 {
		t.Fatalf("unknown page: %d", rec.Code)
	}
}

func TestFormRedisplayWithErrors(t *testing.T) {
	p := testPages(t)
	req := httptest.NewRequest("POST", "/test", strings.NewReader(url.Values{
		"email": {"  not-an-email "}, "password": {"hunter2"}, "kind": {"b"}, "perms": {"a", "b"},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	form, err := ParseForm(rec, req)
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("email") != "not-an-email" || form.Raw("password") != "hunter2" {
		t.Fatalf("values %q %q", form.Get("email"), form.Raw("password"))
	}
	form.AddError("email", "Enter an email address in the correct format")
	form.Fail(failure.Field("password", "Password is too short"), "email")
	form.AddError("email", "a second message is ignored")
	p.Render(rec, req, http.StatusUnprocessableEntity, "form", form)
	body := rec.Body.String()
	for _, want := range []string{
		"<title>Error: Your details", `govuk-error-summary`,
		`<a href="#email">Enter an email address in the correct format</a>`,
		`<a href="#password">Password is too short</a>`,
		`value="not-an-email"`, `govuk-input--error`, `aria-describedby="email-hint email-error"`,
		`id="kind-2" name="kind" type="radio" value="b" checked`,
		`id="perms" name="perms" type="checkbox" value="a" checked`,
		`aria-describedby="kind-item-hint"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "hunter2") {
		t.Error("the password was redisplayed")
	}
	if strings.Contains(body, "a second message") {
		t.Error("a field showed two errors")
	}
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("status %d", rec.Code)
	}
}

func TestFormFailLeavesOtherKindsToTheHandler(t *testing.T) {
	f := NewForm()
	if f.Fail(failure.New(failure.NotFound, "gone"), "x") || f.HasErrors() {
		t.Fatal("a NotFound failure became a form error")
	}
	if !f.Fail(failure.New(failure.Conflict, "Name already used"), "name") || f.Error("name") != "Name already used" {
		t.Fatalf("conflict not shown on the form: %v", f.Errors())
	}
	var nilForm *Form
	if nilForm.HasErrors() || nilForm.Get("x") != "" || nilForm.Error("x") != "" {
		t.Fatal("a nil form is not empty")
	}
}

func TestPageHandlerErrorPages(t *testing.T) {
	p := testPages(t)
	cases := []struct {
		err     error
		status  int
		heading string
	}{
		{failure.New(failure.NotFound, "no such service"), 404, "Page not found"},
		{failure.New(failure.Forbidden, "You cannot manage this service"), 403, "You do not have permission"},
		{errors.New("boom"), 500, "Sorry, there is a problem with the service"},
		{failure.New(failure.Unavailable, "down"), 503, "Sorry, the service is unavailable"},
	}
	for _, c := range cases {
		h := Chain(p.Handler(func(w http.ResponseWriter, r *http.Request) error { return c.err }), RequestID)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/test", nil))
		body := rec.Body.String()
		if rec.Code != c.status || !strings.Contains(body, c.heading) {
			t.Errorf("%v: %d, want %d %q", c.err, rec.Code, c.status, c.heading)
		}
		if !strings.Contains(body, `<nav class="test-nav">`) {
			t.Errorf("%v: error page lacks the platform navigation", c.err)
		}
		if strings.Contains(body, "boom") {
			t.Error("internal cause shown")
		}
		if hasRef := strings.Contains(body, rec.Header().Get(HeaderRequestID)); hasRef != (c.status >= 500) {
			t.Errorf("%v: reference shown=%v", c.err, hasRef)
		}
	}
}

func TestFlashShownOnce(t *testing.T) {
	p := testPages(t)
	set := httptest.NewRecorder()
	SetFlash(set, httptest.NewRequest("POST", "/", nil), "Key revoked")
	req := httptest.NewRequest("GET", "/test", nil)
	for _, c := range set.Result().Cookies() {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	p.Render(rec, req, 200, "hello", "x")
	if !strings.Contains(rec.Body.String(), "govuk-notification-banner--success") || !strings.Contains(rec.Body.String(), "Key revoked") {
		t.Fatalf("flash not shown: %s", rec.Body)
	}
	cleared := rec.Result().Cookies()
	if len(cleared) != 1 || cleared[0].MaxAge >= 0 {
		t.Fatalf("flash not cleared: %v", cleared)
	}
}

func TestAssetsServedWithCacheHeaders(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET "+AssetPrefix, Assets())
	url := loadAssets().url("commons.css")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || !strings.Contains(string(body), ".commons-code") {
		t.Fatalf("%s: %d", url, rec.Code)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Fatalf("cache control %q", cc)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Fatalf("content type %q", ct)
	}
	for _, missing := range []string{"/assets/", "/assets/nothing.css", "/assets/../web.go"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", missing, nil))
		if rec.Code == 200 {
			t.Errorf("%s: %d", missing, rec.Code)
		}
	}
}
