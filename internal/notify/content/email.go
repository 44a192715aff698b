package content

import (
	"html"
	"strconv"
	"strings"
)

// EmailText renders an email body (placeholders already filled) as the plain-text part
// of the message: headings underlined, bullets as •, links as "text: url", a rule as
// "=-=-…". It ends with one newline.
func EmailText(body string) string {
	s := unlinkGOVUK(body)
	s = stripUnsupported(s) + "\n"
	s = niceTypography(renderMarkdown(s, plainRenderer{}))
	s = html.UnescapeString(s)
	return strings.TrimLeftFunc(s, isSpace) + "\n"
}

// EmailSubject fills a subject line's placeholders and tidies it the way Notify shows
// it in API responses and message headers: lists written as "a, b and c", typographic
// quotes and dashes, and all whitespace collapsed to single spaces.
func EmailSubject(subject string, personalisation map[string]any) string {
	filled := newValues(personalisation).fill(subject, false)
	return normaliseWhitespace(niceTypography(filled), false)
}

// EmailBody is the body the API returns for an email: the template with placeholders
// filled (lists as markdown bullets) and surrounding whitespace trimmed, markdown left
// unrendered and line endings as written.
func EmailBody(body string, personalisation map[string]any) string {
	return trimSpace(Fill(body, personalisation, Email))
}

// EmailMaxBytes is the largest filled-in email body Notify accepts.
const EmailMaxBytes = 2_000_000

// CheckEmailBody reports an empty or oversized email body with the API's exact
// messages. body is the template body, not yet filled in.
func CheckEmailBody(body string, personalisation map[string]any) error {
	filled := EmailBody(body, personalisation)
	if isEmpty(body, filled) {
		return &Error{Message: MessageEmpty}
	}
	if n := len(filled); n > EmailMaxBytes {
		return &Error{Message: "Your message is too long. Emails cannot be longer than " +
			strconv.Itoa(EmailMaxBytes) + " bytes. Your message is " + strconv.Itoa(n) + " bytes."}
	}
	return nil
}

// isEmpty follows the reference: a template that does not both start and end with a
// placeholder always has some fixed text, so only templates like "((body))" can be
// emptied by their personalisation.
func isEmpty(template, filled string) bool {
	if template == "" {
		return true
	}
	if !strings.HasPrefix(template, "((") || !strings.HasSuffix(template, "))") {
		return false
	}
	return filled == ""
}

// MessageEmpty is the API's text for a message with no content.
const MessageEmpty = "Your message is empty."

// Error is a broken content rule. Message is the reference's exact wording, which the
// API returns unchanged in its error body.
type Error struct {
	Message string
}

// Error returns the message unchanged, so callers can pass it straight to the API.
func (e *Error) Error() string { return e.Message }

// RenderedEmail is an email ready to send and to report on.
type RenderedEmail struct {
	// Subject is the filled-in subject line.
	Subject string
	// Body is the filled-in markdown the API returns as the notification's body.
	Body string
	// HTML is the body as an HTML fragment, for EmailDocument.
	HTML string
	// Text is the plain-text alternative part.
	Text string
}

// RenderEmail fills a template's subject and body and renders both parts of the body.
func RenderEmail(subject, body string, personalisation map[string]any) RenderedEmail {
	filled := Fill(body, personalisation, Email)
	return RenderedEmail{
		Subject: EmailSubject(subject, personalisation),
		Body:    trimSpace(filled),
		HTML:    EmailHTML(filled),
		Text:    EmailText(filled),
	}
}

// WithUnsubscribeLink appends a rule and an unsubscribe link to an email body, as Notify
// does for templates that offer one-click unsubscribe.
func WithUnsubscribeLink(body, url string) string {
	if url == "" {
		return body
	}
	return body + "\n\n---\n\n[Unsubscribe from these emails](" + url + ")"
}

// The layout around an email body: a single centred column no wider than 580px, built
// from tables with inline styles because that is what email clients render reliably.
// It has no images and no remote resources, so it looks the same with images blocked.
const (
	documentHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="format-detection" content="telephone=no">
<title>`
	documentBodyStart = `</title>
</head>
<body style="font-family: Helvetica, Arial, sans-serif; font-size: 16px; Margin: 0; color: #0B0C0C;">
<span style="display: none; font-size: 1px; color: #FFFFFF; line-height: 1px; max-height: 0; max-width: 0; opacity: 0; overflow: hidden;">`
	documentPreheaderEnd = `</span>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse: collapse; min-width: 100%; width: 100% !important;">
<tr><td width="100%" height="53" style="background-color: #0B0C0C; padding: 0 10px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse: collapse; max-width: 580px;" align="center">
<tr><td style="padding: 10px 0; font-size: 28px; line-height: 1.315789474; font-weight: 700; color: #FFFFFF;">GOV.UK</td></tr>
</table>
</td></tr>
</table>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse: collapse; max-width: 580px;" align="center">
<tr><td height="30"><br></td></tr>
<tr><td style="font-family: Helvetica, Arial, sans-serif; font-size: 19px; line-height: 1.315789474; max-width: 560px; padding: 0 10px;">
`
	documentEnd = `
</td></tr>
<tr><td height="30"><br></td></tr>
</table>
</body>
</html>
`
)

// preheaderLength is how much of the body inbox lists show next to the subject.
const preheaderLength = 256

// EmailDocument wraps an HTML body fragment from EmailHTML in a complete HTML email: the
// subject as the document title, a hidden preheader (the start of the body's text, which
// inbox lists show as a preview), a GOV.UK header bar and a single readable column.
func EmailDocument(subject, bodyHTML string) string {
	var b strings.Builder
	b.Grow(len(bodyHTML) + 2048)
	b.WriteString(documentHead)
	b.WriteString(html.EscapeString(subject))
	b.WriteString(documentBodyStart)
	b.WriteString(html.EscapeString(preheader(bodyHTML)))
	b.WriteString(documentPreheaderEnd)
	b.WriteString(bodyHTML)
	b.WriteString(documentEnd)
	return b.String()
}

// preheader is the visible text of the body, whitespace collapsed, cut to length.
func preheader(bodyHTML string) string {
	var text strings.Builder
	inTag := false
	for _, r := range bodyHTML {
		switch {
		case r == '<':
			inTag = true
			text.WriteByte(' ')
		case r == '>':
			inTag = false
		case !inTag:
			text.WriteRune(r)
		}
	}
	words := strings.Fields(html.UnescapeString(text.String()))
	s := strings.Join(words, " ")
	if r := []rune(s); len(r) > preheaderLength {
		s = strings.TrimSpace(string(r[:preheaderLength]))
	}
	return s
}
