package letter

import (
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"
)

func testMeasurer() *measurer { return &measurer{f: fpdf.New("P", "mm", "A4", "")} }

// extent is the box an op's glyphs occupy, in millimetres from the top left.
func extent(m *measurer, op textOp) (left, top, right, bottom float64) {
	size := op.size * ptToMM
	return op.x, op.y - helvAscent*size, op.x + m.width(op.text, op.size, op.bold), op.y + helvDescent*size
}

func TestAddressSitsInTheEnvelopeWindow(t *testing.T) {
	m := testMeasurer()
	for name, address := range map[string][]string{
		"three lines": {"A Person", "1 Street", "SW1A 1AA"},
		"seven long lines": {
			"The Occupier of the Very Long Named Property Indeed",
			"Flat 1234, Extraordinarily Long Building Name House",
			"A Road With A Remarkably Long Name In The Countryside",
			"Somewhere Village With A Long Name",
			"Some Post Town Called Something Long",
			"A County Name",
			"SW1A 1AA",
		},
	} {
		ops := firstPage(m, address, "", "1 January 2026")
		var lines []textOp
		for _, op := range ops {
			if op.x == windowLeft {
				lines = append(lines, op)
			}
		}
		if len(lines) != len(address) {
			t.Fatalf("%s: %d address lines drawn, want %d", name, len(lines), len(address))
		}
		for _, op := range lines {
			l, top, r, bottom := extent(m, op)
			if l < windowLeft || r > windowRight || top < 39.5 || bottom > windowBottom {
				t.Errorf("%s: %q spans (%.1f, %.1f)–(%.1f, %.1f), outside the window", name, op.text, l, top, r, bottom)
			}
			if op.size < addressMin {
				t.Errorf("%s: address set in %.1f pt", name, op.size)
			}
		}
	}
}

func TestContactBlockStaysInItsZone(t *testing.T) {
	m := testMeasurer()
	contact := strings.Repeat("A line of the sender's contact details that is long enough to wrap\n", 30)
	ops := firstPage(m, []string{"A", "B", "C"}, contact, "29 November 2026")
	var date textOp
	for _, op := range ops {
		if op.x < contactLeft {
			continue
		}
		l, top, r, bottom := extent(m, op)
		if l < 125 || r > clearRight || top < clearTop || bottom > firstBodyTop {
			t.Errorf("%q spans (%.1f, %.1f)–(%.1f, %.1f), outside the sender's zone", op.text, l, top, r, bottom)
		}
		if op.text == "29 November 2026" {
			date = op
		} else if op.y >= dateLine {
			t.Errorf("%q is not above the date", op.text)
		}
	}
	if date.text == "" {
		t.Error("the date is not drawn")
	}
}

func TestBodyStaysInThePrintableArea(t *testing.T) {
	m := testMeasurer()
	body := "# A heading that is long enough to need more than one line in the letter's text column\n\n" +
		strings.Repeat("Words and https://www.example.gov.uk/a/rather/long/address/that/cannot/break/anywhere/at/all "+
			"and then some more words to fill the paragraph out.\n\n* a bullet\n  * nested\n1. numbered\n\n", 20) +
		deepList(30) +
		strings.Repeat("W", 300)
	pages := layoutBody(m, "The subject of the letter, which is also long enough to wrap onto a second line", parseBody(body))
	if len(pages) < 3 {
		t.Fatalf("only %d pages; the test needs page breaks", len(pages))
	}
	for i, ops := range pages {
		top := laterBodyTop
		if i == 0 {
			top = firstBodyTop
		}
		for _, op := range ops {
			l, t0, r, bottom := extent(m, op)
			if l < bodyLeft || r > bodyLeft+bodyWidth+0.01 || t0 < top || bottom > bodyBottom {
				t.Errorf("page %d: %q spans (%.1f, %.1f)–(%.1f, %.1f), outside the text area", i+1, op.text, l, t0, r, bottom)
			}
		}
		f := footer(m, i+1, len(pages))
		if l, t0, r, bottom := extent(m, f); l < clearLeft || r > clearRight+0.01 || t0 < bodyBottom || bottom > clearBottom {
			t.Errorf("footer %q spans (%.1f, %.1f)–(%.1f, %.1f)", f.text, l, t0, r, bottom)
		}
	}
}

func TestHeadingIsKeptWithWhatFollows(t *testing.T) {
	m := testMeasurer()
	// 30 lines leave room at the foot of page one for the heading but not for the heading
	// and the first line of its paragraph.
	var b strings.Builder
	for range 30 {
		b.WriteString("Line\n")
	}
	b.WriteString("\n# Heading\n\nIts paragraph.")
	pages := layoutBody(m, "", parseBody(b.String()))
	for i, ops := range pages {
		for _, op := range ops {
			if op.text == "Heading" {
				for _, other := range ops {
					if other.text == "Its paragraph." {
						return
					}
				}
				t.Fatalf("heading on page %d is parted from its paragraph", i+1)
			}
		}
	}
	t.Fatal("heading not drawn")
}

// deepList nests a list n levels deep, each item indented two spaces more than the last.
func deepList(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat("  ", i) + "* an item nested some way down, with words to wrap across the line\n")
	}
	return b.String() + "\n"
}
