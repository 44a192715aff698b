package apiauth

import (
	"context"
	"crypto/subtle"
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

	mu    sync.RWMutex
	cache map[string]cachedKeys

	usedMu sync.Mutex
	used   map[string]time.Time
}

type cachedKeys struct {
	keys    ServiceKeys
	fetched time.Time
}

// New returns an Authenticator reading keys from source.
func New(source Source) *Authenticator {
	return &Authenticator{source: source, Now: time.Now, cache: map[string]cachedKeys{}, used: map[string]time.Time{}}
}

// serviceKeys returns the service's keys, from the cache while it is fresh.
func (a *Authenticator) serviceKeys(ctx context.Context, serviceID string) (ServiceKeys, error) {
	now := a.Now()
	a.mu.RLock()
	c, ok := a.cache[serviceID]
	a.mu.RUnlock()
	if ok && now.Sub(c.fetched) < CacheTTL && now.Sub(c.fetched) >= 0 {
		return c.keys, nil
	}
	keys, err := a.source.ServiceKeys(ctx, serviceID)
	if err != nil {
		return ServiceKeys{}, err
	}
	a.mu.Lock()
	if len(a.cache) > 100_000 {
		// Unknown service ids are cached too (so that guessing them is cheap for us); a flood
		// of them must not grow the map without bound.
		clear(a.cache)
	}
	a.cache[serviceID] = cachedKeys{keys: keys, fetched: now}
	a.mu.Unlock()
	return keys, nil
}

// Forget drops a service from the cache, so that a change made through this node (a key
// revoked in the console, say) applies here at once rather than within CacheTTL.
func (a *Authenticator) Forget(serviceID string) {
	a.mu.Lock()
	delete(a.cache, serviceID)
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
	keys, err := a.serviceKeys(r.Context(), lowerASCII(serviceID))
	if err != nil {
		return Identity{}, err
	}
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
			return a.identify(lowerASCII(serviceID), keys, k), nil
		}
	}
	return Identity{}, &Failure{Reason: KeyNotFound}
}

func (a *Authenticator) identify(serviceID string, keys ServiceKeys, k Key) Identity {
	a.markUsed(k.ID, a.Now())
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
