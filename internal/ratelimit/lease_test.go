package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
)

// A bucket busy with requests that never overlap (each answered before the next arrives, as
// from one client, or from many on a node whose statements are quick) takes tokens ahead
// too, once a whole window has shown its demand: so most requests need no statement.
func TestSequentialBusyBucketTakesAhead(t *testing.T) {
	dbtest.Each(t, func(ctx context.Context, d *db.DB) error { return d.Migrate(ctx, Migrations) }, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Unix(1_800_000_000, 0)
		l := New(d)
		l.Now = func() time.Time { return now }
		limit := PerMinute(600_000, 1000)
		statements := 0
		for range 300 {
			l.mu.Lock()
			q := l.queues[queueKey{bucket: "busy", limit: limit}]
			fromAhead := q != nil && q.ahead > 0 && now.Before(q.aheadUntil)
			l.mu.Unlock()
			if !fromAhead {
				statements++
			}
			if ok, err := l.Take(ctx, "busy", limit); err != nil || !ok {
				t.Fatalf("Take = %v, %v", ok, err)
			}
			now = now.Add(time.Millisecond)
		}
		// The first window (100 requests) goes one statement each; after it, each
		// statement takes a window's demand ahead.
		if statements > 110 {
			t.Fatalf("%d statements for 300 requests in 300 ms", statements)
		}
	})
}

// Buckets that have gone quiet lose their queues once many buckets have them, so that a
// node's memory does not grow with every bucket it has ever seen.
func TestQuietBucketsAreSwept(t *testing.T) {
	dbtest.Each(t, func(ctx context.Context, d *db.DB) error { return d.Migrate(ctx, Migrations) }, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Unix(1_800_000_000, 0)
		l := New(d)
		l.Now = func() time.Time { return now }
		for i := range 3 * sweepQueuesAt {
			if _, err := l.Take(ctx, fmt.Sprintf("bucket-%d", i), PerMinute(60, 10)); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Millisecond)
		}
		if n := len(l.queues); n > sweepQueuesAt {
			t.Fatalf("%d queues kept, want at most %d", n, sweepQueuesAt)
		}
	})
}
