package platform_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

func TestInvite(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Check a licence")
		inviter := f.member(svc, "lead@example.gov.uk", platform.ManageService)
		u, token, err := f.s.Invite(f.ctx, inviter.Actor(), svc.ID, "New.Person@Example.gov.uk", []string{platform.SendMessages})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "new.person@example.gov.uk" || u.HasPassword || len(token) != 43 {
			t.Errorf("invited %+v with token %q", u, token)
		}
		if strings.Contains(f.tableText("sign_in_tokens"), token) {
			t.Error("the link token is stored in plain text")
		}
		if perms, err := f.s.MemberPermissions(f.ctx, svc.ID, u.ID); err != nil || !slices.Equal(perms, []string{"send_messages"}) {
			t.Errorf("invited member's permissions = %v, %v", perms, err)
		}
		if got := f.actions(svc.ID); got[len(got)-1] != "member.invited" {
			t.Errorf("audit = %v", got)
		}

		// Someone who already has an account is added, not created again.
		other := f.service("Renew a licence")
		again, _, err := f.s.Invite(f.ctx, f.admin, other.ID, u.Email, nil)
		if err != nil || again.ID != u.ID {
			t.Errorf("inviting an existing user = %+v, %v", again, err)
		}

		before := f.counts()
		_, _, err = f.s.Invite(f.ctx, f.admin, svc.ID, u.Email, nil)
		wantFailure(t, err, failure.Conflict, "email")
		_, _, err = f.s.Invite(f.ctx, f.admin, svc.ID, "fresh@example.gov.uk", []string{"rule_the_world"})
		wantFailure(t, err, failure.Invalid, "permissions")
		_, _, err = f.s.Invite(f.ctx, f.admin, "00000000-0000-4000-8000-000000000000", "fresh@example.gov.uk", nil)
		wantFailure(t, err, failure.NotFound, "")
		_, _, err = f.s.Invite(f.ctx, f.admin, svc.ID, "not an email", nil)
		wantFailure(t, err, failure.Invalid, "email")
		f.unchanged(before, "refused invites")

		got, purpose, err := f.s.RedeemToken(f.ctx, token)
		if err != nil || got.ID != u.ID || purpose != platform.PurposeInvite {
			t.Fatalf("RedeemToken = %+v, %q, %v", got, purpose, err)
		}
		_, _, err = f.s.RedeemToken(f.ctx, token)
		if fe := wantFailure(t, err, failure.Unauthenticated, ""); fe.Message != "This link has expired or has already been used" {
			t.Errorf("message %q", fe.Message)
		}
	})
}

func TestInviteHook(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Hooked")
		lead := f.member(svc, "lead@example.gov.uk", platform.ManageService)
		var got []platform.Invitation
		f.s.OnInvite = func(ctx context.Context, tx *db.Tx, inv platform.Invitation) error {
			// The hook sees the invite's own uncommitted rows through tx.
			var n int
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM members WHERE service_id = ? AND user_id = ?",
				inv.ServiceID, inv.UserID).Scan(&n); err != nil || n != 1 {
				t.Errorf("membership inside the hook: %d, %v", n, err)
			}
			got = append(got, inv)
			return nil
		}
		u, token, err := f.s.Invite(f.ctx, lead.Actor(), svc.ID, "joiner@example.gov.uk", []string{platform.ViewActivity})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("hook called %d times", len(got))
		}
		inv := got[0]
		if inv.ID == "" || inv.UserID != u.ID || inv.Email != u.Email || inv.ServiceID != svc.ID || inv.ServiceName != "Hooked" ||
			inv.InvitedBy != lead.Email || inv.Token != token || !inv.ExpiresAt.Equal(start.Add(platform.InviteTTL)) {
			t.Errorf("invitation %+v", inv)
		}

		// When the email cannot be queued, the invite is undone.
		f.s.OnInvite = func(context.Context, *db.Tx, platform.Invitation) error { return errors.New("queue full") }
		before := f.counts()
		if _, _, err := f.s.Invite(f.ctx, lead.Actor(), svc.ID, "unlucky@example.gov.uk", nil); err == nil {
			t.Fatal("an invite whose email failed succeeded")
		}
		f.unchanged(before, "invite whose email failed")
	})
}

func TestSignInTokens(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		u := f.user("dorothy@example.gov.uk")
		if _, err := f.s.IssueSignInToken(f.ctx, u.ID, "open-sesame", time.Hour); err == nil {
			t.Error("a token with an unknown purpose was issued")
		}
		_, err := f.s.IssueSignInToken(f.ctx, "00000000-0000-4000-8000-000000000000", platform.PurposeResetPassword, time.Hour)
		wantFailure(t, err, failure.NotFound, "")

		reset, err := f.s.IssueSignInToken(f.ctx, u.ID, platform.PurposeResetPassword, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		first, err := f.s.IssueSignInToken(f.ctx, u.ID, platform.PurposeFirstSignIn, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour - time.Microsecond)
		if _, purpose, err := f.s.RedeemToken(f.ctx, reset); err != nil || purpose != platform.PurposeResetPassword {
			t.Errorf("RedeemToken just before expiry = %q, %v", purpose, err)
		}
		f.clock.Advance(time.Microsecond)
		_, _, err = f.s.RedeemToken(f.ctx, first)
		wantFailure(t, err, failure.Unauthenticated, "")
		for _, bad := range []string{"", "made-up", reset + "x"} {
			_, _, err = f.s.RedeemToken(f.ctx, bad)
			wantFailure(t, err, failure.Unauthenticated, "")
		}
		if n, err := f.s.PurgeExpired(f.ctx); err != nil || n != 2 {
			t.Errorf("PurgeExpired = %d, %v; want both expired links gone", n, err)
		}
	})
}

func TestRedeemTokenConcurrently(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		u := f.user("ada@example.gov.uk")
		token, err := f.s.IssueSignInToken(f.ctx, u.ID, platform.PurposeFirstSignIn, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		const racers = 8
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() { _, _, errs[i] = f.s.RedeemToken(f.ctx, token) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !failure.Is(err, failure.Unauthenticated):
				t.Errorf("a losing redemption failed with %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent redemptions succeeded, want exactly 1", won, racers)
		}
	})
}
