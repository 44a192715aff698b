package pay

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/commons-gov/commons/internal/db"
)

// Group commit for creates. A created payment needs a write transaction (the payment, its first
// event and its one-time token), and on SQLite there is one write connection: a transaction per
// request makes the commit, not the work, the limit, and on PostgreSQL each commit waits for
// its own flush of the log. So the creates that are ready at the same moment on a node are
// stored together, in one transaction, and each request is answered only once that transaction
// has committed: a 201 still means the payment is durable. No create waits for a batch to
// fill: a batch is whatever arrived while the previous one was being written, so under light
// load each create is stored at once, on its own.
//
// Only plain creates are batched. One with an Idempotency-Key may turn out to be a replay or a
// conflict, and an agreement payment queues a job; both keep a transaction of their own.

// maxCreateBatch bounds one transaction.
const maxCreateBatch = 128

// When creates keep arriving — while a batch is being stored, or within createBatchLinger of
// the last one — a batch of fewer than createBatchEnough waits createBatchLinger for more
// before it is stored. A create that finds the batcher idle and quiet is stored at once.
//
// The second case matters when the node's CPU, not its database, is the limit: the batcher
// then keeps up, its queue empties after every batch, and without it each create would pay for
// a commit of its own. Waiting a moment gathers a dozen or more instead, and the CPU saved on
// commits serves more requests.
const (
	createBatchEnough = 64
	createBatchLinger = 2 * time.Millisecond
)

// pendingCreate is one create waiting to be stored.
type pendingCreate struct {
	p     *Payment
	token string // the one-time token minted with it

	taken bool       // picked up by a batch (guarded by the batcher's mutex)
	done  chan error // receives the outcome once
}

// createBatcher gathers creates and stores them in shared transactions, one at a time.
type createBatcher struct {
	mu       sync.Mutex
	queue    []*pendingCreate
	flushing bool
	lastDone time.Time // when the last batch was stored
}

// submit stores p with whatever creates are stored alongside it and returns its token once
// committed. A request that goes away before its batch starts is dropped unstored; one that
// goes away after waits for the outcome, which is then already decided.
func (b *createBatcher) submit(ctx context.Context, s *Service, p *Payment) (string, error) {
	pc := &pendingCreate{p: p, done: make(chan error, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, pc)
	if !b.flushing {
		b.flushing = true
		go b.flush(s)
	}
	b.mu.Unlock()
	select {
	case err := <-pc.done:
		return pc.token, err
	case <-ctx.Done():
	}
	b.mu.Lock()
	if !pc.taken {
		for i, q := range b.queue {
			if q == pc {
				b.queue = append(b.queue[:i:i], b.queue[i+1:]...)
				break
			}
		}
		b.mu.Unlock()
		return "", ctx.Err()
	}
	b.mu.Unlock()
	err := <-pc.done
	return pc.token, err
}

// flush stores batches until the queue is empty.
func (b *createBatcher) flush(s *Service) {
	b.mu.Lock()
	busy := time.Since(b.lastDone) < createBatchLinger
	b.mu.Unlock()
	for ; ; busy = true {
		b.mu.Lock()
		if busy && len(b.queue) > 0 && len(b.queue) < createBatchEnough {
			// Creates arrived while the last batch was being stored: the node is busy. A
			// transaction costs much the same for a few creates as for dozens, so wait a
			// moment for more to join this one.
			b.mu.Unlock()
			time.Sleep(createBatchLinger)
			b.mu.Lock()
		}
		n := min(len(b.queue), maxCreateBatch)
		if n == 0 {
			b.flushing = false
			b.mu.Unlock()
			return
		}
		batch := make([]*pendingCreate, n)
		copy(batch, b.queue)
		for _, pc := range batch {
			pc.taken = true
		}
		b.queue = append(b.queue[:0:0], b.queue[n:]...)
		b.mu.Unlock()
		s.storeCreates(batch)
		b.mu.Lock()
		b.lastDone = time.Now()
		b.mu.Unlock()
	}
}

// storeCreates stores a batch and answers each create in it. If the shared transaction fails,
// the creates are stored again one by one, so that one create's fault is its own.
func (s *Service) storeCreates(batch []*pendingCreate) {
	ctx := context.Background()
	defer func() {
		// A fault here must not end the process from the batcher's goroutine: the creates
		// still waiting get it as their error, as they would have from their own handler.
		if v := recover(); v != nil {
			err := fmt.Errorf("pay: store payments: panic: %v", v)
			for _, pc := range batch {
				select {
				case pc.done <- err:
				default:
				}
			}
		}
	}()
	err := s.db.InTx(ctx, func(tx *db.Tx) error { return insertCreates(ctx, tx, batch) })
	if err != nil && len(batch) > 1 {
		for _, pc := range batch {
			s.storeCreates([]*pendingCreate{pc})
		}
		return
	}
	for _, pc := range batch {
		pc.done <- err
	}
}

// insertCreates writes a batch's payments, first events and tokens: for each chunk of rows, a
// statement per table (on SQLite, one per payment). Chunks are powers of two in size, so that
// each statement is one of a few whose text is built once and which each connection compiles
// once.
func insertCreates(ctx context.Context, tx *db.Tx, batch []*pendingCreate) error {
	for rest := batch; len(rest) > 0; {
		chunk := rest[:chunkSize(len(rest))]
		rest = rest[len(chunk):]
		args := make([]any, 0, len(chunk)*paymentInsertColumnCount)
		if tx.Dialect() == db.SQLite {
			// One statement per payment on SQLite. The index on lower(reference) is on an
			// expression, which makes SQLite keep a statement journal for any statement that
			// inserts several rows, OR ROLLBACK or not; single rows need none, and cost less
			// here than the journal (measured: 25 against 30 µs of CPU a row).
			for _, pc := range chunk {
				if err := insertPayment(ctx, tx, pc.p); err != nil {
					return err
				}
			}
		} else {
			for _, pc := range chunk {
				args = append(args, paymentRow(pc.p)...)
			}
			if _, err := tx.Exec(ctx, insertPaymentsSQL(tx.Dialect(), len(chunk)), args...); err != nil {
				return fmt.Errorf("pay: insert payments: %w", err)
			}
			args = args[:0]
		}
		for _, pc := range chunk {
			p := pc.p
			args = append(args, p.ID, p.ServiceID, string(StatusUndefined), string(StatusCreated), "PaymentCreated", p.CreatedAt)
		}
		if _, err := tx.Exec(ctx, insertEventsSQL(tx.Dialect(), len(chunk)), args...); err != nil {
			return fmt.Errorf("pay: record PaymentCreated: %w", err)
		}
		args = args[:0]
		for _, pc := range chunk {
			p := pc.p
			pc.token = NewID()
			args = append(args, hashToken(pc.token), p.ID, p.ServiceID, tokenKindOf(p), p.CreatedAt, p.CreatedAt.Add(TokenLifetime))
		}
		if _, err := tx.Exec(ctx, insertTokensSQL(tx.Dialect(), len(chunk)), args...); err != nil {
			return fmt.Errorf("pay: mint tokens: %w", err)
		}
	}
	return nil
}

var (
	insertPaymentsSQL = multiRowInsert("pay_payments ("+paymentInsertColumns+")", paymentInsertColumnCount)
	insertEventsSQL   = multiRowInsert("pay_events (payment_id, service_id, from_status, to_status, event, at)", 6)
	insertTokensSQL   = multiRowInsert("pay_tokens (token_hash, payment_id, service_id, kind, created_at, expires_at)", 6)
)

// chunkSize is the largest power of two not above n (nor above maxCreateBatch).
func chunkSize(n int) int {
	size := 1
	for size*2 <= n && size*2 <= maxCreateBatch {
		size *= 2
	}
	return size
}

// multiRowInsert returns the text of an INSERT of n rows into table (with its column list) of
// columns values each, built once per engine and n.
//
// On SQLite the statement is INSERT OR ROLLBACK. A plain INSERT of several rows may fail part
// way, after some rows are in, so SQLite keeps a statement journal (a temporary file, written
// page by page) to undo just that statement; that journal was a tenth of a create's CPU time.
// A batch has no use for undoing one statement — any failure fails its whole transaction, and
// its creates are stored again one by one — so a conflict may as well end the transaction, and
// then no journal is needed.
func multiRowInsert(table string, columns int) func(d db.Dialect, n int) string {
	type key struct {
		d db.Dialect
		n int
	}
	var mu sync.Mutex
	texts := map[key]string{}
	return func(d db.Dialect, n int) string {
		mu.Lock()
		defer mu.Unlock()
		if q, ok := texts[key{d, n}]; ok {
			return q
		}
		verb := "INSERT INTO "
		if d == db.SQLite {
			verb = "INSERT OR ROLLBACK INTO "
		}
		q := verb + table + " VALUES " + valuesRows(n, columns)
		texts[key{d, n}] = q
		return q
	}
}

// valuesRows is the placeholders of n rows of columns values each.
func valuesRows(n, columns int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", columns), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}
