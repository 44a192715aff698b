package pay

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// Pay's pages in the team console, under /admin/services/{id}/payments: the service's
// payments with search, export and each one's history, refunds, the provider settings, the
// reconciliation report and payment links. The console signs people in and checks their team
// permissions in the service; every read here also filters by the service in the URL, so a
// payment or link of another service is "not found".

//go:embed console_templates
var consoleTemplateFiles embed.FS

// The team permissions each group of pages needs; any one of those listed will do.
var (
	canSeePayments    = []string{platform.ViewActivity, platform.ManagePayments, platform.RefundPayments, platform.ManageService}
	canRefundPayments = []string{platform.RefundPayments}
	canManageLinks    = []string{platform.ManagePayments}
	// The provider settings hold the service's provider secret: they are the service's
	// configuration, like its API keys, rather than day-to-day payments work.
	canManagePaySettings = []string{platform.ManageService}
)

// Auditor records a change in the platform's audit log inside the change's transaction;
// *platform.Store is one.
type Auditor interface {
	Record(ctx context.Context, tx *db.Tx, actor platform.Actor, e platform.AuditEntry) error
}

// ConsoleDeps are what Pay's console pages need from the rest of Commons.
type ConsoleDeps struct {
	// Credentials keeps services' provider secrets. Nil leaves the Stripe secret key out of the
	// settings page (a node without COMMONS_SECRET_KEY cannot seal one).
	Credentials *Credentials
	// Audit records team members' changes; nil records none (some tests).
	Audit Auditor
}

// paymentsConsole serves Pay's console pages.
type paymentsConsole struct {
	s     *Service
	pages *web.Pages
	deps  ConsoleDeps
}

const paymentsSectionPath = "payments"

// MountConsole adds Pay's pages to the team console: a "Payments" section in every service's
// navigation, its actions on the audit log page, and its routes on mux behind the console's
// sign-in and permission checks. Call it after console.New and before serving; mux is the one
// the console is mounted on.
func (s *Service) MountConsole(mux *http.ServeMux, c *console.Console, deps ConsoleDeps) error {
	files, err := fs.Sub(consoleTemplateFiles, "console_templates")
	if err != nil {
		return err
	}
	pages, err := c.NewPages(withoutWebhookPages{files}, paymentsPageFuncs())
	if err != nil {
		return fmt.Errorf("pay console pages: %w", err)
	}
	c.AddServiceSection(console.Section{Title: "Payments", Path: paymentsSectionPath,
		Description: "card payments, refunds and payment links", AnyOf: canSeePayments})
	c.AddAuditActions(AuditActions())
	p := &paymentsConsole{s: s, pages: pages, deps: deps}
	route := func(pattern string, anyOf []string, h console.ServicePageFunc) {
		mux.Handle(pattern, c.ServicePage(anyOf, h))
	}
	const base = "/admin/services/{id}/" + paymentsSectionPath

	route("GET "+base, canSeePayments, p.transactionsPage)
	route("GET "+base+"/export.csv", canSeePayments, p.exportTransactions)
	route("GET "+base+"/{payment}", canSeePayments, p.paymentPage)
	route("GET "+base+"/{payment}/refund", canRefundPayments, p.refundPage)
	route("POST "+base+"/{payment}/refund", canRefundPayments, p.refund)

	route("GET "+base+"/reconciliation", canSeePayments, p.reconciliationPage)
	route("GET "+base+"/reconciliation.csv", canSeePayments, p.reconciliationCSV)

	route("GET "+base+"/settings", canManagePaySettings, p.settingsPage)
	route("POST "+base+"/settings", canManagePaySettings, p.saveSettings)
	route("POST "+base+"/settings/stripe-key/remove", canManagePaySettings, p.removeStripeKey)

	route("GET "+base+"/links", canSeePayments, p.linksPage)
	route("GET "+base+"/links/new", canManageLinks, p.newLinkPage)
	route("POST "+base+"/links/new", canManageLinks, p.createLink)
	route("GET "+base+"/links/{link}/deactivate", canManageLinks, p.deactivateLinkPage)
	route("POST "+base+"/links/{link}/deactivate", canManageLinks, p.deactivateLink)
	return nil
}

// withoutWebhookPages hides the webhook pages' templates, which share console_templates but
// belong to another set of pages with functions of their own.
type withoutWebhookPages struct{ fs.FS }

func (f withoutWebhookPages) Open(name string) (fs.File, error) {
	if strings.HasPrefix(name, "webhooks") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.FS.Open(name)
}

func (f withoutWebhookPages) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(f.FS, name)
	if err != nil || name != "." {
		return entries, err
	}
	out := entries[:0:0]
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "webhooks") {
			out = append(out, e)
		}
	}
	return out, nil
}

// paymentsView is what every Payments page shows around its content: the console's navigation
// and service header, and the section's own navigation with Area as the current item.
type paymentsView struct {
	console.PageContext
	Area string
}

func newPaymentsView(pc console.PageContext, area string) paymentsView {
	return paymentsView{PageContext: pc, Area: area}
}

// Base is the address of the service's Payments pages.
func (v paymentsView) Base() string { return v.ServiceURL() + "/" + paymentsSectionPath }

// Nav is the section's navigation: the areas this person may use.
func (v paymentsView) Nav() []paymentsNavItem {
	var out []paymentsNavItem
	for _, item := range paymentsNav {
		if v.CanAny(item.anyOf...) {
			item.Href = v.Base() + item.path
			item.Current = item.Area == v.Area
			out = append(out, item)
		}
	}
	return out
}

type paymentsNavItem struct {
	Area, Title, Href string
	Current           bool
	path              string
	anyOf             []string
}

var paymentsNav = []paymentsNavItem{
	{Area: "transactions", Title: "Transactions", path: "", anyOf: canSeePayments},
	{Area: "links", Title: "Payment links", path: "/links", anyOf: canSeePayments},
	{Area: "reconciliation", Title: "Reconciliation", path: "/reconciliation", anyOf: canSeePayments},
	{Area: "settings", Title: "Settings", path: "/settings", anyOf: canManagePaySettings},
}

// render writes a page with status 200.
func (p *paymentsConsole) render(w http.ResponseWriter, r *http.Request, name string, data any) error {
	p.pages.Render(w, r, http.StatusOK, name, data)
	return nil
}

// renderInvalid redisplays a form with its errors, with status 422 as the console's own forms
// do.
func (p *paymentsConsole) renderInvalid(w http.ResponseWriter, r *http.Request, name string, data any) error {
	p.pages.Render(w, r, http.StatusUnprocessableEntity, name, data)
	return nil
}

// done ends a successful form post (post/redirect/get) with msg in a success banner.
func (p *paymentsConsole) done(w http.ResponseWriter, r *http.Request, to, msg string) error {
	web.SetFlash(w, r, msg)
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// refuseArchived refuses changes to an archived service, as the console does for its own.
func refuseArchived(pc console.PageContext) error {
	if pc.Service.Archived {
		return failure.New(failure.Conflict, "This service has been archived")
	}
	return nil
}

// Pay's audit actions. They start "pay." so that the audit log page can offer them as one
// filter.
const (
	auditPayRefund            = "pay.refund.created"
	auditPaySettings          = "pay.settings.changed"
	auditPayCredentialsSaved  = "pay.credentials.saved"
	auditPayCredentialRemoved = "pay.credentials.removed"
	auditPayLinkCreated       = "pay.link.created"
	auditPayLinkDeactivated   = "pay.link.deactivated"
)

// AuditActions are Pay's actions for the console's audit log page.
func AuditActions() console.AuditActions {
	return console.AuditActions{
		Filters: []web.Option{
			{Value: "pay.", Label: "Payments: everything"},
			{Value: "pay.refund.", Label: "Payments: refunds"},
			{Value: "pay.link.", Label: "Payments: payment links"},
		},
		Words: map[string]string{
			auditPayRefund:            "Refunded a payment",
			auditPaySettings:          "Changed payment settings",
			auditPayCredentialsSaved:  "Saved a payment provider secret key",
			auditPayCredentialRemoved: "Removed a payment provider secret key",
			auditPayLinkCreated:       "Made a payment link",
			auditPayLinkDeactivated:   "Deactivated a payment link",
		},
	}
}

// auditIn records a change in tx, the change's own transaction.
func (p *paymentsConsole) auditIn(ctx context.Context, tx *db.Tx, pc console.PageContext, action, targetType, targetID string, details map[string]any) error {
	if p.deps.Audit == nil {
		return nil
	}
	return p.deps.Audit.Record(ctx, tx, pc.Actor, platform.AuditEntry{ServiceID: pc.Service.ID, Action: action,
		TargetType: targetType, TargetID: targetID, Details: details})
}

// auditAfter records a change that Pay's core made in a transaction of its own (a refund, the
// settings, a provider secret), in one of its own straight afterwards. The change is already
// committed, so a failure here is logged rather than shown: telling the person their refund
// failed when it did not would be worse.
func (p *paymentsConsole) auditAfter(ctx context.Context, pc console.PageContext, action, targetType, targetID string, details map[string]any) {
	if p.deps.Audit == nil {
		return
	}
	err := p.s.db.InTx(ctx, func(tx *db.Tx) error {
		return p.auditIn(ctx, tx, pc, action, targetType, targetID, details)
	})
	if err != nil {
		p.s.log.ErrorContext(ctx, "pay: could not record a change in the audit log", "action", action,
			"service_id", pc.Service.ID, "target_id", targetID, "error", err)
	}
}

// errConsoleNotFound is the console's not-found for a page or record that is not there.
var errConsoleNotFound = failure.New(failure.NotFound, "Page not found")

// notFoundAsPage turns Pay's not-founds into the console's, so that the page says "Page not
// found" whatever the record was.
func notFoundAsPage(err error) error {
	if failure.Is(err, failure.NotFound) {
		return errConsoleNotFound
	}
	return err
}

// stateTag labels a payment's state as a team member would say it.
func stateTag(st Status) *web.Tag {
	e := st.External()
	switch e.Status {
	case "created":
		return &web.Tag{Text: "Created", Colour: "grey"}
	case "started":
		return &web.Tag{Text: "In progress", Colour: "light-blue"}
	case "submitted":
		return &web.Tag{Text: "Waiting for the payer to confirm", Colour: "light-blue"}
	case "capturable":
		return &web.Tag{Text: "Waiting for capture", Colour: "purple"}
	case "success":
		return &web.Tag{Text: "Success", Colour: "green"}
	case "cancelled":
		return &web.Tag{Text: "Cancelled by the service", Colour: "grey"}
	case "error":
		return &web.Tag{Text: "Error", Colour: "red"}
	}
	switch e.Code {
	case "P0010":
		return &web.Tag{Text: "Declined", Colour: "red"}
	case "P0020":
		return &web.Tag{Text: "Timed out", Colour: "orange"}
	case "P0030":
		return &web.Tag{Text: "Cancelled by the payer", Colour: "grey"}
	}
	return &web.Tag{Text: "Failed", Colour: "red"}
}

// refundTag labels a refund's status.
func refundTag(status string) *web.Tag {
	switch status {
	case RefundSuccess:
		return &web.Tag{Text: "Refunded", Colour: "green"}
	case RefundSubmitted:
		return &web.Tag{Text: "Submitted", Colour: "light-blue"}
	}
	return &web.Tag{Text: "Failed", Colour: "red"}
}

// sourceLabel says which product made a payment.
func sourceLabel(source string) string {
	switch source {
	case SourceAPI:
		return "API"
	case SourcePaymentLink:
		return "Payment link"
	case SourceAgentInitiatedMOTO:
		return "Telephone payment (agent)"
	}
	return source
}

// eventWords writes an event's name ("AuthorisationSucceeded") as words ("Authorisation
// succeeded").
func eventWords(event string) string {
	var words []string
	start := 0
	for i := 1; i < len(event); i++ {
		if event[i] >= 'A' && event[i] <= 'Z' {
			words = append(words, event[start:i])
			start = i
		}
	}
	words = append(words, event[start:])
	s := strings.ToLower(strings.Join(words, " "))
	s = strings.NewReplacer("three ds", "3-D Secure", "requires3ds", "requires 3-D Secure").Replace(s)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func paymentsPageFuncs() template.FuncMap {
	return template.FuncMap{
		"pounds":      poundsText,
		"stateTag":    stateTag,
		"refundTag":   refundTag,
		"sourceLabel": sourceLabel,
		"eventWords":  eventWords,
		"modeTag": func(live bool) *web.Tag {
			if live {
				return nil
			}
			return &web.Tag{Text: "Test", Colour: "grey"}
		},
		"brand": func(slug string) string {
			if l := brandLabel(slug); l != "" {
				return l
			}
			return slug
		},
	}
}
