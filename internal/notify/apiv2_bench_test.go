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

// BenchmarkV2SendEmail measures POST /v2/notifications/email through the mux on each engine:
// the whole accepted path, authentication to commit, with the client in the same process.
func BenchmarkV2SendEmail(b *testing.B) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		b.Run(string(engine), func(b *testing.B) { benchmarkV2SendEmail(b, dbtest.Open(b, engine, migrateV2)) })
	}
}

func benchmarkV2SendEmail(b *testing.B, d *db.DB) {
	f := newV2Fixture(b, d)
	f.svc.cfg.Limiter.Now = time.Now
	st := DefaultSettings(f.a.id)
	// A limit of 100 million a minute: a bucket of 1,000 tokens refilling faster than any run
	// sends, so that every request takes a token and none is refused.
	st.RateLimit, st.EmailDailyLimit = 100_000_000, 1_000_000_000
	if err := f.svc.SaveSettings(f.ctx, st); err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"email_address": "a@example.com", "template_id": f.a.emailTemplate.ID,
		"personalisation": map[string]any{"name": "x"}})
	auth := "Bearer " + v2Token(f.a.liveKey, f.clock.Now())
	// Keep every client connection open between requests, as a real client's pool does
	// (http.DefaultClient keeps only two per host and reconnects for the rest).
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", f.srv.URL+"/v2/notifications/email", bytes.NewReader(body))
			req.Header.Set("Authorization", auth)
			resp, err := client.Do(req)
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
