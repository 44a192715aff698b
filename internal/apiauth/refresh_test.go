package apiauth

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// gatedSource holds every read until its gate opens, and answers with the keys as they were
// when the read began.
type gatedSource struct {
	mu    sync.Mutex
	keys  ServiceKeys
	reads int
	gate  chan struct{}
	panic bool
}

func (s *gatedSource) ServiceKeys(ctx context.Context, id string) (ServiceKeys, error) {
	s.mu.Lock()
	s.reads++
	keys, gate, panics := s.keys, s.gate, s.panic
	s.mu.Unlock()
	<-gate
	if panics {
		panic("source broke")
	}
	return keys, nil
}

func (s *gatedSource) set(f func(*gatedSource)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func liveKeys(revoked bool) ServiceKeys {
	return ServiceKeys{Found: true, Keys: []Key{{ID: "key-a", Type: Team, Secret: secretA, Revoked: revoked}}}
}

// tryJWT authenticates a fresh token for serviceID signed with secretA.
func tryJWT(ctx context.Context, a *Authenticator) (Identity, error) {
	r := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+sign(hs256, claims(serviceID, time.Now().Unix()), secretA))
	return a.JWT(r)
}

func reasonOf(err error) Reason {
	var f *Failure
	if errors.As(err, &f) {
		return f.Reason
	}
	return 0
}

// Requests that find a service's keys stale together wait for one read of them.
func TestStaleKeysReadOnceForConcurrentRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &gatedSource{keys: liveKeys(false), gate: make(chan struct{})}
		a := New(src)
		errs := make(chan error, 10)
		for range 10 {
			go func() {
				_, err := tryJWT(t.Context(), a)
				errs <- err
			}()
		}
		synctest.Wait()
		if src.reads != 1 {
			t.Fatalf("%d reads under way for one service, want 1", src.reads)
		}
		close(src.gate)
		for range 10 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tryJWT(t.Context(), a); err != nil || src.reads != 1 {
			t.Fatalf("after the read: %v, %d reads", err, src.reads)
		}
	})
}

// A read that began before Forget answers its own waiters but does not fill the cache: requests
// after Forget see the change.
func TestForgetOutranksReadUnderWay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		before := make(chan struct{})
		src := &gatedSource{keys: liveKeys(false), gate: before}
		a := New(src)
		early := make(chan error, 1)
		go func() {
			_, err := tryJWT(t.Context(), a)
			early <- err
		}()
		synctest.Wait() // the early read has begun, with the key still good

		after := make(chan struct{})
		src.set(func(s *gatedSource) { s.keys, s.gate = liveKeys(true), after })
		a.Forget(serviceID)
		late := make(chan error, 1)
		go func() {
			_, err := tryJWT(t.Context(), a)
			late <- err
		}()
		synctest.Wait()
		if src.reads != 2 {
			t.Fatalf("%d reads, want a second one after Forget", src.reads)
		}
		close(after)
		if err := <-late; reasonOf(err) != KeyRevoked {
			t.Fatalf("request after Forget: %v, want revoked", err)
		}
		close(before)
		if err := <-early; err != nil {
			t.Fatalf("request before Forget: %v", err)
		}
		if _, err := tryJWT(t.Context(), a); reasonOf(err) != KeyRevoked || src.reads != 2 {
			t.Fatalf("from the cache: %v after %d reads; the stale read filled the cache", err, src.reads)
		}
	})
}

// A request whose client leaves stops waiting, even the one that started the read; the read
// goes on for the others and fills the cache.
func TestLeavingRequestsDoNotStopTheRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &gatedSource{keys: liveKeys(false), gate: make(chan struct{})}
		a := New(src)
		ctx, cancel := context.WithCancel(t.Context())
		first := make(chan error, 1)
		go func() {
			_, err := tryJWT(ctx, a)
			first <- err
		}()
		synctest.Wait()
		second := make(chan error, 1)
		go func() {
			_, err := tryJWT(t.Context(), a)
			second <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-first; !errors.Is(err, context.Canceled) {
			t.Fatalf("request whose client left: %v", err)
		}
		close(src.gate)
		if err := <-second; err != nil {
			t.Fatal(err)
		}
		if _, err := tryJWT(t.Context(), a); err != nil || src.reads != 1 {
			t.Fatalf("from the cache: %v after %d reads", err, src.reads)
		}
	})
}

// A read that panics answers everyone waiting for it with an error, and the next request
// reads again.
func TestPanickingReadReleasesWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &gatedSource{keys: liveKeys(false), gate: make(chan struct{}), panic: true}
		a := New(src)
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := tryJWT(t.Context(), a)
				errs <- err
			}()
		}
		synctest.Wait()
		close(src.gate)
		for range 2 {
			if err := <-errs; err == nil || reasonOf(err) != 0 || !strings.Contains(err.Error(), "source broke") {
				t.Fatalf("waiter of a panicked read: %v, want an internal error", err)
			}
		}
		src.set(func(s *gatedSource) { s.panic = false })
		if _, err := tryJWT(t.Context(), a); err != nil || src.reads != 2 {
			t.Fatalf("next request: %v after %d reads", err, src.reads)
		}
	})
}
