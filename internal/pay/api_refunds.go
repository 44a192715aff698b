package pay

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/commons-gov/commons/internal/apiauth"
)

// Refund endpoints (pay.md §4.7).

type wireRefundLinks struct {
	Self    wireLink `json:"self"`
	Payment wireLink `json:"payment"`
}

type wireRefundSettlement struct {
	SettledDate string `json:"settled_date,omitempty"`
}

type wireRefund struct {
	RefundID          string               `json:"refund_id"`
	CreatedDate       string               `json:"created_date"`
	PaymentID         string               `json:"payment_id,omitempty"` // in search results only
	Amount            int64                `json:"amount"`
	Links             wireRefundLinks      `json:"_links"`
	Status            string               `json:"status"`
	SettlementSummary wireRefundSettlement `json:"settlement_summary"`
}

func (s *Service) refundBody(r *Refund) wireRefund {
	payment := s.paymentURL(r.PaymentID)
	return wireRefund{
		RefundID: r.ID, CreatedDate: apiTime(r.CreatedAt), Amount: r.Amount, Status: r.Status,
		Links: wireRefundLinks{
			Self:    wireLink{Href: payment + "/refunds/" + r.ID, Method: "GET"},
			Payment: wireLink{Href: payment, Method: "GET"},
		},
		SettlementSummary: wireRefundSettlement{SettledDate: r.SettledDate},
	}
}

// POST /v1/payments/{paymentId}/refunds: 202 with the refund.
func (s *Service) createRefund(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	body, ok := readObject(w, r)
	if !ok {
		return newAPIError(http.StatusBadRequest, "P0697", descBadJSON)
	}
	amount, err := body.requiredInt("amount", invalidField(http.StatusBadRequest, "P0602", "amount", "Must be a valid numeric format"),
		missingField("P0601", "amount"))
	if err != nil {
		return err
	}
	switch {
	case amount < 1:
		return invalidField(http.StatusUnprocessableEntity, "P0602", "amount", "Must be greater than or equal to 1")
	case amount > maxAmount:
		return invalidField(http.StatusUnprocessableEntity, "P0602", "amount", "Must be less than or equal to 10000000")
	}
	ref, err := s.CreateRefund(r.Context(), scopeOf(caller), r.PathValue("paymentId"), amount, expectedAvailable(body))
	var na *RefundNotAvailable
	switch {
	case errors.As(err, &na):
		return newAPIError(http.StatusBadRequest, "P0603", "The payment is not available for refund. Payment refund status: "+na.Reason)
	case errors.Is(err, ErrRefundMismatch):
		return newAPIError(http.StatusPreconditionFailed, "P0604", "Refund amount available mismatch.")
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusAccepted, s.refundBody(ref))
	return nil
}

// expectedAvailable reads refund_amount_available leniently, as the reference does (a Java
// asInt()): a number, a numeric string or a boolean; anything else counts as 0. Absent means
// "whatever is available now".
func expectedAvailable(b jsonObject) *int64 {
	v, ok := b.present("refund_amount_available")
	if !ok {
		return nil
	}
	var n int64
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			n = int64(int32(f))
		}
	case string:
		if i, err := strconv.ParseInt(x, 10, 32); err == nil {
			n = i
		}
	case bool:
		if x {
			n = 1
		}
	}
	return &n
}

type wirePaymentRefunds struct {
	PaymentID string          `json:"payment_id"`
	Links     wireRefundLinks `json:"_links"`
	Embedded  struct {
		Refunds []wireRefund `json:"refunds"`
	} `json:"_embedded"`
}

// GET /v1/payments/{paymentId}/refunds.
func (s *Service) listRefunds(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	id := r.PathValue("paymentId")
	refunds, err := s.Refunds(r.Context(), scopeOf(caller), id)
	if err != nil {
		return err
	}
	payment := s.paymentURL(id)
	out := wirePaymentRefunds{PaymentID: id, Links: wireRefundLinks{
		Self: wireLink{Href: payment + "/refunds", Method: "GET"}, Payment: wireLink{Href: payment, Method: "GET"}}}
	out.Embedded.Refunds = make([]wireRefund, 0, len(refunds))
	for _, ref := range refunds {
		out.Embedded.Refunds = append(out.Embedded.Refunds, s.refundBody(ref))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// GET /v1/payments/{paymentId}/refunds/{refundId}.
func (s *Service) getRefund(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	ref, err := s.Refund(r.Context(), scopeOf(caller), r.PathValue("paymentId"), r.PathValue("refundId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.refundBody(ref))
	return nil
}
