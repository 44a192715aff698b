package web

import (
	"context"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// HeaderRequestID carries the request id in both directions, so that a support ticket quoting
// the id a person saw can be matched to our logs, and a caller's own id can follow a request
// through our system.
const HeaderRequestID = "X-Request-Id"

// requestInfo is what the kit knows about one request while it is being served. The outermost
// middleware creates it and every later layer writes into the same value, so that one access
// log line can tell the whole story (including an internal cause the client never sees) without
// each layer copying the request to add to its context.
//
// It is also the request's context: it wraps the context the server gave and answers for
// infoKey itself. Every request pays for this value, and being the context saves it the
// separate allocation of context.WithValue. Cancellation, deadlines and other values come
// from the wrapped context unchanged.
type requestInfo struct {
	context.Context

	id      string
	start   time.Time // when the stack began serving the request
	end     time.Time // when the first layer to ask found it served; see endOf
	pattern string    // the innermost mux pattern that matched, set by the handler adapters
	err     error     // the internal cause of a failed request, logged once by AccessLog
	stack   []byte    // the stack of a recovered panic

	// Storage that would otherwise be allocated separately for every request: the value of
	// the X-Request-Id response header, and the recorder the access log and metrics share.
	idHeader [1]string
	rec      recorder
}

type infoKey struct{}

// Value returns the info itself for infoKey and asks the wrapped context for anything else.
func (info *requestInfo) Value(key any) any {
	if key == (infoKey{}) {
		return info
	}
	return info.Context.Value(key)
}

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
		info := &requestInfo{Context: r.Context(), start: time.Now()}
		info.id = r.Header.Get(HeaderRequestID)
		if !saneRequestID(info.id) {
			info.id = newRequestID()
		}
		info.idHeader[0] = info.id
		w.Header()[HeaderRequestID] = info.idHeader[:]
		next.ServeHTTP(w, r.WithContext(info))
	})
}

// newRequestID returns 130 random bits as 26 characters of the RFC 4648 base32 alphabet, the
// form crypto/rand.Text gives. A request id needs to be unique, not secret — it is shown to the
// person and written to logs — so it comes from math/rand/v2's generator (ChaCha8, seeded by the
// runtime from the operating system), which costs a few nanoseconds where reading the kernel's
// random source costs hundreds on every request.
func newRequestID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [26]byte
	var bits uint64
	for i := range b {
		if i%12 == 0 { // twelve characters use 60 of a word's 64 bits
			bits = mrand.Uint64()
		}
		b[i] = alphabet[bits&31]
		bits >>= 5
	}
	return string(b[:])
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
