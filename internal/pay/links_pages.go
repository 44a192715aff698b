package pay

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// The payment link pages, where anyone with a link's address pays (pay.md §10). The first page
// names the payment and asks what the link leaves to the payer (a reference, an amount); a
// check page repeats the answers; continuing creates the payment through the same create as the
// API's and sends the payer to the card pages. The card pages send them back to the link's
// "payment complete" page, which shows how it went. The pages are GOV.UK Frontend pages in the
// link's language that need no JavaScript and load none.

//go:embed links_templates
var linkTemplateFiles embed.FS

// linkPages serves the payment link pages.
type linkPages struct {
	s        *Service
	pages    *web.Pages
	services ServiceDirectory
	policy   string
}

// MountLinks serves the payment link pages under /pay/link/ on mux. Serve mux behind the web
// kit's middleware stack, whose cross-origin protection guards the pages' forms. services names
// the service on each page and says whether it is archived. The templates are embedded, so one
// that does not parse is a fault in the build, and MountLinks panics on it as template.Must
// does.
func (s *Service) MountLinks(mux *http.ServeMux, services ServiceDirectory) {
	files, err := fs.Sub(linkTemplateFiles, "links_templates")
	if err != nil {
		panic(fmt.Sprintf("pay link pages: %v", err))
	}
	pages, err := web.NewPages(web.PagesConfig{Templates: files, Logger: s.log, ServiceName: "Pay", ServiceURL: "/pay/link/",
		Funcs: template.FuncMap{"lt": linkPageText, "lang": linkPageLanguage, "pounds": poundsText,
			"list": func(v ...any) []any { return v }, "linkService": linkPageService}})
	if err != nil {
		panic(fmt.Sprintf("pay link pages: %v", err))
	}
	p := &linkPages{s: s, pages: pages, services: services, policy: linkPagePolicy(s.cfg.BaseURL)}
	route := func(pattern string, h web.PageHandler) { mux.Handle(pattern, pages.Handler(p.guard(h))) }
	route("GET /pay/link/{slug}", p.start)
	route("POST /pay/link/{slug}", p.details)
	route("POST /pay/link/{slug}/confirm", p.confirm)
	route("GET /pay/link/{slug}/complete/{id}", p.complete)
}

// linkPagePolicy is the pages' content security policy: nothing but Commons' own styles,
// images and fonts, no script at all, no framing. Forms may lead only to Commons itself, at the
// address the browser used or the public one the card pages' next_url is built on.
func linkPagePolicy(baseURL string) string {
	action := "'self'"
	if u, err := url.Parse(baseURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		!strings.ContainsAny(u.Host, " ;'\"") {
		action += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; " +
		"connect-src 'none'; object-src 'none'; base-uri 'none'; form-action " + action + "; frame-ancestors 'none'"
}

// guard sets what every link page's response carries, and shows the payer a page in their
// language when something fails on our side.
func (p *linkPages) guard(h web.PageHandler) web.PageHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		hdr := w.Header()
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("Referrer-Policy", "same-origin")
		hdr.Set("Content-Security-Policy", p.policy)
		err := h(w, r)
		if err == nil || failure.Is(err, failure.NotFound) || failure.Is(err, failure.Invalid) {
			return err // the web kit's not-found and bad-request pages
		}
		status, _ := web.Classify(err)
		if status < 500 {
			status = http.StatusInternalServerError
		}
		ref := web.RequestIDFrom(r.Context())
		p.s.log.ErrorContext(r.Context(), "pay: payment link page failed", "request_id", ref, "route", r.Pattern, "error", err)
		if status == http.StatusServiceUnavailable {
			hdr.Set("Retry-After", "5")
		}
		lang := langEnglish
		if l, lerr := p.s.LinkBySlug(r.Context(), r.PathValue("slug")); lerr == nil {
			lang = l.Language
		}
		p.pages.Render(w, r, status, "link-problem", linkPage{Lang: lang, RequestID: ref})
		return nil
	}
}

// linkPage is the data of every link page.
type linkPage struct {
	Lang        string
	ServiceName string
	Link        *Link
	Form        *web.Form
	// AmountText is the amount to pay, for the check and outcome pages.
	AmountText string
	// Reference and Amount (pence) are carried from the check page to the payment.
	Reference string
	Amount    int64
	// Outcome is the complete page's: success, failed or pending.
	Outcome   string
	Payment   *Payment
	RequestID string
}

// HasErrors lets the layout mark the title of a page whose form has errors.
func (d linkPage) HasErrors() bool { return d.Form.HasErrors() }

// linkPageLanguage is the language of any page's data; the web kit's own error pages are in
// English.
func linkPageLanguage(data any) string {
	if d, ok := data.(linkPage); ok && d.Lang == langWelsh {
		return langWelsh
	}
	return langEnglish
}

// linkPageService is the name of the service a page is about, "" on the web kit's own pages.
func linkPageService(data any) string {
	if d, ok := data.(linkPage); ok {
		return d.ServiceName
	}
	return ""
}

// linkPageText is the template function lt: a message in the page's language.
func linkPageText(data any, key string) (string, error) { return linkText(linkPageLanguage(data), key) }

// link reads the link of the request's address, and whether it can take payments now: active,
// and its service not archived. The page for a link that cannot is shown here, and the handler
// has nothing more to do.
func (p *linkPages) link(w http.ResponseWriter, r *http.Request) (*Link, linkPage, bool, error) {
	l, err := p.s.LinkBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		return nil, linkPage{}, false, err
	}
	data, archived, err := p.view(r.Context(), l)
	if err != nil {
		return nil, linkPage{}, false, err
	}
	if !l.Active || archived {
		p.pages.Render(w, r, http.StatusNotFound, "link-unavailable", data)
		return nil, linkPage{}, false, nil
	}
	return l, data, true, nil
}

// view fills in what every page about a link shows, and reports whether the link's service has
// been archived.
func (p *linkPages) view(ctx context.Context, l *Link) (linkPage, bool, error) {
	data := linkPage{Lang: l.Language, Link: l, Form: web.NewForm()}
	if l.Amount != nil {
		data.AmountText = poundsText(*l.Amount)
	}
	if p.services == nil {
		return data, false, nil
	}
	svc, err := p.services.Service(ctx, l.ServiceID)
	if failure.Is(err, failure.NotFound) {
		return data, true, nil
	}
	if err != nil {
		return data, false, err
	}
	data.ServiceName = svc.Name
	return data, svc.Archived, nil
}

// start is the link's first page. A service may prefill the payer's answers in the address
// (pay.md §10): reference, with underscores for spaces, and amount, in pence.
func (p *linkPages) start(w http.ResponseWriter, r *http.Request) error {
	l, data, ok, err := p.link(w, r)
	if !ok {
		return err
	}
	q := r.URL.Query()
	if l.AsksForReference() {
		data.Form.Set("reference", strings.ReplaceAll(q.Get("reference"), "_", " "))
	}
	if l.AsksForAmount() {
		if pence, err := strconv.ParseInt(q.Get("amount"), 10, 64); err == nil && pence > 0 && pence <= maxAmount {
			data.Form.Set("amount", poundsPlain(pence))
		}
	}
	p.pages.Render(w, r, http.StatusOK, "link-start", data)
	return nil
}

// details checks the payer's answers and shows them back on the check page, or shows the
// first page again with what is wrong. A form sent with "change" comes back from the check
// page: the first page is shown with the answers to change.
func (p *linkPages) details(w http.ResponseWriter, r *http.Request) error {
	l, data, ok, err := p.link(w, r)
	if !ok {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	data.Form = f
	if f.Get("change") != "" {
		if pence, err := strconv.ParseInt(f.Get("amount_pence"), 10, 64); err == nil && l.AsksForAmount() {
			f.Set("amount", poundsPlain(pence))
		}
		p.pages.Render(w, r, http.StatusOK, "link-start", data)
		return nil
	}
	reference, amount := p.answers(l, f)
	if !f.Valid() {
		p.pages.Render(w, r, http.StatusUnprocessableEntity, "link-start", data)
		return nil
	}
	data.Reference, data.Amount, data.AmountText = reference, amount, poundsText(amount)
	p.pages.Render(w, r, http.StatusOK, "link-check", data)
	return nil
}

// answers reads and checks the reference and amount a payer gave, recording what is wrong on
// f in the page's order, in the link's language. Answers the link does not ask for are its own.
func (p *linkPages) answers(l *Link, f *web.Form) (string, int64) {
	var reference string
	if l.AsksForReference() {
		reference = f.Get("reference")
		if err := checkLinkReference(reference); err != nil {
			p.refuse(l, f, err)
		}
	}
	var amount int64
	if l.Amount != nil {
		amount = *l.Amount
	} else {
		pence, ok := parsePounds(f.Get("amount"))
		switch {
		case f.Get("amount") == "":
			p.refuse(l, f, &LinkInputError{"amount", linkAmountMissing})
		case !ok:
			p.refuse(l, f, &LinkInputError{"amount", linkAmountInvalid})
		default:
			if err := checkLinkAmount(pence); err != nil {
				p.refuse(l, f, err)
			}
		}
		amount = pence
	}
	return reference, amount
}

// refuse records a refused answer on the form, worded in the link's language.
func (p *linkPages) refuse(l *Link, f *web.Form, err error) {
	var input *LinkInputError
	if !errors.As(err, &input) {
		return
	}
	if input.Reason == linkReferenceCardNumber {
		// Not shown back: a card number typed in the wrong box is redacted, as GOV.UK Pay's
		// payment links do.
		f.Set("reference", "")
	}
	var msg string
	switch input.Reason {
	case linkReferenceMissing, linkReferenceCardNumber:
		msg, _ = linkText(l.Language, input.Reason, inSentence(l.ReferenceLabel))
	default:
		msg, _ = linkText(l.Language, input.Reason)
	}
	f.AddError(input.Field, msg)
}

// confirm creates the payment and sends the payer to the card pages. The answers come from the
// check page's hidden fields (or, for a link that asks nothing, there are none); they are
// checked again, since a form can be sent with anything in it.
func (p *linkPages) confirm(w http.ResponseWriter, r *http.Request) error {
	l, data, ok, err := p.link(w, r)
	if !ok {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	if ok, err := p.withinLimit(r.Context(), l); err != nil || !ok {
		if err == nil {
			w.Header().Set("Retry-After", "1")
			p.pages.Render(w, r, http.StatusTooManyRequests, "link-problem", linkPage{Lang: l.Language})
		}
		return err
	}
	reference := f.Get("reference")
	var amount int64
	if l.AsksForAmount() {
		if amount, err = strconv.ParseInt(f.Get("amount_pence"), 10, 64); err != nil {
			amount = 0
		}
	}
	lp, err := p.s.StartLinkPayment(r.Context(), l, reference, amount)
	var input *LinkInputError
	switch {
	case errors.As(err, &input):
		data.Form = web.NewForm()
		data.Form.Set("reference", reference)
		if amount > 0 {
			data.Form.Set("amount", poundsPlain(amount))
		}
		p.refuse(l, data.Form, err)
		p.pages.Render(w, r, http.StatusUnprocessableEntity, "link-start", data)
		return nil
	case errors.Is(err, ErrLinkInactive):
		p.pages.Render(w, r, http.StatusNotFound, "link-unavailable", data)
		return nil
	case err != nil:
		return err
	}
	http.Redirect(w, r, lp.Next, http.StatusSeeOther)
	return nil
}

// withinLimit takes a token from the link's bucket of payments: a link's address is public,
// so without a limit anyone could make payments through it as fast as they can post a form.
// The limit is the API's own for creating payments, per link rather than per key.
func (p *linkPages) withinLimit(ctx context.Context, l *Link) (bool, error) {
	if p.s.cfg.Limiter == nil {
		return true, nil
	}
	return p.s.cfg.Limiter.Take(ctx, "pay:link:"+l.ID, postLimit)
}

// complete is where the card pages send the payer back to: how the payment went. The address
// carries the link payment's own random id, so only the payer who made it has it.
func (p *linkPages) complete(w http.ResponseWriter, r *http.Request) error {
	l, pay, err := p.s.LinkPaymentOutcome(r.Context(), r.PathValue("slug"), r.PathValue("id"))
	if err != nil {
		return err
	}
	data, _, err := p.view(r.Context(), l)
	if err != nil {
		return err
	}
	data.Payment, data.AmountText, data.Lang = pay, poundsText(pay.TotalAmount()), pageLangOf(pay)
	switch ext := pay.Status.External(); {
	case ext.Status == "success" || ext.Status == "capturable":
		data.Outcome = "success"
	case ext.Finished:
		data.Outcome = "failed"
	default:
		data.Outcome = "pending"
	}
	p.pages.Render(w, r, http.StatusOK, "link-complete", data)
	return nil
}

// pageLangOf is the language of a payment's pages.
func pageLangOf(pay *Payment) string {
	if pay.Language == langWelsh {
		return langWelsh
	}
	return langEnglish
}
