package platform_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

func TestTOTP(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		u := f.user("katherine@example.gov.uk")
		code := func(at time.Time, seed string) string {
			t.Helper()
			c, err := totp.GenerateCode(seed, at)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		wantFailure(t, f.s.CheckTOTP(f.ctx, u.ID, "123456"), failure.Conflict, "")
		wantFailure(t, f.s.ConfirmTOTP(f.ctx, u.Actor(), u.ID, "123456"), failure.Conflict, "")

		seed, url, err := f.s.StartTOTP(f.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(url, "otpauth://totp/Commons:katherine@example.gov.uk?") || !strings.Contains(url, "secret="+seed) {
			t.Errorf("otpauth URL %q", url)
		}
		if strings.Contains(f.tableText("users"), seed) {
			t.Error("the authenticator seed is stored in plain text")
		}

		before := f.counts()
		wantFailure(t, f.s.ConfirmTOTP(f.ctx, u.Actor(), u.ID, "12345"), failure.Invalid, "code")
		wrongCode := code(start.Add(10*time.Minute), seed)
		wantFailure(t, f.s.ConfirmTOTP(f.ctx, u.Actor(), u.ID, wrongCode), failure.Invalid, "code")
		f.unchanged(before, "wrong confirmation codes")
		if got, _ := f.s.User(f.ctx, u.ID); got.TOTPEnabled {
			t.Fatal("authenticator enabled before it was confirmed")
		}

		first := code(f.clock.Now(), seed)
		if err := f.s.ConfirmTOTP(f.ctx, u.Actor(), u.ID, first[:3]+" "+first[3:]); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.User(f.ctx, u.ID); !got.TOTPEnabled {
			t.Fatal("authenticator not enabled after confirmation")
		}
		if got := f.actions(""); got[len(got)-1] != "user.totp_enabled" {
			t.Errorf("platform audit = %v", got)
		}
		// The confirming code has been used.
		wantFailure(t, f.s.CheckTOTP(f.ctx, u.ID, first), failure.Invalid, "code")

		f.clock.Advance(30 * time.Second)
		now := code(f.clock.Now(), seed)
		if err := f.s.CheckTOTP(f.ctx, u.ID, now); err != nil {
			t.Fatalf("current code: %v", err)
		}
		wantFailure(t, f.s.CheckTOTP(f.ctx, u.ID, now), failure.Invalid, "code")

		// A code from the step after (a fast phone clock) is accepted; one from two steps on
		// is not.
		f.clock.Advance(30 * time.Second)
		if err := f.s.CheckTOTP(f.ctx, u.ID, code(f.clock.Now().Add(30*time.Second), seed)); err != nil {
			t.Fatalf("next step's code: %v", err)
		}
		// The step before is now older than the last one used, so it is refused.
		wantFailure(t, f.s.CheckTOTP(f.ctx, u.ID, code(f.clock.Now().Add(-30*time.Second), seed)), failure.Invalid, "code")
	})
}

func TestTOTPLockout(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		u := f.user("margaret@example.gov.uk")
		seed, _, err := f.s.StartTOTP(f.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := totp.GenerateCode(seed, f.clock.Now())
		if err := f.s.ConfirmTOTP(f.ctx, u.Actor(), u.ID, c); err != nil {
			t.Fatal(err)
		}
		wrong, _ := totp.GenerateCode(seed, f.clock.Now().Add(time.Hour))
		for range platform.MaxFailedAttempts - 1 {
			wantFailure(t, f.s.CheckTOTP(f.ctx, u.ID, wrong), failure.Invalid, "code")
		}
		wantFailure(t, f.s.CheckTOTP(f.ctx, u.ID, wrong), failure.RateLimited, "")
		f.clock.Advance(time.Minute)
		right, _ := totp.GenerateCode(seed, f.clock.Now())
		wantFailure(t, f.s.CheckTOTP(f.ctx, u.ID, right), failure.RateLimited, "")
		f.clock.Advance(platform.LockoutPeriod)
		right, _ = totp.GenerateCode(seed, f.clock.Now())
		if err := f.s.CheckTOTP(f.ctx, u.ID, right); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}

		if err := f.s.DisableTOTP(f.ctx, f.admin, u.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.User(f.ctx, u.ID); got.TOTPEnabled {
			t.Error("authenticator still enabled after removal")
		}
	})
}
