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
