package notify

import (
	"context"
	"math"
	"slices"
	"sort"
	"sync"
)

// handoverSlots bounds how many messages one node has in the hands of providers outside
// Commons at once, over all its delivery jobs: each needs a connection, and providers limit
// how many one sender may open. A message takes its slot before it is claimed, so a claimed
// message is always one being sent, and a crash interrupts no more messages than there are
// slots.
//
// Waiting deliveries are served in order of rank, lowest first: a single delivery (a retry,
// or a scheduled message) before any batch, and batches by job id, so that the oldest batch
// on the node finishes before younger ones start, rather than every batch advancing together
// and each taking as long as all of them. A request for several slots is granted all at once,
// never a few at a time, so two batches can never each hold part of what the other waits for.
type handoverSlots struct {
	mu       sync.Mutex
	capacity int
	free     int
	waiters  []*slotWaiter // by rank, then arrival
}

type slotWaiter struct {
	n     int
	rank  int64
	ready chan struct{}
}

// singleDeliveryRank is the rank of a DeliverArgs job's slot.
const singleDeliveryRank = math.MinInt64

func newHandoverSlots(n int) *handoverSlots {
	return &handoverSlots{capacity: n, free: n}
}

// acquire waits for n slots (at most the capacity; a nil set has no bound) and reports ctx's
// error if it ends first, holding none.
func (s *handoverSlots) acquire(ctx context.Context, n int, rank int64) error {
	if s == nil {
		return nil
	}
	n = min(n, s.capacity)
	s.mu.Lock()
	if len(s.waiters) == 0 && s.free >= n {
		s.free -= n
		s.mu.Unlock()
		return nil
	}
	w := &slotWaiter{n: n, rank: rank, ready: make(chan struct{})}
	i := sort.Search(len(s.waiters), func(i int) bool { return s.waiters[i].rank > rank })
	s.waiters = slices.Insert(s.waiters, i, w)
	s.grant()
	s.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.waiters, w); i >= 0 {
		s.waiters = slices.Delete(s.waiters, i, i+1)
	} else {
		s.free += n // granted as ctx ended
	}
	s.grant()
	return ctx.Err()
}

// release gives back n slots.
func (s *handoverSlots) release(n int) {
	if s == nil || n <= 0 {
		return
	}
	s.mu.Lock()
	s.free += n
	s.grant()
	s.mu.Unlock()
}

// grant serves waiters in order while the first one's request fits.
func (s *handoverSlots) grant() {
	for len(s.waiters) > 0 && s.free >= s.waiters[0].n {
		w := s.waiters[0]
		s.waiters = slices.Delete(s.waiters, 0, 1)
		s.free -= w.n
		close(w.ready)
	}
}
