package pay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/db"
)

// edge is one allowed change of status and the name of the event it records.
type edge struct {
	from, to Status
	event    string
}

// transitions is every allowed change of internal status (pay.md §6.3), in one table so that
// no code path can move a payment where the state machine does not allow. Event names follow
// GOV.UK Pay's where it has one; steps it leaves unnamed are named here after what they mean.
var transitions = buildTransitions([]edge{
	{StatusUndefined, StatusCreated, "PaymentCreated"},
	{StatusUndefined, StatusPaymentNotificationCreated, "PaymentNotificationCreated"},

	{StatusCreated, StatusEnteringCardDetails, "PaymentStarted"},
	{StatusCreated, StatusAuthorisationReady, "AuthorisationStarted"},
	{StatusCreated, StatusAuthorisationQueued, "QueuedForAuthorisationWithUserNotPresent"},
	{StatusCreated, StatusExpired, "PaymentExpired"},
	{StatusCreated, StatusSystemCancelled, "CancelledByExternalService"},
	{StatusCreated, StatusUserCancelled, "CancelledByUser"},
	{StatusCreated, StatusAuthorisationRejected, "AuthorisationRejected"},

	{StatusEnteringCardDetails, StatusAuthorisationReady, "AuthorisationStarted"},
	{StatusEnteringCardDetails, StatusAuthorisationAborted, "AuthorisationRejected"},
	{StatusEnteringCardDetails, StatusUserCancelled, "CancelledByUser"},
	{StatusEnteringCardDetails, StatusSystemCancelled, "CancelledByExternalService"},
	{StatusEnteringCardDetails, StatusExpired, "PaymentExpired"},

	{StatusAuthorisationReady, StatusAuthorisationSuccess, "AuthorisationSucceeded"},
	{StatusAuthorisationReady, StatusAuthorisationRejected, "AuthorisationRejected"},
	{StatusAuthorisationReady, StatusAuthorisationError, "GatewayErrorDuringAuthorisation"},
	{StatusAuthorisationReady, StatusAuthorisationTimeout, "GatewayTimeoutDuringAuthorisation"},
	{StatusAuthorisationReady, StatusAuthorisationUnexpected, "UnexpectedGatewayErrorDuringAuthorisation"},
	{StatusAuthorisationReady, StatusAuthorisation3DSRequired, "GatewayRequires3dsAuthorisation"},
	{StatusAuthorisationReady, StatusAuthorisationCancelled, "AuthorisationCancelled"},
	{StatusAuthorisationReady, StatusAuthorisationSubmitted, "GatewayErrorDuringAuthorisation"},
	{StatusAuthorisationReady, StatusAuthorisationAborted, "AuthorisationRejected"},
	{StatusAuthorisationReady, StatusUserCancelled, "CancelledByUser"},
	{StatusAuthorisationReady, StatusExpired, "PaymentExpired"},

	{StatusAuthorisationSubmitted, StatusAuthorisationSuccess, "AuthorisationSucceeded"},
	{StatusAuthorisationSubmitted, StatusAuthorisationRejected, "AuthorisationRejected"},
	{StatusAuthorisationSubmitted, StatusAuthorisationError, "GatewayErrorDuringAuthorisation"},
	{StatusAuthorisationSubmitted, StatusAuthorisation3DSRequired, "GatewayRequires3dsAuthorisation"},

	{StatusAuthorisation3DSRequired, StatusAuthorisation3DSReady, "ThreeDsResultReceived"},
	{StatusAuthorisation3DSRequired, StatusAuthorisationSuccess, "AuthorisationSucceeded"},
	{StatusAuthorisation3DSRequired, StatusAuthorisationRejected, "AuthorisationRejected"},
	{StatusAuthorisation3DSRequired, StatusAuthorisationCancelled, "AuthorisationCancelled"},
	{StatusAuthorisation3DSRequired, StatusExpireCancelReady, "CancelByExpirationStarted"},
	{StatusAuthorisation3DSRequired, StatusUserCancelled, "CancelledByUser"},
	{StatusAuthorisation3DSRequired, StatusUserCancelReady, "CancelByUserStarted"},
	{StatusAuthorisation3DSRequired, StatusSystemCancelled, "CancelledByExternalService"},
	{StatusAuthorisation3DSRequired, StatusSystemCancelReady, "CancelByExternalServiceStarted"},
	{StatusAuthorisation3DSRequired, StatusExpired, "PaymentExpired"},

	{StatusAuthorisation3DSReady, StatusAuthorisationSuccess, "AuthorisationSucceeded"},
	{StatusAuthorisation3DSReady, StatusAuthorisationRejected, "AuthorisationRejected"},
	{StatusAuthorisation3DSReady, StatusAuthorisation3DSRequired, "GatewayRequires3dsAuthorisation"},
	{StatusAuthorisation3DSReady, StatusAuthorisationError, "GatewayErrorDuringAuthorisation"},
	{StatusAuthorisation3DSReady, StatusAuthorisationCancelled, "AuthorisationCancelled"},
	{StatusAuthorisation3DSReady, StatusExpireCancelReady, "CancelByExpirationStarted"},
	{StatusAuthorisation3DSReady, StatusSystemCancelled, "CancelledByExternalService"},
	{StatusAuthorisation3DSReady, StatusSystemCancelReady, "CancelByExternalServiceStarted"},
	{StatusAuthorisation3DSReady, StatusUserCancelled, "CancelledByUser"},
	{StatusAuthorisation3DSReady, StatusUserCancelReady, "CancelByUserStarted"},
	{StatusAuthorisation3DSReady, StatusExpired, "PaymentExpired"},

	{StatusAuthorisationQueued, StatusAuthorisationReady, "AuthorisationStarted"},

	{StatusAuthorisationSuccess, StatusCaptureApproved, "UserApprovedForCapture"},
	{StatusAuthorisationSuccess, StatusCaptureReady, "CaptureStarted"},
	{StatusAuthorisationSuccess, StatusCaptureQueued, "QueuedForCapture"},
	{StatusAuthorisationSuccess, StatusAwaitingCaptureRequest, "UserApprovedForCaptureAwaitingServiceApproval"},
	{StatusAuthorisationSuccess, StatusSystemCancelReady, "CancelByExternalServiceStarted"},
	{StatusAuthorisationSuccess, StatusUserCancelReady, "CancelByUserStarted"},
	{StatusAuthorisationSuccess, StatusExpireCancelReady, "CancelByExpirationStarted"},

	{StatusAwaitingCaptureRequest, StatusCaptureApproved, "ServiceApprovedForCapture"},
	{StatusAwaitingCaptureRequest, StatusSystemCancelReady, "CancelByExternalServiceStarted"},
	{StatusAwaitingCaptureRequest, StatusExpireCancelReady, "CancelByExpirationStarted"},

	{StatusCaptureQueued, StatusCaptureReady, "CaptureStarted"},
	{StatusCaptureQueued, StatusCaptureError, "CaptureErrored"},
	{StatusCaptureApproved, StatusCaptureReady, "CaptureStarted"},
	{StatusCaptureApproved, StatusCaptureError, "CaptureAbandonedAfterTooManyRetries"},
	{StatusCaptureApprovedRetry, StatusCaptureReady, "CaptureStarted"},
	{StatusCaptureApprovedRetry, StatusCaptureError, "CaptureAbandonedAfterTooManyRetries"},
	{StatusCaptureApprovedRetry, StatusCaptured, "CaptureConfirmed"},
	{StatusCaptureReady, StatusCaptureSubmitted, "CaptureSubmitted"},
	{StatusCaptureReady, StatusCaptured, "CaptureConfirmed"},
	{StatusCaptureReady, StatusCaptureError, "CaptureErrored"},
	{StatusCaptureReady, StatusCaptureApprovedRetry, "CaptureRetryScheduled"},
	{StatusCaptureSubmitted, StatusCaptured, "CaptureConfirmed"},
	{StatusCaptureSubmitted, StatusCaptureError, "CaptureErrored"},

	{StatusExpireCancelReady, StatusExpireCancelSubmitted, "CancelByExpirationSubmitted"},
	{StatusExpireCancelReady, StatusExpireCancelFailed, "CancelByExpirationFailed"},
	{StatusExpireCancelReady, StatusExpired, "CancelledByExpiration"},
	{StatusExpireCancelSubmitted, StatusExpireCancelFailed, "CancelByExpirationFailed"},
	{StatusExpireCancelSubmitted, StatusExpired, "CancelledByExpiration"},

	{StatusSystemCancelReady, StatusSystemCancelSubmitted, "CancelByExternalServiceSubmitted"},
	{StatusSystemCancelReady, StatusSystemCancelError, "CancelByExternalServiceFailed"},
	{StatusSystemCancelReady, StatusSystemCancelled, "CancelledByExternalService"},
	{StatusSystemCancelSubmitted, StatusSystemCancelError, "CancelByExternalServiceFailed"},
	{StatusSystemCancelSubmitted, StatusSystemCancelled, "CancelledByExternalService"},

	{StatusUserCancelReady, StatusUserCancelSubmitted, "CancelByUserSubmitted"},
	{StatusUserCancelReady, StatusUserCancelError, "CancelByUserFailed"},
	{StatusUserCancelReady, StatusUserCancelled, "CancelledByUser"},
	{StatusUserCancelSubmitted, StatusUserCancelError, "CancelByUserFailed"},
	{StatusUserCancelSubmitted, StatusUserCancelled, "CancelledByUser"},

	{StatusPaymentNotificationCreated, StatusCaptureSubmitted, "CaptureSubmitted"},
	{StatusPaymentNotificationCreated, StatusAuthorisationRejected, "AuthorisationRejected"},
	{StatusPaymentNotificationCreated, StatusAuthorisationError, "GatewayErrorDuringAuthorisation"},
	{StatusPaymentNotificationCreated, StatusAuthorisationCancelled, "AuthorisationCancelled"},
})

func buildTransitions(edges []edge) map[Status]map[Status]string {
	m := map[Status]map[Status]string{}
	for _, e := range edges {
		if m[e.from] == nil {
			m[e.from] = map[Status]string{}
		}
		if _, dup := m[e.from][e.to]; dup {
			panic(fmt.Sprintf("pay: transition %s → %s listed twice", e.from, e.to))
		}
		m[e.from][e.to] = e.event
	}
	return m
}

// eventFor returns the event of a transition, and whether the transition is allowed.
func eventFor(from, to Status) (string, bool) {
	ev, ok := transitions[from][to]
	return ev, ok
}

// CanTransition reports whether the state machine allows from → to.
func CanTransition(from, to Status) bool {
	_, ok := eventFor(from, to)
	return ok
}

// errStale means the payment's status was no longer the one a transition started from: another
// request or job moved it first. The caller re-reads and decides again (or reports a conflict).
var errStale = errors.New("pay: the payment's status changed concurrently")

// ErrTransition is a transition the state machine does not allow.
type ErrTransition struct{ From, To Status }

func (e *ErrTransition) Error() string {
	return fmt.Sprintf("pay: no transition from %s to %s", e.From, e.To)
}

// set is a column written together with a status change: card details with an authorisation,
// the capture time with a capture.
type set struct {
	col string
	val any
}

// transition moves a payment from one status to another inside tx, and records the event. The
// update is a compare-and-set on the current status, so of two requests racing from the same
// status exactly one wins; the other gets errStale and nothing it wrote survives its rollback.
// Every status change in the package goes through here.
func transition(ctx context.Context, tx *db.Tx, p *Payment, to Status, at time.Time, sets ...set) error {
	from := p.Status
	event, ok := eventFor(from, to)
	if !ok {
		return &ErrTransition{From: from, To: to}
	}
	var q strings.Builder
	q.WriteString("UPDATE pay_payments SET status = ?, updated_at = ?")
	args := []any{string(to), at}
	for _, s := range sets {
		q.WriteString(", " + s.col + " = ?")
		args = append(args, s.val)
	}
	// The row is found by its id alone (see payment.go): "status || ''" compares the same but
	// keeps PostgreSQL from finding the row through the index on status instead.
	q.WriteString(" WHERE id = ? AND status || '' = ?")
	args = append(args, p.ID, string(from))
	res, err := tx.Exec(ctx, q.String(), args...)
	if err != nil {
		return fmt.Errorf("pay: %s → %s: %w", from, to, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("pay: %s → %s: %w", from, to, err)
	} else if n == 0 {
		return errStale
	}
	if err := recordEvent(ctx, tx, p.ID, p.ServiceID, from, to, event, at); err != nil {
		return err
	}
	// Webhook messages and the confirmation email are queued with the event (webhooks_emit.go).
	if err := followEvent(ctx, tx, p, event, at); err != nil {
		return err
	}
	p.Status, p.UpdatedAt = to, at
	return nil
}

// recordEvent appends one row to a payment's history.
func recordEvent(ctx context.Context, tx *db.Tx, paymentID, serviceID string, from, to Status, event string, at time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO pay_events (payment_id, service_id, from_status, to_status, event, at)
		VALUES (?, ?, ?, ?, ?, ?)`, paymentID, serviceID, string(from), string(to), event, at); err != nil {
		return fmt.Errorf("pay: record %s: %w", event, err)
	}
	return nil
}
