package letter

import (
	"strings"

	"github.com/go-pdf/fpdf"
)

// measurer measures and selects Helvetica through fpdf, which holds the core fonts' metrics.
// It remembers the font last selected so that a page of text does not repeat the selection.
type measurer struct {
	f    *fpdf.Fpdf
	size float64
	bold bool
	set  bool
}

func (m *measurer) setFont(size float64, bold bool) {
	if m.set && m.size == size && m.bold == bold {
		return
	}
	style := ""
	if bold {
		style = "B"
	}
	m.f.SetFont("Helvetica", style, size)
	m.size, m.bold, m.set = size, bold, true
}

// width is the printed width in millimetres of Windows-1252 text.
func (m *measurer) width(text string, size float64, bold bool) float64 {
	m.setFont(size, bold)
	return m.f.GetStringWidth(text)
}

// fit cuts text from the end until it is no wider than limit.
func (m *measurer) fit(text string, size float64, bold bool, limit float64) string {
	for text != "" && m.width(text, size, bold) > limit {
		text = text[:len(text)-1]
	}
	return text
}

// run is a stretch of one line in one weight, dx millimetres from the line's start.
type run struct {
	dx   float64
	text string
	bold bool
}

// wrap breaks spans into lines no wider than limit, at spaces, as a browser would: runs of
// spaces collapse, and a word longer than a whole line is broken between characters rather
// than left to run off the page. bold sets the weight of every span (for headings). It always
// returns at least one line, empty if there is no text.
func (m *measurer) wrap(spans []span, size float64, bold bool, limit float64) [][]run {
	type piece struct {
		text string
		bold bool
	}
	var words [][]piece
	var word []piece
	for _, s := range spans {
		for i, part := range strings.Split(toWinAnsi(s.text), " ") {
			if i > 0 && len(word) > 0 {
				words = append(words, word)
				word = nil
			}
			if part != "" {
				word = append(word, piece{part, bold || s.bold})
			}
		}
	}
	if len(word) > 0 {
		words = append(words, word)
	}

	var lines [][]run
	var line []run
	lineWidth := 0.0
	space := m.width(" ", size, false) // the same in both weights of Helvetica
	put := func(text string, bold bool, w float64) {
		if n := len(line); n > 0 && line[n-1].bold == bold {
			line[n-1].text += text
		} else {
			line = append(line, run{dx: lineWidth, text: text, bold: bold})
		}
		lineWidth += w
	}
	flush := func() {
		lines = append(lines, line)
		line, lineWidth = nil, 0
	}
	for _, w := range words {
		total := 0.0
		for _, p := range w {
			total += m.width(p.text, size, p.bold)
		}
		if len(line) > 0 && lineWidth+space+total > limit {
			flush()
		}
		if len(line) > 0 {
			put(" ", line[len(line)-1].bold, space)
		}
		if total <= limit {
			for _, p := range w {
				put(p.text, p.bold, m.width(p.text, size, p.bold))
			}
			continue
		}
		for _, p := range w {
			for i := 0; i < len(p.text); i++ {
				c := p.text[i : i+1]
				cw := m.width(c, size, p.bold)
				if lineWidth > 0 && lineWidth+cw > limit {
					flush()
				}
				put(c, p.bold, cw)
			}
		}
	}
	if len(line) > 0 || len(lines) == 0 {
		flush()
	}
	return lines
}

// style is how a kind of block is set, in points, after Notify's letter stylesheet.
type style struct {
	size, lead    float64
	before, after float64
	bold          bool
}

var (
	subjectStyle   = style{size: 20, lead: 23.4, before: 18.16, after: 7.68, bold: true}
	headingStyle   = style{size: 14, lead: 17.4, after: 16, bold: true}
	paragraphStyle = style{size: 12, lead: 16, after: 16}
)

// orphans is the fewest lines of a paragraph left at the foot of a page (Notify's "orphans: 4").
const orphans = 4

// flow places blocks down the pages, starting a new page when the next line would cross the
// foot of the text area.
type flow struct {
	m       *measurer
	pages   [][]textOp
	y       float64 // top of the next line, mm
	gap     float64 // space the previous block asked for after itself, mm
	atTop   bool    // nothing yet on this page, so space before a block is dropped
	hasBody bool    // this page has text, so a page break is not wasted on it
	broken  bool    // a page break is due before the next text
}

func (fl *flow) newPage() {
	fl.pages = append(fl.pages, nil)
	fl.y, fl.gap, fl.atTop, fl.hasBody = laterBodyTop, 0, true, false
}

// place sets lines in style st from x. minFirst lines (and keep millimetres more, for whatever
// must not be parted from this block) must fit on the page the block starts on. marker, if
// set, is drawn beside the first line at markerX.
func (fl *flow) place(lines [][]run, x float64, st style, minFirst int, keep float64, marker string, markerX float64) {
	if fl.broken {
		fl.newPage()
		fl.broken = false
	}
	lead := st.lead * ptToMM
	size := st.size * ptToMM
	gap := max(fl.gap, st.before*ptToMM)
	if fl.atTop {
		gap = 0
	}
	if !fl.atTop && fl.y+gap+float64(min(minFirst, len(lines)))*lead+keep > bodyBottom {
		fl.newPage()
		gap = 0
	}
	fl.y += gap
	for i, line := range lines {
		if fl.y+lead > bodyBottom {
			fl.newPage()
		}
		baseline := fl.y + (lead-(helvAscent+helvDescent)*size)/2 + helvAscent*size
		page := &fl.pages[len(fl.pages)-1]
		if i == 0 && marker != "" {
			*page = append(*page, textOp{x: markerX, y: baseline, size: st.size, bold: st.bold, text: marker})
		}
		for _, r := range line {
			*page = append(*page, textOp{x: x + r.dx, y: baseline, size: st.size, bold: r.bold, text: r.text})
		}
		fl.y += lead
		fl.atTop, fl.hasBody = false, true
	}
	fl.gap = st.after * ptToMM
}

// layoutBody sets the subject and then the body's blocks, returning the text of each page.
// The first page's text starts below the address and sender's block; there is always at
// least one page.
func layoutBody(m *measurer, subject string, blocks []block) [][]textOp {
	fl := &flow{m: m, pages: [][]textOp{nil}, y: firstBodyTop}

	// Notify collapses whitespace in the subject and sets its typography, but does not read
	// markdown in it.
	afterSubject := false
	if subject = strings.Join(strings.Fields(subject), " "); subject != "" {
		lines := m.wrap(typeset([]span{{text: subject}}), subjectStyle.size, true, bodyWidth)
		fl.place(lines, bodyLeft, subjectStyle, len(lines), keepAfter(blocks, 0), "", 0)
		afterSubject = true
	}

	for i, b := range blocks {
		switch b.kind {
		case blockPageBreak:
			// The new page is started by the next text, so that a break at the end of the
			// letter or on an empty page prints no blank page: it would cost a sheet and
			// read as a mistake.
			if fl.hasBody {
				fl.broken = true
			}
		case blockHeading:
			st := headingStyle
			if i == 0 && afterSubject {
				st.before = 8.35 // Notify's "h1 + h2" margin
			}
			lines := fl.lines(b.lines, st, bodyWidth)
			fl.place(lines, bodyLeft, st, len(lines), keepAfter(blocks, i+1), "", 0)
		case blockParagraph:
			fl.place(fl.lines(b.lines, paragraphStyle, bodyWidth), bodyLeft, paragraphStyle, orphans, 0, "", 0)
		case blockList:
			fl.list(b.items)
		}
	}
	return fl.pages
}

// lines wraps each source line of a block, keeping the block's own line breaks.
func (fl *flow) lines(source []string, st style, width float64) [][]run {
	var out [][]run
	for _, line := range source {
		out = append(out, fl.m.wrap(parseInline(line), st.size, st.bold, width)...)
	}
	return out
}

// list sets a list's items with hanging markers: bullets at the item's left edge, numbers
// right-aligned just before the text, as a browser sets an outside list marker. Space goes
// after the list and after loose items only.
func (fl *flow) list(items []listItem) {
	bullet := toWinAnsi("•")
	for k, it := range items {
		left := bodyLeft + float64(min(it.depth, maxListDepth))*nestedIndent
		st := paragraphStyle
		if !it.loose && k < len(items)-1 {
			st.after = 0
		}
		if it.marker == "•" {
			textX := left + listIndent
			lines := fl.lines(it.lines, st, bodyLeft+bodyWidth-textX)
			fl.place(lines, textX, st, 1, 0, bullet, left+0.5)
			continue
		}
		textX := left + orderedIndent
		markerX := textX - 1.5 - fl.m.width(it.marker, st.size, false)
		lines := fl.lines(it.lines, st, bodyLeft+bodyWidth-textX)
		fl.place(lines, textX, st, 1, 0, it.marker, markerX)
	}
}

// maxListDepth is the deepest a list is indented, however deep its source nests, so that
// items keep a readable width.
const maxListDepth = 4

// keepAfter is how much of what follows a heading must share its page: the gap and first line
// of the next block, so that a heading never ends a page on its own.
func keepAfter(blocks []block, next int) float64 {
	if next >= len(blocks) || blocks[next].kind == blockPageBreak {
		return 0
	}
	return (paragraphStyle.after + paragraphStyle.lead) * ptToMM
}
