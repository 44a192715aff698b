package platform_test

import (
	"slices"
	"testing"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

func TestMembers(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Book a visit")
		alice := f.member(svc, "alice@example.gov.uk", platform.SendMessages, platform.ManageService)
		bob := f.member(svc, "bob@example.gov.uk")

		members, err := f.s.Members(f.ctx, svc.ID)
		if err != nil || len(members) != 2 {
			t.Fatalf("Members = %+v, %v", members, err)
		}
		if m := members[0]; m.ID != alice.ID || m.Email != alice.Email ||
			!slices.Equal(m.Permissions, []string{"manage_service", "send_messages"}) || !m.Can(platform.SendMessages) {
			t.Errorf("first member %+v", m)
		}
		if m := members[1]; m.ID != bob.ID || len(m.Permissions) != 0 || !m.AddedAt.Equal(start) {
			t.Errorf("second member %+v", m)
		}

		carol := f.user("carol@example.gov.uk")
		before := f.counts()
		wantFailure(t, f.s.AddMember(f.ctx, f.admin, svc.ID, bob.ID, nil), failure.Conflict, "email")
		wantFailure(t, f.s.AddMember(f.ctx, f.admin, svc.ID, carol.ID, []string{"be_in_charge"}), failure.Invalid, "permissions")
		wantFailure(t, f.s.AddMember(f.ctx, f.admin, svc.ID, "00000000-0000-4000-8000-000000000000", nil), failure.NotFound, "")
		wantFailure(t, f.s.SetMemberPermissions(f.ctx, f.admin, svc.ID, bob.ID, []string{"be_in_charge"}), failure.Invalid, "permissions")
		f.unchanged(before, "refused member changes")

		if err := f.s.SetMemberPermissions(f.ctx, alice.Actor(), svc.ID, bob.ID, []string{platform.ViewActivity}); err != nil {
			t.Fatal(err)
		}
		perms, err := f.s.MemberPermissions(f.ctx, svc.ID, bob.ID)
		if err != nil || !slices.Equal(perms, []string{"view_activity"}) {
			t.Errorf("MemberPermissions = %v, %v", perms, err)
		}
		events, err := f.s.AuditLog(f.ctx, svc.ID, platform.AuditFilter{Limit: 1})
		if err != nil || len(events) != 1 {
			t.Fatalf("audit = %+v, %v", events, err)
		}
		if e := events[0]; e.Action != "member.permissions_changed" || e.ActorUserID != alice.ID ||
			e.ActorLabel != alice.Email || e.TargetID != bob.ID || e.Details["email"] != bob.Email {
			t.Errorf("audit event %+v", e)
		}

		for _, tc := range []struct {
			user platform.User
			perm string
			want bool
		}{
			{alice, platform.SendMessages, true},
			{alice, platform.ManageAPIKeys, false},
			{bob, platform.ViewActivity, true},
			{bob, platform.SendMessages, false},
			{f.user("outsider@example.gov.uk"), platform.ViewActivity, false},
			{platform.User{ID: "00000000-0000-4000-8000-000000000000"}, platform.ViewActivity, false},
		} {
			if got, err := f.s.Can(f.ctx, tc.user.ID, svc.ID, tc.perm); err != nil || got != tc.want {
				t.Errorf("Can(%s, %s) = %v, %v; want %v", tc.user.Email, tc.perm, got, err, tc.want)
			}
		}
		admin, err := f.s.CreateUser(f.ctx, f.admin, "admin@example.gov.uk", true)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := f.s.Can(f.ctx, admin.ID, svc.ID, platform.RefundPayments); !ok || err != nil {
			t.Errorf("platform admin Can = %v, %v", ok, err)
		}
		if _, err := f.s.Can(f.ctx, alice.ID, svc.ID, "send_mesages"); err == nil {
			t.Error("a misspelt permission was answered")
		}

		if err := f.s.RemoveMember(f.ctx, f.admin, svc.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.MemberPermissions(f.ctx, svc.ID, bob.ID)
		wantFailure(t, err, failure.NotFound, "")
		wantFailure(t, f.s.RemoveMember(f.ctx, f.admin, svc.ID, bob.ID), failure.NotFound, "")
		if ok, _ := f.s.Can(f.ctx, bob.ID, svc.ID, platform.ViewActivity); ok {
			t.Error("a removed member can still view activity")
		}
		want := []string{"service.created", "member.added", "member.added", "member.permissions_changed", "member.removed"}
		if got := f.actions(svc.ID); !slices.Equal(got, want) {
			t.Errorf("audit = %v, want %v", got, want)
		}
	})
}

// TestPlatformAdminIsNotAMember checks that admin rights do not put someone on every team:
// they can act in any service without showing up in its team list.
func TestPlatformAdminIsNotAMember(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Administered")
		admin, err := f.s.CreateUser(f.ctx, f.admin, "admin@example.gov.uk", true)
		if err != nil {
			t.Fatal(err)
		}
		if members, err := f.s.Members(f.ctx, svc.ID); err != nil || len(members) != 0 {
			t.Errorf("Members = %+v, %v", members, err)
		}
		_, err = f.s.MemberPermissions(f.ctx, svc.ID, admin.ID)
		wantFailure(t, err, failure.NotFound, "")
		for _, p := range platform.TeamPermissions {
			if ok, err := f.s.Can(f.ctx, admin.ID, svc.ID, p.Name); !ok || err != nil {
				t.Errorf("platform admin Can %s = %v, %v", p.Name, ok, err)
			}
		}
	})
}
