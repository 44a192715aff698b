package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// v2Error is an error of the /v2 API in GOV.UK Notify's wire format (notify.md §3.1):
//
//	{"status_code": 400, "errors": [{"error": "BadRequestError", "message": "…"}]}
//
// Every /v2 failure is one of these by the time it is written; writeV2Error turns anything
// else (store failures, database outages) into one.
type v2Error struct {
	Status int
	Items  []v2ErrorItem
	cause  error
}

// v2ErrorItem is one entry of the errors list. Data, NumBytes and MaxBytes appear only on the
// QR-code error of letters.
type v2ErrorItem struct {
	Error    string `json:"error"`
	Message  string `json:"message"`
	Data     string `json:"data,omitempty"`
	NumBytes int    `json:"num_bytes,omitempty"`
	MaxBytes int    `json:"max_bytes,omitempty"`
}

func (e *v2Error) Error() string {
	if len(e.Items) == 0 {
		return fmt.Sprintf("notify v2 error %d", e.Status)
	}
	return fmt.Sprintf("notify v2 %s %d: %s", e.Items[0].Error, e.Status, e.Items[0].Message)
}

func (e *v2Error) Unwrap() error { return e.cause }

// Error types of the /v2 API (notify.md §3.2).
const (
	errTypeAuth            = "AuthError"
	errTypeValidation      = "ValidationError"
	errTypeBadRequest      = "BadRequestError"
	errTypePDFNotReady     = "PDFNotReadyError"
	errTypeInvalidPhone    = "InvalidPhoneError"
	errTypeInvalidEmail    = "InvalidEmailError"
	errTypeRateLimit       = "RateLimitError"
	errTypeTooManyRequests = "TooManyRequestsError"
	errTypeNoResult        = "NoResultFound"
)

func newV2Error(status int, typ, message string) *v2Error {
	return &v2Error{Status: status, Items: []v2ErrorItem{{Error: typ, Message: message}}}
}

// badRequest is a 400 BadRequestError, the commonest refusal of a send.
func badRequest(format string, args ...any) *v2Error {
	return newV2Error(http.StatusBadRequest, errTypeBadRequest, fmt.Sprintf(format, args...))
}

// validationError is a 400 ValidationError carrying one message per failed rule, duplicates
// dropped, in the order found.
func validationError(messages ...string) *v2Error {
	e := &v2Error{Status: http.StatusBadRequest}
	seen := map[string]bool{}
	for _, m := range messages {
		if seen[m] {
			continue
		}
		seen[m] = true
		e.Items = append(e.Items, v2ErrorItem{Error: errTypeValidation, Message: m})
	}
	return e
}

// errNoResult is the 404 every lookup of something missing (or another service's) answers.
func errNoResult() *v2Error {
	return newV2Error(http.StatusNotFound, errTypeNoResult, "No result found")
}

// authMessages are GOV.UK Notify's texts for each authentication failure (notify.md §1.3).
var authMessages = map[apiauth.Reason]string{
	apiauth.NoCredentials:   "Unauthorized: authentication token must be provided",
	apiauth.NotBearer:       "Unauthorized: authentication bearer scheme must be used",
	apiauth.MalformedToken:  "Invalid token: make sure your API token matches the example at https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header",
	apiauth.NoIssuer:        "Invalid token: iss field not provided",
	apiauth.BadIssuer:       "Invalid token: service id is not the right data type",
	apiauth.ServiceNotFound: "Invalid token: service not found",
	apiauth.NoKeys:          "Invalid token: service has no API keys",
	apiauth.ServiceArchived: "Invalid token: service is archived",
	apiauth.WrongAlgorithm:  "Invalid token: algorithm used is not HS256",
	apiauth.ClockSkew:       "Error: Your system clock must be accurate to within 30 seconds",
	apiauth.KeyRevoked:      "Invalid token: API key revoked",
	apiauth.KeyNotFound:     "Invalid token: API key not found",
	apiauth.MalformedKey:    "Invalid token: make sure your API token matches the example at https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header",
}

// authError maps an authentication failure to its /v2 error: 401 when no credentials were
// offered, 403 when they were wrong.
func authError(f *apiauth.Failure) *v2Error {
	status := http.StatusForbidden
	if f.MissingCredentials() {
		status = http.StatusUnauthorized
	}
	msg, ok := authMessages[f.Reason]
	if !ok {
		msg = authMessages[apiauth.MalformedToken]
	}
	return &v2Error{Status: status, Items: []v2ErrorItem{{Error: errTypeAuth, Message: msg}}, cause: f}
}

// asV2Error turns any error into its /v2 form. Failures other code classified keep their
// meaning; a database that cannot be reached is a 503 the client may retry; anything else is
// GOV.UK Notify's generic 500.
func asV2Error(err error) *v2Error {
	var v *v2Error
	if errors.As(err, &v) {
		return v
	}
	var f *apiauth.Failure
	if errors.As(err, &f) {
		return authError(f)
	}
	if web.IsUnavailable(err) {
		return &v2Error{Status: http.StatusServiceUnavailable, cause: err, Items: []v2ErrorItem{{
			Error: "ServiceUnavailable", Message: "The service is temporarily unavailable. Try again in a few minutes."}}}
	}
	var fe *failure.Error
	if errors.As(err, &fe) {
		switch fe.Kind {
		case failure.NotFound:
			return &v2Error{Status: http.StatusNotFound, cause: err, Items: errNoResult().Items}
		case failure.Invalid:
			return &v2Error{Status: http.StatusBadRequest, cause: err, Items: []v2ErrorItem{{Error: errTypeBadRequest, Message: fe.Message}}}
		case failure.Forbidden:
			return &v2Error{Status: http.StatusForbidden, cause: err, Items: []v2ErrorItem{{Error: errTypeBadRequest, Message: fe.Message}}}
		case failure.Conflict:
			return &v2Error{Status: http.StatusBadRequest, cause: err, Items: []v2ErrorItem{{Error: errTypeBadRequest, Message: fe.Message}}}
		}
	}
	return &v2Error{Status: http.StatusInternalServerError, cause: err,
		Items: []v2ErrorItem{{Error: "Exception", Message: "Internal server error"}}}
}

// writeV2Error writes err in the /v2 envelope. Server-side faults are logged with their cause;
// the client only ever sees the public message.
func (s *Service) writeV2Error(w http.ResponseWriter, r *http.Request, err error) {
	v := asV2Error(err)
	if v.Status >= 500 {
		s.logger().ErrorContext(r.Context(), "notify v2 request failed", "route", r.Pattern,
			"request_id", web.RequestIDFrom(r.Context()), "error", err)
	}
	if v.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeV2JSON(w, v.Status, struct {
		StatusCode int           `json:"status_code"`
		Errors     []v2ErrorItem `json:"errors"`
	}{v.Status, v.Items})
}

// writeLegacyError writes the shape GOV.UK Notify uses outside its /v2 blueprints, for paths
// no /v2 route matches: {"result": "error", "message": "…"}.
func writeLegacyError(w http.ResponseWriter, status int, message string) {
	writeV2JSON(w, status, map[string]string{"result": "error", "message": message})
}

// legacyNotFound is the text Flask gives an unknown URL.
const legacyNotFound = "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."

// writeV2JSON writes v as the JSON body of a /v2 response.
func writeV2JSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"status_code":500,"errors":[{"error":"Exception","message":"Internal server error"}]}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func (s *Service) logger() *slog.Logger {
	if s.log != nil {
		return s.log
	}
	return slog.Default()
}
