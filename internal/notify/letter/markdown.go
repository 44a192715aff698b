package letter

import (
	"regexp"
	"strconv"
	"strings"
)

// The body of a letter is the markdown subset GOV.UK Notify prints (notifications-utils
// markdown.py, NotifyLetterMarkdownPreviewRenderer on its patched mistune 0.8 grammar). Its
// quirks are kept on purpose, so that a template moved from Notify prints the same:
//
//   - "# text" (also "#text") is the only heading; "## text" and deeper print as paragraphs.
//   - "***", "---" or "___" on a line of its own starts a new page, not a rule.
//   - bullets are "*", "-" or "•", numbers "1."; no space is needed after either, and a list
//     only starts at the beginning of a block, so a bullet line straight after a paragraph
//     line stays part of that paragraph.
//   - every line break inside a paragraph is kept (mistune's hard_wrap).
//   - "^ text" inset text prints as ordinary text; tables are dropped; bold, italics and code
//     spans are not formatting and print as typed.

type blockKind int

const (
	blockParagraph blockKind = iota
	blockHeading
	blockList
	blockPageBreak
)

// block is one laid-out unit of the body. Paragraphs and headings carry their source lines
// (each a forced line break); lists carry items.
type block struct {
	kind  blockKind
	lines []string
	items []listItem
}

// listItem is one entry of a list; depth counts nesting from 0, marker is "•" or "N.".
type listItem struct {
	depth  int
	marker string
	lines  []string
	loose  bool // followed by a blank line: upstream wraps it in a paragraph, so it gets space after
}

var (
	hruleLine     = regexp.MustCompile(`^ {0,3}[-*_](?: *[-*_]){2,} *$`)
	atxHeading    = regexp.MustCompile(`^ *(#{1,6}) *([^\n]+?) *#* *$`)
	setextLine    = regexp.MustCompile(`^ *[=-]+ *$`)
	bulletPrefix  = regexp.MustCompile(`^( *)([•*-]|\d+\.)(.*)$`)
	spacedBullet  = regexp.MustCompile(`^ *(?:[•*-]|\d+\.) `)
	quotePrefix   = regexp.MustCompile(`^ *\^ ?`)
	tableDivider  = regexp.MustCompile(`^ *\|? *:?-+:? *(\| *:?-+:? *)*\|? *$`)
	leadingSpaces = regexp.MustCompile(`^ *`)
)

// parseBody splits a letter body into blocks. It never fails: anything it does not recognise
// is printed as a paragraph, which is what the recipient would have seen upstream too.
func parseBody(body string) []block {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	body = strings.ReplaceAll(body, "\t", "    ")
	return parseBlocks(strings.Split(body, "\n"))
}

func parseBlocks(lines []string) []block {
	var blocks []block
	for i := 0; i < len(lines); {
		line := lines[i]
		switch {
		case isBlank(line):
			i++
		case hruleLine.MatchString(line):
			blocks = append(blocks, block{kind: blockPageBreak})
			i++
		case atxHeading.MatchString(line) && !isIndentedCode(line):
			m := atxHeading.FindStringSubmatch(line)
			kind := blockHeading
			if len(m[1]) > 1 {
				kind = blockParagraph
			}
			blocks = append(blocks, block{kind: kind, lines: []string{m[2]}})
			i++
		case i+1 < len(lines) && setextLine.MatchString(lines[i+1]):
			kind := blockParagraph
			if strings.TrimSpace(lines[i+1])[0] == '=' {
				kind = blockHeading
			}
			blocks = append(blocks, block{kind: kind, lines: []string{strings.TrimSpace(line)}})
			i += 2
		case quotePrefix.MatchString(line):
			end := blockEnd(lines, i)
			inner := make([]string, 0, end-i)
			for _, l := range lines[i:end] {
				inner = append(inner, quotePrefix.ReplaceAllString(l, ""))
			}
			blocks = append(blocks, parseBlocks(inner)...)
			i = end
		case strings.Contains(line, "|") && i+1 < len(lines) &&
			strings.Contains(lines[i+1], "|") && tableDivider.MatchString(lines[i+1]):
			i = blockEnd(lines, i)
		case bulletPrefix.MatchString(line) && !isIndentedCode(line):
			var b block
			b, i = parseList(lines, i)
			blocks = append(blocks, b)
		default:
			var b block
			b, i = parseParagraph(lines, i)
			blocks = append(blocks, b)
		}
	}
	return blocks
}

// parseParagraph gathers lines until a blank line or a line that starts a block able to
// interrupt a paragraph in mistune: a page break, a heading, a setext heading or inset text.
func parseParagraph(lines []string, start int) (block, int) {
	b := block{kind: blockParagraph}
	i := start
	for ; i < len(lines); i++ {
		line := lines[i]
		if isBlank(line) {
			break
		}
		if i > start && (hruleLine.MatchString(line) || atxHeading.MatchString(line) || quotePrefix.MatchString(line)) {
			break
		}
		if i > start && i+1 < len(lines) && setextLine.MatchString(lines[i+1]) && !isBlank(line) {
			break
		}
		b.lines = append(b.lines, strings.TrimSpace(line))
	}
	return b, i
}

// parseList reads a list block. Lines that do not start with a bullet continue the item
// above them (with a line break, as upstream); deeper-indented bullets open a nested list.
// The list ends before a page break, or at a blank line not followed by an indented line
// or another bullet.
func parseList(lines []string, start int) (block, int) {
	b := block{kind: blockList}
	type level struct {
		indent  int
		ordered bool
		count   int
	}
	var stack []level
	i := start
	for ; i < len(lines); i++ {
		line := lines[i]
		if isBlank(line) {
			next := i + 1
			for next < len(lines) && isBlank(lines[next]) {
				next++
			}
			if next >= len(lines) || hruleLine.MatchString(lines[next]) ||
				(!strings.HasPrefix(lines[next], " ") && !spacedBullet.MatchString(lines[next])) {
				break
			}
			if len(b.items) > 0 {
				b.items[len(b.items)-1].loose = true
			}
			i = next - 1
			continue
		}
		if i > start && hruleLine.MatchString(line) {
			break
		}
		m := bulletPrefix.FindStringSubmatch(line)
		if m == nil {
			last := &b.items[len(b.items)-1]
			last.lines = append(last.lines, strings.TrimSpace(line))
			continue
		}
		indent := len(m[1])
		for len(stack) > 1 && indent < stack[len(stack)-1].indent {
			stack = stack[:len(stack)-1]
		}
		ordered := m[2] != "*" && m[2] != "-" && m[2] != "•"
		if len(stack) == 0 || indent > stack[len(stack)-1].indent {
			stack = append(stack, level{indent: indent, ordered: ordered})
		}
		top := &stack[len(stack)-1]
		top.count++
		marker := "•"
		if top.ordered {
			marker = strconv.Itoa(top.count) + "."
		}
		b.items = append(b.items, listItem{
			depth:  len(stack) - 1,
			marker: marker,
			lines:  []string{strings.TrimSpace(m[3])},
		})
	}
	return b, i
}

// blockEnd returns the index of the first blank line at or after i.
func blockEnd(lines []string, i int) int {
	for i < len(lines) && !isBlank(lines[i]) {
		i++
	}
	return i
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// isIndentedCode reports a line indented four or more spaces: mistune reads it as a code
// block, which Notify prints as plain text, so it must not start a list.
func isIndentedCode(s string) bool { return len(leadingSpaces.FindString(s)) >= 4 }
