package pay

import (
	"net/http"

	"github.com/commons-gov/commons/internal/apiauth"
)

// GET /v1/payments/{paymentId} (pay.md §4.2): the payment, with a fresh next_url (or
// auth_url_post) while it can still be completed.
func (s *Service) getPayment(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	p, err := s.payment(r.Context(), s.db, scopeOf(caller), r.PathValue("paymentId"))
	if err != nil {
		return err
	}
	token, err := s.linkToken(r.Context(), p)
	if err != nil {
		return err
	}
	out := s.paymentBody(p)
	out.Links = s.paymentLinks(p, token)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// POST /v1/payments/{paymentId}/cancel (pay.md §4.4): 204 once cancelled.
func (s *Service) cancelPayment(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	switch err := s.Cancel(r.Context(), scopeOf(caller), r.PathValue("paymentId")); {
	case err == nil:
		writeNoContent(w)
		return nil
	case err == ErrNotCancellable:
		return newAPIError(http.StatusBadRequest, "P0501", "Cancellation of payment failed")
	case err == ErrCancelInProgress:
		return newAPIError(http.StatusConflict, "P0502", "Cancellation of payment failed")
	default:
		return err
	}
}

// POST /v1/payments/{paymentId}/capture (pay.md §4.5): 204 once approved for capture; the
// capture itself happens in a job.
func (s *Service) capturePayment(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	switch err := s.Capture(r.Context(), scopeOf(caller), r.PathValue("paymentId")); {
	case err == nil:
		writeNoContent(w)
		return nil
	case err == ErrNotCapturable:
		return newAPIError(http.StatusConflict, "P1003", "Payment cannot be captured")
	default:
		return err
	}
}

type wireEvent struct {
	PaymentID string    `json:"payment_id"`
	State     wireState `json:"state"`
	Updated   string    `json:"updated"`
	Links     struct {
		PaymentURL wireLink `json:"payment_url"`
	} `json:"_links"`
}

type wireEvents struct {
	PaymentID string      `json:"payment_id"`
	Events    []wireEvent `json:"events"`
	Links     struct {
		Self wireLink `json:"self"`
	} `json:"_links"`
}

// GET /v1/payments/{paymentId}/events (pay.md §4.6): one entry per change of external state,
// oldest first.
func (s *Service) getEvents(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	p, err := s.payment(r.Context(), s.db, scopeOf(caller), r.PathValue("paymentId"))
	if err != nil {
		return err
	}
	events, err := s.externalEvents(r.Context(), p)
	if err != nil {
		return err
	}
	self := s.paymentURL(p.ID)
	out := wireEvents{PaymentID: p.ID, Events: make([]wireEvent, 0, len(events))}
	out.Links.Self = wireLink{Href: self + "/events", Method: "GET"}
	for _, e := range events {
		we := wireEvent{PaymentID: p.ID, Updated: apiTime(e.At),
			State: wireState{Status: e.State.Status, Finished: e.State.Finished, Message: e.State.Message, Code: e.State.Code}}
		we.Links.PaymentURL = wireLink{Href: self, Method: "GET"}
		out.Events = append(out.Events, we)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
