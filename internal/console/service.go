package console

import (
	"net/http"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

type overviewPage struct {
	chrome
	Organisation string
	Rows         []web.SummaryRow
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	svc := sc.service
	org := "None"
	if svc.OrganisationID != "" {
		o, err := c.store.Organisation(r.Context(), svc.OrganisationID)
		if err != nil {
			return err
		}
		org = o.Name
	}
	manage := sc.can(platform.ManageService) && !svc.Archived
	status := web.SummaryRow{Key: "Status", Tag: statusTag(svc)}
	if manage {
		status.Href, status.ActionFor = "/admin/services/"+svc.ID+"/live", "status"
		status.Action = "Make live"
		if svc.Live {
			status.Action = "Switch to trial mode"
		}
	}
	perms := web.SummaryRow{Key: "Platform permissions", Value: "None"}
	if len(svc.Permissions) > 0 {
		perms.Value = ""
		for i, p := range svc.Permissions {
			if i > 0 {
				perms.Value += ", "
			}
			perms.Value += label(platform.ServicePermissions, p)
		}
	}
	if manage && s.user.PlatformAdmin {
		perms.Href, perms.Action, perms.ActionFor = "/admin/services/"+svc.ID+"/permissions", "Change", "platform permissions"
	}
	rows := []web.SummaryRow{
		{Key: "Service name", Value: svc.Name},
		{Key: "Organisation", Value: org},
		status,
		perms,
		{Key: "Service ID", Value: svc.ID},
		{Key: "Created", Value: web.FormatTime(svc.CreatedAt)},
	}
	return c.render(w, r, "service", overviewPage{chrome: c.chrome(s, sc, "overview"), Organisation: org, Rows: rows})
}

// statusTag labels a service's state the way the service list and overview show it.
func statusTag(svc platform.Service) *web.Tag {
	switch {
	case svc.Archived:
		return &web.Tag{Text: "Archived", Colour: "grey"}
	case svc.Live:
		return &web.Tag{Text: "Live", Colour: "green"}
	}
	return &web.Tag{Text: "Trial mode", Colour: "blue"}
}

type confirmPage struct {
	chrome
	*web.Form
}

// livePage asks for confirmation before a service changes between trial mode and live.
func (c *Console) livePage(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	if sc.service.Archived {
		return failure.New(failure.Conflict, "This service has been archived")
	}
	return c.render(w, r, "live", confirmPage{chrome: c.chrome(s, sc, "overview")})
}

func (c *Console) setLive(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	live := !sc.service.Live
	if err := c.store.SetLive(r.Context(), s.actor(), sc.service.ID, live); err != nil {
		return err
	}
	msg := sc.service.Name + " is now live"
	if !live {
		msg = sc.service.Name + " is now in trial mode"
	}
	return redirect(w, r, "/admin/services/"+sc.service.ID, msg)
}

func (c *Console) archivePage(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	if sc.service.Archived {
		return failure.New(failure.Conflict, "This service has already been archived")
	}
	return c.render(w, r, "archive", confirmPage{chrome: c.chrome(s, sc, "overview")})
}

func (c *Console) archive(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	if err := c.store.Archive(r.Context(), s.actor(), sc.service.ID); err != nil {
		return err
	}
	return redirect(w, r, "/admin/services/"+sc.service.ID, sc.service.Name+" has been archived and its API keys revoked")
}

// permissionsPage shows the platforms a service may use. Only platform admins change them:
// they decide which services may send text messages or take payments.
func (c *Console) permissionsPage(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	if err := requireAdmin(s); err != nil {
		return err
	}
	f := web.NewForm()
	f.Set("permissions", sc.service.Permissions...)
	return c.render(w, r, "permissions", confirmPage{chrome: c.chrome(s, sc, "overview"), Form: f})
}

func (c *Console) setPermissions(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	if err := requireAdmin(s); err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	perms := f.All("permissions")
	if perms == nil {
		perms = []string{}
	}
	if err := c.store.SetServicePermissions(r.Context(), s.actor(), sc.service.ID, perms); err != nil {
		if !f.Fail(err, "permissions") {
			return err
		}
		return c.renderInvalid(w, r, "permissions", confirmPage{chrome: c.chrome(s, sc, "overview"), Form: f})
	}
	return redirect(w, r, "/admin/services/"+sc.service.ID, "Platform permissions saved")
}
