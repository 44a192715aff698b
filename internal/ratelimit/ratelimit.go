// Package ratelimit keeps token buckets in the database, so that a limit holds across every
// Commons node rather than per process. A bucket refills continuously at a rate up to a
// capacity; each request takes one token and is refused when less than one is left.
//
// Taking tokens is one statement — an upsert that refills, checks and takes atomically — so
// two nodes racing for the last token cannot both win.
package ratelimit

import (
	"context"
	"embed"
	"fmt"
	"sync"
	"time"

	"github.com/commons-gov/commons/internal/db"
)

//go:embed migrations
var migrations embed.FS

// Migrations creates the buckets table.
var Migrations = db.Migrations{Platform: "ratelimit", FS: db.SubFS(migrations, "migrations")}

// Limit describes a bucket: it holds at most Capacity tokens and refills at PerSecond.
type Limit struct {
	PerSecond float64
	Capacity  float64
}

// PerMinute returns a limit of n requests a minute with the given burst capacity.
func PerMinute(n int, capacity int) Limit {
	return Limit{PerSecond: float64(n) / 60, Capacity: float64(capacity)}
}

// Limiter takes tokens from buckets in the database.
//
// Requests for one bucket that arrive while a statement for it is in flight on this node
// wait, and then go together in the next statement, which takes as many tokens as there are
// requests waiting (or as many as the bucket has, the earliest requests first). A bucket
// that is busy on this node — at least leaseMinDemand requests in a leaseWindow — also takes
// some tokens ahead, up to a window's worth, and grants them to the requests that come next
// without a statement; tokens taken ahead and not granted within leaseWindow are dropped,
// never put back.
//
// So a node writes once per group of requests rather than once per request, and the limit
// holds across nodes: every token granted was taken from the shared row first. A quiet bucket
// takes nothing ahead, so it behaves exactly as one statement per request would; a busy one
// may refuse a request while another node still holds tokens it took ahead, for at most
// leaseWindow.
type Limiter struct {
	db *db.DB
	// Now is the clock; tests replace it. Tokens taken ahead expire by it too.
	Now func() time.Time

	takeSQL string

	mu     sync.Mutex
	queues map[queueKey]*takeQueue
}

// New returns a Limiter over d.
func New(d *db.DB) *Limiter {
	return &Limiter{db: d, Now: time.Now, takeSQL: takeSQL(d.Dialect), queues: map[queueKey]*takeQueue{}}
}

const (
	// leaseWindow is how long tokens taken ahead may be granted, and the window over which
	// a bucket's demand on this node is measured.
	leaseWindow = 100 * time.Millisecond
	// leaseMinDemand is the demand in one window below which nothing is taken ahead.
	leaseMinDemand = 16
)

// queueKey names the requests that may share a statement: same bucket, same shape.
type queueKey struct {
	bucket string
	limit  Limit
}

// takeQueue is one bucket's traffic on this node: whether a statement is in flight, the
// group waiting to go next, tokens taken ahead, and the demand that sizes them.
type takeQueue struct {
	busy bool
	next *takeGroup

	ahead      int       // tokens taken from the row and not yet granted
	aheadUntil time.Time // when they expire

	windowStart time.Time
	arrivals    int // requests since windowStart
	demand      int // requests in the last whole window
}

// takeGroup is the requests one statement takes tokens for. The first n-granted of them, in
// order of arrival, are granted.
type takeGroup struct {
	ctx     context.Context
	n       int
	done    chan struct{}
	granted int
	err     error
}

// arrive counts a request towards the bucket's demand.
func (q *takeQueue) arrive(now time.Time) {
	if elapsed := now.Sub(q.windowStart); elapsed >= leaseWindow || elapsed < 0 {
		q.demand = q.arrivals
		if elapsed >= 2*leaseWindow || elapsed < 0 {
			q.demand = 0 // a window with no requests came between
		}
		q.windowStart, q.arrivals = now, 0
	}
	q.arrivals++
}

// takeAhead is how many tokens to take beyond those asked for: a window's demand for a busy
// bucket, at most a quarter of the bucket.
func (q *takeQueue) takeAhead(limit Limit) int {
	if q.demand < leaseMinDemand {
		return 0
	}
	return min(q.demand, int(limit.Capacity/4))
}

// takeSQL refills the bucket by the time since it was last touched (capped at capacity, and
// never negative: a request that read the clock just before another committed must not
// drain the bucket), then takes as many whole tokens as were asked for or as there are,
// recording how many in taken, but only if at least one is there. A new bucket starts full.
// When the WHERE refuses the update, no row comes back: every request in the group is over
// the limit.
//
// Parameters: 1 bucket, 2 capacity, 3 now (µs), 4 refill per µs, 5 tokens wanted.
func takeSQL(d db.Dialect) string {
	p := func(i int) string { return fmt.Sprintf("?%d", i) }
	least, floor := "min", "floor"
	if d == db.Postgres {
		casts := map[int]string{1: "TEXT", 2: "DOUBLE PRECISION", 3: "BIGINT", 4: "DOUBLE PRECISION", 5: "BIGINT"}
		p = func(i int) string { return fmt.Sprintf("CAST($%d AS %s)", i, casts[i]) }
		least = "LEAST"
	}
	refill := fmt.Sprintf("(CASE WHEN %[1]s > ratelimit_buckets.updated_us THEN %[1]s - ratelimit_buckets.updated_us ELSE 0 END) * %[2]s", p(3), p(4))
	avail := fmt.Sprintf("(CASE WHEN ratelimit_buckets.tokens + %[1]s > %[2]s THEN %[2]s ELSE ratelimit_buckets.tokens + %[1]s END)", refill, p(2))
	taken := fmt.Sprintf("%s(%s, %s(%s))", least, p(5), floor, avail)
	first := fmt.Sprintf("%s(%s, %s(%s))", least, p(5), floor, p(2))
	return fmt.Sprintf(`INSERT INTO ratelimit_buckets (bucket, tokens, updated_us, taken)
VALUES (%[1]s, %[2]s - %[3]s, %[4]s, %[3]s)
ON CONFLICT (bucket) DO UPDATE SET
	tokens = %[5]s - %[6]s,
	taken = %[6]s,
	updated_us = CASE WHEN %[4]s > ratelimit_buckets.updated_us THEN %[4]s ELSE ratelimit_buckets.updated_us END
WHERE %[5]s >= 1
RETURNING taken`, p(1), p(2), first, p(3), avail, taken)
}

// Take takes one token from the named bucket. It reports whether the request is within the
// limit. A bucket whose capacity is below one refuses everything.
func (l *Limiter) Take(ctx context.Context, bucket string, limit Limit) (bool, error) {
	if limit.Capacity < 1 {
		return false, nil
	}
	k := queueKey{bucket: bucket, limit: limit}
	now := l.Now()
	l.mu.Lock()
	q := l.queues[k]
	if q == nil {
		if len(l.queues) >= sweepQueuesAt {
			l.sweep(now)
		}
		q = &takeQueue{}
		l.queues[k] = q
	}
	q.arrive(now)
	if q.ahead > 0 && now.Before(q.aheadUntil) {
		q.ahead--
		l.mu.Unlock()
		return true, nil
	}
	q.ahead = 0
	if !q.busy {
		// Nothing in flight: this request's statement goes now.
		q.busy = true
		l.mu.Unlock()
		g := &takeGroup{ctx: ctx, n: 1, done: make(chan struct{})}
		l.run(k, q, g)
		return g.granted > 0, g.err
	}
	g := q.next
	if g == nil {
		// The group outlives any one request in it, so its statement is not cancelled when
		// the request that started the group goes away.
		g = &takeGroup{ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
		q.next = g
	}
	place := g.n
	g.n++
	l.mu.Unlock()
	select {
	case <-g.done:
		return place < g.granted, g.err
	case <-ctx.Done():
		// The group may still take a token for this request: a request that leaves uses
		// up its token, as one that fails later does.
		return false, ctx.Err()
	}
}

// sweepQueuesAt is the number of buckets with a queue on this node past which the queues
// of quiet buckets are dropped. A bucket keeps its queue between requests, even when they
// do not overlap, so that its demand is measured over whole windows.
const sweepQueuesAt = 1024

// sweep drops the queues of buckets with nothing in flight, nothing taken ahead and no
// request for two windows, which are then as if new. The caller holds l.mu.
func (l *Limiter) sweep(now time.Time) {
	for k, q := range l.queues {
		if !q.busy && q.next == nil && (q.ahead == 0 || !now.Before(q.aheadUntil)) &&
			now.Sub(q.windowStart) >= 2*leaseWindow {
			delete(l.queues, k)
		}
	}
}

// run takes the tokens of one group and any to take ahead, answers the group, then starts
// the group that gathered meanwhile, if any, or marks the bucket idle.
func (l *Limiter) run(k queueKey, q *takeQueue, g *takeGroup) {
	l.mu.Lock()
	ahead := q.takeAhead(k.limit)
	l.mu.Unlock()
	taken, err := l.takeN(g.ctx, k.bucket, k.limit, g.n+ahead)
	g.granted, g.err = min(taken, g.n), err
	close(g.done)
	now := l.Now()
	l.mu.Lock()
	if extra := taken - g.granted; extra > 0 {
		if !now.Before(q.aheadUntil) {
			q.ahead = 0
		}
		q.ahead, q.aheadUntil = q.ahead+extra, now.Add(leaseWindow)
	}
	next := q.next
	q.next = nil
	if next != nil && next.n <= q.ahead && now.Before(q.aheadUntil) {
		// The tokens just taken ahead cover the requests that gathered meanwhile.
		q.ahead -= next.n
		next.granted = next.n
		close(next.done)
		next = nil
	}
	if next == nil {
		q.busy = false
	}
	l.mu.Unlock()
	if next != nil {
		go l.run(k, q, next)
	}
}

// takeN takes up to n tokens and reports how many it took.
func (l *Limiter) takeN(ctx context.Context, bucket string, limit Limit, n int) (int, error) {
	now := l.Now().UnixMicro()
	rows, err := l.db.Write.QueryContext(ctx, l.takeSQL, bucket, limit.Capacity, now, limit.PerSecond/1e6, n)
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	defer rows.Close()
	var taken int
	if rows.Next() {
		if err := rows.Scan(&taken); err != nil {
			return 0, fmt.Errorf("rate limit %s: %w", bucket, err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	return taken, nil
}

// Reset empties nothing but forgets a bucket, so it starts full again. Settings changes use
// it when a service's limit is raised.
func (l *Limiter) Reset(ctx context.Context, bucket string) error {
	l.mu.Lock()
	for k, q := range l.queues {
		if k.bucket == bucket {
			q.ahead = 0
		}
	}
	l.mu.Unlock()
	_, err := l.db.Exec(ctx, "DELETE FROM ratelimit_buckets WHERE bucket = ?", bucket)
	return err
}
