package console_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/platform"
)

const password = "correct horse battery staple"

// signInFirstTime follows a first sign-in link for a new user and chooses a password.
func (s *site) signInFirstTime(email string, admin bool) *browser {
	s.t.Helper()
	u, err := s.store.CreateUser(s.ctx, platform.CLIActor, email, admin)
	if err != nil {
		s.t.Fatal(err)
	}
	token, err := s.store.IssueSignInToken(s.ctx, u.ID, platform.PurposeFirstSignIn, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	b := s.browser()
	b.followLink(token)
	b.post("/admin/set-password", url.Values{"password": {password}}).expect(s.t, 200, "Your password has been saved")
	return b
}

// followLink opens a one-time link and presses Continue, landing on the set-password page.
func (b *browser) followLink(token string) page {
	b.s.t.Helper()
	b.get("/admin/link/"+token).expect(b.s.t, 200, "Continue signing in")
	return b.post("/admin/link/"+token, nil).expect(b.s.t, 200, "Choose a password").at(b.s.t, "/admin/set-password")
}

func TestTeamJourney(t *testing.T) {
	each(t, false, func(t *testing.T, s *site) {
		// First sign-in: the link leads to choosing a password; a short one saves nothing.
		u, err := s.store.CreateUser(s.ctx, platform.CLIActor, "admin@example.gov.uk", true)
		if err != nil {
			t.Fatal(err)
		}
		token, err := s.store.IssueSignInToken(s.ctx, u.ID, platform.PurposeFirstSignIn, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		b := s.browser()
		b.get("/admin/").at(t, "/admin/sign-in")
		b.followLink(token)
		b.post("/admin/set-password", url.Values{"password": {"short"}}).
			expect(t, 422, "<title>Error: Choose a password", `href="#password"`, "12 characters or more")
		if u, _ := s.store.User(s.ctx, u.ID); u.HasPassword {
			t.Fatal("an invalid password was saved")
		}
		b.post("/admin/set-password", url.Values{"password": {password}}).
			expect(t, 200, "Your password has been saved", "Your services").at(t, "/admin/")
		// The link worked once.
		b2 := s.browser()
		b2.post("/admin/link/"+token, nil).expect(t, 410, "This link has expired or has already been used")

		// An organisation: an empty name saves nothing.
		b.post("/admin/organisations", url.Values{"name": {"  "}}).expect(t, 422, "Enter an organisation name")
		if orgs, _ := s.store.Organisations(s.ctx); len(orgs) != 0 {
			t.Fatalf("invalid form saved %v", orgs)
		}
		b.post("/admin/organisations", url.Values{"name": {"Department for Testing"}}).
			expect(t, 200, "Organisation created: Department for Testing")
		orgs, _ := s.store.Organisations(s.ctx)
		orgID := orgs[0].ID

		// A service: every problem is reported at once, and what was typed comes back.
		b.post("/admin/services/new", url.Values{"name": {""}, "organisation": {""}, "live": {"no"}}).
			expect(t, 422, `href="#name"`, `href="#organisation"`)
		b.post("/admin/services/new", url.Values{"name": {"Apply for a permit"}, "organisation": {""}, "live": {"no"}}).
			expect(t, 422, `value="Apply for a permit"`, "Select an organisation")
		if list, _ := s.store.Services(s.ctx); len(list) != 0 {
			t.Fatalf("invalid form saved %v", list)
		}
		p := b.post("/admin/services/new", url.Values{"name": {"Apply for a permit"}, "organisation": {orgID}, "live": {"no"}}).
			expect(t, 200, "Service created: Apply for a permit", "Trial mode", "Department for Testing")
		serviceID := strings.TrimPrefix(p.path, "/admin/services/")
		base := "/admin/services/" + serviceID

		// An API key, shown once.
		b.post(base+"/api-keys/new", url.Values{"name": {"Case system"}}).
			expect(t, 422, "Select a type of API key", `value="Case system"`)
		if keys, _ := s.store.APIKeys(s.ctx, serviceID); len(keys) != 0 {
			t.Fatal("invalid key form saved a key")
		}
		created := b.post(base+"/api-keys/new", url.Values{"name": {"Case system"}, "key_type": {"team"}}).
			expect(t, 200, "Copy your key now")
		key := created.find(t, `id="api-key">([^<]+)<`)
		if !strings.Contains(key, serviceID) {
			t.Fatalf("key %q does not name the service", key)
		}
		list := b.get(base+"/api-keys").expect(t, 200, "Case system", "Team and guest list", "Never")
		if strings.Contains(list.body, key) || strings.Contains(list.body, key[len(key)-36:]) {
			t.Fatal("the key was shown a second time")
		}

		// Revoke it, after confirming.
		keys, _ := s.store.APIKeys(s.ctx, serviceID)
		b.get(base+"/api-keys/"+keys[0].ID+"/revoke").expect(t, 200, "Are you sure you want to revoke")
		b.post(base+"/api-keys/"+keys[0].ID+"/revoke", nil).expect(t, 200, "API key revoked: Case system", "Revoked")

		// Invite a team member: the link is shown once.
		b.post(base+"/team/invite", url.Values{"email": {"not an email"}, "permissions": {"send_messages"}}).
			expect(t, 422, "correct format", `value="not an email"`, `value="send_messages" checked`)
		invited := b.post(base+"/team/invite", url.Values{"email": {"member@example.gov.uk"}, "permissions": {"send_messages", "view_activity"}}).
			expect(t, 200, "Invitation sent", "member@example.gov.uk")
		link := invited.find(t, `id="invite-link">([^<]+)<`)
		if !strings.HasPrefix(link, "http://commons.test/admin/link/") {
			t.Fatalf("invite link %q", link)
		}
		b.get(base+"/team").expect(t, 200, "member@example.gov.uk", "Send messages", "Invited")

		// The audit log says who did each of those things, and when, newest first.
		audit := b.get(base+"/audit").expect(t, 200, "Invited a team member", "Revoked an API key",
			"Created an API key", "admin@example.gov.uk", "Case system", time.Now().In(london(t)).Format("2 January 2006"))
		if strings.Index(audit.body, "Invited a team member") > strings.Index(audit.body, "Created an API key") {
			t.Fatal("audit log is not newest first")
		}
		filtered := b.get(base+"/audit?action=api_key.").expect(t, 200, "Revoked an API key")
		if strings.Contains(filtered.body, "Invited a team member") {
			t.Fatal("the action filter did not filter")
		}
		b.get(base+"/audit?from=yesterday").expect(t, 422, "Enter the ‘from’ date as a real date")

		// The invitee follows the link, chooses a password and sees only their service.
		m := s.browser()
		m.followLink(strings.TrimPrefix(link, "http://commons.test/admin/link/"))
		m.post("/admin/set-password", url.Values{"password": {password}}).expect(t, 200, "Apply for a permit")
	})
}

func london(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
