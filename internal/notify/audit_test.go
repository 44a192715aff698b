package notify

import (
	"context"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/platform"
)

// Changes made through the management API are in the platform's audit log as the key's: one
// row for each change, none for a refused or failed one, on each engine.

// notifyAudit lists a service's Notify audit events, oldest first.
func (f *v2Fixture) notifyAudit(t *testing.T, serviceID string) []platform.AuditEvent {
	t.Helper()
	events, err := f.platform.AuditLog(f.ctx, serviceID, platform.AuditFilter{Action: "notify.", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
		events[i], events[j] = events[j], events[i]
	}
	return events
}

// auditStep runs one change and checks what it added to the service's audit log: exactly one
// event with the action, when action is not empty, and nothing at all when it is.
func (f *v2Fixture) auditStep(t *testing.T, serviceID, name, action string, change func()) platform.AuditEvent {
	t.Helper()
	before := len(f.notifyAudit(t, serviceID))
	change()
	after := f.notifyAudit(t, serviceID)
	added := after[before:]
	if action == "" {
		if len(added) != 0 {
			t.Fatalf("%s: wrote %d audit events, want none: %+v", name, len(added), added)
		}
		return platform.AuditEvent{}
	}
	if len(added) != 1 || added[0].Action != action {
		t.Fatalf("%s: wrote %+v, want one %s event", name, added, action)
	}
	return added[0]
}

func (f *v2Fixture) keyID(t *testing.T, serviceID, name string) string {
	t.Helper()
	keys, err := f.platform.APIKeys(f.ctx, serviceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Name == name {
			return k.ID
		}
	}
	t.Fatalf("no key %q", name)
	return ""
}

func TestAuditManagementAPI(t *testing.T) {
	eachDocs(t, func(t *testing.T, f *docFixture) {
		svc, key, keyID := f.a.id, f.a.liveKey, f.keyID(t, f.a.id, "live key")
		// The fixtures' own set-up, made through the Go API, is already in the log.
		start, startB := len(f.notifyAudit(t, svc)), len(f.notifyAudit(t, f.b.id))
		const p = "/api/notify/v1"
		call := func(method, path string, body any, status int) map[string]any {
			t.Helper()
			r := f.do(method, p+path, key, body)
			if r.status != status {
				t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.raw)
			}
			return r.body
		}
		var templateID, senderID string
		steps := []struct {
			name, action string
			change       func()
		}{
			{"invalid template", "", func() { call("POST", "/templates", map[string]any{"name": "", "type": "sms", "content": ""}, 400) }},
			{"create template", "notify.template.created", func() {
				templateID = call("POST", "/templates", map[string]any{"name": "Code", "type": "sms", "content": "Your code is ((code))"}, 201)["id"].(string)
			}},
			{"edit template", "notify.template.updated", func() {
				call("PUT", "/templates/"+templateID, map[string]any{"name": "Code", "content": "Your code: ((code))"}, 200)
			}},
			{"unchanged template", "", func() {
				call("PUT", "/templates/"+templateID, map[string]any{"name": "Code", "content": "Your code: ((code))"}, 200)
			}},
			{"archive template", "notify.template.archived", func() { call("POST", "/templates/"+templateID+"/archive", nil, 200) }},
			{"edit archived template", "", func() {
				call("PUT", "/templates/"+templateID, map[string]any{"name": "Code", "content": "Again"}, 409)
			}},
			{"invalid reply-to", "", func() { call("POST", "/reply-to-addresses", map[string]any{"value": "not an email"}, 400) }},
			{"add reply-to", "notify.reply_to.added", func() {
				senderID = call("POST", "/reply-to-addresses", map[string]any{"value": "help@example.gov.uk"}, 201)["id"].(string)
			}},
			{"remove reply-to", "notify.reply_to.removed", func() { call("DELETE", "/reply-to-addresses/"+senderID, nil, 204) }},
			{"remove unknown reply-to", "", func() { call("DELETE", "/reply-to-addresses/00000000-0000-4000-8000-000000000000", nil, 404) }},
			{"add text message sender", "notify.sms_sender.added", func() {
				senderID = call("POST", "/sms-senders", map[string]any{"value": "LICENCES"}, 201)["id"].(string)
			}},
			{"remove text message sender", "notify.sms_sender.removed", func() { call("DELETE", "/sms-senders/"+senderID, nil, 204) }},
			{"add letter contact", "notify.letter_contact.added", func() {
				senderID = call("POST", "/letter-contacts", map[string]any{"value": "Licensing\nPO Box 1"}, 201)["id"].(string)
			}},
			{"remove letter contact", "notify.letter_contact.removed", func() { call("DELETE", "/letter-contacts/"+senderID, nil, 204) }},
			{"invalid callback", "", func() {
				call("PUT", "/callbacks/delivery_status", map[string]any{"url": "ftp://x", "bearer_token": "short"}, 400)
			}},
			{"set callback", "notify.callback.saved", func() {
				call("PUT", "/callbacks/delivery_status", map[string]any{"url": "https://user:pw@service.example.gov.uk/notify?token=s3cret",
					"bearer_token": "a-long-enough-token"}, 200)
			}},
			{"remove callback", "notify.callback.removed", func() { call("DELETE", "/callbacks/delivery_status", nil, 204) }},
			{"remove callback again", "", func() { call("DELETE", "/callbacks/delivery_status", nil, 204) }},
			{"invalid guest list", "", func() {
				call("PUT", "/guest-list", map[string]any{"email_addresses": []string{"nope"}, "phone_numbers": []string{}}, 400)
			}},
			{"set guest list", "notify.guest_list.changed", func() {
				call("PUT", "/guest-list", map[string]any{"email_addresses": []string{"guest@example.com"}, "phone_numbers": []string{"07700 900456"}}, 200)
			}},
			{"same guest list", "", func() {
				call("PUT", "/guest-list", map[string]any{"email_addresses": []string{"Guest@Example.com"}, "phone_numbers": []string{"+447700900456"}}, 200)
			}},
		}
		for _, step := range steps {
			f.auditStep(t, svc, step.name, step.action, step.change)
		}

		// Cancelling a scheduled notification; cancelling it again is refused and recorded once.
		id := f.scheduleEmail(t, key, f.clock.Now().Add(time.Hour))
		e := f.auditStep(t, svc, "cancel notification", "notify.notification.cancelled", func() { call("POST", "/notifications/"+id+"/cancel", nil, 200) })
		if e.TargetType != "notification" || e.TargetID != id || e.Details["type"] != "email" {
			t.Errorf("cancel event %+v", e)
		}
		f.auditStep(t, svc, "cancel again", "", func() { call("POST", "/notifications/"+id+"/cancel", nil, 409) })

		events := f.notifyAudit(t, svc)[start:]
		for _, e := range events {
			if e.ActorAPIKeyID != keyID || e.ActorUserID != "" || e.ActorLabel != "live key" || e.ServiceID != svc {
				t.Errorf("%s: actor %q/%q/%q, service %s", e.Action, e.ActorAPIKeyID, e.ActorUserID, e.ActorLabel, e.ServiceID)
			}
		}
		if e := events[0]; e.TargetType != "template" || e.TargetID != templateID || e.Details["name"] != "Code" || e.Details["version"] != float64(1) {
			t.Errorf("template event %+v", e)
		}
		for _, e := range events {
			switch e.Action {
			case "notify.callback.saved":
				if e.TargetID != "delivery_status" || e.Details["url"] != "https://service.example.gov.uk/notify" || len(e.Details) != 2 {
					t.Errorf("callback event %+v: the URL should have lost its credentials and query", e)
				}
			case "notify.guest_list.changed":
				if e.Details["email_addresses"] != float64(1) || e.Details["phone_numbers"] != float64(1) {
					t.Errorf("guest list event %+v", e)
				}
			}
		}
		// Service B's log has none of A's changes.
		if got := f.notifyAudit(t, f.b.id); len(got) != startB {
			t.Errorf("service B's log holds %+v", got[startB:])
		}
	})
}

// TestAuditFailureUndoesChange shows the audit row and the change are one transaction: when
// the row cannot be written, the change is not made either.
func TestAuditFailureUndoesChange(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		nobody := platform.WithActor(f.ctx, platform.Actor{}) // no label: the log refuses it
		before := f.count("SELECT count(*) FROM notify_templates WHERE service_id = ?", f.a.id)
		if _, err := f.svc.CreateTemplate(nobody, f.a.id, "x", TemplateInput{Name: "Lost", Type: SMS, Content: "Hi"}); err == nil {
			t.Fatal("a template was created without its audit row")
		}
		if err := f.svc.SetGuestList(nobody, f.a.id, []string{"guest@example.com"}, nil); err == nil {
			t.Fatal("the guest list changed without its audit row")
		}
		st := DefaultSettings(f.a.id)
		st.RateLimit = 10
		if err := f.svc.SaveSettings(nobody, st); err == nil {
			t.Fatal("settings changed without their audit row")
		}
		if _, err := f.svc.AddReplyTo(nobody, f.a.id, "help@example.gov.uk", false); err == nil {
			t.Fatal("a reply-to address was added without its audit row")
		}
		if err := f.svc.SetCallback(nobody, Callback{ServiceID: f.a.id, Type: CallbackDeliveryStatus,
			URL: "https://example.gov.uk/cb", BearerToken: "a-long-enough-token"}); err == nil {
			t.Fatal("a callback was set without its audit row")
		}
		if n := f.count("SELECT count(*) FROM notify_templates WHERE service_id = ?", f.a.id); n != before {
			t.Errorf("templates went from %d to %d", before, n)
		}
		for _, table := range []string{"notify_guest_list", "notify_settings", "notify_reply_to", "notify_callbacks"} {
			if n := f.count("SELECT count(*) FROM "+table+" WHERE service_id = ?", f.a.id); n != 0 {
				t.Errorf("%d rows in %s", n, table)
			}
		}
		if got := f.notifyAudit(t, f.a.id); len(got) != 3 { // the fixture's three templates
			t.Errorf("audit log %+v", got)
		}

		// Through the Go API with no actor, a change is Commons' own.
		st.RateLimit = 20
		e := f.auditStep(t, f.a.id, "settings without actor", "notify.settings.changed", func() {
			if err := f.svc.SaveSettings(context.Background(), st); err != nil {
				t.Fatal(err)
			}
		})
		changes, _ := e.Details["changes"].(map[string]any)
		if e.ActorLabel != platform.SystemActor.Label || len(changes) != 1 || changes["rate_limit"] == nil {
			t.Errorf("settings event %+v", e)
		}
		f.auditStep(t, f.a.id, "unchanged settings", "", func() {
			if err := f.svc.SaveSettings(f.ctx, st); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func TestSettingsChangesAndSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"InternationalSMSDailyLimit": "international_sms_daily_limit",
		"PrefixSMS":                  "prefix_sms",
		"SMSRetentionDays":           "sms_retention_days",
		"RateLimit":                  "rate_limit",
		"ContactLink":                "contact_link",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
	a := DefaultSettings("s")
	b := a
	b.PrefixSMS, b.EmailRetentionDays = true, 30
	got := settingsChanges(a, b)
	if len(got) != 2 || got["prefix_sms"] == nil || got["email_retention_days"] == nil {
		t.Errorf("changes %v", got)
	}
	if len(settingsChanges(a, a)) != 0 {
		t.Error("identical settings differ")
	}
	if got := auditURL("https://u:p@example.gov.uk/cb?key=1#frag"); got != "https://example.gov.uk/cb" {
		t.Errorf("auditURL = %q", got)
	}
}
