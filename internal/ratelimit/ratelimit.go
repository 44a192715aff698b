// Package ratelimit keeps token buckets in the database, so that a limit holds across every
// Commons node rather than per process. A bucket refills continuously at a rate up to a
// capacity; each request takes one token and is refused when less than one is left.
//
// Taking a token is one statement — an upsert that refills, checks and takes atomically — so
// two nodes racing for the last token cannot both win.
package ratelimit

import (
	"context"
	"embed"
	"fmt"
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
type Limiter struct {
	db *db.DB
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// New returns a Limiter over d.
func New(d *db.DB) *Limiter { return &Limiter{db: d, Now: time.Now} }

// takeSQL refills the bucket by the time since it was last touched (capped at capacity, and
// never negative: a request that read the clock just before another committed must not
// drain the bucket),
// then takes one token, but only if at least one is there. A new bucket starts full. When
// the WHERE refuses the update, no row comes back: the request is over the limit.
const takeSQL = `INSERT INTO ratelimit_buckets (bucket, tokens, updated_us)
VALUES (?, CAST(? AS DOUBLE PRECISION) - 1, CAST(? AS BIGINT))
ON CONFLICT (bucket) DO UPDATE SET
	tokens = (CASE WHEN ratelimit_buckets.tokens + (CASE WHEN CAST(? AS BIGINT) > ratelimit_buckets.updated_us THEN CAST(? AS BIGINT) - ratelimit_buckets.updated_us ELSE 0 END) * CAST(? AS DOUBLE PRECISION) > CAST(? AS DOUBLE PRECISION)
		THEN CAST(? AS DOUBLE PRECISION)
		ELSE ratelimit_buckets.tokens + (CASE WHEN CAST(? AS BIGINT) > ratelimit_buckets.updated_us THEN CAST(? AS BIGINT) - ratelimit_buckets.updated_us ELSE 0 END) * CAST(? AS DOUBLE PRECISION) END) - 1,
	updated_us = CASE WHEN CAST(? AS BIGINT) > ratelimit_buckets.updated_us THEN CAST(? AS BIGINT) ELSE ratelimit_buckets.updated_us END
WHERE (CASE WHEN ratelimit_buckets.tokens + (CASE WHEN CAST(? AS BIGINT) > ratelimit_buckets.updated_us THEN CAST(? AS BIGINT) - ratelimit_buckets.updated_us ELSE 0 END) * CAST(? AS DOUBLE PRECISION) > CAST(? AS DOUBLE PRECISION)
		THEN CAST(? AS DOUBLE PRECISION)
		ELSE ratelimit_buckets.tokens + (CASE WHEN CAST(? AS BIGINT) > ratelimit_buckets.updated_us THEN CAST(? AS BIGINT) - ratelimit_buckets.updated_us ELSE 0 END) * CAST(? AS DOUBLE PRECISION) END) >= 1
RETURNING tokens`

// Take takes one token from the named bucket. It reports whether the request is within the
// limit. A bucket whose capacity is below one refuses everything.
func (l *Limiter) Take(ctx context.Context, bucket string, limit Limit) (bool, error) {
	if limit.Capacity < 1 {
		return false, nil
	}
	now := l.Now().UnixMicro()
	perMicro := limit.PerSecond / 1e6
	c := limit.Capacity
	rows, err := l.db.Write.QueryContext(ctx, l.db.Rebind(takeSQL),
		bucket, c, now,
		now, now, perMicro, c, c, now, now, perMicro,
		now, now,
		now, now, perMicro, c, c, now, now, perMicro)
	if err != nil {
		return false, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	defer rows.Close()
	allowed := rows.Next()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	return allowed, nil
}

// Reset empties nothing but forgets a bucket, so it starts full again. Settings changes use
// it when a service's limit is raised.
func (l *Limiter) Reset(ctx context.Context, bucket string) error {
	_, err := l.db.Exec(ctx, "DELETE FROM ratelimit_buckets WHERE bucket = ?", bucket)
	return err
}
