package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// Delivering a batch. A DeliverBatchArgs job gives each of its notifications the guarantees a
// DeliverArgs job gives one (see delivery.go), in fewer statements:
//
//   - The batch's notifications are read in one query. Those past created are left alone;
//     those claimed and never acknowledged were interrupted (a crash between claim and
//     acknowledgement) and become technical-failure, without being sent again.
//   - Messages for providers outside Commons are claimed a wave at a time, created → sending
//     in one statement, when the node has a handover slot free for each (handoverSlots); each
//     then goes to the provider at once, on its own connection, and the answers are
//     acknowledged together as they arrive. So a claimed message is always one being sent,
//     and a crash interrupts only messages in a provider's hands, as with a job per message.
//   - A message the provider certainly did not take goes back to created together with a
//     DeliverArgs job of its own, scheduled after the usual delay: from then on it is retried,
//     and finally given up, as if it had been sent alone. The batch leaves it alone from then
//     on, even when the batch runs again.
//   - Test-key outcomes are simulated for the whole batch in one transaction; the development
//     outbox and letters go one at a time, each in its own transaction, as with DeliverArgs.
//
// A run stops claiming after batchRunFor (or half its job's timeout, if shorter) and snoozes
// its job, to carry on where it stopped: on a busy node a young batch waits for slots while
// older ones finish, and must not outlive its timeout waiting.

// Knobs of batch delivery.
const (
	// deliveryWave is how many messages a batch claims in one statement. Several waves of
	// a batch are with the provider at once when there are slots for them.
	deliveryWave = 32
	// settleWait is how long the answers to a batch's messages are gathered before they are
	// recorded together. Each holds a slot meanwhile.
	settleWait = 5 * time.Millisecond
	// batchRunFor is how long one run of a batch goes on claiming.
	batchRunFor = 20 * time.Second
	// maxStatementIDs is the most notifications one statement names.
	maxStatementIDs = 128
)

// deliverBatchWorker runs DeliverBatchArgs jobs.
type deliverBatchWorker struct {
	river.WorkerDefaults[DeliverBatchArgs]
	d *Delivery
}

// NextRetry spaces a batch's retries (after its database failed it) as a message's.
func (w *deliverBatchWorker) NextRetry(job *river.Job[DeliverBatchArgs]) time.Time {
	return time.Now().Add(w.d.retryDelay(job.Attempt))
}

// Work delivers the batch's notifications that are still to be delivered.
func (w *deliverBatchWorker) Work(ctx context.Context, job *river.Job[DeliverBatchArgs]) error {
	err := w.d.deliverBatch(ctx, job)
	var snooze *river.JobSnoozeError
	if err != nil && !errors.As(err, &snooze) && job.Attempt >= job.MaxAttempts {
		// River gives up on the job after this; its notifications must not stay created.
		w.d.giveUpBatch(ctx, job.Args, err)
	}
	return err
}

// handover is a message on its way to a provider outside Commons.
type handover struct {
	n        outgoing
	provider string
	accepted string // the status once the provider has taken it
	send     func(context.Context) (string, error)
}

// handedOver is a provider's answer for a handover.
type handedOver struct {
	h   handover
	ref string
	err error
}

func (d *Delivery) deliverBatch(ctx context.Context, job *river.Job[DeliverBatchArgs]) error {
	started := time.Now()
	until := started.Add(batchRunFor)
	if deadline, ok := ctx.Deadline(); ok && deadline.Sub(started)/2 < batchRunFor {
		until = started.Add(deadline.Sub(started) / 2)
	}
	serviceID := job.Args.ServiceID
	created, interrupted, err := d.loadBatch(ctx, job.Args)
	if err != nil {
		return fmt.Errorf("deliver batch: %w", err)
	}
	if err := d.markInterruptedMany(ctx, serviceID, interrupted); err != nil {
		return fmt.Errorf("deliver batch: %w", err)
	}
	if len(created) == 0 {
		return nil
	}
	svc, st, err := d.senderOf(ctx, serviceID)
	if failure.Is(err, failure.NotFound) {
		return d.failMany(ctx, serviceID, created, StatusCreated, StatusTechnicalFailure, "Not sent: the service no longer exists")
	}
	if err != nil {
		return fmt.Errorf("deliver batch: %w", err)
	}
	if svc.Archived {
		return d.failMany(ctx, serviceID, created, StatusCreated, StatusTechnicalFailure, "Not sent: the service was archived before sending")
	}

	// A failure of one message here is kept until the others have gone: River then runs the
	// batch again, and finds only what is left of it still to deliver.
	var errs []error
	var simulated []outgoing
	var external []handover
	for _, n := range created {
		tooLong, err := d.recordBillable(ctx, n, svc, st)
		if err == nil && tooLong {
			err = d.fail(ctx, n, []string{StatusCreated}, StatusValidationFailed, tooLongDetail())
		}
		if err != nil || tooLong {
			errs = append(errs, err)
			continue
		}
		if n.KeyType == apiauth.Test {
			simulated = append(simulated, n)
			continue
		}
		switch n.Type {
		case Email:
			if tx, ok := d.email.(txEmailSender); ok {
				m := d.emailMessage(n, svc, st)
				errs = append(errs, d.handOverInTx(ctx, n, d.email.Name(), StatusDelivered,
					func(ctx context.Context, t *db.Tx) (string, error) { return tx.sendEmailTx(ctx, t, m, n.ServiceID) }))
				continue
			}
			external = append(external, handover{n: n, provider: d.email.Name(), accepted: StatusDelivered,
				send: func(ctx context.Context) (string, error) { return d.email.SendEmail(ctx, d.emailMessage(n, svc, st)) }})
		case SMS:
			m := smsMessage(n, svc, st)
			if tx, ok := d.sms.(txSMSProvider); ok {
				errs = append(errs, d.handOverInTx(ctx, n, d.sms.Name(), StatusDelivered,
					func(ctx context.Context, t *db.Tx) (string, error) { return tx.sendSMSTx(ctx, t, m, n.ServiceID) }))
				continue
			}
			external = append(external, handover{n: n, provider: d.sms.Name(), accepted: smsAccepted(n),
				send: func(ctx context.Context) (string, error) { return d.sms.SendSMS(ctx, m) }})
		case Letter:
			// Live letters wait, created, for the day's print batch.
			if d.s.cfg.Dev {
				errs = append(errs, d.letterToOutbox(ctx, n))
			}
		default:
			errs = append(errs, d.fail(ctx, n, []string{StatusCreated}, StatusTechnicalFailure,
				fmt.Sprintf("Not sent: unknown notification type %q", n.Type)))
		}
	}
	errs = append(errs, d.simulateMany(ctx, serviceID, simulated))

	// Waves share a provider: one claim statement names one.
	slices.SortStableFunc(external, func(a, b handover) int { return cmp.Compare(a.provider, b.provider) })
	rest, err := d.handOverBatch(ctx, job, external, until)
	if err = errors.Join(append(errs, err)...); err != nil {
		return fmt.Errorf("deliver batch: %w", err)
	}
	if len(rest) > 0 {
		return river.JobSnooze(0)
	}
	return nil
}

// handOverBatch gives each message of hs to its provider, claiming a wave at a time, until
// all are claimed or the time until passes. It returns the messages it did not claim, and
// what went wrong (a claim or an acknowledgement the database refused, or ctx ending).
func (d *Delivery) handOverBatch(ctx context.Context, job *river.Job[DeliverBatchArgs], hs []handover, until time.Time) ([]handover, error) {
	if len(hs) == 0 {
		return nil, nil
	}
	serviceID := job.Args.ServiceID
	results := make(chan handedOver, len(hs)) // room for every answer: a sender never waits
	settled := make(chan error, 1)
	go func() { settled <- d.settleAnswers(ctx, serviceID, results) }()

	var wg sync.WaitGroup
	var stopped error
	next := 0
	for next < len(hs) {
		n := min(deliveryWave, len(hs)-next)
		for i := next + 1; i < next+n; i++ {
			if hs[i].provider != hs[next].provider {
				n = i - next
				break
			}
		}
		wait, cancel := context.WithDeadline(ctx, until)
		err := d.slots.acquire(wait, n, job.ID)
		cancel()
		if err != nil {
			stopped = ctx.Err() // nil when only this run's time is up
			break
		}
		wave := hs[next : next+n]
		claimed, err := d.claimWave(ctx, serviceID, wave)
		if err != nil {
			d.slots.release(n)
			stopped = err
			break
		}
		next += n
		d.slots.release(n - len(claimed))
		for _, h := range claimed {
			wg.Go(func() {
				ref, err := sendRecovering(ctx, h)
				results <- handedOver{h: h, ref: ref, err: err}
			})
		}
	}
	wg.Wait()
	close(results)
	return hs[next:], errors.Join(stopped, <-settled)
}

// sendRecovering hands h to its provider. A fault while doing so must not end the process
// from a goroutine of its own; it is recorded as an outcome unknown, so the message is not
// sent again.
func sendRecovering(ctx context.Context, h handover) (ref string, err error) {
	defer func() {
		if v := recover(); v != nil {
			ref, err = "", fmt.Errorf("panic: %v", v)
		}
	}()
	return h.send(ctx)
}

// claimWave claims the wave's messages for their provider in one transaction and returns
// those it claimed: the others are no longer created.
func (d *Delivery) claimWave(ctx context.Context, serviceID string, wave []handover) ([]handover, error) {
	provider := wave[0].provider
	ids := make([]string, len(wave))
	for i, h := range wave {
		ids[i] = h.n.ID
	}
	var rows []changedRow
	err := d.s.db.InTx(ctx, func(tx *db.Tx) (err error) {
		rows, err = d.changeMany(ctx, tx, serviceID, ids, manyChange{statusChange: statusChange{
			from: []string{StatusCreated}, to: StatusSending, detail: "Handed to " + provider,
			set: "sent_at = ?, provider = ?", args: []any{d.s.now(), provider},
		}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	changed := make(map[string]bool, len(rows))
	for _, r := range rows {
		changed[r.ID] = true
	}
	claimed := make([]handover, 0, len(rows))
	for _, h := range wave {
		if changed[h.n.ID] {
			claimed = append(claimed, h)
			delete(changed, h.n.ID)
		}
	}
	return claimed, nil
}

// settleAnswers records the providers' answers as they arrive, those that arrive within
// settleWait of each other in one transaction, and returns the first error. A message keeps
// its slot until its answer is recorded: a message sent and not yet acknowledged is as much
// at risk from a crash as one being sent, and the slots bound how many can be.
func (d *Delivery) settleAnswers(ctx context.Context, serviceID string, results <-chan handedOver) error {
	var first error
	for r := range results {
		group := []handedOver{r}
		wait := time.NewTimer(settleWait)
	gather:
		for len(group) < maxStatementIDs {
			select {
			case more, ok := <-results:
				if !ok {
					break gather
				}
				group = append(group, more)
			case <-wait.C:
				break gather
			}
		}
		wait.Stop()
		if err := d.settle(ctx, serviceID, group); err != nil && first == nil {
			first = err
		}
		d.slots.release(len(group))
	}
	return first
}

// settle records a group of answers in one transaction: acknowledgements, messages put back
// to created with their own retry jobs, and failures. Whatever happened to ctx meanwhile (a
// stop, the job's timeout), the providers' answers must be recorded.
func (d *Delivery) settle(ctx context.Context, serviceID string, group []handedOver) error {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	type ack struct{ provider, accepted string }
	type end struct{ status, detail string }
	acks := map[ack]map[string]string{} // → notification id → reference
	ends := map[end][]string{}
	retries := map[string][]string{} // detail → ids
	delay := d.retryDelay(1)
	for _, r := range group {
		h := r.h
		if r.err == nil {
			k := ack{h.provider, h.accepted}
			if acks[k] == nil {
				acks[k] = map[string]string{}
			}
			acks[k][h.n.ID] = cmp.Or(r.ref, h.n.ID)
			continue
		}
		var e end
		switch outcomeOf(r.err) {
		case OutcomeRetry:
			detail := fmt.Sprintf("Not sent: %s: %v; trying again in %s", h.provider, r.err, delay.Round(time.Second))
			retries[detail] = append(retries[detail], h.n.ID)
			continue
		case OutcomeRejected:
			e = end{StatusPermanentFailure, fmt.Sprintf("Refused by %s: %v", h.provider, r.err)}
		case OutcomeFailed:
			e = end{StatusTechnicalFailure, fmt.Sprintf("Not sent: %s refused it: %v", h.provider, r.err)}
		default:
			e = end{StatusTechnicalFailure, fmt.Sprintf(
				"Not known whether %s took the message (%v); it is not sent again, so that it is never delivered twice", h.provider, r.err)}
		}
		ends[e] = append(ends[e], h.n.ID)
	}
	err := d.retryWrite(bg, func(tx *db.Tx) error {
		for k, refs := range acks {
			if err := d.acknowledgeMany(bg, tx, serviceID, k.provider, k.accepted, refs); err != nil {
				return err
			}
		}
		for detail, ids := range retries {
			rows, err := d.changeMany(bg, tx, serviceID, ids, manyChange{statusChange: statusChange{
				from: []string{StatusSending}, to: StatusCreated, detail: detail,
				set: "sent_at = NULL, provider = NULL", where: "provider_reference IS NULL",
			}})
			if err != nil {
				return err
			}
			jobs := make([]river.InsertManyParams, len(rows))
			for i, r := range rows {
				jobs[i] = retryJob(r.ID, serviceID, 1, time.Now().Add(delay))
			}
			if err := d.insertJobs(bg, tx, jobs); err != nil {
				return err
			}
		}
		for e, ids := range ends {
			if _, err := d.changeMany(bg, tx, serviceID, ids, manyChange{statusChange: statusChange{
				from: []string{StatusSending}, to: e.status, detail: e.detail,
			}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record providers' answers: %w", err)
	}
	return nil
}

// acknowledgeMany is acknowledge for the messages in refs (notification id → the provider's
// reference), all taken by one provider.
func (d *Delivery) acknowledgeMany(ctx context.Context, tx *db.Tx, serviceID, provider, accepted string, refs map[string]string) error {
	ids := make([]string, 0, len(refs))
	for id := range refs {
		ids = append(ids, id)
	}
	if accepted != StatusSending {
		rows, err := d.changeMany(ctx, tx, serviceID, ids, manyChange{statusChange: statusChange{
			from: []string{StatusSending}, to: accepted, detail: "Accepted by " + provider,
			where: "provider_reference IS NULL"}, refs: refs})
		if err != nil {
			return err
		}
		if len(rows) == len(ids) {
			return nil
		}
		// A receipt overtook the acknowledgement: the status stays; the reference is kept.
		done := make(map[string]bool, len(rows))
		for _, r := range rows {
			done[r.ID] = true
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return done[id] })
	}
	return forChunks(ids, func(chunk []string) error {
		set, args := referencesSQL(chunk, refs)
		args = append(appendIDs(args, chunk), serviceID)
		_, err := tx.Exec(ctx, `UPDATE notify_notifications SET `+set+` WHERE `+
			byIDs(len(chunk), "service_id = ? AND provider_reference IS NULL"), args...)
		return err
	})
}

// simulateMany gives test-key notifications their outcomes in one transaction (simulate, for
// many).
func (d *Delivery) simulateMany(ctx context.Context, serviceID string, ns []outgoing) error {
	if len(ns) == 0 {
		return nil
	}
	byID := make(map[string]outgoing, len(ns))
	for _, n := range ns {
		byID[n.ID] = n
	}
	return d.s.db.InTx(ctx, func(tx *db.Tx) error {
		claimed, err := d.changeMany(ctx, tx, serviceID, outgoingIDs(ns), manyChange{statusChange: statusChange{
			from: []string{StatusCreated}, to: StatusSending, detail: "Handed to " + providerTestKey,
			set: "sent_at = ?, provider = ?", args: []any{d.s.now(), providerTestKey},
		}})
		if err != nil {
			return err
		}
		outcomes := map[string][]string{}
		for _, r := range claimed {
			o := simulatedOutcome(byID[r.ID])
			outcomes[o] = append(outcomes[o], r.ID)
		}
		for outcome, ids := range outcomes {
			if _, err := d.changeMany(ctx, tx, serviceID, ids, manyChange{statusChange: statusChange{
				from: []string{StatusSending}, to: outcome, detail: "Test key: not sent; this outcome is simulated",
				set: "provider_reference = id",
			}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// markInterruptedMany is markInterrupted for many notifications, in one transaction.
func (d *Delivery) markInterruptedMany(ctx context.Context, serviceID string, ns []outgoing) error {
	if len(ns) == 0 {
		return nil
	}
	byProvider := map[string][]string{}
	for _, n := range ns {
		byProvider[n.provider] = append(byProvider[n.provider], n.ID)
	}
	return d.retryWrite(ctx, func(tx *db.Tx) error {
		for provider, ids := range byProvider {
			if _, err := d.changeMany(ctx, tx, serviceID, ids, manyChange{statusChange: statusChange{
				from: []string{StatusSending}, to: StatusTechnicalFailure, detail: interruptedDetail(provider),
			}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// failMany moves notifications from one status to a failure status, in one transaction.
func (d *Delivery) failMany(ctx context.Context, serviceID string, ns []outgoing, from, status, detail string) error {
	return d.retryWrite(ctx, func(tx *db.Tx) error {
		_, err := d.changeMany(ctx, tx, serviceID, outgoingIDs(ns), manyChange{statusChange: statusChange{
			from: []string{from}, to: status, detail: detail,
		}})
		return err
	})
}

// giveUpBatch marks technical-failure the notifications a batch leaves created when its job
// has used its last attempt (giveUp, for a batch).
func (d *Delivery) giveUpBatch(ctx context.Context, args DeliverBatchArgs, cause error) {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	created, _, err := d.loadBatch(bg, args)
	if err == nil {
		err = d.failMany(bg, args.ServiceID, created, StatusCreated, StatusTechnicalFailure,
			fmt.Sprintf("Not sent: delivery kept failing: %v", cause))
	}
	if err != nil {
		d.s.log.ErrorContext(ctx, "notify: could not mark undeliverable notifications", "service_id", args.ServiceID,
			"notifications", len(args.NotificationIDs), "error", err)
	}
}

// loadBatch reads the batch's notifications that are its to deliver: created ones, and ones
// it claimed and never acknowledged (interrupted). Ids of another service or of notifications
// since deleted are ignored, as are notifications the batch put back to created for a
// DeliverArgs job of their own: that job delivers them now.
func (d *Delivery) loadBatch(ctx context.Context, args DeliverBatchArgs) (created, interrupted []outgoing, err error) {
	ids := slices.Clone(args.NotificationIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var found []outgoing
	err = forChunks(ids, func(chunk []string) error {
		rows, err := d.s.db.Query(ctx, `SELECT `+outgoingColumns+` FROM notify_notifications WHERE `+
			byIDs(len(chunk), "service_id = ?"), append(appendIDs(nil, chunk), args.ServiceID)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n, err := scanOutgoing(rows)
			if err != nil {
				return err
			}
			if n.Status == StatusCreated || n.interrupted() {
				found = append(found, n)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read batch: %w", err)
	}
	retried, err := d.putBack(ctx, outgoingIDs(found))
	if err != nil {
		return nil, nil, fmt.Errorf("read batch: %w", err)
	}
	// The order of the job's arguments, which is the order the notifications were sent in.
	position := make(map[string]int, len(args.NotificationIDs))
	for i, id := range args.NotificationIDs {
		if _, seen := position[id]; !seen {
			position[id] = i
		}
	}
	slices.SortFunc(found, func(a, b outgoing) int { return cmp.Compare(position[a.ID], position[b.ID]) })
	for _, n := range found {
		switch {
		case retried[n.ID]:
		case n.Status == StatusCreated:
			created = append(created, n)
		default:
			interrupted = append(interrupted, n)
		}
	}
	return created, interrupted, nil
}

// putBack returns which of ids have ever been put back to created after a failed attempt:
// they have more than one created status event. Each then has a DeliverArgs job of its own.
func (d *Delivery) putBack(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := forChunks(ids, func(chunk []string) error {
		rows, err := d.s.db.Query(ctx, `SELECT notification_id FROM notify_status_events
			WHERE notification_id IN (`+sqlPlaceholders(len(chunk))+`) AND status = ?
			GROUP BY notification_id HAVING count(*) > 1`, append(appendIDs(nil, chunk), StatusCreated)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out[id] = true
		}
		return rows.Err()
	})
	return out, err
}

// manyChange is a statusChange for many notifications at once, optionally recording each
// one's provider reference.
type manyChange struct {
	statusChange
	refs map[string]string // notification id → provider reference
}

// changeMany is change for many notifications of one service: it applies c to each of ids
// still in one of c.from, records the status events of those that changed, queues the
// callbacks their new status calls for, and returns them.
func (d *Delivery) changeMany(ctx context.Context, tx *db.Tx, serviceID string, ids []string, c manyChange) ([]changedRow, error) {
	var changed []changedRow
	err := forChunks(ids, func(chunk []string) error {
		q := `UPDATE notify_notifications SET status = ?, updated_at = ?`
		args := []any{c.to, d.s.now()}
		if c.set != "" {
			q += ", " + c.set
			args = append(args, c.args...)
		}
		if c.refs != nil {
			set, refArgs := referencesSQL(chunk, c.refs)
			q += ", " + set
			args = append(args, refArgs...)
		}
		cond := "service_id = ? AND status IN (" + sqlPlaceholders(len(c.from)) + ")"
		if c.where != "" {
			cond += " AND " + c.where
		}
		args = append(appendIDs(args, chunk), serviceID)
		for _, f := range c.from {
			args = append(args, f)
		}
		rows, err := tx.Query(ctx, q+` WHERE `+byIDs(len(chunk), cond)+` RETURNING `+changedColumns, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanChanged(rows)
			if err != nil {
				return err
			}
			changed = append(changed, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("notifications to %s: %w", c.to, err)
	}
	if err := d.recordChanges(ctx, tx, changed, c.detail); err != nil {
		return nil, err
	}
	return changed, nil
}

// recordChanges is recordChange for many changes with one detail: their status events are
// copied from the changed rows in one statement per chunk.
func (d *Delivery) recordChanges(ctx context.Context, tx *db.Tx, rs []changedRow, detail string) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	now := d.s.now()
	err := forChunks(ids, func(chunk []string) error {
		_, err := tx.Exec(ctx, `INSERT INTO notify_status_events (notification_id, service_id, status, detail, created_at)
			SELECT id, service_id, status, ?, ? FROM notify_notifications WHERE id IN (`+sqlPlaceholders(len(chunk))+`)`,
			appendIDs([]any{detail, now}, chunk)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("status events: %w", err)
	}
	// Whether the service has a delivery-status callback is asked once, not per message.
	heard := false
	for _, r := range rs {
		heard = heard || ((r.Type == Email || r.Type == SMS) && deliveryCallbackStatuses[r.Status])
	}
	if !heard {
		return nil
	}
	ok, err := hasCallback(ctx, tx, rs[0].ServiceID, CallbackDeliveryStatus)
	if err != nil || !ok {
		return err
	}
	for _, r := range rs {
		if err := d.queueDeliveryCallback(ctx, tx, r); err != nil {
			return err
		}
	}
	return nil
}

// insertJobs adds jobs in tx, as insertJob adds one.
func (d *Delivery) insertJobs(ctx context.Context, tx *db.Tx, jobs []river.InsertManyParams) error {
	if len(jobs) == 0 {
		return nil
	}
	if d.s.cfg.Jobs != nil {
		if _, err := d.s.cfg.Jobs.River().InsertManyFastTx(ctx, tx.Sql, jobs); err != nil {
			return fmt.Errorf("insert %s: %w", jobs[0].Args.Kind(), err)
		}
		return nil
	}
	for _, j := range jobs {
		if err := d.insertJob(ctx, tx, j.Args); err != nil {
			return err
		}
	}
	return nil
}

// forChunks calls fn with ids in chunks of at most maxStatementIDs, each padded to a power of
// two by repeating its last id (which changes nothing an IN list selects), so that the
// statements built from them come in a few sizes, each compiled once per connection.
func forChunks(ids []string, fn func(chunk []string) error) error {
	for len(ids) > 0 {
		n := min(len(ids), maxStatementIDs)
		size := 1
		for size < n {
			size *= 2
		}
		chunk := ids[:n:n]
		for len(chunk) < size {
			chunk = append(chunk, ids[n-1])
		}
		if err := fn(chunk); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// byIDs is the WHERE clause of a statement on notifications named by id (n placeholders),
// which applies only to those where cond holds. The notifications are found by primary key;
// cond is checked on each, inside a CASE that no index serves. Bare, a condition such as
// "service_id = ?" or "status IN (…)" may lead SQLite's planner (and PostgreSQL's, before it
// has statistics) to search that column's index instead, which in a large send spans most of
// the table.
func byIDs(n int, cond string) string {
	return "id IN (" + sqlPlaceholders(n) + ") AND CASE WHEN " + cond + " THEN 1 ELSE 0 END = 1"
}

// referencesSQL is the SET clause giving each notification of chunk its reference in refs.
func referencesSQL(chunk []string, refs map[string]string) (string, []any) {
	args := make([]any, 0, 2*len(chunk))
	q := "provider_reference = CASE id"
	for _, id := range chunk {
		q += " WHEN ? THEN ?"
		args = append(args, id, refs[id])
	}
	return q + " END", args
}

func appendIDs(args []any, ids []string) []any {
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}

func outgoingIDs(ns []outgoing) []string {
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	return ids
}
