package pay

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/commons-gov/commons/internal/apiauth"
)

// POST /v1/payments (pay.md §4.1).

// Limits of the create request.
const (
	maxAmount         = 10_000_000
	maxReference      = 255
	maxDescription    = 255
	maxEmail          = 254
	maxReturnURL      = 2000
	maxCardholderName = 255
	maxAddressLine    = 255
	maxPostcode       = 25
	agreementIDLen    = 26
)

func (s *Service) createPayment(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	body, ok := readObject(w, r)
	if !ok {
		return newAPIError(http.StatusBadRequest, codeBadJSON, descBadJSON)
	}
	np, err := parseCreate(body)
	if err != nil {
		return err
	}
	if err := checkCreateLimits(np); err != nil {
		return err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	st, err := s.cachedSettings(r.Context(), caller.ServiceID)
	if err != nil {
		return err
	}
	if err := s.checkCreateRules(r.Context(), &np, body, scopeOf(caller), st); err != nil {
		return err
	}
	c, err := s.create(r.Context(), caller, np, key)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if c.replay {
		status = http.StatusOK
	} else {
		w.Header().Set("Location", s.paymentURL(c.payment.ID))
	}
	out := s.paymentBody(c.payment)
	out.Links = s.paymentLinks(c.payment, c.token)
	writeJSON(w, status, out)
	return nil
}

// create errors of one field.
func createMissing(field string) *apiError { return missingField(codeMissing, field) }
func createInvalid(status int, field, reason string) *apiError {
	return invalidField(status, codeInvalid, field, reason)
}

// The errors of the fields almost every create has, made once: made afresh for each request,
// only to be dropped when the field is right, they were a good share of a create's allocations.
// They are never changed once made, so they can be shared.
var (
	errAmountInvalid      = createInvalid(http.StatusBadRequest, "amount", "Must be a valid numeric format")
	errAmountMissing      = createMissing("amount")
	errReferenceInvalid   = createInvalid(http.StatusBadRequest, "reference", "Must be a valid string format")
	errReferenceMissing   = createMissing("reference")
	errDescriptionInvalid = createInvalid(http.StatusBadRequest, "description", "Must be a valid string format")
	errDescriptionMissing = createMissing("description")
	errReturnURLInvalid   = createInvalid(http.StatusBadRequest, "return_url", "Must be a valid URL format")
	errEmailInvalid       = createInvalid(http.StatusBadRequest, "email", "Field must be a string")
)

// parseCreate reads the body field by field, in the reference's order, stopping at the first
// problem: a missing field or a value of the wrong JSON type is a 400; a value outside its
// enumeration is a 422.
func parseCreate(b jsonObject) (NewPayment, error) {
	np := NewPayment{Language: "en", AuthorisationMode: ModeWeb, Source: SourceAPI}
	amount, err := b.requiredInt("amount", errAmountInvalid, errAmountMissing)
	if err != nil {
		return np, err
	}
	np.Amount = amount
	for _, f := range []struct {
		name             string
		dst              *string
		invalid, missing error
	}{{"reference", &np.Reference, errReferenceInvalid, errReferenceMissing},
		{"description", &np.Description, errDescriptionInvalid, errDescriptionMissing}} {
		invalid := f.invalid
		v, err := b.requiredString(f.name, invalid, f.missing)
		if err != nil {
			return np, err
		}
		if strings.ContainsAny(v, "<>|") {
			return np, invalid
		}
		*f.dst = v
	}
	if np.ReturnURL, err = b.optionalString("return_url", errReturnURLInvalid); err != nil {
		return np, err
	}
	if b.has("moto") {
		if np.MOTO, err = b.requiredBool("moto", createInvalid(http.StatusBadRequest, "moto", "Must be true or false")); err != nil {
			return np, err
		}
	}
	if v, ok := b["set_up_agreement"].(string); ok {
		np.SetUpAgreement = v
	}
	explicitMode := ""
	if b.has("authorisation_mode") {
		reason := "Must be one of web, moto_api, agreement"
		invalid := createInvalid(http.StatusBadRequest, "authorisation_mode", reason)
		mode, err := b.requiredString("authorisation_mode", invalid, invalid)
		if err != nil {
			return np, err
		}
		if mode != ModeWeb && mode != ModeMOTOAPI && mode != ModeAgreement {
			return np, createInvalid(http.StatusUnprocessableEntity, "authorisation_mode", reason)
		}
		np.AuthorisationMode, explicitMode = mode, mode
	}
	if b.has("agreement_id") {
		if explicitMode != ModeAgreement {
			return np, newAPIError(http.StatusBadRequest, codeUnexpected, "Unexpected attribute: agreement_id")
		}
		if np.AgreementID, err = b.requiredString("agreement_id", createInvalid(http.StatusBadRequest, "agreement_id",
			"Must be a valid string format"), createMissing("agreement_id")); err != nil {
			return np, err
		}
	}
	if b.has("agreement_payment_type") {
		reason := "Must be one of instalment, recurring, unscheduled"
		invalid := createInvalid(http.StatusBadRequest, "agreement_payment_type", reason)
		t, err := b.requiredString("agreement_payment_type", invalid, invalid)
		if err != nil {
			return np, err
		}
		if !b.has("set_up_agreement") && explicitMode != ModeAgreement {
			return np, newAPIError(http.StatusBadRequest, codeUnexpected, "Unexpected attribute: agreement_payment_type")
		}
		if t != "instalment" && t != "recurring" && t != "unscheduled" {
			return np, createInvalid(http.StatusUnprocessableEntity, "agreement_payment_type", reason)
		}
		np.AgreementPaymentType = t
	}
	if b.has("language") {
		reason := `Must be "en" or "cy"`
		invalid := createInvalid(http.StatusBadRequest, "language", reason)
		lang, err := b.requiredString("language", invalid, invalid)
		if err != nil {
			return np, err
		}
		if lang != "en" && lang != "cy" {
			return np, createInvalid(http.StatusUnprocessableEntity, "language", reason)
		}
		np.Language = lang
	}
	if b.has("delayed_capture") {
		if np.DelayedCapture, err = b.requiredBool("delayed_capture", createInvalid(http.StatusBadRequest, "delayed_capture", "Must be true or false")); err != nil {
			return np, err
		}
	}
	if np.Email, err = b.optionalString("email", errEmailInvalid); err != nil {
		return np, err
	}
	if err := parsePrefilled(b, &np); err != nil {
		return np, err
	}
	if b.has("metadata") {
		if np.Metadata, err = parseMetadata(b["metadata"]); err != nil {
			return np, err
		}
	}
	return np, parseSource(b, &np)
}

// parsePrefilled reads prefilled_cardholder_details, whose fields are reported by their own
// short names (cardholder_name, line1, …) as the reference does.
func parsePrefilled(b jsonObject, np *NewPayment) error {
	details, ok := b.object("prefilled_cardholder_details")
	if !ok {
		return nil
	}
	str := func(o jsonObject, field string) (string, error) {
		return o.optionalString(field, createInvalid(http.StatusBadRequest, field, "Field must be a string"))
	}
	var err error
	if np.PrefilledCardholderName, err = str(details, "cardholder_name"); err != nil {
		return err
	}
	addr, ok := details.object("billing_address")
	if !ok {
		return nil
	}
	a := &np.PrefilledAddress
	for _, f := range []struct {
		name string
		dst  *string
	}{{"line1", &a.Line1}, {"line2", &a.Line2}, {"city", &a.City}, {"postcode", &a.Postcode}, {"country", &a.Country}} {
		if *f.dst, err = str(addr, f.name); err != nil {
			return err
		}
	}
	return nil
}

// parseSource reads internal.source, which only payment links and agent-initiated MOTO
// products may set.
func parseSource(b jsonObject, np *NewPayment) error {
	internal, ok := b.object("internal")
	if !ok || !internal.has("source") {
		return nil
	}
	reason := "Accepted values are only CARD_PAYMENT_LINK, CARD_AGENT_INITIATED_MOTO"
	src, err := internal.optionalString("source", createInvalid(http.StatusBadRequest, "source", reason))
	if err != nil || src == "" {
		return err
	}
	switch src {
	case SourcePaymentLink, SourceAgentInitiatedMOTO:
		np.Source = src
		return nil
	case SourceAPI, "CARD_EXTERNAL_TELEPHONE":
		return createInvalid(http.StatusBadRequest, "source", reason)
	}
	return createInvalid(http.StatusUnprocessableEntity, "source", reason)
}

// checkCreateLimits applies the limits on lengths and ranges (all 422), in a fixed order.
func checkCreateLimits(np NewPayment) error {
	switch {
	case np.Amount < 0:
		return createInvalid(http.StatusUnprocessableEntity, "amount", "Must be greater than or equal to 1")
	case np.Amount > maxAmount:
		return createInvalid(http.StatusUnprocessableEntity, "amount", "Must be less than or equal to 10000000")
	}
	for _, f := range []struct {
		field string
		value string
		max   int
	}{
		{"reference", np.Reference, maxReference}, {"description", np.Description, maxDescription},
		{"email", np.Email, maxEmail}, {"return_url", np.ReturnURL, maxReturnURL},
		{"cardholder_name", np.PrefilledCardholderName, maxCardholderName},
		{"line1", np.PrefilledAddress.Line1, maxAddressLine}, {"line2", np.PrefilledAddress.Line2, maxAddressLine},
		{"postcode", np.PrefilledAddress.Postcode, maxPostcode}, {"city", np.PrefilledAddress.City, maxAddressLine},
	} {
		if javaLen(f.value) > f.max {
			return createInvalid(http.StatusUnprocessableEntity, f.field, "Must be less than or equal to "+strconv.Itoa(f.max)+" characters length")
		}
	}
	for _, f := range []struct{ field, value string }{{"set_up_agreement", np.SetUpAgreement}, {"agreement_id", np.AgreementID}} {
		if f.value != "" && javaLen(f.value) != agreementIDLen {
			return createInvalid(http.StatusUnprocessableEntity, f.field, "Field ["+f.field+"] length must be 26")
		}
	}
	return nil
}

// idempotencyKeyPattern is what an Idempotency-Key may contain.
var idempotencyKeyPattern = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

// idempotencyKey reads the optional Idempotency-Key header: 1 to 255 letters, digits and
// hyphens (422 P0102 naming the header otherwise).
func idempotencyKey(r *http.Request) (string, error) {
	values, ok := r.Header["Idempotency-Key"]
	if !ok {
		return "", nil
	}
	key := values[0]
	headerError := func(desc string) error {
		return &apiError{status: http.StatusUnprocessableEntity, Header: "Idempotency-Key", Code: codeInvalid, Desc: desc}
	}
	if len(key) < 1 || len(key) > 255 {
		return "", headerError("Header [Idempotency-Key] can have a size between 1 and 255")
	}
	if !idempotencyKeyPattern.MatchString(key) {
		return "", headerError("Header [Idempotency-Key] can only contain alphanumeric characters and hyphens")
	}
	return key, nil
}
