package notify

import (
	"context"
	"sync"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/platform"
)

// What a send reads about its service — the service itself, its Notify settings, the
// template, the default reply-to address or text message sender — changes rarely and is read
// on every request, so each node keeps what it read for a moment. A change made through this
// node's Service (settings, templates, senders) drops the service's entries at once; a change
// made elsewhere (another node, the platform's console pages, SQL) applies here within
// lookupTTL, the same bound the API key cache gives a revoked key.

// lookupTTL is how long a read about a service is reused.
const lookupTTL = apiauth.CacheTTL

// lookupCache holds reads about services, per service, for lookupTTL of real time (the
// service's clock may be frozen in tests; the bound is about staleness, not about it).
type lookupCache struct {
	mu sync.Mutex
	// generation changes whenever entries are dropped, so that a read that began before a
	// change does not store what it found after it.
	generation uint64
	services   map[string]map[lookupKey]lookupEntry
}

type lookupKey struct {
	kind string // "service", "settings", "template", "reply_to", "sms_sender", "letter_contact"
	id   string
}

type lookupEntry struct {
	value any
	at    time.Time
}

// maxCachedServices bounds the cache: past it, it starts again empty.
const maxCachedServices = 10_000

// get returns a fresh cached value, or the generation a read that fills it must start from.
func (c *lookupCache) get(serviceID string, k lookupKey) (value any, generation uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.services[serviceID][k]
	if !found || time.Since(e.at) >= lookupTTL {
		return nil, c.generation, false
	}
	return e.value, c.generation, true
}

func (c *lookupCache) put(serviceID string, k lookupKey, generation uint64, value any, readAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.generation != generation {
		return
	}
	if c.services == nil || len(c.services) >= maxCachedServices {
		c.services = map[string]map[lookupKey]lookupEntry{}
	}
	m := c.services[serviceID]
	if m == nil {
		m = map[lookupKey]lookupEntry{}
		c.services[serviceID] = m
	}
	m[k] = lookupEntry{value: value, at: readAt}
}

// forget drops everything cached about a service.
func (c *lookupCache) forget(serviceID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	delete(c.services, serviceID)
}

// cached returns the value for k, reading it with read when it is not cached or too old.
// Errors are not cached.
func cached[T any](c *lookupCache, serviceID string, k lookupKey, read func() (T, error)) (T, error) {
	v, generation, ok := c.get(serviceID, k)
	if ok {
		return v.(T), nil
	}
	readAt := time.Now()
	x, err := read()
	if err != nil {
		return x, err
	}
	c.put(serviceID, k, generation, x, readAt)
	return x, nil
}

// forgetService drops this node's cached reads about a service after a change to it.
func (s *Service) forgetService(serviceID string) { s.sending.lookups.forget(serviceID) }

// cachedSettings is Settings, cached.
func (s *Service) cachedSettings(ctx context.Context, serviceID string) (Settings, error) {
	return cached(&s.sending.lookups, serviceID, lookupKey{kind: "settings"}, func() (Settings, error) {
		return s.Settings(ctx, serviceID)
	})
}

// cachedService is the platform's record of the service, cached.
func (s *Service) cachedService(ctx context.Context, serviceID string) (platform.Service, error) {
	return cached(&s.sending.lookups, serviceID, lookupKey{kind: "service"}, func() (platform.Service, error) {
		return s.cfg.Platform.Service(ctx, serviceID)
	})
}

// cachedTemplate is Template, cached. A template that is not found is read again each time,
// so that one created a moment ago on another node is found.
func (s *Service) cachedTemplate(ctx context.Context, serviceID, templateID string) (Template, error) {
	return cached(&s.sending.lookups, serviceID, lookupKey{kind: "template", id: templateID}, func() (Template, error) {
		return s.Template(ctx, serviceID, templateID)
	})
}

// senderLookup is a reply-to address, text message sender or letter contact block looked up
// by id ("" for the service's default), and whether there was one.
type senderLookup struct {
	sender Sender
	found  bool
}

func (s *Service) cachedSender(ctx context.Context, kind, serviceID, id string, read func(ctx context.Context, serviceID, id string) (Sender, bool, error)) (Sender, bool, error) {
	l, err := cached(&s.sending.lookups, serviceID, lookupKey{kind: kind, id: id}, func() (senderLookup, error) {
		x, ok, err := read(ctx, serviceID, id)
		return senderLookup{sender: x, found: ok}, err
	})
	return l.sender, l.found, err
}
