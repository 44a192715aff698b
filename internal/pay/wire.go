package pay

import (
	"encoding/json"
	"time"
)

// The JSON shapes of the /v1 API. Field order follows the reference's, and each omitempty
// follows its inclusion rule (pay.md §3): the payment object leaves out what is absent but keeps
// false booleans; card_details always has every key, null or not; settlement_summary is {} when
// empty; links leave out what does not apply.

type wireLink struct {
	Href   string `json:"href"`
	Method string `json:"method"`
}

type wirePostLink struct {
	Href   string            `json:"href"`
	Method string            `json:"method"`
	Type   string            `json:"type,omitempty"`
	Params map[string]string `json:"params,omitempty"`
}

type wireState struct {
	Status   string `json:"status"`
	Finished bool   `json:"finished"`
	Message  string `json:"message,omitempty"`
	Code     string `json:"code,omitempty"`
	CanRetry *bool  `json:"can_retry,omitempty"`
}

type wireRefundSummary struct {
	Status          string `json:"status"`
	AmountAvailable int64  `json:"amount_available"`
	AmountSubmitted int64  `json:"amount_submitted"`
}

type wireSettlement struct {
	CaptureSubmitTime string `json:"capture_submit_time,omitempty"`
	CapturedDate      string `json:"captured_date,omitempty"`
	SettledDate       string `json:"settled_date,omitempty"`
}

type wireAddress struct {
	Line1    string `json:"line1,omitempty"`
	Line2    string `json:"line2,omitempty"`
	Postcode string `json:"postcode,omitempty"`
	City     string `json:"city,omitempty"`
	Country  string `json:"country,omitempty"`
}

type wireCardDetails struct {
	LastDigits     *string      `json:"last_digits_card_number"`
	FirstDigits    *string      `json:"first_digits_card_number"`
	CardholderName *string      `json:"cardholder_name"`
	ExpiryDate     *string      `json:"expiry_date"`
	BillingAddress *wireAddress `json:"billing_address"`
	CardBrand      *string      `json:"card_brand"`
	CardType       *string      `json:"card_type"`
	WalletType     *string      `json:"wallet_type"`
}

type wireAuthorisationSummary struct {
	ThreeDSecure struct {
		Required bool `json:"required"`
	} `json:"three_d_secure"`
}

// wirePaymentLinks are the links of a payment on its own (create and GET).
type wirePaymentLinks struct {
	Self        *wireLink     `json:"self,omitempty"`
	NextURL     *wireLink     `json:"next_url,omitempty"`
	NextURLPost *wirePostLink `json:"next_url_post,omitempty"`
	AuthURLPost *wirePostLink `json:"auth_url_post,omitempty"`
	Events      *wireLink     `json:"events,omitempty"`
	Refunds     *wireLink     `json:"refunds,omitempty"`
	Cancel      *wirePostLink `json:"cancel,omitempty"`
	Capture     *wirePostLink `json:"capture,omitempty"`
}

// wireSearchLinks are the links of a payment in search results.
type wireSearchLinks struct {
	Self    *wireLink     `json:"self,omitempty"`
	Cancel  *wirePostLink `json:"cancel,omitempty"`
	Events  *wireLink     `json:"events,omitempty"`
	Refunds *wireLink     `json:"refunds,omitempty"`
	Capture *wirePostLink `json:"capture,omitempty"`
}

type wirePayment struct {
	PaymentID              string                    `json:"payment_id"`
	PaymentProvider        string                    `json:"payment_provider,omitempty"`
	Amount                 int64                     `json:"amount"`
	Description            string                    `json:"description,omitempty"`
	Reference              string                    `json:"reference,omitempty"`
	CreatedDate            string                    `json:"created_date,omitempty"`
	RefundSummary          wireRefundSummary         `json:"refund_summary"`
	SettlementSummary      wireSettlement            `json:"settlement_summary"`
	CardDetails            *wireCardDetails          `json:"card_details,omitempty"`
	Language               string                    `json:"language,omitempty"`
	DelayedCapture         bool                      `json:"delayed_capture"`
	MOTO                   bool                      `json:"moto"`
	CorporateCardSurcharge *int64                    `json:"corporate_card_surcharge,omitempty"`
	TotalAmount            *int64                    `json:"total_amount,omitempty"`
	Fee                    *int64                    `json:"fee,omitempty"`
	NetAmount              *int64                    `json:"net_amount,omitempty"`
	ProviderID             string                    `json:"provider_id,omitempty"`
	Metadata               json.RawMessage           `json:"metadata,omitempty"`
	ReturnURL              string                    `json:"return_url,omitempty"`
	Email                  string                    `json:"email,omitempty"`
	State                  wireState                 `json:"state"`
	AuthorisationSummary   *wireAuthorisationSummary `json:"authorisation_summary,omitempty"`
	AgreementID            string                    `json:"agreement_id,omitempty"`
	AuthorisationMode      string                    `json:"authorisation_mode,omitempty"`
	AgreementPaymentType   string                    `json:"agreement_payment_type,omitempty"`
	Links                  any                       `json:"_links"`
	CardBrand              string                    `json:"card_brand,omitempty"`
}

// apiTime formats a timestamp as the reference does: UTC, milliseconds, a literal Z.
func apiTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// apiDate formats a date-only value (captured_date).
func apiDate(t time.Time) string { return t.UTC().Format("2006-01-02") }

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// stateOf is a payment's `state`.
func stateOf(p *Payment) wireState {
	e := p.Status.External()
	st := wireState{Status: e.Status, Finished: e.Finished, Message: e.Message, Code: e.Code}
	if e.Status == "failed" && p.AuthorisationMode == ModeAgreement {
		st.CanRetry = p.CanRetry
	}
	return st
}

// paymentBody is the payment object without links.
func (s *Service) paymentBody(p *Payment) wirePayment {
	w := wirePayment{
		PaymentID:       p.ID,
		PaymentProvider: p.Provider,
		Amount:          p.Amount,
		Description:     p.Description,
		Reference:       p.Reference,
		CreatedDate:     apiTime(p.CreatedAt),
		RefundSummary: wireRefundSummary{Status: p.RefundStatus(), AmountAvailable: p.RefundAvailable(),
			AmountSubmitted: p.RefundedAmount},
		Language:             p.Language,
		DelayedCapture:       p.DelayedCapture,
		MOTO:                 p.MOTO,
		Fee:                  p.Fee,
		NetAmount:            p.NetAmount,
		ProviderID:           p.ProviderID,
		ReturnURL:            p.ReturnURL,
		Email:                p.Email,
		State:                stateOf(p),
		AgreementID:          p.AgreementID,
		AuthorisationMode:    p.AuthorisationMode,
		AgreementPaymentType: p.AgreementPaymentType,
	}
	if len(p.Metadata) > 0 && string(p.Metadata) != "{}" {
		w.Metadata = p.Metadata
	}
	if p.CorporateSurcharge != nil {
		total := p.TotalAmount()
		w.CorporateCardSurcharge, w.TotalAmount = p.CorporateSurcharge, &total
	}
	if p.CaptureSubmitTime != nil {
		w.SettlementSummary.CaptureSubmitTime = apiTime(*p.CaptureSubmitTime)
	}
	if p.CapturedAt != nil {
		w.SettlementSummary.CapturedDate = apiDate(*p.CapturedAt)
	}
	w.SettlementSummary.SettledDate = p.SettledDate
	if p.ThreeDSRequired != nil && *p.ThreeDSRequired {
		w.AuthorisationSummary = &wireAuthorisationSummary{}
		w.AuthorisationSummary.ThreeDSecure.Required = true
	}
	if c := p.Card; c != nil {
		d := &wireCardDetails{LastDigits: strPtr(c.LastDigits), FirstDigits: strPtr(c.FirstDigits),
			CardholderName: strPtr(c.CardholderName), ExpiryDate: strPtr(c.ExpiryDate),
			CardBrand: strPtr(brandLabel(c.Brand)), CardType: strPtr(c.Type), WalletType: strPtr(c.WalletType)}
		if a := c.BillingAddress; a != nil {
			d.BillingAddress = &wireAddress{Line1: a.Line1, Line2: a.Line2, Postcode: a.Postcode, City: a.City, Country: a.Country}
		}
		w.CardDetails = d
		w.CardBrand = brandLabel(c.Brand)
	}
	return w
}

// Links.

func (s *Service) paymentURL(id string) string { return s.cfg.BaseURL + "/v1/payments/" + id }

// needsNextURL reports whether a payment still has a journey to send someone on: not
// finished, not waiting for the service to capture, and not taken with a saved card.
func needsNextURL(p *Payment) bool {
	return p.AuthorisationMode != ModeAgreement && !p.Status.Finished() && p.Status != StatusAwaitingCaptureRequest
}

// paymentLinks are the links of a payment on its own. token is a fresh one-time token when
// needsNextURL, for next_url (web) or auth_url_post (moto_api).
func (s *Service) paymentLinks(p *Payment, token string) wirePaymentLinks {
	self := s.paymentURL(p.ID)
	l := wirePaymentLinks{
		Self:    &wireLink{Href: self, Method: "GET"},
		Events:  &wireLink{Href: self + "/events", Method: "GET"},
		Refunds: &wireLink{Href: self + "/refunds", Method: "GET"},
	}
	if token != "" {
		if p.AuthorisationMode == ModeMOTOAPI {
			l.AuthURLPost = &wirePostLink{Href: s.cfg.BaseURL + "/v1/auth", Method: "POST", Type: "application/json",
				Params: map[string]string{"one_time_token": token}}
		} else {
			l.NextURL = &wireLink{Href: s.cfg.BaseURL + "/pay/secure/" + token, Method: "GET"}
			l.NextURLPost = &wirePostLink{Href: s.cfg.BaseURL + "/pay/secure", Method: "POST",
				Type: "application/x-www-form-urlencoded", Params: map[string]string{"chargeTokenId": token}}
		}
	}
	if !p.Status.Finished() && p.AuthorisationMode != ModeAgreement {
		l.Cancel = &wirePostLink{Href: self + "/cancel", Method: "POST"}
	}
	if p.Status == StatusAwaitingCaptureRequest {
		l.Capture = &wirePostLink{Href: self + "/capture", Method: "POST"}
	}
	return l
}

// searchLinks are the links of a payment in search results.
func (s *Service) searchLinks(p *Payment) wireSearchLinks {
	self := s.paymentURL(p.ID)
	l := wireSearchLinks{
		Self:    &wireLink{Href: self, Method: "GET"},
		Events:  &wireLink{Href: self + "/events", Method: "GET"},
		Refunds: &wireLink{Href: self + "/refunds", Method: "GET"},
	}
	if !p.Status.Finished() && p.AuthorisationMode != ModeAgreement {
		l.Cancel = &wirePostLink{Href: self + "/cancel", Method: "POST"}
	}
	if p.Status == StatusAwaitingCaptureRequest {
		l.Capture = &wirePostLink{Href: self + "/capture", Method: "POST"}
	}
	return l
}
