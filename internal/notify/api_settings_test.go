package notify

import (
	"context"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
)

func TestSettingsAPI(t *testing.T) {
	dbtest.Each(t, migrateForTemplates, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newTemplateFixture(t, d)
		status, body := f.call(t, "POST", "/api/notify/v1/reply-to-addresses", f.keyA, `{"value":"Help@Example.gov.uk"}`)
		if status != 201 || body["is_default"] != true || body["value"] != "help@example.gov.uk" {
			t.Fatalf("first reply-to = %d %v", status, body)
		}
		first := body["id"].(string)
		status, body = f.call(t, "POST", "/api/notify/v1/reply-to-addresses", f.keyA, `{"value":"other@example.gov.uk","is_default":true}`)
		if status != 201 || body["is_default"] != true {
			t.Fatalf("second reply-to = %d %v", status, body)
		}
		if x, ok, _ := f.svc.ReplyTo(ctx, f.serviceA, ""); !ok || x.Value != "other@example.gov.uk" {
			t.Fatalf("default reply-to = %+v", x)
		}
		if status, _ := f.call(t, "POST", "/api/notify/v1/reply-to-addresses", f.keyA, `{"value":"not an email"}`); status != 400 {
			t.Fatalf("bad reply-to = %d", status)
		}
		if status, _ := f.call(t, "DELETE", "/api/notify/v1/reply-to-addresses/"+first, f.keyB, ""); status != 404 {
			t.Fatalf("cross-tenant delete = %d", status)
		}
		if status, _ := f.call(t, "DELETE", "/api/notify/v1/reply-to-addresses/"+first, f.keyA, ""); status != 204 {
			t.Fatalf("delete = %d", status)
		}

		// In order: the first sender added becomes the default.
		for _, tc := range []struct {
			value string
			want  int
		}{{"GOVUK", 201}, {"07700 900123", 201}, {"AB", 400}, {"Info", 400}, {"far too long sender", 400}} {
			if status, body := f.call(t, "POST", "/api/notify/v1/sms-senders", f.keyA, `{"value":"`+tc.value+`"}`); status != tc.want {
				t.Errorf("sms sender %q = %d %v, want %d", tc.value, status, body, tc.want)
			}
		}
		senders, _ := f.svc.SMSSenders(ctx, f.serviceA)
		if len(senders) != 2 || senders[1].Value != "447700900123" {
			t.Fatalf("sms senders = %+v", senders)
		}

		if status, body := f.call(t, "POST", "/api/notify/v1/letter-contacts", f.keyA, `{"value":"Licensing team\nPO Box 1\nAB1 2CD"}`); status != 201 {
			t.Fatalf("letter contact = %d %v", status, body)
		}

		if status, _ := f.call(t, "PUT", "/api/notify/v1/callbacks/delivery_status", f.keyA, `{"url":"ftp://x","bearer_token":"short"}`); status != 400 {
			t.Fatalf("bad callback = %d", status)
		}
		status, body = f.call(t, "PUT", "/api/notify/v1/callbacks/delivery_status", f.keyA, `{"url":"https://service.example.gov.uk/notify","bearer_token":"a-long-enough-token"}`)
		if status != 200 || body["bearer_token"] != nil {
			t.Fatalf("set callback = %d %v", status, body)
		}
		cb, ok, err := f.svc.CallbackFor(ctx, d, f.serviceA, CallbackDeliveryStatus)
		if err != nil || !ok || cb.BearerToken != "a-long-enough-token" {
			t.Fatalf("callback = %+v %v %v", cb, ok, err)
		}
		var sealed string
		if err := d.QueryRow(ctx, "SELECT bearer_token_sealed FROM notify_callbacks").Scan(&sealed); err != nil || strings.Contains(sealed, "a-long-enough-token") {
			t.Fatalf("bearer token stored in the clear: %q %v", sealed, err)
		}
		if _, ok, _ := f.svc.CallbackFor(ctx, d, f.serviceB, CallbackDeliveryStatus); ok {
			t.Fatal("service B sees service A's callback")
		}

		status, body = f.call(t, "PUT", "/api/notify/v1/guest-list", f.keyA, `{"email_addresses":["Guest@Example.com"],"phone_numbers":["+44 7700 900 456"]}`)
		if status != 200 || !strings.Contains(strings.Join(toStrings(body["phone_numbers"]), ","), "447700900456") {
			t.Fatalf("guest list = %d %v", status, body)
		}
		if status, _ := f.call(t, "PUT", "/api/notify/v1/guest-list", f.keyA, `{"email_addresses":["nope"],"phone_numbers":[]}`); status != 400 {
			t.Fatalf("bad guest list = %d", status)
		}
		list, _ := f.svc.GuestList(ctx, f.serviceA)
		if len(list) != 2 {
			t.Fatalf("a rejected guest list replaced the saved one: %+v", list)
		}
	})
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
