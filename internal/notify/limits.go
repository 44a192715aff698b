package notify

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/ratelimit"
)

// Limits on sending (notify.md §6.4). Two kinds apply to every POST of a notification, before
// its body is even read:
//
//   - a per-minute token bucket per service and key type, kept in the database so every node
//     draws from the same bucket;
//   - a daily count per service and channel (UTC day), checked before the send and raised in
//     the transaction that stores the notification, so a count exists exactly when the
//     notifications it counts do.
//
// Test keys use their own bucket and never count towards, nor are stopped by, daily limits.

// maxBucketCapacity caps a bucket's burst, as GOV.UK Notify's TOKEN_BUCKET_MAX does.
const maxBucketCapacity = 1000

// rateLimitBucket names a service's bucket for one key type.
func rateLimitBucket(serviceID string, keyType apiauth.KeyType) string {
	return "notify:" + serviceID + ":" + string(keyType)
}

// rateLimitFor is the bucket shape for a service allowed perMinute requests a minute: it
// refills at perMinute/60 a second and holds min(ceil(perMinute/3)+1, 1000).
func rateLimitFor(perMinute int) ratelimit.Limit {
	capacity := min(int(math.Ceil(float64(perMinute)/3))+1, maxBucketCapacity)
	return ratelimit.PerMinute(perMinute, capacity)
}

// checkRateLimit takes one token from the caller's bucket or refuses with 429 RateLimitError.
func (s *Service) checkRateLimit(ctx context.Context, caller apiauth.Identity, st Settings) error {
	if s.cfg.Limiter == nil {
		return nil
	}
	ok, err := s.cfg.Limiter.Take(ctx, rateLimitBucket(caller.ServiceID, caller.KeyType), rateLimitFor(st.RateLimit))
	if err != nil {
		return err
	}
	if !ok {
		return newV2Error(http.StatusTooManyRequests, errTypeRateLimit, fmt.Sprintf(
			"Exceeded rate limit for key type %s of %d requests per 60 seconds", strings.ToUpper(string(caller.KeyType)), st.RateLimit))
	}
	return nil
}

// dailyLimitName is the name a channel's daily limit has in messages and in
// notify_daily_counts: the channel, or "international_sms".
const internationalSMSLimit = "international_sms"

// tooManyToday is the 429 for a daily limit reached.
func tooManyToday(limitName string, limit int) *v2Error {
	return newV2Error(http.StatusTooManyRequests, errTypeTooManyRequests,
		fmt.Sprintf("Exceeded send limits (%s: %d) for today", limitName, limit))
}

// checkDailyLimit refuses a send that would take a channel's count for today past its limit.
// Test keys are never limited: their sends are not counted.
func (s *Service) checkDailyLimit(ctx context.Context, caller apiauth.Identity, st Settings, limitName string) error {
	if caller.KeyType == apiauth.Test {
		return nil
	}
	limit := st.DailyLimit(limitName)
	var sent int
	err := s.db.QueryRow(ctx, `SELECT sent FROM notify_daily_counts WHERE service_id = ? AND channel = ? AND day = ?`,
		caller.ServiceID, limitName, day(s.now())).Scan(&sent)
	if err != nil && !db.IsNoRows(err) {
		return fmt.Errorf("daily count: %w", err)
	}
	if sent+1 > limit {
		return tooManyToday(limitName, limit)
	}
	return nil
}

// countSend adds one to a channel's count for today inside the transaction that stores the
// notification. The update is conditional, so that sends racing on several nodes cannot take
// the count past the limit between the early check and the commit: the loser is refused as
// the early check would have refused it.
func countSend(ctx context.Context, tx *db.Tx, serviceID, limitName, today string, limit int) error {
	rows, err := tx.Query(ctx, `INSERT INTO notify_daily_counts (service_id, channel, day, sent) VALUES (?, ?, ?, 1)
		ON CONFLICT (service_id, channel, day) DO UPDATE SET sent = notify_daily_counts.sent + 1
		WHERE notify_daily_counts.sent + 1 <= ?
		RETURNING sent`, serviceID, limitName, today, limit)
	if err != nil {
		return fmt.Errorf("count send: %w", err)
	}
	defer rows.Close()
	counted := rows.Next()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count send: %w", err)
	}
	if !counted || limit < 1 {
		return tooManyToday(limitName, limit)
	}
	return nil
}
