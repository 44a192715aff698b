package console

import (
	"net/http"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

type teamPage struct {
	chrome
	Members []platform.Member
}

// team lists a service's members and their permissions to anyone on the team; changing the
// team needs manage_service.
func (c *Console) team(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	members, err := c.store.Members(r.Context(), sc.service.ID)
	if err != nil {
		return err
	}
	return c.render(w, r, "team", teamPage{chrome: c.chrome(s, sc, "team"), Members: members})
}

func (c *Console) invitePage(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	return c.render(w, r, "invite", confirmPage{chrome: c.chrome(s, sc, "team"), Form: web.NewForm()})
}

type invitedPage struct {
	chrome
	Email string
	Link  string
}

// invite adds someone to the team and shows their one-time link, once. The platform also
// hands the invitation to whatever sends Commons' emails (the outbox in development mode).
func (c *Console) invite(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	if f.Require("email", "Enter an email address") {
		u, token, err := c.store.Invite(r.Context(), s.actor(), sc.service.ID, f.Get("email"), f.All("permissions"))
		if err == nil {
			return c.render(w, r, "invited", invitedPage{chrome: c.chrome(s, sc, "team"), Email: u.Email,
				Link: c.base + "/admin/link/" + token})
		}
		if !f.Fail(err, "email") {
			return err
		}
	}
	return c.renderInvalid(w, r, "invite", confirmPage{chrome: c.chrome(s, sc, "team"), Form: f})
}

type memberPage struct {
	chrome
	*web.Form
	Member platform.Member
}

// member finds a team member of the service in the URL. Users of other services are not
// found here, whoever asks.
func (c *Console) member(r *http.Request, sc *serviceContext) (platform.Member, error) {
	members, err := c.store.Members(r.Context(), sc.service.ID)
	if err != nil {
		return platform.Member{}, err
	}
	for _, m := range members {
		if m.ID == r.PathValue("user") {
			return m, nil
		}
	}
	return platform.Member{}, failure.New(failure.NotFound, "Team member not found")
}

func (c *Console) memberPage(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	m, err := c.member(r, sc)
	if err != nil {
		return err
	}
	f := web.NewForm()
	f.Set("permissions", m.Permissions...)
	return c.render(w, r, "member", memberPage{chrome: c.chrome(s, sc, "team"), Form: f, Member: m})
}

func (c *Console) setMember(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	m, err := c.member(r, sc)
	if err != nil {
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
	if err := c.store.SetMemberPermissions(r.Context(), s.actor(), sc.service.ID, m.ID, perms); err != nil {
		if !f.Fail(err, "permissions") {
			return err
		}
		return c.renderInvalid(w, r, "member", memberPage{chrome: c.chrome(s, sc, "team"), Form: f, Member: m})
	}
	return redirect(w, r, "/admin/services/"+sc.service.ID+"/team", "Permissions saved for "+m.Email)
}

func (c *Console) removeMemberPage(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	m, err := c.member(r, sc)
	if err != nil {
		return err
	}
	return c.render(w, r, "remove-member", memberPage{chrome: c.chrome(s, sc, "team"), Member: m})
}

func (c *Console) removeMember(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	m, err := c.member(r, sc)
	if err != nil {
		return err
	}
	if err := c.store.RemoveMember(r.Context(), s.actor(), sc.service.ID, m.ID); err != nil {
		return err
	}
	return redirect(w, r, "/admin/services/"+sc.service.ID+"/team", m.Email+" has been removed from the team")
}
