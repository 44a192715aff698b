package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// sessionCookie holds the session id. The database keeps only its hash.
const sessionCookie = "commons_session"

// step is a stage of signing in that a session must finish before it may use the console:
// entering the authenticator code, choosing a password (first sign-in from a link), or, for
// platform admins outside development mode, setting up an authenticator app.
type step int

const (
	stepNone step = iota
	stepCode
	stepPassword
	stepTOTP
)

// stepPaths are where each unfinished step is done.
var stepPaths = map[step]string{
	stepCode:     "/admin/sign-in/code",
	stepPassword: "/admin/set-password",
	stepTOTP:     "/admin/account/two-factor",
}

// pending returns the first step this session has not finished, in the order they must be
// done: the second factor proves who it is before anything changes, a password comes before
// the authenticator app.
func (c *Console) pending(sess platform.Session) step {
	switch {
	case !sess.MFADone:
		return stepCode
	case !sess.User.HasPassword:
		return stepPassword
	case c.cfg.RequireTOTPForAdmins && sess.User.PlatformAdmin && !sess.User.TOTPEnabled:
		return stepTOTP
	}
	return stepNone
}

// signedInHandler is a page for a signed-in user.
type signedInHandler func(w http.ResponseWriter, r *http.Request, s *session) error

// session is the signed-in user of one request.
type session struct {
	id   string
	user platform.User
}

// actor is who the audit log says made a change in this request.
func (s *session) actor() platform.Actor { return s.user.Actor() }

// public serves a page that needs no session.
func (c *Console) public(h web.PageHandler) http.Handler {
	return c.pages.Handler(func(w http.ResponseWriter, r *http.Request) error {
		noStore(w)
		return h(w, r)
	})
}

// signedIn serves a page for someone signed in who is at the given step (stepNone: finished
// signing in). Anyone else is sent where they need to go: to sign in, or to the step they
// have not finished. The step pages for setting a password and an authenticator app stay open
// to fully signed-in users, who use them to change either.
func (c *Console) signedIn(at step, h signedInHandler) http.Handler {
	return c.public(func(w http.ResponseWriter, r *http.Request) error {
		sess, err := c.session(r)
		if failure.Is(err, failure.Unauthenticated) {
			c.clearCookie(w)
			redirectToSignIn(w, r)
			return nil
		}
		if err != nil {
			return err
		}
		pending := c.pending(sess)
		allowed := pending == at || pending == stepNone && (at == stepPassword || at == stepTOTP)
		if !allowed {
			next := stepPaths[pending]
			if pending == stepNone {
				next = "/admin/"
			}
			http.Redirect(w, r, next, http.StatusSeeOther)
			return nil
		}
		return h(w, r, &session{id: sessionID(r), user: sess.User})
	})
}

// session returns the session of the request's cookie.
func (c *Console) session(r *http.Request) (platform.Session, error) {
	id := sessionID(r)
	if id == "" {
		return platform.Session{}, failure.New(failure.Unauthenticated, "Sign in to continue")
	}
	return c.store.Session(r.Context(), id)
}

func sessionID(r *http.Request) string {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return ck.Value
}

// startSession signs a user in with a new session id, ending any session the browser already
// had so that an id chosen before sign-in can never become a signed-in one.
func (c *Console) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u platform.User, mfaDone bool) error {
	if old := sessionID(r); old != "" {
		if err := c.store.EndSession(ctx, old); err != nil {
			return err
		}
	}
	id, err := c.store.CreateSession(ctx, u.ID, mfaDone)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/admin", HttpOnly: true, Secure: c.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(platform.SessionMaxAge.Seconds()),
	})
	return nil
}

func (c *Console) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/admin", MaxAge: -1, HttpOnly: true,
		Secure: c.secure, SameSite: http.SameSiteLaxMode})
}

// redirectToSignIn sends someone to the sign-in page, remembering the page they wanted when
// it was a plain GET so they land there afterwards.
func redirectToSignIn(w http.ResponseWriter, r *http.Request) {
	target := "/admin/sign-in"
	if r.Method == http.MethodGet && r.URL.Path != "/admin/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext returns a next= target only when it is a console path on this site, so the
// sign-in page cannot be used to bounce people to another website.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || len(next) > 2000 ||
		!strings.HasPrefix(next, "/admin/") || strings.ContainsRune(next, '\\') {
		return "/admin/"
	}
	return next
}

// noStore keeps console pages out of every cache: they show team data and one-time secrets.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

var errNotFound = failure.New(failure.NotFound, "Page not found")

// serviceHandler is a page about one service, for someone allowed to see it.
type serviceHandler func(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error

// serviceContext is the service named in the URL and what the signed-in user may do in it.
type serviceContext struct {
	service platform.Service
	perms   []string // team permissions held; every one of them for platform admins
}

// can reports whether the user holds a team permission in the service.
func (sc *serviceContext) can(perm string) bool { return slices.Contains(sc.perms, perm) }

// forService loads the service in the URL and checks the user may use this page: platform
// admins may use every service; anyone else must be on its team (or the service is "not
// found", so that people cannot learn which services exist) and hold one of need.
func (c *Console) forService(need []string, h serviceHandler) signedInHandler {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		id := r.PathValue("id")
		svc, err := c.store.Service(r.Context(), id)
		if err != nil {
			return err
		}
		sc := &serviceContext{service: svc}
		if s.user.PlatformAdmin {
			for _, p := range platform.TeamPermissions {
				sc.perms = append(sc.perms, p.Name)
			}
		} else {
			perms, err := c.store.MemberPermissions(r.Context(), svc.ID, s.user.ID)
			if failure.Is(err, failure.NotFound) {
				return failure.New(failure.NotFound, "Service not found")
			}
			if err != nil {
				return err
			}
			sc.perms = perms
		}
		if len(need) > 0 && !slices.ContainsFunc(need, sc.can) {
			return failure.New(failure.Forbidden, "You do not have permission to do this in %s.", svc.Name)
		}
		return h(w, r, s, sc)
	}
}

// requireAdmin refuses pages only platform admins may use.
func requireAdmin(s *session) error {
	if !s.user.PlatformAdmin {
		return failure.New(failure.Forbidden, "Only platform admins can do this.")
	}
	return nil
}
