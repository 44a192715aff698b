package notify

import (
	"errors"
	"net/http"
	"strings"

	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/platform"
)

// The content rules a send applies: rendering a template for one notification and
// validating its recipient. The rules themselves live in package content; this file maps
// their outcomes to the /v2 API's errors and puts them in the API's order.

// renderedMessage is a template filled in for one notification.
type renderedMessage struct {
	Channel Channel
	Subject string // email subject or letter heading; empty for text messages
	Body    string // the content as the API returns it (§5.6)
	// tooLong is the length refusal, checked later than the other content rules (after the
	// recipient, as GOV.UK Notify checks it), or nil.
	tooLong error
}

// renderForSend fills a template and applies the checks GOV.UK Notify makes at this stage:
// missing personalisation, then an empty message. smsPrefix is the service name when the
// service prefixes its text messages.
func renderForSend(t Template, personalisation map[string]any, contactBlock, smsPrefix string) (renderedMessage, error) {
	if err := checkMissing(t, personalisation, contactBlock); err != nil {
		return renderedMessage{}, err
	}
	msg := renderMessage(t, personalisation, smsPrefix)
	var check error
	switch t.Type {
	case Email:
		// CheckEmailBody fills the body again. It refuses only an empty template, one that is
		// a placeholder at both ends (which personalisation can empty) or a body over the
		// limit, so other sends, most of them, are spared the second filling.
		if t.Content == "" || strings.HasPrefix(t.Content, "((") && strings.HasSuffix(t.Content, "))") ||
			len(msg.Body) > content.EmailMaxBytes {
			check = content.CheckEmailBody(t.Content, personalisation)
		}
	case SMS:
		check = content.RenderSMS(t.Content, personalisation, smsPrefix).Check()
	case Letter:
		if strings.TrimSpace(msg.Body) == "" {
			check = &content.Error{Message: content.MessageEmpty}
		}
	}
	var ce *content.Error
	if errors.As(check, &ce) {
		if ce.Message == content.MessageEmpty {
			return renderedMessage{}, badRequest("%s", ce.Message)
		}
		msg.tooLong = badRequest("%s", ce.Message)
	} else if check != nil {
		return renderedMessage{}, check
	}
	return msg, nil
}

// checkMissing refuses a template whose placeholders the personalisation does not fill.
// A letter's address placeholders are checked as an address instead.
func checkMissing(t Template, personalisation map[string]any, contactBlock string) error {
	parts := []string{t.Content}
	switch t.Type {
	case Email:
		parts = []string{t.Subject, t.Content}
	case Letter:
		parts = []string{t.Subject, t.Content, contactBlock}
	}
	var missing []string
	for _, name := range content.Missing(parts, personalisation) {
		if t.Type == Letter && content.IsAddressPlaceholder(name) {
			continue
		}
		missing = append(missing, name)
	}
	if len(missing) > 0 {
		return badRequest("%s", content.MissingMessage(missing))
	}
	return nil
}

// renderMessage fills a template without checking it, for sends and previews.
func renderMessage(t Template, personalisation map[string]any, smsPrefix string) renderedMessage {
	msg := renderedMessage{Channel: t.Type}
	switch t.Type {
	case SMS:
		msg.Body = content.RenderSMS(t.Content, personalisation, smsPrefix).Body
	case Email:
		msg.Body = content.EmailBody(t.Content, personalisation)
		msg.Subject = content.EmailSubject(t.Subject, personalisation)
	case Letter:
		msg.Body = strings.TrimSpace(content.Fill(t.Content, personalisation, content.Letter))
		msg.Subject = content.EmailSubject(t.Subject, personalisation)
	}
	return msg
}

// hasFileUpload reports whether personalisation carries a file to send by email (§2.14).
func hasFileUpload(personalisation map[string]any) bool {
	for _, v := range personalisation {
		if m, ok := v.(map[string]any); ok {
			if _, ok := m["file"]; ok {
				return true
			}
		}
	}
	return false
}

// checkEmailAddress validates an email address and returns it trimmed and lower-cased, the
// form recipients are compared in.
func checkEmailAddress(s string) (string, error) { return content.ValidateEmail(s) }

// schemaPhoneError is the schema stage's phone check: any valid number, international and
// landline included. It returns the legacy text or "".
func schemaPhoneError(s string) string {
	if _, err := content.ParsePhone(s); err != nil {
		return err.Error()
	}
	return ""
}

// normalisePhoneForMatch returns the form guest list numbers are stored in, for comparing.
func normalisePhoneForMatch(s string) (string, bool) {
	p, err := content.ParsePhone(s)
	if err != nil {
		return "", false
	}
	return p.Normalised, true
}

// validatePhoneForService parses a phone number and applies the service's permissions:
// numbers abroad need international_sms (BadRequestError), landlines the sms_to_uk_landlines
// setting (InvalidPhoneError, "Not a UK mobile number").
func validatePhoneForService(s string, svc platform.Service, st Settings) (content.Phone, error) {
	p, err := content.ParsePhone(s)
	if err == nil {
		err = p.Permit(svc.Can(platform.ServiceInternationalSMS), st.SMSToUKLandlines)
	}
	var pe *content.PhoneError
	var ce *content.Error
	switch {
	case err == nil:
		return p, nil
	case errors.As(err, &pe):
		return content.Phone{}, newV2Error(http.StatusBadRequest, errTypeInvalidPhone, pe.Error())
	case errors.As(err, &ce):
		return content.Phone{}, badRequest("%s", ce.Message)
	}
	return content.Phone{}, err
}

// formatSMSSender shows a sender as the response's from_number: international digits when it
// parses as a phone number, otherwise as configured (GOVUK).
func formatSMSSender(sender string) string {
	if p, err := content.ParsePhone(sender); err == nil {
		return p.Normalised
	}
	return sender
}

// validateLetterAddress reads and checks a templated letter's address; refusals are
// ValidationErrors.
func validateLetterAddress(personalisation map[string]any, allowInternational bool) (content.Address, error) {
	a, err := content.ValidateAddress(personalisation, allowInternational)
	var ce *content.Error
	if errors.As(err, &ce) {
		return content.Address{}, validationError(ce.Message)
	}
	return a, err
}

// sanitiseFor applies sanitise_content_for (§2.15) to an email's personalisation. It returns
// the new personalisation and the values that changed.
func sanitiseFor(personalisation map[string]any, keys []string) (map[string]any, map[string]sanitisedValue) {
	if len(keys) == 0 || len(personalisation) == 0 {
		return personalisation, nil
	}
	changed := map[string]sanitisedValue{}
	want := map[string]bool{}
	for _, k := range keys {
		want[content.NormaliseKey(k)] = true
	}
	out := make(map[string]any, len(personalisation))
	for k, v := range personalisation {
		out[k] = v
		s, ok := v.(string)
		if !ok || !want[content.NormaliseKey(k)] {
			continue
		}
		if clean := content.Sanitise(s); clean != s {
			out[k] = clean
			changed[k] = sanitisedValue{Unsanitised: s, Sanitised: clean}
		}
	}
	return out, changed
}
