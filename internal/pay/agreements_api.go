package pay

import (
	"net/http"
	"strings"

	"github.com/commons-gov/commons/internal/apiauth"
)

// POST /v1/agreements, GET /v1/agreements/{agreementId}, GET /v1/agreements and
// POST /v1/agreements/{agreementId}/cancel (pay.md §4.9), and GET /v1/disputes (§4.8).

// Codes of the agreement endpoints (pay.md §2.2).
const (
	codeAgreementMissing   = "P2101"
	codeAgreementInvalid   = "P2102"
	codeAgreementBadJSON   = "P2197"
	codeUnknownAgreement   = "P0103"
	codeAgreementParams    = "P2401"
	codeAgreementNoPage    = "P2402"
	codeAgreementNotActive = "P2501"
)

// Per-route failure codes.
var (
	epCreateAgreement  = endpoint{downstream: "P2198"}
	epGetAgreement     = endpoint{notFound: "P2200", downstream: "P2298"}
	epSearchAgreements = endpoint{downstream: "P2498"}
	epCancelAgreement  = endpoint{notFound: "P2500", downstream: "P2598"}
	epSearchDisputes   = endpoint{downstream: "P0498"}
)

// Limits of the create-agreement request: each field 1 to 255 characters.
const maxAgreementField = 255

// mountAgreementsAndDisputes registers the agreement and dispute routes.
func (s *Service) mountAgreementsAndDisputes(mux *http.ServeMux) {
	mux.Handle("POST /v1/agreements", s.v1(bucketPost, epCreateAgreement, s.createAgreement))
	mux.Handle("GET /v1/agreements", s.v1(bucketGet, epSearchAgreements, s.searchAgreements))
	mux.Handle("GET /v1/agreements/{agreementId}", s.v1(bucketGet, epGetAgreement, s.getAgreement))
	mux.Handle("POST /v1/agreements/{agreementId}/cancel", s.v1(bucketPost, epCancelAgreement, s.cancelAgreement))
	mux.Handle("GET /v1/disputes", s.v1(bucketGet, epSearchDisputes, s.searchDisputes))
}

// The agreement object. Its inclusion rule is the reference's NON_NULL: user_identifier and
// payment_instrument are left out until there is one; the card inside always has every key.
type wireAgreement struct {
	AgreementID       string          `json:"agreement_id"`
	Reference         string          `json:"reference"`
	Description       string          `json:"description"`
	Status            string          `json:"status"`
	CreatedDate       string          `json:"created_date"`
	PaymentInstrument *wireInstrument `json:"payment_instrument,omitempty"`
	UserIdentifier    string          `json:"user_identifier,omitempty"`
}

type wireInstrument struct {
	CardDetails *wireCardDetails `json:"card_details"`
	CreatedDate string           `json:"created_date"`
	Type        string           `json:"type"`
}

// agreementBody is an agreement as the API shows it. The saved card's brand is the slug
// ("visa", "master-card"), as GOV.UK Pay shows it on agreements, not the label payments show.
func agreementBody(a *Agreement) wireAgreement {
	w := wireAgreement{AgreementID: a.ID, Reference: a.Reference, Description: a.Description, Status: a.Status,
		CreatedDate: apiTime(a.CreatedAt), UserIdentifier: a.UserIdentifier}
	if inst := a.Instrument; inst != nil {
		c := inst.Card
		d := &wireCardDetails{LastDigits: strPtr(c.LastDigits), FirstDigits: strPtr(c.FirstDigits),
			CardholderName: strPtr(c.CardholderName), ExpiryDate: strPtr(c.ExpiryDate), CardBrand: strPtr(c.Brand),
			CardType: strPtr(c.Type), WalletType: strPtr(c.WalletType)}
		if addr := c.BillingAddress; addr != nil {
			d.BillingAddress = &wireAddress{Line1: addr.Line1, Line2: addr.Line2, Postcode: addr.Postcode, City: addr.City,
				Country: addr.Country}
		}
		w.PaymentInstrument = &wireInstrument{CardDetails: d, CreatedDate: apiTime(inst.CreatedAt), Type: "card"}
	}
	return w
}

func (s *Service) createAgreement(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	body, ok := readObject(w, r)
	if !ok {
		return newAPIError(http.StatusBadRequest, codeAgreementBadJSON, descBadJSON)
	}
	na, err := parseAgreement(body)
	if err != nil {
		return err
	}
	st, err := s.Settings(r.Context(), caller.ServiceID)
	if err != nil {
		return err
	}
	if !st.RecurringEnabled {
		return errRecurringDisabled
	}
	a, err := s.CreateAgreement(r.Context(), scopeOf(caller), na)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, agreementBody(a))
	return nil
}

// parseAgreement reads the create-agreement body as the reference does: the wrong JSON type, or
// `<`, `>` or `|` in reference or description, is a 400; a value of the wrong length a 422.
func parseAgreement(b jsonObject) (NewAgreement, error) {
	var na NewAgreement
	invalid := func(status int, field, reason string) *apiError {
		return invalidField(status, codeAgreementInvalid, field, reason)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"reference", &na.Reference}, {"description", &na.Description}} {
		bad := invalid(http.StatusBadRequest, f.name, "Must be a valid string format")
		v, err := b.requiredString(f.name, bad, missingField(codeAgreementMissing, f.name))
		if err != nil {
			return na, err
		}
		if strings.ContainsAny(v, "<>|") {
			return na, bad
		}
		*f.dst = v
	}
	userID, err := b.optionalString("user_identifier", invalid(http.StatusBadRequest, "user_identifier", "Field must be a string"))
	if err != nil {
		return na, err
	}
	na.UserIdentifier = userID
	_, userIDGiven := b.present("user_identifier")
	tooLong := "Must be less than or equal to 255 characters length"
	for _, f := range []struct {
		name, value string
		given       bool
	}{{"reference", na.Reference, true}, {"description", na.Description, true}, {"user_identifier", na.UserIdentifier, userIDGiven}} {
		// The reference's size rule is 1 to 255 with that one message, so an empty
		// user_identifier is refused with it too.
		if f.given && (f.value == "" || javaLen(f.value) > maxAgreementField) {
			return na, invalid(http.StatusUnprocessableEntity, f.name, tooLong)
		}
	}
	return na, nil
}

func (s *Service) getAgreement(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	a, err := s.Agreement(r.Context(), scopeOf(caller), r.PathValue("agreementId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, agreementBody(a))
	return nil
}

// validAgreementStatuses are the statuses the agreement search accepts.
var validAgreementStatuses = map[string]bool{AgreementCreated: true, AgreementActive: true, AgreementCancelled: true,
	AgreementInactive: true}

func (s *Service) searchAgreements(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	sp := &searchParams{q: r.URL.Query()}
	f := AgreementFilter{Reference: sp.maxLen("reference", maxReference), Status: sp.get("status")}
	if strings.TrimSpace(f.Status) != "" && !validAgreementStatuses[strings.ToLower(f.Status)] {
		sp.bad("status")
	}
	pg := sp.page()
	if len(sp.invalid) > 0 {
		return invalidParams(codeAgreementParams, sp.invalid)
	}
	agreements, total, err := s.SearchAgreements(r.Context(), scopeOf(caller), f, pg)
	if err != nil {
		return err
	}
	if pageMissing(pg, total) {
		return newAPIError(http.StatusNotFound, codeAgreementNoPage, descPageMissing)
	}
	out := wireSearch[wireAgreement]{Total: total, Count: len(agreements), Page: pg.Number,
		Results: make([]wireAgreement, 0, len(agreements))}
	for _, a := range agreements {
		out.Results = append(out.Results, agreementBody(a))
	}
	out.Links = s.navLinks("/v1/agreements", sp.q, []string{"reference", "status"}, pg, total)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Service) cancelAgreement(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	switch err := s.CancelAgreement(r.Context(), scopeOf(caller), r.PathValue("agreementId")); {
	case err == nil:
		writeNoContent(w)
		return nil
	case err == ErrAgreementNotActive:
		return newAPIError(http.StatusBadRequest, codeAgreementNotActive, "Cancellation of agreement failed")
	default:
		return err
	}
}
