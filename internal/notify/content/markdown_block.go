package content

import (
	"regexp"
	"strings"
)

// The email markdown follows the dialect GOV.UK Notify's template editors document: a
// small, forgiving subset where lists may start with •, * or -, inset text starts with ^,
// and emphasis, code spans and raw HTML are not formatting. Block rules are tried in a
// fixed order at the start of the remaining text, as the reference parser does, so the
// same template splits into the same blocks here.

// pySpace is the character class of Unicode whitespace as the reference's regular
// expressions see it; Go's \s alone is ASCII-only.
const pySpace = `\s\x{0b}\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`

var (
	reHRule        = regexp.MustCompile(`^ {0,3}[-*_](?: *[-*_]){2,} *$`)
	reBlockCode    = regexp.MustCompile(`^(?: {4}[^\n]+\n*)+`)
	reCodeIndent   = regexp.MustCompile(`(?m)^ {4}`)
	reHeading      = regexp.MustCompile(`^ *(#{1,6}) *([^\n]+?) *#* *$`)
	reNPTable      = regexp.MustCompile(`^ *[^` + pySpace + `\n].*\|.*\n *[-:]+ *\|[-| :]*\n(?:.*\|.*(?:\n|$))*\n*`)
	reLHeading     = regexp.MustCompile(`^([^\n]+)\n *(=|-)+ *$`)
	reInset        = regexp.MustCompile(`^(?: *\^[^\n]+(?:\n[^\n]+)*\n*)+`)
	reInsetMarker  = regexp.MustCompile(`(?m)^ *\^ ?`)
	reDefLink      = regexp.MustCompile(`^ *\[([^^\]]+)\]: *<?([^` + pySpace + `>]+)>?(?: +["(]([^\n]+)[")])? *$`)
	reNoteStart    = regexp.MustCompile(`^\[\^[^\]]+\]:`)
	reDefFootnote  = regexp.MustCompile(`^\[\^([^\]]+)\]: *(?:[^\n]*(?:\n+|$)(?: +[^\n]*(?:\n+|$))*)`)
	reTable        = regexp.MustCompile(`^ *\|.+\n *\| *[-:]+[-| :]*\n(?: *\|.*(?:\n|$))*\n*`)
	reSpaceOnly    = regexp.MustCompile(`(?m)^ +$`)
	reAnyNonSpace  = regexp.MustCompile(`[^` + pySpace + `]`)
	reOldListStart = regexp.MustCompile(`^ *(?:[*+-]|\d+\.) [\s\S]`)
	reOldQuote     = regexp.MustCompile(`^ *>[^\n]`)
)

type blockKind int

const (
	blockNewline blockKind = iota
	blockParagraph
	blockText
	blockHeading
	blockRule
	blockCode
	blockInset
	blockList
)

// block is one parsed block; lists hold their items, insets their inner blocks.
type block struct {
	kind     blockKind
	text     string
	level    int
	ordered  bool
	items    []listItem
	children []block
}

type listItem struct {
	loose  bool
	blocks []block
}

// blockLexer also collects [key]: url definitions, which links anywhere may refer to.
type blockLexer struct {
	links map[string]linkDef
	notes map[string]bool
}

type linkDef struct{ url, title string }

// preprocess normalises line endings and tabs the way the reference parser does before
// any rule runs, so indentation is measured in spaces.
func preprocess(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if strings.Contains(s, "\t") {
		var b strings.Builder
		col := 0
		for _, r := range s {
			switch r {
			case '\t':
				n := 4 - col%4
				b.WriteString(strings.Repeat(" ", n))
				col += n
				continue
			case '\n':
				col = 0
			default:
				col++
			}
			b.WriteRune(r)
		}
		s = b.String()
	}
	s = strings.ReplaceAll(s, "\u2424", "\n")
	return reSpaceOnly.ReplaceAllString(s, "")
}

func (lx *blockLexer) parse(text string, inList bool) []block {
	text = strings.TrimRight(text, "\n")
	var out []block
	for text != "" {
		n := lx.next(text, inList, &out)
		text = text[n:]
	}
	return out
}

// next applies the first rule that matches at the start of text and returns how many
// bytes it consumed. List items use a shorter rule list in which lines are plain text.
func (lx *blockLexer) next(text string, inList bool, out *[]block) int {
	// Most rules look at one or two lines; matching only those lines keeps the cost of
	// each attempt independent of how much text follows.
	line := firstLine(text)
	lead := strings.TrimLeft(line, " ")
	if text[0] == '\n' {
		n := skipNewlines(text, 0)
		if n > 1 {
			*out = append(*out, block{kind: blockNewline})
		}
		return n
	}
	rule := func() int {
		if lead != "" && strings.IndexByte("-*_", lead[0]) >= 0 && reHRule.MatchString(line) {
			*out = append(*out, block{kind: blockRule})
			return skipNewlines(text, len(line))
		}
		return 0
	}
	if !inList {
		if n := rule(); n > 0 {
			return n
		}
	}
	if strings.HasPrefix(text, "    ") {
		if m := reBlockCode.FindString(text); m != "" {
			*out = append(*out, block{kind: blockCode, text: reCodeIndent.ReplaceAllString(m, "")})
			return len(m)
		}
	}
	if n, code, ok := matchFence(text); ok {
		*out = append(*out, block{kind: blockCode, text: code})
		return n
	}
	if !inList {
		if strings.HasPrefix(lead, "#") {
			if m := reHeading.FindStringSubmatch(line); m != nil {
				*out = append(*out, block{kind: blockHeading, level: len(m[1]), text: m[2]})
				return skipNewlines(text, len(line))
			}
		}
		if strings.Contains(line, "|") {
			if m := reNPTable.FindString(text); m != "" {
				return len(m)
			}
		}
	}
	if two := firstLines(text, 2); len(two) > len(line) {
		if m := reLHeading.FindStringSubmatch(two); m != nil {
			level := 2
			if m[2] == "=" {
				level = 1
			}
			*out = append(*out, block{kind: blockHeading, level: level, text: m[1]})
			return skipNewlines(text, len(two))
		}
	}
	if inList {
		if n := rule(); n > 0 {
			return n
		}
	}
	if strings.HasPrefix(lead, "^") {
		if m := reInset.FindString(text); m != "" {
			inner := reInsetMarker.ReplaceAllString(m, "")
			*out = append(*out, block{kind: blockInset, children: lx.parse(inner, false)})
			return len(m)
		}
	}
	if n, ok := matchListBlock(text); ok {
		*out = append(*out, lx.list(text[:n]))
		return n
	}
	if inList {
		*out = append(*out, block{kind: blockText, text: line})
		return max(len(line), 1)
	}
	if strings.HasPrefix(lead, "[") {
		if m := reDefLink.FindStringSubmatch(line); m != nil {
			key := linkKey(m[1])
			if _, dup := lx.links[key]; !dup {
				lx.links[key] = linkDef{url: m[2], title: m[3]}
			}
			return skipNewlines(text, len(line))
		}
	}
	if strings.HasPrefix(text, "[^") {
		if m := reDefFootnote.FindStringSubmatch(text); m != nil {
			lx.notes[linkKey(m[1])] = true
			return len(m[0])
		}
	}
	if strings.HasPrefix(lead, "|") {
		if m := reTable.FindString(text); m != "" {
			return len(m)
		}
	}
	n, para := matchParagraph(text)
	*out = append(*out, block{kind: blockParagraph, text: para})
	return n
}

// linkKey is how link and footnote labels are compared: case- and spacing-insensitive.
func linkKey(label string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(label), isSpace), " ")
}

// matchParagraph takes lines until a blank line or a line that starts another kind of
// block. Like the reference, lists only interrupt a paragraph when the bullet is followed
// by a space, and inset text never does.
func matchParagraph(text string) (int, string) {
	end := 0
	for {
		nl := strings.IndexByte(text[end:], '\n')
		if nl < 0 {
			return len(text), text
		}
		lineEnd := end + nl
		next := text[lineEnd+1:]
		if next == "" || next[0] == '\n' || interruptsParagraph(next) {
			para := text[:lineEnd]
			n := lineEnd
			for n < len(text) && text[n] == '\n' {
				n++
			}
			return n, para
		}
		end = lineEnd + 1
	}
}

func interruptsParagraph(s string) bool {
	line := firstLine(s)
	first := strings.TrimLeft(line, " ")
	if first == "" || strings.IndexByte("`~*+-_#>[0123456789", first[0]) < 0 {
		// Only an underlined heading can start with anything else.
		next := strings.TrimLeft(firstLine(s[min(len(s), len(line)+1):]), " ")
		return next != "" && (next[0] == '=' || next[0] == '-') && reLHeading.MatchString(firstLines(s, 2))
	}
	if _, _, ok := matchFence(s); ok {
		return true
	}
	return reOldListStart.MatchString(s) || reHRule.MatchString(line) || reHeading.MatchString(line) ||
		reLHeading.MatchString(firstLines(s, 2)) || reOldQuote.MatchString(line) || reDefLink.MatchString(line) ||
		reNoteStart.MatchString(line)
}
