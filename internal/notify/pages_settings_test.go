package notify_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/notify"
	"github.com/commons-gov/commons/internal/platform"
)

func TestSettingsPagesSenders(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc := s.service("Renew a licence")
		b := s.signIn("manager@example.gov.uk", false, []string{platform.ManageService}, svc)
		base := "/admin/services/" + svc.ID + "/notify/settings"
		b.get(base).expect(t, 200, "No reply-to email addresses", "No text message senders", "No letter contact blocks",
			"Renew a licence (the service’s name)", "The guest list is empty.")

		// Reply-to addresses: a bad one is refused and kept for correcting; the first is the default.
		b.post(base+"/reply-to/new", url.Values{"email_address": {"not an address"}}).
			expect(t, 422, `href="#email_address"`, `value="not an address"`)
		if list, _ := s.notify.ReplyTos(s.ctx, svc.ID); len(list) != 0 {
			t.Fatalf("an invalid form saved %v", list)
		}
		b.post(base+"/reply-to/new", url.Values{"email_address": {"licences@example.gov.uk"}}).
			expect(t, 200, "Added reply-to email address: licences@example.gov.uk", "Default")
		b.post(base+"/reply-to/new", url.Values{"email_address": {"Help@Example.gov.uk"}, "default": {"yes"}}).
			expect(t, 200, "Added reply-to email address: help@example.gov.uk")
		list, _ := s.notify.ReplyTos(s.ctx, svc.ID)
		if len(list) != 2 || list[0].Value != "help@example.gov.uk" || !list[0].IsDefault {
			t.Fatalf("reply-to addresses %+v", list)
		}

		// Removing asks first; the oldest remaining address becomes the default.
		b.get(base+"/reply-to/"+list[0].ID+"/remove").expect(t, 200, "Are you sure you want to remove this reply-to email address?", "It is the default.")
		b.post(base+"/reply-to/"+list[0].ID+"/remove", nil).expect(t, 200, "Removed reply-to email address: help@example.gov.uk")
		if list, _ := s.notify.ReplyTos(s.ctx, svc.ID); len(list) != 1 || !list[0].IsDefault {
			t.Fatalf("after removing the default: %+v", list)
		}
		b.post(base+"/reply-to/"+list[0].ID+"/remove", nil).expect(t, 404)

		// Text message senders follow the networks' rules.
		b.post(base+"/text-message-senders/new", url.Values{"sms_sender": {"no"}}).expect(t, 422, "3 to 11 characters")
		b.post(base+"/text-message-senders/new", url.Values{"sms_sender": {"LICENCES"}}).expect(t, 200, "Added text message sender: LICENCES")

		// A letter contact block keeps its lines.
		b.post(base+"/letter-contact-blocks/new", url.Values{"contact_block": {""}}).expect(t, 422, "Enter a contact block")
		b.post(base+"/letter-contact-blocks/new", url.Values{"contact_block": {"Licensing\r\nPO Box 1"}}).
			expect(t, 200, "Licensing\nPO Box 1")
	})
}

func TestSettingsPagesSendingRetentionGuestList(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc := s.service("Renew a licence")
		b := s.signIn("admin@example.gov.uk", true, nil)
		base := "/admin/services/" + svc.ID + "/notify/settings"

		b.get(base+"/sending").expect(t, 200, `value="no" checked`)
		b.post(base+"/sending", url.Values{"email_sender_name": {strings.Repeat("x", 256)}, "prefix_sms": {"maybe"}}).
			expect(t, 422, `href="#email_sender_name"`, `href="#prefix_sms"`)
		b.post(base+"/sending", url.Values{"email_sender_name": {"Licensing Team"}, "prefix_sms": {"yes"}}).
			expect(t, 200, "Sending settings saved", "Licensing Team")
		st, _ := s.notify.Settings(s.ctx, svc.ID)
		if st.EmailSenderName != "Licensing Team" || !st.PrefixSMS {
			t.Fatalf("settings %+v", st)
		}

		// Retention: every bad figure is reported, in the order of the fields, and none is saved.
		bad := b.post(base+"/retention", url.Values{"email_retention_days": {"a week"}, "sms_retention_days": {"2"}, "letter_retention_days": {"30"}}).
			expect(t, 422, "as a whole number", "between 3 and 90 days")
		if got := bad.errorLinks(); !slices.Equal(got, []string{"email_retention_days"}) {
			t.Fatalf("error summary links to %v", got)
		}
		bad = b.post(base+"/retention", url.Values{"email_retention_days": {"7"}, "sms_retention_days": {"2"}, "letter_retention_days": {"91"}}).
			expect(t, 422, "between 3 and 90 days")
		if got := bad.errorLinks(); !slices.Equal(got, []string{"sms_retention_days", "letter_retention_days"}) {
			t.Fatalf("error summary links to %v", got)
		}
		if st, _ := s.notify.Settings(s.ctx, svc.ID); st.LetterRetentionDays != 7 {
			t.Fatal("an invalid form saved retention")
		}
		b.post(base+"/retention", url.Values{"email_retention_days": {"14"}, "sms_retention_days": {"3"}, "letter_retention_days": {"90"}}).
			expect(t, 200, "Data retention saved", "14 days", "3 days", "90 days")

		// The guest list: addresses and numbers are checked and stored as recipients are compared.
		b.post(base+"/guest-list", url.Values{"email_addresses": {"friend@example.com\nnot-an-address"}, "phone_numbers": {""}}).
			expect(t, 422, "not a valid email address", "friend@example.com\nnot-an-address")
		if g, _ := s.notify.GuestList(s.ctx, svc.ID); len(g) != 0 {
			t.Fatalf("an invalid guest list was saved: %v", g)
		}
		six := strings.Repeat("a@example.com\n", 6)
		b.post(base+"/guest-list", url.Values{"email_addresses": {six}}).expect(t, 422, "5 email addresses or fewer")
		b.post(base+"/guest-list", url.Values{"email_addresses": {" Friend@Example.com \r\n\r\n"}, "phone_numbers": {"07700 900123"}}).
			expect(t, 200, "Guest list saved", "friend@example.com", "447700900123")
		b.get(base+"/guest-list").expect(t, 200, "friend@example.com", "447700900123")
	})
}

func TestSettingsPagesCallbacks(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc := s.service("Renew a licence")
		b := s.signIn("admin@example.gov.uk", true, nil)
		base := "/admin/services/" + svc.ID + "/notify/settings"
		const token = "a-very-secret-bearer-token"

		b.get(base+"/callbacks/delivery_status").expect(t, 200, "Delivery receipts", "At least 10 characters")
		b.get(base+"/callbacks/unknown").expect(t, 404)
		b.post(base+"/callbacks/delivery_status", url.Values{"url": {"not a url"}, "bearer_token": {"short"}}).
			expect(t, 422, `href="#url"`, `href="#bearer_token"`).lacks(t, `value="short"`)
		if c, _ := s.notify.Callbacks(s.ctx, svc.ID); len(c) != 0 {
			t.Fatal("an invalid callback was saved")
		}
		saved := b.post(base+"/callbacks/delivery_status", url.Values{"url": {"https://api.example.gov.uk/notify"}, "bearer_token": {token}}).
			expect(t, 200, "Callback saved: Delivery receipts", "https://api.example.gov.uk/notify")
		saved.lacks(t, token)
		// The token is never shown again; leaving it blank keeps it.
		b.get(base+"/callbacks/delivery_status").expect(t, 200, "Leave it blank to keep", `value="https://api.example.gov.uk/notify"`).lacks(t, token)
		b.post(base+"/callbacks/delivery_status", url.Values{"url": {"https://api.example.gov.uk/v2/notify"}, "bearer_token": {""}}).
			expect(t, 200, "Callback saved").lacks(t, token)
		cbs, _ := s.notify.Callbacks(s.ctx, svc.ID)
		if len(cbs) != 1 || cbs[0].BearerToken != token || cbs[0].URL != "https://api.example.gov.uk/v2/notify" {
			t.Fatalf("callbacks %+v", cbs)
		}

		// Every attempt is listed, newest first, a page at a time, with what the service answered.
		start := pagesNow.Add(-time.Hour)
		for i := range 52 {
			code, errText := any(200), ""
			switch i {
			case 50:
				code, errText = 500, "the service answered 500"
			case 51:
				code, errText = nil, "dial tcp: connection refused"
			}
			if _, err := s.d.Exec(s.ctx, `INSERT INTO notify_callback_attempts (id, service_id, callback_type, subject_id,
				attempt, url, status_code, error, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				fmt.Sprintf("attempt-%03d", i), svc.ID, notify.CallbackDeliveryStatus, fmt.Sprintf("message-%03d", i), 1,
				"https://api.example.gov.uk/notify", code, errText, 120, start.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		first := b.get(base+"/callbacks/attempts").expect(t, 200, "No response: dial tcp: connection refused",
			"HTTP 500: the service answered 500", "HTTP 200", "message-051", "120 ms")
		first.lacks(t, "message-001")
		next := first.find(t, `href="([^"]+)" rel="next"`)
		b.get(next).expect(t, 200, "message-001", "message-000").lacks(t, "message-051", `rel="next"`)

		// Removing asks first.
		b.get(base+"/callbacks/delivery_status/remove").expect(t, 200, "Are you sure you want to remove the delivery receipts callback?")
		b.post(base+"/callbacks/delivery_status/remove", nil).expect(t, 200, "Callback removed: Delivery receipts")
		if c, _ := s.notify.Callbacks(s.ctx, svc.ID); len(c) != 0 {
			t.Fatal("the callback was not removed")
		}
		b.get(base+"/callbacks/delivery_status/remove").expect(t, 404)
	})
}
