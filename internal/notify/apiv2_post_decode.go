package notify

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"
)

// Every send decodes its request body, and encoding/json's decoder (needed for UseNumber)
// costs a send several microseconds and a dozen allocations. Bodies almost always have one
// shape: an object of plain strings, numbers, literals and small nested objects or arrays.
// readPostBody decodes that shape directly and hands everything else (escapes, invalid UTF-8,
// control characters, deep nesting, a document that is not an object, anything invalid) to
// readJSONBody's decoder, whose reading is the definition of right; FuzzDecodePlainObject
// holds the two together.

// readPostBody is readJSONBody, quicker for the usual body.
func readPostBody(w http.ResponseWriter, r *http.Request) (any, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxV2Body))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, newV2Error(http.StatusRequestEntityTooLarge, errTypeBadRequest, "Request body too large")
		}
		return nil, badRequest("Invalid JSON supplied in POST data")
	}
	var v any
	if obj, ok := decodePlainObject(raw); ok {
		v = obj
	} else if v, ok = decodeJSONDocument(raw); !ok {
		return nil, badRequest("Invalid JSON supplied in POST data")
	}
	if falsy(v) {
		return map[string]any{}, nil
	}
	return v, nil
}

// maxPlainDepth is how deeply decodePlainObject nests before leaving a document to
// encoding/json.
const maxPlainDepth = 16

// decodePlainObject decodes raw as encoding/json decodes a document into an any with
// UseNumber, when raw is one object whose strings have no escapes and no control characters
// and are valid UTF-8, nested at most maxPlainDepth deep. Otherwise it reports false.
func decodePlainObject(raw []byte) (map[string]any, bool) {
	d := plainDecoder{b: raw}
	d.space()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return nil, false
	}
	obj, ok := d.object(0)
	if !ok {
		return nil, false
	}
	if d.space(); d.i != len(d.b) {
		return nil, false
	}
	return obj, true
}

type plainDecoder struct {
	b []byte
	i int
}

func (d *plainDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object reads an object starting at its {.
func (d *plainDecoder) object(depth int) (map[string]any, bool) {
	if depth >= maxPlainDepth {
		return nil, false
	}
	d.i++ // {
	m := map[string]any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, false
		}
		key, ok := d.string()
		if !ok {
			return nil, false
		}
		if d.space(); d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.space()
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		m[key] = v
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return m, true
		default:
			return nil, false
		}
	}
}

// array reads an array starting at its [.
func (d *plainDecoder) array(depth int) ([]any, bool) {
	if depth >= maxPlainDepth {
		return nil, false
	}
	d.i++ // [
	a := []any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, true
	}
	for {
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			return a, true
		default:
			return nil, false
		}
	}
}

// value reads any value at d.i.
func (d *plainDecoder) value(depth int) (any, bool) {
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.string()
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

// string reads a string starting at its opening quote.
func (d *plainDecoder) string() (string, bool) {
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			s := d.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			d.i = j + 1
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// number reads a number by JSON's grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
// keeping it as written.
func (d *plainDecoder) number() (json.Number, bool) {
	start := d.i
	digits := func() bool {
		from := d.i
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
		}
		return d.i > from
	}
	if d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.b) && d.b[d.i] == '0':
		d.i++
	case !digits():
		return "", false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !digits() {
			return "", false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !digits() {
			return "", false
		}
	}
	return json.Number(d.b[start:d.i]), true
}

func (d *plainDecoder) literal(word string) bool {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return false
	}
	d.i += len(word)
	return true
}
