package letter

import (
	"strconv"
	"strings"
)

// Page geometry, in millimetres from the top-left corner of an A4 page (210 × 297 mm).
//
// The printer's limits come from GOV.UK Notify's template-preview (app/precompiled.py), which
// checks every letter against the print contractor's specification before it is posted:
//   - nothing may be printed within 15 mm of the left and right edges or 5 mm of the top and
//     bottom (BORDER_*);
//   - the recipient's address must sit inside the C5 envelope window, 24.6–120 mm from the
//     left and 39.5–66.3 mm from the top (ADDRESS_*), in 8 pt type on 8.5 pt lines
//     (ADDRESS_FONT_SIZE, ADDRESS_LINE_HEIGHT), bottom-aligned and lifted 2 pt so that
//     descenders on the postcode line stay in the window;
//   - the sender's details go in the block 125–195 mm from the left and 5–95 mm from the top
//     (SERVICE_ADDRESS_*), and the body starts below 95 mm (BODY_TOP_FROM_TOP_OF_PAGE).
//
// Type sizes and the remaining positions follow Notify's own letter stylesheet
// (notifications-utils jinja_templates/letter_pdf/_main_css.jinja2): a 137.5 mm text column
// from 15 mm, 16 pt line spacing, the sender's block 71.2 mm wide in 10 pt on 12 pt lines,
// "Page N of M" in 10 pt at the foot, and 15 mm page margins at the top and bottom of later
// pages. Body text is 12 pt on the same 16 pt lines where Notify sets 12.5 pt in Nimbus Sans,
// a face with Helvetica's metrics: a line holds a few per cent more here, so a letter never
// runs to more pages (or sheets of paper) than it would with Notify.
const (
	clearLeft   = 15.0
	clearRight  = 195.0
	clearTop    = 5.0
	clearBottom = 292.0

	windowLeft   = 24.6
	windowRight  = 120.0
	windowBottom = 66.3
	addressSize  = 8.0 // pt
	addressLead  = 8.5 // pt
	addressRise  = 2.0 // pt
	addressMin   = 6.0 // pt: the smallest the address shrinks to before long lines are cut

	contactLeft = 128.8 // 200 mm less Notify's 71.2 mm block, inside the 125 mm zone edge
	contactSize = 10.0  // pt
	contactLead = 12.0  // pt
	dateLine    = 86.0  // baseline of the date, under the sender's block and above the body

	bodyLeft      = 15.0
	bodyWidth     = 137.5
	firstBodyTop  = 95.0
	laterBodyTop  = 15.0
	bodyBottom    = 282.0
	footerLine    = 287.0 // baseline, within the bottom margin and clear of the 292 mm limit
	footerSize    = 10.0  // pt
	ptToMM        = 25.4 / 72
	helvAscent    = 0.718 // Helvetica's ascender and descender, as fractions of the type size
	helvDescent   = 0.207
	listIndent    = 5.0 // text indent of a bulleted item
	orderedIndent = 7.0 // text indent of a numbered item, room for "10."
	nestedIndent  = 6.0 // extra indent per level of nesting
)

// textOp is one run of text to draw: at x, with its baseline at y, in Helvetica of the given
// size (pt) and weight. text is already in Windows-1252.
type textOp struct {
	x, y float64
	size float64
	bold bool
	text string
}

// firstPage lays out what only the first page carries: the address in the envelope window,
// and the sender's block with the date beneath it.
func firstPage(m *measurer, address []string, contact, date string) []textOp {
	var ops []textOp

	lines := make([]string, len(address))
	widest := 0.0
	for i, line := range address {
		lines[i] = toWinAnsi(strings.ToUpper(line))
		widest = max(widest, m.width(lines[i], addressSize, false))
	}
	// A long line shrinks the whole block rather than spilling out of the window, where it
	// would be hidden by the envelope; below addressMin it is cut instead, as Notify's
	// stylesheet clips it.
	size := addressSize
	if limit := windowRight - windowLeft; widest > limit {
		size = max(addressMin, addressSize*limit/widest)
	}
	lead := addressLead * size / addressSize * ptToMM
	last := windowBottom - addressRise*ptToMM
	for i, line := range lines {
		ops = append(ops, textOp{
			x:    windowLeft,
			y:    last - float64(len(lines)-1-i)*lead,
			size: size,
			text: m.fit(line, size, false, windowRight-windowLeft),
		})
	}

	ops = append(ops, textOp{x: contactLeft, y: dateLine, size: contactSize, text: toWinAnsi(date)})
	var block []string
	if contact = strings.TrimSpace(contact); contact != "" {
		contact = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(contact)
		for line := range strings.SplitSeq(contact, "\n") {
			// Notify does not read markdown here, only tidies spaces before punctuation.
			text := spaceBeforePunctuation.ReplaceAllString(strings.TrimSpace(line), "$1")
			for _, l := range m.wrap([]span{{text: text}}, contactSize, false, clearRight-contactLeft) {
				block = append(block, lineText(l))
			}
		}
	}
	// The block is bottom-aligned one blank line above the date, like Notify's, and grows
	// upwards; lines that would reach into the top clear zone are left off.
	lead = contactLead * ptToMM
	bottom := dateLine - 2*lead
	fits := int((bottom-clearTop-helvAscent*contactSize*ptToMM)/lead) + 1
	if len(block) > fits {
		block = block[:fits]
	}
	for i, line := range block {
		ops = append(ops, textOp{
			x:    contactLeft,
			y:    bottom - float64(len(block)-1-i)*lead,
			size: contactSize,
			text: line,
		})
	}
	return ops
}

// footer is the page number every page carries, so that a reader (and the printer's
// inserting machine) can tell a page is missing.
func footer(m *measurer, page, pages int) textOp {
	text := "Page " + strconv.Itoa(page) + " of " + strconv.Itoa(pages)
	return textOp{x: clearRight - m.width(text, footerSize, false), y: footerLine, size: footerSize, text: text}
}

// lineText is the text of a wrapped line printed in one weight.
func lineText(runs []run) string {
	var b strings.Builder
	for _, r := range runs {
		b.WriteString(r.text)
	}
	return b.String()
}
