package console

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"

	"github.com/pquerna/otp"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// formPage is a page whose content is a form and little else.
type formPage struct {
	chrome
	*web.Form
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) error {
	f := web.NewForm()
	f.Set("next", safeNext(r.URL.Query().Get("next")))
	return c.render(w, r, "sign-in", formPage{Form: f})
}

// signIn checks an email address and password. Wrong details and a locked account are both
// shown on the form, in the platform's words, which say when a locked account opens again.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) error {
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	f.Set("next", safeNext(f.Get("next")))
	f.Require("email", "Enter your email address")
	f.Require("password", "Enter your password")
	var u platform.User
	if f.Valid() {
		u, err = c.store.SignIn(r.Context(), f.Get("email"), f.Raw("password"))
		switch {
		case failure.Is(err, failure.Unauthenticated), failure.Is(err, failure.RateLimited):
			f.AddError("email", failure.Message(err))
		case err != nil:
			return err
		}
	}
	f.Forget("password")
	if !f.Valid() {
		return c.renderInvalid(w, r, "sign-in", formPage{Form: f})
	}
	if err := c.startSession(r.Context(), w, r, u, !u.TOTPEnabled); err != nil {
		return err
	}
	if u.TOTPEnabled {
		return redirect(w, r, "/admin/sign-in/code", "")
	}
	return redirect(w, r, f.Get("next"), "")
}

// linkPage asks the person to continue rather than using the link straight away, because
// email security scanners open links in messages, and would use up a one-time link before
// its owner could.
func (c *Console) linkPage(w http.ResponseWriter, r *http.Request) error {
	return c.render(w, r, "link", formPage{Form: web.NewForm()})
}

func (c *Console) redeemLink(w http.ResponseWriter, r *http.Request) error {
	u, purpose, err := c.store.RedeemToken(r.Context(), r.PathValue("token"))
	if failure.Is(err, failure.Unauthenticated) {
		c.pages.Render(w, r, http.StatusGone, "link-expired", formPage{})
		return nil
	}
	if err != nil {
		return err
	}
	// The link proves the person controls the email address, which stands in for the
	// password but not for an authenticator app they have set up.
	if err := c.startSession(r.Context(), w, r, u, !u.TOTPEnabled); err != nil {
		return err
	}
	if purpose == platform.PurposeResetPassword || !u.HasPassword {
		return redirect(w, r, "/admin/set-password", "")
	}
	return redirect(w, r, "/admin/", "")
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) error {
	if id := sessionID(r); id != "" {
		if err := c.store.EndSession(r.Context(), id); err != nil {
			return err
		}
	}
	c.clearCookie(w)
	return redirect(w, r, "/admin/sign-in", "You have signed out")
}

func (c *Console) codePage(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.render(w, r, "code", formPage{Form: web.NewForm()})
}

// checkCode finishes signing in with the authenticator app's code. Wrong codes count towards
// the same lockout as wrong passwords.
func (c *Console) checkCode(w http.ResponseWriter, r *http.Request, s *session) error {
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	err = c.store.CheckTOTP(r.Context(), s.user.ID, f.Get("code"))
	if failure.Is(err, failure.RateLimited) {
		f.AddError("code", failure.Message(err))
	} else if err != nil && !f.Fail(err, "code") {
		return err
	}
	f.Forget("code")
	if !f.Valid() {
		return c.renderInvalid(w, r, "code", formPage{Form: f})
	}
	if err := c.store.CompleteMFA(r.Context(), s.id); err != nil {
		return err
	}
	return redirect(w, r, "/admin/", "")
}

func (c *Console) setPasswordPage(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.render(w, r, "set-password", formPage{chrome: c.stepChrome(s), Form: web.NewForm()})
}

func (c *Console) setPassword(w http.ResponseWriter, r *http.Request, s *session) error {
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	if err := c.store.SetPassword(r.Context(), s.actor(), s.user.ID, f.Raw("password")); err != nil {
		if !f.Fail(err, "password") {
			return err
		}
		f.Forget("password")
		return c.renderInvalid(w, r, "set-password", formPage{chrome: c.stepChrome(s), Form: f})
	}
	return redirect(w, r, "/admin/", "Your password has been saved")
}

// stepChrome shows the navigation on step pages only to users who have finished signing in,
// because the other pages would send them straight back.
func (c *Console) stepChrome(s *session) chrome {
	if s.user.HasPassword && !(c.cfg.RequireTOTPForAdmins && s.user.PlatformAdmin && !s.user.TOTPEnabled) {
		return c.chrome(s, nil, "")
	}
	return chrome{Dev: c.cfg.Dev}
}

// twoFactorPage is the data of the authenticator app set-up page.
type twoFactorPage struct {
	chrome
	*web.Form
	Secret   string
	URI      string
	QR       template.URL // a PNG data: URI, which the content security policy allows for images
	Required bool
}

// twoFactorPage starts setting up an authenticator app with a new secret. The secret and its
// URI travel in the form, so a mistyped code redisplays the same secret the person already
// scanned; the platform checks the code against the secret it stored, not the form's copy.
func (c *Console) twoFactorPage(w http.ResponseWriter, r *http.Request, s *session) error {
	secret, uri, err := c.store.StartTOTP(r.Context(), s.user.ID)
	if err != nil {
		return err
	}
	f := web.NewForm()
	f.Set("secret", secret)
	f.Set("uri", uri)
	return c.render(w, r, "two-factor", c.twoFactorData(s, f))
}

func (c *Console) confirmTwoFactor(w http.ResponseWriter, r *http.Request, s *session) error {
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	if err := c.store.ConfirmTOTP(r.Context(), s.actor(), s.user.ID, f.Get("code")); err != nil {
		if failure.Is(err, failure.RateLimited) || failure.Is(err, failure.Conflict) {
			f.AddError("code", failure.Message(err))
		} else if !f.Fail(err, "code") {
			return err
		}
		f.Forget("code")
		return c.renderInvalid(w, r, "two-factor", c.twoFactorData(s, f))
	}
	return redirect(w, r, "/admin/account", "Your authenticator app is set up")
}

func (c *Console) twoFactorData(s *session, f *web.Form) twoFactorPage {
	p := twoFactorPage{chrome: c.stepChrome(s), Form: f, Secret: f.Get("secret"), URI: f.Get("uri"),
		Required: c.cfg.RequireTOTPForAdmins && s.user.PlatformAdmin && !s.user.TOTPEnabled}
	p.QR = qrDataURI(p.URI)
	return p
}

// qrDataURI draws an otpauth:// URI as a QR code for authenticator apps to scan. Without one
// (a URI that does not parse) the page still shows the secret to type in.
func qrDataURI(uri string) template.URL {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil || uri == "" {
		return ""
	}
	img, err := key.Image(200, 200)
	if err != nil {
		return ""
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
}
