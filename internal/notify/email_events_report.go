package notify

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"

	"github.com/commons-gov/commons/internal/failure"
)

// Reading the reports mail systems send back: RFC 3464 delivery status notifications
// (bounces, and deliveries where the sender asked for them) and RFC 5965 feedback reports
// (complaints). Both are multipart/report messages: a part for people, a machine-readable
// part (message/delivery-status or message/feedback-report: blocks of header-like fields),
// and the original email or just its headers (message/rfc822 or text/rfc822-headers), whose
// Message-ID names the notification.

// ErrNotEmailReport is returned, wrapped with the reason, by ParseEmailReport for a message
// that is readable but reports nothing Commons acts on: not a report at all, a delay warning,
// a report that does not quote the original's Message-ID.
var ErrNotEmailReport = errors.New("not an email report Commons acts on")

func notEmailReport(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotEmailReport, fmt.Sprintf(format, args...))
}

// maxReportDepth bounds how far multipart parts nested in parts are followed: a report is
// sometimes wrapped in a multipart/mixed by a forwarding system, never deeper.
const maxReportDepth = 3

// maxEventDetail bounds the mail system's words kept in a status event.
const maxEventDetail = 300

// ParseEmailReport reads a report about an email exactly as the mail system delivered it (a
// delivery status notification or a complaint) and returns what it says. A body that is not
// an email message at all is a failure.Invalid error; one that reports nothing to act on is
// ErrNotEmailReport.
func ParseEmailReport(r io.Reader) (EmailEvent, error) {
	msg, err := mail.ReadMessage(bufio.NewReader(r))
	if err != nil {
		return EmailEvent{}, failure.Wrap(failure.Invalid, err, "The body must be an email message (RFC 5322)")
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/report" {
		return EmailEvent{}, notEmailReport("the message is %q, not a multipart/report", mediaType)
	}
	var rep emailReport
	if err := rep.walk(msg.Body, params["boundary"], 1); err != nil {
		return EmailEvent{}, err
	}
	if rep.originalID == "" {
		// Some mail systems quote nothing of the original but do say what they answer.
		rep.originalID = firstMessageID(msg.Header.Get("In-Reply-To"), msg.Header.Get("References"))
	}
	if rep.originalID == "" {
		return EmailEvent{}, notEmailReport("the report does not give the original email's Message-ID")
	}
	switch {
	case rep.feedback != nil:
		return rep.complaint()
	case rep.recipients != nil:
		return rep.deliveryStatus()
	}
	return EmailEvent{}, notEmailReport("the %q report has no delivery-status or feedback-report part", params["report-type"])
}

// emailReport is what the parts of a report said.
type emailReport struct {
	recipients []textproto.MIMEHeader // the per-recipient blocks of a delivery status notification
	feedback   textproto.MIMEHeader   // a feedback report's fields
	originalID string
}

// walk reads the parts of a multipart body, following nested multiparts.
func (rep *emailReport) walk(body io.Reader, boundary string, depth int) error {
	if boundary == "" {
		return failure.New(failure.Invalid, "The report's Content-Type has no boundary")
	}
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return failure.Wrap(failure.Invalid, err, "The report's parts cannot be read")
		}
		mediaType, params, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			mediaType = "text/plain" // RFC 2045's default
		}
		var content io.Reader = p
		if strings.EqualFold(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding")), "base64") {
			content = base64.NewDecoder(base64.StdEncoding, p)
		}
		if strings.HasPrefix(mediaType, "multipart/") {
			if depth < maxReportDepth {
				if err := rep.walk(content, params["boundary"], depth+1); err != nil {
					return err
				}
			}
			continue
		}
		switch mediaType {
		case "message/delivery-status", "message/global-delivery-status":
			blocks, err := readFieldBlocks(content)
			if err != nil {
				return err
			}
			// The first block is about the message; each later one about a recipient.
			for _, b := range blocks {
				if b.Get("Action") != "" {
					rep.recipients = append(rep.recipients, b)
				}
			}
			if rep.recipients == nil {
				rep.recipients = []textproto.MIMEHeader{}
			}
		case "message/feedback-report":
			blocks, err := readFieldBlocks(content)
			if err != nil {
				return err
			}
			rep.feedback = textproto.MIMEHeader{}
			for _, b := range blocks {
				for k, v := range b {
					rep.feedback[k] = append(rep.feedback[k], v...)
				}
			}
		case "message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers":
			if rep.originalID == "" {
				rep.originalID = originalMessageID(content)
			}
		}
	}
}

// readFieldBlocks reads the blocks of header-like fields, separated by blank lines, that the
// machine-readable part of a report holds.
func readFieldBlocks(r io.Reader) ([]textproto.MIMEHeader, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, failure.Wrap(failure.Invalid, err, "The report cannot be read")
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(bytes.TrimLeft(raw, "\r\n"))))
	var blocks []textproto.MIMEHeader
	for {
		h, err := tp.ReadMIMEHeader()
		if len(h) > 0 {
			blocks = append(blocks, h)
		}
		if err == io.EOF {
			return blocks, nil
		}
		if err != nil {
			return nil, failure.Wrap(failure.Invalid, err, "The report's fields cannot be read")
		}
	}
}

// originalMessageID returns the Message-ID of the original email quoted in a report, whole or
// as its headers only; "" when there is none.
func originalMessageID(r io.Reader) string {
	raw, err := io.ReadAll(r)
	if err != nil {
		return ""
	}
	// The headers-only form may end without the blank line that ends a message's headers.
	orig, err := mail.ReadMessage(bytes.NewReader(append(bytes.TrimLeft(raw, "\r\n"), "\r\n\r\n"...)))
	if err != nil {
		return ""
	}
	return firstMessageID(orig.Header.Get("Message-Id"))
}

// firstMessageID returns the first <…> message id in the header values, or a bare value when
// the first has no angle brackets.
func firstMessageID(values ...string) string {
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if start := strings.IndexByte(v, '<'); start >= 0 {
			if end := strings.IndexByte(v[start:], '>'); end > 0 {
				return v[start+1 : start+end]
			}
		}
		return strings.Fields(v)[0]
	}
	return ""
}

// deliveryStatus turns a delivery status notification into an event. An email from Notify
// has one recipient; should a report name several, a failure outweighs a delivery, and a
// delay (the mail system is still trying) is no outcome at all.
func (rep *emailReport) deliveryStatus() (EmailEvent, error) {
	var failed, delivered textproto.MIMEHeader
	for _, b := range rep.recipients {
		switch strings.ToLower(strings.TrimSpace(b.Get("Action"))) {
		case "failed":
			if failed == nil {
				failed = b
			}
		case "delivered":
			if delivered == nil {
				delivered = b
			}
		}
	}
	switch {
	case failed != nil:
		status := dsnStatus(failed)
		// A "failed" action is final: a 4.x.x status means the mail system gave up on a
		// temporary problem; anything else is taken as permanent.
		permanent := !strings.HasPrefix(status, "4.")
		kind := "permanent"
		if !permanent {
			kind = "temporary"
		}
		return EmailEvent{MessageID: rep.originalID, Kind: EmailBounce, Permanent: permanent,
			Detail: eventDetail("Bounced ("+kind+")", status, failed.Get("Diagnostic-Code"))}, nil
	case delivered != nil:
		return EmailEvent{MessageID: rep.originalID, Kind: EmailDelivered,
			Detail: eventDetail("Delivered", dsnStatus(delivered), delivered.Get("Diagnostic-Code"))}, nil
	}
	return EmailEvent{}, notEmailReport("the delivery status notification reports no failure or delivery (a delay, or a relay)")
}

// dsnStatus is a recipient block's status code (5.1.1), without any comment after it.
func dsnStatus(b textproto.MIMEHeader) string {
	if f := strings.Fields(b.Get("Status")); len(f) > 0 {
		return f[0]
	}
	return ""
}

// complaint turns a feedback report into an event. A "not-spam" report takes a complaint
// back rather than making one.
func (rep *emailReport) complaint() (EmailEvent, error) {
	typ := strings.ToLower(strings.TrimSpace(rep.feedback.Get("Feedback-Type")))
	if typ == "not-spam" {
		return EmailEvent{}, notEmailReport("the feedback report says the email is not spam")
	}
	ev := EmailEvent{MessageID: rep.originalID, Kind: EmailComplaint, ComplaintType: typ}
	for _, field := range []string{"Arrival-Date", "Received-Date"} {
		if t, err := mail.ParseDate(rep.feedback.Get(field)); err == nil {
			ev.At = t.UTC()
			break
		}
	}
	return ev, nil
}

// eventDetail writes what the mail system said for the status history, with email addresses
// hidden (the history is shown to the whole team and kept after the address is deleted) and
// cut to a readable length.
func eventDetail(what, status, diagnostic string) string {
	s := what + ", the mail system reports"
	if said := strings.TrimSpace(strings.Join([]string{status, strings.Join(strings.Fields(diagnostic), " ")}, " ")); said != "" {
		s += ": " + said
	}
	s = redactAddresses(s)
	if r := []rune(s); len(r) > maxEventDetail {
		s = string(r[:maxEventDetail-1]) + "…"
	}
	return s
}
