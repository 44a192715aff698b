// Package failure is Commons' one vocabulary of errors. Stores and services return a *Error of
// a Kind with a message safe to show to the caller; each API surface maps kinds to its own wire
// format in exactly one place, and logs the internal cause.
package failure

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

const (
	Internal        Kind = iota // a fault of ours; the message is generic
	Invalid                     // the request is malformed or breaks a rule
	NotFound                    // the thing does not exist (or is not visible to the caller)
	Conflict                    // the request clashes with the current state
	Unauthenticated             // no valid credentials
	Forbidden                   // valid credentials, not allowed
	RateLimited                 // too many requests
	Unavailable                 // a dependency (the database) is down; try again
)

var kindNames = [...]string{"internal", "invalid", "not found", "conflict", "unauthenticated", "forbidden", "rate limited", "unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a classified error. Message is shown to the caller; Field, when set, names the
// input at fault (for form errors and validation bodies); Err is the internal cause.
type Error struct {
	Kind    Kind
	Message string
	Field   string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind k with a public message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error about one named input.
func Field(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind k with a public message and an internal cause.
func Wrap(k Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), Err: err}
}

// KindOf returns the kind of err: the kind of the first *Error in its chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Message returns the public message of err, or a generic one for internal faults.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		return e.Message
	}
	return "Something went wrong on our side. Try again later."
}
