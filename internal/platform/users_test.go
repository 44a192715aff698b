package platform_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

func TestUsers(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		u, err := f.s.CreateUser(f.ctx, f.admin, "  Ada.Lovelace@Example.GOV.UK ", true)
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "ada.lovelace@example.gov.uk" || !u.PlatformAdmin || u.HasPassword || u.TOTPEnabled || u.LastSignInAt != nil {
			t.Errorf("created %+v", u)
		}
		for _, got := range []func() (platform.User, error){
			func() (platform.User, error) { return f.s.User(f.ctx, u.ID) },
			func() (platform.User, error) { return f.s.UserByEmail(f.ctx, "ADA.LOVELACE@example.gov.uk") },
		} {
			if g, err := got(); err != nil || g.ID != u.ID || g.Email != u.Email || !g.CreatedAt.Equal(start) {
				t.Errorf("lookup = %+v, %v", g, err)
			}
		}

		before := f.counts()
		_, err = f.s.CreateUser(f.ctx, f.admin, "ada.lovelace@example.gov.uk", false)
		wantFailure(t, err, failure.Conflict, "email")
		for _, bad := range []string{"", "ada", "ada@", "@example.com", "ada@example", "Ada <ada@example.com>", "a b@example.com"} {
			_, err = f.s.CreateUser(f.ctx, f.admin, bad, false)
			wantFailure(t, err, failure.Invalid, "email")
		}
		f.unchanged(before, "refused users")

		_, err = f.s.UserByEmail(f.ctx, "nobody@example.gov.uk")
		wantFailure(t, err, failure.NotFound, "")
		f.user("bob@example.gov.uk")
		list, err := f.s.Users(f.ctx)
		if err != nil || len(list) != 2 || list[0].ID != u.ID {
			t.Errorf("Users = %+v, %v", list, err)
		}
		if err := f.s.SetPlatformAdmin(f.ctx, f.admin, u.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetPlatformAdmin(f.ctx, f.admin, u.ID, false); err != nil {
			t.Fatal(err)
		}
		want := []string{"user.created", "user.created", "user.platform_admin_changed"}
		if got := f.actions(""); !slices.Equal(got, want) {
			t.Errorf("platform audit = %v, want %v", got, want)
		}
	})
}

func TestPasswords(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		u := f.user("grace@example.gov.uk")
		_, err := f.s.SignIn(f.ctx, u.Email, "")
		wantFailure(t, err, failure.Unauthenticated, "email")

		before := f.counts()
		for _, tc := range []struct{ password, message string }{
			{"", "Enter a password"},
			{"eleven char", "Password must be 12 characters or more"},
			{"GRACE@example.gov.uk", "Password must not be your email address"},
			{strings.Repeat("x", 257), "Password must be 256 characters or fewer"},
		} {
			err := f.s.SetPassword(f.ctx, u.Actor(), u.ID, tc.password)
			if fe := wantFailure(t, err, failure.Invalid, "password"); fe.Message != tc.message {
				t.Errorf("SetPassword(%q) says %q, want %q", tc.password, fe.Message, tc.message)
			}
		}
		f.unchanged(before, "refused passwords")

		const password = "correct horse battery staple"
		if err := f.s.SetPassword(f.ctx, u.Actor(), u.ID, password); err != nil {
			t.Fatal(err)
		}
		var hash string
		if err := f.d.QueryRow(f.ctx, "SELECT password_hash FROM users WHERE id = ?", u.ID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(f.tableText("users"), password) {
			t.Errorf("stored password hash %q", hash)
		}

		got, err := f.s.SignIn(f.ctx, "Grace@Example.gov.uk", password)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || !got.HasPassword || got.LastSignInAt == nil || !got.LastSignInAt.Equal(start) {
			t.Errorf("signed in %+v", got)
		}
		_, err = f.s.SignIn(f.ctx, u.Email, password+"!")
		wantFailure(t, err, failure.Unauthenticated, "email")
		_, err = f.s.SignIn(f.ctx, "nobody@example.gov.uk", password)
		wantFailure(t, err, failure.Unauthenticated, "email")

		want := []string{"user.created", "user.password_set", "user.signed_in"}
		if got := f.actions(""); !slices.Equal(got, want) {
			t.Errorf("platform audit = %v, want %v", got, want)
		}
	})
}

func TestLockout(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		u := f.user("hedy@example.gov.uk")
		const password = "frequency hopping 1942"
		if err := f.s.SetPassword(f.ctx, u.Actor(), u.ID, password); err != nil {
			t.Fatal(err)
		}
		wrong := func(n int) {
			t.Helper()
			for range n {
				_, err := f.s.SignIn(f.ctx, u.Email, "not the password")
				wantFailure(t, err, failure.Unauthenticated, "email")
			}
		}
		// A right password resets the count: 4 + 4 wrong with a success between is no lockout.
		wrong(4)
		if _, err := f.s.SignIn(f.ctx, u.Email, password); err != nil {
			t.Fatal(err)
		}
		wrong(4)

		_, err := f.s.SignIn(f.ctx, u.Email, "not the password")
		fe := wantFailure(t, err, failure.RateLimited, "")
		if fe.Message != "Too many failed attempts. Try again after 4:35pm" {
			t.Errorf("lockout message %q", fe.Message)
		}
		var locked *platform.Locked
		if !errors.As(err, &locked) || !locked.Until.Equal(start.Add(15*time.Minute)) {
			t.Errorf("lockout cause %v", err)
		}
		// While locked, even the right password is refused.
		f.clock.Advance(14*time.Minute + 59*time.Second)
		_, err = f.s.SignIn(f.ctx, u.Email, password)
		wantFailure(t, err, failure.RateLimited, "")
		if got, _ := f.s.User(f.ctx, u.ID); got.LockedUntil == nil || !got.LockedUntil.Equal(locked.Until) {
			t.Errorf("LockedUntil = %v", got.LockedUntil)
		}

		f.clock.Advance(time.Second)
		if _, err := f.s.SignIn(f.ctx, u.Email, password); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
		events, err := f.s.PlatformAuditLog(f.ctx, platform.AuditFilter{Action: "user.locked_out"})
		if err != nil || len(events) != 1 || events[0].TargetID != u.ID || events[0].ActorLabel != "Commons" {
			t.Errorf("lockout audit = %+v, %v", events, err)
		}
	})
}
