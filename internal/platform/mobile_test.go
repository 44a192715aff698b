package platform_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

func TestCheckMobileNumber(t *testing.T) {
	for in, want := range map[string]string{
		"07700 900 982":      "+447700900982",
		"+44 7700 900982":    "+447700900982",
		"0044 (7700) 900982": "+447700900982",
		"+61 412-345-678":    "+61412345678",
		"+447700900982":      "+447700900982",
	} {
		if got, err := platform.CheckMobileNumber(in); err != nil || got != want {
			t.Errorf("CheckMobileNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "  ", "7700", "+0447700900982", "07700 900 98a", "+4477009009821234567", "call me"} {
		_, err := platform.CheckMobileNumber(bad)
		wantFailure(t, err, failure.Invalid, "mobile_number")
	}
}

func TestSetMobileNumber(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Texts")
		u := f.member(svc, "ada@example.gov.uk", platform.SendMessages)
		before := f.counts()
		for _, bad := range []string{"not a number", "+0123"} {
			wantFailure(t, f.s.SetMobileNumber(f.ctx, u.Actor(), u.ID, bad), failure.Invalid, "mobile_number")
		}
		wantFailure(t, f.s.SetMobileNumber(f.ctx, u.Actor(), "8c1f4f64-3f0e-4a47-9a43-9f4f2b0c2a11", "07700900982"), failure.NotFound, "")
		f.unchanged(before, "refused mobile numbers")

		if err := f.s.SetMobileNumber(f.ctx, u.Actor(), u.ID, "07700 900 982"); err != nil {
			t.Fatal(err)
		}
		// The same number again, however it is written, changes nothing.
		if err := f.s.SetMobileNumber(f.ctx, u.Actor(), u.ID, "+447700900982"); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.User(f.ctx, u.ID)
		if err != nil || got.MobileNumber != "+447700900982" {
			t.Fatalf("User = %+v, %v", got, err)
		}
		members, err := f.s.Members(f.ctx, svc.ID)
		if err != nil || len(members) != 1 || members[0].MobileNumber != "+447700900982" {
			t.Fatalf("Members = %+v, %v", members, err)
		}
		if err := f.s.SetMobileNumber(f.ctx, u.Actor(), u.ID, ""); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.User(f.ctx, u.ID); got.MobileNumber != "" {
			t.Errorf("removed number is still %q", got.MobileNumber)
		}

		want := []string{"user.created", "user.mobile_number_changed", "user.mobile_number_changed"}
		if got := f.actions(""); !slices.Equal(got, want) {
			t.Errorf("platform audit = %v, want %v", got, want)
		}
		events, err := f.s.PlatformAuditLog(f.ctx, platform.AuditFilter{Action: "user.mobile_number_changed"})
		if err != nil || len(events) != 2 {
			t.Fatalf("events = %+v, %v", events, err)
		}
		if e := events[1]; e.ActorUserID != u.ID || e.TargetID != u.ID || e.Details["mobile_number"] != "+447700900982" ||
			e.Details["email"] != "ada@example.gov.uk" || e.ServiceID != "" {
			t.Errorf("saved event %+v", e)
		}
		if e := events[0]; e.Details["mobile_number"] != "" {
			t.Errorf("removed event %+v", e)
		}
	})
}

// TestRecord checks the audit log's entry point for other platforms: the row is written in the
// caller's transaction, so a change that fails leaves no row, and the actor may come from the
// request's context.
func TestRecord(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Recorded")
		key := platform.KeyActor("0b8f8a36-2f52-4d0e-8f5d-0f2f0b7a1c11", "deploy key")
		ctx := platform.WithActor(f.ctx, key)
		actor, ok := platform.ActorFrom(ctx)
		if !ok || actor != key {
			t.Fatalf("ActorFrom = %+v, %v", actor, ok)
		}
		if _, ok := platform.ActorFrom(f.ctx); ok {
			t.Error("a context without an actor has one")
		}
		entry := platform.AuditEntry{ServiceID: svc.ID, Action: "notify.template.created", TargetType: "template",
			TargetID: "t1", Details: map[string]any{"name": "Welcome"}}

		before := f.counts()
		failed := errors.New("the change failed")
		err := f.d.InTx(ctx, func(tx *db.Tx) error {
			if err := f.s.Record(ctx, tx, actor, entry); err != nil {
				return err
			}
			return failed
		})
		if !errors.Is(err, failed) {
			t.Fatalf("InTx = %v", err)
		}
		for _, bad := range []platform.AuditEntry{
			{ServiceID: svc.ID, TargetType: "template"},
			{ServiceID: svc.ID, Action: "notify.template.created"},
			{ServiceID: "not-an-id", Action: "notify.template.created", TargetType: "template"},
		} {
			if err := f.d.InTx(ctx, func(tx *db.Tx) error { return f.s.Record(ctx, tx, actor, bad) }); err == nil {
				t.Errorf("Record(%+v) succeeded", bad)
			}
		}
		if err := f.d.InTx(ctx, func(tx *db.Tx) error { return f.s.Record(ctx, tx, platform.Actor{}, entry) }); err == nil {
			t.Error("Record with no actor label succeeded")
		}
		f.unchanged(before, "failed changes")

		if err := f.d.InTx(ctx, func(tx *db.Tx) error { return f.s.Record(ctx, tx, actor, entry) }); err != nil {
			t.Fatal(err)
		}
		events, err := f.s.AuditLog(f.ctx, svc.ID, platform.AuditFilter{Action: "notify."})
		if err != nil || len(events) != 1 {
			t.Fatalf("events = %+v, %v", events, err)
		}
		if e := events[0]; e.ActorAPIKeyID != key.APIKeyID || e.ActorLabel != "deploy key" || e.TargetID != "t1" ||
			e.Details["name"] != "Welcome" {
			t.Errorf("event %+v", e)
		}
	})
}
