package pay

// Status is a payment's internal status: the fine-grained state machine of GOV.UK Pay's
// connector (pay.md §6.2). The API shows only the coarser external state it maps to; keeping
// both lets `state`, `refund_summary`, links and events all derive from this one value.
type Status string

// Internal statuses. The strings are stored, so they must never change.
const (
	StatusUndefined                  Status = "UNDEFINED"
	StatusCreated                    Status = "CREATED"
	StatusEnteringCardDetails        Status = "ENTERING CARD DETAILS"
	StatusAuthorisationReady         Status = "AUTHORISATION READY"
	StatusAuthorisation3DSRequired   Status = "AUTHORISATION 3DS REQUIRED"
	StatusAuthorisation3DSReady      Status = "AUTHORISATION 3DS READY"
	StatusAuthorisationQueued        Status = "AUTHORISATION USER NOT PRESENT QUEUED"
	StatusAuthorisationSubmitted     Status = "AUTHORISATION SUBMITTED"
	StatusAuthorisationSuccess       Status = "AUTHORISATION SUCCESS"
	StatusAuthorisationRejected      Status = "AUTHORISATION REJECTED"
	StatusAuthorisationCancelled     Status = "AUTHORISATION CANCELLED"
	StatusAuthorisationAborted       Status = "AUTHORISATION ABORTED"
	StatusAuthorisationError         Status = "AUTHORISATION ERROR"
	StatusAuthorisationTimeout       Status = "AUTHORISATION TIMEOUT"
	StatusAuthorisationUnexpected    Status = "AUTHORISATION UNEXPECTED ERROR"
	StatusAwaitingCaptureRequest     Status = "AWAITING CAPTURE REQUEST"
	StatusCaptureApproved            Status = "CAPTURE APPROVED"
	StatusCaptureApprovedRetry       Status = "CAPTURE APPROVED RETRY"
	StatusCaptureReady               Status = "CAPTURE READY"
	StatusCaptureQueued              Status = "CAPTURE QUEUED"
	StatusCaptureSubmitted           Status = "CAPTURE SUBMITTED"
	StatusCaptured                   Status = "CAPTURED"
	StatusCaptureError               Status = "CAPTURE ERROR"
	StatusExpireCancelReady          Status = "EXPIRE CANCEL READY"
	StatusExpireCancelSubmitted      Status = "EXPIRE CANCEL SUBMITTED"
	StatusExpireCancelFailed         Status = "EXPIRE CANCEL FAILED"
	StatusExpired                    Status = "EXPIRED"
	StatusUserCancelReady            Status = "USER CANCEL READY"
	StatusUserCancelSubmitted        Status = "USER CANCEL SUBMITTED"
	StatusUserCancelled              Status = "USER CANCELLED"
	StatusUserCancelError            Status = "USER CANCEL ERROR"
	StatusSystemCancelReady          Status = "SYSTEM CANCEL READY"
	StatusSystemCancelSubmitted      Status = "SYSTEM CANCEL SUBMITTED"
	StatusSystemCancelled            Status = "SYSTEM CANCELLED"
	StatusSystemCancelError          Status = "SYSTEM CANCEL ERROR"
	StatusPaymentNotificationCreated Status = "PAYMENT NOTIFICATION CREATED"
)

// External is the state a payment shows in the API: `state` of the payment object and of each
// event.
type External struct {
	Status   string
	Finished bool
	Code     string
	Message  string
}

// External states, with the codes and messages of pay.md §2 (payment-state codes).
var (
	extCreated    = External{Status: "created"}
	extStarted    = External{Status: "started"}
	extSubmitted  = External{Status: "submitted"}
	extCapturable = External{Status: "capturable"}
	extSuccess    = External{Status: "success", Finished: true}
	extRejected   = External{Status: "failed", Finished: true, Code: "P0010", Message: "Payment method rejected"}
	extExpired    = External{Status: "failed", Finished: true, Code: "P0020", Message: "Payment expired"}
	extUserCancel = External{Status: "failed", Finished: true, Code: "P0030", Message: "Payment was cancelled by the user"}
	extCancelled  = External{Status: "cancelled", Finished: true, Code: "P0040", Message: "Payment was cancelled by the service"}
	extError      = External{Status: "error", Finished: true, Code: "P0050", Message: "Payment provider returned an error"}
)

// externalOf maps every internal status to its external state (pay.md §6.2).
var externalOf = map[Status]External{
	StatusUndefined:                  extCreated,
	StatusCreated:                    extCreated,
	StatusPaymentNotificationCreated: extCreated,
	StatusEnteringCardDetails:        extStarted,
	StatusAuthorisationReady:         extStarted,
	StatusAuthorisation3DSRequired:   extStarted,
	StatusAuthorisation3DSReady:      extStarted,
	StatusAuthorisationQueued:        extStarted,
	StatusAuthorisationSuccess:       extSubmitted,
	StatusAwaitingCaptureRequest:     extCapturable,
	StatusCaptureApproved:            extSuccess,
	StatusCaptureApprovedRetry:       extSuccess,
	StatusCaptureReady:               extSuccess,
	StatusCaptureQueued:              extSuccess,
	StatusCaptureSubmitted:           extSuccess,
	StatusCaptured:                   extSuccess,
	StatusAuthorisationRejected:      extRejected,
	StatusAuthorisationCancelled:     extRejected,
	StatusAuthorisationAborted:       extRejected,
	StatusExpireCancelReady:          extExpired,
	StatusExpireCancelSubmitted:      extExpired,
	StatusExpireCancelFailed:         extExpired,
	StatusExpired:                    extExpired,
	StatusUserCancelReady:            extUserCancel,
	StatusUserCancelSubmitted:        extUserCancel,
	StatusUserCancelled:              extUserCancel,
	StatusUserCancelError:            extUserCancel,
	StatusSystemCancelReady:          extCancelled,
	StatusSystemCancelSubmitted:      extCancelled,
	StatusSystemCancelled:            extCancelled,
	StatusSystemCancelError:          extCancelled,
	StatusAuthorisationSubmitted:     extError,
	StatusAuthorisationError:         extError,
	StatusAuthorisationTimeout:       extError,
	StatusAuthorisationUnexpected:    extError,
	StatusCaptureError:               extError,
}

// External returns the state the API shows for s. An unknown status (which only a bad row
// could hold) shows as a provider error rather than as a payment that might still succeed.
func (s Status) External() External {
	if e, ok := externalOf[s]; ok {
		return e
	}
	return extError
}

// Finished reports whether nothing more can happen to the payment as the payer or service
// sees it.
func (s Status) Finished() bool { return s.External().Finished }

// externalStatuses lists, for each external status name, the internal statuses that show as
// it: the search filter `state` is answered with them.
func externalStatuses(name string) []Status {
	var out []Status
	for _, s := range allStatuses {
		if s.External().Status == name {
			out = append(out, s)
		}
	}
	return out
}

// allStatuses in a fixed order, so that queries built from them are stable.
var allStatuses = []Status{
	StatusUndefined, StatusCreated, StatusPaymentNotificationCreated, StatusEnteringCardDetails,
	StatusAuthorisationReady, StatusAuthorisation3DSRequired, StatusAuthorisation3DSReady, StatusAuthorisationQueued,
	StatusAuthorisationSuccess, StatusAwaitingCaptureRequest, StatusCaptureApproved, StatusCaptureApprovedRetry,
	StatusCaptureReady, StatusCaptureQueued, StatusCaptureSubmitted, StatusCaptured, StatusAuthorisationRejected,
	StatusAuthorisationCancelled, StatusAuthorisationAborted, StatusExpireCancelReady, StatusExpireCancelSubmitted,
	StatusExpireCancelFailed, StatusExpired, StatusUserCancelReady, StatusUserCancelSubmitted, StatusUserCancelled,
	StatusUserCancelError, StatusSystemCancelReady, StatusSystemCancelSubmitted, StatusSystemCancelled,
	StatusSystemCancelError, StatusAuthorisationSubmitted, StatusAuthorisationError, StatusAuthorisationTimeout,
	StatusAuthorisationUnexpected, StatusCaptureError,
}

// Refund availability (refund_summary.status), derived from the status alone except that
// "available" and "full" depend on how much is left.
const (
	RefundPending     = "pending"
	RefundAvailable   = "available"
	RefundFull        = "full"
	RefundUnavailable = "unavailable"
)

// refundPendingStatuses are those before the money is taken, when a refund may become possible
// (pay.md §4.7). A payment awaiting the service's capture request, or queued for capture, is
// not among them: GOV.UK Pay shows those as unavailable, and so do we.
var refundPendingStatuses = map[Status]bool{
	StatusUndefined: true, StatusCreated: true, StatusEnteringCardDetails: true, StatusAuthorisationReady: true,
	StatusAuthorisation3DSRequired: true, StatusAuthorisation3DSReady: true, StatusAuthorisationSubmitted: true,
	StatusAuthorisationSuccess: true, StatusCaptureReady: true, StatusCaptureApproved: true,
	StatusCaptureApprovedRetry: true, StatusCaptureSubmitted: true,
}

// refundAvailability is the one place refund_summary.status is decided: refundable once
// captured, while some of the total is left.
func refundAvailability(s Status, available int64) string {
	switch {
	case s == StatusCaptured && available > 0:
		return RefundAvailable
	case s == StatusCaptured:
		return RefundFull
	case refundPendingStatuses[s]:
		return RefundPending
	}
	return RefundUnavailable
}
