package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// Bulk sending on both engines: a file checked, sent now or scheduled, cancelled, resumed after
// a crash without sending any row twice, stopped at the daily limit, and kept to its service.

// bulkFixture is the /v2 fixture (two live services with keys and a template of each channel)
// with a jobs client that knows the bulk send job, and an uploader.
type bulkFixture struct {
	*v2Fixture
	uploader platform.User
}

// bulkHoldDelivery stands in for delivery: these tests look at what a bulk send stores and
// queues.
type bulkHoldDelivery struct {
	river.WorkerDefaults[DeliverArgs]
}

func (bulkHoldDelivery) Work(context.Context, *river.Job[DeliverArgs]) error { return nil }

func eachBulk(t *testing.T, fn func(t *testing.T, f *bulkFixture)) {
	dbtest.Each(t, migrateV2, func(t *testing.T, d *db.DB) {
		v := newV2Fixture(t, d)
		f := &bulkFixture{v2Fixture: v}
		f.svc.cfg.Jobs = f.jobsClient(false)
		u, err := f.platform.CreateUser(f.ctx, platform.CLIActor, "sender@example.gov.uk", false)
		if err != nil {
			t.Fatal(err)
		}
		f.uploader = u
		fn(t, f)
	})
}

// jobsClient returns a client that knows delivery and bulk send jobs; work makes it run them.
func (f *bulkFixture) jobsClient(work bool) *jobs.Client {
	f.t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, bulkHoldDelivery{})
	river.AddWorker(workers, v2HoldBatch{})
	f.svc.RegisterBulkWorkers(workers)
	jc, err := jobs.New(f.d, jobs.Config{Workers: workers, Work: work, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		FetchPollInterval: 50 * time.Millisecond})
	if err != nil {
		f.t.Fatal(err)
	}
	return jc
}

// upload stores a file for a template as the uploader.
func (f *bulkFixture) upload(serviceID, templateID, file string) BulkJob {
	f.t.Helper()
	j, err := f.svc.UploadBulkFile(f.ctx, serviceID, BulkUpload{TemplateID: templateID, FileName: "people.csv",
		Data: []byte(file), By: f.uploader})
	if err != nil {
		f.t.Fatal(err)
	}
	return j
}

// worker returns a worker storing batch rows a transaction.
func (f *bulkFixture) worker(batch int) *BulkWorker {
	w := f.svc.NewBulkWorker()
	w.Batch = batch
	return w
}

func (f *bulkFixture) job(serviceID, id string) BulkJob {
	f.t.Helper()
	j, err := f.svc.BulkJob(f.ctx, serviceID, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return j
}

// emailFile writes a file of n valid rows for the fixture's email template (((name))).
func emailFile(n int) string {
	var b strings.Builder
	b.WriteString("email address,name\n")
	for i := range n {
		fmt.Fprintf(&b, "person%d@example.com,Person %d\n", i+1, i+1)
	}
	return b.String()
}

// jobRows lists the row numbers of a job's notifications, in order.
func (f *bulkFixture) jobRows(jobID string) []int {
	f.t.Helper()
	rows, err := f.d.Query(f.ctx, `SELECT job_row FROM notify_notifications WHERE job_id = ? ORDER BY job_row`, jobID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func wantRows(t *testing.T, got []int, from, to int) {
	t.Helper()
	if len(got) != to-from+1 {
		t.Fatalf("rows %v, want %d to %d", got, from, to)
	}
	for i, n := range got {
		if n != from+i {
			t.Fatalf("rows %v, want %d to %d", got, from, to)
		}
	}
}

func TestBulkBadRowsAreExplainedAndNothingIsSent(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		file := "Email Address,NAME\nok@example.com,Jo\nnot-an-email,Sam\n\nkim@example.com,\n"
		j := f.upload(f.a.id, f.a.emailTemplate.ID, file)
		if j.Status != BulkPending || j.Rows != 3 || j.Type != Email || j.CreatedByName != "sender@example.gov.uk" {
			t.Fatalf("job %+v", j)
		}
		check, err := f.svc.CheckBulkJob(f.ctx, j, 10)
		if err != nil {
			t.Fatal(err)
		}
		if check.Sendable() || check.Summary.BadRows != 2 || len(check.BadRows) != 2 {
			t.Fatalf("check %+v", check)
		}
		if r := check.BadRows[0]; r.Number != 3 || r.Recipient != "not-an-email" || r.Problems[0] != "Not a valid email address" {
			t.Fatalf("first bad row %+v", r)
		}
		if r := check.BadRows[1]; r.Number != 5 || r.Problems[0] != "No data in the ‘NAME’ column" {
			t.Fatalf("second bad row %+v", r)
		}
		_, err = f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, nil)
		if !failure.Is(err, failure.Invalid) {
			t.Fatalf("sending a file with bad rows: %v", err)
		}
		if n := f.count(`SELECT count(*) FROM notify_notifications`); n != 0 {
			t.Fatalf("%d notifications", n)
		}
		if n := f.count(`SELECT count(*) FROM river_job WHERE kind = ?`, BulkSendArgs{}.Kind()); n != 0 {
			t.Fatalf("%d bulk send jobs queued", n)
		}
		// A file whose columns do not match the template is a problem with the whole file.
		j = f.upload(f.a.id, f.a.smsTemplate.ID, "email address\nok@example.com\n")
		check, err = f.svc.CheckBulkJob(f.ctx, j, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Your file needs a column called ‘phone number’.",
			"Your file is missing a column called ‘name’. Every ((placeholder)) in the template needs a column of its own."}
		if fmt.Sprint(check.Problems) != fmt.Sprint(want) {
			t.Fatalf("problems %q", check.Problems)
		}
	})
}

func TestBulkSendNow(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		j := f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(7))
		j, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != BulkInProgress || j.StartedAt == nil {
			t.Fatalf("job %+v", j)
		}
		if n := f.count(`SELECT count(*) FROM river_job WHERE kind = ?`, BulkSendArgs{}.Kind()); n != 1 {
			t.Fatalf("%d bulk send jobs queued, want 1", n)
		}
		if err := f.worker(3).Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.a.id}); err != nil {
			t.Fatal(err)
		}
		j = f.job(f.a.id, j.ID)
		if j.Status != BulkFinished || j.RowsDone != 7 || j.Sent != 7 || j.Skipped != 0 || j.FinishedAt == nil {
			t.Fatalf("job %+v", j)
		}
		wantRows(t, f.jobRows(j.ID), 2, 8)
		var n Notification
		var keyType, typ string
		err = f.d.QueryRow(f.ctx, `SELECT recipient, normalised_to, body, subject, key_type, notification_type, created_by_name,
			template_version FROM notify_notifications WHERE job_id = ? AND job_row = 3`, j.ID).Scan(&n.Recipient, &n.NormalisedTo,
			&n.Body, &n.Subject, &keyType, &typ, &n.CreatedByName, &n.TemplateVersion)
		if err != nil {
			t.Fatal(err)
		}
		if n.Recipient != "person2@example.com" || n.Subject != "Hello Person 2" || !strings.HasPrefix(n.Body, "Hello Person 2") ||
			keyType != "live" || typ != "email" || n.CreatedByName != "sender@example.gov.uk" || n.TemplateVersion != 1 {
			t.Fatalf("notification %+v, key type %s, type %s", n, keyType, typ)
		}
		for query, want := range map[string]int{
			`SELECT count(*) FROM notify_status_events WHERE notification_id IN (SELECT id FROM notify_notifications WHERE job_id = ?)`: 7,
			`SELECT count(*) FROM notify_bulk_files WHERE job_id = ?`:                                                                   0,
		} {
			if got := f.count(query, j.ID); got != want {
				t.Fatalf("%s: %d, want %d", query, got, want)
			}
		}
		if got := f.count(`SELECT count(*) FROM notify_notifications n WHERE job_id = ? AND EXISTS (SELECT 1 FROM river_job j
			WHERE j.kind = 'notify.deliver_batch' AND CAST(j.args AS TEXT) LIKE '%' || n.id || '%')`, j.ID); got != 7 {
			t.Fatalf("%d deliveries queued, want 7", got)
		}
		if got := f.count(`SELECT sent FROM notify_daily_counts WHERE service_id = ? AND channel = 'email'`, f.a.id); got != 7 {
			t.Fatalf("daily count %d, want 7", got)
		}

		// The API lists a job's notifications only when asked (notify.md §2.7).
		r := f.do("GET", "/v2/notifications", f.a.liveKey, nil)
		r.want(t, 200)
		if got := len(r.body["notifications"].([]any)); got != 0 {
			t.Fatalf("listed %d job notifications without include_jobs", got)
		}
		r = f.do("GET", "/v2/notifications?include_jobs=true", f.a.liveKey, nil)
		r.want(t, 200)
		if got := len(r.body["notifications"].([]any)); got != 7 {
			t.Fatalf("listed %d job notifications with include_jobs, want 7", got)
		}

		var report strings.Builder
		if err := f.svc.WriteBulkReport(f.ctx, j, &report); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(report.String()), "\n")
		if len(lines) != 8 || strings.TrimSpace(lines[0]) != "Row,Recipient,Status,Notification ID" ||
			!strings.HasPrefix(lines[1], "2,person1@example.com,created,") {
			t.Fatalf("report:\n%s", report.String())
		}
		// A finished job is not sent again.
		if _, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, nil); !failure.Is(err, failure.Conflict) {
			t.Fatalf("sending a finished job again: %v", err)
		}
	})
}

func TestBulkScheduleAndCancel(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		j := f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(3))
		now := f.clock.Now()
		for _, at := range []time.Time{now.Add(-time.Minute), now.Add(BulkScheduleWindow + time.Minute)} {
			if _, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, &at); len(web.FieldErrors(err)) != 1 {
				t.Fatalf("scheduling for %s: %v", at, err)
			}
		}
		at := now.Add(26 * time.Hour)
		j, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, &at)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != BulkScheduled || j.ScheduledFor == nil || !j.ScheduledFor.Equal(at.Truncate(time.Microsecond)) || j.StartedAt != nil {
			t.Fatalf("job %+v", j)
		}
		var scheduled time.Time
		if err := f.d.QueryRow(f.ctx, `SELECT scheduled_at FROM river_job WHERE kind = ?`, BulkSendArgs{}.Kind()).Scan(&scheduled); err != nil {
			t.Fatal(err)
		}
		if d := scheduled.Sub(at); d < -time.Second || d > time.Second {
			t.Fatalf("bulk send job scheduled at %s, want %s", scheduled, at)
		}

		j, err = f.svc.CancelBulkJob(f.ctx, f.a.id, j.ID, "canceller@example.gov.uk")
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != BulkCancelled || j.CancelledByName != "canceller@example.gov.uk" || j.CancelledAt == nil {
			t.Fatalf("job %+v", j)
		}
		// When its time comes the job finds it was cancelled and sends nothing.
		if err := f.worker(2).Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.a.id}); err != nil {
			t.Fatal(err)
		}
		if n := f.count(`SELECT count(*) FROM notify_notifications`); n != 0 {
			t.Fatalf("%d notifications from a cancelled job", n)
		}
		if n := f.count(`SELECT count(*) FROM notify_bulk_files`); n != 0 {
			t.Fatal("a cancelled job's file is kept")
		}
		if _, err := f.svc.CancelBulkJob(f.ctx, f.a.id, j.ID, "x"); !failure.Is(err, failure.Conflict) {
			t.Fatalf("cancelling twice: %v", err)
		}

		// A scheduled job that is not cancelled starts when River runs it.
		j = f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(2))
		if j, err = f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, &at); err != nil {
			t.Fatal(err)
		}
		if err := f.worker(5).Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.a.id}); err != nil {
			t.Fatal(err)
		}
		if j = f.job(f.a.id, j.ID); j.Status != BulkFinished || j.Sent != 2 || j.StartedAt == nil {
			t.Fatalf("job %+v", j)
		}
	})
}

// A crash part-way through loses nothing and sends nothing twice: the job resumes after the
// last batch it stored, and running it again, or storing the same batch twice, adds nothing.
func TestBulkResumesAfterACrashWithoutDuplicates(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		j := f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(10))
		j, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		crash := errors.New("the node died")
		w := f.worker(4)
		w.afterBatch = func(int) error { return crash }
		if err := w.Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.a.id}); !errors.Is(err, crash) {
			t.Fatalf("run: %v", err)
		}
		if j = f.job(f.a.id, j.ID); j.RowsDone != 4 || j.Sent != 4 || j.Status != BulkInProgress {
			t.Fatalf("after the crash: %+v", j)
		}
		wantRows(t, f.jobRows(j.ID), 2, 5)

		// The batch in hand when the node died is stored again by a second runner: it finds the
		// job has moved on and stores nothing.
		b, err := f.svc.bulkSenderFor(f.ctx, f.a.id, f.a.emailTemplate)
		if err != nil {
			t.Fatal(err)
		}
		stale := j
		stale.RowsDone = 0
		if err := f.svc.storeBatch(f.ctx, stale, b, bulkBatch{notifications: []*Notification{{ID: "x"}}}, 4, false); !errors.Is(err, errBatchTaken) {
			t.Fatalf("storing a batch twice: %v", err)
		}
		// And were the progress lost, the unique index would still refuse the same row twice.
		_, err = f.d.Exec(f.ctx, `INSERT INTO notify_notifications (id, service_id, template_id, template_version,
			notification_type, key_type, recipient, normalised_to, status, body, created_at, job_id, job_row)
			VALUES ('dup', ?, ?, 1, 'email', 'live', 'a', 'a', 'created', 'b', ?, ?, 2)`, f.a.id, f.a.emailTemplate.ID, f.clock.Now(), j.ID)
		if !db.IsUniqueViolation(err) {
			t.Fatalf("a second notification for row 2: %v", err)
		}

		// River retries the job: it carries on from row 6.
		for range 2 {
			if err := f.worker(4).Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.a.id}); err != nil {
				t.Fatal(err)
			}
		}
		if j = f.job(f.a.id, j.ID); j.Status != BulkFinished || j.RowsDone != 10 || j.Sent != 10 {
			t.Fatalf("after resuming: %+v", j)
		}
		wantRows(t, f.jobRows(j.ID), 2, 11)
		if got := f.count(`SELECT count(*) FROM notify_notifications n WHERE job_id = ? AND (SELECT count(*) FROM river_job j
			WHERE j.kind = 'notify.deliver_batch' AND CAST(j.args AS TEXT) LIKE '%' || n.id || '%') = 1`, j.ID); got != 10 {
			t.Fatalf("%d deliveries queued, want 10", got)
		}
		if got := f.count(`SELECT sent FROM notify_daily_counts WHERE service_id = ? AND channel = 'email'`, f.a.id); got != 10 {
			t.Fatalf("daily count %d, want 10", got)
		}
	})
}

// A run hands over to a new job after a while, and a cancellation stops the next batch.
func TestBulkHandOverAndCancelWhileSending(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		j := f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(9))
		j, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		w := f.worker(3)
		w.RunFor = 0 // hand over after every batch
		if err := w.Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.a.id}); err != nil {
			t.Fatal(err)
		}
		if j = f.job(f.a.id, j.ID); j.RowsDone != 3 {
			t.Fatalf("after one run: %+v", j)
		}
		if n := f.count(`SELECT count(*) FROM river_job WHERE kind = ?`, BulkSendArgs{}.Kind()); n != 2 {
			t.Fatalf("%d bulk send jobs, want the first and the one it handed over to", n)
		}
		w = f.worker(3)
		w.afterBatch = func(int) error {
			_, err := f.svc.CancelBulkJob(f.ctx, f.a.id, j.ID, "canceller@example.gov.uk")
			return err
		}
		if err := w.Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.a.id}); err != nil {
			t.Fatal(err)
		}
		if j = f.job(f.a.id, j.ID); j.Status != BulkCancelled || j.RowsDone != 6 || j.Sent != 6 {
			t.Fatalf("after cancelling: %+v", j)
		}
		wantRows(t, f.jobRows(j.ID), 2, 7)
	})
}

func TestBulkKeptToItsService(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		j := f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(2))
		if _, err := f.svc.BulkJob(f.ctx, f.b.id, j.ID); !failure.Is(err, failure.NotFound) {
			t.Fatalf("service B read A's job: %v", err)
		}
		if _, err := f.svc.SendBulkJob(f.ctx, f.b.id, j.ID, nil); !failure.Is(err, failure.NotFound) {
			t.Fatalf("service B sent A's job: %v", err)
		}
		if _, err := f.svc.CancelBulkJob(f.ctx, f.b.id, j.ID, "x"); !failure.Is(err, failure.NotFound) {
			t.Fatalf("service B cancelled A's job: %v", err)
		}
		if jobs, err := f.svc.BulkJobs(f.ctx, f.b.id, 10); err != nil || len(jobs) != 0 {
			t.Fatalf("service B lists %d jobs, %v", len(jobs), err)
		}
		// B's template cannot be used for A's file.
		_, err := f.svc.UploadBulkFile(f.ctx, f.a.id, BulkUpload{TemplateID: f.b.emailTemplate.ID, FileName: "x.csv",
			Data: []byte(emailFile(1)), By: f.uploader})
		if fe := web.FieldErrors(err); len(fe) != 1 || fe[0].Field != "template" {
			t.Fatalf("upload with another service's template: %v", err)
		}
		// A job run under another service's id does nothing.
		if _, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.worker(5).Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.b.id}); err != nil {
			t.Fatal(err)
		}
		if n := f.count(`SELECT count(*) FROM notify_notifications`); n != 0 {
			t.Fatalf("%d notifications sent under another service", n)
		}
	})
}

func TestBulkTrialModeAndChannels(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		trial := f.newTenant("Trial service", false, nil)
		member, err := f.platform.CreateUser(f.ctx, platform.CLIActor, "Member@Example.gov.uk", false)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.platform.AddMember(f.ctx, platform.CLIActor, trial.id, member.ID, []string{platform.SendMessages}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetGuestList(f.ctx, trial.id, []string{"guest@example.com"}, []string{"447700900123"}); err != nil {
			t.Fatal(err)
		}
		j := f.upload(trial.id, trial.emailTemplate.ID, "email address,name\nmember@example.gov.uk,M\nguest@example.com,G\nstranger@example.com,S\n")
		check, err := f.svc.CheckBulkJob(f.ctx, j, 10)
		if err != nil {
			t.Fatal(err)
		}
		if check.Summary.BadRows != 1 || check.BadRows[0].Number != 4 || !strings.Contains(check.BadRows[0].Problems[0], "trial mode") {
			t.Fatalf("check %+v", check.BadRows)
		}
		j = f.upload(trial.id, trial.smsTemplate.ID, "phone number,name\n07700 900123,G\n07700 900124,S\n")
		if check, err = f.svc.CheckBulkJob(f.ctx, j, 10); err != nil || check.Summary.BadRows != 1 || check.BadRows[0].Number != 3 {
			t.Fatalf("check %+v, %v", check, err)
		}
		j = f.upload(trial.id, trial.letterTemplate.ID, "address line 1,address line 2,postcode\nA Person,1 High St,LS1 1AA\n")
		if check, err = f.svc.CheckBulkJob(f.ctx, j, 10); err != nil || check.Refusal != "Your service is in trial mode, so it cannot send letters." {
			t.Fatalf("check %+v, %v", check, err)
		}

		// A live service sends text messages and letters with the API's rules.
		j = f.upload(f.a.id, f.a.smsTemplate.ID, "phone number,name\n07700 900123,Jo\n+33 6 12 34 56 78,Marie\n")
		if _, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.worker(10).Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.a.id}); err != nil {
			t.Fatal(err)
		}
		var to, sender string
		var international bool
		if err := f.d.QueryRow(f.ctx, `SELECT normalised_to, international, sender FROM notify_notifications
			WHERE job_id = ? AND job_row = 3`, j.ID).Scan(&to, &international, &sender); err != nil {
			t.Fatal(err)
		}
		if to != "33612345678" || !international || sender == "" {
			t.Fatalf("international text: %s %v %q", to, international, sender)
		}
		if got := f.count(`SELECT sent FROM notify_daily_counts WHERE service_id = ? AND channel = 'international_sms'`, f.a.id); got != 1 {
			t.Fatalf("international count %d", got)
		}
		j = f.upload(f.a.id, f.a.letterTemplate.ID, "address line 1,address line 2,address line 3,postcode\nA Person,1 High Street,Leeds,ls11aa\n")
		if _, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.worker(10).Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.a.id}); err != nil {
			t.Fatal(err)
		}
		var recipient, postage, body string
		if err := f.d.QueryRow(f.ctx, `SELECT recipient, postage, body FROM notify_notifications WHERE job_id = ?`, j.ID).Scan(
			&recipient, &postage, &body); err != nil {
			t.Fatal(err)
		}
		if recipient != "A Person\n1 High Street\nLeeds\nLS1 1AA" || postage != "second" || body != "Hello A Person" {
			t.Fatalf("letter: %q %q %q", recipient, postage, body)
		}
	})
}

func TestBulkDailyLimits(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		st := DefaultSettings(f.a.id)
		st.EmailDailyLimit = 5
		if err := f.svc.SaveSettings(f.ctx, st); err != nil {
			t.Fatal(err)
		}
		j := f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(6))
		check, err := f.svc.CheckBulkJob(f.ctx, j, 0)
		if err != nil || !check.OverDailyLimit() {
			t.Fatalf("check %+v, %v", check, err)
		}
		if _, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, nil); !failure.Is(err, failure.Invalid) {
			t.Fatalf("sending more than a day's limit: %v", err)
		}

		// Four rows fit today's limit, but by the time the scheduled job starts the service has
		// sent two messages: as in GOV.UK Notify, the job is not started.
		j = f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(4))
		at := f.clock.Now().Add(time.Hour)
		if _, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, &at); err != nil {
			t.Fatal(err)
		}
		if _, err := f.d.Exec(f.ctx, `INSERT INTO notify_daily_counts (service_id, channel, day, sent) VALUES (?, 'email', ?, 2)`,
			f.a.id, day(f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		if err := f.worker(2).Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.a.id}); err != nil {
			t.Fatal(err)
		}
		if j = f.job(f.a.id, j.ID); j.Status != BulkLimitsExceeded || j.Sent != 0 {
			t.Fatalf("job %+v", j)
		}

		// A limit reached while a job is sending (by the API, say) stops it after the batches
		// that fit.
		j = f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(3))
		if _, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		w := f.worker(1)
		w.afterBatch = func(int) error {
			_, err := f.d.Exec(f.ctx, `UPDATE notify_daily_counts SET sent = 5 WHERE service_id = ?`, f.a.id)
			return err
		}
		if err := w.Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: f.a.id}); err != nil {
			t.Fatal(err)
		}
		if j = f.job(f.a.id, j.ID); j.Status != BulkLimitsExceeded || j.Sent != 1 || j.RowsDone != 1 {
			t.Fatalf("job %+v", j)
		}
	})
}

// The whole way through River: "send now" queues the job, a working client runs it, and the
// job's notifications are stored.
func TestBulkSendThroughRiver(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		jc := f.jobsClient(true)
		f.svc.cfg.Jobs = jc
		if err := jc.Start(f.ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = jc.Stop(context.Background()) })
		j := f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(25))
		if _, err := f.svc.SendBulkJob(f.ctx, f.a.id, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		// A bound on a hung test, not a claim about speed.
		deadline := time.Now().Add(time.Minute)
		for f.job(f.a.id, j.ID).Status != BulkFinished {
			if time.Now().After(deadline) {
				t.Fatalf("job not finished: %+v", f.job(f.a.id, j.ID))
			}
			time.Sleep(20 * time.Millisecond)
		}
		wantRows(t, f.jobRows(j.ID), 2, 26)
	})
}

func TestPurgeBulkFiles(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		old := f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(1))
		f.clock.Advance(bulkPurgeAfter + time.Hour)
		recent := f.upload(f.a.id, f.a.emailTemplate.ID, emailFile(1))
		n, err := f.svc.PurgeBulkFiles(f.ctx)
		if err != nil || n != 1 {
			t.Fatalf("purged %d, %v", n, err)
		}
		if _, err := f.svc.BulkJob(f.ctx, f.a.id, old.ID); !failure.Is(err, failure.NotFound) {
			t.Fatalf("an old unsent upload is kept: %v", err)
		}
		if _, err := f.svc.CheckBulkJob(f.ctx, f.job(f.a.id, recent.ID), 0); err != nil {
			t.Fatalf("a recent upload was purged: %v", err)
		}
	})
}

// Rows set aside when their batch is sent are in the report with the reason: a test address,
// which is never sent, and a guest who left the guest list after the file was checked.
func TestBulkReportListsRowsNotSent(t *testing.T) {
	eachBulk(t, func(t *testing.T, f *bulkFixture) {
		trial := f.newTenant("Trial service", false, nil)
		// In trial mode even a test address must be on the guest list, as through the API.
		simulated := "simulate-delivered@notifications.service.gov.uk"
		if err := f.svc.SetGuestList(f.ctx, trial.id, []string{"guest@example.com", "leaving@example.com", simulated}, nil); err != nil {
			t.Fatal(err)
		}
		file := "email address,name\nguest@example.com,G\nsimulate-delivered@notifications.service.gov.uk,S\nleaving@example.com,L\n"
		j := f.upload(trial.id, trial.emailTemplate.ID, file)
		if _, err := f.svc.SendBulkJob(f.ctx, trial.id, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetGuestList(f.ctx, trial.id, []string{"guest@example.com", simulated}, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.worker(10).Run(f.ctx, BulkSendArgs{JobID: j.ID, ServiceID: trial.id}); err != nil {
			t.Fatal(err)
		}
		j = f.job(trial.id, j.ID)
		if j.Status != BulkFinished || j.Sent != 1 || j.Skipped != 2 {
			t.Fatalf("job %+v", j)
		}
		var report strings.Builder
		if err := f.svc.WriteBulkReport(f.ctx, j, &report); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(report.String()), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[1], "2,guest@example.com,created,") ||
			!strings.HasPrefix(lines[2], "3,simulate-delivered@notifications.service.gov.uk,not sent: A test address") ||
			!strings.HasPrefix(lines[3], "4,leaving@example.com,not sent: Not in your team or on your guest list") {
			t.Fatalf("report:\n%s", report.String())
		}
	})
}
