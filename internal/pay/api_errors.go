package pay

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// apiError is an error of the /v1 API in GOV.UK Pay's wire format (pay.md §2.1):
//
//	{"field": "amount", "code": "P0102", "description": "Invalid attribute value: amount. …"}
//
// field and header appear only when the error is about one; the key order is the reference's.
type apiError struct {
	status int
	Field  string `json:"field,omitempty"`
	Header string `json:"header,omitempty"`
	Code   string `json:"code"`
	Desc   string `json:"description"`
	cause  error
}

func (e *apiError) Error() string { return fmt.Sprintf("pay v1 %d %s: %s", e.status, e.Code, e.Desc) }

func (e *apiError) Unwrap() error { return e.cause }

func newAPIError(status int, code, desc string) *apiError {
	return &apiError{status: status, Code: code, Desc: desc}
}

// Errors about one body field.

// missingField is "Missing mandatory attribute: <field>" (400).
func missingField(code, field string) *apiError {
	return &apiError{status: http.StatusBadRequest, Field: field, Code: code, Desc: "Missing mandatory attribute: " + field}
}

// invalidField is "Invalid attribute value: <field>. <reason>" at the given status: 400 for a
// value of the wrong JSON type, 422 for a value of the right type that breaks a rule.
func invalidField(status int, code, field, reason string) *apiError {
	return &apiError{status: status, Field: field, Code: code, Desc: "Invalid attribute value: " + field + ". " + reason}
}

// Codes of the /v1 API (pay.md §2.2).
const (
	codeMissing           = "P0101"
	codeInvalid           = "P0102"
	codeUnexpected        = "P0104"
	codeIdempotency       = "P0191"
	codeMOTOAPINotEnabled = "P0195"
	codeMOTONotEnabled    = "P0196"
	codeBadJSON           = "P0197"
	codeCreateDownstream  = "P0198"
	codeNotLinkedWithPSP  = "P0940"
	codeRecurringDisabled = "P0942"
	codeNonHTTPS          = "P0920"
	codeRateLimited       = "P0900"
)

// Fixed descriptions of the reference.
const (
	descNotFound    = "Not found"
	descDownstream  = "Downstream system error"
	descBadJSON     = "Unable to parse JSON"
	descPageMissing = "Page not found"
)

var (
	errIdempotencyConflict = newAPIError(http.StatusConflict, codeIdempotency,
		"The `Idempotency-Key` you sent in the request header has already been used to create a payment.")
	errMOTONotEnabled = newAPIError(http.StatusUnprocessableEntity, codeMOTONotEnabled,
		"MOTO payments are not enabled for this account. Please contact support if you would like to process MOTO payments - https://www.payments.service.gov.uk/support/ .")
	errMOTOAPINotEnabled = newAPIError(http.StatusUnprocessableEntity, codeMOTOAPINotEnabled,
		"Using authorisation_mode of moto_api is not allowed for this account")
	errRecurringDisabled = newAPIError(http.StatusUnprocessableEntity, codeRecurringDisabled,
		"Recurring card payments are currently disabled for this service. Contact support with your error code - https://www.payments.service.gov.uk/support/")
	errNotLinkedWithPSP = newAPIError(http.StatusForbidden, codeNotLinkedWithPSP,
		"Account is not fully configured. Please refer to documentation to setup your account or contact support with your error code - https://www.payments.service.gov.uk/support/ .")
)

// endpoint says how one route words the failures every route can have: its own not-found and
// downstream-error codes.
type endpoint struct {
	notFound   string // code for a missing payment, or "" when the route has none
	downstream string // code for a fault on our side
}

// asAPIError turns any error into its /v1 form. Failures other code classified keep their
// meaning; a database that cannot be reached is a 503; anything else is the route's 500.
func asAPIError(err error, ep endpoint) *apiError {
	var a *apiError
	if errors.As(err, &a) {
		return a
	}
	if failure.Is(err, failure.NotFound) && ep.notFound != "" {
		return &apiError{status: http.StatusNotFound, Code: ep.notFound, Desc: descNotFound, cause: err}
	}
	if web.IsUnavailable(err) {
		return &apiError{status: http.StatusServiceUnavailable, Code: ep.downstream, Desc: descDownstream, cause: err}
	}
	return &apiError{status: http.StatusInternalServerError, Code: ep.downstream, Desc: descDownstream, cause: err}
}

// writeAPIError writes err in the /v1 format, logging faults on our side with their cause.
func (s *Service) writeAPIError(w http.ResponseWriter, r *http.Request, err error, ep endpoint) {
	var f *apiauth.Failure
	if errors.As(err, &f) {
		writeUnauthorized(w)
		return
	}
	a := asAPIError(err, ep)
	// Answers the handlers chose (a provider's error for the MOTO API, say) are outcomes;
	// only a failure with an internal cause is ours to look into.
	if a.status >= 500 && a.cause != nil {
		s.log.ErrorContext(r.Context(), "pay v1 request failed", "route", r.Pattern,
			"request_id", web.RequestIDFrom(r.Context()), "error", err)
	}
	if a.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, a.status, a)
}

// writeUnauthorized answers a request without a valid key. GOV.UK Pay gives no JSON body here
// (pay.md §1.1); clients rely on the status alone.
func writeUnauthorized(w http.ResponseWriter) {
	h := w.Header()
	h.Set("WWW-Authenticate", `Bearer realm="commons"`)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("Credentials are required to access this resource.\n"))
}

// writeJSON writes v as a /v1 JSON response. Every response is marked uncacheable: payment
// data must not be kept by proxies or browsers.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshalJSON(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"code":"P0999","description":"Downstream system error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeNoContent answers 204 with no body.
func writeNoContent(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusNoContent)
}
