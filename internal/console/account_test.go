package console_test

import (
	"net/url"
	"testing"

	"github.com/commons-gov/commons/internal/platform"
)

// Without a checker from the application, the console checks the shape of a mobile number
// with the platform's rules; the number is the signed-in person's own, and nobody else's.
func TestAccountMobileNumberPage(t *testing.T) {
	each(t, false, func(t *testing.T, s *site) {
		b := s.signInFirstTime("person@example.gov.uk", false)
		other := s.signInFirstTime("other@example.gov.uk", false)
		b.get("/admin/account").expect(t, 200, "Mobile number", "Not given", "Add<span class=\"govuk-visually-hidden\"> mobile number")
		b.get("/admin/account/mobile-number").expect(t, 200, "Your mobile number", `name="mobile_number"`, `type="tel"`).
			at(t, "/admin/account/mobile-number")

		b.post("/admin/account/mobile-number", url.Values{"mobile_number": {"call me"}}).
			expect(t, 422, "<title>Error: Your mobile number", "There is a problem", `href="#mobile_number"`,
				"Enter a mobile number in the correct format", `value="call me"`, `aria-describedby="mobile_number-hint mobile_number-error"`)
		b.post("/admin/account/mobile-number", url.Values{"mobile_number": {"  "}}).expect(t, 422, "Enter a mobile number")
		b.postFrom("/admin/account/mobile-number", url.Values{"mobile_number": {"07700 900 982"}}, "cross-site").expect(t, 403)
		if events, _ := s.store.PlatformAuditLog(s.ctx, platform.AuditFilter{Action: "user.mobile_number_changed"}); len(events) != 0 {
			t.Fatalf("a refused form was recorded: %+v", events)
		}

		b.post("/admin/account/mobile-number", url.Values{"mobile_number": {"07700 900 982"}}).
			expect(t, 200, "Your mobile number has been saved", "&#43;447700900982", "Change<span class=\"govuk-visually-hidden\"> mobile number").
			at(t, "/admin/account")
		other.get("/admin/account").expect(t, 200, "Not given")
		u, err := s.store.UserByEmail(s.ctx, "person@example.gov.uk")
		if err != nil || u.MobileNumber != "+447700900982" {
			t.Fatalf("user %+v, %v", u, err)
		}
		b.post("/admin/account/mobile-number", url.Values{"mobile_number": {""}}).
			expect(t, 200, "Your mobile number has been removed", "Not given")

		// Signed out, the page is not there.
		b.post("/admin/sign-out", nil)
		b.get("/admin/account/mobile-number").at(t, "/admin/sign-in")
		b.post("/admin/account/mobile-number", url.Values{"mobile_number": {"07700 900 982"}}).at(t, "/admin/sign-in")
		if u, _ := s.store.UserByEmail(s.ctx, "person@example.gov.uk"); u.MobileNumber != "" {
			t.Fatalf("a signed-out post saved %q", u.MobileNumber)
		}
	})
}
