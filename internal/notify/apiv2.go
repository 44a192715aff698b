package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
)

// The GOV.UK Notify API v2, served at the root path so that every official client works
// unchanged, whatever it does with a base URL's path (notify.md §10).

// v2Handler is a /v2 endpoint: it runs after authentication and returns its failure for
// writeV2Error to put in the wire format.
type v2Handler func(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error

// MountV2 registers the /v2 routes on mux. Every route authenticates first, as GOV.UK
// Notify's before_request hook does, so a bad token is reported before anything about the
// request itself; paths no route matches get the legacy 404 body.
func (s *Service) MountV2(mux *http.ServeMux) {
	mux.Handle("POST /v2/notifications/{type}", s.v2(s.postNotification))
	mux.Handle("GET /v2/notifications/{id}", s.v2(s.getNotification))
	mux.Handle("GET /v2/notifications/{id}/pdf", s.v2(s.getNotificationPDF))
	mux.Handle("GET /v2/notifications", s.v2(s.listNotifications))
	mux.Handle("GET /v2/template/{id}", s.v2(s.getTemplateV2))
	mux.Handle("GET /v2/template/{id}/version/{version}", s.v2(s.getTemplateVersionV2))
	mux.Handle("POST /v2/template/{id}/preview", s.v2(s.previewTemplateV2))
	mux.Handle("GET /v2/templates", s.v2(s.listTemplatesV2))
	mux.Handle("GET /v2/received-text-messages", s.v2(s.listReceivedTexts))
	mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
		writeLegacyError(w, http.StatusNotFound, legacyNotFound)
	})
}

// v2 wraps an endpoint with authentication and the /v2 error format.
func (s *Service) v2(h v2Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.cfg.Auth.JWT(r)
		if err != nil {
			s.writeV2Error(w, r, err)
			return
		}
		if err := h(w, r, caller); err != nil {
			s.writeV2Error(w, r, err)
		}
	})
}

// maxV2Body bounds a request body. The largest legitimate one is a precompiled letter: the
// clients refuse PDFs over 5 MiB, which base64 makes about 6.7 MiB.
const maxV2Body = 8 << 20

// readJSONBody decodes a request body as GOV.UK Notify does: whatever the Content-Type,
// numbers kept as written, an empty or unparsable body refused with "Invalid JSON supplied
// in POST data", and null (or any other false-y document) treated as {}.
func readJSONBody(w http.ResponseWriter, r *http.Request) (any, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxV2Body))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, newV2Error(http.StatusRequestEntityTooLarge, errTypeBadRequest, "Request body too large")
		}
		return nil, badRequest("Invalid JSON supplied in POST data")
	}
	v, ok := decodeJSONDocument(raw)
	if !ok {
		return nil, badRequest("Invalid JSON supplied in POST data")
	}
	if falsy(v) {
		return map[string]any{}, nil
	}
	return v, nil
}

// decodeJSONDocument parses exactly one JSON document.
func decodeJSONDocument(raw []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	return v, true
}

// falsy reports whether Python would treat the decoded value as false.
func falsy(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case json.Number:
		f, err := x.Float64()
		return err == nil && f == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// urlRoot is the scheme and host the request came to, as Flask's request.url_root without
// its trailing slash. Response URIs are built on it, so they point wherever the client
// pointed. Behind a TLS-terminating proxy, X-Forwarded-Proto says the scheme.
func urlRoot(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// v2Time formats a timestamp as the reference does: UTC with six fractional digits and a
// literal Z.
func v2Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// v2TimePtr formats an optional timestamp, null when unset.
func v2TimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := v2Time(*t)
	return &s
}

// nullString is a JSON string that is null when empty.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
