// Package content holds the pure text rules of the Notify platform: placeholders and
// personalisation, email markdown (HTML and plain-text parts), text message normalisation
// and fragment counting, letter addresses, and recipient validation for phone numbers and
// email addresses.
//
// Everything here is a function of its arguments: no database, no clock, no I/O. The API
// uses it to validate requests and build responses, the console to draw previews and
// delivery to render what is sent, so all three agree on every byte. The rules follow
// GOV.UK Notify's published behaviour because service teams' clients and tests compare
// our responses with theirs.
package content

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Channel is a notification type. Placeholder values are rendered differently per
// channel (a list becomes bullets in an email or letter but a sentence in a text message).
type Channel string

// The channels Notify sends through.
const (
	Email  Channel = "email"
	SMS    Channel = "sms"
	Letter Channel = "letter"
)

// zeroWidth lists the invisible characters that Notify strips from text because they
// break matching and counting while adding nothing a reader could see.
const zeroWidth = "\u180e\u200b\u200c\u200d\u2060\ufeff\u2028\u2029"

// fullWidthSpace lists the visible non-breaking spaces that are treated as plain spaces.
const fullWidthSpace = "\u00a0\u202f"

// zeroWidthJoiner glues emoji sequences together; text messages keep it now that they
// may be sent as UCS-2, otherwise a family emoji would fall apart into four faces.
const zeroWidthJoiner = '\u200d'

// isSpace matches what the reference treats as whitespace when it splits words, which is
// Go's notion plus the four ASCII information separators.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// isLineBreak matches every character the reference treats as ending a line.
func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, '\u2028', '\u2029':
		return true
	}
	return false
}

// splitLines splits on every line ending, treating CRLF as one, and drops the empty
// piece after a final line ending, as the reference does.
func splitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isLineBreak(r) {
			i += size
			continue
		}
		lines = append(lines, s[start:i])
		i += size
		if r == '\r' && i < len(s) && s[i] == '\n' {
			i++
		}
		start = i
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// normaliseWhitespace turns every run of whitespace into one space, removes invisible
// characters and trims the ends. keepJoiner keeps zero-width joiners for text messages.
func normaliseWhitespace(s string, keepJoiner bool) string {
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace := false
	for _, r := range s {
		if r >= 0x80 {
			if strings.ContainsRune(fullWidthSpace, r) {
				r = ' '
			}
			if strings.ContainsRune(zeroWidth, r) && !(keepJoiner && r == zeroWidthJoiner) {
				continue
			}
		}
		if isSpace(r) {
			pendingSpace = b.Len() > 0
			continue
		}
		if pendingSpace {
			b.WriteByte(' ')
			pendingSpace = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normaliseLines normalises the whitespace of each line and joins them with LF, which also
// turns CRLF and the rarer line endings into plain newlines.
func normaliseLines(s string, keepJoiner bool) string {
	lines := splitLines(s)
	for i, line := range lines {
		lines[i] = normaliseWhitespace(line, keepJoiner)
	}
	return strings.Join(lines, "\n")
}

// collapseNewlines limits blank space to one empty line, so padding in a template or a
// value cannot make a text message longer than its words.
func collapseNewlines(s string) string {
	if !strings.Contains(s, "\n\n\n") {
		return s
	}
	var b strings.Builder
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			run++
			if run > 2 {
				continue
			}
		} else {
			run = 0
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// trimSpace trims the whitespace the reference's str.strip removes.
func trimSpace(s string) string {
	return strings.TrimFunc(s, isSpace)
}

// asciiWhitespace is the ASCII whitespace set used where the reference trims with
// string.whitespace rather than every Unicode space.
const asciiWhitespace = " \t\n\r\v\f"

// stripObscure removes invisible and non-breaking spaces anywhere in s, then trims ASCII
// whitespace from the ends: the clean-up applied to list items and email addresses.
func stripObscure(s string) string {
	if s == "" {
		return s
	}
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(zeroWidth, r) || strings.ContainsRune(fullWidthSpace, r) {
			return -1
		}
		return r
	}, s)
	return strings.Trim(s, asciiWhitespace)
}

// removeSpaceBeforePunctuation deletes spaces and tabs directly before a comma or full
// stop, a common slip when a placeholder value is empty ("Dear ((name)) ,").
func removeSpaceBeforePunctuation(s string) string {
	if !strings.ContainsAny(s, ",.") {
		return s
	}
	out := make([]byte, 0, len(s))
	runStart := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if runStart < 0 {
				runStart = len(out)
			}
			out = append(out, c)
			continue
		case (c == ',' || c == '.') && runStart >= 0:
			out = out[:runStart]
		}
		runStart = -1
		out = append(out, c)
	}
	return string(out)
}

// utf16Len counts UTF-16 code units, the unit networks bill text messages in: characters
// outside the Basic Multilingual Plane (most emoji) count twice.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
