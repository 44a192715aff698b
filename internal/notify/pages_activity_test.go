package notify_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/notify"
	"github.com/commons-gov/commons/internal/platform"
)

func TestDashboardCountsTheLastSevenDays(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc, other := s.service("Report a pothole"), s.service("Someone else")
		b := s.signIn("viewer@example.gov.uk", false, []string{platform.ViewActivity}, svc)
		// Today in the UK began at 23:00 UTC yesterday (summer time).
		today := time.Date(2025, 6, 11, 23, 0, 0, 0, time.UTC)
		n := 0
		add := func(serviceID, typ, status string, key apiauth.KeyType, at time.Time) {
			n++
			to := fmt.Sprintf("person%d@example.com", n)
			if typ == "sms" {
				to = "07700900123"
			}
			s.insertSent(sentRow{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), ServiceID: serviceID, Type: typ,
				Status: status, To: to, KeyType: key, CreatedAt: at})
		}
		add(svc.ID, "email", notify.StatusDelivered, apiauth.Live, today.Add(time.Hour))
		add(svc.ID, "email", notify.StatusDelivered, apiauth.Team, today.Add(2*time.Hour))
		add(svc.ID, "email", notify.StatusPermanentFailure, apiauth.Live, today.Add(-time.Minute)) // yesterday, UK time
		add(svc.ID, "email", notify.StatusSending, apiauth.Live, today.AddDate(0, 0, -6))          // first day shown
		add(svc.ID, "email", notify.StatusDelivered, apiauth.Live, today.AddDate(0, 0, -6).Add(-time.Second))
		add(svc.ID, "email", notify.StatusDelivered, apiauth.Test, today.Add(time.Hour))
		add(svc.ID, "email", notify.StatusCancelled, apiauth.Live, today.Add(time.Hour))
		add(svc.ID, "sms", notify.StatusTemporaryFailure, apiauth.Live, today.Add(time.Hour))
		add(other.ID, "email", notify.StatusDelivered, apiauth.Live, today.Add(time.Hour))

		page := b.get("/admin/services/"+svc.ID+"/notify").expect(t, 200, "Dashboard",
			`role="img"`, `<title id="email-chart-title">Emails sent each day for the last 7 days</title>`,
			"6 June to 12 June 2025")
		totals := func(channel string) string {
			return pageText(page.find(t, `(?s)id="`+channel+`-totals">(.*?)</p>`))
		}
		if got := totals("email"); got != "4 sent, 2 delivered, 1 failed, 1 still sending" {
			t.Fatalf("email totals %q", got)
		}
		if got := totals("sms"); got != "1 sent, 0 delivered, 1 failed" {
			t.Fatalf("text message totals %q", got)
		}
		if got := totals("letter"); got != "0 sent, 0 delivered, 0 failed" {
			t.Fatalf("letter totals %q", got)
		}
		desc := page.find(t, `<desc id="email-chart-desc">([^<]*)</desc>`)
		for _, want := range []string{"Thursday 12 June: 2 sent, 2 delivered, 0 failed", "Wednesday 11 June: 1 sent, 0 delivered, 1 failed",
			"Friday 6 June: 1 sent, 0 delivered, 0 failed"} {
			if !strings.Contains(desc, want) {
				t.Fatalf("chart description lacks %q: %s", want, desc)
			}
		}
		page.has(t, `href="/admin/services/`+svc.ID+`/notify/notifications?type=email&amp;status=failed"`)
		if strings.Contains(page.body, "style=") {
			t.Fatal("the dashboard uses style attributes, which the Content-Security-Policy refuses")
		}
		// The tallest bar of the week reaches the top of the chart.
		if !regexp.MustCompile(`<rect x="\d+" y="24" width="48" height="\d+" fill="#00703c"/>`).MatchString(page.body) {
			t.Fatalf("no bar reaches the top:\n%s", page.find(t, `(?s)(<svg viewBox.*?</svg>)`))
		}
	})
}

func TestNotificationSearchAndDetail(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc, other := s.service("Report a pothole"), s.service("Someone else")
		b := s.signIn("viewer@example.gov.uk", false, []string{platform.ViewActivity}, svc)
		base := "/admin/services/" + svc.ID + "/notify/notifications"
		b.get(base).expect(t, 200, "This service has not sent any messages yet")

		start := pagesNow.Add(-2 * time.Hour)
		for i := range 55 {
			s.insertSent(sentRow{ID: fmt.Sprintf("10000000-0000-4000-8000-%012d", i), ServiceID: svc.ID, Type: "email",
				Status: notify.StatusDelivered, To: fmt.Sprintf("resident%02d@example.com", i), Reference: fmt.Sprintf("ref-%02d", i),
				CreatedAt: start.Add(time.Duration(i) * time.Minute)})
		}
		s.insertSent(sentRow{ID: "20000000-0000-4000-8000-000000000001", ServiceID: svc.ID, Type: "sms", Status: notify.StatusPermanentFailure,
			To: "07700 900456", Reference: "text-1", Body: "Your pothole is fixed", CreatedAt: pagesNow.Add(-time.Minute)})
		s.insertSent(sentRow{ID: "20000000-0000-4000-8000-000000000002", ServiceID: svc.ID, Type: "letter", Status: notify.StatusCreated,
			To: "A Resident\n1 Lane\nLeeds\nLS1 1AA", Subject: "Pothole repaired", Body: "We fixed it.", Postage: "second",
			CreatedAt: pagesNow.Add(-30 * time.Second)})
		s.insertSent(sentRow{ID: "30000000-0000-4000-8000-000000000001", ServiceID: other.ID, Type: "email", Status: notify.StatusDelivered,
			To: "resident01@example.com", Reference: "ref-01", CreatedAt: pagesNow})

		// Newest first, 50 a page, with a link to the older ones.
		first := b.get(base).expect(t, 200, "A Resident", "07700 900456", "resident54@example.com", `rel="next"`)
		first.lacks(t, "resident02@example.com")
		older := b.get(first.find(t, `href="([^"]+)" rel="next"`)).expect(t, 200, "resident02@example.com", "resident00@example.com", `rel="prev"`)
		older.lacks(t, "resident54@example.com", `rel="next"`)

		// Searching by recipient finds the form it was stored in, whatever the case or spacing.
		search := func(q url.Values) []string {
			t.Helper()
			p := b.get(base+"?"+q.Encode()).expect(t, 200)
			var ids []string
			for _, m := range regexp.MustCompile(`href="`+regexp.QuoteMeta(base)+`/([0-9a-f-]{36})"`).FindAllStringSubmatch(p.body, -1) {
				ids = append(ids, m[1])
			}
			return ids
		}
		if got := search(url.Values{"to": {"Resident01@Example.com"}}); !slices.Equal(got, []string{"10000000-0000-4000-8000-000000000001"}) {
			t.Fatalf("search by email found %v", got)
		}
		if got := search(url.Values{"to": {"+44 7700 900456"}}); !slices.Equal(got, []string{"20000000-0000-4000-8000-000000000001"}) {
			t.Fatalf("search by phone found %v", got)
		}
		if got := search(url.Values{"to": {"ls1 1aa"}}); !slices.Equal(got, []string{"20000000-0000-4000-8000-000000000002"}) {
			t.Fatalf("search by address found %v", got)
		}
		if got := search(url.Values{"to": {"100%_"}}); len(got) != 0 {
			t.Fatalf("LIKE wildcards in the search matched %v", got)
		}
		if got := search(url.Values{"reference": {"ref-07"}}); !slices.Equal(got, []string{"10000000-0000-4000-8000-000000000007"}) {
			t.Fatalf("search by reference found %v", got)
		}
		if got := search(url.Values{"status": {"failed"}}); !slices.Equal(got, []string{"20000000-0000-4000-8000-000000000001"}) {
			t.Fatalf("search by status found %v", got)
		}
		if got := search(url.Values{"type": {"letter"}, "status": {"sending"}}); !slices.Equal(got, []string{"20000000-0000-4000-8000-000000000002"}) {
			t.Fatalf("search by type and status found %v", got)
		}
		b.get(base+"?status=lost").expect(t, 422, `href="#status"`)
		b.get(base+"?to=nobody@example.com").expect(t, 200, "No messages match your search.")

		// One message: what was sent and every change of its status.
		id := "20000000-0000-4000-8000-000000000001"
		s.statusEvent(id, svc.ID, notify.StatusSending, "", pagesNow.Add(-50*time.Second))
		s.statusEvent(id, svc.ID, notify.StatusPermanentFailure, "The number does not exist", pagesNow.Add(-40*time.Second))
		if _, err := s.d.Exec(s.ctx, `INSERT INTO notify_callback_attempts (id, service_id, callback_type, subject_id,
			attempt, url, status_code, error, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			"attempt-1", svc.ID, notify.CallbackDeliveryStatus, id, 1, "https://api.example.gov.uk/cb", 503, "", 80, pagesNow); err != nil {
			t.Fatal(err)
		}
		detail := b.get(base+"/"+id).expect(t, 200, "Text message to 07700 900456", "Your pothole is fixed",
			"Phone number does not exist", "The number does not exist", "text-1", "HTTP 503")
		history := detail.find(t, `(?s)<table class="govuk-table" id="status-history">(.*?)</table>`)
		if a, b := strings.Index(history, "Queued"), strings.Index(history, "Sending"); a < 0 || b < a {
			t.Fatalf("status history is not oldest first:\n%s", pageText(history))
		}
		b.get(base+"/20000000-0000-4000-8000-000000000002").expect(t, 200, "Letter to A Resident", "Waiting to be printed",
			"LS1 1AA", "Pothole repaired", "Second class")
		// Another service's message is not found here, nor is one that does not exist.
		b.get(base+"/30000000-0000-4000-8000-000000000001").expect(t, 404)
		b.get(base+"/nothing").expect(t, 404)
		b.get(base+"?before=30000000-0000-4000-8000-000000000001").expect(t, 404)
	})
}

func TestLettersPrintBatch(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc, other := s.service("Pay a fine"), s.service("Someone else")
		b := s.signIn("sender@example.gov.uk", false, []string{platform.SendMessages}, svc)
		base := "/admin/services/" + svc.ID + "/notify/letters"
		b.get(base).expect(t, 200, "No letters are waiting to be printed.").lacks(t, "batch.zip")

		letter := func(id, serviceID, status string, key apiauth.KeyType, ref string, age time.Duration) {
			s.insertSent(sentRow{ID: id, ServiceID: serviceID, Type: "letter", Status: status, KeyType: key, Reference: ref,
				To: "Ms A Person\n10 Downing Street\nLondon\nSW1A 2AA", Subject: "Your fine", Body: "Dear Ms Person,\n\nPlease pay **£60**.",
				ReplyTo: "Fines Office\nLeeds", Postage: "first", CreatedAt: pagesNow.Add(-age)})
		}
		letter("40000000-0000-4000-8000-000000000001", svc.ID, notify.StatusCreated, apiauth.Live, "fine-1", time.Hour)
		letter("40000000-0000-4000-8000-000000000002", svc.ID, notify.StatusCreated, apiauth.Team, "fine-2", 2*time.Hour)
		letter("40000000-0000-4000-8000-000000000003", svc.ID, notify.StatusCreated, apiauth.Test, "fine-test", time.Hour)
		letter("40000000-0000-4000-8000-000000000004", svc.ID, notify.StatusDelivered, apiauth.Live, "fine-printed", time.Hour)
		letter("40000000-0000-4000-8000-000000000005", other.ID, notify.StatusCreated, apiauth.Live, "fine-other", time.Hour)

		page := b.get(base).expect(t, 200, "2 letters are waiting to be printed.", "Download the print batch (2 letters)",
			"Ms A Person", "SW1A 2AA", "First class", "fine-1", "fine-2")
		page.lacks(t, "fine-test", "fine-printed", "fine-other")
		// A sender cannot see the message pages, so the list does not link to them.
		page.lacks(t, "/notify/notifications/")

		zipped := b.get(base+"/batch.zip").expect(t, 200)
		if ct, cd := zipped.header.Get("Content-Type"), zipped.header.Get("Content-Disposition"); ct != "application/zip" ||
			cd != `attachment; filename="print-batch-2025-06-12.zip"` {
			t.Fatalf("download headers %q, %q", ct, cd)
		}
		zr, err := zip.NewReader(bytes.NewReader([]byte(zipped.body)), int64(len(zipped.body)))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		var manifest [][]string
		for _, f := range zr.File {
			names = append(names, f.Name)
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case f.Name == "manifest.csv":
				if manifest, err = csv.NewReader(bytes.NewReader(body)).ReadAll(); err != nil {
					t.Fatal(err)
				}
			case !bytes.HasPrefix(body, []byte("%PDF-")):
				t.Fatalf("%s is not a PDF", f.Name)
			}
		}
		// Oldest first, after the manifest.
		want := []string{"manifest.csv", "40000000-0000-4000-8000-000000000002.pdf", "40000000-0000-4000-8000-000000000001.pdf"}
		if !slices.Equal(names, want) {
			t.Fatalf("batch holds %v, want %v", names, want)
		}
		if len(manifest) != 3 || manifest[1][0] != "40000000-0000-4000-8000-000000000002" || manifest[1][1] != "fine-2" ||
			manifest[1][2] != "first" || manifest[1][5] != "Ms A Person" || manifest[1][8] != "SW1A 2AA" {
			t.Fatalf("manifest %v", manifest)
		}

		// Someone who may see activity gets links to each letter's page.
		v := s.signIn("viewer@example.gov.uk", false, []string{platform.ViewActivity, platform.SendMessages}, svc)
		v.get(base).expect(t, 200, `href="/admin/services/`+svc.ID+`/notify/notifications/40000000-0000-4000-8000-000000000001"`)
	})
}
