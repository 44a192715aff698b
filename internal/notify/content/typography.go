package content

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Emails get the same typography as GOV.UK Notify's: curly quotes, spaced hyphens as en
// dashes, and no space before a comma or full stop. Curly quotes follow the SmartyPants
// rules, including their quirks, so text reads identically whichever service sent it.

var (
	reGOVUK = regexp.MustCompile(`(?i)(^|[` + pySpace + `])([#*^]?)(gov)\.(uk)`)
	// skippedTags hold text that must not be curled: link text shows URLs verbatim.
	skippedTags = []string{"pre", "samp", "code", "tt", "kbd", "script", "style", "math", "a"}
	// smartEscapes are SmartyPants' backslash escapes for forcing a straight character.
	smartEscapes = strings.NewReplacer(`\\`, "&#92;", `\"`, "&#34;", `\'`, "&#39;", `\.`, "&#46;", `\-`, "&#45;", "\\`", "&#96;")
)

func niceTypography(s string) string {
	s = removeSpaceBeforePunctuation(s)
	s = smartQuotes(s)
	if strings.ContainsAny(s, "‘’") && strings.Contains(s, "@") {
		s = straightenEmailQuotes(s)
	}
	return spacedDashes(s)
}

// straightenEmailQuotes puts straight apostrophes back in words that look like email
// addresses (o'neil@example.com). As in the reference, a word only counts when a space
// before it was not already taken as the end of the previous address, or it starts a line.
func straightenEmailQuotes(s string) string {
	var b strings.Builder
	i := 0
	consumed := -1
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isSpace(r) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		end := i
		for end < len(s) {
			r, n := utf8.DecodeRuneInString(s[end:])
			if isSpace(r) {
				break
			}
			end += n
		}
		word := s[i:end]
		prev, psize := utf8.DecodeLastRuneInString(s[:i])
		startable := i == 0 || prev == '\n' || (isSpace(prev) && i-psize != consumed)
		if startable && len(word) >= 3 && strings.Contains(word[1:len(word)-1], "@") {
			word = strings.NewReplacer("‘", "'", "’", "'").Replace(word)
			consumed = end
		}
		b.WriteString(word)
		i = end
	}
	return b.String()
}

// spacedDashes turns a hyphen or dash (up to three) with spaces on both sides into a
// spaced en dash, the GOV.UK style for ranges and asides.
func spacedDashes(s string) string {
	if !strings.ContainsAny(s, "-–—") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isSpace(r) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		j := skipSpace(s, i)
		k, dashes := j, 0
		for k < len(s) && dashes <= 3 {
			d, n := utf8.DecodeRuneInString(s[k:])
			if d != '-' && d != '–' && d != '—' {
				break
			}
			k += n
			dashes++
		}
		if dashes >= 1 && dashes <= 3 && k < len(s) && spaceAt(s, k) {
			b.WriteString(" – ")
			i = skipSpace(s, k)
			continue
		}
		b.WriteString(s[i:j])
		i = j
	}
	return b.String()
}

// unlinkGOVUK puts a zero-width space inside "GOV.UK" so that email clients do not turn
// the name of the website into a link, unless it is written as part of an address.
func unlinkGOVUK(s string) string {
	if !strings.Contains(strings.ToLower(s), "gov.") {
		return s
	}
	idx := reGOVUK.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		if m[1] < len(s) && strings.IndexByte("/?#", s[m[1]]) >= 0 {
			continue
		}
		b.WriteString(s[last:m[7]])
		b.WriteString(".\u200b")
		b.WriteString(s[m[8]:m[9]])
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// stripUnsupported removes characters that some email clients draw as boxes.
func stripUnsupported(s string) string {
	return strings.NewReplacer("\u2028", "", "\u3164", "").Replace(s)
}

// smartQuotes curls quotes in text, leaving tags and the contents of skipped elements
// alone. A token that is just a quote is curled by looking at the previous text's last
// character.
func smartQuotes(s string) string {
	if !strings.ContainsAny(s, `'"`) {
		return s
	}
	var b strings.Builder
	depth := 0
	prevLast := ""
	for s != "" {
		lt := strings.IndexByte(s, '<')
		gt := -1
		if lt >= 0 {
			gt = strings.IndexByte(s[lt:], '>')
		}
		text, tag := s, ""
		if lt >= 0 && gt >= 0 {
			text, tag = s[:lt], s[lt:lt+gt+1]
			s = s[lt+gt+1:]
		} else {
			s = ""
		}
		if text != "" {
			_, size := utf8.DecodeLastRuneInString(text)
			last := text[len(text)-size:]
			if depth == 0 {
				text = curlToken(smartEscapes.Replace(text), prevLast)
			}
			prevLast = last
			b.WriteString(text)
		}
		if tag != "" {
			b.WriteString(tag)
			depth = skipDepth(tag, depth)
		}
	}
	return b.String()
}

func skipDepth(tag string, depth int) int {
	name := strings.ToLower(strings.TrimPrefix(tag, "<"))
	closing := strings.HasPrefix(name, "/")
	name = strings.TrimPrefix(name, "/")
	for _, t := range skippedTags {
		if strings.HasPrefix(name, t) {
			if closing {
				return max(depth-1, 0)
			}
			return depth + 1
		}
	}
	return depth
}

func curlToken(t, prevLast string) string {
	if t == "'" || t == `"` {
		closing := prevLast != "" && !isSpace([]rune(prevLast)[0])
		switch {
		case t == "'" && closing:
			return "’"
		case t == "'":
			return "‘"
		case closing:
			return "”"
		}
		return "“"
	}
	if !strings.ContainsAny(t, `'"`) {
		return t
	}
	return curlQuotes(t)
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// runeAt decodes the rune at byte i of s, or -1 past the end.
func runeAt(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(s[i:])
}

func wordAt(s string, i int) bool {
	r, _ := runeAt(s, i)
	return r >= 0 && isWordRune(r)
}

func spaceAt(s string, i int) bool {
	r, _ := runeAt(s, i)
	return r >= 0 && isSpace(r)
}
