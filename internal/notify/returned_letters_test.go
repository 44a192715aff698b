package notify

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/failure"
)

// A letter's life after it is accepted: downloaded in a print batch, sent to print, posted,
// and perhaps returned. These tests drive it through the Go API on both engines; the console
// pages have their own tests.

// letterEnv is delivery outside development mode, where live letters wait for the print batch.
func letterEnv(t *testing.T, d *db.DB, work bool, opts ...func(*DeliveryConfig)) *deliveryEnv {
	t.Helper()
	cfg := DeliveryConfig{Email: &recordingEmail{}, SMS: &recordingSMS{}}
	for _, o := range opts {
		o(&cfg)
	}
	return newDeliveryEnv(t, d, deliveryEnvOptions{work: work, cfg: cfg})
}

// waitingLetter stores a live letter waiting to be printed, accepted age ago.
func (e *deliveryEnv) waitingLetter(t *testing.T, ref string, age time.Duration) Notification {
	t.Helper()
	n := e.notification(Letter, "Jo Bloggs\n1 High Street\nLeeds\nLS1 1AA")
	n.ClientReference = ref
	n.CreatedAt = e.svc.now().Add(-age)
	return e.store(t, n)
}

// batchFiles lists the PDFs in a print batch zip.
func batchFiles(t *testing.T, b []byte) []string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range zr.File {
		if f.Name != "manifest.csv" {
			out = append(out, strings.TrimSuffix(f.Name, ".pdf"))
		}
	}
	return out
}

func (e *deliveryEnv) writeBatch(t *testing.T) (PrintBatch, []string) {
	t.Helper()
	var zipped bytes.Buffer
	b, err := e.svc.WritePrintBatch(context.Background(), &zipped, e.serviceID, "jo@example.gov.uk")
	if err != nil {
		t.Fatal(err)
	}
	return b, batchFiles(t, zipped.Bytes())
}

func TestPrintBatchLifecycle(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := letterEnv(t, d, false)
		// Letters never get delivery receipts (notify.md §7), print batch or not.
		if err := e.svc.SetCallback(ctx, Callback{ServiceID: e.serviceID, Type: CallbackDeliveryStatus,
			URL: "https://service.example/status", BearerToken: "service-token-1"}); err != nil {
			t.Fatal(err)
		}
		a, b, c := e.waitingLetter(t, "a", 3*time.Hour), e.waitingLetter(t, "b", 2*time.Hour), e.waitingLetter(t, "c", time.Hour)
		testKey := e.notification(Letter, "Jo Bloggs\n1 High Street\nLeeds\nLS1 1AA")
		testKey.KeyType = apiauth.Test
		e.store(t, testKey)

		batch, files := e.writeBatch(t)
		if batch.ID == "" || batch.Letters != 3 || batch.CreatedBy != "jo@example.gov.uk" || batch.PrintedAt != nil ||
			!slices.Equal(files, []string{a.ID, b.ID, c.ID}) {
			t.Fatalf("batch %+v holds %v", batch, files)
		}
		if again, _ := e.writeBatch(t); again.ID != batch.ID {
			t.Errorf("downloading the same letters again made batch %s, not %s", again.ID, batch.ID)
		}
		// After the download, c is cancelled and d arrives: neither is in the batch sent.
		if _, err := d.Exec(ctx, `UPDATE notify_notifications SET status = ? WHERE id = ?`, StatusCancelled, c.ID); err != nil {
			t.Fatal(err)
		}
		late := e.waitingLetter(t, "d", 0)

		if _, err := e.svc.MarkLettersPosted(ctx, e.serviceID, batch.ID, "sam@example.gov.uk"); !failure.Is(err, failure.Conflict) {
			t.Errorf("posting a batch not yet sent to print: %v, want Conflict", err)
		}
		printed, err := e.svc.MarkLettersPrinted(ctx, e.serviceID, batch.ID, "sam@example.gov.uk")
		if err != nil {
			t.Fatal(err)
		}
		if printed.Moved != 2 || printed.Repeat || printed.Batch.PrintedAt == nil || printed.Batch.PrintedBy != "sam@example.gov.uk" {
			t.Errorf("marked printed: %+v", printed)
		}
		for _, n := range []Notification{a, b} {
			st := e.state(t, n.ID)
			if st.Status != StatusSending || st.Provider != providerPrint || st.Reference != batch.ID || st.SentAt == nil {
				t.Errorf("letter %s after printing: %+v", n.ClientReference, st)
			}
			if letterStatus(st.Status) != "accepted" {
				t.Errorf("the API shows %q", letterStatus(st.Status))
			}
		}
		if st, lt := e.state(t, c.ID).Status, e.state(t, late.ID).Status; st != StatusCancelled || lt != StatusCreated {
			t.Errorf("a cancelled letter became %s and one that came later %s", st, lt)
		}
		events := e.events(t, a.ID)
		if len(events) != 2 || !strings.HasPrefix(events[1], "sending: Sent to print by sam@example.gov.uk (print batch downloaded ") {
			t.Errorf("events = %q", events)
		}
		// Delivery, should it run for the letter again, leaves a letter sent to print alone.
		if err := e.work(t, a, 2, 25); err != nil {
			t.Fatal(err)
		}
		if st := e.state(t, a.ID); st.Status != StatusSending {
			t.Errorf("delivery moved a letter sent to print to %s", st.Status)
		}
		repeat, err := e.svc.MarkLettersPrinted(ctx, e.serviceID, batch.ID, "sam@example.gov.uk")
		if err != nil || !repeat.Repeat || repeat.Moved != 0 || len(e.events(t, a.ID)) != 2 {
			t.Errorf("marking printed twice: %+v %v", repeat, err)
		}

		next, files := e.writeBatch(t)
		if next.ID == batch.ID || !slices.Equal(files, []string{late.ID}) {
			t.Errorf("the next batch %+v holds %v", next, files)
		}

		posted, err := e.svc.MarkLettersPosted(ctx, e.serviceID, batch.ID, "sam@example.gov.uk")
		if err != nil || posted.Moved != 2 || posted.Repeat || posted.Batch.PostedAt == nil {
			t.Fatalf("marked posted: %+v %v", posted, err)
		}
		for _, n := range []Notification{a, b} {
			if st := e.state(t, n.ID).Status; st != StatusDelivered || letterStatus(st) != "received" {
				t.Errorf("letter %s after posting: %s", n.ClientReference, st)
			}
		}
		if events := e.events(t, b.ID); len(events) != 3 || events[2] != "delivered: Posted by the printer, recorded by sam@example.gov.uk" {
			t.Errorf("events = %q", events)
		}
		if repeat, err := e.svc.MarkLettersPosted(ctx, e.serviceID, batch.ID, "sam@example.gov.uk"); err != nil || !repeat.Repeat || repeat.Moved != 0 {
			t.Errorf("marking posted twice: %+v %v", repeat, err)
		}

		batches, err := e.svc.PrintBatches(ctx, e.serviceID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(batches) != 2 || batches[0].ID != next.ID || batches[0].Waiting != 1 || batches[1].ID != batch.ID ||
			batches[1].Waiting != 0 || batches[1].PostedAt == nil || batches[1].PostedBy != "sam@example.gov.uk" {
			t.Errorf("batches = %+v", batches)
		}
		other := uuid.NewString()
		for _, id := range []string{batch.ID, "not-an-id", uuid.NewString()} {
			if _, err := e.svc.MarkLettersPrinted(ctx, other, id, "x"); !failure.Is(err, failure.NotFound) {
				t.Errorf("batch %s of another service: %v, want NotFound", id, err)
			}
		}
		if _, err := e.svc.MarkLettersPrinted(ctx, e.serviceID, "not-an-id", "x"); !failure.Is(err, failure.NotFound) {
			t.Errorf("a batch that does not exist: %v, want NotFound", err)
		}
		if jobs := e.callbackJobs(t); len(jobs) != 0 {
			t.Errorf("letters queued callbacks: %+v", jobs)
		}
	})
}

// Two downloads that share letters: each letter is sent by the batch marked first, and only
// that batch marks it posted.
func TestOverlappingPrintBatches(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := letterEnv(t, d, false)
		x, y := e.waitingLetter(t, "x", 2*time.Hour), e.waitingLetter(t, "y", time.Hour)
		first, _ := e.writeBatch(t)
		z := e.waitingLetter(t, "z", 0)
		second, files := e.writeBatch(t)
		if second.ID == first.ID || !slices.Equal(files, []string{x.ID, y.ID, z.ID}) {
			t.Fatalf("second batch %+v holds %v", second, files)
		}
		mark := func(f func(context.Context, string, string, string) (PrintBatchChange, error), id string, want int) {
			t.Helper()
			c, err := f(ctx, e.serviceID, id, "sam@example.gov.uk")
			if err != nil || c.Moved != want || c.Repeat {
				t.Errorf("%+v %v, want %d moved", c, err, want)
			}
		}
		mark(e.svc.MarkLettersPrinted, second.ID, 3)
		mark(e.svc.MarkLettersPrinted, first.ID, 0)
		mark(e.svc.MarkLettersPosted, first.ID, 0)
		for _, n := range []Notification{x, y, z} {
			if st := e.state(t, n.ID); st.Status != StatusSending || st.Reference != second.ID {
				t.Errorf("letter %s: %+v", n.ClientReference, st)
			}
		}
		mark(e.svc.MarkLettersPosted, second.ID, 3)
		// Nothing waiting: the zip has only its manifest and no batch is recorded.
		empty, files := e.writeBatch(t)
		if empty.ID != "" || len(files) != 0 {
			t.Errorf("an empty download: %+v %v", empty, files)
		}
		if n := e.count(t, `SELECT count(*) FROM notify_print_batches`); n != 2 {
			t.Errorf("%d batches recorded, want 2", n)
		}
	})
}

// postedLetter is a letter the printer has posted.
func (e *deliveryEnv) postedLetter(t *testing.T, ref string) Notification {
	t.Helper()
	n := e.notification(Letter, "Jo Bloggs\n1 High Street\nLeeds\nLS1 1AA")
	n.ClientReference, n.Status = ref, StatusDelivered
	return e.store(t, n)
}

func TestRecordReturnedLetters(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := letterEnv(t, d, false)
		if err := e.svc.SetCallback(ctx, Callback{ServiceID: e.serviceID, Type: CallbackReturnedLetter,
			URL: "https://service.example/returned", BearerToken: "service-token-1"}); err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := d.Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		template := func(id, name string, hidden bool) {
			exec(`INSERT INTO notify_templates (id, service_id, name, template_type, content, version, hidden, created_at, created_by)
				VALUES (?, ?, ?, 'letter', 'Hello', 3, ?, ?, 'x')`, id, e.serviceID, name, hidden, e.svc.now())
		}
		// Sent through the API, from a template.
		api := e.postedLetter(t, "api-ref")
		template(api.TemplateID, "Licence letter", false)
		exec(`UPDATE notify_notifications SET api_key_id = ? WHERE id = ?`, uuid.NewString(), api.ID)
		// Sent from the console by a team member.
		console := e.postedLetter(t, "")
		exec(`UPDATE notify_notifications SET created_by_name = ? WHERE id = ?`, "sam@example.gov.uk", console.ID)
		// Sent in bulk from a spreadsheet, row 3.
		jobID := uuid.NewString()
		exec(`INSERT INTO notify_bulk_jobs (id, service_id, template_id, template_version, notification_type, file_name, row_count,
			status, created_by, created_by_name, created_at, updated_at) VALUES (?, ?, ?, 3, 'letter', 'licences.csv', 2, 'finished',
			'u', 'sam@example.gov.uk', ?, ?)`, jobID, e.serviceID, console.TemplateID, e.svc.now(), e.svc.now())
		bulk := e.postedLetter(t, "")
		exec(`UPDATE notify_notifications SET job_id = ?, job_row = 3, created_by_name = ? WHERE id = ?`, jobID, "sam@example.gov.uk", bulk.ID)
		// A precompiled letter uploaded in the console: a hidden template, known by its file.
		upload := e.postedLetter(t, "scan-0042.pdf")
		template(upload.TemplateID, "Pre-compiled PDF", true)
		// Others: not posted yet, two with the same reference, a test key's, another service's.
		waiting := e.waitingLetter(t, "waiting", 0)
		e.postedLetter(t, "shared")
		e.postedLetter(t, "shared")
		testKey := e.notification(Letter, "Jo Bloggs\nLS1 1AA")
		testKey.KeyType, testKey.Status, testKey.ClientReference = apiauth.Test, StatusDelivered, "test-key"
		e.store(t, testKey)

		results, err := e.svc.RecordReturnedLetters(ctx, e.serviceID, []string{
			api.ID, " " + console.ID + " ", "", bulk.ID, "scan-0042.pdf", "waiting", "shared", "test-key", "nothing",
			strings.ToUpper(api.ID), console.ID,
		}, "jo@example.gov.uk")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range results {
			got = append(got, r.Given+" "+r.Outcome)
		}
		want := []string{api.ID + " recorded", console.ID + " recorded", bulk.ID + " recorded", "scan-0042.pdf recorded",
			"waiting not-posted", "shared ambiguous", "test-key not-found", "nothing not-found", strings.ToUpper(api.ID) + " already-recorded"}
		if !slices.Equal(got, want) {
			t.Errorf("results\n%q\nwant\n%q", got, want)
		}
		if r := results[4]; r.NotificationID != waiting.ID || r.Status != StatusCreated || r.Recipient == "" {
			t.Errorf("not posted: %+v", r)
		}
		for _, n := range []Notification{api, console, bulk, upload} {
			if st := e.state(t, n.ID).Status; st != StatusReturnedLetter || letterStatus(st) != "received" {
				t.Errorf("%s: %s", n.ID, st)
			}
			if ev := e.events(t, n.ID); ev[len(ev)-1] != "returned-letter: Returned to the service, recorded by jo@example.gov.uk" {
				t.Errorf("events = %q", ev)
			}
		}

		bodies := map[string]map[string]any{}
		for _, job := range e.callbackJobs(t) {
			var body map[string]any
			if err := json.Unmarshal(job.Payload, &body); err != nil {
				t.Fatal(err)
			}
			if job.CallbackType != CallbackReturnedLetter || job.SubjectID != body["notification_id"] || len(body) != 10 {
				t.Errorf("callback %s %s: %v", job.CallbackType, job.SubjectID, body)
			}
			bodies[job.SubjectID] = body
		}
		if len(bodies) != 4 {
			t.Fatalf("%d returned letter callbacks, want 4", len(bodies))
		}
		check := func(id string, want map[string]any) {
			t.Helper()
			for k, v := range want {
				if got := bodies[id][k]; got != v {
					t.Errorf("%s: %s = %#v, want %#v", id, k, got, v)
				}
			}
			if !callbackTimeFormat.MatchString(bodies[id]["date_sent"].(string)) {
				t.Errorf("date_sent %v", bodies[id]["date_sent"])
			}
		}
		check(api.ID, map[string]any{"reference": "api-ref", "sent_by": "API", "template_name": "Licence letter",
			"template_id": api.TemplateID, "template_version": float64(3), "spreadsheet_file_name": nil,
			"spreadsheet_row_number": nil, "upload_letter_file_name": nil})
		check(console.ID, map[string]any{"reference": nil, "sent_by": "sam@example.gov.uk", "template_name": "",
			"spreadsheet_file_name": nil})
		check(bulk.ID, map[string]any{"sent_by": "sam@example.gov.uk", "spreadsheet_file_name": "licences.csv",
			"spreadsheet_row_number": float64(3)})
		check(upload.ID, map[string]any{"reference": nil, "template_name": nil, "template_id": nil, "template_version": nil,
			"upload_letter_file_name": "scan-0042.pdf"})

		// Recording them again changes nothing and calls nobody.
		again, err := e.svc.RecordReturnedLetters(ctx, e.serviceID, []string{api.ID, "api-ref"}, "jo@example.gov.uk")
		if err != nil || again[0].Outcome != ReturnedAlready || again[1].Outcome != ReturnedAlready || len(e.callbackJobs(t)) != 4 {
			t.Errorf("again: %+v %v", again, err)
		}
		if other, err := e.svc.RecordReturnedLetters(ctx, uuid.NewString(), []string{bulk.ID}, "x"); err != nil || other[0].Outcome != ReturnedNotFound {
			t.Errorf("another service's letter: %+v %v", other, err)
		}
		returned, err := e.svc.ReturnedLetters(ctx, e.serviceID, 10)
		if err != nil || len(returned) != 4 || returned[0].ReportedBy != "jo@example.gov.uk" || returned[0].Recipient == "" {
			t.Errorf("returned letters: %+v %v", returned, err)
		}

		var many []string
		for i := range MaxReturnedLetters {
			many = append(many, fmt.Sprintf("ref-%d", i))
		}
		for _, given := range [][]string{nil, {"", "  "}, append(slices.Clone(many), "one-too-many")} {
			_, err := e.svc.RecordReturnedLetters(ctx, e.serviceID, given, "x")
			if !failure.Is(err, failure.Invalid) {
				t.Errorf("%d entries: %v, want Invalid", len(given), err)
			}
		}
		// The most a report may hold; a repeat counts once.
		if res, err := e.svc.RecordReturnedLetters(ctx, e.serviceID, append(many, "ref-1"), "x"); err != nil || len(res) != MaxReturnedLetters {
			t.Errorf("%d entries: %d results, %v", MaxReturnedLetters, len(res), err)
		}
	})
}

// The returned letter callback reaches the service and its attempt is recorded.
func TestReturnedLetterCallbackDelivered(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		endpoint := &serviceEndpoint{}
		srv := httptest.NewTLSServer(endpoint)
		defer srv.Close()
		e := letterEnv(t, d, true, func(c *DeliveryConfig) { c.CallbackClient = srv.Client() })
		if err := e.svc.SetCallback(ctx, Callback{ServiceID: e.serviceID, Type: CallbackReturnedLetter,
			URL: srv.URL + "/returned", BearerToken: "service-token-1"}); err != nil {
			t.Fatal(err)
		}
		n := e.postedLetter(t, "ref-9")
		if _, err := e.svc.RecordReturnedLetters(ctx, e.serviceID, []string{"ref-9"}, "jo@example.gov.uk"); err != nil {
			t.Fatal(err)
		}
		deliveryWaitFor(t, 30*time.Second, "the returned letter callback", func() bool { return len(endpoint.received()) == 1 })
		got := endpoint.received()[0]
		if got.Auth != "Bearer service-token-1" || got.Body["notification_id"] != n.ID || got.Body["sent_by"] != "API" {
			t.Errorf("callback %+v", got)
		}
		deliveryWaitFor(t, 30*time.Second, "the attempt's record", func() bool {
			return e.count(t, `SELECT count(*) FROM notify_callback_attempts WHERE callback_type = ? AND subject_id = ? AND status_code = 200`,
				CallbackReturnedLetter, n.ID) == 1
		})
	})
}
