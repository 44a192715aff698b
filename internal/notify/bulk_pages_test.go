package notify_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/notify"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/secret"
	"github.com/commons-gov/commons/internal/web"
)

// The bulk sending pages, used as a person uses them: upload, check, send or schedule, follow,
// cancel and download, on both engines, signed in through the console.

type bulkHeldDelivery struct {
	river.WorkerDefaults[notify.DeliverArgs]
}

func (bulkHeldDelivery) Work(context.Context, *river.Job[notify.DeliverArgs]) error { return nil }

// eachBulkSite runs fn with the console serving Notify's pages and the bulk sending pages.
func eachBulkSite(t *testing.T, fn func(t *testing.T, s *pagesSite)) {
	t.Helper()
	keys, err := secret.ParseKeyring(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, migrateConsolePages, func(t *testing.T, d *db.DB) {
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		store := platform.New(d, keys)
		workers := river.NewWorkers()
		river.AddWorker(workers, bulkHeldDelivery{})
		river.AddWorker(workers, heldBatch{})
		jc, err := jobs.New(d, jobs.Config{Workers: workers, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		n := notify.New(notify.Config{DB: d, Jobs: jc, Platform: store, Keyring: keys, Logger: logger, Dev: true, BaseURL: "http://commons.test"})
		n.Now = func() time.Time { return pagesNow }
		n.RegisterBulkWorkers(workers)
		con, err := console.New(console.Config{Platform: store, Dev: true, BaseURL: "http://commons.test", Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		web.MountAssets(mux)
		con.Mount(mux)
		if err := n.MountConsole(mux, con); err != nil {
			t.Fatal(err)
		}
		if err := n.MountBulkConsole(mux, con); err != nil {
			t.Fatal(err)
		}
		stack, err := web.Stack(web.StackConfig{Logger: logger, BaseURL: "http://commons.test"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(stack(mux))
		t.Cleanup(srv.Close)
		s := &pagesSite{t: t, ctx: context.Background(), d: d, store: store, notify: n, srv: srv}
		if s.org, err = store.CreateOrganisation(s.ctx, platform.CLIActor, "Department for Testing"); err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
}

// liveService makes a live service with an email template, returning both.
func liveService(s *pagesSite, name string) (platform.Service, notify.Template) {
	s.t.Helper()
	svc, err := s.store.CreateService(s.ctx, platform.CLIActor, platform.NewService{Name: name, OrganisationID: s.org.ID, Live: true})
	if err != nil {
		s.t.Fatal(err)
	}
	tmpl, err := s.notify.CreateTemplate(s.ctx, svc.ID, "author@example.gov.uk", notify.TemplateInput{Name: "Reminder",
		Type: notify.Email, Subject: "Reminder for ((name))", Content: "Dear ((name)), please pay by ((date))."})
	if err != nil {
		s.t.Fatal(err)
	}
	return svc, tmpl
}

// upload submits the upload form as a browser does: a multipart body, same-origin.
func upload(b *pagesBrowser, path, templateID, fileName, file string) shown {
	b.s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("template", templateID); err != nil {
		b.s.t.Fatal(err)
	}
	if fileName != "" {
		fw, err := mw.CreateFormFile("file", fileName)
		if err != nil {
			b.s.t.Fatal(err)
		}
		_, _ = io.WriteString(fw, file)
	}
	if err := mw.Close(); err != nil {
		b.s.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", b.s.srv.URL+path, &body)
	if err != nil {
		b.s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// runBulk runs the bulk send job of a job, as River would.
func runBulk(s *pagesSite, serviceID, jobID string) {
	s.t.Helper()
	if err := s.notify.NewBulkWorker().Run(s.ctx, notify.BulkSendArgs{JobID: jobID, ServiceID: serviceID}); err != nil {
		s.t.Fatal(err)
	}
}

func TestBulkPagesUploadCheckSendAndReport(t *testing.T) {
	eachBulkSite(t, func(t *testing.T, s *pagesSite) {
		svc, tmpl := liveService(s, "Tax reminders")
		b := s.signIn("sender@example.gov.uk", false, []string{platform.SendMessages}, svc)
		base := "/admin/services/" + svc.ID + "/notify/bulk"

		b.get(base).expect(t, 200, "Send in bulk", "Reminder (Email)", `enctype="multipart/form-data"`, "No files have been uploaded yet")
		b.get(base+"/example.csv?template="+tmpl.ID).expect(t, 200, "email address,name,date")

		// A file with bad rows: every one is explained, and there is nothing to send.
		bad := "email address,name,date\nok@example.com,Jo,1 July\nnot-an-email,Sam,1 July\n,,\njo@example.com,,1 July\n"
		p := upload(b, base, tmpl.ID, "july.csv", bad).expect(t, 200, "There is a problem with july.csv",
			"2 rows need fixing before the file can be sent", "Not a valid email address", "No data in the ‘name’ column")
		jobPath := p.path
		if !strings.HasPrefix(jobPath, base+"/") {
			t.Fatalf("upload ended at %s", jobPath)
		}
		p.has(t, `<td class="govuk-table__cell govuk-table__cell--numeric">3</td>`, `<td class="govuk-table__cell govuk-table__cell--numeric">5</td>`).
			lacks(t, "Ready to send", "When should they be sent?")
		b.get(jobPath+"/problems.csv").expect(t, 200, "Row,Recipient,Problem", "3,not-an-email,Not a valid email address")
		b.post(jobPath+"/send", url.Values{"when": {"now"}}).expect(t, 422, "The file has problems")

		// A good file: ready to send, sent now, followed to the end, reported.
		good := "Email Address,Name,DATE\nok@example.com,Jo,1 July\nsam@example.com,Sam,2 July\n\nkim@example.com,Kim,3 July\n"
		p = upload(b, base, tmpl.ID, "good.csv", good).expect(t, 200, "Ready to send 3 emails", "When should they be sent?", "Send 3 emails")
		jobPath = p.path
		p = b.post(jobPath+"/send", url.Values{"when": {"now"}}).expect(t, 200, "Sending has started", `<progress id="progress"`,
			`value="0"`, "0 of 3 rows (0%) so far", "update this page every 10 seconds").at(t, jobPath).lacks(t, `http-equiv="refresh"`)
		b.get(jobPath+"?refresh=on").expect(t, 200, `<meta http-equiv="refresh" content="10">`, "Stop updating automatically")
		runBulk(s, svc.ID, strings.TrimPrefix(jobPath, base+"/"))
		b.get(jobPath+"?refresh=on").expect(t, 200, "3 of 3 rows (100%)", `value="3"`, "Download the report").
			lacks(t, `http-equiv="refresh"`, "Cancel sending")
		report := b.get(jobPath+"/report.csv").expect(t, 200, "Row,Recipient,Status,Notification ID", "2,ok@example.com,created,",
			"3,sam@example.com,created,", "5,kim@example.com,created,")
		if report.header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(report.header.Get("Content-Disposition"), "good-report.csv") {
			t.Fatalf("report headers %v", report.header)
		}
		b.get(base).expect(t, 200, "good.csv", "july.csv", "3 emails", "Not sent yet")
	})
}

func TestBulkPagesScheduleAndCancel(t *testing.T) {
	eachBulkSite(t, func(t *testing.T, s *pagesSite) {
		svc, tmpl := liveService(s, "Tax reminders")
		b := s.signIn("sender@example.gov.uk", false, []string{platform.SendMessages}, svc)
		base := "/admin/services/" + svc.ID + "/notify/bulk"
		jobPath := upload(b, base, tmpl.ID, "later.csv", "email address,name,date\na@example.com,A,B\n").expect(t, 200, "Ready to send 1 email").path

		p := b.post(jobPath+"/send", url.Values{"when": {"later"}, "time": {"9:30am"}}).expect(t, 422, "Enter the date to send on")
		if got := p.errorLinks(); len(got) != 1 || got[0] != "date-day" {
			t.Fatalf("error summary links %v", got)
		}
		b.post(jobPath+"/send", url.Values{"when": {"later"}, "date-day": {"31"}, "date-month": {"2"}, "date-year": {"2025"},
			"time": {"9:30am"}}).expect(t, 422, "Enter a real date")
		b.post(jobPath+"/send", url.Values{"when": {"later"}, "date-day": {"13"}, "date-month": {"6"}, "date-year": {"2025"},
			"time": {"25:00"}}).expect(t, 422, "Enter a time, for example 9:30am or 14:30")
		b.post(jobPath+"/send", url.Values{"when": {"later"}, "date-day": {"1"}, "date-month": {"7"}, "date-year": {"2025"},
			"time": {"9am"}}).expect(t, 422, "You can only schedule sending up to 7 days ahead")
		// 13 June 2025, 9:30am in London is 8:30 UTC.
		b.post(jobPath+"/send", url.Values{"when": {"later"}, "date-day": {"13"}, "date-month": {"6"}, "date-year": {"2025"},
			"time": {"9:30am"}}).expect(t, 200, "Sending is scheduled for 13 June 2025 at 9:30am", "Scheduled",
			"1 email will be sent on 13 June 2025 at 9:30am", "Cancel sending")
		b.get(jobPath+"/cancel").expect(t, 200, "Are you sure you want to cancel sending later.csv?", "Nothing will be sent")
		b.post(jobPath+"/cancel", url.Values{}).expect(t, 200, "Sending has been cancelled", "Cancelled on", "by sender@example.gov.uk").
			at(t, jobPath).lacks(t, "Cancel sending")
		runBulk(s, svc.ID, strings.TrimPrefix(jobPath, base+"/"))
		var n int
		if err := s.d.QueryRow(s.ctx, `SELECT count(*) FROM notify_notifications`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d notifications after cancelling, %v", n, err)
		}
	})
}

func TestBulkPagesUploadErrors(t *testing.T) {
	eachBulkSite(t, func(t *testing.T, s *pagesSite) {
		svc, tmpl := liveService(s, "Tax reminders")
		b := s.signIn("sender@example.gov.uk", false, []string{platform.SendMessages}, svc)
		base := "/admin/services/" + svc.ID + "/notify/bulk"
		p := upload(b, base, "", "", "").expect(t, 422, "Error: Send in bulk", "Choose a template", "Choose a CSV file of recipients")
		if got := p.errorLinks(); len(got) != 2 || got[0] != "template" || got[1] != "file" {
			t.Fatalf("error summary links %v", got)
		}
		upload(b, base, tmpl.ID, "people.xlsx", "PK...").expect(t, 422, "Save your spreadsheet as a CSV file")
		upload(b, base, tmpl.ID, "empty.csv", "").expect(t, 422, "The selected file is empty")
		upload(b, base, "00000000-0000-4000-8000-000000000000", "a.csv", "email address\n").expect(t, 422, "Choose one of your templates")
	})
}

// Only the service's team sees its files, and only those who may send can upload, send and
// cancel.
func TestBulkPagesAccess(t *testing.T) {
	eachBulkSite(t, func(t *testing.T, s *pagesSite) {
		svcA, tmplA := liveService(s, "Service A")
		svcB, _ := liveService(s, "Service B")
		sender := s.signIn("sender@example.gov.uk", false, []string{platform.SendMessages}, svcA)
		baseA := "/admin/services/" + svcA.ID + "/notify/bulk"
		jobPath := upload(sender, baseA, tmplA.ID, "a.csv", "email address,name,date\na@example.com,A,B\n").expect(t, 200, "Ready to send").path
		jobID := strings.TrimPrefix(jobPath, baseA+"/")

		viewer := s.signIn("viewer@example.gov.uk", false, []string{platform.ViewActivity}, svcA)
		viewer.get(baseA).expect(t, 200, "Send in bulk", "a.csv").lacks(t, "Upload and check the file")
		viewer.get(jobPath).expect(t, 200, "Ready to send").lacks(t, "When should they be sent?")
		viewer.post(jobPath+"/send", url.Values{"when": {"now"}}).expect(t, 403)
		viewer.post(jobPath+"/cancel", url.Values{}).expect(t, 403)

		other := s.signIn("other@example.gov.uk", false, []string{platform.SendMessages}, svcB)
		other.get(jobPath).expect(t, 404)
		other.get(jobPath+"/report.csv").expect(t, 404)
		baseB := "/admin/services/" + svcB.ID + "/notify/bulk"
		other.get(baseB+"/"+jobID).expect(t, 404)
		other.get(baseB+"/"+jobID+"/report.csv").expect(t, 404)
		other.post(baseB+"/"+jobID+"/send", url.Values{"when": {"now"}}).expect(t, 404)
		other.post(baseB+"/"+jobID+"/cancel", url.Values{}).expect(t, 404)
		other.get(baseB).expect(t, 200).lacks(t, "a.csv")
		upload(other, baseB, tmplA.ID, "x.csv", "email address\nx@example.com\n").expect(t, 422, "Choose one of your templates")

		j, err := s.notify.BulkJob(s.ctx, svcA.ID, jobID)
		if err != nil || j.Status != notify.BulkPending {
			t.Fatalf("A's job after B's attempts: %+v, %v", j, err)
		}
	})
}
