package pay

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// The webhook pages of the team console, under /admin/services/{id}/payment-webhooks: the
// service's webhooks, making and changing one, its signing secret, the log of every delivery
// attempt, and the confirmation email. They are a section of their own so that their routes
// cannot overlap the Payments section's /payments/{payment}/… ones. Every query filters by the
// service in the URL, so a webhook of another service is not found.

//go:embed console_templates/webhooks*.tmpl
var webhookConsoleTemplates embed.FS

// canManageWebhooks: webhooks and the confirmation email are the service's configuration, and
// a webhook's secret is as sensitive as an API key.
var canManageWebhooks = []string{platform.ManageService}

const webhookSectionPath = "payment-webhooks"

// webhookConsole serves the webhook pages.
type webhookConsole struct {
	s     *Service
	pages *web.Pages
}

// MountWebhookConsole adds the webhook pages to the team console: a "Payment webhooks" section
// in every service's navigation, its actions on the audit log page, and its routes on mux.
// Call it after console.New and before serving; mux is the one the console is mounted on.
func (s *Service) MountWebhookConsole(mux *http.ServeMux, c *console.Console) error {
	files, err := fs.Sub(webhookConsoleTemplates, "console_templates")
	if err != nil {
		return err
	}
	pages, err := c.NewPages(files, nil)
	if err != nil {
		return fmt.Errorf("pay webhook pages: %w", err)
	}
	c.AddServiceSection(console.Section{Title: "Payment webhooks", Path: webhookSectionPath,
		Description: "tell your systems, and payers, when payments change", AnyOf: canManageWebhooks})
	c.AddAuditActions(webhookAuditActions())
	p := &webhookConsole{s: s, pages: pages}
	route := func(pattern string, h console.ServicePageFunc) {
		mux.Handle(pattern, c.ServicePage(canManageWebhooks, h))
	}
	const base = "/admin/services/{id}/" + webhookSectionPath
	route("GET "+base, p.listPage)
	route("GET "+base+"/new", p.newPage)
	route("POST "+base+"/new", p.create)
	route("GET "+base+"/confirmation-email", p.emailPage)
	route("POST "+base+"/confirmation-email", p.saveEmail)
	route("GET "+base+"/{webhook}", p.detailPage)
	route("GET "+base+"/{webhook}/edit", p.editPage)
	route("POST "+base+"/{webhook}/edit", p.update)
	route("POST "+base+"/{webhook}/status", p.setStatus)
	route("GET "+base+"/{webhook}/signing-secret", p.secretPage)
	route("POST "+base+"/{webhook}/signing-secret", p.rotateSecret)
	return nil
}

// webhookAuditActions describes the webhook actions on the audit log page.
func webhookAuditActions() console.AuditActions {
	return console.AuditActions{
		Filters: []web.Option{{Value: "pay.webhook.", Label: "Payments: webhooks"}},
		Words: map[string]string{
			auditWebhookCreated:       "Made a payment webhook",
			auditWebhookUpdated:       "Changed a payment webhook",
			auditWebhookActivated:     "Turned on a payment webhook",
			auditWebhookDeactivated:   "Turned off a payment webhook",
			auditWebhookSecretRotated: "Made a new signing secret for a payment webhook",
			auditConfirmationEmail:    "Changed the payment confirmation email",
		},
	}
}

// webhookView is what every webhook page shows around its content.
type webhookView struct {
	console.PageContext
}

// Base is the address of the service's webhook pages.
func (v webhookView) Base() string { return v.ServiceURL() + "/" + webhookSectionPath }

// EventLabel names an event type for people.
func (webhookView) EventLabel(eventType string) string {
	if l, ok := webhookEventLabels[eventType]; ok {
		return l
	}
	return eventType
}

var webhookEventLabels = map[string]string{
	EventCardPaymentStarted:   "Payment started",
	EventCardPaymentSucceeded: "Payment succeeded",
	EventCardPaymentCaptured:  "Payment captured",
	EventCardPaymentRefunded:  "Payment refunded",
	EventCardPaymentFailed:    "Payment failed",
	EventCardPaymentExpired:   "Payment expired",
	EventCardPaymentSettled:   "Payment settled",
}

func (p *webhookConsole) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	p.pages.Render(w, r, status, name, data)
	return nil
}

func webhookDone(w http.ResponseWriter, r *http.Request, to, msg string) error {
	web.SetFlash(w, r, msg)
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func refuseWebhookChangeIfArchived(pc console.PageContext) error {
	if pc.Service.Archived {
		return failure.New(failure.Conflict, "This service has been archived")
	}
	return nil
}

type webhookListPage struct {
	webhookView
	Webhooks []Webhook
	Email    ConfirmationEmail
}

func (p *webhookConsole) listPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	list, err := p.s.Webhooks(r.Context(), pc.Service.ID)
	if err != nil {
		return err
	}
	email, err := p.s.ConfirmationEmail(r.Context(), pc.Service.ID)
	if err != nil {
		return err
	}
	return p.render(w, r, http.StatusOK, "webhooks", webhookListPage{webhookView: webhookView{pc}, Webhooks: list, Email: email})
}

// webhookFormPage makes or changes a webhook.
type webhookFormPage struct {
	webhookView
	*web.Form
	// Webhook is the one being changed; nil for a new one.
	Webhook *Webhook
}

// EventOptions are the event types to choose from.
func (v webhookFormPage) EventOptions() []web.Option {
	out := make([]web.Option, 0, len(WebhookEventTypes))
	for _, t := range WebhookEventTypes {
		o := web.Option{Value: t, Label: v.EventLabel(t)}
		switch t {
		case EventCardPaymentStarted, EventCardPaymentSettled:
			o.Hint = "Accepted for compatibility with GOV.UK Pay, which does not send it either"
		}
		out = append(out, o)
	}
	return out
}

// ModeOptions choose the payments a new webhook hears about.
func (v webhookFormPage) ModeOptions() []web.Option {
	return []web.Option{
		{Value: "test", Label: "Test payments", Hint: "Payments made with team and test API keys. Any https address."},
		{Value: "live", Label: "Live payments", Hint: "Payments made with live API keys. Only public-sector addresses, such as gov.uk."},
	}
}

func (p *webhookConsole) newPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseWebhookChangeIfArchived(pc); err != nil {
		return err
	}
	f := web.NewForm()
	f.Set("mode", "test")
	return p.render(w, r, http.StatusOK, "webhooks-form", webhookFormPage{webhookView: webhookView{pc}, Form: f})
}

func (p *webhookConsole) create(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseWebhookChangeIfArchived(pc); err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	data := webhookFormPage{webhookView: webhookView{pc}, Form: f}
	mode := f.Get("mode")
	if mode != "test" && mode != "live" {
		f.AddError("mode", "Choose test or live payments")
	}
	in := WebhookInput{CallbackURL: f.Get("callback_url"), Description: f.Get("description"), Subscriptions: f.All("subscriptions")}
	if !f.Valid() {
		// Check the other fields too, so every problem is shown at once.
		_, err := p.s.checkWebhookInput(in, false)
		f.Fail(err, "callback_url")
		return p.render(w, r, http.StatusUnprocessableEntity, "webhooks-form", data)
	}
	hook, _, err := p.s.CreateWebhook(r.Context(), pc.Service.ID, mode == "live", in)
	if err != nil {
		if !f.Fail(err, "callback_url") {
			return err
		}
		return p.render(w, r, http.StatusUnprocessableEntity, "webhooks-form", data)
	}
	return webhookDone(w, r, data.Base()+"/"+hook.ID, "Webhook made. Use its signing secret to check that messages come from Commons.")
}

// webhookFromPath reads the webhook named in the URL.
func (p *webhookConsole) webhookFromPath(r *http.Request, pc console.PageContext) (Webhook, error) {
	return p.s.Webhook(r.Context(), pc.Service.ID, r.PathValue("webhook"))
}

func (p *webhookConsole) editPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseWebhookChangeIfArchived(pc); err != nil {
		return err
	}
	hook, err := p.webhookFromPath(r, pc)
	if err != nil {
		return err
	}
	f := web.NewForm()
	f.Set("callback_url", hook.CallbackURL)
	f.Set("description", hook.Description)
	f.Set("subscriptions", hook.Subscriptions...)
	return p.render(w, r, http.StatusOK, "webhooks-form", webhookFormPage{webhookView: webhookView{pc}, Form: f, Webhook: &hook})
}

func (p *webhookConsole) update(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseWebhookChangeIfArchived(pc); err != nil {
		return err
	}
	hook, err := p.webhookFromPath(r, pc)
	if err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	url, desc, subs := f.Get("callback_url"), f.Get("description"), f.All("subscriptions")
	_, err = p.s.UpdateWebhook(r.Context(), pc.Service.ID, hook.ID, WebhookUpdate{CallbackURL: &url, Description: &desc, Subscriptions: &subs})
	if err != nil {
		if !f.Fail(err, "callback_url") {
			return err
		}
		return p.render(w, r, http.StatusUnprocessableEntity, "webhooks-form", webhookFormPage{webhookView: webhookView{pc}, Form: f, Webhook: &hook})
	}
	return webhookDone(w, r, webhookView{pc}.Base()+"/"+hook.ID, "Webhook saved")
}

func (p *webhookConsole) setStatus(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseWebhookChangeIfArchived(pc); err != nil {
		return err
	}
	hook, err := p.webhookFromPath(r, pc)
	if err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	status := f.Get("status")
	if _, err := p.s.UpdateWebhook(r.Context(), pc.Service.ID, hook.ID, WebhookUpdate{Status: &status}); err != nil {
		if !failure.Is(err, failure.Invalid) {
			return err
		}
		// A webhook whose URL the rules no longer allow cannot be turned back on: say why.
		return failure.New(failure.Conflict, "%s", failure.Message(err))
	}
	msg := "Webhook turned off: messages are no longer sent to it"
	if status == WebhookActive {
		msg = "Webhook turned on"
	}
	return webhookDone(w, r, webhookView{pc}.Base()+"/"+hook.ID, msg)
}

type webhookDetailPage struct {
	webhookView
	Webhook  Webhook
	Attempts []WebhookAttempt
	First    bool
	Next     string
}

func (p *webhookConsole) detailPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	hook, err := p.webhookFromPath(r, pc)
	if err != nil {
		return err
	}
	before := r.URL.Query().Get("before")
	attempts, more, err := p.s.WebhookAttempts(r.Context(), pc.Service.ID, hook.ID, before)
	if err != nil {
		return err
	}
	data := webhookDetailPage{webhookView: webhookView{pc}, Webhook: hook, Attempts: attempts, First: before == ""}
	if more {
		data.Next = data.Base() + "/" + hook.ID + "?before=" + attempts[len(attempts)-1].ID
	}
	return p.render(w, r, http.StatusOK, "webhooks-detail", data)
}

type webhookSecretPage struct {
	webhookView
	Webhook Webhook
	Secret  string
}

func (p *webhookConsole) secretPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	hook, err := p.webhookFromPath(r, pc)
	if err != nil {
		return err
	}
	secret, err := p.s.WebhookSecret(r.Context(), pc.Service.ID, hook.ID)
	if err != nil {
		return err
	}
	// The secret must not linger in shared caches or the browser's history of pages.
	w.Header().Set("Cache-Control", "no-store")
	return p.render(w, r, http.StatusOK, "webhooks-secret", webhookSecretPage{webhookView: webhookView{pc}, Webhook: hook, Secret: secret})
}

func (p *webhookConsole) rotateSecret(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseWebhookChangeIfArchived(pc); err != nil {
		return err
	}
	hook, err := p.webhookFromPath(r, pc)
	if err != nil {
		return err
	}
	if _, err := p.s.RotateWebhookSecret(r.Context(), pc.Service.ID, hook.ID); err != nil {
		return err
	}
	return webhookDone(w, r, webhookView{pc}.Base()+"/"+hook.ID+"/signing-secret",
		"New signing secret made. Messages are signed with it from now on; the old one no longer works.")
}

type webhookEmailPage struct {
	webhookView
	*web.Form
}

// EnabledOptions turn the confirmation email on or off.
func (webhookEmailPage) EnabledOptions() []web.Option {
	return []web.Option{
		{Value: "yes", Label: "Yes, email the payer", Hint: "When a payment succeeds and the payer gave an email address."},
		{Value: "no", Label: "No"},
	}
}

// Personalisation lists what the template's placeholders may use.
func (webhookEmailPage) Personalisation() []string { return ConfirmationPersonalisation }

func (p *webhookConsole) emailPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseWebhookChangeIfArchived(pc); err != nil {
		return err
	}
	c, err := p.s.ConfirmationEmail(r.Context(), pc.Service.ID)
	if err != nil {
		return err
	}
	f := web.NewForm()
	f.Set("enabled", map[bool]string{true: "yes", false: "no"}[c.Enabled])
	f.Set("template_id", c.TemplateID)
	return p.render(w, r, http.StatusOK, "webhooks-email", webhookEmailPage{webhookView: webhookView{pc}, Form: f})
}

func (p *webhookConsole) saveEmail(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseWebhookChangeIfArchived(pc); err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	data := webhookEmailPage{webhookView: webhookView{pc}, Form: f}
	enabled := f.Get("enabled")
	if enabled != "yes" && enabled != "no" {
		f.AddError("enabled", "Choose whether to email payers")
		return p.render(w, r, http.StatusUnprocessableEntity, "webhooks-email", data)
	}
	err = p.s.SetConfirmationEmail(r.Context(), pc.Service.ID, ConfirmationEmail{Enabled: enabled == "yes", TemplateID: f.Get("template_id")})
	if err != nil {
		if !f.Fail(err, "template_id") {
			return err
		}
		return p.render(w, r, http.StatusUnprocessableEntity, "webhooks-email", data)
	}
	return webhookDone(w, r, data.Base(), "Confirmation email saved")
}
