package pay

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Reading request bodies the way the reference's hand-written parser reads them: a value's
// JSON type is checked before its content, a field that is present but null counts as missing
// for required fields and as absent for optional ones, and unknown fields are ignored.

// maxBody bounds a request body; the largest legitimate one (a payment with full metadata and
// prefilled details) is a few kilobytes.
const maxBody = 1 << 20

// jsonObject is a decoded request body.
type jsonObject map[string]any

// readObject reads one JSON document from the body. ok is false when the body is not JSON at
// all; a document that is not an object reads as an empty object, whose fields are then
// reported missing, as the reference does.
func readObject(w http.ResponseWriter, r *http.Request) (obj jsonObject, ok bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if m, isObj := v.(map[string]any); isObj {
		return m, true
	}
	return jsonObject{}, true
}

// has reports whether a field is present, even as null.
func (o jsonObject) has(field string) bool {
	_, ok := o[field]
	return ok
}

// present returns a field's value and whether it is present and not null.
func (o jsonObject) present(field string) (any, bool) {
	v, ok := o[field]
	return v, ok && v != nil
}

// object returns a field's value when it is a JSON object.
func (o jsonObject) object(field string) (jsonObject, bool) {
	m, ok := o[field].(map[string]any)
	return m, ok
}

// requiredString is a required string field: absent, null or blank is missing; another JSON
// type is invalid.
func (o jsonObject) requiredString(field string, invalid, missing error) (string, error) {
	v, ok := o.present(field)
	if !ok {
		return "", missing
	}
	s, isStr := v.(string)
	if !isStr {
		return "", invalid
	}
	if strings.TrimSpace(s) == "" {
		return "", missing
	}
	return s, nil
}

// optionalString is an optional string field: absent or null is "", another JSON type is
// invalid.
func (o jsonObject) optionalString(field string, invalid error) (string, error) {
	v, ok := o.present(field)
	if !ok {
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", invalid
	}
	return s, nil
}

// requiredInt is a required integer field that must fit in 32 bits, as a Java int must: a
// fraction, an exponent or a larger number is the wrong type.
func (o jsonObject) requiredInt(field string, invalid, missing error) (int64, error) {
	v, ok := o.present(field)
	if !ok {
		return 0, missing
	}
	n, isNum := v.(json.Number)
	if !isNum || strings.ContainsAny(string(n), ".eE") {
		return 0, invalid
	}
	i, err := strconv.ParseInt(string(n), 10, 32)
	if err != nil {
		return 0, invalid
	}
	return i, nil
}

// requiredBool is a boolean field that, when present, must be true or false (null included).
func (o jsonObject) requiredBool(field string, invalid error) (bool, error) {
	b, ok := o[field].(bool)
	if !ok {
		return false, invalid
	}
	return b, nil
}

// javaLen is a string's length as Java counts it (UTF-16 code units), which is what the
// reference's length limits measure.
func javaLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
