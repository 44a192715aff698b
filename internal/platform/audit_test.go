package platform_test

import (
	"slices"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

func TestAuditLogFilters(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Audited") // service.created at start
		lead := f.member(svc, "lead@example.gov.uk", platform.ManageService, platform.ManageAPIKeys)
		key := platform.KeyActor("9f0c7c57-8a3f-4c1e-9a55-5c4a0a3f1d10", "ci key")
		for i, step := range []func() error{
			func() error {
				_, _, err := f.s.CreateAPIKey(f.ctx, lead.Actor(), svc.ID, "one", apiauth.Test)
				return err
			},
			func() error {
				_, _, err := f.s.CreateAPIKey(f.ctx, lead.Actor(), svc.ID, "two", apiauth.Test)
				return err
			},
			func() error { return f.s.SetLive(f.ctx, key, svc.ID, true) },
			func() error { return f.s.SetServicePermissions(f.ctx, lead.Actor(), svc.ID, []string{"email"}) },
		} {
			f.clock.Advance(time.Minute)
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		// The log now holds, oldest first: service.created, member.added (both at start),
		// api_key.created ×2, service.made_live, service.permissions_changed (one a minute).
		list := func(filter platform.AuditFilter) []string {
			t.Helper()
			events, err := f.s.AuditLog(f.ctx, svc.ID, filter)
			if err != nil {
				t.Fatalf("AuditLog(%+v): %v", filter, err)
			}
			out := []string{}
			for _, e := range events {
				out = append(out, e.Action)
			}
			return out
		}
		for _, tc := range []struct {
			name   string
			filter platform.AuditFilter
			want   []string
		}{
			{"newest first", platform.AuditFilter{}, []string{"service.permissions_changed", "service.made_live",
				"api_key.created", "api_key.created", "member.added", "service.created"}},
			{"exact action", platform.AuditFilter{Action: "service.made_live"}, []string{"service.made_live"}},
			{"action prefix", platform.AuditFilter{Action: "service."}, []string{"service.permissions_changed",
				"service.made_live", "service.created"}},
			{"no partial words", platform.AuditFilter{Action: "service"}, []string{}},
			{"actor label", platform.AuditFilter{ActorLabel: "ci key"}, []string{"service.made_live"}},
			{"actor user", platform.AuditFilter{ActorUserID: lead.ID}, []string{"service.permissions_changed",
				"api_key.created", "api_key.created"}},
			{"since", platform.AuditFilter{Since: start.Add(3 * time.Minute)}, []string{"service.permissions_changed",
				"service.made_live"}},
			{"until", platform.AuditFilter{Until: start.Add(time.Minute)}, []string{"member.added", "service.created"}},
			{"limit", platform.AuditFilter{Limit: 2}, []string{"service.permissions_changed", "service.made_live"}},
		} {
			if got := list(tc.filter); !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}

		events, err := f.s.AuditLog(f.ctx, svc.ID, platform.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if e := events[2]; e.ActorAPIKeyID != "" || e.ActorUserID != lead.ID || e.TargetType != "api_key" || e.Details["name"] != "two" {
			t.Errorf("key event %+v", e)
		}
		if e := events[1]; e.ActorAPIKeyID != key.APIKeyID || e.ActorUserID != "" || e.ActorLabel != "ci key" {
			t.Errorf("event by a key %+v", e)
		}

		// Paging with Before walks the whole log without gaps or repeats, even through events
		// written in the same instant.
		var paged []string
		filter := platform.AuditFilter{Limit: 4}
		for {
			page, err := f.s.AuditLog(f.ctx, svc.ID, filter)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				paged = append(paged, e.ID)
			}
			if len(page) < filter.Limit {
				break
			}
			filter.Before = page[len(page)-1].ID
		}
		var all []string
		for _, e := range events {
			all = append(all, e.ID)
		}
		if !slices.Equal(paged, all) {
			t.Errorf("paged ids %v, want %v", paged, all)
		}
		_, err = f.s.AuditLog(f.ctx, svc.ID, platform.AuditFilter{Before: "00000000-0000-4000-8000-000000000000"})
		wantFailure(t, err, failure.Invalid, "before")
	})
}

func TestFailedChangesWriteNoAudit(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Careful")
		f.member(svc, "one@example.gov.uk")
		if _, _, err := f.s.CreateAPIKey(f.ctx, f.admin, svc.ID, "key", apiauth.Live); err != nil {
			t.Fatal(err)
		}
		want := f.actions(svc.ID)
		before := f.counts()
		u, _ := f.s.UserByEmail(f.ctx, "one@example.gov.uk")
		for _, err := range []error{
			f.s.AddMember(f.ctx, f.admin, svc.ID, u.ID, nil),
			f.s.SetServicePermissions(f.ctx, f.admin, svc.ID, []string{"nope"}),
			f.s.RenameService(f.ctx, f.admin, svc.ID, ""),
			f.s.SetMemberPermissions(f.ctx, f.admin, svc.ID, u.ID, []string{"nope"}),
			f.s.RevokeAPIKey(f.ctx, f.admin, svc.ID, "00000000-0000-4000-8000-000000000000"),
			f.s.RemoveMember(f.ctx, f.admin, svc.ID, "00000000-0000-4000-8000-000000000000"),
		} {
			if err == nil {
				t.Error("an invalid change succeeded")
			}
		}
		_, _, err := f.s.CreateAPIKey(f.ctx, f.admin, svc.ID, "key", apiauth.Live)
		wantFailure(t, err, failure.Conflict, "name")
		f.unchanged(before, "failed changes")
		if got := f.actions(svc.ID); !slices.Equal(got, want) {
			t.Errorf("audit after failed changes = %v, want %v", got, want)
		}
	})
}

func TestChangeWithoutActorLabelLeavesNothing(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		before := f.counts()
		// The audit row is written in the change's transaction, so when it cannot be written
		// the change is rolled back with it.
		_, err := f.s.CreateService(f.ctx, platform.Actor{UserID: "someone"}, platform.NewService{Name: "Unattributed"})
		if err == nil {
			t.Fatal("a change with no actor label succeeded")
		}
		f.unchanged(before, "unattributed change")
	})
}
