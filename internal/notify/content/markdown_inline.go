package content

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Inline rules, tried in order at each position: backslash escapes, bare http(s) URLs,
// footnote references, [text](url "title") links, reference links, hard line breaks and
// plain text. Emphasis, code spans and strikethrough are deliberately absent: Notify shows
// *, _, ` and ~ as typed.

var (
	reURL      = regexp.MustCompile(`^https?://[^` + pySpace + `<]+[^<.,:"')\]` + pySpace + `]`)
	reFootRef  = regexp.MustCompile(`^\[\^([^\]]+)\]`)
	escapables = "\\`*{}[]()#+-.!_>~|"
)

// matchURLAt returns the bare web address at the start of text, or "".
func matchURLAt(text string) string {
	if !strings.HasPrefix(text, "http") {
		return ""
	}
	return reURL.FindString(text)
}

// Limits on how far a link's label and destination are searched for, so that text full of
// unmatched brackets costs time in proportion to its length.
const (
	maxLinkLabel = 1000
	maxLinkDest  = 4096
)

type inlineLexer struct {
	r      renderer
	links  map[string]linkDef
	notes  map[string]bool
	inLink bool
}

func (il *inlineLexer) render(text string) string {
	text = strings.TrimRight(text, "\n")
	// Past contentEnd there is only whitespace, which a line break may not precede.
	contentEnd := len(strings.TrimRightFunc(text, isSpace))
	var b strings.Builder
	for pos := 0; pos < len(text); {
		out, n := il.next(text[pos:], contentEnd-pos)
		b.WriteString(out)
		pos += n
	}
	return b.String()
}

// next renders the token at the start of text; content says how many bytes remain
// before trailing whitespace.
func (il *inlineLexer) next(text string, content int) (string, int) {
	if text[0] == '\\' && len(text) > 1 && strings.IndexByte(escapables, text[1]) >= 0 {
		return il.r.text(text[1:2]), 2
	}
	if m := matchURLAt(text); m != "" {
		if il.inLink {
			return il.r.text(m), len(m)
		}
		return il.r.autolink(m), len(m)
	}
	if text[0] == '[' || text[0] == '!' {
		if out, n, ok := il.bracket(text); ok {
			return out, n
		}
	}
	if text[0] == ' ' || text[0] == '\n' {
		j := 0
		for j < len(text) && text[j] == ' ' {
			j++
		}
		if j < len(text) && text[j] == '\n' && j+1 < content {
			return il.r.linebreak(), j + 1
		}
	}
	n := textRun(text)
	return il.r.text(text[:n]), n
}

// bracket handles everything that starts with [ or ![ : footnote references (which Notify
// drops), inline links, reference links and images (which emails never show).
func (il *inlineLexer) bracket(text string) (string, int, bool) {
	// No label is longer than maxLinkLabel, so the patterns need look no further.
	head := text[:min(len(text), maxLinkLabel+2)]
	if m := reFootRef.FindStringSubmatch(head); m != nil {
		key := linkKey(m[1])
		if il.notes[key] {
			il.notes[key] = false
			return "", len(m[0]), true
		}
	}
	// Every kind of link needs a closing bracket near by; most stray brackets have none.
	start := 0
	if text[0] == '!' {
		start = 1
	}
	if start >= len(text) || text[start] != '[' || !strings.Contains(head, "]") {
		return "", 0, false
	}
	ends := labelEnds(text[start:])
	if strings.Contains(head, "](") {
		if n, label, url, title, ok := matchLink(text, ends); ok {
			return il.link(start == 1, label, url, title), n, true
		}
	}
	if n, label, ref, ok := matchRefLink(text, ends); ok {
		key := linkKey(ref)
		if ref == "" {
			key = linkKey(label)
		}
		if def, found := il.links[key]; found {
			return il.link(start == 1, label, def.url, def.title), n, true
		}
	}
	if n, label, ok := matchNoLink(head); ok {
		if def, found := il.links[linkKey(label)]; found {
			return il.link(start == 1, label, def.url, def.title), n, true
		}
	}
	return "", 0, false
}

// link renders a link's label as inline text (where bare URLs stay text) inside the
// link. Images render as nothing: emails from Notify never embed them.
func (il *inlineLexer) link(image bool, label, url, title string) string {
	if image {
		return ""
	}
	il.inLink = true
	inner := il.render(label)
	il.inLink = false
	return il.r.link(url, title, inner)
}

// textRun is the length of plain text before the next character that could start
// another rule, taking at least one character so the lexer always advances.
func textRun(text string) int {
	_, i := utf8.DecodeRuneInString(text)
	for i < len(text) {
		switch c := text[i]; c {
		case '\\', '<', '!', '[', '_', '*', '`', '~', '\n':
			return i
		case ' ':
			j := i
			for j < len(text) && text[j] == ' ' {
				j++
			}
			if j == len(text) || text[j] == '\n' {
				return i
			}
			i = j
			continue
		case 'h':
			if strings.HasPrefix(text[i:], "http://") || strings.HasPrefix(text[i:], "https://") {
				return i
			}
		}
		i++
	}
	return i
}

// labelEnds lists, longest first, the positions where a link label starting after the
// [ at text[0] may end. Brackets nest one level; a ] only stays inside the label when
// another ] follows before any [.
func labelEnds(text string) []int {
	var ends []int
	limit := min(len(text), maxLinkLabel)
	i := 1
	stopped := false
	for i < limit && !stopped {
		ends = append(ends, i)
		switch text[i] {
		case '[':
			j := strings.IndexAny(text[i+1:limit], "]^")
			if j < 0 || text[i+1+j] == '^' {
				stopped = true
				continue
			}
			i += j + 2
		case ']':
			j := strings.IndexAny(text[i+1:min(len(text), i+1+maxLinkLabel)], "[]")
			if j < 0 || text[i+1+j] == '[' {
				stopped = true
				continue
			}
			i++
		default:
			i++
		}
	}
	if !stopped {
		ends = append(ends, i)
	}
	for l, r := 0, len(ends)-1; l < r; l, r = l+1, r-1 {
		ends[l], ends[r] = ends[r], ends[l]
	}
	return ends
}

// matchLink matches [label](url "title") or ![alt](src) at the start of text, given
// where its label may end.
func matchLink(text string, ends []int) (n int, label, url, title string, ok bool) {
	start := 0
	if text[0] == '!' {
		start = 1
	}
	if start >= len(text) || text[start] != '[' {
		return 0, "", "", "", false
	}
	for _, end := range ends {
		p := start + end
		if !strings.HasPrefix(text[p:], "](") {
			continue
		}
		if n, url, title, ok := matchDestination(text, p+2); ok {
			return n, text[start+1 : p], url, title, true
		}
	}
	return 0, "", "", "", false
}

// matchRefLink matches [label][ref] at the start of text, given where its label may end.
func matchRefLink(text string, ends []int) (n int, label, ref string, ok bool) {
	start := 0
	if text[0] == '!' {
		start = 1
	}
	if start >= len(text) || text[start] != '[' {
		return 0, "", "", false
	}
	for _, end := range ends {
		p := start + end
		if p >= len(text) || text[p] != ']' {
			continue
		}
		q := p + 1
		for q < len(text) && isSpaceByte(text[q]) {
			q++
		}
		if q >= len(text) || text[q] != '[' {
			continue
		}
		closeAt := strings.IndexAny(text[q+1:min(len(text), q+1+maxLinkLabel)], "]^")
		if closeAt < 0 || text[q+1+closeAt] == '^' {
			continue
		}
		return q + 2 + closeAt, text[start+1 : p], text[q+1 : q+1+closeAt], true
	}
	return 0, "", "", false
}

// matchNoLink matches a bare [label] (or ![label]), which links when the label has a
// definition. Brackets inside the label must pair up one level deep.
func matchNoLink(text string) (int, string, bool) {
	start := 0
	if text[0] == '!' {
		start = 1
	}
	if start >= len(text) || text[start] != '[' {
		return 0, "", false
	}
	for i := start + 1; i < len(text); {
		switch text[i] {
		case ']':
			return i + 1, text[start+1 : i], true
		case '[':
			j := strings.IndexByte(text[i+1:], ']')
			if j < 0 {
				return 0, "", false
			}
			i += j + 2
		default:
			i++
		}
	}
	return 0, "", false
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
