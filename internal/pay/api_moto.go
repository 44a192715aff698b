package pay

import (
	"errors"
	"net/http"
	"strings"
	"time"
)

// POST /v1/auth (pay.md §4.10): no API key; the one-time token from auth_url_post says which
// payment the card details are for.

func (s *Service) authoriseMOTO(w http.ResponseWriter, r *http.Request) error {
	body, ok := readObject(w, r)
	if !ok {
		// The reference's framework answers a body it cannot read in its own format.
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": http.StatusBadRequest, "message": "Unable to process JSON"})
		return nil
	}
	token, card, err := parseMOTORequest(body)
	if err != nil {
		return err
	}
	if err := checkMOTOCard(card, s.now()); err != nil {
		return err
	}
	err = s.AuthoriseMOTO(r.Context(), token, card)
	switch {
	case err == nil:
		writeNoContent(w)
		return nil
	case errors.Is(err, ErrTokenInvalid), errors.Is(err, ErrTokenNotMOTO):
		return newAPIError(http.StatusBadRequest, "P1211", err.Error())
	case errors.Is(err, ErrTokenUsed):
		return newAPIError(http.StatusBadRequest, "P1212", err.Error())
	case errors.Is(err, ErrCardRejected), errors.Is(err, ErrAuthorisationRejected):
		return newAPIError(http.StatusPaymentRequired, "P0010", err.Error())
	case errors.Is(err, ErrAuthorisationFailed):
		return newAPIError(http.StatusInternalServerError, "P0050", err.Error())
	}
	return err
}

// parseMOTORequest reads the body: every field is a required string (422 for each problem,
// naming the field).
func parseMOTORequest(b jsonObject) (string, Card, error) {
	fields := []struct {
		name     string
		min, max int
		reason   string
		blankOK  bool // only null counts as missing; an empty string is a length problem
	}{
		{"one_time_token", 1, 0, "", false},
		{"card_number", 12, 19, "Must be between 12 and 19 characters long", true},
		{"cvc", 3, 4, "Must be between 3 and 4 characters long", true},
		{"expiry_date", 5, 5, "Must be a valid date with the format MM/YY", true},
		{"cardholder_name", 1, 255, "Must be less than or equal to 255 characters long", false},
	}
	values := map[string]string{}
	for _, f := range fields {
		v, present := b.present(f.name)
		if !present {
			return "", Card{}, motoMissing(f.name)
		}
		str, isStr := v.(string)
		if !isStr {
			return "", Card{}, invalidField(http.StatusUnprocessableEntity, codeInvalid, f.name, "Must be a valid String format")
		}
		if !f.blankOK && strings.TrimSpace(str) == "" {
			return "", Card{}, motoMissing(f.name)
		}
		if n := javaLen(str); f.max > 0 && (n < f.min || n > f.max) {
			return "", Card{}, invalidField(http.StatusUnprocessableEntity, codeInvalid, f.name, f.reason)
		}
		values[f.name] = str
	}
	return values["one_time_token"], Card{Number: values["card_number"], CVC: values["cvc"],
		ExpiryDate: values["expiry_date"], CardholderName: values["cardholder_name"]}, nil
}

func motoMissing(field string) error {
	return &apiError{status: http.StatusUnprocessableEntity, Field: field, Code: codeMissing, Desc: "Missing mandatory attribute: " + field}
}

// checkMOTOCard applies the checks made before the token is looked at (422, without a field,
// as the reference words them).
func checkMOTOCard(c Card, now time.Time) error {
	invalid := func(desc string) error { return newAPIError(http.StatusUnprocessableEntity, codeInvalid, desc) }
	switch {
	case !allDigits(c.Number):
		return invalid("Invalid attribute value: card_number. Must be a valid card number")
	case !allDigits(c.CVC) || len(c.CVC) < 3 || len(c.CVC) > 4:
		return invalid("Invalid attribute value: cvc. Must contain numbers only")
	case !expiryPattern.MatchString(c.ExpiryDate):
		return invalid("Invalid attribute value: expiry_date. Must be a valid date with the format MM/YY")
	case !expiryInFuture(c.ExpiryDate, now):
		return invalid("Invalid attribute value: expiry_date. Must be a valid date in the future")
	}
	return nil
}
