package notify

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
)

// emailMessage builds the email for n: From "<sender name or service name>"
// <local_part@domain>, as GOV.UK Notify sends (notify.md §5.2), and a Message-ID made of the
// notification's id.
func (d *Delivery) emailMessage(n outgoing, svc platform.Service, st Settings) EmailMessage {
	name := st.EmailSenderName
	if name == "" {
		name = svc.Name
	}
	local := st.EmailSenderLocalPart
	if local == "" {
		local = EmailLocalPart(name)
	}
	to := n.NormalisedTo
	if to == "" {
		to = strings.TrimSpace(n.Recipient)
	}
	htmlPart, textPart := renderEmail(n.Subject, n.Body)
	return EmailMessage{
		NotificationID: n.ID, FromName: name, FromAddress: local + "@" + d.emailDomain, To: to, ReplyTo: n.ReplyTo,
		Subject: n.Subject, HTML: htmlPart, Text: textPart, UnsubscribeURL: n.UnsubscribeURL,
		MessageID: MessageID(n.ID, d.emailDomain),
	}
}

// MessageID is the Message-ID (without angle brackets) of a notification's email. A bounce
// or complaint quoting it names the notification: see NotificationIDFromMessageID.
func MessageID(notificationID, domain string) string { return notificationID + "@" + domain }

// NotificationIDFromMessageID returns the notification id in a Message-ID made by MessageID,
// with or without angle brackets, and false for any other.
func NotificationIDFromMessageID(messageID string) (string, bool) {
	id, _, ok := strings.Cut(strings.Trim(strings.TrimSpace(messageID), "<>"), "@")
	if !ok || len(id) != 36 {
		return "", false
	}
	return id, true
}

// EmailLocalPart makes a service or sender name into the local part of its From address,
// as GOV.UK Notify does: accents dropped, lower case, whitespace runs become one dot,
// anything else that is not a letter or digit dropped, no leading, trailing or doubled dots.
// "Apply for a Licence" → "apply.for.a.licence".
func EmailLocalPart(name string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(strings.TrimSpace(name)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsSpace(r):
			space = true
		case r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r):
			if space {
				b.WriteByte('.')
				space = false
			}
			b.WriteString(strings.ToLower(string(r)))
		}
	}
	out := b.String()
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".")
	}
	return strings.Trim(out, ".")
}

// renderEmail returns the HTML and plain-text parts of an email whose subject and filled-in
// body (markdown) are given, formatted as GOV.UK Notify formats them (notify.md §5.2).
func renderEmail(subject, body string) (htmlPart, textPart string) {
	return content.EmailDocument(subject, content.EmailHTML(body)), content.EmailText(body)
}

// letterOutboxMessage is what the development outbox keeps of a letter: its text, and its id,
// from which the letter's PDF is rendered.
func letterOutboxMessage(n outgoing) outbox.Message {
	return outbox.Message{ID: n.ID, ServiceID: n.ServiceID, Channel: string(Letter), Recipient: n.Recipient,
		Subject: n.Subject, Body: n.Body, Reference: n.ID}
}
