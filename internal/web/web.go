// Package web is the HTTP kit every Commons platform shares: handlers that return errors, one
// place that turns those errors into RFC 9457 problem documents or GOV.UK-styled error pages,
// the middleware stack (request ids, access log, metrics, panic recovery, security headers,
// cross-origin protection), server-rendered pages on a shared GOV.UK Frontend layout, form state
// for pages that must redisplay what a person typed, and the embedded front-end assets.
//
// Platforms own their own templates and routes; the kit owns everything that must behave the
// same on every surface, so that a fix to error handling or headers lands everywhere at once.
package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// Middleware wraps a handler with behaviour that runs around it.
type Middleware = func(http.Handler) http.Handler

// Chain wraps h in mws so that the first middleware is the outermost: Chain(h, a, b) serves a
// request through a, then b, then h. Writing the stack outermost-first reads in the order a
// request travels, which is the order people reason about.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// StackConfig configures Stack.
type StackConfig struct {
	// Logger receives the access log and the internal causes of failed requests.
	Logger *slog.Logger
	// BaseURL is the public address of the server; HSTS is sent only when it is https, and
	// its origin is trusted by the cross-origin protection (for deployments behind a proxy
	// that rewrites Host).
	BaseURL string
	// Metrics records request counts and latencies; nil records none.
	Metrics *Metrics
	// TrustedOrigins are further origins allowed to make state-changing browser requests.
	TrustedOrigins []string
	// CrossSiteForms are request patterns (as for http.ServeMux) that forms on other sites may
	// post to. Only for requests that carry their own credential in the form, such as Pay's
	// one-time payment token, which a service's page posts to start a payment.
	CrossSiteForms []string
}

// Stack returns the standard middleware stack, outermost first: request id, access log,
// metrics, panic recovery, security headers and cross-origin protection. The order matters:
// the request id must exist before anything logs, and recovery must sit inside the log and
// metrics so that a panic is still counted and logged as a 500.
func Stack(cfg StackConfig) (Middleware, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	csrf, err := CrossOrigin(cfg.BaseURL, cfg.TrustedOrigins...)
	if err != nil {
		return nil, err
	}
	if len(cfg.CrossSiteForms) > 0 {
		if csrf, err = crossOriginWithForms(cfg.BaseURL, cfg.TrustedOrigins, cfg.CrossSiteForms); err != nil {
			return nil, err
		}
	}
	mws := []Middleware{RequestID, AccessLog(logger)}
	if cfg.Metrics != nil {
		mws = append(mws, cfg.Metrics.Middleware)
	}
	mws = append(mws, Recover(logger), SecurityHeaders(cfg.BaseURL), csrf)
	return func(h http.Handler) http.Handler { return Chain(h, mws...) }, nil
}

// ContentSecurityPolicy is sent with every response. Pages load scripts, styles, images and
// fonts only from our own origin, never inline, so injected markup cannot run; img-src allows
// data: URIs for generated images such as TOTP QR codes. No page may be framed, which also
// stops click-jacking on payment pages, and forms post only to ourselves.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// SecurityHeaders sets the headers every response carries: no MIME sniffing, no referrer
// beyond our own origin, the strict content security policy, and, when the public address is
// https, HSTS (sending it over plain http would be ignored at best and a trap at worst).
func SecurityHeaders(baseURL string) Middleware {
	hsts := strings.HasPrefix(strings.ToLower(baseURL), "https://")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// One array holds every value, so the headers cost one allocation rather than
			// one each. Each slice is capped at its one value, so that Header.Add on any of
			// them copies rather than writing into its neighbour.
			v := &[5]string{"nosniff", "strict-origin-when-cross-origin", ContentSecurityPolicy, "DENY",
				"max-age=31536000; includeSubDomains"}
			h := w.Header()
			h["X-Content-Type-Options"] = v[0:1:1]
			h["Referrer-Policy"] = v[1:2:2]
			h["Content-Security-Policy"] = v[2:3:3]
			h["X-Frame-Options"] = v[3:4:4]
			if hsts {
				h["Strict-Transport-Security"] = v[4:5:5]
			}
			next.ServeHTTP(w, r)
		})
	}
}

// CrossOrigin refuses state-changing browser requests (POST, PUT, PATCH, DELETE) that another
// website started, using the browser's Sec-Fetch-Site header or, failing that, Origin against
// Host — the standard library's http.CrossOriginProtection. It needs no tokens in forms, and
// API clients that are not browsers send neither header, so they pass. The base URL's origin
// and any trusted origins are allowed, for deployments behind proxies that rewrite Host.
func CrossOrigin(baseURL string, trusted ...string) (Middleware, error) {
	return crossOriginWithForms(baseURL, trusted, nil)
}

// crossOriginWithForms is CrossOrigin that lets other sites' forms post to the given patterns.
func crossOriginWithForms(baseURL string, trusted, forms []string) (Middleware, error) {
	p := http.NewCrossOriginProtection()
	for _, pattern := range forms {
		p.AddInsecureBypassPattern(pattern)
	}
	if baseURL != "" {
		trusted = append([]string{baseURL}, trusted...)
	}
	for _, raw := range trusted {
		origin, err := originOf(raw)
		if err != nil {
			return nil, err
		}
		if err := p.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("cross-origin protection: trusted origin %q: %w", raw, err)
		}
	}
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeBareError(w, r, http.StatusForbidden)
	}))
	return p.Handler, nil
}

// originOf reduces a URL to its origin (scheme://host[:port]).
func originOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("cross-origin protection: %q is not an absolute URL", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}
