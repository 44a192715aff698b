package pay

import (
	"context"
	"crypto/rand"
	"math/big"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/ratelimit"
)

// Creates made at once are stored together, and each is whole: its payment, its first event
// and a token that starts its journey.
func TestConcurrentCreatesAreEachStored(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		if err := f.svc.SetSettings(f.ctx, f.a.id, Settings{Provider: SandboxName, MOTOAPIEnabled: true}); err != nil {
			t.Fatal(err)
		}
		const n = 40
		answers := make([]response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := webPayment(100 + i)
				if i%4 == 0 {
					body["authorisation_mode"] = "moto_api"
					delete(body, "return_url")
				}
				answers[i] = f.do("POST", "/v1/payments", f.a.testKey, body)
			}()
		}
		wg.Wait()
		ids := make([]string, n)
		tokens := make([]string, n)
		for i, r := range answers {
			r.want(t, http.StatusCreated)
			ids[i], _ = r.body["payment_id"].(string)
			if i%4 == 0 {
				tokens[i] = r.motoToken(t)
			} else {
				tokens[i] = r.webToken(t)
			}
		}
		if got := f.count("SELECT count(*) FROM pay_payments"); got != n {
			t.Fatalf("%d payments stored", got)
		}
		if got := f.count("SELECT count(*) FROM pay_events WHERE event = 'PaymentCreated'"); got != n {
			t.Fatalf("%d created events", got)
		}
		seen := map[string]bool{}
		for i := range n {
			if seen[tokens[i]] {
				t.Fatalf("token %d repeated", i)
			}
			seen[tokens[i]] = true
			var amount int64
			if err := f.d.QueryRow(f.ctx, "SELECT amount FROM pay_payments WHERE id = ?", ids[i]).Scan(&amount); err != nil || amount != int64(100+i) {
				t.Fatalf("payment %d: amount %d, %v", i, amount, err)
			}
			if i%4 == 0 {
				continue
			}
			p, err := f.svc.StartWithToken(f.ctx, tokens[i])
			if err != nil || p.ID != ids[i] {
				t.Fatalf("token %d opens %v, %v", i, p, err)
			}
		}
	})
}

// A create whose request goes away before its batch is stored is not stored.
func TestCreateAbandonedBeforeItsBatchIsDropped(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		b := &createBatcher{}
		b.flushing = true // as if a batch were being stored: the create waits in the queue
		p := &Payment{ID: NewID()}
		if _, err := b.submit(ctx, f.svc, p); err != context.Canceled {
			t.Fatalf("submit: %v", err)
		}
		if len(b.queue) != 0 {
			t.Fatalf("%d creates left queued", len(b.queue))
		}
	})
}

// A service's own rate limit replaces GOV.UK Pay's, and saving the other settings keeps it.
func TestServiceRateLimit(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		limiter := ratelimit.New(f.d)
		limiter.Now = f.clock.Now
		f.svc.cfg.Limiter = limiter
		if err := f.svc.SetRateLimit(f.ctx, f.a.id, 3); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetSettings(f.ctx, f.a.id, Settings{Provider: SandboxName, MOTOEnabled: true}); err != nil {
			t.Fatal(err)
		}
		st, err := f.svc.Settings(f.ctx, f.a.id)
		if err != nil || st.RateLimit != 3 || !st.MOTOEnabled {
			t.Fatalf("settings %+v, %v", st, err)
		}
		for range 3 {
			f.do("POST", "/v1/payments", f.a.testKey, webPayment(100)).want(t, http.StatusCreated)
		}
		f.do("POST", "/v1/payments", f.a.testKey, webPayment(100)).want(t, http.StatusTooManyRequests)
		for range 15 {
			f.do("GET", "/v1/payments", f.a.testKey, nil).want(t, http.StatusOK)
		}
		f.do("GET", "/v1/payments", f.a.testKey, nil).want(t, http.StatusTooManyRequests)
		// Raised: a change made through this node applies at once.
		if err := f.svc.SetRateLimit(f.ctx, f.a.id, 100); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Second)
		for range 20 {
			f.do("POST", "/v1/payments", f.a.testKey, webPayment(100)).want(t, http.StatusCreated)
		}
		// Back to GOV.UK Pay's.
		if err := f.svc.SetRateLimit(f.ctx, f.a.id, 0); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Second)
		for range 15 {
			f.do("POST", "/v1/payments", f.a.testKey, webPayment(100)).want(t, http.StatusCreated)
		}
		f.do("POST", "/v1/payments", f.a.testKey, webPayment(100)).want(t, http.StatusTooManyRequests)
	})
}

// NewID's arithmetic-free formatting writes what formatID writes for the same 130 bits.
func TestIDFromBytesMatchesFormatID(t *testing.T) {
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), idBits), big.NewInt(1))
	cases := [][idBytes]byte{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	for range 1000 {
		var b [idBytes]byte
		_, _ = rand.Read(b[:])
		cases = append(cases, b)
	}
	for _, b := range cases {
		want := formatID(new(big.Int).And(new(big.Int).SetBytes(b[:]), mask))
		if got := idFromBytes(b); got != want {
			t.Fatalf("%x: %s, want %s", b, got, want)
		}
	}
}
