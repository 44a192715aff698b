package notify

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/notify/letter"
)

// insertNotification stores a notification row directly, for list tests that need many.
func (f *v2Fixture) insertNotification(tn v2Tenant, typ Channel, keyType, status, ref string, created time.Time, jobID string) string {
	f.t.Helper()
	id := uuid.NewString()
	tmpl := map[Channel]Template{Email: tn.emailTemplate, SMS: tn.smsTemplate, Letter: tn.letterTemplate}[typ]
	var job any
	if jobID != "" {
		job = jobID
	}
	if _, err := f.d.Exec(f.ctx, `INSERT INTO notify_notifications (id, service_id, template_id, template_version,
		notification_type, key_type, job_id, recipient, normalised_to, personalisation, client_reference, status, body, created_at)
		VALUES (?, ?, ?, 1, ?, ?, ?, 'x', 'x', '{}', ?, ?, 'body', ?)`,
		id, tn.id, tmpl.ID, string(typ), keyType, job, nullable(ref), status, created); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func TestV2ListNotificationsPagingAndFilters(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		base := f.clock.Now().Add(-time.Hour)
		var ids []string // oldest first
		for i := range 255 {
			typ := Email
			if i%5 == 0 {
				typ = SMS
			}
			ids = append(ids, f.insertNotification(f.a, typ, "live", StatusDelivered, fmt.Sprintf("ref-%d", i%3), base.Add(time.Duration(i)*time.Second), ""))
		}
		// Same created_at as the newest: ordering by id keeps paging exact.
		twin := f.insertNotification(f.a, Email, "live", StatusCreated, "", base.Add(254*time.Second), "")
		f.insertNotification(f.a, Email, "test", StatusDelivered, "", base, "")
		f.insertNotification(f.a, Email, "live", StatusDelivered, "", base, "9d7c1a9e-6f0c-4f7e-a3a8-9f3a0c2b1d55")
		f.insertNotification(f.b, Email, "live", StatusDelivered, "", base, "")

		seen := map[string]bool{}
		path := "/v2/notifications"
		pages := 0
		for {
			r := f.do("GET", path, f.a.liveKey, nil)
			r.want(t, 200)
			list := r.body["notifications"].([]any)
			links := r.body["links"].(map[string]any)
			if links["current"] != f.srv.URL+path {
				t.Fatalf("current %v, want %s", links["current"], f.srv.URL+path)
			}
			if len(list) == 0 {
				if _, ok := links["next"]; ok {
					t.Fatal("next link on an empty page")
				}
				break
			}
			pages++
			if pages == 1 && len(list) != 250 {
				t.Fatalf("first page has %d", len(list))
			}
			for _, n := range list {
				id := n.(map[string]any)["id"].(string)
				if seen[id] {
					t.Fatalf("%s on two pages", id)
				}
				seen[id] = true
			}
			next := links["next"].(string)
			last := list[len(list)-1].(map[string]any)["id"].(string)
			if next != f.srv.URL+"/v2/notifications?older_than="+last {
				t.Fatalf("next %s", next)
			}
			path = strings.TrimPrefix(next, f.srv.URL)
		}
		if pages != 2 || len(seen) != 256 || !seen[twin] || !seen[ids[0]] {
			t.Fatalf("%d pages, %d notifications", pages, len(seen))
		}

		// include_jobs adds the CSV job's notification; the test key sees only its own.
		r := f.do("GET", "/v2/notifications?include_jobs=true&older_than="+ids[2], f.a.liveKey, nil)
		if n := len(r.body["notifications"].([]any)); n != 3 {
			t.Fatalf("include_jobs older_than gave %d", n)
		}
		r = f.do("GET", "/v2/notifications", f.a.testKey, nil)
		if n := len(r.body["notifications"].([]any)); n != 1 {
			t.Fatalf("test key sees %d", n)
		}
		// Repeatable filters, kept in the links in the order given.
		r = f.do("GET", "/v2/notifications?template_type=sms&status=received&template_type=letter&reference=ref-1", f.a.liveKey, nil)
		list := r.body["notifications"].([]any)
		for _, n := range list {
			m := n.(map[string]any)
			if m["type"] != "sms" || m["reference"] != "ref-1" || m["status"] != "delivered" {
				t.Fatalf("filtered row %v", m)
			}
		}
		if len(list) != 17 {
			t.Fatalf("filter gave %d", len(list))
		}
		links := r.body["links"].(map[string]any)
		wantCurrent := f.srv.URL + "/v2/notifications?template_type=sms&template_type=letter&status=received&reference=ref-1"
		if links["current"] != wantCurrent || links["next"] != wantCurrent+"&older_than="+list[len(list)-1].(map[string]any)["id"].(string) {
			t.Fatalf("links %v", links)
		}
		r = f.do("GET", "/v2/notifications?status=accepted", f.a.liveKey, nil)
		if l := r.body["notifications"].([]any); len(l) != 1 || l[0].(map[string]any)["id"] != twin {
			t.Fatalf("accepted gave %v", r.raw)
		}
		// An unknown older_than is an empty page.
		r = f.do("GET", "/v2/notifications?older_than="+uuid.NewString(), f.a.liveKey, nil)
		if len(r.body["notifications"].([]any)) != 0 {
			t.Fatal("unknown older_than returned rows")
		}

		f.do("GET", "/v2/notifications?template_type=Apple", f.a.liveKey, nil).wantError(t, 400, "ValidationError",
			"template_type Apple is not one of [sms, email, letter]")
		f.do("GET", "/v2/notifications?status=elephant&foo=1", f.a.liveKey, nil).wantError(t, 400,
			"ValidationError", "status elephant is not one of [cancelled, created, sending, sent, delivered, pending, failed, technical-failure, temporary-failure, permanent-failure, pending-virus-check, validation-failed, virus-scan-failed, returned-letter, accepted, received]",
			"ValidationError", "Additional properties are not allowed (foo was unexpected)")
		f.do("GET", "/v2/notifications?older_than=nope", f.a.liveKey, nil).wantError(t, 400, "ValidationError", "older_than is not a valid UUID")
		f.do("GET", "/v2/notifications?include_jobs=yes", f.a.liveKey, nil).wantError(t, 400, "ValidationError", "include_jobs yes is not one of [true, True]")
	})
}

// Service B's key reads nothing of service A's.
func TestV2CrossTenant(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		r := f.do("POST", "/v2/notifications/email", f.a.liveKey, map[string]any{"email_address": "a@example.com",
			"template_id": f.a.emailTemplate.ID, "personalisation": map[string]any{"name": "x"}})
		r.want(t, 201)
		id := r.body["id"].(string)
		notFound := func(method, path string, body any) {
			t.Helper()
			f.do(method, path, f.b.liveKey, body).wantError(t, 404, "NoResultFound", "No result found")
		}
		notFound("GET", "/v2/notifications/"+id, nil)
		notFound("GET", "/v2/notifications/"+id+"/pdf", nil)
		notFound("GET", "/v2/template/"+f.a.emailTemplate.ID, nil)
		notFound("GET", "/v2/template/"+f.a.emailTemplate.ID+"/version/1", nil)
		notFound("POST", "/v2/template/"+f.a.emailTemplate.ID+"/preview", map[string]any{"personalisation": map[string]any{"name": "x"}})
		list := f.do("GET", "/v2/notifications", f.b.liveKey, nil)
		if len(list.body["notifications"].([]any)) != 0 {
			t.Fatal("B lists A's notifications")
		}
		templates := f.do("GET", "/v2/templates", f.b.liveKey, nil).body["templates"].([]any)
		for _, tm := range templates {
			if tm.(map[string]any)["id"] == f.a.emailTemplate.ID {
				t.Fatal("B lists A's template")
			}
		}
		// Any key type of A may read it.
		f.do("GET", "/v2/notifications/"+id, f.a.testKey, nil).want(t, 200)
		f.do("GET", "/v2/notifications/nope", f.a.liveKey, nil).wantError(t, 400, "ValidationError", "notification_id is not a valid UUID")
	})
}

func TestV2Templates(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		tm := f.a.emailTemplate
		updated, err := f.svc.UpdateTemplate(f.ctx, f.a.id, tm.ID, "editor@example.gov.uk", TemplateInput{Name: "Welcome",
			Subject: "Hi ((name))", Content: "Dear ((name)), your code is ((code))"})
		if err != nil {
			t.Fatal(err)
		}
		r := f.do("GET", "/v2/template/"+tm.ID, f.a.liveKey, nil)
		r.want(t, 200)
		want := map[string]any{
			"id": tm.ID, "type": "email", "created_at": "2026-05-12T09:30:15.123456Z",
			"updated_at": "2026-05-12T09:30:15.123456Z", "created_by": "editor@example.gov.uk", "version": float64(2),
			"body": "Dear ((name)), your code is ((code))", "subject": "Hi ((name))", "name": "Welcome",
			"personalisation": map[string]any{"name": map[string]any{"required": true}, "code": map[string]any{"required": true}},
			"postage":         nil, "letter_contact_block": nil,
		}
		if !reflect.DeepEqual(r.body, want) {
			t.Fatalf("template\n got %s\nwant %s", r.raw, v2JSON(want))
		}
		v1 := f.do("GET", "/v2/template/"+tm.ID+"/version/1", f.a.liveKey, nil)
		if v1.body["version"] != float64(1) || v1.body["body"] != tm.Content {
			t.Fatalf("version 1: %s", v1.raw)
		}
		f.do("GET", "/v2/template/"+tm.ID+"/version/3", f.a.liveKey, nil).wantError(t, 404, "NoResultFound", "No result found")
		f.do("GET", "/v2/template/nope", f.a.liveKey, nil).wantError(t, 400, "ValidationError", "id is not a valid UUID")
		_ = updated

		list := f.do("GET", "/v2/templates?type=sms", f.a.liveKey, nil)
		if ts := list.body["templates"].([]any); len(ts) != 1 || ts[0].(map[string]any)["subject"] != nil {
			t.Fatalf("sms templates %s", list.raw)
		}
		all := f.do("GET", "/v2/templates", f.a.liveKey, nil).body["templates"].([]any)
		if len(all) != 3 || all[0].(map[string]any)["name"] != "Code" {
			t.Fatalf("all templates: %d", len(all))
		}
		f.do("GET", "/v2/templates?type=fax", f.a.liveKey, nil).wantError(t, 400, "ValidationError", "type fax is not one of [sms, email, letter]")
		f.do("GET", "/v2/templates?kind=sms", f.a.liveKey, nil).wantError(t, 400, "ValidationError", "Additional properties are not allowed (kind was unexpected)")

		p := f.do("POST", "/v2/template/"+tm.ID+"/preview", f.a.liveKey, map[string]any{"personalisation": map[string]any{"name": "Jo", "code": 1234}})
		p.want(t, 200)
		if p.body["body"] != "Dear Jo, your code is 1234" || p.body["subject"] != "Hi Jo" || p.body["version"] != float64(2) ||
			p.body["type"] != "email" || !strings.Contains(p.body["html"].(string), "Dear Jo") || p.body["postage"] != nil {
			t.Fatalf("preview %s", p.raw)
		}
		f.do("POST", "/v2/template/"+tm.ID+"/preview", f.a.liveKey, "").wantError(t, 400, "BadRequestError", "Missing personalisation: name, code")
		f.do("POST", "/v2/template/"+tm.ID+"/preview", f.a.liveKey, "{").wantError(t, 400, "BadRequestError", "Invalid JSON supplied in POST data")
		f.do("POST", "/v2/template/"+tm.ID+"/preview", f.a.liveKey, map[string]any{"personalisation": 5}).wantError(t, 400, "ValidationError", "personalisation 5 is not of type object")
		sms := f.do("POST", "/v2/template/"+f.a.smsTemplate.ID+"/preview", f.a.liveKey, map[string]any{"personalisation": map[string]any{"name": "Jo"}, "extra": true})
		if sms.body["html"] != nil || sms.body["subject"] != nil || sms.body["body"] != "Hello Jo\n\nFunctional Tests make our world a better place" {
			t.Fatalf("sms preview %s", sms.raw)
		}
	})
}

func TestV2PrecompiledLetterAndPDF(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		pdf, pages, err := letter.Render(letter.Letter{AddressLines: []string{"Ms A Person", "1 High Street", "SW1A 1AA"},
			Heading: "Hello", Body: "A letter made elsewhere.", Date: f.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		r := f.do("POST", "/v2/notifications/letter", f.a.liveKey, map[string]any{
			"reference": "my letter", "content": base64.StdEncoding.EncodeToString(pdf)})
		r.want(t, 201)
		id := r.body["id"].(string)
		if !reflect.DeepEqual(r.body, map[string]any{"id": id, "reference": "my letter", "postage": "second"}) {
			t.Fatalf("precompiled response %s", r.raw)
		}
		g := f.do("GET", "/v2/notifications/"+id, f.a.liveKey, nil)
		if g.body["status"] != "accepted" || g.body["line_1"] != "Provided as PDF" || g.body["is_cost_data_ready"] != true ||
			g.body["cost_details"].(map[string]any)["billable_sheets_of_paper"] != float64((pages+1)/2) {
			t.Fatalf("GET precompiled %s", g.raw)
		}
		p := f.do("GET", "/v2/notifications/"+id+"/pdf", f.a.liveKey, nil)
		if p.status != 200 || p.header.Get("Content-Type") != "application/pdf" || !bytes.Equal(p.raw, pdf) {
			t.Fatalf("PDF %d %.80q", p.status, p.raw)
		}
		if n := f.count("SELECT count(*) FROM river_job WHERE kind = 'notify.deliver'"); n != 1 {
			t.Fatalf("%d delivery jobs", n)
		}
		f.setStatus(id, StatusPendingVirusCheck)
		f.do("GET", "/v2/notifications/"+id+"/pdf", f.a.liveKey, nil).wantError(t, 400, "PDFNotReadyError", "PDF not available yet, try again later")
		f.setStatus(id, StatusVirusScanFailed)
		f.do("GET", "/v2/notifications/"+id+"/pdf", f.a.liveKey, nil).wantError(t, 400, "BadRequestError", "File did not pass the virus scan")
		f.setStatus(id, StatusTechnicalFailure)
		f.do("GET", "/v2/notifications/"+id+"/pdf", f.a.liveKey, nil).wantError(t, 400, "BadRequestError", "PDF not available for letters in status technical-failure")

		// A file that is not a printable PDF is accepted, as GOV.UK Notify accepts it, and
		// shows as validation-failed; nothing is queued for it.
		bad := f.do("POST", "/v2/notifications/letter", f.a.liveKey, map[string]any{"reference": "again",
			"content": base64.StdEncoding.EncodeToString([]byte("not a pdf")), "postage": "first"})
		bad.want(t, 201)
		if bad.body["postage"] != "first" {
			t.Fatalf("postage %v", bad.body["postage"])
		}
		bg := f.do("GET", "/v2/notifications/"+bad.body["id"].(string), f.a.liveKey, nil)
		if bg.body["status"] != "validation-failed" || bg.body["completed_at"] == nil || bg.body["cost_in_pounds"] != float64(0) {
			t.Fatalf("GET bad precompiled %s", bg.raw)
		}
		if n := f.count("SELECT count(*) FROM river_job WHERE kind = 'notify.deliver'"); n != 1 {
			t.Fatalf("%d delivery jobs", n)
		}
		// The hidden template is neither listed nor fetchable.
		for _, tm := range f.do("GET", "/v2/templates", f.a.liveKey, nil).body["templates"].([]any) {
			if tm.(map[string]any)["name"] == precompiledTemplateName {
				t.Fatal("precompiled template listed")
			}
		}
		f.do("GET", "/v2/template/"+precompiledTemplateID(f.a.id), f.a.liveKey, nil).wantError(t, 404, "NoResultFound", "No result found")

		// A templated letter's PDF is rendered from the stored letter.
		l := f.do("POST", "/v2/notifications/letter", f.a.liveKey, map[string]any{"template_id": f.a.letterTemplate.ID,
			"personalisation": map[string]any{"address_line_1": "Ms A Person", "address_line_2": "1 High Street", "postcode": "SW1A 1AA"}})
		l.want(t, 201)
		lp := f.do("GET", "/v2/notifications/"+l.body["id"].(string)+"/pdf", f.a.liveKey, nil)
		if lp.status != 200 || !bytes.HasPrefix(lp.raw, []byte("%PDF-")) {
			t.Fatalf("templated PDF %d %.100q", lp.status, lp.raw)
		}
		e := f.do("POST", "/v2/notifications/email", f.a.liveKey, map[string]any{"email_address": "a@example.com",
			"template_id": f.a.emailTemplate.ID, "personalisation": map[string]any{"name": "x"}})
		f.do("GET", "/v2/notifications/"+e.body["id"].(string)+"/pdf", f.a.liveKey, nil).wantError(t, 400, "BadRequestError", "Notification is not a letter")
	})
}

func (f *v2Fixture) setStatus(id, status string) {
	f.t.Helper()
	if _, err := f.d.Exec(f.ctx, "UPDATE notify_notifications SET status = ?, updated_at = ? WHERE id = ?", status, f.clock.Now(), id); err != nil {
		f.t.Fatal(err)
	}
}

func TestV2ReceivedTextMessages(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		base := f.clock.Now().Add(-time.Hour)
		var ids []string
		for i := range 3 {
			id := uuid.NewString()
			ids = append(ids, id)
			if _, err := f.d.Exec(f.ctx, `INSERT INTO notify_inbound_sms (id, service_id, user_number, notify_number, content, created_at)
				VALUES (?, ?, '447700900123', '07700900999', ?, ?)`, id, f.a.id, fmt.Sprintf("message %d", i), base.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		r := f.do("GET", "/v2/received-text-messages", f.a.liveKey, nil)
		r.want(t, 200)
		list := r.body["received_text_messages"].([]any)
		if len(list) != 3 {
			t.Fatalf("%d messages", len(list))
		}
		first := list[0].(map[string]any)
		want := map[string]any{"id": ids[2], "user_number": "447700900123", "notify_number": "07700900999",
			"created_at": "2026-05-12T08:32:15.123456Z", "service_id": f.a.id, "content": "message 2"}
		if !reflect.DeepEqual(first, want) {
			t.Fatalf("message %v", first)
		}
		links := r.body["links"].(map[string]any)
		if links["current"] != f.srv.URL+"/v2/received-text-messages" || links["next"] != f.srv.URL+"/v2/received-text-messages?older_than="+ids[0] {
			t.Fatalf("links %v", links)
		}
		older := f.do("GET", "/v2/received-text-messages?older_than="+url.QueryEscape(ids[1]), f.a.liveKey, nil)
		if l := older.body["received_text_messages"].([]any); len(l) != 1 || l[0].(map[string]any)["id"] != ids[0] {
			t.Fatalf("older_than %s", older.raw)
		}
		if _, ok := f.do("GET", "/v2/received-text-messages?older_than="+ids[0], f.a.liveKey, nil).body["links"].(map[string]any)["next"]; ok {
			t.Fatal("next link on an empty page")
		}
		if l := f.do("GET", "/v2/received-text-messages", f.b.liveKey, nil).body["received_text_messages"].([]any); len(l) != 0 {
			t.Fatal("B reads A's messages")
		}
		f.do("GET", "/v2/received-text-messages?older_than=x", f.a.liveKey, nil).wantError(t, 400, "ValidationError", "older_than is not a valid UUID")
		f.do("GET", "/v2/received-text-messages?page=2", f.a.liveKey, nil).wantError(t, 400, "ValidationError", "Additional properties are not allowed (page was unexpected)")
	})
}

// The Go API goes through the same checks and stores the same notification.
func TestSendEmailGoAPI(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		n, err := f.svc.SendEmail(f.ctx, f.a.id, f.a.emailTemplate.ID, "person@example.com", map[string]any{"name": "Ana"},
			WithReference("booking-1"), WithCreatedBy("Booking"))
		if err != nil {
			t.Fatal(err)
		}
		g := f.do("GET", "/v2/notifications/"+n.ID, f.a.liveKey, nil)
		if g.body["subject"] != "Hello Ana" || g.body["reference"] != "booking-1" || g.body["created_by_name"] != "Booking" {
			t.Fatalf("GET %s", g.raw)
		}
		_, err = f.svc.SendEmail(f.ctx, f.a.id, f.a.emailTemplate.ID, "person@example.com", nil)
		var se *SendError
		if !errorsAsV2(err, &se) || se.Status != http.StatusBadRequest || se.Message != "Missing personalisation: name" {
			t.Fatalf("missing personalisation: %v", err)
		}
		_, err = f.svc.SendEmail(f.ctx, f.a.id, f.b.emailTemplate.ID, "person@example.com", map[string]any{"name": "x"})
		if !errorsAsV2(err, &se) || se.Message != "Template not found" {
			t.Fatalf("other service's template: %v", err)
		}
		_, err = f.svc.SendEmail(f.ctx, f.a.id, f.a.emailTemplate.ID, "nobody", map[string]any{"name": "x"})
		if !errorsAsV2(err, &se) || se.Type != "ValidationError" || se.Message != "email_address Not a valid email address" {
			t.Fatalf("bad address: %v", err)
		}
		if _, err := f.svc.SendSMS(f.ctx, f.a.id, f.a.smsTemplate.ID, "07700900123", map[string]any{"name": "x"}); err != nil {
			t.Fatal(err)
		}
	})
}

func errorsAsV2(err error, target any) bool { return errors.As(err, target) }
