package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/commons-gov/commons/internal/failure"
)

// MaxJSONBytes bounds a JSON request body. Commons' own API requests are small documents;
// a larger body is a mistake or an attack, and reading it would cost memory for nothing.
const MaxJSONBytes = 1 << 20

// DecodeJSON reads one JSON document from r's body into dst, refusing bodies over
// MaxJSONBytes, fields dst does not have, and anything after the document. Each refusal is
// an Invalid failure whose message says what to fix.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxJSONBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonFailure(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return failure.New(failure.Invalid, "The request body must be a single JSON document")
	}
	return nil
}

// jsonFailure words a decoding error for the client.
func jsonFailure(err error) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return failure.New(failure.Invalid, "The request body must be %d bytes or fewer", MaxJSONBytes)
	case errors.Is(err, io.EOF):
		return failure.New(failure.Invalid, "The request body is empty; it must be a JSON document")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return failure.Wrap(failure.Invalid, err, "The request body is not valid JSON")
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return &failure.Error{Kind: failure.Invalid, Field: typeErr.Field, Err: err,
			Message: fmt.Sprintf("%s must be a %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))}
	}
	// encoding/json reports an unknown field only in its message: `json: unknown field "x"`.
	return failure.Wrap(failure.Invalid, err, "The request body does not match what this endpoint accepts: %s",
		trimJSONPrefix(err.Error()))
}

func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	case "map", "struct":
		return "JSON object"
	}
	return "number"
}

func trimJSONPrefix(s string) string {
	const prefix = "json: "
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return s
}

// WriteJSON writes v as JSON with the given status and content type ("" means
// application/json).
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		contentType = ContentTypeProblem
		body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500}`)
	}
	if contentType == "" {
		contentType = "application/json"
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
