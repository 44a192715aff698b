package notify_test

import (
	"net/url"
	"testing"
)

// The sending settings page turns the sms_to_uk_landlines setting on and off; a form posted
// without the question leaves it as it is.
func TestSettingsPagesUKLandlines(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc := s.service("Renew a licence")
		b := s.signIn("admin@example.gov.uk", true, nil)
		base := "/admin/services/" + svc.ID + "/notify/settings"

		b.get(base).expect(t, 200, "Send text messages to UK landlines")
		b.get(base+"/sending").expect(t, 200, "Send text messages to UK landlines?", `name="sms_to_uk_landlines"`)
		b.post(base+"/sending", url.Values{"email_sender_name": {""}, "prefix_sms": {"no"}, "sms_to_uk_landlines": {"maybe"}}).
			expect(t, 422, `href="#sms_to_uk_landlines"`)
		b.post(base+"/sending", url.Values{"email_sender_name": {""}, "prefix_sms": {"no"}, "sms_to_uk_landlines": {"yes"}}).
			expect(t, 200, "Sending settings saved")
		if st, _ := s.notify.Settings(s.ctx, svc.ID); !st.SMSToUKLandlines {
			t.Fatalf("settings %+v", st)
		}
		b.post(base+"/sending", url.Values{"email_sender_name": {""}, "prefix_sms": {"yes"}}).expect(t, 200, "Sending settings saved")
		if st, _ := s.notify.Settings(s.ctx, svc.ID); !st.SMSToUKLandlines || !st.PrefixSMS {
			t.Fatalf("settings after a form without the question %+v", st)
		}
		b.post(base+"/sending", url.Values{"email_sender_name": {""}, "prefix_sms": {"yes"}, "sms_to_uk_landlines": {"no"}}).
			expect(t, 200, "Sending settings saved")
		if st, _ := s.notify.Settings(s.ctx, svc.ID); st.SMSToUKLandlines {
			t.Fatalf("settings %+v", st)
		}
	})
}
