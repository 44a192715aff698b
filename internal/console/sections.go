package console

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// Other platforms (Notify, Pay, …) add their own pages to a service without the console knowing
// them: they register a Section, so the service's navigation and overview link to it, and serve
// each page through ServicePage, which signs the person in and checks their permissions in the
// service exactly as the console's own pages do. Their templates, parsed with NewPages, share
// the console's navigation and service header.

// Section is a platform's part of a service's pages, at /admin/services/{id}/{Path}.
type Section struct {
	// Title is the link text in the service's navigation ("Notify").
	Title string
	// Path is the first path segment after the service's address ("notify").
	Path string
	// Description says in a few words what the platform does, on the service's overview.
	Description string
	// AnyOf lists the team permissions that make the section visible; any one of them will
	// do. Empty shows it to every team member.
	AnyOf []string
}

// AddServiceSection registers a platform's section. Call it while the application is being
// assembled, before the console serves requests.
func (c *Console) AddServiceSection(s Section) {
	c.sections = append(c.sections, s)
}

// visibleSections returns the sections a person holding perms may use, in the order they
// were added.
func (c *Console) visibleSections(perms []string) []Section {
	var out []Section
	for _, s := range c.sections {
		if len(s.AnyOf) == 0 || slices.ContainsFunc(s.AnyOf, func(p string) bool { return slices.Contains(perms, p) }) {
			out = append(out, s)
		}
	}
	return out
}

// sectionOf returns the path of the registered section a request's path is in, or "".
func (c *Console) sectionOf(serviceID, path string) string {
	base := "/admin/services/" + serviceID + "/"
	for _, s := range c.sections {
		p := base + s.Path
		if path == p || strings.HasPrefix(path, p+"/") {
			return s.Path
		}
	}
	return ""
}

// PageContext is what a platform's service page learns from the console: who is signed in,
// the service named in the URL, the team permissions they hold in it, and who the audit log
// should say made a change. Embed it in the page's data so the console's navigation and
// service header ({{template "service-header" (chromeOf .Data)}}) appear on the page.
type PageContext struct {
	User    platform.User
	Service platform.Service
	// Perms are the team permissions held in the service; platform admins hold every one.
	Perms []string
	// Actor is who made a change made from this page.
	Actor platform.Actor
	// Sections are the platforms' sections this person may use, for links between them.
	Sections []Section

	dev     bool
	section string
}

// Can reports whether the person holds a team permission in the service.
func (pc PageContext) Can(perm string) bool { return slices.Contains(pc.Perms, perm) }

// CanAny reports whether the person holds any of the permissions.
func (pc PageContext) CanAny(perms ...string) bool { return slices.ContainsFunc(perms, pc.Can) }

// ServiceURL is the address of the service's overview; platform pages live below it.
func (pc PageContext) ServiceURL() string { return "/admin/services/" + pc.Service.ID }

func (pc PageContext) consoleChrome() chrome {
	u, svc := pc.User, pc.Service
	return chrome{User: &u, Dev: pc.dev, Service: &svc, Perms: pc.Perms, Section: pc.section, Sections: pc.Sections}
}

// ServicePageFunc is a platform's page about one service. Like every console handler it
// returns its failure (failure.NotFound, failure.Forbidden, a form's failure.Invalid, …) and
// the console renders the matching error page.
type ServicePageFunc func(w http.ResponseWriter, r *http.Request, pc PageContext) error

// ServicePage serves a platform's page for the service named by the {id} path value of its
// route. Like the console's own pages it needs a fully signed-in person who is on the
// service's team (or a platform admin; anyone else is told the service is not found) and, when
// anyOf is not empty, holds one of those team permissions (otherwise: forbidden). The request's
// context carries the person as the actor of any change (platform.ActorFrom).
func (c *Console) ServicePage(anyOf []string, h ServicePageFunc) http.Handler {
	return c.signedIn(stepNone, c.forService(anyOf, func(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
		// The platform's Go API learns from the request's context who to record its changes
		// under in the audit log.
		r = r.WithContext(platform.WithActor(r.Context(), s.actor()))
		return h(w, r, PageContext{
			User: s.user, Service: sc.service, Perms: sc.perms, Actor: s.actor(),
			Sections: c.visibleSections(sc.perms), dev: c.cfg.Dev, section: c.sectionOf(sc.service.ID, r.URL.Path),
		})
	}))
}

// NewPages parses a platform's page templates on the console's layout: the console's
// navigation (for signed-in people) and its "service-header" template are defined for them,
// with the functions those use (chromeOf, list, serviceTag) and the platform's own funcs. The
// files follow web.PagesConfig: pages at the root of templates, the platform's shared
// templates under shared/, whose names must differ from the console's.
func (c *Console) NewPages(templates fs.FS, funcs template.FuncMap) (*web.Pages, error) {
	own, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	merged := maps.Clone(templateFuncs())
	maps.Copy(merged, funcs)
	combined := withConsoleShared{own: templates, console: own}
	if err := combined.checkNames(); err != nil {
		return nil, err
	}
	return web.NewPages(web.PagesConfig{
		Templates:   combined,
		Funcs:       merged,
		Logger:      c.cfg.Logger,
		ServiceName: "Team console",
		ServiceURL:  "/admin",
	})
}

// withConsoleShared is a platform's template files with the console's shared templates added
// to its shared/ folder.
type withConsoleShared struct {
	own, console fs.FS
}

const sharedFolder = "shared"

func (u withConsoleShared) Open(name string) (fs.File, error) {
	if dir, _, ok := strings.Cut(name, "/"); ok && dir == sharedFolder {
		if f, err := u.console.Open(name); err == nil {
			return f, nil
		}
	}
	return u.own.Open(name)
}

func (u withConsoleShared) ReadDir(name string) ([]fs.DirEntry, error) {
	own, err := fs.ReadDir(u.own, name)
	if name != sharedFolder {
		return own, err
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	console, err := fs.ReadDir(u.console, name)
	if err != nil {
		return nil, err
	}
	all := append(slices.Clone(console), own...)
	slices.SortFunc(all, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return all, nil
}

// checkNames refuses a platform shared file named like one of the console's, which would be
// hidden by it.
func (u withConsoleShared) checkNames() error {
	own, err := fs.ReadDir(u.own, sharedFolder)
	if err != nil {
		return nil // no shared templates of its own
	}
	for _, e := range own {
		if _, err := fs.Stat(u.console, sharedFolder+"/"+e.Name()); err == nil {
			return fmt.Errorf("console pages: %s/%s has the name of one of the console's shared templates", sharedFolder, e.Name())
		}
	}
	return nil
}
