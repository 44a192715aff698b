package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"syscall"
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

// BenchmarkStoreSendBatch measures the send batcher's transaction alone, at fixed batch
// sizes, on a table that already holds many notifications (as a busy node's does): the
// database work of an accepted send, apart from HTTP and its checks. cpu-µs/send is this
// process's CPU time (user and system) per notification stored; on PostgreSQL the server's
// own work is not in it.
func BenchmarkStoreSendBatch(b *testing.B) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			f := newV2Fixture(b, dbtest.Open(b, engine, migrateV2))
			const existing = 50_000
			for done := 0; done < existing; done += maxSendBatch {
				storeBenchBatch(b, f, maxSendBatch)
			}
			for _, size := range []int{1, 8, 32, 128} {
				b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
					start := cpuUsed()
					sends := 0
					for b.Loop() {
						storeBenchBatch(b, f, size)
						sends += size
					}
					b.ReportMetric(float64((cpuUsed()-start).Microseconds())/float64(sends), "cpu-µs/send")
				})
			}
		})
	}
}

// storeBenchBatch stores size email notifications of tenant a, made as a send makes them,
// in one batch.
func storeBenchBatch(b *testing.B, f *v2Fixture, size int) {
	batch := make([]*pendingSend, size)
	for i := range batch {
		n := &Notification{ID: newNotificationID(), ServiceID: f.a.id, TemplateID: f.a.emailTemplate.ID,
			TemplateVersion: 1, Type: Email, APIKeyID: "", KeyType: "test", Personalisation: map[string]any{"name": "x"},
			Status: StatusCreated, Subject: "Hello x", Body: "Hello x\r\n\r\nFunctional test help make our world a better place",
			CreatedAt: time.Now().UTC(), RateMultiplier: 1, Recipient: "a@example.com", NormalisedTo: "a@example.com"}
		batch[i] = &pendingSend{n: n, personalisation: `{"name":"x"}`, done: make(chan error, 1)}
	}
	f.svc.storeSendBatch(batch)
	for _, p := range batch {
		if err := <-p.done; err != nil {
			b.Fatal(err)
		}
	}
}

// cpuUsed is the CPU time this process has used so far.
func cpuUsed() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
