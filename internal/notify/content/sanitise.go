package content

import (
	"strings"
)

// Sanitise makes a personalisation value safe to show as plain text in an email, for the
// keys a request lists in sanitise_content_for. Anything that looks like a web address
// is removed, except a bare domain such as "example.com", which is broken up
// ("example. com") so no mail client links it; then every character markdown gives a
// meaning to is backslash-escaped, so the value cannot add links, lists or headings.
func Sanitise(value string) string {
	value = replaceURLs(value)
	if !strings.ContainsAny(value, markdownSpecials) {
		return value
	}
	var b strings.Builder
	b.Grow(len(value) + 8)
	for _, r := range value {
		if strings.ContainsRune(markdownSpecials, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// markdownSpecials are the characters Sanitise escapes.
const markdownSpecials = "`*_()\\{}[]<>#+-.!|"

// replaceURLs finds web-address-like text the way Notify's URL pattern does: an optional
// http(s)://, one or more dot-terminated labels, a 2 to 63 letter top-level domain that
// ends a word and is not followed by "@", then an optional path, query or fragment. It
// must not start right after "@" or "." (so the domain of an email address is skipped).
func replaceURLs(value string) string {
	if !strings.Contains(value, ".") {
		return value
	}
	s := []rune(value)
	var b strings.Builder
	for i := 0; i < len(s); {
		if end := matchURL(s, i); end > i {
			b.WriteString(sanitiseURL(string(s[i:end])))
			i = end
			continue
		}
		b.WriteRune(s[i])
		i++
	}
	return b.String()
}

// sanitiseURL keeps only what could be an accidental link (letters, digits, dots and
// hyphens), spaced out so it no longer reads as one.
func sanitiseURL(url string) string {
	for _, r := range url {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return ""
		}
	}
	return strings.ReplaceAll(url, ".", ". ")
}

func wordRuneAt(s []rune, i int) bool {
	return i >= 0 && i < len(s) && isWordRune(s[i])
}

func matchURL(s []rune, i int) int {
	if wordRuneAt(s, i-1) == wordRuneAt(s, i) {
		return -1
	}
	if i > 0 && (s[i-1] == '@' || s[i-1] == '.') {
		return -1
	}
	for _, scheme := range []string{"https://", "http://"} {
		if hasRunePrefixFold(s[i:], scheme) {
			if end := matchDomain(s, i+len(scheme)); end > 0 {
				return end
			}
		}
	}
	return matchDomain(s, i)
}

func hasRunePrefixFold(s []rune, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	return strings.EqualFold(string(s[:len(prefix)]), prefix)
}

func isLabelRune(r rune) bool { return r == '-' || isWordRune(r) }

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// matchDomain matches labels, top-level domain and optional path from p, preferring the
// most labels and the longest top-level domain, and returns the end or -1.
func matchDomain(s []rune, p int) int {
	var ends []int
	q := p
	for {
		k := q
		for k < len(s) && isLabelRune(s[k]) {
			k++
		}
		if k == q || k >= len(s) || s[k] != '.' {
			break
		}
		q = k + 1
		ends = append(ends, q)
	}
	for e := len(ends) - 1; e >= 0; e-- {
		q := ends[e]
		letters := 0
		for q+letters < len(s) && letters < 63 && isASCIILetter(s[q+letters]) {
			letters++
		}
		for t := letters; t >= 2; t-- {
			after := q + t
			if after < len(s) && (s[after] == '@' || isWordRune(s[after])) {
				continue
			}
			if after < len(s) && strings.ContainsRune("/?#", s[after]) {
				after++
				for after < len(s) && s[after] != '<' && !isSpace(s[after]) {
					after++
				}
			}
			return after
		}
	}
	return -1
}
