package notify

import (
	"sync"
	"testing"
)

// Sends that arrive together are stored together, and each is still counted, refused or
// stored exactly as it would be on its own: with room for 10 emails today, 10 of 30
// concurrent sends with a live key are stored, each with its status event and delivery job,
// and 20 get the daily limit's 429; test keys beside them are neither counted nor stopped.
func TestV2ConcurrentSendsKeepLimitsAndAtomicity(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		st := DefaultSettings(f.a.id)
		st.EmailDailyLimit = 10
		if err := f.svc.SaveSettings(f.ctx, st); err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"email_address": "a@example.com", "template_id": f.a.emailTemplate.ID,
			"personalisation": map[string]any{"name": "x"}}
		results := make([]v2Response, 40)
		var wg sync.WaitGroup
		for i := range results {
			key := f.a.liveKey
			if i%4 == 3 {
				key = f.a.testKey
			}
			wg.Go(func() { results[i] = f.do("POST", "/v2/notifications/email", key, body) })
		}
		wg.Wait()
		stored := map[string]bool{}
		var liveStored, liveRefused int
		for i, r := range results {
			switch {
			case i%4 == 3:
				r.want(t, 201)
				stored[r.body["id"].(string)] = true
			case r.status == 201:
				liveStored++
				stored[r.body["id"].(string)] = true
			default:
				r.wantError(t, 429, "TooManyRequestsError", "Exceeded send limits (email: 10) for today")
				liveRefused++
			}
		}
		if liveStored != 10 || liveRefused != 20 {
			t.Fatalf("%d live sends stored and %d refused, want 10 and 20", liveStored, liveRefused)
		}
		for table, query := range map[string]string{
			"notifications": "SELECT count(*) FROM notify_notifications",
			"status events": "SELECT count(*) FROM notify_status_events WHERE status = 'created'",
			"notifications with a delivery job": `SELECT count(*) FROM notify_notifications n WHERE EXISTS (SELECT 1 FROM river_job j
				WHERE j.kind = 'notify.deliver_batch' AND CAST(j.args AS TEXT) LIKE '%' || n.id || '%')`,
		} {
			if n := f.count(query); n != 20 {
				t.Errorf("%d %s, want 20", n, table)
			}
		}
		if n := f.count("SELECT sent FROM notify_daily_counts WHERE service_id = ? AND channel = 'email'", f.a.id); n != 10 {
			t.Errorf("daily count %d, want 10", n)
		}
		for id := range stored {
			if f.count("SELECT count(*) FROM river_job WHERE kind IN ('notify.deliver', 'notify.deliver_batch') AND CAST(args AS TEXT) LIKE ?",
				"%"+id+"%") != 1 {
				t.Errorf("notification %s is not stored with exactly one delivery job", id)
			}
		}
		// Later sends are refused by the early check, before the body is read.
		f.do("POST", "/v2/notifications/email", f.a.liveKey, "not json").wantError(t, 429, "TooManyRequestsError",
			"Exceeded send limits (email: 10) for today")
	})
}
