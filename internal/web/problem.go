package web

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/commons-gov/commons/internal/failure"
)

// ContentTypeProblem is the media type of RFC 9457 problem documents.
const ContentTypeProblem = "application/problem+json"

// Problem is an RFC 9457 problem document, the error body of every Commons-style API. Type is
// "about:blank" throughout, so Title is the HTTP status phrase and clients branch on Status;
// Detail is the public message, and Errors lists the inputs at fault.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []FieldProblem `json:"errors,omitempty"`
}

// FieldProblem is one input at fault, named as the request named it.
type FieldProblem struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// StatusOf maps a failure kind to its HTTP status. It is the one place that decides this for
// Commons' own APIs and pages. Invalid is 400 whether or not fields are named: clients then
// have one status to handle for "fix your request", and the errors list says what to fix.
func StatusOf(k failure.Kind) int {
	switch k {
	case failure.Invalid:
		return http.StatusBadRequest
	case failure.NotFound:
		return http.StatusNotFound
	case failure.Conflict:
		return http.StatusConflict
	case failure.Unauthenticated:
		return http.StatusUnauthorized
	case failure.Forbidden:
		return http.StatusForbidden
	case failure.RateLimited:
		return http.StatusTooManyRequests
	case failure.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Classify returns the status for err and the message safe to show: the failure kind's, with
// database outages that arrive unclassified treated as Unavailable, and every other
// unclassified error as an internal fault whose detail stays generic.
func Classify(err error) (status int, message string) {
	if IsUnavailable(err) {
		if failure.Is(err, failure.Unavailable) {
			return http.StatusServiceUnavailable, failure.Message(err)
		}
		return http.StatusServiceUnavailable, "The service is temporarily unavailable. Try again in a few minutes."
	}
	return StatusOf(failure.KindOf(err)), failure.Message(err)
}

// ProblemFor builds the problem document for err. Internal causes are never included.
func ProblemFor(r *http.Request, err error) Problem {
	status, msg := Classify(err)
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: msg,
		RequestID: RequestIDFrom(r.Context())}
	if status < 500 {
		for _, fe := range FieldErrors(err) {
			p.Errors = append(p.Errors, FieldProblem{Field: fe.Field, Detail: fe.Message})
		}
	}
	return p
}

// FieldErrors returns every field error in err's tree, in order, so that a validator can
// report all its findings at once with errors.Join.
func FieldErrors(err error) []FieldError {
	var out []FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*failure.Error); ok && fe.Field != "" {
			out = append(out, FieldError{Field: fe.Field, Message: fe.Message})
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// WriteProblem writes err as a problem document and records its internal cause for the access
// log (or logs it, when no RequestID middleware is in place).
func WriteProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := ProblemFor(r, err)
	if p.Status >= 500 {
		recordCause(r, err)
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	WriteJSON(w, p.Status, ContentTypeProblem, p)
}

// APIHandler is an API endpoint that returns its failure instead of writing it. Errors become
// problem documents; a handler that already wrote its response must return nil.
type APIHandler func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP runs the handler and writes its error, if any, as a problem document.
func (h APIHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	notePattern(r)
	if err := h(w, r); err != nil {
		WriteProblem(w, r, err)
	}
}

// writeBareError writes an error response that depends on nothing that could itself have
// failed (no templates), for panics and refusals outside the page renderer.
func writeBareError(w http.ResponseWriter, r *http.Request, status int) {
	if wantsHTML(r) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
			http.StatusText(status) + " – Commons</title></head><body><h1>" + bareHeading(status) +
			"</h1></body></html>\n"))
		return
	}
	WriteJSON(w, status, ContentTypeProblem, Problem{Type: "about:blank", Title: http.StatusText(status),
		Status: status, RequestID: RequestIDFrom(r.Context())})
}

func bareHeading(status int) string {
	if status == http.StatusForbidden {
		return "You cannot do that from another website"
	}
	return "Sorry, there is a problem with the service"
}

// wantsHTML reports whether the client is a browser asking for a page.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// recordCause hands err to the access log, or logs it now when there is no access log to
// carry it.
func recordCause(r *http.Request, err error) {
	if !noteError(r, err) {
		logCause(r, err)
	}
}

// logCause logs the internal cause of a failure with the request id. It is the fallback for
// handlers served without the middleware stack, so it uses the default logger.
func logCause(r *http.Request, err error) {
	slog.Default().ErrorContext(r.Context(), "request failed",
		"request_id", RequestIDFrom(r.Context()), "route", routeOf(r), "error", err.Error())
}

// IsUnavailable reports whether err means a dependency (in practice the database) could not be
// reached, so the request deserves a 503 and a retry rather than a 500. Stores that do not
// classify every driver error still get the right answer during an outage: a refused or reset
// connection, a dead pooled connection, a closed pool, a PostgreSQL server that is starting,
// stopping or dropped the connection (SQLSTATE class 08, 57P01–57P03), or one that refused a
// new connection for any reason (too many connections, a database not accepting connections).
//
// Nothing here holds state, so once the database is back the pool makes fresh connections and
// the next request succeeds.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if failure.Is(err, failure.Unavailable) {
		return true
	}
	// A classified failure of another kind was decided on purpose by the code that knows.
	var fe *failure.Error
	if errors.As(err, &fe) && fe.Kind != failure.Internal {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	// The pool could not open a connection. The server's reason (SQLSTATE 53300 too many
	// connections, 55000 a database not accepting connections, …) is a state of the server, not
	// of the request, and the same code in a query's error may mean a bug, so only the connect
	// error says which it is.
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		state := coded.SQLState()
		if len(state) == 5 && (state[:2] == "08" || state == "57P01" || state == "57P02" || state == "57P03") {
			return true
		}
	}
	// A deadline that ran out while waiting for the database is an outage from the caller's
	// point of view; a cancelled request (the client went away) is not.
	return errors.Is(err, context.DeadlineExceeded)
}

// Unavailable wraps err as a failure.Unavailable when it means the database could not be
// reached, and returns it unchanged otherwise. Stores can call it at their boundary so that
// every surface (including compatible APIs with their own wire formats) sees the right kind.
func Unavailable(err error) error {
	if err == nil || failure.Is(err, failure.Unavailable) || !IsUnavailable(err) {
		return err
	}
	return failure.Wrap(failure.Unavailable, err, "The service is temporarily unavailable. Try again in a few minutes.")
}
