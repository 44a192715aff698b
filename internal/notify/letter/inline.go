package letter

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// span is a run of text in one weight. Letters have a single inline style: web addresses are
// printed bold, without their "https://", so that a reader can type them (Notify's letter
// renderer does the same in its autolink handling).
type span struct {
	text string
	bold bool
}

var (
	// inlineToken finds, in order of precedence: a markdown link (printed as typed, so its
	// address is not emboldened), an angle-bracket autolink, a bare web address, or a
	// backslash escape. The bare-address pattern is mistune's, as patched by Notify.
	inlineToken = regexp.MustCompile(`\[[^\]\n]*\]\([^)\s]*(?:\s+"[^"\n]*")?\)` +
		`|<([^ >]+(?:@|:)[^ >]+)>` +
		`|(https?://[^\s<]+[^<.,:"')\]\s])` +
		"|\\\\([\\\\`*{}\\[\\]()#+\\-.!_>~|])")
	protocol = regexp.MustCompile(`^https?://`)

	spaceBeforePunctuation = regexp.MustCompile(`[ \t]+([,.])`)
	spacedHyphen           = regexp.MustCompile(`(^|\S)\s+[-\x{2013}\x{2014}]{1,3}\s+`)
	emailWithQuotes        = regexp.MustCompile(`\S+@\S+`)
)

// parseInline splits one line of source text into spans and applies the typography Notify
// applies to letters (notifications-utils template.py do_nice_typography).
func parseInline(line string) []span {
	var spans []span
	plain := func(s string) {
		if s == "" {
			return
		}
		if n := len(spans); n > 0 && !spans[n-1].bold {
			spans[n-1].text += s
			return
		}
		spans = append(spans, span{text: s})
	}
	rest := line
	for rest != "" {
		loc := inlineToken.FindStringSubmatchIndex(rest)
		if loc == nil {
			plain(rest)
			break
		}
		plain(rest[:loc[0]])
		switch {
		case loc[2] >= 0: // <autolink>
			spans = append(spans, span{text: protocol.ReplaceAllString(rest[loc[2]:loc[3]], ""), bold: true})
		case loc[4] >= 0: // bare address
			spans = append(spans, span{text: protocol.ReplaceAllString(rest[loc[4]:loc[5]], ""), bold: true})
		case loc[6] >= 0: // escape
			plain(rest[loc[6]:loc[7]])
		default: // markdown link, printed as typed
			plain(rest[loc[0]:loc[1]])
		}
		rest = rest[loc[1]:]
	}
	return typeset(spans)
}

// typeset applies, in Notify's order: no space before a comma or full stop, curly quotes
// (except inside email addresses, where a straight apostrophe is part of the address), and an
// en dash for a hyphen standing between spaces.
func typeset(spans []span) []span {
	prev := rune(0)
	for i := range spans {
		t := spaceBeforePunctuation.ReplaceAllString(spans[i].text, "$1")
		t = smartQuotes(t, prev)
		t = emailWithQuotes.ReplaceAllStringFunc(t, func(s string) string {
			return strings.NewReplacer("\u2018", "'", "\u2019", "'").Replace(s)
		})
		t = spacedHyphen.ReplaceAllString(t, "$1 \u2013 ")
		spans[i].text = t
		if r, _ := utf8.DecodeLastRuneInString(t); r != utf8.RuneError {
			prev = r
		}
	}
	return spans
}

// smartQuotes curls straight quotes by what precedes them, a simplified form of SmartyPants'
// rules: after a space or an opening bracket a quote opens, otherwise it closes; an apostrophe
// before a digit ('90s) is always the closing form. prev is the character before s.
func smartQuotes(s string, prev rune) string {
	if !strings.ContainsAny(s, `"'`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	runes := []rune(s)
	for i, r := range runes {
		opening := prev == 0 || unicode.IsSpace(prev) || strings.ContainsRune("([{<\u2018\u201C-\u2013\u2014/", prev)
		switch r {
		case '"':
			if opening {
				b.WriteRune('\u201C')
			} else {
				b.WriteRune('\u201D')
			}
		case '\'':
			if opening && !(i+1 < len(runes) && unicode.IsDigit(runes[i+1])) {
				b.WriteRune('\u2018')
			} else {
				b.WriteRune('\u2019')
			}
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}
