package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/commons-gov/commons/internal/failure"
)

// MaxFormBytes bounds the body of a submitted page form. Console forms are a few short fields;
// anything larger is a mistake or an attack.
const MaxFormBytes = 64 << 10

// FieldError is one input at fault and what the person should do about it.
type FieldError struct {
	Field   string
	Message string
}

// Form is what a person submitted on a page and what is wrong with it, in the order the
// checks ran (which should be the order of the fields on the page, as the GOV.UK error summary
// lists them). A handler that finds errors redisplays the page with the form so the person sees
// what they typed and saves nothing. Every reading method works on a nil *Form, so page data
// can carry an absent form and templates need no guards.
type Form struct {
	values url.Values
	errors []FieldError
}

// NewForm returns an empty form, for the first display of a page; defaults may be Set on it.
func NewForm() *Form { return &Form{values: url.Values{}} }

// ParseForm reads the submitted form of r, bounded by MaxFormBytes. A body that cannot be read
// or is too large is an Invalid failure.
func ParseForm(w http.ResponseWriter, r *http.Request) (*Form, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, failure.New(failure.Invalid, "The form was too large")
		}
		return nil, failure.Wrap(failure.Invalid, err, "The form could not be read")
	}
	return &Form{values: r.PostForm}, nil
}

// Get returns the trimmed value of a field, because stray spaces pasted around an email address
// or a name are never what the person meant.
func (f *Form) Get(name string) string {
	if f == nil {
		return ""
	}
	return strings.TrimSpace(f.values.Get(name))
}

// Raw returns a field exactly as submitted, for passwords, where spaces count.
func (f *Form) Raw(name string) string {
	if f == nil {
		return ""
	}
	return f.values.Get(name)
}

// All returns every value of a field, for checkboxes.
func (f *Form) All(name string) []string {
	if f == nil {
		return nil
	}
	return f.values[name]
}

// Has reports whether value is among the values of a field: whether a checkbox or radio
// option should be shown selected.
func (f *Form) Has(name, value string) bool {
	if f == nil {
		return false
	}
	return slices.Contains(f.values[name], value)
}

// Set replaces the values of a field, for defaults and for normalised input.
func (f *Form) Set(name string, values ...string) {
	if f.values == nil {
		f.values = url.Values{}
	}
	f.values[name] = values
}

// Forget removes a field so it is never redisplayed; passwords and codes must not come back in
// the page.
func (f *Form) Forget(name string) {
	if f != nil {
		delete(f.values, name)
	}
}

// AddError records that a field is wrong. Only the first error for a field is kept, because
// the GOV.UK pattern shows one message per field.
func (f *Form) AddError(field, message string) {
	if f.Error(field) != "" {
		return
	}
	f.errors = append(f.errors, FieldError{Field: field, Message: message})
}

// Require records an error when a field is empty and reports whether it was filled in.
func (f *Form) Require(field, message string) bool {
	for _, v := range f.All(field) {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	f.AddError(field, message)
	return false
}

// Error returns the message for a field, or "".
func (f *Form) Error(field string) string {
	if f == nil {
		return ""
	}
	for _, e := range f.errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// Errors returns the errors in the order they were found.
func (f *Form) Errors() []FieldError {
	if f == nil {
		return nil
	}
	return f.errors
}

// HasErrors reports whether anything is wrong; the layout uses it to prefix the page title
// with "Error: ".
func (f *Form) HasErrors() bool { return f != nil && len(f.errors) > 0 }

// Valid reports whether nothing is wrong.
func (f *Form) Valid() bool { return !f.HasErrors() }

// Fail moves the field errors in err onto the form and reports whether err was only that: a
// validation failure or a clash with existing data (a name already taken) that the page should
// show beside its fields. Any other error (not found, forbidden, an outage) is left for the
// handler to return. A failure that names no field is shown against fallback, so the person
// still sees the message where they can act on it.
func (f *Form) Fail(err error, fallback string) bool {
	if err == nil || !(failure.Is(err, failure.Invalid) || failure.Is(err, failure.Conflict)) {
		return false
	}
	fields := FieldErrors(err)
	if len(fields) == 0 {
		f.AddError(fallback, failure.Message(err))
		return true
	}
	for _, fe := range fields {
		f.AddError(fe.Field, fe.Message)
	}
	return true
}
