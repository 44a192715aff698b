package console_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
)

// twoServices sets up services A and B, each with a member who may do everything in their own
// service and nothing in the other.
func (s *site) twoServices() (a, b platform.Service, memberA *browser) {
	s.t.Helper()
	org, err := s.store.CreateOrganisation(s.ctx, platform.CLIActor, "Department for Testing")
	if err != nil {
		s.t.Fatal(err)
	}
	a, err = s.store.CreateService(s.ctx, platform.CLIActor, platform.NewService{Name: "Service A", OrganisationID: org.ID})
	if err != nil {
		s.t.Fatal(err)
	}
	b, err = s.store.CreateService(s.ctx, platform.CLIActor, platform.NewService{Name: "Service B", OrganisationID: org.ID})
	if err != nil {
		s.t.Fatal(err)
	}
	memberA = s.signInFirstTime("a@example.gov.uk", false)
	u, err := s.store.UserByEmail(s.ctx, "a@example.gov.uk")
	if err != nil {
		s.t.Fatal(err)
	}
	all := []string{}
	for _, p := range platform.TeamPermissions {
		all = append(all, p.Name)
	}
	if err := s.store.AddMember(s.ctx, platform.CLIActor, a.ID, u.ID, all); err != nil {
		s.t.Fatal(err)
	}
	return a, b, memberA
}

func TestCrossServiceAccessRefused(t *testing.T) {
	each(t, false, func(t *testing.T, s *site) {
		a, b, m := s.twoServices()
		home := m.get("/admin/").expect(t, 200, "Service A")
		if strings.Contains(home.body, "Service B") {
			t.Fatal("a member sees another team's service")
		}
		m.get("/admin/services/"+a.ID+"/api-keys").expect(t, 200, "API keys")
		other := "/admin/services/" + b.ID
		for _, path := range []string{"", "/team", "/api-keys", "/api-keys/new", "/audit", "/archive", "/team/invite"} {
			m.get(other+path).expect(t, 404, "Page not found")
		}
		m.post(other+"/api-keys/new", url.Values{"name": {"x"}, "key_type": {"live"}}).expect(t, 404)
		m.post(other+"/archive", nil).expect(t, 404)
		m.post(other+"/team/invite", url.Values{"email": {"x@example.gov.uk"}}).expect(t, 404)
		if keys, _ := s.store.APIKeys(s.ctx, b.ID); len(keys) != 0 {
			t.Fatal("a key was made in another team's service")
		}
		if svc, _ := s.store.Service(s.ctx, b.ID); svc.Archived {
			t.Fatal("another team's service was archived")
		}
		// Ids from service A used under service B's URL are not found either.
		_, _, err := s.store.CreateAPIKey(s.ctx, platform.CLIActor, a.ID, "A's key", "live")
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := s.store.APIKeys(s.ctx, a.ID)
		m.post(other+"/api-keys/"+keys[0].ID+"/revoke", nil).expect(t, 404)
		// Only platform admins manage organisations and services.
		m.get("/admin/organisations").expect(t, 403)
		m.post("/admin/services/new", url.Values{"name": {"Mine"}}).expect(t, 403)
		m.get("/admin/outbox").expect(t, 403)
		m.get("/admin/outbox/anything").expect(t, 403)
	})
}

func TestPermissionsChecked(t *testing.T) {
	each(t, false, func(t *testing.T, s *site) {
		a, _, _ := s.twoServices()
		viewer := s.signInFirstTime("viewer@example.gov.uk", false)
		u, _ := s.store.UserByEmail(s.ctx, "viewer@example.gov.uk")
		if err := s.store.AddMember(s.ctx, platform.CLIActor, a.ID, u.ID, []string{platform.ViewActivity}); err != nil {
			t.Fatal(err)
		}
		base := "/admin/services/" + a.ID
		viewer.get(base).expect(t, 200, "Overview")
		viewer.get(base+"/audit").expect(t, 200, "Audit log")
		viewer.get(base+"/api-keys").expect(t, 403, "You do not have permission")
		viewer.post(base+"/api-keys/new", url.Values{"name": {"x"}, "key_type": {"live"}}).expect(t, 403)
		viewer.post(base+"/live", nil).expect(t, 403)
		viewer.get(base+"/team/invite").expect(t, 403)
		if keys, _ := s.store.APIKeys(s.ctx, a.ID); len(keys) != 0 {
			t.Fatal("a key was made without permission")
		}
	})
}

func TestLockoutMessage(t *testing.T) {
	each(t, false, func(t *testing.T, s *site) {
		s.signInFirstTime("person@example.gov.uk", false)
		b := s.browser()
		for range platform.MaxFailedAttempts - 1 {
			b.post("/admin/sign-in", url.Values{"email": {"person@example.gov.uk"}, "password": {"wrong password here"}}).
				expect(t, 422, "The email address or password you entered is incorrect", `value="person@example.gov.uk"`)
		}
		p := b.post("/admin/sign-in", url.Values{"email": {"person@example.gov.uk"}, "password": {"wrong password here"}}).
			expect(t, 422, "Too many failed attempts. Try again after")
		if strings.Contains(p.body, "wrong password here") {
			t.Fatal("the password was redisplayed")
		}
		// Even the right password is refused until the lock runs out.
		b.post("/admin/sign-in", url.Values{"email": {"person@example.gov.uk"}, "password": {password}}).
			expect(t, 422, "Too many failed attempts")
		s.clock.Advance(platform.LockoutPeriod + time.Minute)
		b.post("/admin/sign-in", url.Values{"email": {"person@example.gov.uk"}, "password": {password}}).
			expect(t, 200, "Your services").at(t, "/admin/")
	})
}

func TestCrossOriginPostRefused(t *testing.T) {
	each(t, false, func(t *testing.T, s *site) {
		b := s.signInFirstTime("admin@example.gov.uk", true)
		b.postFrom("/admin/organisations", url.Values{"name": {"Evil Org"}}, "cross-site").expect(t, 403)
		if orgs, _ := s.store.Organisations(s.ctx); len(orgs) != 0 {
			t.Fatal("a cross-origin post made a change")
		}
		b.postFrom("/admin/sign-out", nil, "cross-site").expect(t, 403)
		b.get("/admin/").expect(t, 200, "Your services")
	})
}

func TestSessionCookie(t *testing.T) {
	each(t, false, func(t *testing.T, s *site) {
		b := s.signInFirstTime("person@example.gov.uk", false)
		u, _ := url.Parse(s.srv.URL + "/admin/")
		cookies := b.client.Jar.Cookies(u)
		if len(cookies) != 1 || cookies[0].Name != "commons_session" {
			t.Fatalf("cookies %v", cookies)
		}
		root, _ := url.Parse(s.srv.URL + "/")
		if len(b.client.Jar.Cookies(root)) != 0 {
			t.Fatal("the session cookie is sent outside /admin")
		}
		b.post("/admin/sign-out", nil).expect(t, 200, "You have signed out").at(t, "/admin/sign-in")
		b.get("/admin/account").at(t, "/admin/sign-in")
	})
}

func TestAdminMustSetUpAuthenticatorApp(t *testing.T) {
	each(t, true, func(t *testing.T, s *site) {
		u, err := s.store.CreateUser(s.ctx, platform.CLIActor, "admin@example.gov.uk", true)
		if err != nil {
			t.Fatal(err)
		}
		token, _ := s.store.IssueSignInToken(s.ctx, u.ID, platform.PurposeFirstSignIn, time.Hour)
		b := s.browser()
		b.followLink(token)
		b.post("/admin/set-password", url.Values{"password": {password}}).
			expect(t, 200, "Set up an authenticator app", "you need an authenticator app", "data:image/png;base64,")
		// Every visit starts again with a new secret, so the one to use is the latest shown.
		setup := b.get("/admin/organisations").at(t, "/admin/account/two-factor")
		secretKey := setup.find(t, `id="totp-secret">([A-Z2-7]+)<`)
		b.post("/admin/account/two-factor", url.Values{"code": {"000000"}, "secret": {secretKey}}).
			expect(t, 422, "The code is not correct", secretKey)
		code, err := totp.GenerateCode(secretKey, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		b.post("/admin/account/two-factor", url.Values{"code": {code}, "secret": {secretKey}}).
			expect(t, 200, "Your authenticator app is set up").at(t, "/admin/account")
		b.get("/admin/organisations").expect(t, 200, "Add an organisation")

		// Signing in again asks for a code after the password.
		b.post("/admin/sign-out", nil)
		s.clock.Advance(time.Minute)
		b.post("/admin/sign-in", url.Values{"email": {"admin@example.gov.uk"}, "password": {password}}).
			expect(t, 200, "Enter the code from your authenticator app").at(t, "/admin/sign-in/code")
		b.get("/admin/").at(t, "/admin/sign-in/code")
		b.post("/admin/sign-in/code", url.Values{"code": {"12"}}).expect(t, 422, "Enter the 6-digit code")
		code, _ = totp.GenerateCode(secretKey, s.clock.Now())
		b.post("/admin/sign-in/code", url.Values{"code": {code}}).expect(t, 200, "Your services").at(t, "/admin/")
	})
}

func TestOutboxForPlatformAdmins(t *testing.T) {
	each(t, false, func(t *testing.T, s *site) {
		b := s.signInFirstTime("admin@example.gov.uk", true)
		b.get("/admin/outbox").expect(t, 200, "Nothing has been sent yet")
		m, err := s.box.Add(s.ctx, s.d, outbox.Message{Channel: "email", Recipient: "someone@example.com",
			Subject: "Your permit", Body: "Line one\nLine <two>"})
		if err != nil {
			t.Fatal(err)
		}
		b.get("/admin/outbox").expect(t, 200, "someone@example.com", "Your permit", "/admin/outbox/"+m.ID)
		b.get("/admin/outbox/"+m.ID).expect(t, 200, "Line one\nLine &lt;two&gt;", "Email")
		b.get("/admin/outbox/no-such-message").expect(t, 404)
	})
}
