package notify

import (
	"testing"
)

// The sms_to_uk_landlines setting on both engines: off by default, so UK landlines are
// refused as GOV.UK Notify refuses them, on the API and in an uploaded file alike; turned on,
// they are accepted. Mobiles are accepted either way.
func TestSMSToUKLandlinesSetting(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		st, err := f.svc.Settings(f.ctx, f.a.id)
		if err != nil || st.SMSToUKLandlines {
			t.Fatalf("default settings %+v, %v", st, err)
		}
		sms := func(to string) map[string]any {
			return map[string]any{"phone_number": to, "template_id": f.a.smsTemplate.ID, "personalisation": map[string]any{"name": "Jo"}}
		}
		const landline = "020 7946 0991"
		f.do("POST", "/v2/notifications/sms", f.a.liveKey, sms(landline)).wantError(t, 400, "InvalidPhoneError", "Not a UK mobile number")
		f.do("POST", "/v2/notifications/sms", f.a.liveKey, sms("07723 456789")).want(t, 201)
		file := "phone number,name\n" + landline + ",Jo\n+44 7723 456789,Sam\n"
		check, err := f.svc.CheckBulkJob(f.ctx, f.upload(f.a.id, f.a.smsTemplate.ID, file), 10)
		if err != nil {
			t.Fatal(err)
		}
		if check.Sendable() || len(check.BadRows) != 1 || check.BadRows[0].Number != 2 ||
			check.BadRows[0].Problems[0] != "Not a UK mobile number. Your service cannot send text messages to landlines" {
			t.Fatalf("check without the setting: %+v", check)
		}

		st.SMSToUKLandlines = true
		if err := f.svc.SaveSettings(f.ctx, st); err != nil {
			t.Fatal(err)
		}
		if st, err := f.svc.Settings(f.ctx, f.a.id); err != nil || !st.SMSToUKLandlines {
			t.Fatalf("saved settings %+v, %v", st, err)
		}
		f.do("POST", "/v2/notifications/sms", f.a.liveKey, sms(landline)).want(t, 201)
		if n := f.count(`SELECT count(*) FROM notify_notifications WHERE normalised_to = ?`, "442079460991"); n != 1 {
			t.Fatalf("%d notifications to the landline", n)
		}
		check, err = f.svc.CheckBulkJob(f.ctx, f.upload(f.a.id, f.a.smsTemplate.ID, file), 10)
		if err != nil {
			t.Fatal(err)
		}
		if !check.Sendable() || check.Rows != 2 {
			t.Fatalf("check with the setting: %+v", check)
		}
		// The setting is the service's own: service B still may not text landlines.
		f.do("POST", "/v2/notifications/sms", f.b.liveKey, map[string]any{"phone_number": landline,
			"template_id": f.b.smsTemplate.ID, "personalisation": map[string]any{"name": "Jo"}}).
			wantError(t, 400, "InvalidPhoneError", "Not a UK mobile number")
	})
}
