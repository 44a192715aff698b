package notify

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// Notify's pages in the team console, under /admin/services/{id}/notify: templates with live
// previews, sending settings and callbacks, a dashboard, notification search and detail, and
// the letters waiting for the print batch. The console signs people in and checks their team
// permissions in the service; every query here also filters by the service in the URL, so an
// id from another service is not found.

//go:embed templates
var pageTemplates embed.FS

// The team permissions each group of pages needs; any one of the listed ones will do.
var (
	canSeeActivity    = []string{platform.ViewActivity, platform.ManageService}
	canManageSettings = []string{platform.ManageService}
	canEditTemplates  = []string{platform.ManageTemplates}
	canSeeTemplates   = []string{platform.ManageTemplates, platform.SendMessages}
	canPrintLetters   = []string{platform.SendMessages, platform.ManageService}
	canSend           = []string{platform.SendMessages}
	canUseNotify      = []string{platform.ViewActivity, platform.ManageService, platform.ManageTemplates, platform.SendMessages}
)

// consolePages serves Notify's console pages.
type consolePages struct {
	s     *Service
	pages *web.Pages
}

// MountConsole adds Notify's pages to the team console: a "Notify" section in every service's
// navigation, and its routes on mux, each behind the console's sign-in and permission checks.
// Call it after console.New and before serving; mux is the one the console is mounted on.
func (s *Service) MountConsole(mux *http.ServeMux, c *console.Console) error {
	if s.cfg.Keyring == nil {
		return errors.New("notify pages: no keyring to seal template previews with")
	}
	files, err := fs.Sub(pageTemplates, "templates")
	if err != nil {
		return err
	}
	pages, err := c.NewPages(files, pageFuncs())
	if err != nil {
		return fmt.Errorf("notify pages: %w", err)
	}
	c.AddServiceSection(console.Section{Title: "Notify", Path: "notify",
		Description: "emails, text messages and letters", AnyOf: canUseNotify})
	p := &consolePages{s: s, pages: pages}
	route := func(pattern string, anyOf []string, h console.ServicePageFunc) {
		mux.Handle(pattern, c.ServicePage(anyOf, h))
	}
	const base = "/admin/services/{id}/notify"

	route("GET "+base, canUseNotify, p.dashboard)

	route("GET "+base+"/templates", canSeeTemplates, p.templateList)
	route("GET "+base+"/templates/new", canEditTemplates, p.newTemplatePage)
	route("POST "+base+"/templates/new", canEditTemplates, p.createTemplate)
	route("GET "+base+"/templates/{template}", canSeeTemplates, p.templatePage)
	route("GET "+base+"/templates/{template}/edit", canEditTemplates, p.editTemplatePage)
	route("POST "+base+"/templates/{template}/edit", canEditTemplates, p.updateTemplate)
	route("GET "+base+"/templates/{template}/versions", canSeeTemplates, p.templateVersions)
	route("GET "+base+"/templates/{template}/versions/{version}", canSeeTemplates, p.templateVersionPage)
	route("GET "+base+"/templates/{template}/archive", canEditTemplates, p.archiveTemplatePage)
	route("POST "+base+"/templates/{template}/archive", canEditTemplates, p.archiveTemplate)
	route("GET "+base+"/templates/{template}/preview.html", canSeeTemplates, p.savedEmailPreview)
	route("GET "+base+"/templates/{template}/preview.pdf", canSeeTemplates, p.savedLetterPreview)
	route("GET "+base+"/templates/{template}/send", canSend, p.sendPage)
	route("POST "+base+"/templates/{template}/send", canSend, p.send)
	route("GET "+base+"/preview/email", canEditTemplates, p.draftEmailPreview)
	route("GET "+base+"/preview/letter.pdf", canEditTemplates, p.draftLetterPreview)

	route("GET "+base+"/settings", canManageSettings, p.settingsPage)
	route("GET "+base+"/settings/sending", canManageSettings, p.sendingPage)
	route("POST "+base+"/settings/sending", canManageSettings, p.saveSending)
	route("GET "+base+"/settings/retention", canManageSettings, p.retentionPage)
	route("POST "+base+"/settings/retention", canManageSettings, p.saveRetention)
	route("GET "+base+"/settings/guest-list", canManageSettings, p.guestListPage)
	route("POST "+base+"/settings/guest-list", canManageSettings, p.saveGuestList)
	for _, k := range senderPageKinds {
		route("GET "+base+"/settings/"+k.Slug+"/new", canManageSettings, p.newSenderPage(k))
		route("POST "+base+"/settings/"+k.Slug+"/new", canManageSettings, p.addSender(k))
		route("GET "+base+"/settings/"+k.Slug+"/{sender}/remove", canManageSettings, p.removeSenderPage(k))
		route("POST "+base+"/settings/"+k.Slug+"/{sender}/remove", canManageSettings, p.removeSender(k))
	}
	route("GET "+base+"/settings/callbacks/attempts", canManageSettings, p.callbackAttempts)
	route("GET "+base+"/settings/callbacks/{type}", canManageSettings, p.callbackPage)
	route("POST "+base+"/settings/callbacks/{type}", canManageSettings, p.saveCallback)
	route("GET "+base+"/settings/callbacks/{type}/remove", canManageSettings, p.removeCallbackPage)
	route("POST "+base+"/settings/callbacks/{type}/remove", canManageSettings, p.removeCallback)

	route("GET "+base+"/notifications", canSeeActivity, p.notificationsPage)
	route("GET "+base+"/notifications/{notification}", canSeeActivity, p.notificationPage)

	route("GET "+base+"/letters", canPrintLetters, p.lettersPage)
	route("GET "+base+"/letters/batch.zip", canPrintLetters, p.downloadBatch)
	route("POST "+base+"/letters/batches/{batch}/printed", canPrintLetters, p.markBatchPrinted)
	route("POST "+base+"/letters/batches/{batch}/posted", canPrintLetters, p.markBatchPosted)
	route("GET "+base+"/letters/returned", canPrintLetters, p.returnedLettersPage)
	route("POST "+base+"/letters/returned", canPrintLetters, p.recordReturnedLetters)
	return nil
}

// notifyPage is what every Notify page shows around its content: the console's navigation and
// service header, and Notify's own navigation with Area marked as the current item.
type notifyPage struct {
	console.PageContext
	Area string
}

func newNotifyPage(pc console.PageContext, area string) notifyPage {
	return notifyPage{PageContext: pc, Area: area}
}

// Base is the address of the service's Notify pages.
func (p notifyPage) Base() string { return notifyBase(p.PageContext) }

// Nav is Notify's navigation: the areas this person may use.
func (p notifyPage) Nav() []notifyNavItem {
	var out []notifyNavItem
	for _, item := range notifyNav {
		if p.CanAny(item.anyOf...) {
			item.Href = p.Base() + item.path
			item.Current = item.Area == p.Area
			out = append(out, item)
		}
	}
	return out
}

type notifyNavItem struct {
	Area, Title, Href string
	Current           bool
	path              string
	anyOf             []string
}

var notifyNav = []notifyNavItem{
	{Area: "dashboard", Title: "Dashboard", path: "", anyOf: canSeeActivity},
	{Area: "templates", Title: "Templates", path: "/templates", anyOf: canSeeTemplates},
	{Area: "notifications", Title: "Sent messages", path: "/notifications", anyOf: canSeeActivity},
	{Area: "bulk", Title: "Send in bulk", path: "/bulk", anyOf: []string{platform.SendMessages, platform.ViewActivity}},
	{Area: "letters", Title: "Letters to print", path: "/letters", anyOf: canPrintLetters},
	{Area: "settings", Title: "Settings", path: "/settings", anyOf: canManageSettings},
}

func notifyBase(pc console.PageContext) string { return pc.ServiceURL() + "/notify" }

// notifyFormPage is a page with a form on it.
type notifyFormPage struct {
	notifyPage
	*web.Form
}

// render writes a page with status 200.
func (p *consolePages) render(w http.ResponseWriter, r *http.Request, name string, data any) error {
	p.pages.Render(w, r, http.StatusOK, name, data)
	return nil
}

// renderInvalid redisplays a form with its errors, with status 422 as the console does: the
// browser shows it the same, and tests, logs and metrics can tell a refused form from a shown one.
func (p *consolePages) renderInvalid(w http.ResponseWriter, r *http.Request, name string, data any) error {
	p.pages.Render(w, r, http.StatusUnprocessableEntity, name, data)
	return nil
}

// redirectWithFlash ends a successful form post (post/redirect/get), with msg in a success banner.
func redirectWithFlash(w http.ResponseWriter, r *http.Request, to, msg string) error {
	if msg != "" {
		web.SetFlash(w, r, msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// refuseIfArchived refuses changes to an archived service, as the console does for its own settings.
func refuseIfArchived(pc console.PageContext) error {
	if pc.Service.Archived {
		return failure.New(failure.Conflict, "This service has been archived")
	}
	return nil
}

var errConsolePageNotFound = failure.New(failure.NotFound, "Page not found")

// failInOrder moves the field errors of err onto f in the order the fields appear on the
// page, which is the order the GOV.UK error summary lists them. It reports whether err was
// only field errors; a failure naming no field is shown against fallback.
func failInOrder(f *web.Form, err error, fallback string, order ...string) bool {
	if err == nil || !(failure.Is(err, failure.Invalid) || failure.Is(err, failure.Conflict)) {
		return false
	}
	fields := web.FieldErrors(err)
	if len(fields) == 0 {
		f.AddError(fallback, failure.Message(err))
		return true
	}
	rank := func(name string) int {
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(fields, func(a, b web.FieldError) int { return rank(a.Field) - rank(b.Field) })
	for _, fe := range fields {
		field := fe.Field
		if rank(field) == len(order) {
			field = fallback
		}
		f.AddError(field, fe.Message)
	}
	return true
}

// shownChannelLabels name each channel in the singular and the plural.
var shownChannelLabels = map[Channel][2]string{
	Email:  {"Email", "Emails"},
	SMS:    {"Text message", "Text messages"},
	Letter: {"Letter", "Letters"},
}

func shownChannelLabel(c Channel) string {
	if l, ok := shownChannelLabels[c]; ok {
		return l[0]
	}
	return string(c)
}

func shownChannelPlural(c Channel) string {
	if l, ok := shownChannelLabels[c]; ok {
		return l[1]
	}
	return string(c)
}

// consoleChannelOrder is the order the three channels are shown in.
var consoleChannelOrder = []Channel{Email, SMS, Letter}

// withThousands writes a whole number with thousands separators, as GOV.UK style asks.
func withThousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + withThousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// shownPostageLabels name the postage classes.
var shownPostageLabels = map[string]string{
	"first": "First class", "second": "Second class", "economy": "Economy",
	"europe": "Europe", "rest-of-world": "Rest of the world",
}

func shownPostage(p string) string {
	if l, ok := shownPostageLabels[p]; ok {
		return l
	}
	return p
}

func pageFuncs() map[string]any {
	return map[string]any{
		"channelLabel":       shownChannelLabel,
		"channelPluralLabel": shownChannelPlural,
		"count":              withThousands,
		"statusTag":          shownStatusTag,
		"callbackLabel":      callbackTypeLabel,
		"postageLabel":       shownPostage,
		"lower":              strings.ToLower,
		"yesNoOptions": func() []web.Option {
			return []web.Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}
		},
		"defaultOption": func(what string) []web.Option {
			return []web.Option{{Value: "yes", Label: "Make this the default " + what,
				Hint: "The default is used when a message does not name one."}}
		},
		"tokenHint": func(existing bool) string {
			if existing {
				return "At least 10 characters. Leave it blank to keep the token you saved before: it is never shown again."
			}
			return "At least 10 characters. Your API checks it to know the request came from Notify."
		},
	}
}
