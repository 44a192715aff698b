package pay

import (
	"context"
	"net/http"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/ratelimit"
)

// The GOV.UK Pay public API v1 (pay.md §4), served at the root path.

// v1Handler is a /v1 endpoint: it runs after authentication and rate limiting and returns its
// failure for writeAPIError to put in the wire format.
type v1Handler func(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error

// Rate-limit buckets (pay.md §1.2): creating payments, capturing them and other POSTs each have
// their own, and GETs another, per service and mode.
const (
	bucketCreate  = "create"
	bucketCapture = "capture"
	bucketPost    = "post"
	bucketGet     = "get"
)

// Limits per second, as GOV.UK Pay's defaults: POSTs 15 a second in each POST bucket, GETs 75.
var (
	postLimit = ratelimit.Limit{PerSecond: 15, Capacity: 15}
	getLimit  = ratelimit.Limit{PerSecond: 75, Capacity: 75}
)

// Per-route failure codes (pay.md §2.2).
var (
	epCreate        = endpoint{downstream: "P0198"}
	epGet           = endpoint{notFound: "P0200", downstream: "P0298"}
	epEvents        = endpoint{notFound: "P0300", downstream: "P0398"}
	epSearch        = endpoint{downstream: "P0498"}
	epCancel        = endpoint{notFound: "P0500", downstream: "P0598"}
	epRefund        = endpoint{notFound: "P0600", downstream: "P0698"}
	epGetRefund     = endpoint{notFound: "P0700", downstream: "P0798"}
	epRefunds       = endpoint{notFound: "P0800", downstream: "P0898"}
	epCapture       = endpoint{notFound: "P1000", downstream: "P1098"}
	epSearchRefunds = endpoint{downstream: "P1898"}
	epAuth          = endpoint{downstream: "P0198"}
)

// mountV1 registers the /v1 routes. Paths no route matches get a JSON 404, as the reference's
// framework gives.
func (s *Service) mountV1(mux *http.ServeMux) {
	mux.Handle("POST /v1/payments", s.v1(bucketCreate, epCreate, s.createPayment))
	mux.Handle("GET /v1/payments", s.v1(bucketGet, epSearch, s.searchPayments))
	mux.Handle("GET /v1/payments/{paymentId}", s.v1(bucketGet, epGet, s.getPayment))
	mux.Handle("POST /v1/payments/{paymentId}/cancel", s.v1(bucketPost, epCancel, s.cancelPayment))
	mux.Handle("POST /v1/payments/{paymentId}/capture", s.v1(bucketCapture, epCapture, s.capturePayment))
	mux.Handle("GET /v1/payments/{paymentId}/events", s.v1(bucketGet, epEvents, s.getEvents))
	mux.Handle("POST /v1/payments/{paymentId}/refunds", s.v1(bucketPost, epRefund, s.createRefund))
	mux.Handle("GET /v1/payments/{paymentId}/refunds", s.v1(bucketGet, epRefunds, s.listRefunds))
	mux.Handle("GET /v1/payments/{paymentId}/refunds/{refundId}", s.v1(bucketGet, epGetRefund, s.getRefund))
	mux.Handle("GET /v1/refunds", s.v1(bucketGet, epSearchRefunds, s.searchRefunds))
	s.mountAgreementsAndDisputes(mux)
	// The MOTO API is authorised by its one-time token instead of a key (pay.md §4.10).
	mux.HandleFunc("POST /v1/auth", func(w http.ResponseWriter, r *http.Request) {
		if err := s.authoriseMOTO(w, r); err != nil {
			s.writeAPIError(w, r, err, epAuth)
		}
	})
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"code": http.StatusNotFound, "message": "HTTP 404 Not Found"})
	})
}

// v1 wraps an endpoint with authentication, its rate limit and the /v1 error format.
func (s *Service) v1(bucket string, ep endpoint, h v1Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.cfg.Auth.BearerKey(r)
		if err != nil {
			s.writeAPIError(w, r, err, ep)
			return
		}
		if err := s.checkRateLimit(r.Context(), caller, bucket); err != nil {
			s.writeAPIError(w, r, err, ep)
			return
		}
		if err := h(w, r, caller); err != nil {
			s.writeAPIError(w, r, err, ep)
		}
	})
}

// errRateLimited is the 429, which has only code and description (pay.md §1.2).
var errRateLimited = newAPIError(http.StatusTooManyRequests, codeRateLimited, "Too many requests")

// checkRateLimit takes a token from the caller's bucket, shared by every node through the
// database, or refuses with 429.
func (s *Service) checkRateLimit(ctx context.Context, caller apiauth.Identity, bucket string) error {
	if s.cfg.Limiter == nil {
		return nil
	}
	st, err := s.cachedSettings(ctx, caller.ServiceID)
	if err != nil {
		return err
	}
	limit, getLimit := limitsFor(st)
	if bucket == bucketGet {
		limit = getLimit
	}
	mode := "test"
	if scopeOf(caller).Live {
		mode = "live"
	}
	ok, err := s.cfg.Limiter.Take(ctx, "pay:"+caller.ServiceID+":"+mode+":"+bucket, limit)
	if err != nil {
		return err
	}
	if !ok {
		return errRateLimited
	}
	return nil
}
