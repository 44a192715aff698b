package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/commons-gov/commons/internal/db"
)

// Group commit. Every accepted send needs a write transaction, and on SQLite there is one
// write connection: one transaction per request makes the commit, not the work, the limit.
// So the sends that are ready at the same moment on a node are stored together, in one
// transaction: their notifications, first status events, the day's counts (one update per
// count, by the number of sends that fit under the limit) and their delivery jobs (one River
// insert for all). Each request is answered only after that transaction commits, so a
// response still means the notification, its job and its count are durable together. No send
// waits for a batch to fill: a batch is whatever arrived while the previous one was being
// written, so under light load each send is stored at once, on its own. Under sustained load a
// small batch waits a moment (sendBatchLinger) for more, since a transaction costs much the
// same for a few sends as for dozens.

// maxSendBatch bounds one transaction.
const maxSendBatch = 128

// When sends keep arriving while batches are stored, a batch of fewer than sendBatchEnough
// waits sendBatchLinger for more before it is stored (see flush). A send that finds the
// batcher idle is stored at once.
const (
	sendBatchEnough = 64
	sendBatchLinger = 2 * time.Millisecond
)

// sendState is the send path's per-node state.
type sendState struct {
	lookups lookupCache
	counts  dailyCountView

	once sync.Once
	b    *sendBatcher

	domainOnce sync.Once
	domain     string // see emailDomain

	localParts     sync.Map // service name → EmailLocalPart(name); see emailLocalPart
	localPartCount atomic.Int64
}

// batcher returns the node's send batcher.
func (st *sendState) batcher(s *Service) *sendBatcher {
	st.once.Do(func() { st.b = &sendBatcher{s: s} })
	return st.b
}

// pendingSend is one send waiting to be stored.
type pendingSend struct {
	n               *Notification
	personalisation string
	counts          []countedLimit // the daily limits it counts towards; none for test keys

	taken bool       // picked up by a batch (guarded by the batcher's mutex)
	done  chan error // receives the outcome once
}

// sendBatcher gathers sends and stores them in shared transactions, one at a time: SQLite
// has one writer anyway, and on PostgreSQL one transaction at a time, each with whatever
// gathered while the last was committing, stores more per second than several smaller ones
// at once (measured in docs/benchmarks-notify.md).
type sendBatcher struct {
	s *Service

	mu       sync.Mutex
	queue    []*pendingSend
	flushing bool
}

// submit stores p with whatever sends are stored alongside it and returns its own outcome: nil
// once committed, the daily limit's 429 when the count has no room for it, or the error that
// kept it from being stored. A request that goes away before its batch starts is dropped
// unstored; one that goes away after waits for the outcome, which is then already decided.
func (b *sendBatcher) submit(ctx context.Context, p *pendingSend) error {
	p.done = make(chan error, 1)
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if !b.flushing {
		b.flushing = true
		go b.flush()
	}
	b.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
	}
	b.mu.Lock()
	if !p.taken {
		for i, q := range b.queue {
			if q == p {
				b.queue = append(b.queue[:i:i], b.queue[i+1:]...)
				break
			}
		}
		b.mu.Unlock()
		return ctx.Err()
	}
	b.mu.Unlock()
	return <-p.done
}

// flush stores batches until the queue is empty.
func (b *sendBatcher) flush() {
	for busy := false; ; busy = true {
		b.mu.Lock()
		if busy && len(b.queue) > 0 && len(b.queue) < sendBatchEnough {
			// Sends arrived while the last batch was being stored: the node is busy. A
			// transaction costs much the same for a few sends as for dozens, so wait a
			// moment for more to join this one rather than paying it again for each few.
			b.mu.Unlock()
			time.Sleep(sendBatchLinger)
			b.mu.Lock()
		}
		n := min(len(b.queue), maxSendBatch)
		if n == 0 {
			b.flushing = false
			b.mu.Unlock()
			return
		}
		batch := make([]*pendingSend, n)
		copy(batch, b.queue)
		for _, p := range batch {
			p.taken = true
		}
		b.queue = append(b.queue[:0:0], b.queue[n:]...)
		b.mu.Unlock()
		b.s.storeSendBatch(batch)
	}
}

// errCountMoved reports that a daily count changed between reading and updating it, which
// only a count row created by another node's transaction at the same moment can do: the batch
// is stored again, when the row will be there to lock.
var errCountMoved = errors.New("daily count changed while being updated")

// storeSendBatch stores a batch and answers each send in it. If the shared transaction fails, the
// sends are stored again one by one, so that one send's fault is its own.
func (s *Service) storeSendBatch(batch []*pendingSend) {
	ctx := context.Background()
	defer func() {
		// A fault here must not end the process from the batcher's goroutine: the sends
		// still waiting get it as their error, as they would have from their own handler.
		if v := recover(); v != nil {
			err := fmt.Errorf("store notifications: panic: %v", v)
			for _, p := range batch {
				select {
				case p.done <- err:
				default:
				}
			}
		}
	}()
	var refused []error
	var counted map[dailyKey]int
	var err error
	for range 3 {
		refused, counted, err = s.storeSendsTogether(ctx, batch)
		if !errors.Is(err, errCountMoved) {
			break
		}
	}
	if err != nil && len(batch) > 1 {
		for _, p := range batch {
			s.storeSendBatch([]*pendingSend{p})
		}
		return
	}
	now := time.Now()
	for k, sent := range counted {
		s.sending.counts.saw(k, sent, now)
	}
	for i, p := range batch {
		if err != nil {
			p.done <- err
		} else {
			p.done <- refused[i]
		}
	}
}

// storeSendsTogether runs one transaction for the batch. refused[i] is the daily limit's refusal
// of batch[i], which is then not stored; counted holds the counts it left.
func (s *Service) storeSendsTogether(ctx context.Context, batch []*pendingSend) (refused []error, counted map[dailyKey]int, err error) {
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if refused, counted, err = s.countSendBatch(ctx, tx, batch); err != nil {
			return err
		}
		accepted := make([]*pendingSend, 0, len(batch))
		for i, p := range batch {
			if refused[i] == nil {
				accepted = append(accepted, p)
			}
		}
		return s.insertSendBatch(ctx, tx, accepted)
	})
	return refused, counted, err
}

// countSendBatch takes the batch's sends off their daily counts, in order of arrival, as the
// sends would have been one after another: each count is read (and locked, on PostgreSQL),
// each send that fits under all of its limits is counted, and one update per count adds them.
// A send refused gets the 429 of the first of its limits with no room, as countSend gives.
func (s *Service) countSendBatch(ctx context.Context, tx *db.Tx, batch []*pendingSend) ([]error, map[dailyKey]int, error) {
	refused := make([]error, len(batch))
	var order []dailyKey
	current := map[dailyKey]int{}
	added := map[dailyKey]int{}
	for _, p := range batch {
		for _, c := range p.counts {
			if _, seen := current[c.key]; seen {
				continue
			}
			var sent int
			err := tx.QueryRow(ctx, readDailyCountSQL+tx.ForUpdate(), c.key.serviceID, c.key.limit, c.key.day).Scan(&sent)
			if err != nil && !db.IsNoRows(err) {
				return nil, nil, fmt.Errorf("count sends: %w", err)
			}
			current[c.key] = sent
			order = append(order, c.key)
		}
	}
	for i, p := range batch {
		for _, c := range p.counts {
			if current[c.key]+added[c.key]+1 > c.max || c.max < 1 {
				refused[i] = tooManyToday(c.key.limit, c.max)
				break
			}
		}
		if refused[i] != nil {
			continue
		}
		for _, c := range p.counts {
			added[c.key]++
		}
	}
	counted := map[dailyKey]int{}
	for _, k := range order {
		n := added[k]
		if n == 0 {
			counted[k] = current[k]
			continue
		}
		// The WHERE holds the row to the count just read: if it is not, a transaction on
		// another node created the row in between, and the batch must count again.
		rows, err := tx.Query(ctx, addCountsSQL, k.serviceID, k.limit, k.day, n, current[k])
		if err != nil {
			return nil, nil, fmt.Errorf("count sends: %w", err)
		}
		moved := !rows.Next()
		var sent int
		if !moved {
			err = rows.Scan(&sent)
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("count sends: %w", err)
		}
		if moved {
			return nil, nil, errCountMoved
		}
		counted[k] = sent
	}
	return refused, counted, nil
}

// addCountsSQL adds several sends to a count that was just read.
const addCountsSQL = `INSERT INTO notify_daily_counts (service_id, channel, day, sent) VALUES (?, ?, ?, ?)
	ON CONFLICT (service_id, channel, day) DO UPDATE SET sent = notify_daily_counts.sent + excluded.sent
	WHERE notify_daily_counts.sent = ?
	RETURNING sent`

// insertSendBatch inserts the notifications, their first status events and their delivery jobs.
// Rows go in chunks of a power of two, so that each chunk's statement is one of a few whose
// text is built once, and which each connection compiles once (see db.openSQLite; pgx keeps
// its prepared statements the same way).
func (s *Service) insertSendBatch(ctx context.Context, tx *db.Tx, batch []*pendingSend) error {
	for rest := batch; len(rest) > 0; {
		chunk := rest[:sendChunkSize(len(rest))]
		rest = rest[len(chunk):]
		args := make([]any, 0, len(chunk)*notificationColumnCount)
		for _, p := range chunk {
			args = append(args, notificationRow(p.n, p.personalisation)...)
		}
		if _, err := tx.Exec(ctx, insertNotificationSQL(len(chunk)), args...); err != nil {
			return fmt.Errorf("store notification: %w", err)
		}
		args = args[:0]
		for _, p := range chunk {
			args = append(args, statusEventRow(p.n)...)
		}
		if _, err := tx.Exec(ctx, insertStatusEventSQL(len(chunk)), args...); err != nil {
			return fmt.Errorf("store notification status: %w", err)
		}
	}
	if len(batch) == 0 {
		return nil
	}
	ns := make([]*Notification, len(batch))
	for i, p := range batch {
		ns[i] = p.n
	}
	if _, err := s.cfg.Jobs.River().InsertManyFastTx(ctx, tx.Sql, deliveryJobs(ns)); err != nil {
		return fmt.Errorf("jobs: insert delivery jobs: %w", err)
	}
	return nil
}

// sendChunkSize is the largest power of two not above n.
func sendChunkSize(n int) int {
	size := 1
	for size*2 <= n {
		size *= 2
	}
	return size
}
