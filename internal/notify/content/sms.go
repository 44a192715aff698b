package content

import (
	"strconv"
	"strings"
)

// Text messages are sent in GSM-7 when every character is in the GSM 03.38 alphabet and
// in UCS-2 otherwise. Following GOV.UK Notify since it began allowing the full range of
// Unicode in text messages, characters outside GSM-7 are kept (and the whole message
// becomes UCS-2) rather than replaced with "?". Only typographic punctuation and
// invisible characters that have an obvious GSM equivalent are replaced, and they never
// force UCS-2 on their own.

// Encoding is the character set a text message is sent in.
type Encoding string

// The two encodings networks accept.
const (
	GSM7 Encoding = "GSM-7"
	UCS2 Encoding = "UCS-2"
)

// SMSMaxCharacters is the longest text message accepted, not counting the service name
// prefix: six concatenated GSM-7 fragments of 153 characters.
const SMSMaxCharacters = 918

// gsmExtension characters are in GSM-7's extension table and cost two characters each.
const gsmExtension = "^{}\\[~]|€"

const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// smsReplacements are swapped for GSM equivalents because they do not change meaning.
var smsReplacements = map[rune]string{
	'\u2011': "-", '\u2013': "-", '\u2014': "-", '\u2212': "-",
	'\u2026': "...",
	'\u2018': "'", '\u2019': "'", '\u201a': "'",
	'\u201c': `"`, '\u201d': `"`, '\u201e': `"`,
	'\u180e': "", '\u200b': "", '\u200c': "", '\u2060': "", '\ufeff': "", '\u2028': "", '\u2029': "",
	'\u00a0': " ", '\u202f': " ", '\t': " ",
}

var gsmSet = func() map[rune]bool {
	set := map[rune]bool{}
	for _, r := range gsmBasic + gsmExtension {
		set[r] = true
	}
	return set
}()

// asciiGSM marks the ASCII characters GSM-7 has: all printable ones except the
// backtick, plus line feed, carriage return and escape.
var asciiGSM = func() (t [128]bool) {
	for r := range gsmSet {
		if r < 128 {
			t[r] = true
		}
	}
	return t
}()

// needsUCS2 reports whether r forces the message into UCS-2.
func needsUCS2(r rune) bool {
	if r < 128 && (asciiGSM[r] || r == '\t') {
		return false
	}
	if gsmSet[r] {
		return false
	}
	_, replaced := smsReplacements[r]
	return !replaced
}

// SMSMessage is a text message ready to send, with what the API and billing need.
type SMSMessage struct {
	// Body is the message without the service name prefix, as the API returns it.
	Body string
	// Message is what is sent: Body with the prefix, if any.
	Message string
	// Encoding is the character set the message needs.
	Encoding Encoding
	// Characters counts Message in UTF-16 code units, the unit networks count in.
	Characters int
	// CharactersWithoutPrefix is the count the 918-character limit applies to.
	CharactersWithoutPrefix int
	// Fragments is how many billable parts the network splits Message into.
	Fragments int
}

// RenderSMS fills a text message template and normalises it for sending. prefix is the
// service name when the service prefixes its messages, or "".
func RenderSMS(template string, personalisation map[string]any, prefix string) SMSMessage {
	vals := newValues(personalisation)
	filled := vals.fill(template, false)
	raw := normaliseSMS(filled, prefix)
	msg := SMSMessage{
		Body:    sanitiseSMS(normaliseSMS(filled, "")),
		Message: sanitiseSMS(raw),
	}
	msg.Encoding, msg.Characters, msg.Fragments = measureSMS(raw)
	msg.CharactersWithoutPrefix = msg.Characters
	if prefix != "" {
		msg.CharactersWithoutPrefix = max(msg.Characters-utf16Len(sanitiseSMS(prefix))-2, 0)
	}
	return msg
}

// Check reports an empty or over-long message with the API's exact messages.
func (m SMSMessage) Check() error {
	if m.CharactersWithoutPrefix == 0 {
		return &Error{Message: MessageEmpty}
	}
	if m.CharactersWithoutPrefix > SMSMaxCharacters {
		return &Error{Message: "Your message is too long. Text messages cannot be longer than " +
			strconv.Itoa(SMSMaxCharacters) + " characters. Your message is " +
			strconv.Itoa(m.CharactersWithoutPrefix) + " characters long."}
	}
	return nil
}

// NormaliseSMS applies the text message clean-up to filled-in text: no space before a
// comma or full stop, whitespace runs collapsed within lines, line endings made LF, at
// most one blank line in a row, ends trimmed, and typographic punctuation made plain.
func NormaliseSMS(text string) string {
	return sanitiseSMS(normaliseSMS(text, ""))
}

// SMSFragments measures text as a message: its encoding, its length in UTF-16 code units
// after normalisation, and how many fragments it is billed as.
func SMSFragments(text string) (Encoding, int, int) {
	return measureSMS(normaliseSMS(text, ""))
}

// normaliseSMS is the clean-up before character replacement; encoding is decided on
// this form so that replaced punctuation never forces UCS-2.
func normaliseSMS(text, prefix string) string {
	if prefix != "" {
		text = trimSpace(prefix) + ": " + text
	}
	text = removeSpaceBeforePunctuation(text)
	text = normaliseLines(text, true)
	return trimSpace(collapseNewlines(text))
}

// sanitiseSMS replaces typographic punctuation and removes invisible characters.
func sanitiseSMS(text string) string {
	clean := true
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 || text[i] == '\t' {
			clean = false
			break
		}
	}
	if clean {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		if r < 0x80 && r != '\t' {
			b.WriteRune(r)
			continue
		}
		if repl, ok := smsReplacements[r]; ok {
			b.WriteString(repl)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// measureSMS counts a normalised message. In GSM-7 a fragment holds 160 characters, or
// 153 once the message is split (the rest carries the joining header), and extension
// characters count twice. In UCS-2 the figures are 70 and 67.
func measureSMS(raw string) (Encoding, int, int) {
	chars := utf16Len(sanitiseSMS(raw))
	if strings.ContainsFunc(raw, needsUCS2) {
		if chars <= 70 {
			return UCS2, chars, 1
		}
		return UCS2, chars, ceilDiv(chars, 67)
	}
	septets := chars
	for _, r := range raw {
		if strings.ContainsRune(gsmExtension, r) {
			septets++
		}
	}
	if septets <= 160 {
		return GSM7, chars, 1
	}
	return GSM7, chars, ceilDiv(septets, 153)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
