package notify

import (
	"net/http"

	"github.com/commons-gov/commons/internal/apiauth"
)

// POST /v2/notifications/{email|sms|letter}.

// Request schemas (notify.md §2.2–2.5), properties in the reference's order, which is the
// order their errors are reported in.
var (
	postEmailSchema = requestSchema{
		fields: []fieldRule{
			{name: "reference", kind: ruleString, max: 1000},
			{name: "email_address", kind: ruleEmail},
			{name: "template_id", kind: ruleUUID},
			{name: "personalisation", kind: ruleObject},
			{name: "scheduled_for", kind: ruleScheduledFor},
			{name: "email_reply_to_id", kind: ruleUUID},
			{name: "one_click_unsubscribe_url", kind: ruleHTTPS},
			{name: "sanitise_content_for", kind: ruleArrayOrNull},
		},
		required:       []string{"email_address", "template_id"},
		scheduleWithin: scheduleWindow,
	}
	postSMSSchema = requestSchema{
		fields: []fieldRule{
			{name: "reference", kind: ruleString, max: 1000},
			{name: "phone_number", kind: rulePhone},
			{name: "template_id", kind: ruleUUID},
			{name: "personalisation", kind: ruleObject},
			{name: "scheduled_for", kind: ruleScheduledFor},
			{name: "sms_sender_id", kind: ruleUUID},
		},
		required:       []string{"phone_number", "template_id"},
		scheduleWithin: scheduleWindow,
	}
	postLetterSchema = requestSchema{
		fields: []fieldRule{
			{name: "reference", kind: ruleString, max: 1000},
			{name: "template_id", kind: ruleUUID},
			{name: "personalisation", kind: ruleObject},
		},
		required: []string{"template_id", "personalisation"},
	}
	postPrecompiledSchema = requestSchema{
		fields: []fieldRule{
			{name: "reference", kind: ruleString},
			{name: "content", kind: ruleString},
			{name: "postage", kind: rulePostage},
		},
		required: []string{"reference", "content"},
	}
)

// postNotification checks, in GOV.UK Notify's order: the per-minute rate limit, the channel's
// daily limit, the JSON, its schema, then everything send checks. Rate limiting comes before
// anything about the request, so requests that fail later still use up tokens.
func (s *Service) postNotification(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	ch := Channel(r.PathValue("type"))
	if !ch.Valid() {
		writeLegacyError(w, http.StatusNotFound, legacyNotFound)
		return nil
	}
	ctx := r.Context()
	st, err := s.cachedSettings(ctx, caller.ServiceID)
	if err != nil {
		return err
	}
	if err := s.checkRateLimit(ctx, caller, st); err != nil {
		return err
	}
	if err := s.checkDailyLimit(ctx, caller, st, string(ch)); err != nil {
		return err
	}
	body, err := readJSONBody(w, r)
	if err != nil {
		return err
	}
	obj, _ := body.(map[string]any)
	if _, precompiled := obj["content"]; ch == Letter && precompiled {
		return s.postPrecompiledLetter(w, r, caller, st, body)
	}
	schema := map[Channel]requestSchema{Email: postEmailSchema, SMS: postSMSSchema, Letter: postLetterSchema}[ch]
	if msgs := schema.validate(body, schemaContext{now: s.now()}); len(msgs) > 0 {
		return validationError(msgs...)
	}
	req := sendRequestFromJSON(ch, obj)
	svc, err := s.serviceFor(ctx, caller.ServiceID)
	if err != nil {
		return err
	}
	res, err := s.send(ctx, sendContext{caller: caller, service: svc, settings: st}, req)
	if err != nil {
		return err
	}
	writeV2JSON(w, http.StatusCreated, postResponse(urlRoot(r), res))
	return nil
}

// sendRequestFromJSON reads a body that passed its schema.
func sendRequestFromJSON(ch Channel, obj map[string]any) sendRequest {
	str := func(k string) string { s, _ := obj[k].(string); return s }
	req := sendRequest{Channel: ch, TemplateID: str("template_id"), ReplyToID: str("email_reply_to_id"),
		SMSSenderID: str("sms_sender_id"), UnsubscribeURL: str("one_click_unsubscribe_url")}
	switch ch {
	case Email:
		req.To = str("email_address")
	case SMS:
		req.To = str("phone_number")
	}
	if ref, ok := obj["reference"].(string); ok {
		req.Reference = &ref
	}
	req.Personalisation, _ = obj["personalisation"].(map[string]any)
	if req.Personalisation == nil {
		req.Personalisation = map[string]any{}
	}
	if keys, ok := obj["sanitise_content_for"].([]any); ok {
		for _, k := range keys {
			if s, ok := k.(string); ok {
				req.SanitiseFor = append(req.SanitiseFor, s)
			}
		}
	}
	if s, ok := obj["scheduled_for"].(string); ok {
		if t, ok := parseISODateTime(s); ok {
			req.ScheduledFor = &t
		}
	}
	return req
}

// Response bodies of a send (notify.md §2.2–2.4).

type templateRefJSON struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	URI     string `json:"uri"`
}

type emailContentJSON struct {
	FromEmail      string  `json:"from_email"`
	Body           string  `json:"body"`
	Subject        string  `json:"subject"`
	UnsubscribeURL *string `json:"one_click_unsubscribe_url"`
}

type smsContentJSON struct {
	Body       string `json:"body"`
	FromNumber string `json:"from_number"`
}

type letterContentJSON struct {
	Body    string `json:"body"`
	Subject string `json:"subject"`
}

type postResponseJSON struct {
	ID               string                    `json:"id"`
	Reference        *string                   `json:"reference"`
	Content          any                       `json:"content"`
	URI              string                    `json:"uri"`
	Template         templateRefJSON           `json:"template"`
	ScheduledFor     *string                   `json:"scheduled_for"`
	SanitisedContent map[string]sanitisedValue `json:"sanitised_content,omitempty"`
}

// postResponse builds the 201 body. scheduled_for stays null as in GOV.UK Notify's responses,
// even when Commons has scheduled the message, so clients see the shape they expect.
func postResponse(root string, res sendResult) any {
	n := res.Notification
	out := postResponseJSON{
		ID: n.ID, Reference: nullString(n.ClientReference),
		URI: root + "/v2/notifications/" + n.ID,
		Template: templateRefJSON{ID: n.TemplateID, Version: n.TemplateVersion,
			URI: root + "/services/" + n.ServiceID + "/templates/" + n.TemplateID},
	}
	switch n.Type {
	case Email:
		out.Content = emailContentJSON{FromEmail: res.FromEmail, Body: n.Body, Subject: n.Subject,
			UnsubscribeURL: nullString(n.UnsubscribeURL)}
		// Always present for email, {} when nothing changed.
		return struct {
			postResponseJSON
			SanitisedContent map[string]sanitisedValue `json:"sanitised_content"`
		}{out, nonNilSanitised(res.Sanitised)}
	case SMS:
		out.Content = smsContentJSON{Body: n.Body, FromNumber: n.Sender}
	case Letter:
		out.Content = letterContentJSON{Body: n.Body, Subject: n.Subject}
	}
	return out
}

func nonNilSanitised(m map[string]sanitisedValue) map[string]sanitisedValue {
	if m == nil {
		return map[string]sanitisedValue{}
	}
	return m
}
