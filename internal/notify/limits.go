package notify

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

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
//
// The count it checks is this node's view of it (dailyCountView): what the database said at
// most lookupTTL ago, or after this node's last send of the day, whichever is later. Counts
// only rise within a day, so a refusal from the view is one the database would give too; a
// send the view lets through that another node's sends have pushed over the limit is refused
// by the conditional update in the transaction that stores it.
func (s *Service) checkDailyLimit(ctx context.Context, caller apiauth.Identity, st Settings, limitName string) error {
	if caller.KeyType == apiauth.Test {
		return nil
	}
	limit := st.DailyLimit(limitName)
	sent, err := s.sending.counts.sent(ctx, s, dailyKey{serviceID: caller.ServiceID, limit: limitName, day: day(s.now())})
	if err != nil {
		return err
	}
	if sent+1 > limit {
		return tooManyToday(limitName, limit)
	}
	return nil
}

// dailyKey names one count: a service's sends towards one limit on one UTC day.
type dailyKey struct {
	serviceID, limit, day string
}

// countedLimit is one daily limit a send counts towards, with the limit's value.
type countedLimit struct {
	key dailyKey
	max int
}

// dailyCountView is this node's recent knowledge of daily counts, so that the early check
// does not read the database on every request.
type dailyCountView struct {
	mu     sync.Mutex
	counts map[dailyKey]viewedCount
}

type viewedCount struct {
	sent int
	at   time.Time // real time, as the lookup cache's
}

// maxViewedCounts bounds the view: past it, it starts again empty.
const maxViewedCounts = 100_000

const readDailyCountSQL = `SELECT sent FROM notify_daily_counts WHERE service_id = ? AND channel = ? AND day = ?`

// sent returns the count for k as the view has it, reading it when the view's is too old.
func (v *dailyCountView) sent(ctx context.Context, s *Service, k dailyKey) (int, error) {
	v.mu.Lock()
	c, ok := v.counts[k]
	v.mu.Unlock()
	if ok && time.Since(c.at) < lookupTTL {
		return c.sent, nil
	}
	readAt := time.Now()
	var sent int
	err := s.db.QueryRow(ctx, readDailyCountSQL, k.serviceID, k.limit, k.day).Scan(&sent)
	if err != nil && !db.IsNoRows(err) {
		return 0, fmt.Errorf("daily count: %w", err)
	}
	v.saw(k, sent, readAt)
	return sent, nil
}

// saw records a count read or written at a moment. Counts only rise within a day, so a lower
// figure than one seen since is an older one.
func (v *dailyCountView) saw(k dailyKey, sent int, at time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.counts == nil || len(v.counts) >= maxViewedCounts {
		v.counts = map[dailyKey]viewedCount{}
	}
	if c, ok := v.counts[k]; ok && c.sent > sent && time.Since(c.at) < lookupTTL {
		sent = c.sent
	}
	v.counts[k] = viewedCount{sent: sent, at: at}
}

// countSendSQL adds one to a count. The update is conditional, so that sends racing on
// several nodes cannot take the count past the limit between the early check and the commit:
// the loser is refused as the early check would have refused it.
const countSendSQL = `INSERT INTO notify_daily_counts (service_id, channel, day, sent) VALUES (?, ?, ?, 1)
	ON CONFLICT (service_id, channel, day) DO UPDATE SET sent = notify_daily_counts.sent + 1
	WHERE notify_daily_counts.sent + 1 <= ?
	RETURNING sent`

// countSend adds one to a channel's count for today inside the transaction that stores one
// notification on its own (the send batcher counts a whole batch at once). It returns the new
// count, for the view once the transaction has committed.
func countSend(ctx context.Context, tx *db.Tx, c countedLimit) (int, error) {
	rows, err := tx.Query(ctx, countSendSQL, c.key.serviceID, c.key.limit, c.key.day, c.max)
	if err != nil {
		return 0, fmt.Errorf("count send: %w", err)
	}
	defer rows.Close()
	counted := rows.Next()
	var sent int
	if counted {
		if err := rows.Scan(&sent); err != nil {
			return 0, fmt.Errorf("count send: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("count send: %w", err)
	}
	if !counted || c.max < 1 {
		return 0, tooManyToday(c.key.limit, c.max)
	}
	return sent, nil
}
