package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/commons-gov/commons/internal/notify/letter"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

// Delivery is exactly-once where it can be and at-most-once where it cannot:
//
//   - A provider inside Commons' database (the development outbox) and a test key's simulated
//     outcome are written in the same transaction as the status change, so they happen
//     exactly once.
//   - A provider outside (SMTP, an HTTPS text message provider) is called between two
//     transactions. The first claims the notification: created → sending with sent_at and
//     the provider's name, only if it is still created. The second acknowledges the
//     provider's answer by recording its reference. A delivery that finds its notification
//     sending with no reference was interrupted between the two (a crash, a lost database):
//     the provider may or may not have the message, so it is not sent again but marked
//     technical-failure with a detail saying why. A failure the provider reports as certainly
//     not sent puts the notification back to created, and River tries again with backoff.
//
// Every status change is recorded in notify_status_events in its transaction, and so is the
// delivery-status callback job it causes.
//
// Notifications sent now are delivered by a DeliverBatchArgs job per batch stored together
// (delivery_batch.go), with the same guarantees for each. A DeliverArgs job delivers one
// notification: one scheduled for later, one stored on its own, or one whose attempt in a
// batch is to be retried.

// providerTestKey names the simulated provider of test-key notifications.
const providerTestKey = "test-key"

// Recipients whose test-key outcome is a failure (notify.md §4.4).
const (
	simulatedTempFailEmail = "temp-fail@simulator.notify"
	simulatedPermFailEmail = "perm-fail@simulator.notify"
	simulatedTempFailSMS   = "7700900003"
	simulatedPermFailSMS   = "7700900002"
)

// outgoing is a notification as delivery reads it.
type outgoing struct {
	Notification
	provider, providerRef string
}

const outgoingColumns = `id, service_id, template_id, template_version, notification_type, key_type, recipient,
	normalised_to, international, COALESCE(client_reference, ''), status, COALESCE(subject, ''), body,
	COALESCE(reply_to, ''), COALESCE(sender, ''), COALESCE(one_click_unsubscribe_url, ''), COALESCE(provider, ''),
	COALESCE(provider_reference, ''), created_at, sent_at, updated_at`

func scanOutgoing(row interface{ Scan(...any) error }) (outgoing, error) {
	var n outgoing
	var typ, keyType string
	var sent, updated sql.NullTime
	err := row.Scan(&n.ID, &n.ServiceID, &n.TemplateID, &n.TemplateVersion, &typ, &keyType, &n.Recipient,
		&n.NormalisedTo, &n.International, &n.ClientReference, &n.Status, &n.Subject, &n.Body,
		&n.ReplyTo, &n.Sender, &n.UnsubscribeURL, &n.provider, &n.providerRef, &n.CreatedAt, &sent, &updated)
	if err != nil {
		return outgoing{}, err
	}
	n.Type, n.KeyType = Channel(typ), apiauth.KeyType(keyType)
	if sent.Valid {
		n.SentAt = &sent.Time
	}
	if updated.Valid {
		n.UpdatedAt = &updated.Time
	}
	return n, nil
}

func (d *Delivery) loadOutgoing(ctx context.Context, id string) (outgoing, error) {
	return scanOutgoing(d.s.db.QueryRow(ctx, `SELECT `+outgoingColumns+` FROM notify_notifications WHERE id = ?`, id))
}

// interrupted reports whether n was claimed for a provider outside Commons and never
// acknowledged.
func (n outgoing) interrupted() bool {
	return n.Status == StatusSending && n.provider != "" && n.providerRef == ""
}

// deliverWorker runs DeliverArgs jobs.
type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	d *Delivery
}

// NextRetry spaces retries by the configured delay.
func (w *deliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return time.Now().Add(w.d.retryDelay(job.Attempt + job.Args.EarlierAttempts))
}

// Work delivers one notification. A job for a notification already past created (delivered,
// cancelled, deleted by retention) does nothing.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	err := w.d.deliver(ctx, job)
	if err != nil && job.Attempt >= job.MaxAttempts {
		// River gives up on the job after this; the notification must not stay created.
		w.d.giveUp(ctx, job.Args.NotificationID, err)
	}
	return err
}

func (d *Delivery) deliver(ctx context.Context, job *river.Job[DeliverArgs]) error {
	n, err := d.loadOutgoing(ctx, job.Args.NotificationID)
	if db.IsNoRows(err) || (err == nil && n.ServiceID != job.Args.ServiceID) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deliver %s: %w", job.Args.NotificationID, err)
	}
	switch {
	case n.Status == StatusCreated:
	case n.interrupted():
		return d.markInterrupted(ctx, n)
	default:
		return nil
	}
	svc, st, err := d.senderOf(ctx, n.ServiceID)
	if failure.Is(err, failure.NotFound) {
		return d.fail(ctx, n, []string{StatusCreated}, StatusTechnicalFailure, "Not sent: the service no longer exists")
	}
	if err != nil {
		return fmt.Errorf("deliver %s: %w", n.ID, err)
	}
	if svc.Archived {
		return d.fail(ctx, n, []string{StatusCreated}, StatusTechnicalFailure, "Not sent: the service was archived before sending")
	}
	tooLong, err := d.recordBillable(ctx, n, svc, st)
	if err != nil {
		return err
	}
	if tooLong {
		return d.fail(ctx, n, []string{StatusCreated}, StatusValidationFailed, tooLongDetail())
	}
	if n.KeyType == apiauth.Test {
		return d.simulate(ctx, n)
	}
	switch n.Type {
	case Email:
		m := d.emailMessage(n, svc, st)
		var inTx func(context.Context, *db.Tx) (string, error)
		if tx, ok := d.email.(txEmailSender); ok {
			inTx = func(ctx context.Context, t *db.Tx) (string, error) { return tx.sendEmailTx(ctx, t, m, n.ServiceID) }
		}
		return d.handOver(ctx, job, n, d.email.Name(), StatusDelivered,
			func(ctx context.Context) (string, error) { return d.email.SendEmail(ctx, m) }, inTx)
	case SMS:
		m := smsMessage(n, svc, st)
		if tx, ok := d.sms.(txSMSProvider); ok {
			return d.handOver(ctx, job, n, d.sms.Name(), StatusDelivered, nil,
				func(ctx context.Context, t *db.Tx) (string, error) { return tx.sendSMSTx(ctx, t, m, n.ServiceID) })
		}
		return d.handOver(ctx, job, n, d.sms.Name(), smsAccepted(n),
			func(ctx context.Context) (string, error) { return d.sms.SendSMS(ctx, m) }, nil)
	case Letter:
		if d.s.cfg.Dev {
			return d.letterToOutbox(ctx, n)
		}
		// Live letters wait, created, for the day's print batch, which moves them to sending.
		return nil
	}
	return d.fail(ctx, n, []string{StatusCreated}, StatusTechnicalFailure, fmt.Sprintf("Not sent: unknown notification type %q", n.Type))
}

// tooLongDetail says why a letter over the page limit is not sent.
func tooLongDetail() string {
	return fmt.Sprintf("Not sent: letters can be at most %d pages", letter.MaxPages)
}

// senderCacheFor is how long delivery reuses what it read about a sending service (its name,
// whether it is archived, its sender settings). A bulk send reads them once a second rather
// than once a message; a service archived or renamed mid-send is noticed within that time.
const senderCacheFor = time.Second

type cachedSender struct {
	svc     platform.Service
	st      Settings
	expires time.Time
}

// senderOf returns a service and its settings, from the cache when fresh.
func (d *Delivery) senderOf(ctx context.Context, serviceID string) (platform.Service, Settings, error) {
	now := d.s.now()
	d.sendersMu.Lock()
	c, ok := d.senders[serviceID]
	d.sendersMu.Unlock()
	if ok && now.Before(c.expires) {
		return c.svc, c.st, nil
	}
	svc, err := d.s.cfg.Platform.Service(ctx, serviceID)
	if err != nil {
		return platform.Service{}, Settings{}, err
	}
	st, err := d.s.Settings(ctx, serviceID)
	if err != nil {
		return platform.Service{}, Settings{}, err
	}
	d.sendersMu.Lock()
	if len(d.senders) > 10_000 {
		clear(d.senders)
	}
	d.senders[serviceID] = cachedSender{svc: svc, st: st, expires: now.Add(senderCacheFor)}
	d.sendersMu.Unlock()
	return svc, st, nil
}

// smsMessage builds what the provider sends, with the service's name in front when the
// service asks for it (notify.md §5.4).
func smsMessage(n outgoing, svc platform.Service, st Settings) SMSMessage {
	body := n.Body
	if st.PrefixSMS {
		body = svc.Name + ": " + body
	}
	return SMSMessage{NotificationID: n.ID, To: n.NormalisedTo, Body: body, Sender: n.Sender, International: n.International}
}

// smsAccepted is the status of a text message its provider has taken: it is delivered when
// the provider's receipt says so; international numbers often have no receipts and stay
// sent, as with GOV.UK Notify.
func smsAccepted(n outgoing) string {
	if n.International {
		return StatusSent
	}
	return StatusSending
}

// handOver gives n to a provider: in one transaction when the provider lives in Commons'
// database (inTx), otherwise between a claim and an acknowledgement (send).
func (d *Delivery) handOver(ctx context.Context, job *river.Job[DeliverArgs], n outgoing, provider, accepted string,
	send func(context.Context) (string, error), inTx func(context.Context, *db.Tx) (string, error)) error {
	if inTx != nil {
		return d.handOverInTx(ctx, n, provider, accepted, inTx)
	}

	// A slot first, so that the message is claimed only once it can be sent at once; it is
	// held until the answer is recorded (see handoverSlots).
	if err := d.slots.acquire(ctx, 1, singleDeliveryRank); err != nil {
		return fmt.Errorf("deliver %s: %w", n.ID, err)
	}
	defer d.slots.release(1)
	var claimed bool
	err := d.s.db.InTx(ctx, func(tx *db.Tx) (err error) {
		claimed, err = d.claim(ctx, tx, n, provider)
		return err
	})
	if err != nil || !claimed {
		return err
	}
	ref, sendErr := send(ctx)
	// Whatever happened to ctx meanwhile (a stop, the job's timeout), the provider's answer
	// must be recorded.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if sendErr == nil {
		if ref == "" {
			ref = n.ID
		}
		return d.retryWrite(bg, func(tx *db.Tx) error { return d.acknowledge(bg, tx, n, provider, ref, accepted) })
	}
	// A job taking over from a batch continues the batch's count of attempts.
	attempt, maxAttempts := job.Attempt+job.Args.EarlierAttempts, job.MaxAttempts+job.Args.EarlierAttempts
	switch outcomeOf(sendErr) {
	case OutcomeRetry:
		if attempt >= maxAttempts {
			return d.fail(bg, n, []string{StatusSending}, StatusTechnicalFailure,
				fmt.Sprintf("Not sent: %s still failing after %d attempts: %v", provider, attempt, sendErr))
		}
		delay := d.retryDelay(attempt)
		if err := d.release(bg, n, fmt.Sprintf("Not sent: %s: %v; trying again in %s", provider, sendErr, delay.Round(time.Second))); err != nil {
			return errors.Join(sendErr, err)
		}
		return fmt.Errorf("deliver %s: %w", n.ID, sendErr)
	case OutcomeRejected:
		return d.fail(bg, n, []string{StatusSending}, StatusPermanentFailure, fmt.Sprintf("Refused by %s: %v", provider, sendErr))
	case OutcomeFailed:
		return d.fail(bg, n, []string{StatusSending}, StatusTechnicalFailure, fmt.Sprintf("Not sent: %s refused it: %v", provider, sendErr))
	default:
		return d.fail(bg, n, []string{StatusSending}, StatusTechnicalFailure, fmt.Sprintf(
			"Not known whether %s took the message (%v); it is not sent again, so that it is never delivered twice", provider, sendErr))
	}
}

// handOverInTx gives n to a provider that lives in Commons' database: claim, hand-over and
// acknowledgement in one transaction, so that it happens exactly once.
func (d *Delivery) handOverInTx(ctx context.Context, n outgoing, provider, accepted string,
	inTx func(context.Context, *db.Tx) (string, error)) error {
	return d.s.db.InTx(ctx, func(tx *db.Tx) error {
		claimed, err := d.claim(ctx, tx, n, provider)
		if err != nil || !claimed {
			return err
		}
		ref, err := inTx(ctx, tx)
		if err != nil {
			return err
		}
		return d.acknowledge(ctx, tx, n, provider, ref, accepted)
	})
}

// retryWrite runs a bookkeeping transaction, trying a few times: after a provider has taken
// a message, failing to record it would turn a delivered message into an interrupted one.
func (d *Delivery) retryWrite(ctx context.Context, fn func(tx *db.Tx) error) error {
	var err error
	for i := range 3 {
		if err = d.s.db.InTx(ctx, fn); err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(i+1) * 200 * time.Millisecond):
		}
	}
	return err
}

// claim moves n from created to sending for provider. It reports false when n is no longer
// created (another delivery or a cancellation got there first).
func (d *Delivery) claim(ctx context.Context, tx *db.Tx, n outgoing, provider string) (bool, error) {
	now := d.s.now()
	_, changed, err := d.change(ctx, tx, n.ID, statusChange{
		from: []string{StatusCreated}, to: StatusSending, detail: "Handed to " + provider,
		set: "sent_at = ?, provider = ?", args: []any{now, provider},
	})
	return changed, err
}

// acknowledge records the provider's reference for a claimed notification and moves it to
// accepted (which may be sending itself). A receipt that overtook the acknowledgement keeps
// its status.
func (d *Delivery) acknowledge(ctx context.Context, tx *db.Tx, n outgoing, provider, ref, accepted string) error {
	if accepted == StatusSending {
		_, err := tx.Exec(ctx, `UPDATE notify_notifications SET provider_reference = ?
			WHERE id = ? AND provider_reference IS NULL`, ref, n.ID)
		return err
	}
	_, changed, err := d.change(ctx, tx, n.ID, statusChange{
		from: []string{StatusSending}, to: accepted, detail: "Accepted by " + provider,
		set: "provider_reference = ?", args: []any{ref}, where: "provider_reference IS NULL",
	})
	if err == nil && !changed {
		_, err = tx.Exec(ctx, `UPDATE notify_notifications SET provider_reference = ?
			WHERE id = ? AND provider_reference IS NULL`, ref, n.ID)
	}
	return err
}

// release puts a claimed notification back to created after a provider certainly did not
// take it, so that the retry can claim it again.
func (d *Delivery) release(ctx context.Context, n outgoing, detail string) error {
	return d.retryWrite(ctx, func(tx *db.Tx) error {
		_, _, err := d.change(ctx, tx, n.ID, statusChange{
			from: []string{StatusSending}, to: StatusCreated, detail: detail,
			set: "sent_at = NULL, provider = NULL", where: "provider_reference IS NULL",
		})
		return err
	})
}

// fail moves n from one of from to a failure status.
func (d *Delivery) fail(ctx context.Context, n outgoing, from []string, status, detail string) error {
	return d.retryWrite(ctx, func(tx *db.Tx) error {
		_, _, err := d.change(ctx, tx, n.ID, statusChange{from: from, to: status, detail: detail})
		return err
	})
}

// markInterrupted ends a notification whose delivery stopped between claim and
// acknowledgement.
func (d *Delivery) markInterrupted(ctx context.Context, n outgoing) error {
	return d.fail(ctx, n, []string{StatusSending}, StatusTechnicalFailure, interruptedDetail(n.provider))
}

// interruptedDetail says why an interrupted delivery is technical-failure.
func interruptedDetail(provider string) string {
	return fmt.Sprintf("Delivery was interrupted after the message was handed to %s and before %s's answer was recorded. "+
		"It may have been delivered; it is not sent again, so that it is never delivered twice", provider, provider)
}

// giveUp marks a notification technical-failure when its delivery job has used its last
// attempt on an error that left it created.
func (d *Delivery) giveUp(ctx context.Context, id string, cause error) {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	n := outgoing{Notification: Notification{ID: id}}
	if err := d.fail(bg, n, []string{StatusCreated}, StatusTechnicalFailure, fmt.Sprintf("Not sent: delivery kept failing: %v", cause)); err != nil {
		d.s.log.ErrorContext(ctx, "notify: could not mark an undeliverable notification", "notification_id", id, "error", err)
	}
}

// simulatedOutcome is the status a test-key notification ends in (notify.md §4.4).
func simulatedOutcome(n outgoing) string {
	switch n.Type {
	case Email:
		switch strings.ToLower(strings.TrimSpace(n.NormalisedTo)) {
		case simulatedTempFailEmail:
			return StatusTemporaryFailure
		case simulatedPermFailEmail:
			return StatusPermanentFailure
		}
	case SMS:
		switch {
		case strings.HasSuffix(n.NormalisedTo, simulatedTempFailSMS):
			return StatusTemporaryFailure
		case strings.HasSuffix(n.NormalisedTo, simulatedPermFailSMS):
			return StatusPermanentFailure
		}
	}
	return StatusDelivered
}

// simulate gives a test-key notification its outcome without any provider (notify.md §4.4).
func (d *Delivery) simulate(ctx context.Context, n outgoing) error {
	outcome := simulatedOutcome(n)
	return d.s.db.InTx(ctx, func(tx *db.Tx) error {
		claimed, err := d.claim(ctx, tx, n, providerTestKey)
		if err != nil || !claimed {
			return err
		}
		_, _, err = d.change(ctx, tx, n.ID, statusChange{
			from: []string{StatusSending}, to: outcome, detail: "Test key: not sent; this outcome is simulated",
			set: "provider_reference = ?", args: []any{n.ID},
		})
		return err
	})
}

// letterToOutbox delivers a letter in development mode: the outbox keeps a reference to its
// PDF (the notification's id, from which the console and GET /v2/notifications/{id}/pdf
// render it) and the letter is delivered.
func (d *Delivery) letterToOutbox(ctx context.Context, n outgoing) error {
	return d.s.db.InTx(ctx, func(tx *db.Tx) error {
		claimed, err := d.claim(ctx, tx, n, "outbox")
		if err != nil || !claimed {
			return err
		}
		ref, err := addToOutbox(ctx, d.outbox, tx, letterOutboxMessage(n))
		if err != nil {
			return err
		}
		return d.acknowledge(ctx, tx, n, "outbox", ref, StatusDelivered)
	})
}
