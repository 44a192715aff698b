package notify

import (
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/web"
)

// The download pages for files sent by email, tested through the real /v2 send path, the
// real pages and the web kit's middleware stack, on each engine.

// docFixture is the /v2 fixture with Notify's API, the download pages and the cancel
// endpoint served behind the standard middleware stack, service A's contact link set, and a
// browser-like client that keeps cookies and shows redirects rather than following them.
type docFixture struct {
	*v2Fixture
	template Template
	browser  *http.Client
}

func newDocFixture(t *testing.T, d *db.DB) *docFixture {
	t.Helper()
	f := newV2Fixture(t, d)
	mux := http.NewServeMux()
	f.svc.Mount(mux)
	f.svc.MountDocuments(mux)
	stack, err := web.Stack(web.StackConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BaseURL: "http://commons.test"})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(stack(mux))
	t.Cleanup(f.srv.Close)
	st := DefaultSettings(f.a.id)
	st.ContactLink = "https://example.gov.uk/contact"
	if err := f.svc.SaveSettings(f.ctx, st); err != nil {
		t.Fatal(err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &docFixture{v2Fixture: f,
		template: f.template(f.a.id, TemplateInput{Name: "File", Type: Email, Subject: "Your file", Content: "Download it: ((link))"}),
		browser:  &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

func eachDocs(t *testing.T, fn func(t *testing.T, f *docFixture)) {
	dbtest.Each(t, migrateV2, func(t *testing.T, d *db.DB) { fn(t, newDocFixture(t, d)) })
}

// sentFile is a file sent by email: its notification, its document and the link's path and
// query on the test server.
type sentFile struct {
	notificationID, documentID, link string
}

// sendFile sends service A's file template to `to` with file as the link's personalisation.
func (f *docFixture) sendFile(t *testing.T, to string, file map[string]any) sentFile {
	t.Helper()
	r := f.do("POST", "/v2/notifications/email", f.a.liveKey, map[string]any{"email_address": to,
		"template_id": f.template.ID, "personalisation": map[string]any{"link": file}})
	r.want(t, http.StatusCreated)
	body := r.body["content"].(map[string]any)["body"].(string)
	u, err := url.Parse(strings.TrimPrefix(body, "Download it: "))
	if err != nil || u.Host != "commons.test" {
		t.Fatalf("email body %q has no download link", body)
	}
	return sentFile{notificationID: r.body["id"].(string), documentID: strings.TrimPrefix(u.Path, "/d/"), link: u.RequestURI()}
}

func (s sentFile) fileLink() string { return strings.Replace(s.link, "?", "/file?", 1) }

// pageResponse is what the browser got.
type pageResponse struct {
	status int
	header http.Header
	body   string
}

// get and post act as the browser; extra headers go on the request.
func (f *docFixture) get(t *testing.T, path string, header ...string) pageResponse {
	t.Helper()
	return f.visit(t, "GET", path, nil, header...)
}

func (f *docFixture) post(t *testing.T, path string, form url.Values, header ...string) pageResponse {
	t.Helper()
	return f.visit(t, "POST", path, form, header...)
}

func (f *docFixture) visit(t *testing.T, method, path string, form url.Values, header ...string) pageResponse {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return pageResponse{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

func (p pageResponse) want(t *testing.T, status int, texts ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d; body %s", p.status, status, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.body)
		}
	}
}

func (p pageResponse) lacks(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(p.body, s) {
			t.Fatalf("page shows %q:\n%s", s, p.body)
		}
	}
}

func (f *docFixture) failedAttempts(t *testing.T, documentID string) int {
	t.Helper()
	return f.count("SELECT failed_attempts FROM notify_documents WHERE id = ?", documentID)
}

const invalidLinkHeading = "This link has expired or is not valid"

var reportCSV = []byte("a,b\n1,2\n")

func csvFile(extra map[string]any) map[string]any {
	file := map[string]any{"file": base64.StdEncoding.EncodeToString(reportCSV), "filename": "report.csv"}
	for k, v := range extra {
		file[k] = v
	}
	return file
}

// A file sent without confirm_email_before_download opens straight on the download page, and
// downloads as an attachment with its own type.
func TestDocumentDownloadWithoutConfirmation(t *testing.T) {
	eachDocs(t, func(t *testing.T, f *docFixture) {
		sent := f.sendFile(t, "person@example.com", csvFile(map[string]any{"confirm_email_before_download": false, "retention_period": "2 weeks"}))
		page := f.get(t, sent.link)
		page.want(t, http.StatusOK, "<h1 class=\"govuk-heading-l\">Download your file</h1>", "Service A sent you a file.",
			`href="`+strings.ReplaceAll(sent.fileLink(), "&", "&amp;")+`"`, "Download report.csv (CSV file, 8 bytes)",
			"You can download it until 26 May 2026 at 10:30am.",
			`Contact Service A:`, `<a class="govuk-link" href="https://example.gov.uk/contact">`)
		if page.header.Get("Referrer-Policy") != "no-referrer" || page.header.Get("Cache-Control") != "no-store" ||
			!strings.Contains(page.header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Fatalf("page headers %v", page.header)
		}
		file := f.get(t, sent.fileLink())
		file.want(t, http.StatusOK)
		if file.body != string(reportCSV) {
			t.Fatalf("file %q, want %q", file.body, reportCSV)
		}
		for h, want := range map[string]string{
			"Content-Type": "text/csv", "Content-Disposition": `attachment; filename="report.csv"`,
			"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Content-Length": "8",
			"Content-Security-Policy": "default-src 'none'; sandbox", "Referrer-Policy": "no-referrer",
		} {
			if got := file.header.Get(h); got != want {
				t.Errorf("%s: %q, want %q", h, got, want)
			}
		}
		// A file sent without a name is saved as "file" with its type's extension.
		pdf := "%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
		unnamed := f.sendFile(t, "person@example.com", map[string]any{"file": base64.StdEncoding.EncodeToString([]byte(pdf)),
			"confirm_email_before_download": false})
		f.get(t, unnamed.link).want(t, http.StatusOK, "Download file.pdf (PDF, ")
		got := f.get(t, unnamed.fileLink())
		if got.body != pdf || got.header.Get("Content-Type") != "application/pdf" ||
			got.header.Get("Content-Disposition") != `attachment; filename="file.pdf"` {
			t.Fatalf("unnamed file: %v %q", got.header, got.body)
		}
	})
}

// A link with an unknown id, a wrong or missing key, or a file past its retention leads to
// one page that names neither the file nor its sender; the retention job deletes files whose
// own retention has ended, and only those.
func TestDocumentInvalidAndExpiredLinks(t *testing.T) {
	eachDocs(t, func(t *testing.T, f *docFixture) {
		short := f.sendFile(t, "person@example.com", csvFile(map[string]any{"retention_period": "1 week", "confirm_email_before_download": false}))
		long := f.sendFile(t, "person@example.com", csvFile(map[string]any{"retention_period": "4 weeks", "confirm_email_before_download": false}))
		wrongKey := "/d/" + short.documentID + "?key=" + strings.Repeat("A", 32)
		for _, path := range []string{
			wrongKey, "/d/" + short.documentID, "/d/" + short.documentID + "?key=",
			"/d/" + uuid.NewString() + "?key=abc", "/d/not-a-uuid?key=abc",
			"/d/" + short.documentID + "/file?key=" + strings.Repeat("A", 32), "/d/" + short.documentID + "/file",
		} {
			p := f.get(t, path)
			p.want(t, http.StatusNotFound, invalidLinkHeading)
			p.lacks(t, "Service A", "report.csv", "example.gov.uk")
		}
		f.post(t, "/d/"+short.documentID, url.Values{"key": {"wrong"}, "email_address": {"person@example.com"}}).want(t, http.StatusNotFound, invalidLinkHeading)
		f.get(t, "/d/").want(t, http.StatusOK, "To download a file, use the link in the email you were sent.")

		// Eight days on: past the one-week file's retention, and past the service's 7 days of
		// email retention (counted in whole London days).
		f.clock.Advance(8 * 24 * time.Hour)
		for _, path := range []string{short.link, short.fileLink()} {
			p := f.get(t, path)
			p.want(t, http.StatusGone, invalidLinkHeading)
			p.lacks(t, "Service A", "report.csv")
		}
		// Past its retention and with a wrong key, it is just not found.
		f.get(t, wrongKey).want(t, http.StatusNotFound, invalidLinkHeading)
		f.get(t, long.link).want(t, http.StatusOK, "Download your file")

		delivery, err := NewDelivery(f.svc, DeliveryConfig{Email: &recordingEmail{}, SMS: &recordingSMS{}, EmailDomain: "notify.example.gov.uk"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := delivery.PurgeExpired(f.ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.count("SELECT count(*) FROM notify_documents WHERE id = ?", short.documentID); n != 0 {
			t.Fatal("the expired file was not deleted")
		}
		f.get(t, short.link).want(t, http.StatusNotFound, invalidLinkHeading)
		// The email itself is past the service's 7 days and gone; its file keeps its own 4 weeks.
		if n := f.count("SELECT count(*) FROM notify_notifications WHERE id = ?", long.notificationID); n != 0 {
			t.Fatal("the week-old email was not deleted")
		}
		f.get(t, long.fileLink()).want(t, http.StatusOK)
	})
}

// With confirm_email_before_download (the default) the page asks for the address the email
// went to: a blank or malformed answer costs no try, a wrong one costs one and says how many
// are left, the right one (in any case, with spaces) leads to the download. The proof is a
// cookie for this file's pages only, and lasts half an hour.
func TestDocumentConfirmEmail(t *testing.T) {
	eachDocs(t, func(t *testing.T, f *docFixture) {
		sent := f.sendFile(t, "Person@Example.com", csvFile(nil))
		confirmPage := f.get(t, sent.link)
		key := strings.TrimPrefix(sent.link, "/d/"+sent.documentID+"?key=")
		confirmPage.want(t, http.StatusOK, "Confirm your email address", `action="/d/`+sent.documentID+`"`,
			`<input type="hidden" name="key" value="`+key+`">`, `type="email"`, `autocomplete="email"`,
			"Enter the email address that Service A sent the file to.")
		confirmPage.lacks(t, "/file?", "report.csv")
		// The file itself waits for the confirmation.
		redirect := f.get(t, sent.fileLink())
		if redirect.status != http.StatusSeeOther || redirect.header.Get("Location") != sent.link {
			t.Fatalf("file before confirming: %d %v", redirect.status, redirect.header)
		}

		answer := func(addr string) pageResponse {
			return f.post(t, "/d/"+sent.documentID, url.Values{"key": {key}, "email_address": {addr}})
		}
		blank := answer("  ")
		blank.want(t, http.StatusUnprocessableEntity, "<title>Error: Confirm your email address", "Enter your email address")
		answer("not an address").want(t, http.StatusUnprocessableEntity, "Enter an email address in the correct format, like name@example.com")
		if n := f.failedAttempts(t, sent.documentID); n != 0 {
			t.Fatalf("%d tries used by a blank and a malformed answer", n)
		}
		wrong := answer("someone.else@example.com")
		wrong.want(t, http.StatusUnprocessableEntity, "This is not the email address the file was sent to. You can try 4 more times",
			`value="someone.else@example.com"`)
		wrong.lacks(t, "person@example.com")
		if n := f.failedAttempts(t, sent.documentID); n != 1 {
			t.Fatalf("%d tries used, want 1", n)
		}

		right := answer(" PERSON@example.COM ")
		if right.status != http.StatusSeeOther || right.header.Get("Location") != sent.link {
			t.Fatalf("right address: %d %v %s", right.status, right.header, right.body)
		}
		cookie := right.header.Get("Set-Cookie")
		for _, want := range []string{documentProofCookie + "=", "Path=/d/" + sent.documentID, "HttpOnly", "SameSite=Lax", "Max-Age=1800"} {
			if !strings.Contains(cookie, want) {
				t.Fatalf("Set-Cookie %q lacks %q", cookie, want)
			}
		}
		if n := f.failedAttempts(t, sent.documentID); n != 1 {
			t.Fatalf("%d tries used after the right address, want the 1 wrong one", n)
		}
		f.get(t, sent.link).want(t, http.StatusOK, "Download report.csv (CSV file, 8 bytes)")
		file := f.get(t, sent.fileLink())
		if file.status != http.StatusOK || file.body != string(reportCSV) || file.header.Get("Content-Type") != "text/csv" {
			t.Fatalf("file after confirming: %d %v %q", file.status, file.header, file.body)
		}

		// The proof opens this file only: not another file sent to the same person.
		other := f.sendFile(t, "person@example.com", csvFile(nil))
		proof := strings.TrimPrefix(strings.Split(cookie, ";")[0], documentProofCookie+"=")
		stolen := f.get(t, other.fileLink(), "Cookie", documentProofCookie+"="+proof)
		if stolen.status != http.StatusSeeOther || stolen.body == string(reportCSV) {
			t.Fatalf("another file with this file's proof: %d", stolen.status)
		}
		// Nor a forged one.
		f.get(t, other.fileLink(), "Cookie", documentProofCookie+"=k1.AAAA").want(t, http.StatusSeeOther)

		// Half an hour on, the address is asked for again.
		f.clock.Advance(documentProofLifetime + time.Second)
		f.get(t, sent.link).want(t, http.StatusOK, "Confirm your email address")
		if late := f.get(t, sent.fileLink()); late.status != http.StatusSeeOther {
			t.Fatalf("file after the proof expired: %d", late.status)
		}
	})
}

// Five wrong addresses lock the file for good, stored in the database, whatever the browser
// does next; a locked file still shows the invalid-link page to anyone without its key.
func TestDocumentLockout(t *testing.T) {
	eachDocs(t, func(t *testing.T, f *docFixture) {
		sent := f.sendFile(t, "person@example.com", csvFile(nil))
		key := strings.TrimPrefix(sent.link, "/d/"+sent.documentID+"?key=")
		answer := func(addr string) pageResponse {
			return f.post(t, "/d/"+sent.documentID, url.Values{"key": {key}, "email_address": {addr}})
		}
		for i, left := range []string{"4 more times", "3 more times", "2 more times", "1 more time"} {
			answer("guess"+string(rune('a'+i))+"@example.com").want(t, http.StatusUnprocessableEntity, "You can try "+left+"</a>")
		}
		locked := answer("guesse@example.com")
		locked.want(t, http.StatusForbidden, "You cannot download this file", "Ask Service A to send you the file again.",
			`href="https://example.gov.uk/contact"`)
		if n := f.failedAttempts(t, sent.documentID); n != maxDocumentAttempts {
			t.Fatalf("%d tries recorded, want %d", n, maxDocumentAttempts)
		}
		// Even the right address, the page and the file are refused now.
		answer("person@example.com").want(t, http.StatusForbidden, "You cannot download this file")
		f.get(t, sent.link).want(t, http.StatusForbidden, "You cannot download this file")
		f.get(t, sent.fileLink()).want(t, http.StatusForbidden, "You cannot download this file")
		if n := f.failedAttempts(t, sent.documentID); n != maxDocumentAttempts {
			t.Fatalf("%d tries recorded after the lock, want %d", n, maxDocumentAttempts)
		}
		p := f.get(t, "/d/"+sent.documentID+"?key=wrong")
		p.want(t, http.StatusNotFound, invalidLinkHeading)
		p.lacks(t, "locked", "Service A")
	})
}

// The email address form is a state-changing POST: another site cannot make a browser send
// it, so it cannot spend the recipient's tries.
func TestDocumentConfirmRefusesCrossSiteRequests(t *testing.T) {
	eachDocs(t, func(t *testing.T, f *docFixture) {
		sent := f.sendFile(t, "person@example.com", csvFile(nil))
		key := strings.TrimPrefix(sent.link, "/d/"+sent.documentID+"?key=")
		r := f.post(t, "/d/"+sent.documentID, url.Values{"key": {key}, "email_address": {"guess@example.com"}},
			"Sec-Fetch-Site", "cross-site", "Origin", "https://attacker.example")
		if r.status != http.StatusForbidden {
			t.Fatalf("cross-site POST: status %d", r.status)
		}
		if n := f.failedAttempts(t, sent.documentID); n != 0 {
			t.Fatalf("a cross-site POST used %d tries", n)
		}
	})
}

func TestDocumentDisposition(t *testing.T) {
	for name, want := range map[string]string{
		"report.csv":           `attachment; filename="report.csv"`,
		"../../etc/passwd.txt": `attachment; filename="passwd.txt"`,
		`C:\Users\jo\a.pdf`:    `attachment; filename="a.pdf"`,
		"résumé.pdf":           `attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`,
		`say "hi".txt`:         `attachment; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt`,
		"line\r\nbreak.txt":    `attachment; filename="linebreak.txt"`,
	} {
		if got := documentDisposition(name); got != want {
			t.Errorf("documentDisposition(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestDocumentSize(t *testing.T) {
	for n, want := range map[int64]string{1: "1 byte", 8: "8 bytes", 1023: "1023 bytes", 1536: "1.5 KB", 2 << 20: "2.0 MB"} {
		if got := documentSize(n); got != want {
			t.Errorf("documentSize(%d) = %q, want %q", n, got, want)
		}
	}
}
