package content

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// This file matches the blocks that span several lines: lists and fenced code.
//
// Lists are where template writers most often rely on the reference parser's exact
// behaviour: a bullet needs no space after it ("*one"), • counts as a bullet, items
// separated by blank lines become "loose" (each item's text is a paragraph), and a list
// continues across a blank line only when the next line is another bullet.

// bulletAt returns the length in bytes of the bullet at the start of s: •, * or -, or
// digits followed by a full stop.
func bulletAt(s string) int {
	if s == "" {
		return 0
	}
	switch {
	case s[0] == '*' || s[0] == '-':
		return 1
	case strings.HasPrefix(s, "•"):
		return len("•")
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && s[i] == '.' {
		return i + 1
	}
	return 0
}

func leadingSpaces(s string) int {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

var reRuleAhead = regexp.MustCompile(`^(?:[-*_] *){3,}$`)

// matchListBlock finds where a list starting at text ends: before a rule or a link
// definition, at a blank line not followed by an indented line or another bullet, or at
// the end of the text.
func matchListBlock(text string) (int, bool) {
	indent := leadingSpaces(text)
	b := bulletAt(text[indent:])
	if b == 0 {
		return 0, false
	}
	bulletEnd := indent + b
	if bulletEnd >= len(text) {
		return 0, false
	}
	_, first := utf8.DecodeRuneInString(text[bulletEnd:])
	pad := text[:indent]
	// Past contentEnd only whitespace remains, which ends the list at the end of the text.
	contentEnd := len(strings.TrimRightFunc(text, isSpace))
	for e := bulletEnd + first; e <= len(text); e++ {
		if e < len(text) && text[e] == '\n' {
			n := 0
			for e+n < len(text) && text[e+n] == '\n' {
				n++
			}
			rest := firstLine(text[e+n:])
			if reRuleAhead.MatchString(rest) || (strings.HasPrefix(rest, pad) && reRuleAhead.MatchString(rest[len(pad):])) ||
				reDefLink.MatchString(rest) || reNoteStart.MatchString(rest) {
				return e + n, true
			}
			for k := n; k >= 2; k-- {
				q := text[e+k:]
				if q != "" && q[0] == ' ' {
					continue
				}
				if strings.HasPrefix(q, pad) {
					if bl := bulletAt(q[len(pad):]); bl > 0 && strings.HasPrefix(q[len(pad)+bl:], " ") {
						continue
					}
				}
				return e + n, true
			}
		}
		if e >= contentEnd {
			return len(text), true
		}
	}
	return 0, false
}

// list splits a list block into items. An item runs from its bullet line up to the next
// line that starts with a bullet at the same indentation.
func (lx *blockLexer) list(blockText string) block {
	lines := strings.Split(blockText, "\n")
	var raw []string
	for i := 0; i < len(lines); {
		ind := leadingSpaces(lines[i])
		if bulletAt(lines[i][ind:]) == 0 {
			i++
			continue
		}
		pad := lines[i][:ind]
		j := i + 1
		for j < len(lines) && !(strings.HasPrefix(lines[j], pad) && bulletAt(lines[j][len(pad):]) > 0) {
			j++
		}
		raw = append(raw, strings.Join(lines[i:j], "\n"))
		i = j
	}
	first := strings.TrimLeft(blockText, " ")
	lb := block{kind: blockList, ordered: strings.Contains(first[:bulletAt(first)], ".")}
	next := false
	for i, item := range raw {
		width := utf8.RuneCountInString(item)
		ind := leadingSpaces(item)
		item = item[ind+bulletAt(item[ind:]):]
		if strings.Contains(item, "\n ") {
			item = outdent(item, width-utf8.RuneCountInString(item))
		}
		loose := next
		if !loose {
			if _, after, ok := strings.Cut(item, "\n\n"); ok && reAnyNonSpace.MatchString(after) {
				loose = true
			}
		}
		if i != len(raw)-1 && item != "" {
			next = item[len(item)-1] == '\n'
			loose = loose || next
		}
		lb.items = append(lb.items, listItem{loose: loose, blocks: lx.parse(item, true)})
	}
	return lb
}

// outdent removes up to width leading spaces from every line, so an item's continuation
// lines line up with its first line.
func outdent(s string, width int) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		n := min(leadingSpaces(line), width)
		lines[i] = line[n:]
	}
	return strings.Join(lines, "\n")
}

// matchFence matches a ``` or ~~~ fenced block and returns its length and content.
func matchFence(text string) (int, string, bool) {
	i := 0
	for i < len(text) && text[i] == ' ' {
		i++
	}
	if i >= len(text) || (text[i] != '`' && text[i] != '~') {
		return 0, "", false
	}
	j := i
	for j < len(text) && text[j] == text[i] {
		j++
	}
	if j-i < 3 {
		return 0, "", false
	}
	fence := text[i:j]
	nl := strings.IndexByte(text[j:], '\n')
	if nl < 0 {
		return 0, "", false
	}
	info := strings.Trim(text[j:j+nl], " ")
	if strings.ContainsFunc(info, isSpace) {
		return 0, "", false
	}
	start := j + nl + 1
	if start >= len(text) {
		return 0, "", false
	}
	_, first := utf8.DecodeRuneInString(text[start:])
	for k := start + first; k <= len(text); {
		idx := strings.Index(text[k:], fence)
		if idx < 0 {
			return 0, "", false
		}
		at := k + idx
		after := at + len(fence)
		for after < len(text) && text[after] == ' ' {
			after++
		}
		if after == len(text) || text[after] == '\n' {
			for after < len(text) && text[after] == '\n' {
				after++
			}
			code := strings.TrimRightFunc(text[start:at], isSpace)
			if code == "" {
				code = text[start : start+first]
			}
			return after, code, true
		}
		k = at + 1
	}
	return 0, "", false
}

// firstLine is text up to its first newline.
func firstLine(text string) string {
	if before, _, ok := strings.Cut(text, "\n"); ok {
		return before
	}
	return text
}

// firstLines is the first n lines of text, without the final newline.
func firstLines(text string, n int) string {
	end := 0
	for range n {
		i := strings.IndexByte(text[end:], '\n')
		if i < 0 {
			return text
		}
		end += i + 1
	}
	return text[:end-1]
}

// skipNewlines returns the position after any newlines at text[i:].
func skipNewlines(text string, i int) int {
	for i < len(text) && text[i] == '\n' {
		i++
	}
	return i
}
