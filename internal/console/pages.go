package console

import (
	"html/template"
	"net/http"
	"slices"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// chrome is what every console page shows around its content: who is signed in, for the
// navigation, and the service being managed, for its sub-navigation.
type chrome struct {
	User    *platform.User
	Dev     bool
	Service *platform.Service
	Perms   []string
	// Section marks the current item of the service's sub-navigation.
	Section string
	// Sections are the other platforms' parts of the service this user may use.
	Sections []Section
}

// Can reports whether the user holds a team permission in the page's service.
func (ch chrome) Can(perm string) bool { return slices.Contains(ch.Perms, perm) }

// CanAny reports whether the user holds any of the permissions.
func (ch chrome) CanAny(perms ...string) bool { return slices.ContainsFunc(perms, ch.Can) }

func (ch chrome) consoleChrome() chrome { return ch }

// chromed is page data that carries the chrome.
type chromed interface{ consoleChrome() chrome }

// chrome returns the page surroundings for a signed-in user, and for a service when sc is set.
func (c *Console) chrome(s *session, sc *serviceContext, section string) chrome {
	ch := chrome{Dev: c.cfg.Dev, Section: section}
	if s != nil {
		u := s.user
		ch.User = &u
	}
	if sc != nil {
		svc := sc.service
		ch.Service, ch.Perms = &svc, sc.perms
		ch.Sections = c.visibleSections(sc.perms)
	}
	return ch
}

// render writes a console page with status 200.
func (c *Console) render(w http.ResponseWriter, r *http.Request, name string, data any) error {
	c.pages.Render(w, r, http.StatusOK, name, data)
	return nil
}

// renderInvalid redisplays a form page with its errors. GOV.UK services answer 200 here; we
// answer 422 so that tests, logs and metrics can tell a rejected form from a shown one, which
// browsers display the same.
func (c *Console) renderInvalid(w http.ResponseWriter, r *http.Request, name string, data any) error {
	c.pages.Render(w, r, http.StatusUnprocessableEntity, name, data)
	return nil
}

// redirect answers a successful form post with a redirect (post/redirect/get), so refreshing
// the next page does not submit the form again; msg, when set, shows in a success banner.
func redirect(w http.ResponseWriter, r *http.Request, to, msg string) error {
	if msg != "" {
		web.SetFlash(w, r, msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// teamPermissionOptions and servicePermissionOptions are the checkbox lists of the two
// permission vocabularies.
func teamPermissionOptions() []web.Option { return permissionOptions(platform.TeamPermissions) }

func servicePermissionOptions() []web.Option { return permissionOptions(platform.ServicePermissions) }

func permissionOptions(vocabulary []platform.Permission) []web.Option {
	out := make([]web.Option, len(vocabulary))
	for i, p := range vocabulary {
		out[i] = web.Option{Value: p.Name, Label: p.Label}
	}
	return out
}

// keyTypeOptions explains each type of API key where people choose one.
func keyTypeOptions() []web.Option {
	return []web.Option{
		{Value: string(apiauth.Live), Label: "Live – sends to anyone",
			Hint: "Messages are delivered and payments are real. Only live services can use these keys to reach people outside the team."},
		{Value: string(apiauth.Team), Label: "Team and guest list – limits who you can send to",
			Hint: "Messages go only to your team members and guest list. Use this to test with real delivery."},
		{Value: string(apiauth.Test), Label: "Test – pretends to send",
			Hint: "Nothing is delivered or charged. Use this for automated tests and development."},
	}
}

// label returns the label of a permission name in a vocabulary, or the name itself.
func label(vocabulary []platform.Permission, name string) string {
	for _, p := range vocabulary {
		if p.Name == name {
			return p.Label
		}
	}
	return name
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"chromeOf": func(data any) *chrome {
			if d, ok := data.(chromed); ok {
				ch := d.consoleChrome()
				return &ch
			}
			return nil
		},
		"teamPermissionLabel":    func(name string) string { return label(platform.TeamPermissions, name) },
		"servicePermissionLabel": func(name string) string { return label(platform.ServicePermissions, name) },
		"teamPermissions":        teamPermissionOptions,
		"servicePermissions":     servicePermissionOptions,
		"keyTypes":               keyTypeOptions,
		"channelName":            channelName,
		"list":                   func(v ...any) []any { return v },
		"serviceModes": func() []web.Option {
			return []web.Option{
				{Value: "no", Label: "Trial mode", Hint: "The service can only send to its team and guest list. Choose this until the service is ready for the public."},
				{Value: "yes", Label: "Live", Hint: "The service can send to anyone."},
			}
		},
		"serviceTag": func(svc *platform.Service) *web.Tag { return statusTag(*svc) },
		"keyTypeLabel": func(t apiauth.KeyType) string {
			switch t {
			case apiauth.Live:
				return "Live"
			case apiauth.Team:
				return "Team and guest list"
			case apiauth.Test:
				return "Test"
			}
			return string(t)
		},
	}
}
