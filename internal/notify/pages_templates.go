package notify

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// The template pages: the list, one template with its preview, creating and editing with a
// Preview button that redisplays the form beside the message as it will look, the version
// history, and archiving.

var errTemplateArchived = failure.New(failure.Conflict, "This template has been archived")

// templateFieldOrder is the order of the template form's fields, for the error summary.
var templateFieldOrder = []string{"name", "subject", "content", "postage", "letter_contact_id"}

type templateListPage struct {
	notifyPage
	Type      Channel
	Filters   []templateFilterLink
	Templates []Template
}

// templateFilterLink is one choice in a row of filter links; the current one is marked.
type templateFilterLink struct {
	Label, Href string
	Current     bool
}

func (p *consolePages) templateList(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	typ := Channel(r.URL.Query().Get("type"))
	if !typ.Valid() {
		typ = ""
	}
	list, err := p.s.Templates(r.Context(), pc.Service.ID, TemplateFilter{Type: typ})
	if err != nil {
		return err
	}
	data := templateListPage{notifyPage: newNotifyPage(pc, "templates"), Type: typ, Templates: list}
	base := data.Base() + "/templates"
	data.Filters = append(data.Filters, templateFilterLink{Label: "All", Href: base, Current: typ == ""})
	for _, c := range consoleChannelOrder {
		data.Filters = append(data.Filters, templateFilterLink{Label: shownChannelPlural(c), Href: base + "?type=" + string(c), Current: typ == c})
	}
	return p.render(w, r, "templates", data)
}

// permittedChannels are the channels a service has the platform permission to send.
func permittedChannels(svc platform.Service) []Channel {
	perm := map[Channel]string{Email: platform.ServiceEmail, SMS: platform.ServiceSMS, Letter: platform.ServiceLetter}
	var out []Channel
	for _, c := range consoleChannelOrder {
		if svc.Can(perm[c]) {
			out = append(out, c)
		}
	}
	return out
}

type templateTypePage struct {
	notifyFormPage
	Types []web.Option
}

type templateFormPage struct {
	notifyFormPage
	Type     Channel
	Template *Template // nil while creating
	Action   string
	Contacts []web.Option
	Postages []web.Option
	Preview  *templatePreview
}

// newTemplatePage asks what kind of template to add, then (?type=…) shows the empty form. The
// question's form says it was answered (choose=type), so that answering nothing is an error.
func (p *consolePages) newTemplatePage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	typ := Channel(r.URL.Query().Get("type"))
	if typ.Valid() {
		f := web.NewForm()
		if typ == Letter {
			f.Set("postage", "second")
		}
		data, err := p.templateForm(r, pc, typ, nil, f)
		if err != nil {
			return err
		}
		return p.render(w, r, "template-form", data)
	}
	f := web.NewForm()
	data := templateTypePage{notifyFormPage: notifyFormPage{notifyPage: newNotifyPage(pc, "templates"), Form: f}}
	for _, c := range permittedChannels(pc.Service) {
		data.Types = append(data.Types, web.Option{Value: string(c), Label: shownChannelLabel(c)})
	}
	if r.URL.Query().Has("type") || r.URL.Query().Has("choose") {
		f.AddError("type", "Select the kind of template you want to add")
		return p.renderInvalid(w, r, "template-type", data)
	}
	return p.render(w, r, "template-type", data)
}

// templateForm builds the create or edit form's page for a template of type typ.
func (p *consolePages) templateForm(r *http.Request, pc console.PageContext, typ Channel, t *Template, f *web.Form) (templateFormPage, error) {
	data := templateFormPage{notifyFormPage: notifyFormPage{notifyPage: newNotifyPage(pc, "templates"), Form: f}, Type: typ, Template: t}
	data.Action = data.Base() + "/templates/new"
	if t != nil {
		data.Action = data.Base() + "/templates/" + t.ID + "/edit"
	}
	if typ == Letter {
		data.Postages = []web.Option{
			{Value: "first", Label: "First class"},
			{Value: "second", Label: "Second class"},
			{Value: "economy", Label: "Economy"},
		}
		contacts, err := p.s.LetterContacts(r.Context(), pc.Service.ID)
		if err != nil {
			return data, err
		}
		if len(contacts) > 0 {
			data.Contacts = append(data.Contacts, web.Option{Value: "", Label: "The default contact block"})
			for _, c := range contacts {
				first, _, _ := strings.Cut(c.Value, "\n")
				data.Contacts = append(data.Contacts, web.Option{Value: c.ID, Label: first})
			}
		}
	}
	return data, nil
}

// templateInputFrom reads the template form. Browsers send a textarea's line endings as CRLF;
// they are stored as plain newlines, as templates written through the API have them.
func templateInputFrom(f *web.Form, typ Channel) TemplateInput {
	in := TemplateInput{Name: f.Get("name"), Type: typ, Content: strings.ReplaceAll(f.Raw("content"), "\r\n", "\n")}
	if typ != SMS {
		in.Subject = f.Get("subject")
	}
	if typ == Letter {
		in.Postage, in.LetterContactID = f.Get("postage"), f.Get("letter_contact_id")
	}
	return in
}

// createTemplate saves a new template, or, when the Preview button was pressed, shows the
// form again with the preview beside it and saves nothing.
func (p *consolePages) createTemplate(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	typ := Channel(f.Get("type"))
	if !typ.Valid() {
		return failure.New(failure.Invalid, "Choose the kind of template to add")
	}
	data, err := p.templateForm(r, pc, typ, nil, f)
	if err != nil {
		return err
	}
	in := templateInputFrom(f, typ)
	if f.Get("action") == "preview" {
		if data.Preview, err = p.draftPreview(r, pc, in); err != nil {
			return err
		}
		return p.render(w, r, "template-form", data)
	}
	t, err := p.s.CreateTemplate(r.Context(), pc.Service.ID, pc.Actor.Label, in)
	if err != nil {
		if !failInOrder(f, err, "name", templateFieldOrder...) {
			return err
		}
		return p.renderInvalid(w, r, "template-form", data)
	}
	return redirectWithFlash(w, r, data.Base()+"/templates/"+t.ID, "Template created: "+t.Name)
}

// serviceTemplate loads the template in the URL; hidden ones (the placeholder behind
// precompiled letters) are not found.
func (p *consolePages) serviceTemplate(r *http.Request, pc console.PageContext, version int) (Template, error) {
	t, err := p.s.TemplateVersion(r.Context(), pc.Service.ID, r.PathValue("template"), version)
	if err != nil {
		return Template{}, err
	}
	if t.Hidden {
		return Template{}, errTemplateNotFound
	}
	return t, nil
}

type templateShowPage struct {
	notifyPage
	Template     Template
	Preview      *templatePreview
	ContactBlock string
	// Latest is the current version when an older one is shown, else 0.
	Latest int
}

func (p *consolePages) templatePage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	t, err := p.serviceTemplate(r, pc, 0)
	if err != nil {
		return err
	}
	return p.showTemplate(w, r, pc, t, 0)
}

func (p *consolePages) templateVersionPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v < 1 {
		return errConsolePageNotFound
	}
	current, err := p.serviceTemplate(r, pc, 0)
	if err != nil {
		return err
	}
	t, err := p.serviceTemplate(r, pc, v)
	if err != nil {
		return err
	}
	return p.showTemplate(w, r, pc, t, current.Version)
}

func (p *consolePages) showTemplate(w http.ResponseWriter, r *http.Request, pc console.PageContext, t Template, latest int) error {
	data := templateShowPage{notifyPage: newNotifyPage(pc, "templates"), Template: t, Latest: latest}
	var err error
	data.Preview, err = p.savedPreview(r, pc, t)
	if err != nil {
		return err
	}
	data.ContactBlock = data.Preview.ContactBlock
	return p.render(w, r, "template", data)
}

func (p *consolePages) editTemplatePage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	t, err := p.serviceTemplate(r, pc, 0)
	if err != nil {
		return err
	}
	if t.Archived {
		return errTemplateArchived
	}
	f := web.NewForm()
	f.Set("name", t.Name)
	f.Set("subject", t.Subject)
	f.Set("content", t.Content)
	f.Set("postage", t.Postage)
	f.Set("letter_contact_id", t.LetterContactID)
	data, err := p.templateForm(r, pc, t.Type, &t, f)
	if err != nil {
		return err
	}
	return p.render(w, r, "template-form", data)
}

// updateTemplate saves a new version of a template, or previews the edited form.
func (p *consolePages) updateTemplate(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	t, err := p.serviceTemplate(r, pc, 0)
	if err != nil {
		return err
	}
	if t.Archived {
		return errTemplateArchived
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	data, err := p.templateForm(r, pc, t.Type, &t, f)
	if err != nil {
		return err
	}
	in := templateInputFrom(f, t.Type)
	if f.Get("action") == "preview" {
		if data.Preview, err = p.draftPreview(r, pc, in); err != nil {
			return err
		}
		return p.render(w, r, "template-form", data)
	}
	saved, err := p.s.UpdateTemplate(r.Context(), pc.Service.ID, t.ID, pc.Actor.Label, in)
	if err != nil {
		if !failInOrder(f, err, "name", templateFieldOrder...) {
			return err
		}
		return p.renderInvalid(w, r, "template-form", data)
	}
	msg := "Template saved: " + saved.Name
	if saved.Version == t.Version {
		msg = "Nothing changed, so no new version was saved"
	}
	return redirectWithFlash(w, r, data.Base()+"/templates/"+t.ID, msg)
}

type templateVersionsPage struct {
	notifyPage
	Template Template
	Versions []Template
}

func (p *consolePages) templateVersions(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	t, err := p.serviceTemplate(r, pc, 0)
	if err != nil {
		return err
	}
	versions, err := p.s.TemplateVersions(r.Context(), pc.Service.ID, t.ID)
	if err != nil {
		return err
	}
	return p.render(w, r, "template-versions", templateVersionsPage{notifyPage: newNotifyPage(pc, "templates"), Template: t, Versions: versions})
}

type templateArchivePage struct {
	notifyPage
	Template Template
}

func (p *consolePages) archiveTemplatePage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	t, err := p.serviceTemplate(r, pc, 0)
	if err != nil {
		return err
	}
	if t.Archived {
		return failure.New(failure.Conflict, "This template has already been archived")
	}
	return p.render(w, r, "template-archive", templateArchivePage{notifyPage: newNotifyPage(pc, "templates"), Template: t})
}

func (p *consolePages) archiveTemplate(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	t, err := p.serviceTemplate(r, pc, 0)
	if err != nil {
		return err
	}
	if _, err := p.s.ArchiveTemplate(r.Context(), pc.Service.ID, t.ID, pc.Actor.Label); err != nil {
		return err
	}
	return redirectWithFlash(w, r, notifyBase(pc)+"/templates", "Template archived: "+t.Name)
}
