package letter

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxPrecompiledSize is the largest precompiled letter accepted, 5 MiB of PDF. The Notify
// clients refuse to send anything bigger (the node client's sendPrecompiledLetter checks
// 5 × 1024 × 1024 bytes before encoding); Notify's API has no limit of its own, so this is
// the limit its users already live within.
const MaxPrecompiledSize = 5 << 20

// The reasons a precompiled letter is refused. Each is wrapped in a *PrecompiledError that
// says why in words; match them with errors.Is. The API marks the letter validation-failed.
var (
	ErrNotPDF       = errors.New("not a PDF")
	ErrTooBig       = errors.New("file too big")
	ErrUnreadable   = errors.New("PDF cannot be read")
	ErrTooManyPages = errors.New("too many pages")
	ErrNotA4        = errors.New("pages not A4 portrait")
)

// PrecompiledError is why CheckPrecompiled refused a PDF.
type PrecompiledError struct {
	Kind         error  // one of ErrNotPDF, ErrTooBig, ErrUnreadable, ErrTooManyPages, ErrNotA4
	Detail       string // why, for the service team
	Pages        int    // the page count, when the PDF could be read that far
	InvalidPages []int  // for ErrNotA4, the pages at fault, numbered from 1
}

// Error says why, in words a service team can act on.
func (e *PrecompiledError) Error() string { return "precompiled letter: " + e.Detail }

// Unwrap lets errors.Is match the kind.
func (e *PrecompiledError) Unwrap() error { return e.Kind }

// Reason is the short code Notify's template-preview gives the same failure
// (app/precompiled.py), for callers that keep Notify's vocabulary.
func (e *PrecompiledError) Reason() string {
	switch e.Kind {
	case ErrTooManyPages:
		return "letter-too-long"
	case ErrNotA4:
		return "letter-not-a4-portrait-oriented"
	case ErrTooBig:
		return "file-too-big"
	}
	return "unable-to-read-the-file"
}

func refuse(kind error, pages int, format string, args ...any) *PrecompiledError {
	return &PrecompiledError{Kind: kind, Pages: pages, Detail: fmt.Sprintf(format, args...)}
}

// CheckPrecompiled checks that b is a PDF that can be printed as a letter and returns its
// page count. The checks run cheapest first: size, the %PDF- header and %%EOF marker, then the
// structure (the page tree is walked, through compressed object streams too), the page limit,
// and finally that every page is A4 portrait, allowing Notify's 2 mm tolerance and a rotated
// landscape page. A damaged cross-reference index is rebuilt by scanning, as PDF readers do.
// Encrypted PDFs are refused: the printer must be able to read every page.
func CheckPrecompiled(b []byte) (pages int, err error) {
	switch {
	case len(b) == 0:
		return 0, refuse(ErrNotPDF, 0, "the file is empty")
	case len(b) > MaxPrecompiledSize:
		return 0, refuse(ErrTooBig, 0, "the file is %d bytes; the most allowed is %d (5 MiB)", len(b), MaxPrecompiledSize)
	}
	// Readers accept a header anywhere in the first kilobyte, after junk some systems prepend.
	if !bytes.Contains(b[:min(len(b), 1024)], []byte("%PDF-")) {
		return 0, refuse(ErrNotPDF, 0, "the file does not start with a %%PDF- header")
	}
	if !bytes.Contains(b[max(0, len(b)-1024):], []byte("%%EOF")) {
		return 0, refuse(ErrUnreadable, 0, "the file has no %%%%EOF marker at its end, so it is probably cut short")
	}

	d := newDocument(b)
	found, err := d.pageTree()
	if err != nil && !errors.Is(err, errEncrypted) {
		d = newDocument(b)
		if rerr := d.rebuildIndex(); rerr == nil {
			found, err = d.pageTree()
		}
	}
	switch {
	case errors.Is(err, errEncrypted):
		return 0, refuse(ErrUnreadable, 0, "the PDF is encrypted or password-protected; send it without protection")
	case err != nil:
		return 0, refuse(ErrUnreadable, 0, "the PDF's structure cannot be read: %v", err)
	}
	if len(found) == 0 {
		return 0, refuse(ErrUnreadable, 0, "the PDF has no pages")
	}
	if len(found) > MaxPages {
		return len(found), refuse(ErrTooManyPages, len(found),
			"the letter has %d pages; the most allowed is %d", len(found), MaxPages)
	}
	var wrong []int
	for i, p := range found {
		if !p.isA4Portrait() {
			wrong = append(wrong, i+1)
		}
	}
	if len(wrong) > 0 {
		e := refuse(ErrNotA4, len(found), "%s not A4 portrait (210 × 297 mm)", pageList(wrong))
		e.InvalidPages = wrong
		return len(found), e
	}
	return len(found), nil
}

// pageList names pages in an error message: "page 2 is", "pages 1, 3 are".
func pageList(pages []int) string {
	if len(pages) == 1 {
		return "page " + strconv.Itoa(pages[0]) + " is"
	}
	s := make([]string, len(pages))
	for i, p := range pages {
		s[i] = strconv.Itoa(p)
	}
	return "pages " + strings.Join(s, ", ") + " are"
}

// pageBox is a page's size in points and its rotation in degrees.
type pageBox struct {
	width, height float64
	rotate        int
	known         bool
}

// isA4Portrait applies template-preview's rule (_is_page_A4_portrait): A4 within 2 mm, upright
// or upside down, or A4 landscape turned a quarter.
func (p pageBox) isA4Portrait() bool {
	if !p.known {
		return false
	}
	w, h := p.width*ptToMM, p.height*ptToMM
	near := func(a, b float64) bool { return math.Abs(a-b) <= 2 }
	rot := ((p.rotate % 360) + 360) % 360
	switch {
	case near(w, 210) && near(h, 297):
		return rot == 0 || rot == 180
	case near(w, 297) && near(h, 210):
		return rot == 90 || rot == 270
	}
	return false
}
