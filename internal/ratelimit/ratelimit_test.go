package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/ratelimit"
)

func migrate(ctx context.Context, d *db.DB) error { return d.Migrate(ctx, ratelimit.Migrations) }

func TestBucketRefillsAndRefuses(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := ratelimit.New(d)
		now := time.Unix(1_800_000_000, 0)
		l.Now = func() time.Time { return now }
		limit := ratelimit.PerMinute(60, 3) // one a second, bursts of three
		for i := range 3 {
			if ok, err := l.Take(ctx, "svc-live", limit); err != nil || !ok {
				t.Fatalf("take %d: %v %v", i, ok, err)
			}
		}
		if ok, _ := l.Take(ctx, "svc-live", limit); ok {
			t.Fatal("a fourth token was taken from a bucket of three")
		}
		// Another bucket is independent.
		if ok, _ := l.Take(ctx, "svc-team", limit); !ok {
			t.Fatal("buckets are not independent")
		}
		now = now.Add(1500 * time.Millisecond) // 1.5 tokens back
		if ok, _ := l.Take(ctx, "svc-live", limit); !ok {
			t.Fatal("refill did not happen")
		}
		if ok, _ := l.Take(ctx, "svc-live", limit); ok {
			t.Fatal("half a token was enough")
		}
		now = now.Add(time.Hour) // refill is capped at capacity
		for range 3 {
			if ok, _ := l.Take(ctx, "svc-live", limit); !ok {
				t.Fatal("capacity not restored")
			}
		}
		if ok, _ := l.Take(ctx, "svc-live", limit); ok {
			t.Fatal("refill went past capacity")
		}
	})
}

// Many concurrent takers, as from several nodes, never get more than the capacity.
func TestConcurrentTakersShareOneBucket(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		limiters := []*ratelimit.Limiter{ratelimit.New(d), ratelimit.New(d)}
		frozen := time.Unix(1_800_000_000, 0)
		for _, l := range limiters {
			l.Now = func() time.Time { return frozen }
		}
		limit := ratelimit.PerMinute(1, 25)
		var granted atomic.Int64
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for range 10 {
					ok, err := limiters[i%2].Take(ctx, "shared", limit)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						granted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if granted.Load() != 25 {
			t.Fatalf("granted %d tokens from a bucket of 25", granted.Load())
		}
	})
}

// A taker whose clock reading is older than the bucket's last update (it read the time just
// before another node committed) gets no negative refill.
func TestStaleClockDoesNotDrainBucket(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := ratelimit.New(d)
		now := time.Unix(1_800_000_000, 0)
		l.Now = func() time.Time { return now }
		limit := ratelimit.PerMinute(60, 10)
		if ok, _ := l.Take(ctx, "b", limit); !ok {
			t.Fatal("first take refused")
		}
		now = now.Add(-time.Hour)
		for i := range 9 {
			if ok, err := l.Take(ctx, "b", limit); err != nil || !ok {
				t.Fatalf("take %d with a stale clock refused: %v", i, err)
			}
		}
	})
}

// Takes that arrive together on one node go to the database together, and still never get
// more than the bucket holds.
func TestGroupedTakesGetNoMoreThanTheBucket(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := ratelimit.New(d)
		frozen := time.Unix(1_800_000_000, 0)
		l.Now = func() time.Time { return frozen }
		limit := ratelimit.PerMinute(1, 30)
		var granted atomic.Int64
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				for range 3 {
					ok, err := l.Take(ctx, "grouped", limit)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						granted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if granted.Load() != 30 {
			t.Fatalf("granted %d tokens from a bucket of 30", granted.Load())
		}
	})
}

// A busy bucket takes tokens ahead for the requests that follow. Whatever it takes ahead
// comes out of the shared bucket, so two busy nodes together still get no more than the
// bucket holds plus what it refills; tokens taken ahead and not used within a window are
// dropped, and Reset drops them at once.
func TestTokensTakenAheadStayWithinTheLimit(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Unix(1_800_000_000, 0)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(by time.Duration) { mu.Lock(); now = now.Add(by); mu.Unlock() }
		a, b := ratelimit.New(d), ratelimit.New(d)
		a.Now, b.Now = clock, clock
		limit := ratelimit.PerMinute(600, 400) // ten a second, bursts of 400
		granted := map[*ratelimit.Limiter]int{}
		take := func(l *ratelimit.Limiter) {
			ok, err := l.Take(ctx, "busy", limit)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				granted[l]++
			}
		}
		// Node a is busy for 300 ms: 40 requests every 10 ms.
		for range 30 {
			for range 40 {
				take(a)
			}
			advance(10 * time.Millisecond)
		}
		// 400 in the bucket and 3 refilled: never more, whoever asks.
		if granted[a] > 403 {
			t.Fatalf("a was granted %d of at most 403", granted[a])
		}
		for range 50 {
			take(b)
		}
		if total := granted[a] + granted[b]; total > 403 {
			t.Fatalf("a and b were granted %d of at most 403", total)
		}
		// After a quiet second, 10 more tokens are in the bucket, and any held ahead by a
		// have expired: b gets exactly those.
		advance(time.Second)
		before := granted[b]
		for range 20 {
			take(b)
		}
		if got := granted[b] - before; got != 10 {
			t.Fatalf("b was granted %d after a quiet second, want the 10 refilled", got)
		}
		// Reset gives a full bucket again, and a takes nothing more from before it.
		if err := a.Reset(ctx, "busy"); err != nil {
			t.Fatal(err)
		}
		before = granted[a]
		for range 450 {
			take(a)
		}
		if got := granted[a] - before; got != 400 {
			t.Fatalf("a was granted %d after a reset, want the bucket's 400", got)
		}
	})
}
