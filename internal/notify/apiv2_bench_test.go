package notify

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
)

// BenchmarkV2SendEmail measures POST /v2/notifications/email through the mux on SQLite: the
// whole accepted path, authentication to commit.
func BenchmarkV2SendEmail(b *testing.B) {
	d := dbtest.Open(b, db.SQLite, migrateV2)
	f := newV2Fixture(b, d)
	f.svc.cfg.Limiter.Now = time.Now
	st := DefaultSettings(f.a.id)
	st.RateLimit, st.EmailDailyLimit = 60_000, 1_000_000_000
	if err := f.svc.SaveSettings(f.ctx, st); err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"email_address": "a@example.com", "template_id": f.a.emailTemplate.ID,
		"personalisation": map[string]any{"name": "x"}})
	auth := "Bearer " + v2Token(f.a.liveKey, f.clock.Now())
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", f.srv.URL+"/v2/notifications/email", bytes.NewReader(body))
			req.Header.Set("Authorization", auth)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode != 201 {
				raw, _ := io.ReadAll(resp.Body)
				b.Errorf("status %d: %s", resp.StatusCode, raw)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
