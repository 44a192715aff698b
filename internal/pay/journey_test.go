package pay

import (
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/commons-gov/commons/internal/db"
)

func TestJourney(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		t.Run("token works once", func(t *testing.T) {
			id, tok := f.create(f.a.testKey, webPayment(100))
			p, err := f.svc.StartWithToken(f.ctx, tok)
			if err != nil || p.ID != id || p.Status != StatusEnteringCardDetails {
				t.Fatalf("%+v %v", p, err)
			}
			if _, err := f.svc.StartWithToken(f.ctx, tok); !errors.Is(err, ErrTokenUsed) {
				t.Fatalf("second use: %v", err)
			}
			if _, err := f.svc.StartWithToken(f.ctx, "nosuchtoken"); !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("unknown token: %v", err)
			}
			state := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body["state"]
			if state.(map[string]any)["status"] != "started" {
				t.Fatalf("state %v", state)
			}
		})
		t.Run("token expires after 7 days", func(t *testing.T) {
			_, tok := f.create(f.a.testKey, webPayment(100))
			f.clock.Advance(TokenLifetime)
			if _, err := f.svc.StartWithToken(f.ctx, tok); !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("expired token: %v", err)
			}
		})
		t.Run("invalid card changes nothing", func(t *testing.T) {
			_, tok := f.create(f.a.testKey, webPayment(100))
			p, _ := f.svc.StartWithToken(f.ctx, tok)
			if _, err := f.svc.Authorise(f.ctx, p.ID, card("1234567890123")); !errors.Is(err, ErrCardInvalid) {
				t.Fatalf("err %v", err)
			}
			if st := f.status(p.ID); st != StatusEnteringCardDetails {
				t.Fatalf("status %s", st)
			}
		})
		t.Run("sandbox outcomes", func(t *testing.T) {
			for number, want := range map[string]Status{
				"4444333322221111": StatusAuthorisationSuccess,
				"5105105105105100": StatusAuthorisationSuccess,
				"371449635398431":  StatusAuthorisationSuccess,
				"222100000000000":  StatusAuthorisationSuccess,
				"36148900647913":   StatusAuthorisationSuccess,
				"4000000000000002": StatusAuthorisationRejected,
				"4000000000000069": StatusAuthorisationRejected,
				"4000000000000127": StatusAuthorisationRejected,
				"4000000000000119": StatusAuthorisationError,
				"4012888888881881": StatusAuthorisationError, // a valid Visa number the sandbox does not support
				sandbox3DS:         StatusAuthorisation3DSRequired,
			} {
				_, tok := f.create(f.a.testKey, webPayment(100))
				p, _ := f.svc.StartWithToken(f.ctx, tok)
				p, err := f.svc.Authorise(f.ctx, p.ID, card(number))
				if err != nil || p.Status != want {
					t.Errorf("%s: %v %v, want %s", number, p.Status, err, want)
				}
			}
		})
		t.Run("3-D Secure", func(t *testing.T) {
			id, tok := f.create(f.a.testKey, webPayment(100))
			p, _ := f.svc.StartWithToken(f.ctx, tok)
			p, _ = f.svc.Authorise(f.ctx, p.ID, card(sandbox3DS))
			if p.ThreeDSData == "" || p.ThreeDSRequired == nil || !*p.ThreeDSRequired {
				t.Fatalf("3DS payment %+v", p)
			}
			if _, err := f.svc.Confirm(f.ctx, id); !errors.Is(err, ErrWrongStep) {
				t.Fatalf("confirm before 3DS: %v", err)
			}
			p, err := f.svc.Authorise3DS(f.ctx, id, ThreeDSResult{Passed: true})
			if err != nil || p.Status != StatusAuthorisationSuccess {
				t.Fatalf("%v %v", p.Status, err)
			}
			body := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body
			if body["authorisation_summary"] == nil || body["state"].(map[string]any)["status"] != "submitted" {
				t.Fatalf("payment %v", body)
			}
			// A failed challenge is a rejection.
			_, tok2 := f.create(f.a.testKey, webPayment(100))
			p2, _ := f.svc.StartWithToken(f.ctx, tok2)
			f.svc.Authorise(f.ctx, p2.ID, card(sandbox3DS))
			if p2, _ = f.svc.Authorise3DS(f.ctx, p2.ID, ThreeDSResult{}); p2.Status != StatusAuthorisationRejected {
				t.Fatalf("failed challenge: %s", p2.Status)
			}
		})
		t.Run("user cancel", func(t *testing.T) {
			id, tok := f.create(f.a.testKey, webPayment(100))
			p, _ := f.svc.StartWithToken(f.ctx, tok)
			if p, _ = f.svc.UserCancel(f.ctx, p.ID); p.Status != StatusUserCancelled {
				t.Fatalf("status %s", p.Status)
			}
			state := f.do("GET", "/v1/payments/"+id, f.a.testKey, nil).want(t, 200).body["state"]
			if state.(map[string]any)["code"] != "P0030" {
				t.Fatalf("state %v", state)
			}
			// After authorisation the provider voids it first.
			_, tok = f.create(f.a.testKey, webPayment(100))
			p, _ = f.svc.StartWithToken(f.ctx, tok)
			f.svc.Authorise(f.ctx, p.ID, card("4242424242424242"))
			if p, _ = f.svc.UserCancel(f.ctx, p.ID); p.Status != StatusUserCancelled {
				t.Fatalf("status %s", p.Status)
			}
			if _, err := f.svc.UserCancel(f.ctx, p.ID); !errors.Is(err, ErrWrongStep) {
				t.Fatalf("second cancel: %v", err)
			}
		})
		t.Run("page reads", func(t *testing.T) {
			id, _ := f.create(f.a.testKey, webPayment(100))
			if p, err := f.svc.PaymentForPage(f.ctx, id); err != nil || p.ID != id {
				t.Fatalf("%v %v", p, err)
			}
			if _, err := f.svc.PaymentForPage(f.ctx, "nope"); err == nil {
				t.Fatal("found a payment that does not exist")
			}
		})
	})
}

// TestCancelRacesCapture has a service cancel and capture one delayed-capture payment at the
// same moment, many times over: exactly one of the two wins each time.
func TestCancelRacesCapture(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		body := webPayment(100)
		body["delayed_capture"] = true
		for range 10 {
			id, tok := f.create(f.a.testKey, body)
			f.pay(tok, "4444333322221111")
			var wg sync.WaitGroup
			var cancel, capture int
			wg.Add(2)
			go func() { defer wg.Done(); cancel = f.do("POST", "/v1/payments/"+id+"/cancel", f.a.testKey, nil).status }()
			go func() {
				defer wg.Done()
				capture = f.do("POST", "/v1/payments/"+id+"/capture", f.a.testKey, nil).status
			}()
			wg.Wait()
			st := f.status(id)
			switch {
			case cancel == http.StatusNoContent && capture == http.StatusConflict:
				if st != StatusSystemCancelled {
					t.Fatalf("cancel won but payment is %s", st)
				}
			case capture == http.StatusNoContent && cancel == http.StatusBadRequest:
				if st != StatusCaptureApproved {
					t.Fatalf("capture won but payment is %s", st)
				}
			default:
				t.Fatalf("cancel %d, capture %d, payment %s", cancel, capture, st)
			}
		}
	})
}

// TestTransitionCompareAndSet races two transitions from the same status directly.
func TestTransitionCompareAndSet(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		id, _ := f.create(f.a.testKey, webPayment(100))
		p, err := f.svc.Payment(f.ctx, f.a.id, id)
		if err != nil {
			t.Fatal(err)
		}
		a, b := *p, *p
		tx1 := func(p *Payment, to Status) error {
			return f.d.InTx(f.ctx, func(tx *db.Tx) error { return transition(f.ctx, tx, p, to, f.svc.now()) })
		}
		if err := tx1(&a, StatusSystemCancelled); err != nil {
			t.Fatal(err)
		}
		if err := tx1(&b, StatusEnteringCardDetails); !errors.Is(err, errStale) {
			t.Fatalf("second transition from CREATED: %v", err)
		}
		if err := tx1(&a, StatusCreated); err == nil {
			t.Fatal("transition out of SYSTEM CANCELLED allowed")
		}
		if n := f.count("SELECT count(*) FROM pay_events WHERE payment_id = ?", id); n != 2 {
			t.Fatalf("%d events, want 2", n)
		}
	})
}
