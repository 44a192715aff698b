package platform_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

func TestCreateService(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc, err := f.s.CreateService(f.ctx, f.admin, platform.NewService{Name: " Apply for a licence "})
		if err != nil {
			t.Fatal(err)
		}
		if svc.Name != "Apply for a licence" || svc.Live || svc.Archived || !svc.CreatedAt.Equal(start) {
			t.Errorf("created %+v", svc)
		}
		if !slices.Equal(svc.Permissions, []string{"email", "sms", "letter"}) {
			t.Errorf("default permissions %v", svc.Permissions)
		}
		got, err := f.s.Service(f.ctx, svc.ID)
		if err != nil || got.Name != svc.Name || !slices.Equal(got.Permissions, svc.Permissions) || !got.CreatedAt.Equal(svc.CreatedAt) {
			t.Errorf("Service = %+v, %v", got, err)
		}
		events, err := f.s.AuditLog(f.ctx, svc.ID, platform.AuditFilter{})
		if err != nil || len(events) != 1 {
			t.Fatalf("audit = %+v, %v", events, err)
		}
		if e := events[0]; e.Action != "service.created" || e.ActorLabel != "commons admin (CLI)" || e.TargetID != svc.ID ||
			e.ServiceID != svc.ID || e.Details["name"] != "Apply for a licence" || !e.CreatedAt.Equal(start) {
			t.Errorf("audit event %+v", e)
		}

		org, err := f.s.CreateOrganisation(f.ctx, f.admin, "Ministry of Examples")
		if err != nil {
			t.Fatal(err)
		}
		inOrg, err := f.s.CreateService(f.ctx, f.admin, platform.NewService{Name: "Apply for a licence",
			OrganisationID: org.ID, Live: true, Permissions: []string{"card_payments", "email", "email"}})
		if err != nil {
			t.Fatalf("same name in another organisation: %v", err)
		}
		if !inOrg.Live || inOrg.OrganisationID != org.ID || !slices.Equal(inOrg.Permissions, []string{"email", "card_payments"}) {
			t.Errorf("created %+v", inOrg)
		}

		before := f.counts()
		_, err = f.s.CreateService(f.ctx, f.admin, platform.NewService{Name: "APPLY FOR A LICENCE"})
		if fe := wantFailure(t, err, failure.Conflict, "name"); fe.Message != "A service called APPLY FOR A LICENCE already exists" {
			t.Errorf("message %q", fe.Message)
		}
		_, err = f.s.CreateService(f.ctx, f.admin, platform.NewService{Name: ""})
		if fe := wantFailure(t, err, failure.Invalid, "name"); fe.Message != "Enter a service name" {
			t.Errorf("message %q", fe.Message)
		}
		_, err = f.s.CreateService(f.ctx, f.admin, platform.NewService{Name: "Other", OrganisationID: "00000000-0000-4000-8000-000000000000"})
		wantFailure(t, err, failure.Invalid, "organisation")
		_, err = f.s.CreateService(f.ctx, f.admin, platform.NewService{Name: "Other", Permissions: []string{"telepathy"}})
		wantFailure(t, err, failure.Invalid, "permissions")
		f.unchanged(before, "refused services")

		none, err := f.s.CreateService(f.ctx, f.admin, platform.NewService{Name: "Quiet", Permissions: []string{}})
		if err != nil || len(none.Permissions) != 0 {
			t.Errorf("service with no permissions: %+v, %v", none, err)
		}
		all, err := f.s.Services(f.ctx)
		if err != nil || len(all) != 3 {
			t.Errorf("Services = %d, %v", len(all), err)
		}
	})
}

func TestServiceLifecycle(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		svc := f.service("Register a pet")
		if err := f.s.SetLive(f.ctx, f.admin, svc.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetLive(f.ctx, f.admin, svc.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetLive(f.ctx, f.admin, svc.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetServicePermissions(f.ctx, f.admin, svc.ID, []string{"sms", "international_sms"}); err != nil {
			t.Fatal(err)
		}
		err := f.s.SetServicePermissions(f.ctx, f.admin, svc.ID, []string{"fax"})
		wantFailure(t, err, failure.Invalid, "permissions")
		if err := f.s.RenameService(f.ctx, f.admin, svc.ID, "Register an animal"); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.Service(f.ctx, svc.ID)
		if err != nil || got.Live || got.Name != "Register an animal" || !slices.Equal(got.Permissions, []string{"sms", "international_sms"}) {
			t.Errorf("Service = %+v, %v", got, err)
		}
		if !got.Can(platform.ServiceSMS) || got.Can(platform.ServiceEmail) {
			t.Errorf("Can on %v", got.Permissions)
		}

		_, key, err := f.s.CreateAPIKey(f.ctx, f.admin, svc.ID, "live key", apiauth.Live)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(1)
		if err := f.s.Archive(f.ctx, f.admin, svc.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Archive(f.ctx, f.admin, svc.ID); err != nil {
			t.Fatalf("archiving twice: %v", err)
		}
		want := []string{"service.created", "service.made_live", "service.made_trial", "service.permissions_changed",
			"service.renamed", "api_key.created", "service.archived"}
		if got := f.actions(svc.ID); !slices.Equal(got, want) {
			t.Errorf("audit = %v, want %v", got, want)
		}
		got, err = f.s.Service(f.ctx, svc.ID)
		if err != nil || !got.Archived || got.ArchivedAt == nil {
			t.Errorf("archived service = %+v, %v", got, err)
		}
		sk, err := f.s.ServiceKeys(f.ctx, svc.ID)
		if err != nil || !sk.Found || !sk.Archived || len(sk.Keys) != 1 || !sk.Keys[0].Revoked {
			t.Errorf("ServiceKeys of archived service = %+v, %v (key %s)", sk, err, key)
		}

		before := f.counts()
		wantFailure(t, f.s.SetLive(f.ctx, f.admin, svc.ID, true), failure.Conflict, "")
		_, _, err = f.s.CreateAPIKey(f.ctx, f.admin, svc.ID, "another", apiauth.Live)
		wantFailure(t, err, failure.Conflict, "")
		u := f.user("late@example.gov.uk")
		before = f.counts()
		wantFailure(t, f.s.AddMember(f.ctx, f.admin, svc.ID, u.ID, nil), failure.Conflict, "")
		f.unchanged(before, "changes to an archived service")

		if _, err := f.s.CreateService(f.ctx, f.admin, platform.NewService{Name: "Register an animal"}); err != nil {
			t.Errorf("an archived service's name is not free again: %v", err)
		}
		wantFailure(t, f.s.SetLive(f.ctx, f.admin, "00000000-0000-4000-8000-000000000000", true), failure.NotFound, "")
	})
}

func TestServicesForUser(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		b, a := f.service("Bravo"), f.service("alpha")
		f.service("Charlie")
		u := f.member(b, "person@example.gov.uk")
		if err := f.s.AddMember(f.ctx, f.admin, a.ID, u.ID, nil); err != nil {
			t.Fatal(err)
		}
		list, err := f.s.ServicesForUser(f.ctx, u.ID)
		if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
			t.Errorf("ServicesForUser = %+v, %v", list, err)
		}
		list, err = f.s.ServicesForUser(f.ctx, f.user("nobody@example.gov.uk").ID)
		if err != nil || len(list) != 0 {
			t.Errorf("ServicesForUser of a user on no team = %+v, %v", list, err)
		}
	})
}

func TestOrganisations(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		o, err := f.s.CreateOrganisation(f.ctx, f.admin, "  Department for Examples  ")
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != "Department for Examples" || o.ID == "" || !o.CreatedAt.Equal(start) {
			t.Errorf("created %+v", o)
		}
		got, err := f.s.Organisation(f.ctx, o.ID)
		if err != nil || got != o {
			t.Errorf("Organisation = %+v, %v; want %+v", got, err, o)
		}
		if got := f.actions(""); len(got) != 1 || got[0] != "organisation.created" {
			t.Errorf("platform audit = %v", got)
		}

		before := f.counts()
		_, err = f.s.CreateOrganisation(f.ctx, f.admin, "department for EXAMPLES")
		fe := wantFailure(t, err, failure.Conflict, "name")
		if fe.Message != "An organisation called department for EXAMPLES already exists" {
			t.Errorf("message %q", fe.Message)
		}
		_, err = f.s.CreateOrganisation(f.ctx, f.admin, "   ")
		if fe := wantFailure(t, err, failure.Invalid, "name"); fe.Message != "Enter an organisation name" {
			t.Errorf("message %q", fe.Message)
		}
		_, err = f.s.CreateOrganisation(f.ctx, f.admin, strings.Repeat("x", 256))
		wantFailure(t, err, failure.Invalid, "name")
		f.unchanged(before, "refused organisations")

		if _, err := f.s.CreateOrganisation(f.ctx, f.admin, "Animal Agency"); err != nil {
			t.Fatal(err)
		}
		list, err := f.s.Organisations(f.ctx)
		if err != nil || len(list) != 2 || list[0].Name != "Animal Agency" || list[1].ID != o.ID {
			t.Errorf("Organisations = %+v, %v", list, err)
		}
		_, err = f.s.Organisation(f.ctx, "00000000-0000-4000-8000-000000000000")
		wantFailure(t, err, failure.NotFound, "")
		_, err = f.s.Organisation(f.ctx, "not an id")
		wantFailure(t, err, failure.NotFound, "")
	})
}
