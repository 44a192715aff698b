package notify

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"

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
	body, err := readPostBody(w, r)
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
	writePostResponse(w, urlRoot(r), res)
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

// postResponse builds the 201 body, as encoding/json writes it; writePostResponse writes the
// same bytes. scheduled_for stays null as in GOV.UK Notify's responses,
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

// writePostResponse writes the 201 body of a send: the bytes json.Marshal gives for
// postResponse, appended without reflection, which cost every send several microseconds
// (TestPostResponseEncoding holds the two together).
func writePostResponse(w http.ResponseWriter, root string, res sendResult) {
	n := &res.Notification
	body := appendPostResponse(make([]byte, 0, 512+len(n.Body)+len(n.Subject)), root, res)
	// One array holds both header values, so that they cost one allocation, not two.
	v := &[2]string{"application/json", "no-store"}
	h := w.Header()
	h["Content-Type"] = v[0:1:1]
	h["Cache-Control"] = v[1:2:2]
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(append(body, '\n'))
}

// appendPostResponse appends json.Marshal(postResponse(root, res)) to b.
func appendPostResponse(b []byte, root string, res sendResult) []byte {
	n := &res.Notification
	b = append(b, `{"id":`...)
	b = appendJSONString(b, n.ID)
	b = append(b, `,"reference":`...)
	b = appendJSONNullString(b, n.ClientReference)
	b = append(b, `,"content":`...)
	switch n.Type {
	case Email:
		b = append(b, `{"from_email":`...)
		b = appendJSONString(b, res.FromEmail)
		b = append(b, `,"body":`...)
		b = appendJSONString(b, n.Body)
		b = append(b, `,"subject":`...)
		b = appendJSONString(b, n.Subject)
		b = append(b, `,"one_click_unsubscribe_url":`...)
		b = appendJSONNullString(b, n.UnsubscribeURL)
		b = append(b, '}')
	case SMS:
		b = append(b, `{"body":`...)
		b = appendJSONString(b, n.Body)
		b = append(b, `,"from_number":`...)
		b = appendJSONString(b, n.Sender)
		b = append(b, '}')
	case Letter:
		b = append(b, `{"body":`...)
		b = appendJSONString(b, n.Body)
		b = append(b, `,"subject":`...)
		b = appendJSONString(b, n.Subject)
		b = append(b, '}')
	default:
		b = append(b, "null"...)
	}
	b = append(b, `,"uri":`...)
	b = appendJSONString(b, root+"/v2/notifications/"+n.ID)
	b = append(b, `,"template":{"id":`...)
	b = appendJSONString(b, n.TemplateID)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(n.TemplateVersion), 10)
	b = append(b, `,"uri":`...)
	b = appendJSONString(b, root+"/services/"+n.ServiceID+"/templates/"+n.TemplateID)
	b = append(b, `},"scheduled_for":null`...)
	if n.Type == Email {
		// Always present for email, {} when nothing changed; a value that did change is
		// rare, and encoding/json writes it.
		b = append(b, `,"sanitised_content":`...)
		if len(res.Sanitised) == 0 {
			b = append(b, "{}"...)
		} else {
			m, err := json.Marshal(res.Sanitised)
			if err != nil {
				m = []byte("{}")
			}
			b = append(b, m...)
		}
	}
	return append(b, '}')
}

// appendJSONNullString appends s as a JSON string, or null when it is empty.
func appendJSONNullString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendJSONString(b, s)
}

// appendJSONString appends s as encoding/json writes a string: HTML-sensitive characters,
// U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
