package pay

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestExpiry(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		created, _ := f.create(f.a.testKey, webPayment(100))
		_, startedTok := f.create(f.a.testKey, webPayment(100))
		started, _ := f.svc.StartWithToken(f.ctx, startedTok)
		_, authTok := f.create(f.a.testKey, webPayment(100))
		authorised, _ := f.svc.StartWithToken(f.ctx, authTok)
		authorised, _ = f.svc.Authorise(f.ctx, authorised.ID, card("4242424242424242"))
		delayed := webPayment(100)
		delayed["delayed_capture"] = true
		capturableID, capTok := f.create(f.a.testKey, delayed)
		f.pay(capTok, "4242424242424242")
		done := f.captured(f.a.testKey, 100)

		expire := func() int {
			n, err := f.svc.ExpireAbandoned(f.ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		f.clock.Advance(ExpiryWindow - time.Second)
		if n := expire(); n != 0 {
			t.Fatalf("expired %d before 90 minutes", n)
		}
		// A payment that moved in the last five minutes is left alone.
		f.clock.Advance(2 * time.Second)
		if _, err := f.d.Exec(f.ctx, "UPDATE pay_payments SET updated_at = ? WHERE id = ?", f.clock.Now().Add(-time.Minute), started.ID); err != nil {
			t.Fatal(err)
		}
		if n := expire(); n != 2 {
			t.Fatalf("expired %d, want 2 (created and authorised)", n)
		}
		if st := f.status(created); st != StatusExpired {
			t.Errorf("created payment is %s", st)
		}
		if st := f.status(authorised.ID); st != StatusExpired {
			t.Errorf("authorised payment is %s", st)
		}
		if st := f.status(started.ID); st != StatusEnteringCardDetails {
			t.Errorf("recently changed payment is %s", st)
		}
		state := f.do("GET", "/v1/payments/"+created, f.a.testKey, nil).want(t, http.StatusOK).body["state"]
		if s := state.(map[string]any); s["code"] != "P0020" || s["message"] != "Payment expired" || s["status"] != "failed" {
			t.Errorf("state %v", s)
		}
		f.clock.Advance(ExpiryGrace)
		if n := expire(); n != 1 {
			t.Fatalf("expired %d, want 1", n)
		}
		// Delayed capture has five days.
		if st := f.status(capturableID); st != StatusAwaitingCaptureRequest {
			t.Fatalf("capturable payment is %s", st)
		}
		f.clock.Advance(DelayedCaptureWindow)
		if n := expire(); n != 1 {
			t.Fatalf("expired %d, want the capturable one", n)
		}
		if st := f.status(capturableID); st != StatusExpired {
			t.Errorf("capturable payment is %s", st)
		}
		if st := f.status(done); st != StatusCaptured {
			t.Errorf("captured payment is %s", st)
		}
	})
}

// flakyCapture is the sandbox, except that capture fails until told otherwise.
type flakyCapture struct {
	Sandbox
	ok    *atomic.Bool
	calls *atomic.Int32
}

func (p flakyCapture) Capture(ctx context.Context, req CaptureRequest) (CaptureResult, error) {
	p.calls.Add(1)
	if p.ok.Load() {
		fee := int64(12)
		return CaptureResult{Reference: "cap", Fee: &fee}, nil
	}
	return CaptureResult{}, errProvider
}

func TestCaptureRetries(t *testing.T) {
	ok, calls := &atomic.Bool{}, &atomic.Int32{}
	eachWith(t, map[string]Provider{SandboxName: flakyCapture{ok: ok, calls: calls}}, func(t *testing.T, f *fixture) {
		ok.Store(false)
		calls.Store(0)
		t.Run("succeeds on a retry", func(t *testing.T) {
			id, tok := f.create(f.a.testKey, webPayment(1000))
			f.pay(tok, "4444333322221111")
			retry, err := f.svc.CaptureOnce(f.ctx, id)
			if err != nil || !retry {
				t.Fatalf("retry %v err %v", retry, err)
			}
			if st := f.status(id); st != StatusCaptureApprovedRetry {
				t.Fatalf("status %s", st)
			}
			if s := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).body["state"].(map[string]any); s["status"] != "success" {
				t.Fatalf("state %v", s)
			}
			ok.Store(true)
			if retry, err = f.svc.CaptureOnce(f.ctx, id); err != nil || retry {
				t.Fatalf("retry %v err %v", retry, err)
			}
			p, _ := f.svc.Payment(f.ctx, f.a.id, id)
			if p.Status != StatusCaptured || p.CaptureAttempts != 2 || *p.Fee != 12 || *p.NetAmount != 988 {
				t.Fatalf("payment %s attempts %d fee %v net %v", p.Status, p.CaptureAttempts, p.Fee, p.NetAmount)
			}
			if n := f.count("SELECT count(*) FROM pay_ledger WHERE payment_id = ?", id); n != 2 {
				t.Fatalf("%d ledger rows, want capture and fee", n)
			}
			// Running the job again for a captured payment does nothing.
			before := calls.Load()
			if retry, err = f.svc.CaptureOnce(f.ctx, id); err != nil || retry || calls.Load() != before {
				t.Fatalf("captured again: retry %v err %v", retry, err)
			}
		})
		t.Run("gives up after 26 retries", func(t *testing.T) {
			ok.Store(false)
			id, tok := f.create(f.a.testKey, webPayment(1000))
			f.pay(tok, "4444333322221111")
			for i := range MaxCaptureRetries + 1 {
				retry, err := f.svc.CaptureOnce(f.ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if want := i < MaxCaptureRetries; retry != want {
					t.Fatalf("attempt %d: retry %v", i+1, retry)
				}
			}
			if st := f.status(id); st != StatusCaptureError {
				t.Fatalf("status %s", st)
			}
			s := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).body["state"].(map[string]any)
			if s["status"] != "error" || s["code"] != "P0050" {
				t.Fatalf("state %v", s)
			}
		})
		t.Run("a capture interrupted after claiming is picked up again", func(t *testing.T) {
			ok.Store(true)
			id, tok := f.create(f.a.testKey, webPayment(1000))
			f.pay(tok, "4444333322221111")
			forceStatus(t, f, id, StatusCaptureReady)
			if _, err := f.svc.CaptureOnce(f.ctx, id); err != nil {
				t.Fatal(err)
			}
			if st := f.status(id); st != StatusCaptured {
				t.Fatalf("status %s", st)
			}
		})
	})
}

func TestForgetSpent(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.do("POST", "/v1/payments", f.a.testKey, webPayment(100), "Idempotency-Key", "k1").want(t, http.StatusCreated)
		f.clock.Advance(IdempotencyWindow + time.Minute)
		if err := f.svc.ForgetSpent(f.ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.count("SELECT count(*) FROM pay_idempotency"); n != 0 {
			t.Fatalf("%d idempotency keys kept", n)
		}
		if n := f.count("SELECT count(*) FROM pay_tokens"); n != 1 {
			t.Fatalf("%d tokens, want the one still valid", n)
		}
		f.clock.Advance(TokenLifetime)
		if err := f.svc.ForgetSpent(f.ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.count("SELECT count(*) FROM pay_tokens"); n != 0 {
			t.Fatalf("%d tokens kept", n)
		}
	})
}
