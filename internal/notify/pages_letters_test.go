package notify_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/notify"
	"github.com/commons-gov/commons/internal/platform"
)

// letterRow stores a live letter in the given status, as sending and printing would have.
func (s *pagesSite) letterRow(id, serviceID, status, ref string, age time.Duration) {
	s.t.Helper()
	s.insertSent(sentRow{ID: id, ServiceID: serviceID, Type: "letter", Status: status, KeyType: apiauth.Live, Reference: ref,
		To: "Ms A Person\n10 Downing Street\nLondon\nSW1A 2AA", Subject: "Your fine", Body: "Dear Ms Person,\n\nPlease pay **£60**.",
		Postage: "second", CreatedAt: pagesNow.Add(-age)})
}

// crossSitePost submits a form as another site's page would: the console refuses it.
func (b *pagesBrowser) crossSitePost(path string) shown {
	b.s.t.Helper()
	req, err := http.NewRequest("POST", b.s.srv.URL+path, strings.NewReader(""))
	if err != nil {
		b.s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://elsewhere.example")
	return b.do(req)
}

func (s *pagesSite) status(id string) string {
	s.t.Helper()
	var st string
	if err := s.d.QueryRow(s.ctx, `SELECT status FROM notify_notifications WHERE id = ?`, id).Scan(&st); err != nil {
		s.t.Fatal(err)
	}
	return st
}

// After downloading the print batch a team member marks it as sent to print, then as posted;
// each step moves exactly the batch's letters, once.
func TestPrintBatchMarkedSentAndPosted(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc, other := s.service("Pay a fine"), s.service("Someone else")
		sender := s.signIn("sender@example.gov.uk", false, []string{platform.SendMessages}, svc)
		base := "/admin/services/" + svc.ID + "/notify/letters"
		const first, second, later = "40000000-0000-4000-8000-000000000001", "40000000-0000-4000-8000-000000000002", "40000000-0000-4000-8000-000000000003"
		s.letterRow(first, svc.ID, notify.StatusCreated, "fine-1", 2*time.Hour)
		s.letterRow(second, svc.ID, notify.StatusCreated, "fine-2", time.Hour)
		sender.get(base).expect(t, 200, "2 letters are waiting to be printed.", `href="`+base+`/returned"`).lacks(t, `id="print-batches"`)

		sender.get(base+"/batch.zip").expect(t, 200)
		s.letterRow(later, svc.ID, notify.StatusCreated, "fine-3", 0) // arrives after the download
		page := sender.get(base).expect(t, 200, "3 letters are waiting to be printed.", "Print batches", "Downloaded",
			"by sender@example.gov.uk", "Mark as sent to print")
		batch := page.find(t, `action="`+base+`/batches/([0-9a-f-]+)/printed"`)

		// Another site cannot submit the button for the team member.
		if got := sender.crossSitePost(base + "/batches/" + batch + "/printed"); got.status != http.StatusForbidden {
			t.Errorf("a cross-site post answered %d, want 403", got.status)
		}
		// Someone who may only look at activity cannot mark it; nor can another service's team.
		viewer := s.signIn("viewer@example.gov.uk", false, []string{platform.ViewActivity}, svc)
		viewer.post(base+"/batches/"+batch+"/printed", nil).expect(t, 403)
		outsider := s.signIn("outsider@example.gov.uk", false, []string{platform.SendMessages}, other)
		outsider.post(base+"/batches/"+batch+"/printed", nil).expect(t, 404)
		theirs := "/admin/services/" + other.ID + "/notify/letters"
		outsider.post(theirs+"/batches/"+batch+"/printed", nil).expect(t, 404)
		outsider.post(theirs+"/batches/"+uuid.NewString()+"/posted", nil).expect(t, 404)
		if got := s.status(first); got != notify.StatusCreated {
			t.Fatalf("the letter was moved to %s before anyone in the team marked the batch", got)
		}

		// Posting comes after printing.
		sender.post(base+"/batches/"+batch+"/posted", nil).expect(t, 409, "Mark the batch as sent to print before marking it as posted")
		sender.post(base+"/batches/"+batch+"/printed", nil).expect(t, 200, "2 letters marked as sent to print",
			"1 letter is waiting to be printed.", "Sent to print", "Mark as posted").at(t, base)
		for id, want := range map[string]string{first: notify.StatusSending, second: notify.StatusSending, later: notify.StatusCreated} {
			if got := s.status(id); got != want {
				t.Errorf("%s is %s, want %s", id, got, want)
			}
		}
		sender.post(base+"/batches/"+batch+"/printed", nil).expect(t, 200, "This batch had already been marked as sent to print")

		sender.post(base+"/batches/"+batch+"/posted", nil).expect(t, 200, "2 letters marked as posted", "Posted").lacks(t, "Mark as posted")
		sender.post(base+"/batches/"+batch+"/posted", nil).expect(t, 200, "This batch had already been marked as posted")
		if got := s.status(first); got != notify.StatusDelivered {
			t.Errorf("after posting: %s", got)
		}
		v := s.signIn("activity@example.gov.uk", false, []string{platform.ViewActivity}, svc)
		v.get("/admin/services/"+svc.ID+"/notify/notifications/"+first).expect(t, 200, "Printed and posted",
			"Sent to print by sender@example.gov.uk", "Posted by the printer, recorded by sender@example.gov.uk")
	})
}

// Returned letters are recorded from a list, with what happened to each line.
func TestReturnedLettersPage(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc := s.service("Pay a fine")
		b := s.signIn("sender@example.gov.uk", false, []string{platform.SendMessages, platform.ViewActivity}, svc)
		base := "/admin/services/" + svc.ID + "/notify/letters/returned"
		const posted, byRef, waiting = "50000000-0000-4000-8000-000000000001", "50000000-0000-4000-8000-000000000002", "50000000-0000-4000-8000-000000000003"
		s.letterRow(posted, svc.ID, notify.StatusDelivered, "fine-1", 48*time.Hour)
		s.letterRow(byRef, svc.ID, notify.StatusDelivered, "fine-2", 48*time.Hour)
		s.letterRow(waiting, svc.ID, notify.StatusCreated, "fine-3", time.Hour)

		b.get(base).expect(t, 200, "Returned letters", "No letters have been recorded as returned.", "Notification IDs or references")
		invalid := b.post(base, url.Values{"letters": {"  \n "}}).expect(t, 422, "Enter the notification ID or reference of at least one returned letter")
		if links := invalid.errorLinks(); len(links) != 1 || links[0] != "letters" {
			t.Errorf("error summary links to %v", links)
		}
		done := b.post(base, url.Values{"letters": {posted + "\r\nfine-2\r\nfine-9\r\n" + waiting + "\r\n"}}).expect(t, 200,
			"2 letters recorded as returned", "Recorded as returned", "Not recorded: no letter has this notification ID or reference",
			"Not recorded: the letter has not been posted (waiting to be printed)", "Letters recorded as returned",
			`href="/admin/services/`+svc.ID+`/notify/notifications/`+posted+`"`)
		done.lacks(t, "No letters have been recorded as returned.")
		if got, ref := s.status(posted), s.status(byRef); got != notify.StatusReturnedLetter || ref != notify.StatusReturnedLetter {
			t.Errorf("statuses %s and %s, want returned-letter", got, ref)
		}
		b.post(base, url.Values{"letters": {posted}}).expect(t, 200, "Already recorded as returned").lacks(t, "recorded as returned</p>")
		b.get("/admin/services/"+svc.ID+"/notify/notifications/"+posted).expect(t, 200, "Returned",
			"Returned to the service, recorded by sender@example.gov.uk")
		viewer := s.signIn("viewer@example.gov.uk", false, []string{platform.ViewActivity}, svc)
		viewer.get(base).expect(t, 403)
		viewer.post(base, url.Values{"letters": {posted}}).expect(t, 403)
	})
}

// The dashboard lists complaints about the service's emails, and the callback log shows the
// new kinds of callback about their messages.
func TestComplaintsAndNewCallbacksShown(t *testing.T) {
	eachPagesSite(t, func(t *testing.T, s *pagesSite) {
		svc, other := s.service("Pay a fine"), s.service("Someone else")
		b := s.signIn("manager@example.gov.uk", false, []string{platform.ManageService}, svc)
		const email, theirs = "60000000-0000-4000-8000-000000000001", "60000000-0000-4000-8000-000000000002"
		s.insertSent(sentRow{ID: email, ServiceID: svc.ID, Type: "email", Status: notify.StatusDelivered, To: "jo@example.com",
			Reference: "fine-email", Subject: "Your fine", CreatedAt: pagesNow.Add(-time.Hour)})
		s.insertSent(sentRow{ID: theirs, ServiceID: other.ID, Type: "email", Status: notify.StatusDelivered, To: "sam@example.com",
			Subject: "Theirs", CreatedAt: pagesNow.Add(-time.Hour)})
		dashboard := "/admin/services/" + svc.ID + "/notify"
		b.get(dashboard).expect(t, 200).lacks(t, "Email complaints")
		for _, c := range [][2]string{{email, svc.ID}, {theirs, other.ID}} {
			if _, err := s.d.Exec(s.ctx, `INSERT INTO notify_complaints (id, service_id, notification_id, complaint_type, complaint_date, created_at)
				VALUES (?, ?, ?, 'abuse', ?, ?)`, uuid.NewString(), c[1], c[0], pagesNow.Add(-time.Minute), pagesNow); err != nil {
				t.Fatal(err)
			}
		}
		b.get(dashboard).expect(t, 200, "Email complaints", `href="`+dashboard+`/notifications/`+email+`"`, "jo@example.com",
			"fine-email", "12 June 2025 at 3:29pm").lacks(t, "sam@example.com")

		for i, typ := range []string{notify.CallbackComplaint, notify.CallbackReturnedLetter} {
			if _, err := s.d.Exec(s.ctx, `INSERT INTO notify_callback_attempts (id, service_id, callback_type, subject_id, attempt, url,
				status_code, error, duration_ms, created_at) VALUES (?, ?, ?, ?, 1, ?, 200, '', 12, ?)`,
				uuid.NewString(), svc.ID, typ, email, "https://service.example/"+typ, pagesNow.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		log := b.get(dashboard+"/settings/callbacks/attempts").expect(t, 200, "Email complaints", "Returned letters",
			"https://service.example/complaint")
		if n := strings.Count(log.body, `href="`+dashboard+`/notifications/`+email+`"`); n != 2 {
			t.Errorf("the log links to the message %d times, want 2", n)
		}
	})
}
