package apiauth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Identity is who an authenticated API request comes from.
type Identity struct {
	ServiceID   string
	ServiceLive bool
	KeyID       string
	KeyName     string
	KeyType     KeyType
}

// CacheTTL is how long a service's keys are trusted before they are read again. It bounds how
// long a revoked key keeps working on any node: under one second, on every node, without
// nodes having to talk to each other.
const CacheTTL = 500 * time.Millisecond

// ClockLeeway is how far a JWT's iat may be from our clock either way (notify.md §1.3).
const ClockLeeway = 30 * time.Second

// Authenticator verifies API credentials against a Source, caching each service's keys for
// CacheTTL and remembering when each key was last used.
type Authenticator struct {
	source Source
	// Now is the clock; tests replace it.
	Now func() time.Time

	mu         sync.RWMutex
	cache      map[string]*cachedKeys
	refreshing map[string]*refresh

	usedMu sync.Mutex
	used   map[string]time.Time
}

type cachedKeys struct {
	keys    ServiceKeys
	macs    []*keyMAC // one for each of keys.Keys, in the same order
	fetched time.Time
}

func (c *cachedKeys) freshAt(now time.Time) bool {
	return now.Sub(c.fetched) < CacheTTL && now.Sub(c.fetched) >= 0
}

// refresh is one read of a service's keys in progress. Requests that find the cache entry stale
// while it runs wait for it rather than each reading the keys too: when an entry expires under
// load, the database sees one read instead of one per request in flight.
type refresh struct {
	done chan struct{}
	c    *cachedKeys
	err  error
}

// New returns an Authenticator reading keys from source.
func New(source Source) *Authenticator {
	return &Authenticator{source: source, Now: time.Now, cache: map[string]*cachedKeys{},
		refreshing: map[string]*refresh{}, used: map[string]time.Time{}}
}

// serviceKeys returns the service's keys as of now, from the cache while it is fresh.
func (a *Authenticator) serviceKeys(ctx context.Context, serviceID string, now time.Time) (*cachedKeys, error) {
	a.mu.RLock()
	c, ok := a.cache[serviceID]
	a.mu.RUnlock()
	if ok && c.freshAt(now) {
		return c, nil
	}
	a.mu.Lock()
	if c, ok := a.cache[serviceID]; ok && c.freshAt(now) {
		a.mu.Unlock()
		return c, nil
	}
	r, running := a.refreshing[serviceID]
	if !running {
		r = &refresh{done: make(chan struct{})}
		a.refreshing[serviceID] = r
		// The read serves every request that joins it, so it runs on its own, unaffected
		// by this request's client leaving; each request waits only as long as it has.
		go a.read(context.WithoutCancel(ctx), serviceID, now, r)
	}
	a.mu.Unlock()
	select {
	case <-r.done:
		return r.c, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// read runs a refresh and publishes its result. A panic in the source becomes the read's
// error, so that it reaches the requests waiting for it (and their logs) rather than ending
// the process from this goroutine.
func (a *Authenticator) read(ctx context.Context, serviceID string, now time.Time, r *refresh) {
	defer func() {
		if v := recover(); v != nil {
			r.c, r.err = nil, fmt.Errorf("apiauth: reading the keys of service %s: panic: %v", serviceID, v)
		}
		a.mu.Lock()
		// Forget detaches a refresh that began before the change it announces; such a
		// refresh answers the requests that waited for it but must not fill the cache.
		if a.refreshing[serviceID] == r {
			delete(a.refreshing, serviceID)
			if r.err == nil {
				if len(a.cache) > 100_000 {
					// Unknown service ids are cached too (so that guessing them is cheap for
					// us); a flood of them must not grow the map without bound.
					clear(a.cache)
				}
				a.cache[serviceID] = r.c
			}
		}
		a.mu.Unlock()
		close(r.done)
	}()
	keys, err := a.source.ServiceKeys(ctx, serviceID)
	if err != nil {
		r.err = err
		return
	}
	c := &cachedKeys{keys: keys, macs: make([]*keyMAC, len(keys.Keys)), fetched: now}
	for i, k := range keys.Keys {
		c.macs[i] = newKeyMAC(k.Secret)
	}
	r.c, r.err = c, nil
}

// Forget drops a service from the cache, so that a change made through this node (a key
// revoked in the console, say) applies here at once rather than within CacheTTL. A read of the
// service's keys already under way may predate the change, so later requests read afresh.
func (a *Authenticator) Forget(serviceID string) {
	a.mu.Lock()
	delete(a.cache, serviceID)
	delete(a.refreshing, serviceID)
	a.mu.Unlock()
}

func (a *Authenticator) markUsed(keyID string, at time.Time) {
	a.usedMu.Lock()
	a.used[keyID] = at
	a.usedMu.Unlock()
}

// Toucher records when keys were last used. The platform store implements it.
type Toucher interface {
	TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error
}

// FlushLastUsed writes the last-used times gathered since the previous flush. Writing them in
// batches keeps a database write off every API request.
func (a *Authenticator) FlushLastUsed(ctx context.Context, to Toucher) error {
	a.usedMu.Lock()
	batch := a.used
	a.used = map[string]time.Time{}
	a.usedMu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := to.TouchAPIKeys(ctx, batch); err != nil {
		// Put them back so the next flush tries again, keeping any newer times.
		a.usedMu.Lock()
		for id, t := range batch {
			if cur, ok := a.used[id]; !ok || t.After(cur) {
				a.used[id] = t
			}
		}
		a.usedMu.Unlock()
		return err
	}
	return nil
}

// BearerKey authenticates a request that carries a whole API key as its bearer token, as Pay
// and Commons' own APIs do.
func (a *Authenticator) BearerKey(r *http.Request) (Identity, error) {
	token, err := bearerToken(r)
	if err != nil {
		return Identity{}, err
	}
	serviceID, secretPart, err := ParseKey(token)
	if err != nil {
		return Identity{}, &Failure{Reason: MalformedKey}
	}
	now := a.Now()
	entry, err := a.serviceKeys(r.Context(), lowerASCII(serviceID), now)
	if err != nil {
		return Identity{}, err
	}
	keys := entry.keys
	if !keys.Found {
		return Identity{}, &Failure{Reason: KeyNotFound}
	}
	if keys.Archived {
		return Identity{}, &Failure{Reason: ServiceArchived}
	}
	for _, k := range keys.Keys {
		if subtle.ConstantTimeCompare([]byte(k.Secret), []byte(secretPart)) == 1 {
			if k.Revoked {
				return Identity{}, &Failure{Reason: KeyRevoked}
			}
			return a.identify(lowerASCII(serviceID), keys, k, now), nil
		}
	}
	return Identity{}, &Failure{Reason: KeyNotFound}
}

func (a *Authenticator) identify(serviceID string, keys ServiceKeys, k Key, now time.Time) Identity {
	a.markUsed(k.ID, now)
	return Identity{ServiceID: serviceID, ServiceLive: keys.Live, KeyID: k.ID, KeyName: k.Name, KeyType: k.Type}
}

// bearerToken returns the token of an "Authorization: Bearer …" header. The scheme is matched
// without regard to case, as GOV.UK Notify does.
func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", &Failure{Reason: NoCredentials}
	}
	if len(h) < 7 || !equalFoldASCII(h[:7], "Bearer ") {
		return "", &Failure{Reason: NotBearer}
	}
	return h[7:], nil
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerByte(b[j])
			}
			return string(b)
		}
	}
	return s
}
