package stripepsp

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/stripe/stripe-go/v82"

	"github.com/commons-gov/commons/internal/pay"
)

// apiError is an error answer from Stripe, cut down to what is safe and useful in a log. The
// client's own error prints the whole response body, which can hold the payment intent (with
// its client secret) and the payment method; this keeps the status, the codes, Stripe's message
// and the request id that Stripe's support asks for.
type apiError struct {
	status      int
	kind        stripe.ErrorType
	code        stripe.ErrorCode
	declineCode stripe.DeclineCode
	message     string
	requestID   string
	// paymentIntent is the intent a declined confirmation left behind, if any.
	paymentIntent string
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stripe answered %d", e.status)
	if e.kind != "" {
		b.WriteString(" " + string(e.kind))
	}
	if reason := e.reason(); reason != "" {
		b.WriteString(": " + reason)
	}
	if e.requestID != "" {
		b.WriteString(" (request " + e.requestID + ")")
	}
	return b.String()
}

// reason is the code, decline code and message, as an AuthoriseResult's Message.
func (e *apiError) reason() string {
	parts := make([]string, 0, 3)
	if e.code != "" {
		parts = append(parts, string(e.code))
	}
	if e.declineCode != "" && string(e.declineCode) != string(e.code) {
		parts = append(parts, "("+string(e.declineCode)+")")
	}
	s := strings.Join(parts, " ")
	if e.message != "" {
		if s != "" {
			s += ": "
		}
		s += e.message
	}
	return s
}

// definite reports whether the answer is final: the same request would get the same answer
// again, so it is a result rather than a failure to get one. Declines and invalid requests
// (including a bad or revoked key) are final; Stripe's own faults, rate limits, lock timeouts
// and a request still running under the same idempotency key are not.
func (e *apiError) definite() bool {
	switch {
	case e.status == http.StatusConflict, e.status == http.StatusTooManyRequests, e.status >= 500:
		return false
	case e.code == stripe.ErrorCodeRateLimit, e.code == stripe.ErrorCodeLockTimeout,
		e.code == stripe.ErrorCodeIdempotencyKeyInUse:
		return false
	}
	return e.kind == stripe.ErrorTypeCard || e.kind == stripe.ErrorTypeInvalidRequest
}

// asAPIError finds Stripe's error answer in err.
func asAPIError(err error) (*apiError, bool) {
	var mine *apiError
	if errors.As(err, &mine) {
		return mine, true
	}
	var se *stripe.Error
	if !errors.As(err, &se) {
		return nil, false
	}
	e := &apiError{status: se.HTTPStatusCode, kind: se.Type, code: se.Code, declineCode: se.DeclineCode,
		message: redactKeys(se.Msg), requestID: se.RequestID}
	if se.PaymentIntent != nil {
		e.paymentIntent = se.PaymentIntent.ID
	}
	return e, true
}

// secretKey matches Stripe secret and restricted keys. Stripe masks a key it quotes back in a
// message (an unauthorised request's, say), but stripe-mock does not, and a message is logged.
var secretKey = regexp.MustCompile(`\b(sk|rk)_(test|live)_[0-9A-Za-z_]+`)

func redactKeys(s string) string { return secretKey.ReplaceAllString(s, "${1}_${2}_[redacted]") }

// failed wraps an error from a call for the caller: Stripe's answers in their short form,
// anything else (a connection failure, a timeout) as it is, so that errors.Is still finds
// context.DeadlineExceeded.
func failed(operation string, err error) error {
	if e, ok := asAPIError(err); ok {
		return fmt.Errorf("stripe: %s: %w", operation, e)
	}
	return fmt.Errorf("stripe: %s: %w", operation, err)
}

// hasCode reports whether err is Stripe's answer with the given code.
func hasCode(err error, code stripe.ErrorCode) bool {
	e, ok := asAPIError(err)
	return ok && e.code == code
}

// authoriseFailure turns an error from an authorisation's calls into Pay's terms. A decline is
// Rejected, a definite error (an invalid request, a bad key, Stripe's processing error) is
// ProviderError, and anything that may yet succeed is an error, which Pay records as an
// unexpected outcome rather than as an answer.
func authoriseFailure(operation string, err error) (pay.AuthoriseResult, error) {
	if errors.Is(err, errNoKey) {
		return pay.AuthoriseResult{Outcome: pay.ProviderError, Message: errNoKey.Error()}, nil
	}
	e, ok := asAPIError(err)
	if !ok || !e.definite() {
		return pay.AuthoriseResult{}, failed(operation, err)
	}
	res := pay.AuthoriseResult{Outcome: pay.ProviderError, ProviderID: e.paymentIntent, Message: e.reason()}
	if e.kind == stripe.ErrorTypeCard && e.code != stripe.ErrorCodeProcessingError {
		res.Outcome = pay.Rejected
	}
	return res, nil
}
