package notify_test

import (
	"bytes"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/notify"
	"github.com/commons-gov/commons/internal/platform"
)

func TestTemplatePagesEmail(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc := s.service("Apply for a permit")
		b := s.signIn("writer@example.gov.uk", false, []string{platform.ManageTemplates}, svc)
		base := "/admin/services/" + svc.ID + "/notify"

		// The service's navigation links to Notify; the list starts empty.
		b.get("/admin/services/"+svc.ID).expect(t, 200, `href="`+base+`">Notify</a>`)
		b.get(base+"/templates").expect(t, 200, "This service has no templates yet.", "Add a new template")

		// Choosing the kind of template: nothing chosen is an error.
		b.get(base+"/templates/new").expect(t, 200, "What kind of template do you want to add?")
		b.get(base+"/templates/new?choose=type").expect(t, 422, "Select the kind of template you want to add", `href="#type"`)
		form := b.get(base+"/templates/new?type=email").expect(t, 200, "New email template", "Subject line of the email")
		form.lacks(t, "Main heading")

		// An empty form reports every problem in the order of the fields and saves nothing.
		bad := b.post(base+"/templates/new", url.Values{"type": {"email"}, "action": {"save"}}).expect(t, 422, "<title>Error: ")
		if got, want := bad.errorLinks(), []string{"name", "subject", "content"}; !slices.Equal(got, want) {
			t.Fatalf("error summary links to %v, want %v", got, want)
		}
		s.expectTemplates(svc.ID, 0)

		// Preview shows the email beside the form, as typed, and saves nothing.
		draft := url.Values{"type": {"email"}, "name": {"Permit approved"}, "subject": {"Your permit, ((name))"},
			"content": {"# Good news\r\n\r\nDear ((name)), your permit is **approved**.\r\n\r\n* Keep it safe"}, "action": {"preview"}}
		preview := b.post(base+"/templates/new", draft).expect(t, 200, "Your permit, ((name))", `value="Permit approved"`, "Dear ((name))")
		s.expectTemplates(svc.ID, 0)
		frame := preview.find(t, `<iframe src="([^"]+)"`)
		if !strings.HasPrefix(frame, base+"/preview/email?draft=") {
			t.Fatalf("preview frame at %s", frame)
		}
		doc := b.get(frame).expect(t, 200, "Good news", "Dear ((name))", "<title>Your permit, ((name))</title>")
		if csp := doc.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox;") || !strings.Contains(csp, "frame-ancestors 'self'") {
			t.Fatalf("email preview policy %q", csp)
		}
		if ct := doc.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("email preview type %q", ct)
		}
		// A draft address that was altered, or made up, shows nothing.
		b.get(strings.Replace(frame, "draft=", "draft=x", 1)).expect(t, 404)
		b.get(base+"/preview/email?draft=k1.AAAA").expect(t, 404)

		// Saving creates version 1 and shows it, previewed from its saved version.
		draft.Set("action", "save")
		saved := b.post(base+"/templates/new", draft).expect(t, 200, "Template created: Permit approved", "Version history")
		list := s.expectTemplates(svc.ID, 1)
		tpl := list[0]
		if tpl.Content != "# Good news\n\nDear ((name)), your permit is **approved**.\n\n* Keep it safe" {
			t.Fatalf("saved content %q: line endings should be plain newlines", tpl.Content)
		}
		if tpl.CreatedBy != "writer@example.gov.uk" {
			t.Fatalf("created by %q", tpl.CreatedBy)
		}
		saved.at(t, base+"/templates/"+tpl.ID)
		savedFrame := saved.find(t, `<iframe src="([^"]+)"`)
		if savedFrame != base+"/templates/"+tpl.ID+"/preview.html?version=1" {
			t.Fatalf("saved preview at %s", savedFrame)
		}
		b.get(savedFrame).expect(t, 200, "Keep it safe")

		// Editing: the form is filled in; previewing saves nothing; saving makes version 2.
		edit := base + "/templates/" + tpl.ID + "/edit"
		b.get(edit).expect(t, 200, `value="Your permit, ((name))"`, "Dear ((name)), your permit is **approved**.")
		change := url.Values{"name": {"Permit approved"}, "subject": {"Your permit is ready"},
			"content": {"Dear ((name)), collect your permit."}, "action": {"preview"}}
		b.post(edit, change).expect(t, 200, "Your permit is ready")
		if got, _ := s.notify.Template(s.ctx, svc.ID, tpl.ID); got.Version != 1 {
			t.Fatal("a preview saved a new version")
		}
		b.post(edit, url.Values{"name": {""}, "subject": {"x"}, "content": {"y"}, "action": {"save"}}).
			expect(t, 422, "Enter a template name")
		change.Set("action", "save")
		b.post(edit, change).expect(t, 200, "Template saved: Permit approved", "Your permit is ready")
		b.post(edit, change).expect(t, 200, "Nothing changed, so no new version was saved")
		if got, _ := s.notify.Template(s.ctx, svc.ID, tpl.ID); got.Version != 2 {
			t.Fatalf("version %d after one change", got.Version)
		}

		// The history lists both versions; the old one is still shown as it was.
		b.get(base+"/templates/"+tpl.ID+"/versions").expect(t, 200, "Version 1", "Version 2")
		old := b.get(base+"/templates/"+tpl.ID+"/versions/1").expect(t, 200, "This is version 1 of the template", "Your permit, ((name))")
		old.lacks(t, "Change this template")
		b.get(old.find(t, `<iframe src="([^"]+)"`)).expect(t, 200, "Good news")
		b.get(base+"/templates/"+tpl.ID+"/versions/9").expect(t, 404)

		// Archiving asks first, then takes the template off the list; it can no longer change.
		b.get(base+"/templates/"+tpl.ID+"/archive").expect(t, 200, "Are you sure you want to archive ‘Permit approved’?")
		b.post(base+"/templates/"+tpl.ID+"/archive", nil).expect(t, 200, "Template archived: Permit approved").
			at(t, base+"/templates").lacks(t, `href="`+base+`/templates/`+tpl.ID+`"`)
		b.get(base+"/templates/"+tpl.ID).expect(t, 200, "Archived").lacks(t, "Change this template")
		b.get(edit).expect(t, 409)
		b.post(edit, change).expect(t, 409)
	})
}

func TestTemplatePagesTextMessage(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc := s.service("Book a test")
		b := s.signIn("admin@example.gov.uk", true, nil)
		base := "/admin/services/" + svc.ID + "/notify"

		preview := func(content string) shown {
			t.Helper()
			return b.post(base+"/templates/new", url.Values{"type": {"sms"}, "name": {"Reminder"},
				"content": {content}, "action": {"preview"}}).expect(t, 200, `id="sms-measure"`)
		}
		// Counting characters, encoding and fragments as the network will.
		short := preview("Your test is on ((date)). Reply STOP to cancel.")
		short.has(t, "Your test is on ((date)). Reply STOP to cancel.", "GSM-7", "1 text message")
		long := preview(strings.Repeat("a", 200))
		long.has(t, "200 characters", "2 text messages")
		preview("Diolch – ŵ").has(t, "UCS-2", "outside the GSM alphabet")
		preview(strings.Repeat("b", 919)).has(t, "Text messages cannot be longer than 918 characters.")

		// With the service-name prefix switched on, the preview shows it.
		b.post(base+"/settings/sending", url.Values{"email_sender_name": {""}, "prefix_sms": {"yes"}}).expect(t, 200, "Sending settings saved")
		preview("Hello").has(t, "Book a test: Hello")

		// A text message template has no subject; saving it works without one.
		saved := b.post(base+"/templates/new", url.Values{"type": {"sms"}, "name": {"Reminder"},
			"content": {"Your test is on ((date))."}, "action": {"save"}}).expect(t, 200, "Template created: Reminder", "1 text message")
		saved.lacks(t, "<iframe")

		// The list filters by type.
		b.post(base+"/templates/new", url.Values{"type": {"email"}, "name": {"Welcome"}, "subject": {"Hi"},
			"content": {"Hello"}, "action": {"save"}}).expect(t, 200, "Template created: Welcome")
		b.get(base+"/templates?type=sms").expect(t, 200, ">Reminder</a>").lacks(t, ">Welcome</a>")
		b.get(base+"/templates").expect(t, 200, ">Reminder</a>", ">Welcome</a>")
	})
}

func TestTemplatePagesLetter(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc := s.service("Pay a fine")
		b := s.signIn("admin@example.gov.uk", true, nil)
		base := "/admin/services/" + svc.ID + "/notify"

		// Without a contact block the form says where to add one.
		b.get(base+"/templates/new?type=letter").expect(t, 200, "Main heading", "Add a contact block", `value="second" checked`)
		b.post(base+"/settings/letter-contact-blocks/new", url.Values{"contact_block": {"Fines Office\r\n1 High Street\r\nLeeds\r\nLS1 1AA"}}).
			expect(t, 200, "Added letter contact block: Fines Office")
		contacts, err := s.notify.LetterContacts(s.ctx, svc.ID)
		if err != nil || len(contacts) != 1 || contacts[0].Value != "Fines Office\n1 High Street\nLeeds\nLS1 1AA" {
			t.Fatalf("contact blocks %v, %v", contacts, err)
		}
		b.get(base+"/templates/new?type=letter").expect(t, 200, "Contact block", "The default contact block")

		letter := url.Values{"type": {"letter"}, "name": {"Fine reminder"}, "subject": {"You have a fine to pay"},
			"content": {"Dear ((name)),\r\n\r\nPay ((amount)) by ((date))."}, "postage": {"first"},
			"letter_contact_id": {contacts[0].ID}, "action": {"preview"}}
		preview := b.post(base+"/templates/new", letter).expect(t, 200, "First class", "See the letter as a PDF", "Fines Office")
		s.expectTemplates(svc.ID, 0)
		pdf := b.get(preview.find(t, `href="([^"]*/preview/letter\.pdf\?draft=[^"]+)"`)).expect(t, 200)
		if !bytes.HasPrefix([]byte(pdf.body), []byte("%PDF-")) || pdf.header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("letter preview is %q, starting %.20q", pdf.header.Get("Content-Type"), pdf.body)
		}

		// A postage that does not exist is refused beside its field.
		letter.Set("postage", "pigeon")
		letter.Set("action", "save")
		b.post(base+"/templates/new", letter).expect(t, 422, `href="#postage"`)
		s.expectTemplates(svc.ID, 0)

		letter.Set("postage", "second")
		saved := b.post(base+"/templates/new", letter).expect(t, 200, "Template created: Fine reminder", "Second class")
		tpl := s.expectTemplates(svc.ID, 1)[0]
		if tpl.LetterContactID != contacts[0].ID || tpl.Postage != "second" {
			t.Fatalf("saved letter %+v", tpl)
		}
		link := saved.find(t, `href="([^"]*/preview\.pdf\?version=1)"`)
		if link != base+"/templates/"+tpl.ID+"/preview.pdf?version=1" {
			t.Fatalf("saved letter preview at %s", link)
		}
		if pdf := b.get(link).expect(t, 200); !strings.HasPrefix(pdf.body, "%PDF-") {
			t.Fatal("the saved letter's preview is not a PDF")
		}
		// An email has no PDF, and a letter no email preview.
		b.get(base+"/templates/"+tpl.ID+"/preview.html").expect(t, 404)
	})
}

// expectTemplates fails unless the service has n templates, and returns them.
func (s *pagesSite) expectTemplates(serviceID string, n int) []notify.Template {
	s.t.Helper()
	list, err := s.notify.Templates(s.ctx, serviceID, notify.TemplateFilter{})
	if err != nil {
		s.t.Fatal(err)
	}
	if len(list) != n {
		s.t.Fatalf("the service has %d templates, want %d", len(list), n)
	}
	return list
}
