package content

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// curlQuotes applies the SmartyPants quote rules to one run of text. Each rule is a
// left-to-right pass in which a match consumes its characters, so a character used as
// context by one match cannot start the next; that is what decides the curl of runs of
// quotes such as ”.
func curlQuotes(t string) string {
	t = quotePair(t, `"'`, "“‘")
	t = quotePair(t, `'"`, "‘“")
	t = decadeApostrophes(t)
	t = pass(t, func(s string, i int) (int, string) { return openingQuote(s, i, '\'', "‘") })
	t = pass(t, func(s string, i int) (int, string) {
		c, n := runeAt(s, i)
		if !closeContext(c) || i+n >= len(s) || s[i+n] != '\'' {
			return 0, ""
		}
		after := i + n + 1
		if spaceAt(s, after) || digitAt(s, after) || (after < len(s) && s[after] == 's' && !wordAt(s, after+1)) {
			return 0, ""
		}
		return n + 1, s[i:i+n] + "’"
	})
	t = pass(t, func(s string, i int) (int, string) {
		c, n := runeAt(s, i)
		if !closeContext(c) || i+n >= len(s) || s[i+n] != '\'' {
			return 0, ""
		}
		after := i + n + 1
		if r, size := runeAt(s, after); r >= 0 && isSpace(r) {
			return n + 1 + size, s[i:i+n] + "’" + s[after:after+size]
		}
		if after < len(s) && s[after] == 's' && !wordAt(s, after+1) {
			return n + 2, s[i:i+n] + "’s"
		}
		return 0, ""
	})
	t = strings.ReplaceAll(t, "'", "‘")
	t = pass(t, func(s string, i int) (int, string) { return openingQuote(s, i, '"', "“") })
	t = pass(t, func(s string, i int) (int, string) {
		if s[i] == '"' && spaceAt(s, i+1) {
			return 1, "”"
		}
		return 0, ""
	})
	t = pass(t, func(s string, i int) (int, string) {
		c, n := runeAt(s, i)
		if closeContext(c) && i+n < len(s) && s[i+n] == '"' {
			return n + 1, s[i:i+n] + "”"
		}
		return 0, ""
	})
	return strings.ReplaceAll(t, `"`, "“")
}

// quotePair curls a double-then-single (or single-then-double) pair of quotes that
// opens a quotation within a quotation, when a word follows.
func quotePair(t, pair, curled string) string {
	return pass(t, func(s string, i int) (int, string) {
		if strings.HasPrefix(s[i:], pair) && wordAt(s, i+2) {
			return 2, curled
		}
		return 0, ""
	})
}

// decadeApostrophes turns the quote in a word followed by two digits and "s" into an
// apostrophe. As in the reference, it needs a word character before the quote, so
// "the '80s" is left to the later rules.
func decadeApostrophes(t string) string {
	return pass(t, func(s string, i int) (int, string) {
		if s[i] != '\'' || i == 0 {
			return 0, ""
		}
		if prev, _ := utf8.DecodeLastRuneInString(s[:i]); !isWordRune(prev) {
			return 0, ""
		}
		j := i + 1
		for range 2 {
			r, n := runeAt(s, j)
			if r < 0 || !isDigitRune(r) {
				return 0, ""
			}
			j += n
		}
		if j < len(s) && s[j] == 's' {
			return 1, "’"
		}
		return 0, ""
	})
}

// openingContexts are what may come before an opening quote, besides whitespace.
var openingContexts = []string{"&nbsp;", "--", "&mdash;", "&ndash;", "&#8211;", "&#8212;", "&#x2013;", "&#x2014;"}

func openingQuote(s string, i int, quote byte, curled string) (int, string) {
	ctx := 0
	if r, n := runeAt(s, i); r >= 0 && isSpace(r) {
		ctx = n
	} else {
		for _, c := range openingContexts {
			if strings.HasPrefix(s[i:], c) {
				ctx = len(c)
				break
			}
		}
	}
	if ctx == 0 || i+ctx >= len(s) || s[i+ctx] != quote || !wordAt(s, i+ctx+1) {
		return 0, ""
	}
	return ctx + 1, s[i:i+ctx] + curled
}

// closeContext is any character after which a quote closes: not whitespace and not an
// opening bracket or hyphen.
func closeContext(r rune) bool {
	return r >= 0 && !strings.ContainsRune(" \t\r\n[{(-", r)
}

func isDigitRune(r rune) bool { return unicode.IsDigit(r) }

func digitAt(s string, i int) bool {
	r, _ := runeAt(s, i)
	return r >= 0 && isDigitRune(r)
}

// pass runs one rule over s: at each position match returns how many bytes it consumes
// and their replacement, or 0 to move on by one character. Every rule's match has a quote
// within its first nine bytes, so text far from any quote is copied without trying.
func pass(s string, match func(s string, i int) (int, string)) string {
	if !strings.ContainsAny(s, `'"`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		q := strings.IndexAny(s[i:], `'"`)
		if q < 0 {
			b.WriteString(s[i:])
			break
		}
		q += i
		start := max(i, q-8)
		for start > i && !utf8.RuneStart(s[start]) {
			start--
		}
		b.WriteString(s[i:start])
		for i = start; i <= q && i < len(s); {
			if n, repl := match(s, i); n > 0 {
				b.WriteString(repl)
				i += n
				continue
			}
			_, size := runeAt(s, i)
			b.WriteString(s[i : i+size])
			i += size
		}
	}
	return b.String()
}
