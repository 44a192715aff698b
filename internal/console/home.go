package console

import (
	"net/http"
	"time"

	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// serviceRow is one service in a list, with its organisation's name.
type serviceRow struct {
	platform.Service
	Organisation string
}

type homePage struct {
	chrome
	Services []serviceRow
}

// home lists the services the user can see: every one for platform admins, their own for
// everyone else.
func (c *Console) home(w http.ResponseWriter, r *http.Request, s *session) error {
	var list []platform.Service
	var err error
	if s.user.PlatformAdmin {
		list, err = c.store.Services(r.Context())
	} else {
		list, err = c.store.ServicesForUser(r.Context(), s.user.ID)
	}
	if err != nil {
		return err
	}
	names, err := c.organisationNames(r)
	if err != nil {
		return err
	}
	rows := make([]serviceRow, len(list))
	for i, svc := range list {
		rows[i] = serviceRow{Service: svc, Organisation: names[svc.OrganisationID]}
	}
	return c.render(w, r, "home", homePage{chrome: c.chrome(s, nil, ""), Services: rows})
}

func (c *Console) organisationNames(r *http.Request) (map[string]string, error) {
	orgs, err := c.store.Organisations(r.Context())
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(orgs))
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	return names, nil
}

func (c *Console) account(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.render(w, r, "account", formPage{chrome: c.chrome(s, nil, "")})
}

type organisationsPage struct {
	chrome
	*web.Form
	Organisations []platform.Organisation
}

func (c *Console) organisations(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := requireAdmin(s); err != nil {
		return err
	}
	return c.showOrganisations(w, r, s, web.NewForm(), http.StatusOK)
}

func (c *Console) showOrganisations(w http.ResponseWriter, r *http.Request, s *session, f *web.Form, status int) error {
	orgs, err := c.store.Organisations(r.Context())
	if err != nil {
		return err
	}
	c.pages.Render(w, r, status, "organisations", organisationsPage{chrome: c.chrome(s, nil, ""), Form: f, Organisations: orgs})
	return nil
}

func (c *Console) createOrganisation(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := requireAdmin(s); err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	o, err := c.store.CreateOrganisation(r.Context(), s.actor(), f.Get("name"))
	if err != nil {
		if !f.Fail(err, "name") {
			return err
		}
		return c.showOrganisations(w, r, s, f, http.StatusUnprocessableEntity)
	}
	return redirect(w, r, "/admin/organisations", "Organisation created: "+o.Name)
}

type newServicePage struct {
	chrome
	*web.Form
	Organisations []web.Option
}

func (c *Console) newServicePage(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := requireAdmin(s); err != nil {
		return err
	}
	f := web.NewForm()
	f.Set("live", "no")
	f.Set("organisation", r.URL.Query().Get("organisation"))
	return c.showNewService(w, r, s, f, http.StatusOK)
}

func (c *Console) showNewService(w http.ResponseWriter, r *http.Request, s *session, f *web.Form, status int) error {
	orgs, err := c.store.Organisations(r.Context())
	if err != nil {
		return err
	}
	opts := []web.Option{{Value: "", Label: "Select an organisation"}}
	for _, o := range orgs {
		opts = append(opts, web.Option{Value: o.ID, Label: o.Name})
	}
	c.pages.Render(w, r, status, "new-service", newServicePage{chrome: c.chrome(s, nil, ""), Form: f, Organisations: opts})
	return nil
}

// createService makes a service. The form's checks run first and together, so that the
// person sees every problem at once rather than one per attempt.
func (c *Console) createService(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := requireAdmin(s); err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	f.Require("name", "Enter a service name")
	f.Require("organisation", "Select an organisation")
	if live := f.Get("live"); live != "yes" && live != "no" {
		f.AddError("live", "Select whether the service is in trial mode or live")
	}
	if f.Valid() {
		svc, err := c.store.CreateService(r.Context(), s.actor(), platform.NewService{
			Name: f.Get("name"), OrganisationID: f.Get("organisation"), Live: f.Get("live") == "yes",
		})
		if err == nil {
			return redirect(w, r, "/admin/services/"+svc.ID, "Service created: "+svc.Name)
		}
		if !f.Fail(err, "name") {
			return err
		}
	}
	return c.showNewService(w, r, s, f, http.StatusUnprocessableEntity)
}

// london is the zone the console's dates are entered in.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// outboxLimit is how many recent messages the outbox page lists.
const outboxLimit = 100

type outboxPage struct {
	chrome
	Messages []outbox.Message
	Message  outbox.Message
}

// outboxAllowed lets platform admins read the development outbox. It holds every message the
// platforms would have sent for every service, so nobody else may, and outside development
// mode there is nothing to read.
func (c *Console) outboxAllowed(s *session) error {
	if !c.cfg.Dev || c.cfg.Outbox == nil {
		return errNotFound
	}
	return requireAdmin(s)
}

func (c *Console) outbox(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.outboxAllowed(s); err != nil {
		return err
	}
	msgs, err := c.cfg.Outbox.Recent(r.Context(), outboxLimit)
	if err != nil {
		return err
	}
	return c.render(w, r, "outbox", outboxPage{chrome: c.chrome(s, nil, ""), Messages: msgs})
}

func (c *Console) outboxMessage(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.outboxAllowed(s); err != nil {
		return err
	}
	m, err := c.cfg.Outbox.Message(r.Context(), r.PathValue("message"))
	if err != nil {
		return err
	}
	return c.render(w, r, "outbox-message", outboxPage{chrome: c.chrome(s, nil, ""), Message: m})
}

// channelName words a message channel for people.
func channelName(ch string) string {
	switch ch {
	case "email":
		return "Email"
	case "sms":
		return "Text message"
	case "letter":
		return "Letter"
	}
	return ch
}
