package notify_test

import (
	"net/url"
	"testing"

	"github.com/commons-gov/commons/internal/notify"
	"github.com/commons-gov/commons/internal/platform"
)

func TestSendFromTheConsole(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc := s.service("Report a pothole")
		b := s.signIn("sender@example.gov.uk", false, []string{platform.SendMessages, platform.ViewActivity}, svc)
		base := "/admin/services/" + svc.ID + "/notify"
		email, err := s.notify.CreateTemplate(s.ctx, svc.ID, "someone", notify.TemplateInput{Name: "Thanks", Type: notify.Email,
			Subject: "Thanks, ((name))", Content: "We will fix ((street))."})
		if err != nil {
			t.Fatal(err)
		}
		sms, err := s.notify.CreateTemplate(s.ctx, svc.ID, "someone", notify.TemplateInput{Name: "Fixed", Type: notify.SMS, Content: "Fixed."})
		if err != nil {
			t.Fatal(err)
		}
		letter, err := s.notify.CreateTemplate(s.ctx, svc.ID, "someone", notify.TemplateInput{Name: "Notice", Type: notify.Letter,
			Subject: "Notice", Content: "Hello"})
		if err != nil {
			t.Fatal(err)
		}
		send := base + "/templates/" + email.ID + "/send"
		b.get(base+"/templates/"+email.ID).expect(t, 200, "Send an email")
		b.get(send).expect(t, 200, "Send an email", "trial mode", `name="p1"`, `>name</label>`, `>street</label>`)

		// Every missing value is reported and nothing is sent.
		bad := b.post(send, url.Values{"to": {""}, "p1": {"Sam"}}).expect(t, 422, "Enter an email address", "Enter street", `value="Sam"`)
		if got := bad.errorLinks(); len(got) != 2 || got[0] != "to" || got[1] != "p2" {
			t.Fatalf("error summary links to %v", got)
		}
		// Trial mode: someone outside the team and the guest list is refused by Notify's own rules.
		b.post(send, url.Values{"to": {"stranger@example.com"}, "p1": {"Sam"}, "p2": {"Acacia Avenue"}}).
			expect(t, 422, "trial mode")
		s.expectSent(svc.ID, 0)

		// A team member's own address is fine; the message page shows it, sent by them.
		b.post(send, url.Values{"to": {"sender@example.gov.uk"}, "p1": {"Sam"}, "p2": {"Acacia Avenue"}}).
			expect(t, 200, "Email sent to sender@example.gov.uk", "Thanks, Sam", "We will fix Acacia Avenue.", "Sent by", "sender@example.gov.uk")
		s.expectSent(svc.ID, 1)

		// A text message template with no placeholders asks only for the number.
		b.get(base+"/templates/"+sms.ID+"/send").expect(t, 200, "Send a text message", "Mobile phone number").lacks(t, `name="p1"`)
		// Letters take their address through the API; an archived template sends nothing.
		b.get(base+"/templates/"+letter.ID).expect(t, 200).lacks(t, "/send")
		b.get(base+"/templates/"+letter.ID+"/send").expect(t, 404)
		if _, err := s.notify.ArchiveTemplate(s.ctx, svc.ID, sms.ID, "someone"); err != nil {
			t.Fatal(err)
		}
		b.post(base+"/templates/"+sms.ID+"/send", url.Values{"to": {"07700900123"}}).expect(t, 409)

		// Sending needs the permission to send.
		writer := s.signIn("writer@example.gov.uk", false, []string{platform.ManageTemplates}, svc)
		writer.get(base+"/templates/"+email.ID).expect(t, 200).lacks(t, "Send an email")
		writer.post(send, url.Values{"to": {"writer@example.gov.uk"}, "p1": {"x"}, "p2": {"y"}}).expect(t, 403)
		s.expectSent(svc.ID, 1)
	})
}

// expectSent fails unless the service has stored n notifications.
func (s *pagesSite) expectSent(serviceID string, n int) {
	s.t.Helper()
	var got int
	if err := s.d.QueryRow(s.ctx, `SELECT count(*) FROM notify_notifications WHERE service_id = ?`, serviceID).Scan(&got); err != nil {
		s.t.Fatal(err)
	}
	if got != n {
		s.t.Fatalf("the service has %d notifications, want %d", got, n)
	}
}
