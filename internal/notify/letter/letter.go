// Package letter turns Notify letters into print-ready A4 PDFs, checks PDFs that services send
// ready-made ("precompiled" letters), and packs a day's letters into a batch for the printer.
//
// It is the last step of the letter channel and knows nothing of templates or personalisation:
// callers hand it text whose placeholders are already filled and an address that has already
// passed Notify's address rules. The layout follows GOV.UK Notify's so that letters fit the
// same C5 window envelopes and the same printer's clear zones (see layout.go for the figures
// and where they come from).
package letter

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // the printed date is the UK date wherever the server runs

	"github.com/go-pdf/fpdf"
)

// MaxPages is the most pages a letter may have: 10 pages, 5 sheets printed on both sides
// (notifications-utils LETTER_MAX_PAGE_COUNT). Longer letters are still rendered, so that a
// team can see what went wrong, but are not posted: the caller marks them validation-failed.
const MaxPages = 10

// TooLong reports whether a letter of this many pages is over the limit and must be marked
// validation-failed rather than sent to print.
func TooLong(pages int) bool { return pages > MaxPages }

// Letter is everything printed on one templated letter.
type Letter struct {
	// AddressLines are the recipient's address, 3 to 7 lines, already validated and
	// normalised (postcode or country last). They are printed in capitals in the envelope
	// window, as Notify does.
	AddressLines []string
	// ContactBlock is the sender's address and contact details, printed top right; lines are
	// separated by newlines.
	ContactBlock string
	// Heading is the letter's subject, printed in bold above the body.
	Heading string
	// Body is the letter's content in Notify's letter markdown (see markdown.go).
	Body string
	// Date is printed on the letter as a UK date ("29 November 2026") and stamped as the PDF's
	// creation date, so that the same letter always renders to the same bytes.
	Date time.Time
	// Postage is the postage class: first, second, economy, europe or rest-of-world. It is
	// not printed (the printer adds the postage mark) but is recorded in the PDF's keywords so
	// the file says how it was meant to travel. Empty means not stated.
	Postage string
}

// ErrInvalidLetter is returned by Render for input that cannot make a letter at all. It marks
// a fault in the caller, since addresses are validated before a letter is rendered.
var ErrInvalidLetter = errors.New("letter: invalid letter")

// postages are the classes Notify knows (API app/constants.py POSTAGE_TYPES).
var postages = map[string]bool{"first": true, "second": true, "economy": true, "europe": true, "rest-of-world": true}

// london is where the printed date is reckoned: Notify prints the date in UK time
// (notifications-utils template.py, via utc_string_to_aware_gmt_datetime), so a letter made
// at 00:30 BST shows the new day.
var london = mustLoadLocation("Europe/London")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // unreachable: time/tzdata is linked in
	}
	return loc
}

// Render lays out a letter and returns the PDF and its page count. A letter longer than
// MaxPages is not an error here; check TooLong. The output depends only on l: the same letter
// gives the same bytes.
func Render(l Letter) (pdf []byte, pages int, err error) {
	address, err := checkLetter(l)
	if err != nil {
		return nil, 0, err
	}
	f := newFPDF(l)
	m := &measurer{f: f}

	first := firstPage(m, address, l.ContactBlock, formatDate(l.Date))
	body := layoutBody(m, l.Heading, parseBody(l.Body))
	body[0] = append(first, body[0]...)
	for i, ops := range body {
		f.AddPage()
		for _, op := range append(ops, footer(m, i+1, len(body))) {
			m.setFont(op.size, op.bold)
			f.Text(op.x, op.y, op.text)
		}
	}

	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, 0, fmt.Errorf("letter: render: %w", err)
	}
	return buf.Bytes(), len(body), nil
}

// checkLetter rejects input that no caller should send and returns the address lines trimmed.
func checkLetter(l Letter) ([]string, error) {
	var address []string
	for _, line := range l.AddressLines {
		if line = strings.TrimSpace(line); line != "" {
			address = append(address, line)
		}
	}
	switch {
	case len(address) < 3 || len(address) > 7:
		return nil, fmt.Errorf("%w: address must have 3 to 7 lines, has %d", ErrInvalidLetter, len(address))
	case l.Date.IsZero():
		return nil, fmt.Errorf("%w: date is required", ErrInvalidLetter)
	case l.Postage != "" && !postages[l.Postage]:
		return nil, fmt.Errorf("%w: unknown postage %q", ErrInvalidLetter, l.Postage)
	}
	return address, nil
}

// newFPDF sets up a PDF whose bytes are a function of the letter alone: the timestamps
// come from the letter's date, resources are written in sorted order, and fpdf writes no
// document ID unless asked to encrypt.
func newFPDF(l Letter) *fpdf.Fpdf {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCompression(true)
	f.SetCatalogSort(true)
	f.SetCreationDate(l.Date.UTC())
	f.SetModificationDate(l.Date.UTC())
	f.SetProducer("Commons Notify", false)
	f.SetTitle(l.Heading, true)
	f.SetLang("en-GB")
	if l.Postage != "" {
		f.SetKeywords("postage: "+l.Postage, false)
	}
	f.SetMargins(0, 0, 0)
	f.SetAutoPageBreak(false, 0)
	return f
}

// formatDate prints the date as Notify does: day without a leading zero, full month, year.
func formatDate(t time.Time) string { return t.In(london).Format("2 January 2006") }
