package notify

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/platform"
)

func TestV2SendEmailResponseAndStoredNotification(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		r := f.do("POST", "/v2/notifications/email", f.a.liveKey, map[string]any{
			"email_address": " someone@Example.com ", "template_id": f.a.emailTemplate.ID,
			"personalisation": map[string]any{"name": "Foo"}, "reference": "ref-1",
		})
		r.want(t, http.StatusCreated)
		id, _ := r.body["id"].(string)
		root := f.srv.URL
		want := map[string]any{
			"id": id, "reference": "ref-1",
			"content": map[string]any{
				"from_email": "service.a@" + f.svc.emailDomain(),
				"body":       "Hello Foo\r\n\r\nFunctional test help make our world a better place",
				"subject":    "Hello Foo", "one_click_unsubscribe_url": nil,
			},
			"uri": root + "/v2/notifications/" + id,
			"template": map[string]any{"id": f.a.emailTemplate.ID, "version": float64(1),
				"uri": root + "/services/" + f.a.id + "/templates/" + f.a.emailTemplate.ID},
			"scheduled_for":     nil,
			"sanitised_content": map[string]any{},
		}
		if !reflect.DeepEqual(r.body, want) {
			t.Fatalf("v2Response\n got %s\nwant %s", r.raw, v2JSON(want))
		}
		if n := f.count("SELECT count(*) FROM notify_notifications WHERE id = ? AND service_id = ? AND status = 'created'", id, f.a.id); n != 1 {
			t.Fatalf("%d notifications stored", n)
		}
		if n := f.count("SELECT count(*) FROM notify_status_events WHERE notification_id = ? AND status = 'created'", id); n != 1 {
			t.Fatalf("%d status events", n)
		}
		if n := f.count("SELECT count(*) FROM river_job WHERE kind = 'notify.deliver_batch' AND CAST(args AS TEXT) LIKE ?", "%"+id+"%"); n != 1 {
			t.Fatalf("%d delivery jobs", n)
		}
		if n := f.count("SELECT sent FROM notify_daily_counts WHERE service_id = ? AND channel = 'email'", f.a.id); n != 1 {
			t.Fatalf("daily count %d", n)
		}

		g := f.do("GET", "/v2/notifications/"+id, f.a.liveKey, nil)
		g.want(t, http.StatusOK)
		created := "2026-05-12T09:30:15.123456Z"
		wantGet := map[string]any{
			"id": id, "reference": "ref-1", "email_address": "someone@Example.com", "phone_number": nil,
			"line_1": nil, "line_2": nil, "line_3": nil, "line_4": nil, "line_5": nil, "line_6": nil, "postcode": nil,
			"type": "email", "status": "created",
			"template": map[string]any{"id": f.a.emailTemplate.ID, "version": float64(1),
				"uri": root + "/v2/template/" + f.a.emailTemplate.ID + "/version/1"},
			"body": "Hello Foo\r\n\r\nFunctional test help make our world a better place", "subject": "Hello Foo",
			"created_at": created, "created_by_name": nil, "sent_at": nil, "completed_at": nil,
			"scheduled_for": nil, "postage": nil, "one_click_unsubscribe_url": nil,
			"cost_details": map[string]any{}, "cost_in_pounds": float64(0), "is_cost_data_ready": true,
		}
		if !reflect.DeepEqual(g.body, wantGet) {
			t.Fatalf("GET\n got %s\nwant %s", g.raw, v2JSON(wantGet))
		}
	})
}

func v2JSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestV2SendSMSAndLetter(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		r := f.do("POST", "/v2/notifications/sms", f.a.liveKey, map[string]any{
			"phone_number": "07700 900123", "template_id": f.a.smsTemplate.ID, "personalisation": map[string]any{"name": "Foo"},
		})
		r.want(t, http.StatusCreated)
		content := r.body["content"].(map[string]any)
		if content["body"] != "Hello Foo\n\nFunctional Tests make our world a better place" || content["from_number"] != "GOVUK" {
			t.Fatalf("sms content %v", content)
		}
		if _, ok := r.body["sanitised_content"]; ok {
			t.Fatal("sanitised_content in an sms v2Response")
		}
		g := f.do("GET", "/v2/notifications/"+r.body["id"].(string), f.a.liveKey, nil)
		if g.body["phone_number"] != "07700 900123" || g.body["subject"] != nil || g.body["is_cost_data_ready"] != false ||
			g.body["cost_in_pounds"] != nil {
			t.Fatalf("sms GET %s", g.raw)
		}

		l := f.do("POST", "/v2/notifications/letter", f.a.liveKey, map[string]any{
			"template_id": f.a.letterTemplate.ID, "reference": "letter-1",
			"personalisation": map[string]any{"address_line_1": "Ms A Person", "address_line_2": "1 High Street", "postcode": "sw1a1aa"},
		})
		l.want(t, http.StatusCreated)
		lc := l.body["content"].(map[string]any)
		if lc["body"] != "Hello Ms A Person" || lc["subject"] != "Your licence" {
			t.Fatalf("letter content %v", lc)
		}
		lg := f.do("GET", "/v2/notifications/"+l.body["id"].(string), f.a.liveKey, nil)
		if lg.body["status"] != "accepted" || lg.body["line_1"] != "Ms A Person" || lg.body["postcode"] != "sw1a1aa" ||
			lg.body["postage"] != "second" || lg.body["type"] != "letter" || lg.body["estimated_delivery"] == nil {
			t.Fatalf("letter GET %s", lg.raw)
		}
	})
}

// Each row of the schema stage (notify.md §3.3), with the reference's wording and order.
func TestV2SendValidationMessages(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		tid := f.a.emailTemplate.ID
		cases := []struct {
			name, path string
			body       any
			messages   []string
		}{
			{"empty object", "email", map[string]any{}, []string{"email_address is a required property", "template_id is a required property"}},
			{"null", "email", "null", []string{"email_address is a required property", "template_id is a required property"}},
			{"not an object", "email", `"hello"`, []string{"hello is not of type object"}},
			{"list", "sms", `[1, true, null]`, []string{"[1, True, None] is not of type object"}},
			{"bad uuid", "email", map[string]any{"email_address": "a@b.com", "template_id": "nope"}, []string{"template_id is not a valid UUID"}},
			{"uuid wrong type", "email", map[string]any{"email_address": "a@b.com", "template_id": 5}, []string{"template_id is not a valid UUID"}},
			{"personalisation", "email", map[string]any{"email_address": "a@b.com", "template_id": tid, "personalisation": 1}, []string{"personalisation 1 is not of type object"}},
			{"reference long", "email", map[string]any{"email_address": "a@b.com", "template_id": tid, "reference": strings.Repeat("x", 1001)}, []string{"reference " + strings.Repeat("x", 1001) + " is too long"}},
			{"reference type", "sms", map[string]any{"phone_number": "07700900123", "template_id": tid, "reference": 1.5}, []string{"reference 1.5 is not of type string"}},
			{"extra", "email", map[string]any{"email_address": "a@b.com", "template_id": tid, "foo": 1}, []string{"Additional properties are not allowed (foo was unexpected)"}},
			{"extras", "email", map[string]any{"email_address": "a@b.com", "template_id": tid, "zed": 1, "abc": 2}, []string{"Additional properties are not allowed (abc, zed were unexpected)"}},
			{"bad email", "email", map[string]any{"email_address": "not-an-email", "template_id": tid}, []string{"email_address Not a valid email address"}},
			{"email type", "email", map[string]any{"email_address": false, "template_id": tid}, []string{"email_address False is not of type string"}},
			{"letters in phone", "sms", map[string]any{"phone_number": "0770090012a", "template_id": tid}, []string{"phone_number Must not contain letters or symbols"}},
			{"short phone", "sms", map[string]any{"phone_number": "12345", "template_id": tid}, []string{"phone_number Not enough digits"}},
			{"long phone", "sms", map[string]any{"phone_number": "0770090012345", "template_id": tid}, []string{"phone_number Too many digits"}},
			{"http unsubscribe", "email", map[string]any{"email_address": "a@b.com", "template_id": tid, "one_click_unsubscribe_url": "http://example.com"}, []string{"one_click_unsubscribe_url is not a valid https url"}},
			{"sanitise type", "email", map[string]any{"email_address": "a@b.com", "template_id": tid, "sanitise_content_for": "name"}, []string{"sanitise_content_for name is not of type array, null"}},
			{"scheduled format", "email", map[string]any{"email_address": "a@b.com", "template_id": tid, "scheduled_for": "tomorrow"}, []string{"scheduled_for datetime format is invalid. It must be a valid ISO8601 date time format, https://en.wikipedia.org/wiki/ISO_8601"}},
			{"scheduled past", "email", map[string]any{"email_address": "a@b.com", "template_id": tid, "scheduled_for": "2026-05-12T09:00:00"}, []string{"scheduled_for datetime can not be in the past"}},
			{"scheduled far", "email", map[string]any{"email_address": "a@b.com", "template_id": tid, "scheduled_for": "2026-05-20T09:00:00"}, []string{"scheduled_for datetime can only be 7 days in the future"}},
			{"sms sender id", "sms", map[string]any{"phone_number": "07700900123", "template_id": tid, "sms_sender_id": "x"}, []string{"sms_sender_id is not a valid UUID"}},
			{"several", "email", map[string]any{"reference": 5, "template_id": "x", "personalisation": "p", "bar": 1}, []string{
				"reference 5 is not of type string", "template_id is not a valid UUID", "personalisation p is not of type object",
				"email_address is a required property", "Additional properties are not allowed (bar was unexpected)"}},
			{"letter", "letter", map[string]any{"template_id": tid}, []string{"personalisation is a required property"}},
			{"letter extra", "letter", map[string]any{"template_id": tid, "personalisation": map[string]any{}, "email_address": "a@b.com"}, []string{"Additional properties are not allowed (email_address was unexpected)"}},
			{"precompiled", "letter", map[string]any{"content": 5, "postage": "europe"}, []string{"content 5 is not of type string", "postage invalid. It must be either first, second or economy.", "reference is a required property"}},
		}
		for _, c := range cases {
			r := f.do("POST", "/v2/notifications/"+c.path, f.a.liveKey, c.body)
			items := []string{}
			for _, m := range c.messages {
				items = append(items, "ValidationError", m)
			}
			t.Run(c.name, func(t *testing.T) { r.wantError(t, 400, items...) })
		}
		for _, body := range []string{"", "{", "{} {}", "nonsense"} {
			f.do("POST", "/v2/notifications/email", f.a.liveKey, body).wantError(t, 400, "BadRequestError", "Invalid JSON supplied in POST data")
		}
		if n := f.count("SELECT count(*) FROM notify_notifications"); n != 0 {
			t.Fatalf("%d notifications stored for bad requests", n)
		}
	})
}

// The refusals after the schema stage, in the order the reference checks them.
func TestV2SendRefusals(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		noSMS := f.newTenant("No texts", true, []string{platform.ServiceEmail})
		archived := f.template(f.a.id, TemplateInput{Name: "Old", Type: Email, Subject: "s", Content: "c"})
		if _, err := f.svc.ArchiveTemplate(f.ctx, f.a.id, archived.ID, "someone"); err != nil {
			t.Fatal(err)
		}
		email := func(tid string, extra map[string]any) map[string]any {
			b := map[string]any{"email_address": "a@example.com", "template_id": tid, "personalisation": map[string]any{"name": "x"}}
			maps.Copy(b, extra)
			return b
		}
		ukOnly := f.newTenant("UK texts only", true, []string{platform.ServiceSMS})
		missingID := "6f1bb3b6-2c1b-4a57-9d5f-1f0f8f1e9c11"
		cases := []struct {
			name, path, key string
			body            any
			status          int
			typ, message    string
		}{
			{"no sms permission", "sms", noSMS.liveKey, map[string]any{"phone_number": "07700900123", "template_id": noSMS.smsTemplate.ID}, 400, "BadRequestError", "Service is not allowed to send text messages"},
			{"unknown template", "email", f.a.liveKey, email(missingID, nil), 400, "BadRequestError", "Template not found"},
			{"other service's template", "email", f.a.liveKey, email(f.b.emailTemplate.ID, nil), 400, "BadRequestError", "Template not found"},
			{"wrong type", "email", f.a.liveKey, email(f.a.smsTemplate.ID, nil), 400, "BadRequestError", "sms template is not suitable for email notification"},
			{"archived", "email", f.a.liveKey, email(archived.ID, nil), 400, "BadRequestError", "Template has been deleted"},
			{"missing personalisation", "email", f.a.liveKey, map[string]any{"email_address": "a@example.com", "template_id": f.a.emailTemplate.ID}, 400, "BadRequestError", "Missing personalisation: name"},
			{"null personalisation value", "email", f.a.liveKey, email(f.a.emailTemplate.ID, map[string]any{"personalisation": map[string]any{"name": nil}}), 400, "BadRequestError", "Missing personalisation: name"},
			{"reply-to", "email", f.a.liveKey, email(f.a.emailTemplate.ID, map[string]any{"email_reply_to_id": missingID}), 400, "BadRequestError", "email_reply_to_id " + missingID + " does not exist in database for service id " + f.a.id},
			{"sms sender", "sms", f.a.liveKey, map[string]any{"phone_number": "07700900123", "template_id": f.a.smsTemplate.ID, "personalisation": map[string]any{"name": "x"}, "sms_sender_id": missingID}, 400, "BadRequestError", "sms_sender_id " + missingID + " does not exist in database for service id " + f.a.id},
			{"team key recipient", "email", f.a.teamKey, email(f.a.emailTemplate.ID, nil), 400, "BadRequestError", "Can’t send to this recipient using a team-only API key"},
			{"team key phone", "sms", f.a.teamKey, map[string]any{"phone_number": "07700900123", "template_id": f.a.smsTemplate.ID, "personalisation": map[string]any{"name": "x"}}, 400, "BadRequestError", "Can’t send to this recipient using a team-only API key"},
			{"landline", "sms", f.a.liveKey, map[string]any{"phone_number": "020 7946 0000", "template_id": f.a.smsTemplate.ID, "personalisation": map[string]any{"name": "x"}}, 400, "InvalidPhoneError", "Not a UK mobile number"},
			{"international without permission", "sms", ukOnly.liveKey, map[string]any{"phone_number": "+1 202 555 0143", "template_id": ukOnly.smsTemplate.ID, "personalisation": map[string]any{"name": "x"}}, 400, "BadRequestError", "Cannot send to international mobile numbers"},
			{"letter with team key", "letter", f.a.teamKey, map[string]any{"template_id": f.a.letterTemplate.ID, "personalisation": map[string]any{}}, 403, "BadRequestError", "Cannot send letters with a team api key"},
			{"address too short", "letter", f.a.liveKey, map[string]any{"template_id": f.a.letterTemplate.ID, "personalisation": map[string]any{"address_line_1": "A", "postcode": "SW1A 1AA"}}, 400, "ValidationError", "Address must be at least 3 lines"},
			{"bad postcode", "letter", f.a.liveKey, map[string]any{"template_id": f.a.letterTemplate.ID, "personalisation": map[string]any{"address_line_1": "A", "address_line_2": "B", "postcode": "NOWHERE"}}, 400, "ValidationError", "Must be a real UK postcode"},
			{"bad base64", "letter", f.a.liveKey, map[string]any{"reference": "r", "content": "abc"}, 400, "BadRequestError", "Cannot decode letter content (invalid base64 encoding)"},
			{"precompiled with team key", "letter", f.a.teamKey, map[string]any{"reference": "r", "content": "abc"}, 403, "BadRequestError", "Cannot send letters with a team api key"},
			{"too long sms", "sms", f.a.liveKey, map[string]any{"phone_number": "07700900123", "template_id": f.a.smsTemplate.ID, "personalisation": map[string]any{"name": strings.Repeat("x", 900)}}, 400, "BadRequestError", "Your message is too long. Text messages cannot be longer than 918 characters. Your message is 954 characters long."},
		}
		for _, c := range cases {
			r := f.do("POST", "/v2/notifications/"+c.path, c.key, c.body)
			t.Run(c.name, func(t *testing.T) { r.wantError(t, c.status, c.typ, c.message) })
		}
		if n := f.count("SELECT count(*) FROM notify_notifications"); n != 0 {
			t.Fatalf("%d notifications stored for refused requests", n)
		}
		if n := f.count("SELECT count(*) FROM river_job"); n != 0 {
			t.Fatalf("%d jobs queued for refused requests", n)
		}
	})
}

// Trial mode: live and team keys reach only team members and the guest list; test keys
// reach anyone; letters need a test key.
func TestV2TrialModeAndGuestList(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		trial := f.newTenant("Trial", false, nil)
		u, err := f.platform.CreateUser(f.ctx, platform.CLIActor, "member@example.gov.uk", false)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.platform.AddMember(f.ctx, platform.CLIActor, trial.id, u.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetGuestList(f.ctx, trial.id, []string{"guest@example.com"}, []string{"447700900456"}); err != nil {
			t.Fatal(err)
		}
		email := func(to string) map[string]any {
			return map[string]any{"email_address": to, "template_id": trial.emailTemplate.ID, "personalisation": map[string]any{"name": "x"}}
		}
		sms := func(to string) map[string]any {
			return map[string]any{"phone_number": to, "template_id": trial.smsTemplate.ID, "personalisation": map[string]any{"name": "x"}}
		}
		trialMsg := "Can’t send to this recipient when service is in trial mode – see https://www.notifications.service.gov.uk/trial-mode"
		f.do("POST", "/v2/notifications/email", trial.liveKey, email("stranger@example.com")).wantError(t, 400, "BadRequestError", trialMsg)
		f.do("POST", "/v2/notifications/sms", trial.liveKey, sms("07700900123")).wantError(t, 400, "BadRequestError", trialMsg)
		f.do("POST", "/v2/notifications/email", trial.liveKey, email("Member@Example.gov.uk")).want(t, 201)
		f.do("POST", "/v2/notifications/email", trial.teamKey, email("guest@example.com")).want(t, 201)
		f.do("POST", "/v2/notifications/sms", trial.teamKey, sms("+44 7700 900456")).want(t, 201)
		f.do("POST", "/v2/notifications/email", trial.testKey, email("stranger@example.com")).want(t, 201)
		letter := map[string]any{"template_id": trial.letterTemplate.ID,
			"personalisation": map[string]any{"address_line_1": "A", "address_line_2": "B", "postcode": "SW1A 1AA"}}
		f.do("POST", "/v2/notifications/letter", trial.liveKey, letter).wantError(t, 403, "BadRequestError", "Cannot send letters when service is in trial mode")
		f.do("POST", "/v2/notifications/letter", trial.testKey, letter).want(t, 201)
		// Simulated recipients still go through the trial check first.
		f.do("POST", "/v2/notifications/email", trial.liveKey, email("simulate-delivered@notifications.service.gov.uk")).wantError(t, 400, "BadRequestError", trialMsg)
	})
}

// Smoke-test recipients are validated and answered but never stored, sent or counted.
func TestV2SimulatedRecipientsAreNotPersisted(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		for _, to := range []string{"simulate-delivered@notifications.service.gov.uk", "SIMULATE-DELIVERED-2@notifications.service.gov.uk"} {
			r := f.do("POST", "/v2/notifications/email", f.a.liveKey, map[string]any{"email_address": to,
				"template_id": f.a.emailTemplate.ID, "personalisation": map[string]any{"name": "x"}})
			r.want(t, 201)
			f.do("GET", "/v2/notifications/"+r.body["id"].(string), f.a.liveKey, nil).wantError(t, 404, "NoResultFound", "No result found")
		}
		for _, to := range []string{"07700 900000", "+447700900111", "07700900222"} {
			f.do("POST", "/v2/notifications/sms", f.a.liveKey, map[string]any{"phone_number": to,
				"template_id": f.a.smsTemplate.ID, "personalisation": map[string]any{"name": "x"}}).want(t, 201)
		}
		// Still validated: a missing placeholder is refused.
		f.do("POST", "/v2/notifications/sms", f.a.liveKey, map[string]any{"phone_number": "07700900000",
			"template_id": f.a.smsTemplate.ID}).wantError(t, 400, "BadRequestError", "Missing personalisation: name")
		for _, table := range []string{"notify_notifications", "notify_status_events", "river_job", "notify_daily_counts"} {
			if n := f.count("SELECT count(*) FROM " + table); n != 0 {
				t.Fatalf("%d rows in %s", n, table)
			}
		}
	})
}

// The per-minute limit comes before everything about the request, so requests that fail
// later still use up tokens; key types have separate buckets.
func TestV2RateLimit(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		st := DefaultSettings(f.a.id)
		st.RateLimit = 3 // capacity min(ceil(3/3)+1, 1000) = 2
		if err := f.svc.SaveSettings(f.ctx, st); err != nil {
			t.Fatal(err)
		}
		f.do("POST", "/v2/notifications/email", f.a.liveKey, "not json").wantError(t, 400, "BadRequestError", "Invalid JSON supplied in POST data")
		f.do("POST", "/v2/notifications/sms", f.a.liveKey, map[string]any{}).want(t, 400)
		f.do("POST", "/v2/notifications/email", f.a.liveKey, "not json").wantError(t, 429, "RateLimitError",
			"Exceeded rate limit for key type LIVE of 3 requests per 60 seconds")
		// Other key types have their own bucket; GETs are not limited.
		f.do("POST", "/v2/notifications/email", f.a.teamKey, "x").want(t, 400)
		f.do("GET", "/v2/notifications", f.a.liveKey, nil).want(t, 200)
		f.do("POST", "/v2/notifications/email", f.a.teamKey, "x").want(t, 400)
		f.do("POST", "/v2/notifications/email", f.a.teamKey, "x").wantError(t, 429, "RateLimitError",
			"Exceeded rate limit for key type TEAM of 3 requests per 60 seconds")
		// Service B is untouched.
		f.do("POST", "/v2/notifications/email", f.b.liveKey, "x").want(t, 400)
		// The bucket refills at 3 a minute.
		f.clock.Advance(20 * time.Second)
		f.do("POST", "/v2/notifications/email", f.a.liveKey, "x").want(t, 400)
	})
}

// Daily limits count sends of live and team keys per channel; test keys neither count nor
// are stopped.
func TestV2DailyLimit(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		st := DefaultSettings(f.a.id)
		st.EmailDailyLimit = 2
		if err := f.svc.SaveSettings(f.ctx, st); err != nil {
			t.Fatal(err)
		}
		send := func(key string) v2Response {
			return f.do("POST", "/v2/notifications/email", key, map[string]any{"email_address": "a@example.com",
				"template_id": f.a.emailTemplate.ID, "personalisation": map[string]any{"name": "x"}})
		}
		send(f.a.liveKey).want(t, 201)
		send(f.a.testKey).want(t, 201)
		send(f.a.liveKey).want(t, 201)
		send(f.a.liveKey).wantError(t, 429, "TooManyRequestsError", "Exceeded send limits (email: 2) for today")
		// Checked before the body is read.
		f.do("POST", "/v2/notifications/email", f.a.liveKey, "not json").wantError(t, 429, "TooManyRequestsError", "Exceeded send limits (email: 2) for today")
		send(f.a.testKey).want(t, 201)
		f.do("POST", "/v2/notifications/sms", f.a.liveKey, map[string]any{"phone_number": "07700900123",
			"template_id": f.a.smsTemplate.ID, "personalisation": map[string]any{"name": "x"}}).want(t, 201)
		// A new UTC day starts a new count.
		f.clock.Advance(24 * time.Hour)
		send(f.a.liveKey).want(t, 201)
	})
}

func TestV2SanitiseContentFor(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		r := f.do("POST", "/v2/notifications/email", f.a.liveKey, map[string]any{"email_address": "a@example.com",
			"template_id": f.a.emailTemplate.ID, "personalisation": map[string]any{"name": "*Bob* see example.com"},
			"sanitise_content_for": []string{"NAME"}})
		r.want(t, 201)
		want := map[string]any{"name": map[string]any{"unsanitised": "*Bob* see example.com", "sanitised": `\*Bob\* see example\. com`}}
		if !reflect.DeepEqual(r.body["sanitised_content"], want) {
			t.Fatalf("sanitised_content %v", r.body["sanitised_content"])
		}
	})
}

// scheduled_for is Commons' extension: the delivery job waits until then, and the v2Response
// keeps GOV.UK Notify's shape.
func TestV2ScheduledFor(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		r := f.do("POST", "/v2/notifications/email", f.a.liveKey, map[string]any{"email_address": "a@example.com",
			"template_id": f.a.emailTemplate.ID, "personalisation": map[string]any{"name": "x"},
			"scheduled_for": "2026-05-15T10:00:00+01:00"})
		r.want(t, 201)
		if r.body["scheduled_for"] != nil {
			t.Fatalf("scheduled_for %v", r.body["scheduled_for"])
		}
		var at time.Time
		if err := f.d.QueryRow(f.ctx, "SELECT scheduled_at FROM river_job WHERE kind = 'notify.deliver'").Scan(&at); err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 5, 15, 9, 0, 0, 0, time.UTC); !at.Equal(want) {
			t.Fatalf("job scheduled at %s, want %s", at, want)
		}
		g := f.do("GET", "/v2/notifications/"+r.body["id"].(string), f.a.liveKey, nil)
		if g.body["scheduled_for"] != "2026-05-15T09:00:00.000000Z" || g.body["status"] != "created" {
			t.Fatalf("GET %s", g.raw)
		}
	})
}

// Files sent by email (notify.md §2.14): checked, stored with the email, linked from it.
func TestV2SendFileByEmail(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		tm := f.template(f.a.id, TemplateInput{Name: "File", Type: Email, Subject: "Your file", Content: "Download it: ((link))"})
		send := func(file map[string]any, to string) v2Response {
			return f.do("POST", "/v2/notifications/email", f.a.liveKey, map[string]any{"email_address": to,
				"template_id": tm.ID, "personalisation": map[string]any{"link": file}})
		}
		csv := base64.StdEncoding.EncodeToString([]byte("a,b\n1,2\n"))
		send(map[string]any{"file": csv, "filename": "report.csv"}, "a@example.com").wantError(t, 400, "BadRequestError",
			"Send files by email has not been set up - add contact details for your service at http://commons.test/admin/services/"+f.a.id+"/settings")
		st := DefaultSettings(f.a.id)
		st.ContactLink = "https://example.gov.uk/contact"
		if err := f.svc.SaveSettings(f.ctx, st); err != nil {
			t.Fatal(err)
		}
		send(map[string]any{"file": csv, "filename": "report", "is_csv": "yes", "colour": "red", "retention_period": "2 years"}, "a@example.com").wantError(t, 400,
			"ValidationError", "Additional properties are not allowed (colour was unexpected)",
			"ValidationError", "is_csv Unsupported value for is_csv: yes. Use a boolean true or false value.",
			"ValidationError", "retention_period Unsupported value for retention_period: 2 years. Supported periods are from 1 to 78 weeks.",
			"ValidationError", "filename `filename` must end with a file extension. For example, filename.csv",
			"ValidationError", "Do not set a value for `is_csv` if `filename` is set.")
		r := send(map[string]any{"file": csv, "filename": "report.csv", "retention_period": "4 weeks"}, "Person@Example.com")
		r.want(t, 201)
		body := r.body["content"].(map[string]any)["body"].(string)
		link := strings.TrimPrefix(body, "Download it: ")
		if !strings.HasPrefix(link, "http://commons.test/d/") || !strings.Contains(link, "?key=") {
			t.Fatalf("body %q", body)
		}
		var mime, confirm string
		var expires time.Time
		if err := f.d.QueryRow(f.ctx, "SELECT mime_type, confirm_email, expires_at FROM notify_documents WHERE notification_id = ?",
			r.body["id"]).Scan(&mime, &confirm, &expires); err != nil {
			t.Fatal(err)
		}
		if mime != "text/csv" || confirm != "person@example.com" || !expires.Equal(f.clock.Now().Add(28*24*time.Hour)) {
			t.Fatalf("document %s %s %s", mime, confirm, expires)
		}
		// A simulated recipient gets a placeholder link and nothing is stored.
		sim := send(map[string]any{"file": csv, "filename": "report.csv", "confirm_email_before_download": false}, "simulate-delivered@notifications.service.gov.uk")
		sim.want(t, 201)
		if got := sim.body["content"].(map[string]any)["body"]; got != "Download it: http://commons.test/services/"+f.a.id+"/documents/test-document" {
			t.Fatalf("simulated body %v", got)
		}
		if n := f.count("SELECT count(*) FROM notify_documents"); n != 1 {
			t.Fatalf("%d documents", n)
		}
		// Only emails carry files.
		f.do("POST", "/v2/notifications/sms", f.a.liveKey, map[string]any{"phone_number": "07700900123",
			"template_id": f.a.smsTemplate.ID, "personalisation": map[string]any{"name": map[string]any{"file": csv}}}).wantError(t, 400,
			"BadRequestError", "Can only send a file by email")
	})
}

// When a request breaks several rules, the one GOV.UK Notify checks first is reported
// (notify.md §3.4).
func TestV2OrderOfChecks(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		noSMS := f.newTenant("No texts", true, []string{platform.ServiceEmail})
		trial := f.newTenant("Trial", false, nil)
		missingID := "6f1bb3b6-2c1b-4a57-9d5f-1f0f8f1e9c11"
		// Schema before the channel permission.
		f.do("POST", "/v2/notifications/sms", noSMS.liveKey, map[string]any{"template_id": noSMS.smsTemplate.ID}).wantError(t, 400,
			"ValidationError", "phone_number is a required property")
		// Channel permission before the template.
		f.do("POST", "/v2/notifications/sms", noSMS.liveKey, map[string]any{"phone_number": "07700900123", "template_id": missingID}).wantError(t, 400,
			"BadRequestError", "Service is not allowed to send text messages")
		// Template before the reply-to address.
		f.do("POST", "/v2/notifications/email", f.a.liveKey, map[string]any{"email_address": "a@example.com", "template_id": missingID,
			"email_reply_to_id": missingID}).wantError(t, 400, "BadRequestError", "Template not found")
		// Personalisation before the recipient.
		f.do("POST", "/v2/notifications/email", trial.liveKey, map[string]any{"email_address": "stranger@example.com",
			"template_id": trial.emailTemplate.ID}).wantError(t, 400, "BadRequestError", "Missing personalisation: name")
		// Sender before the recipient.
		f.do("POST", "/v2/notifications/sms", trial.liveKey, map[string]any{"phone_number": "07700900123", "sms_sender_id": missingID,
			"template_id": trial.smsTemplate.ID, "personalisation": map[string]any{"name": "x"}}).wantError(t, 400,
			"BadRequestError", "sms_sender_id "+missingID+" does not exist in database for service id "+trial.id)
		// Recipient before the length.
		f.do("POST", "/v2/notifications/sms", trial.liveKey, map[string]any{"phone_number": "07700900123",
			"template_id": trial.smsTemplate.ID, "personalisation": map[string]any{"name": strings.Repeat("x", 1000)}}).wantError(t, 400,
			"BadRequestError", "Can’t send to this recipient when service is in trial mode – see https://www.notifications.service.gov.uk/trial-mode")
		// Letter key rules before the address.
		f.do("POST", "/v2/notifications/letter", f.a.teamKey, map[string]any{"template_id": f.a.letterTemplate.ID,
			"personalisation": map[string]any{"address_line_1": "A"}}).wantError(t, 403, "BadRequestError", "Cannot send letters with a team api key")
	})
}
