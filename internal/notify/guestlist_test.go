package notify

import (
	"errors"
	"testing"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

func TestNormaliseTeamMobile(t *testing.T) {
	for in, want := range map[string]string{
		"07700 900 982":      "+447700900982",
		"+44 (0)7700 900982": "+447700900982",
		"447700900982":       "+447700900982",
		"+61 412 345 678":    "+61412345678",
		"0061412345678":      "+61412345678",
	} {
		if got, err := NormaliseTeamMobile(in); err != nil || got != want {
			t.Errorf("NormaliseTeamMobile(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":                   "Enter a mobile number",
		"020 7946 0000":      "Enter a mobile number, not a landline",
		"0791234":            "Mobile number is too short: enter it with its area or country code, like 07700 900 982",
		"07912 34567":        "Enter a mobile number in the correct format, like 07700 900 982 or +61 412 345 678",
		"077009009821234567": "Mobile number is too long",
		"07700 900 98x":      "Mobile number must only include numbers, spaces, brackets, dashes and a plus sign",
	} {
		_, err := NormaliseTeamMobile(in)
		if !failure.Is(err, failure.Invalid) || failure.Message(err) != want {
			t.Errorf("NormaliseTeamMobile(%q) = %v; want %q", in, err, want)
		}
		var fe *failure.Error
		if !errors.As(err, &fe) || fe.Field != "mobile_number" {
			t.Errorf("NormaliseTeamMobile(%q) = %#v, want a failure about mobile_number", in, err)
		}
	}
	// What Notify accepts, the platform keeps.
	if n, err := NormaliseTeamMobile("07700 900 982"); err == nil {
		if kept, err := platform.CheckMobileNumber(n); err != nil || kept != n {
			t.Errorf("platform.CheckMobileNumber(%q) = %q, %v", n, kept, err)
		}
	}
}

// A team key, and a service in trial mode, may text team members at the mobile numbers they
// gave, however the number is written in the request, and nobody else but the guest list.
func TestTeamMembersMobileNumbers(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		trial := f.newTenant("Trial", false, nil)
		member := func(svc, email, mobile string) {
			t.Helper()
			u, err := f.platform.CreateUser(f.ctx, platform.CLIActor, email, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.platform.AddMember(f.ctx, platform.CLIActor, svc, u.ID, nil); err != nil {
				t.Fatal(err)
			}
			if mobile != "" {
				if err := f.platform.SetMobileNumber(f.ctx, u.Actor(), u.ID, mobile); err != nil {
					t.Fatal(err)
				}
			}
		}
		member(f.a.id, "texts@example.gov.uk", "+447700900982")
		member(f.a.id, "abroad@example.gov.uk", "+61412345678")
		member(f.a.id, "no-phone@example.gov.uk", "")
		member(trial.id, "trial@example.gov.uk", "+447700900983")
		// Someone on another service's team is a stranger here.
		member(f.b.id, "other@example.gov.uk", "+447700900984")

		sms := func(tn v2Tenant, to string) map[string]any {
			return map[string]any{"phone_number": to, "template_id": tn.smsTemplate.ID, "personalisation": map[string]any{"name": "x"}}
		}
		teamMsg := "Can’t send to this recipient using a team-only API key"
		trialMsg := "Can’t send to this recipient when service is in trial mode – see https://www.notifications.service.gov.uk/trial-mode"

		f.do("POST", "/v2/notifications/sms", f.a.teamKey, sms(f.a, "07700 900 982")).want(t, 201)
		f.do("POST", "/v2/notifications/sms", f.a.teamKey, sms(f.a, "+44 7700 900982")).want(t, 201)
		f.do("POST", "/v2/notifications/sms", f.a.teamKey, sms(f.a, "0061 412 345 678")).want(t, 201)
		f.do("POST", "/v2/notifications/sms", f.a.teamKey, sms(f.a, "07700 900 984")).wantError(t, 400, "BadRequestError", teamMsg)
		f.do("POST", "/v2/notifications/sms", f.a.teamKey, sms(f.a, "07700 900 123")).wantError(t, 400, "BadRequestError", teamMsg)

		f.do("POST", "/v2/notifications/sms", trial.liveKey, sms(trial, "07700900983")).want(t, 201)
		f.do("POST", "/v2/notifications/sms", trial.teamKey, sms(trial, "+447700900983")).want(t, 201)
		f.do("POST", "/v2/notifications/sms", trial.liveKey, sms(trial, "07700 900 982")).wantError(t, 400, "BadRequestError", trialMsg)
		f.do("POST", "/v2/notifications/sms", trial.teamKey, sms(trial, "07700 900 123")).wantError(t, 400, "BadRequestError", teamMsg)

		// A bulk send from a service in trial mode has the same list.
		allowed, err := f.svc.trialRecipients(f.ctx, trial.id)
		if err != nil {
			t.Fatal(err)
		}
		if !allowed.Phones["447700900983"] || allowed.Phones["447700900982"] || !allowed.Emails["trial@example.gov.uk"] {
			t.Errorf("trial recipients %+v", allowed)
		}

		// Removing the number takes the member off the list.
		u, err := f.platform.UserByEmail(f.ctx, "trial@example.gov.uk")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.platform.SetMobileNumber(f.ctx, u.Actor(), u.ID, ""); err != nil {
			t.Fatal(err)
		}
		f.do("POST", "/v2/notifications/sms", trial.liveKey, sms(trial, "07700900983")).wantError(t, 400, "BadRequestError", trialMsg)
	})
}
