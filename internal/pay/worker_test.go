package pay

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/jobs"
)

// TestCaptureJobRuns has a real River client work the capture job that confirming a payment
// queues.
func TestCaptureJobRuns(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		workers := river.NewWorkers()
		f.svc.RegisterWorkers(workers)
		worker, err := jobs.New(f.d, jobs.Config{Workers: workers, Work: true, Queues: Queues(),
			FetchPollInterval: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if err := worker.Start(f.ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = worker.Stop(f.ctx) })
		id, tok := f.create(f.a.testKey, webPayment(100))
		f.pay(tok, "4444333322221111")
		deadline := time.Now().Add(20 * time.Second)
		for f.status(id) != StatusCaptured {
			if time.Now().After(deadline) {
				t.Fatalf("payment still %s", f.status(id))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestFaultsOnOurSide checks the 500s each endpoint answers when its store fails, and the 403
// for a provider this node does not have.
func TestFaultsOnOurSide(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		if _, err := f.d.Exec(f.ctx, "INSERT INTO pay_settings (service_id, provider, updated_at) VALUES (?, 'worldpay', ?)",
			f.a.id, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		f.do("POST", "/v1/payments", f.a.liveKey, webPayment(100)).wantError(t, 403,
			`{"code":"P0940","description":"Account is not fully configured. Please refer to documentation to setup your account or contact support with your error code - https://www.payments.service.gov.uk/support/ ."}`)
		id, _ := f.create(f.a.testKey, webPayment(100)) // test payments use the sandbox whatever the setting
		for _, table := range []string{"pay_events", "pay_refunds"} {
			if _, err := f.d.Exec(f.ctx, "DROP TABLE "+table); err != nil {
				t.Fatal(err)
			}
		}
		f.do("GET", "/v1/payments/"+id+"/events", f.a.testKey, nil).wantError(t, http.StatusInternalServerError,
			`{"code":"P0398","description":"Downstream system error"}`)
		f.do("GET", "/v1/refunds", f.a.testKey, nil).wantError(t, http.StatusInternalServerError,
			`{"code":"P1898","description":"Downstream system error"}`)
		f.do("GET", "/v1/payments/"+id+"/refunds", f.a.testKey, nil).wantError(t, http.StatusInternalServerError,
			`{"code":"P0898","description":"Downstream system error"}`)
		f.do("POST", "/v1/payments", f.a.testKey, webPayment(100)).wantError(t, http.StatusInternalServerError,
			`{"code":"P0198","description":"Downstream system error"}`)
	})
}
