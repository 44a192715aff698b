package web

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"unicode/utf8"

	"github.com/commons-gov/commons/internal/failure"
)

// PageHandler is a page endpoint that returns its failure instead of writing it; Pages.Handler
// turns the failure into the shared error page. A handler that already wrote its response must
// return nil.
type PageHandler func(w http.ResponseWriter, r *http.Request) error

// Handler adapts a PageHandler to http.Handler, rendering its errors as error pages.
func (p *Pages) Handler(h PageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		notePattern(r)
		if err := h(w, r); err != nil {
			p.Error(w, r, err)
		}
	})
}

// ErrorPage is the data of the shared error page.
type ErrorPage struct {
	Heading    string
	Paragraphs []string
	// Reference is the request id, shown on pages about our own faults so that a person who
	// contacts support can quote it.
	Reference string
}

// Error writes the error page for err: the status its kind maps to, the GOV.UK wording for
// that status, and the failure's public message where it helps. An internal cause is recorded
// for the access log and never shown.
func (p *Pages) Error(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := Classify(err)
	if status >= 500 {
		recordCause(r, err)
	}
	page := errorPageFor(status, msg)
	if status >= 500 {
		page.Reference = RequestIDFrom(r.Context())
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer buffers.Put(buf)
	if execErr := p.execute(buf, errorPage, p.view(w, r, page)); execErr != nil {
		recordCause(r, execErr)
		writeBareError(w, r, status)
		return
	}
	writeHTML(w, status, buf.Bytes())
}

// fail answers a request whose page could not be rendered.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.Error(w, r, failure.Wrap(failure.Internal, err, "page could not be rendered"))
}

// errorPageFor words an error page the way GOV.UK services do, so that people meet the same
// messages here as on every other government service.
func errorPageFor(status int, msg string) ErrorPage {
	switch status {
	case http.StatusNotFound:
		return ErrorPage{Heading: "Page not found", Paragraphs: []string{
			"If you typed the web address, check it is correct.",
			"If you pasted the web address, check you copied the entire address.",
		}}
	case http.StatusForbidden:
		return ErrorPage{Heading: "You do not have permission to view this page", Paragraphs: []string{
			msg, "Ask someone who manages your service to give you permission.",
		}}
	case http.StatusUnauthorized:
		return ErrorPage{Heading: "You need to sign in", Paragraphs: []string{msg}}
	case http.StatusBadRequest:
		return ErrorPage{Heading: "There is a problem with your request", Paragraphs: []string{msg}}
	case http.StatusConflict:
		return ErrorPage{Heading: "This cannot be done", Paragraphs: []string{msg}}
	case http.StatusTooManyRequests:
		return ErrorPage{Heading: "Too many attempts", Paragraphs: []string{msg, "Wait a few minutes and try again."}}
	case http.StatusServiceUnavailable:
		return ErrorPage{Heading: "Sorry, the service is unavailable", Paragraphs: []string{
			"You will be able to use the service again soon. Try again in a few minutes.",
		}}
	}
	return ErrorPage{Heading: "Sorry, there is a problem with the service", Paragraphs: []string{
		"Try again later.",
	}}
}

// flashCookie carries a one-off success message across the redirect that follows a form
// post, so the page after it can say what happened without the message living in the URL.
const flashCookie = "commons_flash"

// SetFlash arranges for the next page rendered for this browser to show msg in a success
// banner. The message is short text we wrote; templates escape it like any other text.
func SetFlash(w http.ResponseWriter, r *http.Request, msg string) {
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(msg)),
		Path: "/", MaxAge: 300, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r),
	})
}

// isHTTPS reports whether the browser reached us over TLS, directly or through a proxy that
// says so. It only ever makes a cookie stricter, so trusting the proxy header is safe.
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// takeFlash returns the pending success message, if any, and clears it.
func takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) > 500 || !utf8.Valid(b) {
		return ""
	}
	return string(b)
}
