package pay

import (
	"context"
	"sync"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/ratelimit"
	"github.com/commons-gov/commons/internal/web"
)

// The API reads a service's settings on every request (its rate limit, and for a create its
// modes and provider), and they change rarely, so each node keeps what it read for a moment. A
// change made through this node's Service (SetSettings, SetRateLimit) drops the entry at once;
// one made on another node applies here within settingsTTL, the same bound the API key cache
// gives a revoked key. The console and other platforms read settings fresh (Settings).

// settingsTTL is how long a read of a service's settings is reused by the API.
const settingsTTL = apiauth.CacheTTL

// maxCachedSettings bounds the cache: past it, it starts again empty.
const maxCachedSettings = 10_000

type settingsCache struct {
	mu sync.Mutex
	// generation changes whenever an entry is dropped, so that a read that began before a
	// change does not store what it found after it.
	generation uint64
	entries    map[string]settingsEntry
}

type settingsEntry struct {
	st Settings
	at time.Time
}

// cachedSettings is Settings, reused for settingsTTL of real time (the service's clock may be
// frozen in tests; the bound is about staleness). Errors are not kept.
func (s *Service) cachedSettings(ctx context.Context, serviceID string) (Settings, error) {
	c := &s.settings
	c.mu.Lock()
	e, ok := c.entries[serviceID]
	generation := c.generation
	c.mu.Unlock()
	if ok && time.Since(e.at) < settingsTTL {
		return e.st, nil
	}
	readAt := time.Now()
	st, err := s.Settings(ctx, serviceID)
	if err != nil {
		return st, err
	}
	c.mu.Lock()
	if c.generation == generation {
		if c.entries == nil || len(c.entries) >= maxCachedSettings {
			c.entries = map[string]settingsEntry{}
		}
		c.entries[serviceID] = settingsEntry{st: st, at: readAt}
	}
	c.mu.Unlock()
	return st, nil
}

// forgetSettings drops this node's cached settings of a service after a change to them.
func (s *Service) forgetSettings(serviceID string) {
	c := &s.settings
	c.mu.Lock()
	c.generation++
	delete(c.entries, serviceID)
	c.mu.Unlock()
}

// SetRateLimit sets a service's own rate limit: POST requests a second in each POST bucket
// (GETs get five times as many); 0 restores GOV.UK Pay's defaults. It is kept apart from
// SetSettings, so that saving the other settings never resets it.
func (s *Service) SetRateLimit(ctx context.Context, serviceID string, perSecond int) error {
	if perSecond < 0 {
		perSecond = 0
	}
	_, err := s.db.Exec(ctx, `INSERT INTO pay_settings (service_id, rate_limit, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (service_id) DO UPDATE SET rate_limit = excluded.rate_limit, updated_at = excluded.updated_at`,
		serviceID, perSecond, s.now())
	s.forgetSettings(serviceID)
	return web.Unavailable(err)
}

// limitsFor are a service's rate limits: GOV.UK Pay's, or its own when it has one.
func limitsFor(st Settings) (post, get ratelimit.Limit) {
	if st.RateLimit <= 0 {
		return postLimit, getLimit
	}
	n := float64(st.RateLimit)
	return ratelimit.Limit{PerSecond: n, Capacity: n}, ratelimit.Limit{PerSecond: 5 * n, Capacity: 5 * n}
}
