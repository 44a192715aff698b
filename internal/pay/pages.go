package pay

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// The hosted card pages (pay.md §7): where a payer, sent by a service to next_url, enters their
// card, passes 3-D Secure, confirms, and is sent back to the service's return_url. They are
// GOV.UK Frontend pages in the payment's language that need no JavaScript, and they move the
// payment only through the journey methods (StartWithToken, Authorise, Authorise3DS, Confirm,
// UserCancel), each a compare-and-set on the payment's status: a form sent twice finds the
// payment moved on and the payer lands on the page for where it now stands.

//go:embed pages_templates
var pageTemplates embed.FS

// ServiceDirectory names the services payments belong to; the platform's store is one.
type ServiceDirectory interface {
	Service(ctx context.Context, id string) (platform.Service, error)
}

// payPages serves the hosted pages.
type payPages struct {
	s        *Service
	pages    *web.Pages
	services ServiceDirectory
}

// CrossSiteForms are the page routes a form on another site may post to: next_url_post, which
// a service's own page submits to send the payer here. The one-time token in the form is the
// credential, so cross-origin protection has nothing to add; every other form stays guarded.
var CrossSiteForms = []string{"POST /pay/secure"}

// MountPages serves the hosted card pages under /pay/ on mux. Serve mux behind the web kit's
// middleware stack, whose cross-origin protection guards the pages' forms. The templates are
// embedded, so one that does not parse is a fault in the build, and MountPages panics on it as
// template.Must does.
func (s *Service) MountPages(mux *http.ServeMux, services ServiceDirectory) {
	files, err := fs.Sub(pageTemplates, "pages_templates")
	if err != nil {
		panic(fmt.Sprintf("pay: card pages: %v", err))
	}
	pages, err := web.NewPages(web.PagesConfig{Templates: files, Logger: s.log, ServiceName: "Pay", ServiceURL: "/pay/",
		Funcs: template.FuncMap{"t": pageText, "lang": pageLanguage, "service": pageService, "country": pageCountry,
			"field": newPayField}})
	if err != nil {
		panic(fmt.Sprintf("pay: card pages: %v", err))
	}
	p := &payPages{s: s, pages: pages, services: services}
	route := func(pattern string, h web.PageHandler) { mux.Handle(pattern, pages.Handler(p.guard(h))) }
	route("GET /pay/secure/{token}", p.secureLink)
	route("POST /pay/secure", p.secureForm)
	route("GET /pay/card_details/{id}", p.cardPage)
	route("POST /pay/card_details/{id}", p.submitCard)
	route("GET /pay/card_details/{id}/auth_waiting", p.waitingPage)
	route("GET /pay/card_details/{id}/3ds_required", p.threeDSPage)
	route("POST /pay/card_details/{id}/3ds_handler", p.submitThreeDS)
	route("GET /pay/card_details/{id}/3ds_required_in", p.threeDSReturn)
	route("GET /pay/card_details/{id}/confirm", p.confirmPage)
	route("POST /pay/card_details/{id}/confirm", p.submitConfirm)
	route("POST /pay/card_details/{id}/cancel", p.submitCancel)
	route("GET /pay/card_details/{id}/outcome", p.outcomePage)
}

// ThreeDSReturnURL is where a provider whose 3-D Secure challenge is its bank's own page sends
// the payer back to, for a payment of this Commons (Stripe's return_url).
func (s *Service) ThreeDSReturnURL(paymentID string) string {
	return s.cfg.BaseURL + "/pay/card_details/" + paymentID + "/3ds_required_in"
}

// payPage is the data of every hosted page.
type payPage struct {
	Lang        string
	ServiceName string
	ID          string
	Description string
	Amount      string
	// ReturnURL is where Continue goes; "" where the page must not reveal it.
	ReturnURL string
	Form      *web.Form
	Countries []countryOption
	Card      *CardDetails
	Email     string
	// Outcome names the outcome page's wording: complete, declined, error, expired, cancelled.
	Outcome string
	// NoMoneyTaken says so on an outcome page where it is true.
	NoMoneyTaken bool
	// Sandbox3DS shows the sandbox's own pass/fail challenge; ChallengeURL is a real
	// provider's challenge page, at the payer's bank.
	Sandbox3DS   bool
	ChallengeURL string
	// Heading, Body and Reference are the problem page's.
	Heading, Body string
	Reference     string
}

// HasErrors lets the layout mark the title of a page whose form has errors.
func (d payPage) HasErrors() bool { return d.Form.HasErrors() }

// pageLanguage is the language of any page's data: the payment's, or English for pages that
// are not about one (the web kit's own error page).
func pageLanguage(data any) string {
	if d, ok := data.(payPage); ok && d.Lang == langWelsh {
		return langWelsh
	}
	return langEnglish
}

// pageText is the template function t: a catalogue message in the page's language.
func pageText(data any, key string) (string, error) { return message(pageLanguage(data), key) }

// guard sets what every hosted page's response carries: it must never be cached (it shows a
// payment), never send its address on as a referrer (next_url's carries the one-time token),
// and its content security policy allows no script at all.
func (p *payPages) guard(h web.PageHandler) web.PageHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		hdr := w.Header()
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("Referrer-Policy", "no-referrer")
		hdr.Set("Content-Security-Policy", pagePolicy(""))
		if err := h(w, r); err != nil {
			p.problem(w, r, err)
		}
		return nil
	}
}

// pagePolicy is the pages' content security policy. Nothing but our own styles, images and
// fonts loads; no script runs, inline or not; no other site may frame a page. formTarget is
// an origin a form on the page may lead to besides our own: the confirm page's form ends in a
// redirect to the service's return_url, and browsers apply form-action to each redirect a form
// submission follows.
func pagePolicy(formTarget string) string {
	action := "'self'"
	if formTarget != "" {
		action += " " + formTarget
	}
	return "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; " +
		"connect-src 'none'; object-src 'none'; base-uri 'none'; form-action " + action + "; frame-ancestors 'none'"
}

// originOf returns a URL's origin in the form a content security policy source takes, or ""
// when it has no safe one.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	for _, c := range u.Host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':') {
			return ""
		}
	}
	return u.Scheme + "://" + u.Host
}

// render writes a page.
func (p *payPages) render(w http.ResponseWriter, r *http.Request, status int, name string, data payPage) {
	p.pages.Render(w, r, status, name, data)
}

// redirect sends the browser to another page with 303, so that a form it posted is not posted
// again on reload.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// problem answers a request that failed: a form the browser sent badly, or our own fault. The
// cause of a fault is logged here, once; the payer sees a reference to quote.
func (p *payPages) problem(w http.ResponseWriter, r *http.Request, err error) {
	status, _ := web.Classify(err)
	data := payPage{Lang: langEnglish}
	if failure.Is(err, failure.Invalid) {
		data.Heading, data.Body = "bad_request_head", "bad_request"
		p.render(w, r, http.StatusBadRequest, "problem", data)
		return
	}
	if status < 500 {
		status = http.StatusInternalServerError
	}
	data.Heading, data.Body, data.Reference = "problem_title", "problem_body", web.RequestIDFrom(r.Context())
	p.s.log.ErrorContext(r.Context(), "pay: card page failed", "request_id", data.Reference, "route", r.Pattern, "error", err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	p.render(w, r, status, "problem", data)
}

// pageFor returns the page for where a payment stands (pay.md §7.1's state → page mapping).
func pageFor(p *Payment) string {
	base := "/pay/card_details/" + p.ID
	switch p.Status {
	case StatusCreated, StatusEnteringCardDetails:
		return base
	case StatusAuthorisationReady, StatusAuthorisation3DSReady, StatusAuthorisationQueued:
		return base + "/auth_waiting"
	case StatusAuthorisation3DSRequired:
		return base + "/3ds_required"
	case StatusAuthorisationSuccess:
		return base + "/confirm"
	}
	return base + "/outcome"
}

// outcomeOf names the outcome page of a payment that the payer can do nothing more with.
func outcomeOf(p *Payment) string {
	switch e := p.Status.External(); {
	case e.Code == "P0010":
		return "declined"
	case e.Code == "P0020":
		return "expired"
	case e.Code == "P0030" || e.Code == "P0040":
		return "cancelled"
	case e.Status == "success" || e.Status == "capturable":
		return "complete"
	}
	return "error"
}

// payment returns the payment a page is about, or nil when this browser may not see it, in
// which case the payer has been shown the "cannot be used again" page.
func (p *payPages) payment(w http.ResponseWriter, r *http.Request) (*Payment, error) {
	id := r.PathValue("id")
	ok, err := p.boundTo(r.Context(), r, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, p.sessionEnded(w, r, id)
	}
	pay, err := p.s.PaymentForPage(r.Context(), id)
	if failure.Is(err, failure.NotFound) {
		return nil, p.sessionEnded(w, r, "")
	}
	return pay, err
}

// sessionEnded shows the page for a link used already, a payment this browser does not hold,
// or a session past its time. It names the service when the payment is known, and says
// nothing else about it: not even return_url, which a service may make secret to the payment.
func (p *payPages) sessionEnded(w http.ResponseWriter, r *http.Request, paymentID string) error {
	data := payPage{Lang: langEnglish}
	status := http.StatusNotFound
	if paymentID != "" {
		pay, err := p.s.PaymentForPage(r.Context(), paymentID)
		switch {
		case err == nil:
			data.Lang, status = pageLang(pay), http.StatusForbidden
			if data.ServiceName, err = p.serviceName(r.Context(), pay.ServiceID); err != nil {
				return err
			}
		case !failure.Is(err, failure.NotFound):
			return err
		}
	}
	p.render(w, r, status, "session-ended", data)
	return nil
}

// view fills in what every page about a payment shows.
func (p *payPages) view(ctx context.Context, pay *Payment) (payPage, error) {
	name, err := p.serviceName(ctx, pay.ServiceID)
	if err != nil {
		return payPage{}, err
	}
	return payPage{Lang: pageLang(pay), ServiceName: name, ID: pay.ID, Description: pay.Description,
		Amount: formatPounds(pay.TotalAmount()), ReturnURL: pay.ReturnURL, Card: pay.Card, Email: pay.Email}, nil
}

// serviceName is the name of a payment's service, "" for one that no longer exists.
func (p *payPages) serviceName(ctx context.Context, serviceID string) (string, error) {
	if p.services == nil {
		return "", nil
	}
	svc, err := p.services.Service(ctx, serviceID)
	if failure.Is(err, failure.NotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return svc.Name, nil
}

// formatPounds writes an amount in pence as pounds: £1,234.50.
func formatPounds(pence int64) string {
	sign := ""
	if pence < 0 {
		sign, pence = "-", -pence
	}
	whole := strconv.FormatInt(pence/100, 10)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return fmt.Sprintf("%s£%s.%02d", sign, b.String(), pence%100)
}
