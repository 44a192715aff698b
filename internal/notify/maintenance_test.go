package notify

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/platform"
)

// Emails and text messages left sending or pending for 72 hours become temporary-failure,
// and the service is told; nothing else changes.
func TestTimeoutSending(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		e := newDeliveryEnv(t, d, deliveryEnvOptions{dev: true})
		now := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
		e.svc.Now = func() time.Time { return now }
		if err := e.svc.SetCallback(context.Background(), Callback{ServiceID: e.serviceID, Type: CallbackDeliveryStatus,
			URL: "https://service.example/status", BearerToken: "service-bearer-token"}); err != nil {
			t.Fatal(err)
		}
		add := func(ch Channel, status string, age time.Duration) Notification {
			n := e.notification(ch, "x")
			n.Status, n.CreatedAt = status, now.Add(-age)
			return e.store(t, n)
		}
		expired := []Notification{
			add(Email, StatusSending, 73*time.Hour),
			add(SMS, StatusPending, 100*time.Hour),
		}
		kept := []Notification{
			add(Email, StatusSending, 71*time.Hour),
			add(Letter, StatusSending, 100*time.Hour),
			add(SMS, StatusDelivered, 100*time.Hour),
			add(Email, StatusCreated, 100*time.Hour),
			add(SMS, StatusSent, 100*time.Hour),
		}
		n, err := e.d.TimeoutSending(context.Background())
		if err != nil || n != 2 {
			t.Fatalf("TimeoutSending = %d, %v; want 2", n, err)
		}
		for _, x := range expired {
			events := e.events(t, x.ID)
			if st := e.state(t, x.ID); st.Status != StatusTemporaryFailure || events[len(events)-1] != "temporary-failure: No delivery receipt within 72 hours" {
				t.Errorf("%s %s: %s, events %q", x.Type, x.ID, st.Status, events)
			}
		}
		for _, x := range kept {
			if st := e.state(t, x.ID); st.Status != x.Status {
				t.Errorf("%s in %s changed to %s", x.Type, x.Status, st.Status)
			}
		}
		jobs := e.callbackJobs(t)
		if len(jobs) != 2 {
			t.Fatalf("%d callback jobs, want 2", len(jobs))
		}
		for _, j := range jobs {
			if j.CallbackType != CallbackDeliveryStatus || (j.SubjectID != expired[0].ID && j.SubjectID != expired[1].ID) {
				t.Errorf("callback job %+v", j)
			}
		}
		if n, err := e.d.TimeoutSending(context.Background()); err != nil || n != 0 {
			t.Errorf("second run = %d, %v; want nothing left", n, err)
		}
	})
}

// Retention deletes whole notifications (with their history, callback attempts and letter
// PDFs) and received text messages from before midnight, London time, of the day the
// service's retention began: 7 days without settings, the configured days with.
func TestPurgeExpired(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		e := newDeliveryEnv(t, d, deliveryEnvOptions{dev: true})
		ctx := context.Background()
		// 11:00 in London (BST), so 7 days' retention keeps everything since 8 June 00:00 BST,
		// which is 7 June 23:00 UTC.
		now := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
		e.svc.Now = func() time.Time { return now }
		other, err := e.platform.CreateService(ctx, platform.CLIActor, platform.NewService{Name: "Other", Live: true})
		if err != nil {
			t.Fatal(err)
		}
		st := DefaultSettings(other.ID)
		st.EmailRetentionDays, st.SMSRetentionDays = 3, 30
		if err := e.svc.SaveSettings(ctx, st); err != nil {
			t.Fatal(err)
		}
		sevenDays := time.Date(2026, 6, 7, 23, 0, 0, 0, time.UTC)
		threeDays := time.Date(2026, 6, 11, 23, 0, 0, 0, time.UTC)
		thirtyDays := time.Date(2026, 5, 15, 23, 0, 0, 0, time.UTC)
		type row struct {
			service string
			ch      Channel
			at      time.Time
			gone    bool
		}
		rows := []row{
			{e.serviceID, Email, sevenDays.Add(-time.Second), true},
			{e.serviceID, Email, sevenDays, false},
			{e.serviceID, SMS, sevenDays.Add(-time.Hour), true},
			{e.serviceID, Letter, sevenDays.Add(-time.Hour), true},
			{e.serviceID, Letter, sevenDays.Add(time.Hour), false},
			{other.ID, Email, threeDays.Add(-time.Second), true},
			{other.ID, Email, threeDays.Add(time.Second), false},
			{other.ID, SMS, sevenDays.Add(-time.Hour), false},
			{other.ID, SMS, thirtyDays.Add(-time.Second), true},
			{other.ID, Letter, sevenDays.Add(-time.Second), true}, // letters keep the default
		}
		ids := make([]string, len(rows))
		for i, r := range rows {
			n := e.notification(r.ch, "x")
			n.ServiceID, n.CreatedAt, n.Status = r.service, r.at, StatusDelivered
			e.store(t, n)
			ids[i] = n.ID
			if _, err := d.Exec(ctx, `INSERT INTO notify_callback_attempts (id, service_id, callback_type, subject_id, attempt,
				url, status_code, created_at) VALUES (?, ?, 'delivery_status', ?, 1, 'https://x', 200, ?)`,
				uuid.NewString(), r.service, n.ID, r.at); err != nil {
				t.Fatal(err)
			}
			if r.ch == Letter {
				if _, err := d.Exec(ctx, `INSERT INTO notify_letter_pdfs (notification_id, service_id, pdf, created_at)
					VALUES (?, ?, ?, ?)`, n.ID, r.service, []byte("%PDF-1.7"), r.at); err != nil {
					t.Fatal(err)
				}
			}
		}
		inbound := []row{
			{e.serviceID, SMS, sevenDays.Add(-time.Second), true},
			{e.serviceID, SMS, sevenDays.Add(time.Second), false},
			{other.ID, SMS, sevenDays.Add(-time.Hour), false},
			{other.ID, SMS, thirtyDays.Add(-time.Hour), true},
		}
		inboundIDs := make([]string, len(inbound))
		for i, r := range inbound {
			inboundIDs[i] = uuid.NewString()
			if _, err := d.Exec(ctx, `INSERT INTO notify_inbound_sms (id, service_id, user_number, notify_number, content,
				provider_date, created_at) VALUES (?, ?, '447700900123', '07700900999', 'hi', ?, ?)`,
				inboundIDs[i], r.service, r.at, r.at); err != nil {
				t.Fatal(err)
			}
		}

		got, err := e.d.PurgeExpired(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Notifications != 6 || got.ReceivedTexts != 2 {
			t.Errorf("PurgeExpired = %+v, want 6 notifications and 2 received texts", got)
		}
		for i, r := range rows {
			left := e.count(t, `SELECT count(*) FROM notify_notifications WHERE id = ?`, ids[i]) +
				e.count(t, `SELECT count(*) FROM notify_status_events WHERE notification_id = ?`, ids[i]) +
				e.count(t, `SELECT count(*) FROM notify_callback_attempts WHERE subject_id = ?`, ids[i]) +
				e.count(t, `SELECT count(*) FROM notify_letter_pdfs WHERE notification_id = ?`, ids[i])
			want := 3
			if r.ch == Letter {
				want = 4
			}
			if r.gone {
				want = 0
			}
			if left != want {
				t.Errorf("row %d (%s, %s at %s): %d rows left, want %d", i, r.service[:8], r.ch, r.at, left, want)
			}
		}
		for i, r := range inbound {
			left := e.count(t, `SELECT count(*) FROM notify_inbound_sms WHERE id = ?`, inboundIDs[i])
			if (left == 0) != r.gone {
				t.Errorf("received text %d at %s: %d left, gone should be %v", i, r.at, left, r.gone)
			}
		}
		if again, err := e.d.PurgeExpired(ctx); err != nil || again != (Purged{}) {
			t.Errorf("second run = %+v, %v; want nothing", again, err)
		}
	})
}

func TestRetentionCutoff(t *testing.T) {
	for _, c := range []struct {
		now  time.Time
		days int
		want time.Time
	}{
		// Summer: London is UTC+1, so its midnight is 23:00 UTC the day before.
		{time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC), 7, time.Date(2026, 6, 7, 23, 0, 0, 0, time.UTC)},
		// Just after midnight in London but still the previous day in UTC.
		{time.Date(2026, 6, 14, 23, 30, 0, 0, time.UTC), 7, time.Date(2026, 6, 7, 23, 0, 0, 0, time.UTC)},
		// Winter: London is UTC.
		{time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC), 3, time.Date(2026, 1, 17, 0, 0, 0, 0, time.UTC)},
	} {
		if got := retentionCutoff(c.now, c.days); !got.Equal(c.want) {
			t.Errorf("retentionCutoff(%s, %d) = %s, want %s", c.now, c.days, got, c.want)
		}
	}
}

// The periodic jobs run on a working node: the leader enqueues them at start.
func TestPeriodicJobsRun(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		e := newDeliveryEnv(t, d, deliveryEnvOptions{dev: true, work: true, periodic: true})
		deliveryWaitFor(t, 60*time.Second, "both periodic jobs to complete", func() bool {
			return e.count(t, `SELECT count(DISTINCT kind) FROM river_job WHERE state = 'completed'
				AND kind IN ('notify.timeout_sending', 'notify.retention')`) == 2
		})
	})
}
