package platform_test

import (
	"slices"
	"testing"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

// TestCrossTenant checks that naming service A never reaches service B's members, keys or
// audit events, whatever ids the caller passes.
func TestCrossTenant(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		a, b := f.service("Service A"), f.service("Service B")
		lead := f.member(a, "lead@a.example.gov.uk", platform.ManageService, platform.ManageAPIKeys)
		bMember := f.member(b, "member@b.example.gov.uk", platform.SendMessages)
		bKey, _, err := f.s.CreateAPIKey(f.ctx, f.admin, b.ID, "B's key", apiauth.Live)
		if err != nil {
			t.Fatal(err)
		}
		bAudit := f.actions(b.ID)
		bEvents, err := f.s.AuditLog(f.ctx, b.ID, platform.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		before := f.counts()

		// Reads through A show nothing of B.
		if members, err := f.s.Members(f.ctx, a.ID); err != nil || len(members) != 1 || members[0].ID != lead.ID {
			t.Errorf("A's members = %+v, %v", members, err)
		}
		_, err = f.s.MemberPermissions(f.ctx, a.ID, bMember.ID)
		wantFailure(t, err, failure.NotFound, "")
		if keys, err := f.s.APIKeys(f.ctx, a.ID); err != nil || len(keys) != 0 {
			t.Errorf("A's keys = %+v, %v", keys, err)
		}
		if sk, err := f.s.ServiceKeys(f.ctx, a.ID); err != nil || len(sk.Keys) != 0 {
			t.Errorf("A's ServiceKeys = %+v, %v", sk, err)
		}
		for _, e := range mustAudit(t, f, a.ID, platform.AuditFilter{}) {
			if e.ServiceID != a.ID {
				t.Errorf("A's audit log shows %+v", e)
			}
		}
		_, err = f.s.AuditLog(f.ctx, a.ID, platform.AuditFilter{Before: bEvents[0].ID})
		wantFailure(t, err, failure.Invalid, "before")
		if ok, err := f.s.Can(f.ctx, bMember.ID, a.ID, platform.SendMessages); ok || err != nil {
			t.Errorf("B's member Can in A = %v, %v", ok, err)
		}

		// Changes through A cannot touch B.
		wantFailure(t, f.s.RevokeAPIKey(f.ctx, lead.Actor(), a.ID, bKey.ID), failure.NotFound, "")
		wantFailure(t, f.s.SetMemberPermissions(f.ctx, lead.Actor(), a.ID, bMember.ID, []string{platform.ManageService}),
			failure.NotFound, "")
		wantFailure(t, f.s.RemoveMember(f.ctx, lead.Actor(), a.ID, bMember.ID), failure.NotFound, "")
		f.unchanged(before, "changes across tenants")

		sk, err := f.s.ServiceKeys(f.ctx, b.ID)
		if err != nil || len(sk.Keys) != 1 || sk.Keys[0].Revoked {
			t.Errorf("B's key after A tried to revoke it: %+v, %v", sk, err)
		}
		if perms, err := f.s.MemberPermissions(f.ctx, b.ID, bMember.ID); err != nil || !slices.Equal(perms, []string{"send_messages"}) {
			t.Errorf("B's member after A tried to change them: %v, %v", perms, err)
		}
		if got := f.actions(b.ID); !slices.Equal(got, bAudit) {
			t.Errorf("B's audit log changed: %v, was %v", got, bAudit)
		}
	})
}

func mustAudit(t *testing.T, f *fixture, serviceID string, filter platform.AuditFilter) []platform.AuditEvent {
	t.Helper()
	events, err := f.s.AuditLog(f.ctx, serviceID, filter)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// TestOneUserInTwoServices checks that permissions and key names belong to a service: the same
// person may do different things in two services, and two services may name keys alike.
func TestOneUserInTwoServices(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		a, b := f.service("Service A"), f.service("Service B")
		u := f.member(a, "both@example.gov.uk", platform.SendMessages)
		if err := f.s.AddMember(f.ctx, f.admin, b.ID, u.ID, []string{platform.ViewActivity}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			service platform.Service
			perm    string
			want    bool
		}{
			{a, platform.SendMessages, true},
			{a, platform.ViewActivity, false},
			{b, platform.SendMessages, false},
			{b, platform.ViewActivity, true},
		} {
			if got, err := f.s.Can(f.ctx, u.ID, tc.service.ID, tc.perm); err != nil || got != tc.want {
				t.Errorf("Can in %s %s = %v, %v; want %v", tc.service.Name, tc.perm, got, err, tc.want)
			}
		}
		if err := f.s.RemoveMember(f.ctx, f.admin, a.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		if ok, err := f.s.Can(f.ctx, u.ID, b.ID, platform.ViewActivity); !ok || err != nil {
			t.Errorf("leaving A took away B's permission: %v, %v", ok, err)
		}

		for _, svc := range []platform.Service{a, b} {
			if _, _, err := f.s.CreateAPIKey(f.ctx, f.admin, svc.ID, "Production", apiauth.Live); err != nil {
				t.Errorf("key named Production in %s: %v", svc.Name, err)
			}
		}
	})
}
