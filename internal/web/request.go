package web

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
)

// HeaderRequestID carries the request id in both directions, so that a support ticket quoting
// the id a person saw can be matched to our logs, and a caller's own id can follow a request
// through our system.
const HeaderRequestID = "X-Request-Id"

// requestInfo is what the kit knows about one request while it is being served. The outermost
// middleware creates it and every later layer writes into the same value, so that one access
// log line can tell the whole story (including an internal cause the client never sees) without
// each layer copying the request to add to its context.
type requestInfo struct {
	id      string
	pattern string // the innermost mux pattern that matched, set by the handler adapters
	err     error  // the internal cause of a failed request, logged once by AccessLog
	stack   []byte // the stack of a recovered panic
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(infoKey{}).(*requestInfo)
	return info
}

// RequestIDFrom returns the id of the request ctx belongs to, or "" outside RequestID.
func RequestIDFrom(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// RequestID gives every request an id: the caller's X-Request-Id when it is sane (short,
// printable, no separators that could forge log fields), otherwise a fresh random one. The id
// is echoed in the response and stored in the request context.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderRequestID)
		if !saneRequestID(id) {
			id = rand.Text()
		}
		w.Header().Set(HeaderRequestID, id)
		info := &requestInfo{id: id}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
	})
}

// saneRequestID accepts ids of up to 128 letters, digits and . _ : - characters, which covers
// UUIDs, ULIDs and the ids load balancers generate.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// noteError records the internal cause of a failed request for the access log. Without the
// RequestID middleware there is nowhere to put it, so it reports false and the caller logs.
func noteError(r *http.Request, err error) bool {
	info := infoFrom(r.Context())
	if info == nil {
		return false
	}
	info.err = err
	return true
}

// notePattern records the pattern of the innermost mux that routed r. A middleware outside a
// nested mux sees only the outer pattern (or none, when the inner mux got a copied request).
func notePattern(r *http.Request) {
	if info := infoFrom(r.Context()); info != nil && r.Pattern != "" {
		info.pattern = r.Pattern
	}
}

// routeOf returns the route label for a request: the path part of the matched mux pattern, or
// "unmatched". Only patterns, never raw paths, so that metrics and logs stay bounded and never
// contain ids or one-time tokens from URLs.
func routeOf(r *http.Request) string {
	p := r.Pattern
	if info := infoFrom(r.Context()); info != nil && info.pattern != "" {
		p = info.pattern
	}
	if p == "" {
		return "unmatched"
	}
	if _, after, ok := strings.Cut(p, " "); ok {
		p = strings.TrimLeft(after, " ")
	}
	return p
}

// methodOf returns r.Method when it is a standard method and "other" otherwise, bounding the
// label values a client can create.
func methodOf(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return r.Method
	}
	return "other"
}
