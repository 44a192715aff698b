package notify_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/notify"
	"github.com/commons-gov/commons/internal/platform"
)

func TestNotifyPagesRefuseOtherServices(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		a, other := s.service("Service A"), s.service("Service B")
		all := []string{platform.ManageService, platform.ManageAPIKeys, platform.ManageTemplates, platform.SendMessages, platform.ViewActivity}
		m := s.signIn("a@example.gov.uk", false, all, a)
		theirs, err := s.notify.CreateTemplate(s.ctx, other.ID, "b@example.gov.uk", notify.TemplateInput{Name: "B's", Type: notify.Email, Subject: "Hi", Content: "Hello"})
		if err != nil {
			t.Fatal(err)
		}
		contact, err := s.notify.AddLetterContact(s.ctx, other.ID, "B's office", false)
		if err != nil {
			t.Fatal(err)
		}

		// Every page of another team's service is "not found", so its existence is not given away.
		b := "/admin/services/" + other.ID + "/notify"
		for _, path := range []string{"", "/templates", "/templates/new?type=email", "/templates/" + theirs.ID,
			"/templates/" + theirs.ID + "/edit", "/templates/" + theirs.ID + "/versions", "/templates/" + theirs.ID + "/versions/1",
			"/templates/" + theirs.ID + "/archive", "/templates/" + theirs.ID + "/preview.html", "/settings", "/settings/sending",
			"/settings/retention", "/settings/guest-list", "/settings/reply-to/new", "/settings/letter-contact-blocks/" + contact.ID + "/remove",
			"/settings/callbacks/delivery_status", "/settings/callbacks/attempts", "/notifications", "/letters", "/letters/batch.zip"} {
			m.get(b+path).expect(t, 404, "Page not found")
		}
		m.post(b+"/templates/new", url.Values{"type": {"email"}, "name": {"x"}, "subject": {"x"}, "content": {"x"}, "action": {"save"}}).expect(t, 404)
		m.post(b+"/templates/"+theirs.ID+"/edit", url.Values{"name": {"Mine now"}, "subject": {"x"}, "content": {"x"}, "action": {"save"}}).expect(t, 404)
		m.post(b+"/templates/"+theirs.ID+"/archive", nil).expect(t, 404)
		m.post(b+"/settings/letter-contact-blocks/"+contact.ID+"/remove", nil).expect(t, 404)
		m.post(b+"/settings/callbacks/delivery_status", url.Values{"url": {"https://evil.example"}, "bearer_token": {"0123456789ab"}}).expect(t, 404)
		m.post(b+"/settings/guest-list", url.Values{"email_addresses": {"x@example.com"}}).expect(t, 404)
		if got, _ := s.notify.Template(s.ctx, other.ID, theirs.ID); got.Name != "B's" || got.Archived {
			t.Fatalf("another team's template changed: %+v", got)
		}
		if list, _ := s.notify.Templates(s.ctx, other.ID, notify.TemplateFilter{}); len(list) != 1 {
			t.Fatal("a template was made in another team's service")
		}
		if c, _ := s.notify.Callbacks(s.ctx, other.ID); len(c) != 0 {
			t.Fatal("a callback was set in another team's service")
		}
		if g, _ := s.notify.GuestList(s.ctx, other.ID); len(g) != 0 {
			t.Fatal("another team's guest list changed")
		}
		if c, _ := s.notify.LetterContacts(s.ctx, other.ID); len(c) != 1 {
			t.Fatal("another team's contact block was removed")
		}

		// Ids of another service under one's own service's address are not found either.
		mine := "/admin/services/" + a.ID + "/notify"
		m.get(mine+"/templates/"+theirs.ID).expect(t, 404)
		m.post(mine+"/templates/"+theirs.ID+"/archive", nil).expect(t, 404)
		m.get(mine+"/settings/letter-contact-blocks/"+contact.ID+"/remove").expect(t, 404)
		m.post(mine+"/settings/letter-contact-blocks/"+contact.ID+"/remove", nil).expect(t, 404)
		m.get(mine+"/templates/"+theirs.ID+"/preview.html").expect(t, 404)

		// A draft preview made in one service does not open in another, even for an admin.
		admin := s.signIn("admin@example.gov.uk", true, nil)
		p := admin.post(mine+"/templates/new", url.Values{"type": {"email"}, "name": {"x"}, "subject": {"s"}, "content": {"c"}, "action": {"preview"}}).expect(t, 200)
		frame := p.find(t, `<iframe src="([^"]+)"`)
		admin.get(frame).expect(t, 200)
		admin.get(strings.Replace(frame, a.ID, other.ID, 1)).expect(t, 404)
	})
}

func TestNotifyPagesNeedTeamPermissions(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc := s.service("Apply for a permit")
		base := "/admin/services/" + svc.ID + "/notify"
		tpl, err := s.notify.CreateTemplate(s.ctx, svc.ID, "someone", notify.TemplateInput{Name: "Hello", Type: notify.SMS, Content: "Hi"})
		if err != nil {
			t.Fatal(err)
		}

		// Someone who only sees activity: dashboard and messages, nothing else.
		viewer := s.signIn("viewer@example.gov.uk", false, []string{platform.ViewActivity}, svc)
		viewer.get("/admin/services/"+svc.ID).expect(t, 200, `href="`+base+`">Notify</a>`, "emails, text messages and letters")
		viewer.get(base).expect(t, 200, "Dashboard", `id="email-totals"`).lacks(t, `href="`+base+`/settings"`, `href="`+base+`/templates"`)
		viewer.get(base+"/notifications").expect(t, 200)
		for _, path := range []string{"/templates", "/templates/" + tpl.ID, "/settings", "/settings/callbacks/attempts", "/letters"} {
			viewer.get(base+path).expect(t, 403, "You do not have permission")
		}
		viewer.post(base+"/templates/"+tpl.ID+"/archive", nil).expect(t, 403)

		// Someone who only sends: templates to read, letters to print, nothing to change.
		sender := s.signIn("sender@example.gov.uk", false, []string{platform.SendMessages}, svc)
		sender.get(base).expect(t, 200, "Use the links above").lacks(t, `id="email-totals"`)
		sender.get(base+"/templates/"+tpl.ID).expect(t, 200, "Hello").lacks(t, "Change this template", "Archive this template")
		sender.get(base+"/templates").lacks(t, "Add a new template")
		sender.get(base+"/letters").expect(t, 200)
		for _, path := range []string{"/templates/new", "/templates/" + tpl.ID + "/edit", "/templates/" + tpl.ID + "/archive", "/settings", "/notifications"} {
			sender.get(base+path).expect(t, 403)
		}
		sender.post(base+"/templates/"+tpl.ID+"/edit", url.Values{"name": {"x"}, "content": {"y"}, "action": {"save"}}).expect(t, 403)
		if got, _ := s.notify.Template(s.ctx, svc.ID, tpl.ID); got.Name != "Hello" {
			t.Fatal("a sender changed a template")
		}

		// A team member with no Notify permission sees no Notify section at all.
		keys := s.signIn("keys@example.gov.uk", false, []string{platform.ManageAPIKeys}, svc)
		keys.get("/admin/services/"+svc.ID).expect(t, 200).lacks(t, `href="`+base+`"`)
		keys.get(base).expect(t, 403)

		// Signed out, every page sends the browser to sign in.
		anon := &pagesBrowser{s: s, client: s.srv.Client()}
		anon.get(base+"/templates").at(t, "/admin/sign-in")

		// An archived service keeps its pages to read but refuses changes.
		if err := s.store.Archive(s.ctx, platform.CLIActor, svc.ID); err != nil {
			t.Fatal(err)
		}
		admin := s.signIn("admin@example.gov.uk", true, nil)
		admin.get(base+"/templates/"+tpl.ID).expect(t, 200).lacks(t, "Change this template")
		admin.get(base+"/settings").expect(t, 200).lacks(t, "Add a reply-to email address")
		admin.post(base+"/settings/reply-to/new", url.Values{"email_address": {"x@example.gov.uk"}}).expect(t, 409)
		admin.post(base+"/templates/new", url.Values{"type": {"sms"}, "name": {"x"}, "content": {"y"}, "action": {"save"}}).expect(t, 409)
	})
}
