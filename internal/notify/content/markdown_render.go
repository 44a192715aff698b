package content

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// renderer turns parsed markdown into one output format. The HTML and plain-text parts of
// an email share the parser, so a template always has the same structure in both.
type renderer interface {
	text(s string) string
	autolink(url string) string
	link(url, title, text string) string
	linebreak() string
	newline() string
	paragraph(text string) string
	heading(text string, level int) string
	rule() string
	list(body string, ordered bool) string
	listItem(text string, number int, ordered bool) string
	inset(text string) string
	code(text string) string
}

// renderMarkdown parses text and renders it with r.
func renderMarkdown(text string, r renderer) string {
	lx := &blockLexer{links: map[string]linkDef{}, notes: map[string]bool{}}
	blocks := lx.parse(preprocess(text), false)
	il := &inlineLexer{r: r, links: lx.links, notes: lx.notes}
	var b strings.Builder
	renderBlocks(&b, blocks, r, il)
	return b.String()
}

func renderBlocks(b *strings.Builder, blocks []block, r renderer, il *inlineLexer) {
	for i := 0; i < len(blocks); i++ {
		bl := blocks[i]
		switch bl.kind {
		case blockNewline:
			b.WriteString(r.newline())
		case blockParagraph:
			b.WriteString(r.paragraph(il.render(bl.text)))
		case blockText:
			text, n := joinText(blocks[i:])
			i += n - 1
			b.WriteString(r.paragraph(il.render(text)))
		case blockHeading:
			b.WriteString(r.heading(il.render(bl.text), bl.level))
		case blockRule:
			b.WriteString(r.rule())
		case blockCode:
			b.WriteString(r.code(bl.text))
		case blockInset:
			var inner strings.Builder
			renderBlocks(&inner, bl.children, r, il)
			b.WriteString(r.inset(inner.String()))
		case blockList:
			var body strings.Builder
			for n, item := range bl.items {
				body.WriteString(r.listItem(renderItem(item, r, il), n+1, bl.ordered))
			}
			b.WriteString(r.list(body.String(), bl.ordered))
		}
	}
}

// renderItem renders one list item. Lines of a tight item are inline text; in a loose
// item (one separated from its neighbours by blank lines) they become paragraphs.
func renderItem(item listItem, r renderer, il *inlineLexer) string {
	var b strings.Builder
	for i := 0; i < len(item.blocks); i++ {
		if item.blocks[i].kind != blockText {
			renderBlocks(&b, item.blocks[i:i+1], r, il)
			continue
		}
		text, n := joinText(item.blocks[i:])
		i += n - 1
		if item.loose {
			b.WriteString(r.paragraph(il.render(text)))
		} else {
			b.WriteString(il.render(text))
		}
	}
	return b.String()
}

// joinText joins the run of text lines at the start of blocks.
func joinText(blocks []block) (string, int) {
	n := 0
	lines := make([]string, 0, 4)
	for n < len(blocks) && blocks[n].kind == blockText {
		lines = append(lines, blocks[n].text)
		n++
	}
	return strings.Join(lines, "\n"), n
}

// matchDestination matches the (url "title") part of a link, starting just after "(".
// The url is the shortest text after which an optional quoted title, spaces and ")"
// follow; a title is tried before no title at each length.
func matchDestination(text string, q int) (int, string, string, bool) {
	i := skipSpace(text, q)
	window := min(len(text), i+maxLinkDest)
	d := destination{text: text, base: i, window: window}
	if i < window && text[i] == '<' {
		for k := i + 1; k < window; k++ {
			if text[k] == '>' {
				if n, title, ok := d.after(k + 1); ok {
					return n, text[i+1 : k], title, true
				}
			}
		}
	}
	// Without a title the url ends where spaces then ")" begin, so only the first ")"
	// matters; a title can only make the url shorter than that.
	plainEnd := -1
	if j := strings.IndexByte(text[i:window], ')'); j >= 0 {
		plainEnd = i + j
		for plainEnd > i && isSpaceByte(text[plainEnd-1]) {
			plainEnd--
		}
	}
	limit := window
	if plainEnd >= 0 {
		limit = plainEnd
	}
	// A title starts with spaces and a quote, so only quotes need looking at.
	for m := i + 1; m < limit; m++ {
		j := strings.IndexAny(text[m:limit], `"'`)
		if j < 0 {
			break
		}
		m += j
		k := m
		for k > i && isSpaceByte(text[k-1]) {
			k--
		}
		if k < m {
			if n, title, ok := d.titled(k); ok {
				return n, text[i:k], title, true
			}
		}
	}
	if plainEnd >= 0 {
		if n, title, ok := d.after(plainEnd); ok {
			return n, text[i:plainEnd], title, true
		}
	}
	return 0, "", "", false
}

// destination holds what matching a link destination needs, computing where titles
// can end only once it meets a title.
type destination struct {
	text         string
	base, window int
	closers      []int
}

// closer is the first position at or after j holding a quote followed by optional
// spaces and ")", which is where a title may end, or -1.
func (d *destination) closer(j int) int {
	if d.closers == nil {
		d.closers = make([]int, d.window-d.base+1)
		following := -1
		for p := d.window; p >= d.base; p-- {
			if p < d.window && (d.text[p] == '"' || d.text[p] == '\'') {
				if e := skipSpace(d.text, p+1); e < len(d.text) && d.text[e] == ')' {
					following = p
				}
			}
			d.closers[p-d.base] = following
		}
	}
	return d.closers[j-d.base]
}

// titled matches spaces, a quoted title and ")" at k.
func (d *destination) titled(k int) (int, string, bool) {
	m := skipSpace(d.text, k)
	if m == k || m >= d.window || (d.text[m] != '"' && d.text[m] != '\'') {
		return 0, "", false
	}
	if c := d.closer(m + 1); c >= 0 {
		return skipSpace(d.text, c+1) + 1, d.text[m+1 : c], true
	}
	return 0, "", false
}

// after matches what may follow the url at k: a title, or spaces and ")".
func (d *destination) after(k int) (int, string, bool) {
	if k > d.window {
		return 0, "", false
	}
	if n, title, ok := d.titled(k); ok {
		return n, title, true
	}
	if m := skipSpace(d.text, k); m < len(d.text) && d.text[m] == ')' {
		return m + 1, "", true
	}
	return 0, "", false
}

func skipSpace(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isSpace(r) {
			break
		}
		i += size
	}
	return i
}

// plainColumns is the width headings are underlined to and the rule is drawn at.
const plainColumns = 65

type plainRenderer struct{}

func (plainRenderer) text(s string) string { return escapeMarkup(s) }

func (plainRenderer) autolink(url string) string { return url }

func (plainRenderer) link(url, title, text string) string {
	if title != "" {
		return text + " (" + title + "): " + url
	}
	return text + ": " + url
}

func (plainRenderer) linebreak() string { return "\n" }

func (plainRenderer) newline() string { return "\n" }

func (plainRenderer) paragraph(text string) string {
	if trimSpace(text) == "" {
		return ""
	}
	return "\n\n" + text
}

func (r plainRenderer) heading(text string, level int) string {
	switch level {
	case 1:
		return "\n\n\n" + text + "\n" + strings.Repeat("=", plainColumns)
	case 2:
		return "\n\n\n" + text + "\n" + strings.Repeat("-", plainColumns)
	}
	return r.paragraph(text)
}

func (r plainRenderer) rule() string {
	line := strings.Repeat("=-", plainColumns/2+1)[:plainColumns]
	return r.paragraph(line)
}

func (plainRenderer) list(body string, _ bool) string { return "\n" + body }

func (plainRenderer) listItem(text string, number int, ordered bool) string {
	marker := "•"
	if ordered {
		marker = strconv.Itoa(number) + "."
	}
	return "\n" + marker + " " + trimSpace(text)
}

func (plainRenderer) inset(text string) string { return text }

func (plainRenderer) code(text string) string { return text }
