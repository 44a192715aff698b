package notify

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/web"
)

// Sending one email or text message from the console: the recipient and a value for each
// placeholder. It goes through the same Go API other platforms use, so the service's rules
// (trial mode and its guest list, daily limits, the recipient checks) apply exactly as they do
// to the API, and the message is recorded as sent by the signed-in person.

// placeholderField is one ((placeholder)) of a template as the send form asks for it.
type placeholderField struct {
	Name  string // the form field: p1, p2, …
	Label string // the placeholder as written
}

type sendPage struct {
	notifyFormPage
	Template     Template
	Placeholders []placeholderField
}

// RecipientLabel asks for the right kind of recipient.
func (sp sendPage) RecipientLabel() string {
	if sp.Template.Type == SMS {
		return "Mobile phone number"
	}
	return "Email address"
}

// sendableTemplate loads the template in the URL for sending: a current email or text message
// template. Letters are sent through the API, which takes their address.
func (p *consolePages) sendableTemplate(r *http.Request, pc console.PageContext) (Template, error) {
	t, err := p.serviceTemplate(r, pc, 0)
	if err != nil {
		return Template{}, err
	}
	if t.Type == Letter {
		return Template{}, errConsolePageNotFound
	}
	if t.Archived {
		return Template{}, errTemplateArchived
	}
	return t, nil
}

func placeholderFields(t Template) []placeholderField {
	var out []placeholderField
	for i, name := range content.Placeholders(t.Subject + "\n" + t.Content) {
		out = append(out, placeholderField{Name: "p" + strconv.Itoa(i+1), Label: name})
	}
	return out
}

func (p *consolePages) sendPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	t, err := p.sendableTemplate(r, pc)
	if err != nil {
		return err
	}
	return p.render(w, r, "send", sendPage{notifyFormPage: notifyFormPage{notifyPage: newNotifyPage(pc, "templates"), Form: web.NewForm()},
		Template: t, Placeholders: placeholderFields(t)})
}

func (p *consolePages) send(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	t, err := p.sendableTemplate(r, pc)
	if err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	data := sendPage{notifyFormPage: notifyFormPage{notifyPage: newNotifyPage(pc, "templates"), Form: f},
		Template: t, Placeholders: placeholderFields(t)}
	to := f.Get("to")
	if to == "" && t.Type == SMS {
		f.AddError("to", "Enter a mobile phone number")
	} else if to == "" {
		f.AddError("to", "Enter an email address")
	}
	personalisation := map[string]any{}
	for _, ph := range data.Placeholders {
		personalisation[ph.Label] = f.Get(ph.Name)
		if f.Get(ph.Name) == "" {
			f.AddError(ph.Name, "Enter "+ph.Label)
		}
	}
	if !f.Valid() {
		return p.renderInvalid(w, r, "send", data)
	}
	send := p.s.SendEmail
	if t.Type == SMS {
		send = p.s.SendSMS
	}
	n, err := send(r.Context(), pc.Service.ID, t.ID, to, personalisation, WithCreatedBy(pc.User.Email))
	var refused *SendError
	if errors.As(err, &refused) {
		f.AddError("to", refused.Message)
		return p.renderInvalid(w, r, "send", data)
	}
	if err != nil {
		return err
	}
	msg := shownChannelLabel(t.Type) + " sent to " + to
	if pc.CanAny(canSeeActivity...) {
		return redirectWithFlash(w, r, data.Base()+"/notifications/"+n.ID, msg)
	}
	return redirectWithFlash(w, r, data.Base()+"/templates/"+t.ID, msg)
}
