// Package console is the team console at /admin: server-rendered GOV.UK Frontend pages where
// team members sign in, and manage organisations, services, their teams, API keys and
// settings, and read the audit log. Every page works without JavaScript, every form redisplays
// what was typed with GOV.UK error messages and saves nothing when invalid, and every handler
// checks the signed-in user's permissions on the service named in the URL.
package console

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

//go:embed templates
var templateFiles embed.FS

// OutboxReader lists what development mode kept instead of sending. The outbox store
// implements it; the console only reads.
type OutboxReader interface {
	Recent(ctx context.Context, limit int) ([]outbox.Message, error)
	Message(ctx context.Context, id string) (outbox.Message, error)
}

// Config is what the console needs.
type Config struct {
	Platform *platform.Store
	// Dev enables the outbox pages.
	Dev bool
	// BaseURL is the public address, for the links in invitations and for deciding whether
	// cookies are Secure.
	BaseURL string
	Logger  *slog.Logger
	// RequireTOTPForAdmins makes platform admins set up an authenticator app before they can
	// do anything else: they can change every service, so a password alone is not enough.
	RequireTOTPForAdmins bool
	// Outbox is read by the outbox pages; nil hides them.
	Outbox OutboxReader
	// CheckMobileNumber checks the mobile number a person gives for themselves and returns it
	// in E.164 form, or a failure about the "mobile_number" field. The application passes
	// Notify's check, which knows which numbers can receive text messages; the console cannot
	// import Notify. Nil uses platform.CheckMobileNumber, which checks only the shape.
	CheckMobileNumber func(number string) (string, error)
}

// Console serves the /admin pages.
type Console struct {
	cfg    Config
	store  *platform.Store
	pages  *web.Pages
	secure bool // cookies are Secure: the public address is https
	base   string
	// sections are other platforms' parts of each service, added with AddServiceSection.
	sections []Section
	// auditFilters and auditWords are the audit log page's filters and descriptions: the
	// console's own, and other platforms' added with AddAuditActions.
	auditFilters []web.Option
	auditWords   map[string]string
}

// New parses the console's templates and returns the console.
func New(cfg Config) (*Console, error) {
	if cfg.Platform == nil {
		return nil, errors.New("console: no platform store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	files, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	pages, err := web.NewPages(web.PagesConfig{
		Templates:   files,
		Funcs:       templateFuncs(),
		Logger:      cfg.Logger,
		ServiceName: "Team console",
		ServiceURL:  "/admin",
	})
	if err != nil {
		return nil, err
	}
	return &Console{
		cfg:    cfg,
		store:  cfg.Platform,
		pages:  pages,
		secure: strings.HasPrefix(strings.ToLower(cfg.BaseURL), "https://"),
		base:   strings.TrimSuffix(cfg.BaseURL, "/"),

		auditFilters: slices.Clone(auditActions),
		auditWords:   maps.Clone(auditWords),
	}, nil
}

// Mount registers the console's routes on mux.
func (c *Console) Mount(mux *http.ServeMux) {
	// Signing in, and the steps a new session may have to finish first.
	mux.Handle("GET /admin/sign-in", c.public(c.signInPage))
	mux.Handle("POST /admin/sign-in", c.public(c.signIn))
	mux.Handle("GET /admin/link/{token}", c.public(c.linkPage))
	mux.Handle("POST /admin/link/{token}", c.public(c.redeemLink))
	mux.Handle("POST /admin/sign-out", c.public(c.signOut))
	mux.Handle("GET /admin/sign-in/code", c.signedIn(stepCode, c.codePage))
	mux.Handle("POST /admin/sign-in/code", c.signedIn(stepCode, c.checkCode))
	mux.Handle("GET /admin/set-password", c.signedIn(stepPassword, c.setPasswordPage))
	mux.Handle("POST /admin/set-password", c.signedIn(stepPassword, c.setPassword))
	mux.Handle("GET /admin/account/two-factor", c.signedIn(stepTOTP, c.twoFactorPage))
	mux.Handle("POST /admin/account/two-factor", c.signedIn(stepTOTP, c.confirmTwoFactor))

	mux.Handle("GET /admin/{$}", c.signedIn(stepNone, c.home))
	mux.Handle("GET /admin/account", c.signedIn(stepNone, c.account))
	mux.Handle("GET /admin/account/mobile-number", c.signedIn(stepNone, c.mobileNumberPage))
	mux.Handle("POST /admin/account/mobile-number", c.signedIn(stepNone, c.setMobileNumber))
	mux.Handle("GET /admin/organisations", c.signedIn(stepNone, c.organisations))
	mux.Handle("POST /admin/organisations", c.signedIn(stepNone, c.createOrganisation))
	mux.Handle("GET /admin/services/new", c.signedIn(stepNone, c.newServicePage))
	mux.Handle("POST /admin/services/new", c.signedIn(stepNone, c.createService))

	svc := func(pattern string, need []string, h serviceHandler) {
		mux.Handle(pattern, c.signedIn(stepNone, c.forService(need, h)))
	}
	svc("GET /admin/services/{id}", nil, c.overview)
	svc("GET /admin/services/{id}/live", manage, c.livePage)
	svc("POST /admin/services/{id}/live", manage, c.setLive)
	svc("GET /admin/services/{id}/archive", manage, c.archivePage)
	svc("POST /admin/services/{id}/archive", manage, c.archive)
	svc("GET /admin/services/{id}/permissions", manage, c.permissionsPage)
	svc("POST /admin/services/{id}/permissions", manage, c.setPermissions)

	svc("GET /admin/services/{id}/team", nil, c.team)
	svc("GET /admin/services/{id}/team/invite", manage, c.invitePage)
	svc("POST /admin/services/{id}/team/invite", manage, c.invite)
	svc("GET /admin/services/{id}/team/{user}", manage, c.memberPage)
	svc("POST /admin/services/{id}/team/{user}", manage, c.setMember)
	svc("GET /admin/services/{id}/team/{user}/remove", manage, c.removeMemberPage)
	svc("POST /admin/services/{id}/team/{user}/remove", manage, c.removeMember)

	svc("GET /admin/services/{id}/api-keys", manageKeys, c.apiKeys)
	svc("GET /admin/services/{id}/api-keys/new", manageKeys, c.newKeyPage)
	svc("POST /admin/services/{id}/api-keys/new", manageKeys, c.createKey)
	svc("GET /admin/services/{id}/api-keys/{key}/revoke", manageKeys, c.revokeKeyPage)
	svc("POST /admin/services/{id}/api-keys/{key}/revoke", manageKeys, c.revokeKey)

	svc("GET /admin/services/{id}/audit", viewActivity, c.audit)

	mux.Handle("GET /admin/outbox", c.signedIn(stepNone, c.outbox))
	mux.Handle("GET /admin/outbox/{message}", c.signedIn(stepNone, c.outboxMessage))

	// Anything else under /admin is the console's own "Page not found".
	mux.Handle("/admin/", c.public(c.notFound))
	mux.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently))
}

// The permissions each kind of service page needs; any one of the listed permissions will do.
var (
	manage       = []string{platform.ManageService}
	manageKeys   = []string{platform.ManageAPIKeys}
	viewActivity = []string{platform.ViewActivity, platform.ManageService}
)

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) error {
	return errNotFound
}
