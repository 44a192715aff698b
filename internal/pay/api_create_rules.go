package pay

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// checkCreateRules applies the rules that depend on the mode, the account and each other, as
// GOV.UK Pay's connector does after the API layer's checks, and chooses the provider.
func (s *Service) checkCreateRules(ctx context.Context, np *NewPayment, b jsonObject, sc Scope, st Settings) error {
	live := sc.Live
	switch np.AuthorisationMode {
	case ModeWeb:
		if np.ReturnURL == "" {
			return newAPIError(http.StatusBadRequest, codeMissing, "Missing mandatory attribute: return_url")
		}
		if !validReturnURL(np.ReturnURL) {
			return newAPIError(http.StatusUnprocessableEntity, codeInvalid, "Invalid attribute value: return_url. Must be a valid URL format")
		}
	default:
		if np.ReturnURL != "" {
			return newAPIError(http.StatusBadRequest, codeUnexpected, "Unexpected attribute: return_url")
		}
	}
	agreement, err := s.checkAgreementRules(ctx, np, b, sc, st)
	if err != nil {
		return err
	}
	if np.MOTO && !st.MOTOEnabled {
		return errMOTONotEnabled
	}
	if np.AuthorisationMode == ModeMOTOAPI && !st.MOTOAPIEnabled {
		return errMOTOAPINotEnabled
	}
	if np.Amount == 0 && !st.AllowZeroAmount {
		return createInvalid(http.StatusUnprocessableEntity, "amount",
			"Must be greater than or equal to 1. Refer to https://docs.payments.service.gov.uk/making_payments/#amount")
	}
	if live && np.ReturnURL != "" && !strings.HasPrefix(np.ReturnURL, "https://") {
		return invalidField(http.StatusUnprocessableEntity, codeNonHTTPS, "return_url", "Must begin with https:// for a live gateway account")
	}
	np.Provider = SandboxName
	if live {
		np.Provider = st.Provider
	}
	if agreement != nil && agreement.Instrument != nil {
		// A recurring payment is taken by whichever provider holds the saved card.
		np.Provider = agreement.Instrument.Provider
	}
	if _, ok := s.provider(np.Provider); !ok {
		return errNotLinkedWithPSP
	}
	return nil
}

// checkAgreementRules applies the rules about recurring payments, and returns the agreement an
// agreement-mode payment will be taken with (nil for other payments).
func (s *Service) checkAgreementRules(ctx context.Context, np *NewPayment, b jsonObject, sc Scope, st Settings) (*Agreement, error) {
	unexpected := func(field string) error {
		return newAPIError(http.StatusBadRequest, codeUnexpected, "Unexpected attribute: "+field)
	}
	switch np.AuthorisationMode {
	case ModeAgreement:
		switch {
		case !st.RecurringEnabled:
			return nil, errRecurringDisabled
		case np.AgreementID == "":
			return nil, newAPIError(http.StatusBadRequest, codeMissing, "Missing mandatory attribute: agreement_id")
		case np.SetUpAgreement != "":
			return nil, unexpected("set_up_agreement")
		case np.MOTO:
			return nil, unexpected("moto")
		case np.Email != "":
			return nil, unexpected("email")
		case b.has("prefilled_cardholder_details"):
			return nil, unexpected("prefilled_cardholder_details")
		}
		a, err := s.agreementForCreate(ctx, sc, np.AgreementID)
		switch {
		case err != nil:
			return nil, err
		case a == nil:
			return nil, invalidField(http.StatusBadRequest, codeInvalid, "agreement_id", "Agreement does not exist")
		case a.Status != AgreementActive || a.Instrument == nil:
			return nil, invalidField(http.StatusBadRequest, codeInvalid, "agreement_id", "Agreement must be active")
		}
		return a, nil
	case ModeWeb:
		if np.SetUpAgreement != "" {
			if !st.RecurringEnabled {
				return nil, errRecurringDisabled
			}
			a, err := s.agreementForCreate(ctx, sc, np.SetUpAgreement)
			if err != nil {
				return nil, err
			}
			if a == nil {
				return nil, &apiError{status: http.StatusBadRequest, Field: "set_up_agreement", Code: codeUnknownAgreement,
					Desc: "Invalid attribute value: set_up_agreement. Agreement ID does not exist"}
			}
		}
	default:
		if np.SetUpAgreement != "" {
			return nil, unexpected("set_up_agreement")
		}
	}
	return nil, nil
}

// validReturnURL accepts an absolute http or https URL with a host and no spaces.
func validReturnURL(raw string) bool {
	if strings.ContainsAny(raw, " \t\r\n") {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Hostname() != ""
}
