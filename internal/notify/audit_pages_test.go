package notify_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/notify"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/secret"
	"github.com/commons-gov/commons/internal/web"
)

// Changes made on Notify's console pages are in the platform's audit log as the signed-in
// person's, one row for each change and none for a refused form, and the console's audit log
// page shows them in words.

// eachAuditSite runs fn with the console serving Notify's pages, the bulk sending pages, and
// the audit log page knowing Notify's actions, as the application assembles them.
func eachAuditSite(t *testing.T, fn func(t *testing.T, s *pagesSite)) {
	t.Helper()
	keys, err := secret.ParseKeyring(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, migrateConsolePages, func(t *testing.T, d *db.DB) {
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		store := platform.New(d, keys)
		workers := river.NewWorkers()
		river.AddWorker(workers, bulkHeldDelivery{})
		jc, err := jobs.New(d, jobs.Config{Workers: workers, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		n := notify.New(notify.Config{DB: d, Jobs: jc, Platform: store, Keyring: keys, Logger: logger, Dev: true, BaseURL: "http://commons.test"})
		n.Now = func() time.Time { return pagesNow }
		n.RegisterBulkWorkers(workers)
		con, err := console.New(console.Config{Platform: store, Dev: true, BaseURL: "http://commons.test", Logger: logger,
			CheckMobileNumber: notify.NormaliseTeamMobile})
		if err != nil {
			t.Fatal(err)
		}
		con.AddAuditActions(notify.AuditActions())
		mux := http.NewServeMux()
		web.MountAssets(mux)
		con.Mount(mux)
		if err := n.MountConsole(mux, con); err != nil {
			t.Fatal(err)
		}
		if err := n.MountBulkConsole(mux, con); err != nil {
			t.Fatal(err)
		}
		stack, err := web.Stack(web.StackConfig{Logger: logger, BaseURL: "http://commons.test"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(stack(mux))
		t.Cleanup(srv.Close)
		s := &pagesSite{t: t, ctx: context.Background(), d: d, store: store, notify: n, srv: srv}
		if s.org, err = store.CreateOrganisation(s.ctx, platform.CLIActor, "Department for Testing"); err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
}

// notifyAudit lists a service's Notify audit events, oldest first.
func (s *pagesSite) notifyAudit(serviceID string) []platform.AuditEvent {
	s.t.Helper()
	events, err := s.store.AuditLog(s.ctx, serviceID, platform.AuditFilter{Action: "notify.", Limit: 1000})
	if err != nil {
		s.t.Fatal(err)
	}
	slices.Reverse(events)
	return events
}

func TestAuditConsolePages(t *testing.T) {
	eachAuditSite(t, func(t *testing.T, s *pagesSite) {
		svc, tmpl := liveService(s, "Licences")
		const email = "manager@example.gov.uk"
		b := s.signIn(email, false, []string{platform.ManageService, platform.ManageTemplates, platform.SendMessages}, svc)
		u, err := s.store.UserByEmail(s.ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		base := "/admin/services/" + svc.ID + "/notify"
		start := len(s.notifyAudit(svc.ID)) // liveService's template, made through the Go API

		var templateID, jobPath string
		senderID := func(list func(context.Context, string) ([]notify.Sender, error)) string {
			t.Helper()
			all, err := list(s.ctx, svc.ID)
			if err != nil || len(all) == 0 {
				t.Fatalf("senders %v, %v", all, err)
			}
			return all[0].ID
		}
		steps := []struct {
			name, action string
			change       func()
		}{
			{"invalid template", "", func() {
				b.post(base+"/templates/new", url.Values{"type": {"sms"}, "action": {"save"}}).expect(t, 422)
			}},
			{"create template", "notify.template.created", func() {
				p := b.post(base+"/templates/new", url.Values{"type": {"sms"}, "name": {"Code"}, "content": {"Your code is ((code))"},
					"action": {"save"}}).expect(t, 200, "Template created: Code")
				templateID = strings.TrimPrefix(p.path, base+"/templates/")
			}},
			{"edit template", "notify.template.updated", func() {
				b.post(base+"/templates/"+templateID+"/edit", url.Values{"name": {"Code"}, "content": {"Your code: ((code))"},
					"action": {"save"}}).expect(t, 200, "Template saved: Code")
			}},
			{"archive template", "notify.template.archived", func() {
				b.post(base+"/templates/"+templateID+"/archive", nil).expect(t, 200, "Template archived: Code")
			}},
			{"invalid reply-to", "", func() {
				b.post(base+"/settings/reply-to/new", url.Values{"email_address": {"not an address"}}).expect(t, 422)
			}},
			{"add reply-to", "notify.reply_to.added", func() {
				b.post(base+"/settings/reply-to/new", url.Values{"email_address": {"help@example.gov.uk"}}).expect(t, 200)
			}},
			{"remove reply-to", "notify.reply_to.removed", func() {
				b.post(base+"/settings/reply-to/"+senderID(s.notify.ReplyTos)+"/remove", nil).expect(t, 200)
			}},
			{"add text message sender", "notify.sms_sender.added", func() {
				b.post(base+"/settings/text-message-senders/new", url.Values{"sms_sender": {"LICENCES"}}).expect(t, 200)
			}},
			{"remove text message sender", "notify.sms_sender.removed", func() {
				b.post(base+"/settings/text-message-senders/"+senderID(s.notify.SMSSenders)+"/remove", nil).expect(t, 200)
			}},
			{"add letter contact", "notify.letter_contact.added", func() {
				b.post(base+"/settings/letter-contact-blocks/new", url.Values{"contact_block": {"Licensing\r\nPO Box 1"}}).expect(t, 200)
			}},
			{"invalid callback", "", func() {
				b.post(base+"/settings/callbacks/delivery_status", url.Values{"url": {"not a url"}, "bearer_token": {"short"}}).expect(t, 422)
			}},
			{"set callback", "notify.callback.saved", func() {
				b.post(base+"/settings/callbacks/delivery_status", url.Values{"url": {"https://api.example.gov.uk/notify"},
					"bearer_token": {"a-long-enough-token"}}).expect(t, 200)
			}},
			{"remove callback", "notify.callback.removed", func() {
				b.post(base+"/settings/callbacks/delivery_status/remove", nil).expect(t, 200)
			}},
			{"invalid guest list", "", func() {
				b.post(base+"/settings/guest-list", url.Values{"email_addresses": {"not-an-address"}}).expect(t, 422)
			}},
			{"set guest list", "notify.guest_list.changed", func() {
				b.post(base+"/settings/guest-list", url.Values{"email_addresses": {"friend@example.com"}, "phone_numbers": {"07700 900123"}}).expect(t, 200)
			}},
			{"sending settings", "notify.settings.changed", func() {
				b.post(base+"/settings/sending", url.Values{"email_sender_name": {"Licensing Team"}, "prefix_sms": {"yes"}}).expect(t, 200)
			}},
			{"invalid retention", "", func() {
				b.post(base+"/settings/retention", url.Values{"email_retention_days": {"2"}, "sms_retention_days": {"7"},
					"letter_retention_days": {"7"}}).expect(t, 422)
			}},
			{"retention", "notify.settings.changed", func() {
				b.post(base+"/settings/retention", url.Values{"email_retention_days": {"14"}, "sms_retention_days": {"7"},
					"letter_retention_days": {"7"}}).expect(t, 200)
			}},
			{"upload", "notify.bulk_send.uploaded", func() {
				jobPath = upload(b, base+"/bulk", tmpl.ID, "july.csv", "email address,name,date\na@example.com,A,1 July\n").
					expect(t, 200, "Ready to send 1 email").path
			}},
			{"schedule", "notify.bulk_send.started", func() {
				b.post(jobPath+"/send", url.Values{"when": {"later"}, "date-day": {"13"}, "date-month": {"6"}, "date-year": {"2025"},
					"time": {"9:30am"}}).expect(t, 200, "Sending is scheduled")
			}},
			{"cancel", "notify.bulk_send.cancelled", func() {
				b.post(jobPath+"/cancel", url.Values{}).expect(t, 200, "Sending has been cancelled")
			}},
			{"cancel again", "", func() {
				b.post(jobPath+"/cancel", url.Values{}).expect(t, 200, "Cancelled").lacks(t, "Sending has been cancelled")
			}},
			{"upload again", "notify.bulk_send.uploaded", func() {
				jobPath = upload(b, base+"/bulk", tmpl.ID, "august.csv", "email address,name,date\nb@example.com,B,1 August\n").
					expect(t, 200, "Ready to send 1 email").path
			}},
			{"send now", "notify.bulk_send.started", func() {
				b.post(jobPath+"/send", url.Values{"when": {"now"}}).expect(t, 200, "Sending has started")
			}},
		}
		for _, step := range steps {
			before := len(s.notifyAudit(svc.ID))
			step.change()
			added := s.notifyAudit(svc.ID)[before:]
			switch {
			case step.action == "" && len(added) != 0:
				t.Fatalf("%s: wrote %+v, want nothing", step.name, added)
			case step.action != "" && (len(added) != 1 || added[0].Action != step.action):
				t.Fatalf("%s: wrote %+v, want one %s event", step.name, added, step.action)
			}
		}
		events := s.notifyAudit(svc.ID)[start:]
		for _, e := range events {
			if e.ActorUserID != u.ID || e.ActorLabel != email || e.ActorAPIKeyID != "" {
				t.Errorf("%s: actor %q/%q/%q", e.Action, e.ActorUserID, e.ActorLabel, e.ActorAPIKeyID)
			}
		}

		// The audit log page says what happened in words, and filters by kind of change.
		audit := "/admin/services/" + svc.ID + "/audit"
		b.get(audit).expect(t, 200, "Created a template", "Edited a template", "Archived a template", "Set up a callback",
			"Delivery receipts", "Changed the guest list", "Changed Notify settings", "Started a bulk send", "Cancelled a bulk send",
			"Notify: templates", email)
		b.get(audit+"?action=notify.template.").expect(t, 200, "Created a template", "Code").
			lacks(t, "Added a reply-to email address", "Changed the guest list")
		b.get(audit+"?action=notify.bulk_send.").expect(t, 200, "july.csv", "august.csv").lacks(t, "Created a template")
	})
}

// A person gives, changes and removes their own mobile number on their account page.
func TestAccountMobileNumber(t *testing.T) {
	eachAuditSite(t, func(t *testing.T, s *pagesSite) {
		svc := s.service("Texts")
		b := s.signIn("member@example.gov.uk", false, []string{platform.SendMessages}, svc)
		b.get("/admin/account").expect(t, 200, "Mobile number", "Not given", `href="/admin/account/mobile-number"`)
		b.get("/admin/account/mobile-number").expect(t, 200, "Your mobile number", `type="tel"`, `autocomplete="tel"`)
		b.post("/admin/account/mobile-number", url.Values{"mobile_number": {"020 7946 0000"}}).
			expect(t, 422, "<title>Error: Your mobile number", `href="#mobile_number"`, "Enter a mobile number, not a landline",
				`value="020 7946 0000"`)
		b.post("/admin/account/mobile-number", url.Values{"mobile_number": {""}}).expect(t, 422, "Enter a mobile number")
		u, _ := s.store.UserByEmail(s.ctx, "member@example.gov.uk")
		if u.MobileNumber != "" {
			t.Fatalf("an invalid number was saved: %q", u.MobileNumber)
		}
		b.post("/admin/account/mobile-number", url.Values{"mobile_number": {"07700 900 982"}}).
			expect(t, 200, "Your mobile number has been saved", "&#43;447700900982").at(t, "/admin/account")
		b.get("/admin/account/mobile-number").expect(t, 200, `value="&#43;447700900982"`, "To remove your number")
		b.post("/admin/account/mobile-number", url.Values{"mobile_number": {""}}).
			expect(t, 200, "Your mobile number has been removed", "Not given")
		events, err := s.store.PlatformAuditLog(s.ctx, platform.AuditFilter{Action: "user.mobile_number_changed"})
		if err != nil || len(events) != 2 || events[1].ActorLabel != "member@example.gov.uk" {
			t.Fatalf("audit %+v, %v", events, err)
		}
	})
}
