package pay

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// Metadata rules (pay.md §4.1): at most 15 keys, each 1 to 30 characters and unique ignoring
// case; values strings of at most 100 characters, numbers or booleans, never null.
const (
	maxMetadataKeys   = 15
	maxMetadataKey    = 30
	maxMetadataString = 100
)

// parseMetadata checks a metadata value and returns it as compact JSON. Every rule it breaks is
// reported at once, in one 422, as the reference's validator does.
func parseMetadata(v any) ([]byte, error) {
	invalid := func(reason string) error { return createInvalid(http.StatusUnprocessableEntity, "metadata", reason) }
	if v == nil {
		return nil, invalid("Value must not be null")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalid("Must be an object of JSON key-value pairs")
	}
	var broken []string
	if len(m) > maxMetadataKeys {
		broken = append(broken, "Cannot have more than 15 key-value pairs")
	}
	badKey, badType, tooLong, hasNull, dup := false, false, false, false, false
	seen := map[string]bool{}
	for k, val := range m {
		if n := javaLen(k); n < 1 || n > maxMetadataKey {
			badKey = true
		}
		lk := strings.ToLower(k)
		if seen[lk] {
			dup = true
		}
		seen[lk] = true
		switch x := val.(type) {
		case nil:
			hasNull = true
		case string:
			if javaLen(x) > maxMetadataString {
				tooLong = true
			}
		case json.Number, bool:
		default:
			badType = true
		}
	}
	for _, c := range []struct {
		broken bool
		msg    string
	}{
		{badKey, "Keys must be between 1 and 30 characters long"},
		{badType, "Values must be of type String, Boolean or Number"},
		{tooLong, "Values must be no greater than 100 characters long"},
		{hasNull, "Must not have null values"},
		{dup, "Must have case insensitive unique keys"},
	} {
		if c.broken {
			broken = append(broken, c.msg)
		}
	}
	if len(broken) > 0 {
		return nil, invalid(strings.Join(broken, ". "))
	}
	return marshalJSON(m)
}

// marshalJSON encodes v without escaping <, > and &, as the reference's JSON library does not.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
