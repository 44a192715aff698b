package pay

import (
	"net/http"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/web"
)

// The payment links pages: the service's links with their addresses, a form to make one, and
// deactivating one. Deactivating is final: a link's address is printed on letters and posters,
// and must not start taking payments again by mistake.

var linkReferenceOptions = []web.Option{
	{Value: "generated", Label: "Make a reference for each payment", Hint: "10 letters and numbers that are easy to read out, like AB3CDEF4GH."},
	{Value: "payer", Label: "Ask the person paying for a reference", Hint: "Such as an invoice or account number. Name it below."},
}

var linkLanguageOptions = []web.Option{
	{Value: langEnglish, Label: "English"},
	{Value: langWelsh, Label: "Welsh (Cymraeg)", Hint: "The link’s pages and the card payment pages are in Welsh. Write the title and details in Welsh."},
}

var linkModeOptions = []web.Option{
	{Value: "test", Label: "Test", Hint: "Payments use the sandbox: no real money is taken. Use it to try the link out."},
	{Value: "live", Label: "Live", Hint: "Payments are real and go to the service’s payment provider."},
}

type linksData struct {
	paymentsView
	Links     []*Link
	CanManage bool
	Site      string // Commons' public address, which links' addresses start with
}

func (p *paymentsConsole) linksPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	links, err := p.s.Links(r.Context(), pc.Service.ID)
	if err != nil {
		return err
	}
	return p.render(w, r, "links", linksData{paymentsView: newPaymentsView(pc, "links"), Links: links,
		CanManage: pc.CanAny(canManageLinks...) && !pc.Service.Archived, Site: p.s.cfg.BaseURL})
}

type newLinkData struct {
	paymentsView
	*web.Form
	ReferenceOptions, Languages, Modes []web.Option
	Site                               string
}

func (p *paymentsConsole) newLinkData(pc console.PageContext, f *web.Form) newLinkData {
	return newLinkData{paymentsView: newPaymentsView(pc, "links"), Form: f, ReferenceOptions: linkReferenceOptions,
		Languages: linkLanguageOptions, Modes: linkModeOptions, Site: p.s.cfg.BaseURL}
}

func (p *paymentsConsole) newLinkPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseArchived(pc); err != nil {
		return err
	}
	f := web.NewForm()
	f.Set("reference", "generated")
	f.Set("language", langEnglish)
	f.Set("mode", "test")
	return p.render(w, r, "link-new", p.newLinkData(pc, f))
}

func (p *paymentsConsole) createLink(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseArchived(pc); err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	data := p.newLinkData(pc, f)
	nl := NewLink{Title: f.Get("title"), Description: f.Get("description"), Slug: f.Get("slug"), Language: f.Get("language"),
		Live: f.Get("mode") == "live"}
	if f.Get("title") == "" {
		f.AddError("title", "Enter a title")
	}
	if s := f.Get("amount"); s != "" {
		pence, ok := parsePounds(s)
		if !ok {
			f.AddError("amount", "Enter the amount in pounds and pence, like 25.00, or leave it empty")
		} else {
			nl.Amount = &pence
		}
	}
	switch f.Get("reference") {
	case "payer":
		nl.ReferenceLabel, nl.ReferenceHint = f.Get("reference_label"), f.Get("reference_hint")
		if nl.ReferenceLabel == "" {
			f.AddError("reference_label", "Enter what the reference is called, like Invoice number")
		}
	case "generated":
	default:
		f.AddError("reference", "Choose how each payment gets its reference")
	}
	if !hasOption(linkLanguageOptions, nl.Language) {
		f.AddError("language", "Choose the language of the payment pages")
	}
	if !hasOption(linkModeOptions, f.Get("mode")) {
		f.AddError("mode", "Choose test or live")
	}
	if !f.Valid() {
		return p.renderInvalid(w, r, "link-new", data)
	}
	l, err := p.s.createLink(r.Context(), pc.Service.ID, nl, func(tx *db.Tx, l *Link) error {
		return p.auditIn(r.Context(), tx, pc, auditPayLinkCreated, "payment_link", l.ID, linkDetails(l))
	})
	if err != nil {
		if f.Fail(err, "title") {
			return p.renderInvalid(w, r, "link-new", data)
		}
		return err
	}
	return p.done(w, r, data.Base()+"/links", "Payment link made: "+p.s.cfg.BaseURL+l.Path())
}

// linkDetails names a link in the audit log.
func linkDetails(l *Link) map[string]any {
	d := map[string]any{"name": l.Title, "slug": l.Slug, "live": l.Live, "language": l.Language}
	if l.Amount != nil {
		d["amount"] = *l.Amount
	}
	return d
}

type deactivateLinkData struct {
	paymentsView
	Link *Link
	Site string
}

func (p *paymentsConsole) linkToDeactivate(r *http.Request, pc console.PageContext) (*Link, error) {
	if err := refuseArchived(pc); err != nil {
		return nil, err
	}
	l, err := p.s.Link(r.Context(), pc.Service.ID, r.PathValue("link"))
	if err != nil {
		return nil, notFoundAsPage(err)
	}
	return l, nil
}

func (p *paymentsConsole) deactivateLinkPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	l, err := p.linkToDeactivate(r, pc)
	if err != nil {
		return err
	}
	return p.render(w, r, "link-deactivate", deactivateLinkData{paymentsView: newPaymentsView(pc, "links"), Link: l,
		Site: p.s.cfg.BaseURL})
}

func (p *paymentsConsole) deactivateLink(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	l, err := p.linkToDeactivate(r, pc)
	if err != nil {
		return err
	}
	if _, err := p.s.deactivateLink(r.Context(), pc.Service.ID, l.ID, func(tx *db.Tx, l *Link) error {
		return p.auditIn(r.Context(), tx, pc, auditPayLinkDeactivated, "payment_link", l.ID, linkDetails(l))
	}); err != nil {
		return notFoundAsPage(err)
	}
	return p.done(w, r, newPaymentsView(pc, "links").Base()+"/links", "Payment link deactivated: "+l.Title)
}
