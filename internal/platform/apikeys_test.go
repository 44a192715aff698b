package platform_test

import (
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

func TestAPIKeys(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Send reminders")
		dev := f.member(svc, "dev@example.gov.uk", platform.ManageAPIKeys)
		k, key, err := f.s.CreateAPIKey(f.ctx, dev.Actor(), svc.ID, "Production key", apiauth.Live)
		if err != nil {
			t.Fatal(err)
		}
		serviceID, secretValue, err := apiauth.ParseKey(key)
		if err != nil || serviceID != svc.ID || len(secretValue) != 36 || !strings.HasPrefix(key, "Production_key-") {
			t.Fatalf("key string %q: %v", key, err)
		}
		if k.Name != "Production key" || k.Type != apiauth.Live || k.CreatedBy != dev.Email || k.CreatedByUserID != dev.ID {
			t.Errorf("created %+v", k)
		}
		// The secret is stored only sealed.
		if text := f.tableText("api_keys"); strings.Contains(text, secretValue) {
			t.Fatal("the API key secret is stored in plain text")
		}
		if text := f.tableText("audit_events"); strings.Contains(text, secretValue) {
			t.Fatal("the API key secret is in the audit log")
		}

		sk, err := f.s.ServiceKeys(f.ctx, svc.ID)
		if err != nil || !sk.Found || sk.Archived || sk.Live || len(sk.Keys) != 1 {
			t.Fatalf("ServiceKeys = %+v, %v", sk, err)
		}
		if got := sk.Keys[0]; got.ID != k.ID || got.Secret != secretValue || got.Revoked || got.Type != apiauth.Live {
			t.Errorf("ServiceKeys key %+v", got)
		}

		before := f.counts()
		_, _, err = f.s.CreateAPIKey(f.ctx, dev.Actor(), svc.ID, "production KEY", apiauth.Test)
		if fe := wantFailure(t, err, failure.Conflict, "name"); fe.Message != "An API key called production KEY already exists" {
			t.Errorf("message %q", fe.Message)
		}
		_, _, err = f.s.CreateAPIKey(f.ctx, dev.Actor(), svc.ID, " ", apiauth.Test)
		if fe := wantFailure(t, err, failure.Invalid, "name"); fe.Message != "Enter an API key name" {
			t.Errorf("message %q", fe.Message)
		}
		_, _, err = f.s.CreateAPIKey(f.ctx, dev.Actor(), svc.ID, "Other", apiauth.KeyType("normal"))
		wantFailure(t, err, failure.Invalid, "key_type")
		_, _, err = f.s.CreateAPIKey(f.ctx, dev.Actor(), "00000000-0000-4000-8000-000000000000", "Other", apiauth.Test)
		wantFailure(t, err, failure.NotFound, "")
		f.unchanged(before, "refused keys")

		f.clock.Advance(time.Minute)
		if err := f.s.RevokeAPIKey(f.ctx, dev.Actor(), svc.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.RevokeAPIKey(f.ctx, dev.Actor(), svc.ID, k.ID); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		wantFailure(t, f.s.RevokeAPIKey(f.ctx, dev.Actor(), svc.ID, "00000000-0000-4000-8000-000000000000"), failure.NotFound, "")
		sk, err = f.s.ServiceKeys(f.ctx, svc.ID)
		if err != nil || len(sk.Keys) != 1 || !sk.Keys[0].Revoked {
			t.Errorf("ServiceKeys after revoking = %+v, %v", sk, err)
		}
		// A revoked key's name may be used again.
		k2, _, err := f.s.CreateAPIKey(f.ctx, dev.Actor(), svc.ID, "Production key", apiauth.Team)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := f.s.APIKeys(f.ctx, svc.ID)
		if err != nil || len(keys) != 2 || keys[0].ID != k2.ID || keys[1].ID != k.ID ||
			keys[1].RevokedAt == nil || !keys[1].RevokedAt.Equal(start.Add(time.Minute)) {
			t.Errorf("APIKeys = %+v, %v", keys, err)
		}
		events, err := f.s.AuditLog(f.ctx, svc.ID, platform.AuditFilter{Action: "api_key."})
		if err != nil || len(events) != 3 || events[1].Action != "api_key.revoked" || events[1].TargetID != k.ID {
			t.Errorf("key audit = %+v, %v", events, err)
		}

		if sk, err := f.s.ServiceKeys(f.ctx, "00000000-0000-4000-8000-000000000000"); err != nil || sk.Found {
			t.Errorf("ServiceKeys of an unknown service = %+v, %v", sk, err)
		}
		if sk, err := f.s.ServiceKeys(f.ctx, "not-a-uuid"); err != nil || sk.Found {
			t.Errorf("ServiceKeys of a malformed id = %+v, %v", sk, err)
		}
	})
}

func TestSealedSecretIsBoundToItsKey(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Bound")
		a, _, _ := f.s.CreateAPIKey(f.ctx, f.admin, svc.ID, "a", apiauth.Live)
		b, _, _ := f.s.CreateAPIKey(f.ctx, f.admin, svc.ID, "b", apiauth.Live)
		// Someone with write access to the table copies key a's sealed secret onto key b.
		if _, err := f.d.Exec(f.ctx, "UPDATE api_keys SET secret_sealed = (SELECT secret_sealed FROM api_keys WHERE id = ?) WHERE id = ?",
			a.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.ServiceKeys(f.ctx, svc.ID); err == nil {
			t.Error("a sealed secret opened under another key's id")
		}
	})
}

func TestTouchAPIKeys(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Touched")
		a, _, _ := f.s.CreateAPIKey(f.ctx, f.admin, svc.ID, "a", apiauth.Live)
		b, _, _ := f.s.CreateAPIKey(f.ctx, f.admin, svc.ID, "b", apiauth.Test)
		later, earlier := start.Add(time.Hour), start.Add(time.Minute)
		if err := f.s.TouchAPIKeys(f.ctx, map[string]time.Time{a.ID: later, b.ID: earlier}); err != nil {
			t.Fatal(err)
		}
		// An older batch arriving late does not move a's time back.
		if err := f.s.TouchAPIKeys(f.ctx, map[string]time.Time{a.ID: earlier, "00000000-0000-4000-8000-000000000000": later}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.TouchAPIKeys(f.ctx, nil); err != nil {
			t.Fatal(err)
		}
		keys, err := f.s.APIKeys(f.ctx, svc.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			want := map[string]time.Time{a.ID: later, b.ID: earlier}[k.ID]
			if k.LastUsedAt == nil || !k.LastUsedAt.Equal(want) {
				t.Errorf("key %s last used %v, want %v", k.Name, k.LastUsedAt, want)
			}
		}
	})
}
