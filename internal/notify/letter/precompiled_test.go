package letter

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestCheckPrecompiledCountsPages(t *testing.T) {
	for _, tc := range []struct {
		name string
		pdf  testPDF
	}{
		{"classic table", testPDF{pages: 3}},
		{"object and cross-reference streams", testPDF{pages: 4, compact: true}},
		{"nested page tree", testPDF{pages: 7, nested: true}},
		{"nested and compact", testPDF{pages: 10, nested: true, compact: true}},
		{"rotated landscape page", testPDF{pages: 2, box: map[int]string{2: "[0 0 842 595]"}, rotate: map[int]int{2: 90}}},
		{"upside-down page", testPDF{pages: 1, rotate: map[int]int{1: -180}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages, err := CheckPrecompiled(tc.pdf.build())
			if err != nil || pages != tc.pdf.pages {
				t.Errorf("CheckPrecompiled = %d, %v; want %d, nil", pages, err, tc.pdf.pages)
			}
		})
	}
}

// refused checks that err is a *PrecompiledError of the given kind that says why.
func refused(t *testing.T, err error, kind error, says string) *PrecompiledError {
	t.Helper()
	var pe *PrecompiledError
	if !errors.As(err, &pe) || !errors.Is(err, kind) {
		t.Fatalf("error = %v, want a PrecompiledError of kind %v", err, kind)
	}
	if !strings.Contains(err.Error(), says) {
		t.Errorf("error %q does not say %q", err, says)
	}
	return pe
}

func TestCheckPrecompiledRefuses(t *testing.T) {
	valid := testPDF{pages: 2}.build()
	for _, tc := range []struct {
		name  string
		input []byte
		kind  error
		says  string
	}{
		{"empty", nil, ErrNotPDF, "empty"},
		{"garbage", []byte("this is not a PDF at all, just some text\n%%EOF"), ErrNotPDF, "%PDF-"},
		{"HTML", []byte("<!DOCTYPE html><html><body>%%EOF</body></html>"), ErrNotPDF, "%PDF-"},
		{"PNG", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ErrNotPDF, "%PDF-"},
		{"no end marker", bytes.TrimSuffix(valid, []byte("%%EOF\n")), ErrUnreadable, "cut short"},
		{"cut in half", valid[:len(valid)/2], ErrUnreadable, "cut short"},
		{"header only", []byte("%PDF-1.7\n%%EOF\n"), ErrUnreadable, "structure"},
		{"too big", append(append([]byte("%PDF-1.4\n"), make([]byte, MaxPrecompiledSize)...), "%%EOF"...), ErrTooBig, "5 MiB"},
		{"too many pages", testPDF{pages: 11}.build(), ErrTooManyPages, "11 pages"},
		{"too many compact pages", testPDF{pages: 25, compact: true, nested: true}.build(), ErrTooManyPages, "25 pages"},
		{"encrypted", testPDF{pages: 1, trailer: "/Encrypt << /Filter /Standard >>"}.build(), ErrUnreadable, "encrypted"},
		{"no pages", testPDF{pages: 0}.build(), ErrUnreadable, "no pages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages, err := CheckPrecompiled(tc.input)
			pe := refused(t, err, tc.kind, tc.says)
			if tc.kind == ErrTooManyPages && (pages != pe.Pages || pages <= MaxPages) {
				t.Errorf("pages = %d, error's Pages = %d", pages, pe.Pages)
			}
		})
	}
}

func TestCheckPrecompiledRefusesPagesThatAreNotA4(t *testing.T) {
	pdf := testPDF{pages: 4, box: map[int]string{
		2: "[0 0 420 595]",     // A5
		3: "[0 0 842 595]",     // landscape, not rotated
		4: "[0 0 612.0 792.0]", // US Letter
	}}.build()
	pages, err := CheckPrecompiled(pdf)
	pe := refused(t, err, ErrNotA4, "pages 2, 3, 4 are not A4")
	if pages != 4 || !slices.Equal(pe.InvalidPages, []int{2, 3, 4}) {
		t.Errorf("pages = %d, invalid = %v", pages, pe.InvalidPages)
	}
	if pe.Reason() != "letter-not-a4-portrait-oriented" {
		t.Errorf("Reason = %q", pe.Reason())
	}
	// Within 2 mm of A4 passes, as upstream.
	if _, err := CheckPrecompiled(testPDF{pages: 1, box: map[int]string{1: "[0 0 600 845]"}}.build()); err != nil {
		t.Errorf("near-A4 page refused: %v", err)
	}
}

func TestCheckPrecompiledRecoversDamagedFiles(t *testing.T) {
	for name, damage := range map[string]func([]byte) []byte{
		"junk before the header": func(b []byte) []byte { return append([]byte("Content-Type: application/pdf\r\n\r\n"), b...) },
		"wrong startxref": func(b []byte) []byte {
			at := bytes.LastIndex(b, []byte("startxref"))
			return slices.Concat(b[:at], []byte("startxref\n99999\n%%EOF\n"))
		},
		"no index at all": func(b []byte) []byte {
			return slices.Concat(b[:bytes.Index(b, []byte("xref\n0 "))], []byte("%%EOF\n"))
		},
		"offsets shifted": func(b []byte) []byte {
			at := bytes.Index(b, []byte("1 0 obj"))
			return slices.Concat(b[:at], []byte("% a comment a tool added\n"), b[at:])
		},
		"trailing garbage": func(b []byte) []byte { return append(b, "\n\n\x00\x00 some trailing bytes\n"...) },
	} {
		t.Run(name, func(t *testing.T) {
			pages, err := CheckPrecompiled(damage(testPDF{pages: 3}.build()))
			if err != nil || pages != 3 {
				t.Errorf("CheckPrecompiled = %d, %v; want 3, nil", pages, err)
			}
		})
	}
}

func TestCheckPrecompiledSurvivesHostileStructure(t *testing.T) {
	deep := "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages " + strings.Repeat("[", 10000) + " >>\nendobj\n" +
		"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
	loop := "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" +
		"2 0 obj\n<< /Type /Pages /Kids [2 0 R] /Count 1 >>\nendobj\n" +
		"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
	selfRef := "%PDF-1.4\n1 0 obj\n3 0 R\nendobj\n3 0 obj\n1 0 R\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
	bomb := fmt.Sprintf("%%PDF-1.5\n1 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n"+
		"trailer\n<< /Root 2 0 R >>\n%%%%EOF\n", len(deflate(make([]byte, 40<<20))), deflate(make([]byte, 40<<20)))
	for name, input := range map[string]string{"deep nesting": deep, "page tree loop": loop, "reference loop": selfRef, "decompression bomb": bomb} {
		t.Run(name, func(t *testing.T) {
			_, err := CheckPrecompiled([]byte(input))
			refused(t, err, ErrUnreadable, "")
		})
	}
}

func TestPrecompiledErrorReasons(t *testing.T) {
	for kind, want := range map[error]string{
		ErrTooManyPages: "letter-too-long",
		ErrNotA4:        "letter-not-a4-portrait-oriented",
		ErrUnreadable:   "unable-to-read-the-file",
		ErrNotPDF:       "unable-to-read-the-file",
		ErrTooBig:       "file-too-big",
	} {
		if got := (&PrecompiledError{Kind: kind}).Reason(); got != want {
			t.Errorf("Reason for %v = %q, want %q", kind, got, want)
		}
	}
}

func FuzzCheckPrecompiled(f *testing.F) {
	f.Add(testPDF{pages: 2}.build())
	f.Add(testPDF{pages: 3, compact: true, nested: true}.build())
	if pdf, _, err := Render(sampleLetter()); err == nil {
		f.Add(pdf)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pages, err := CheckPrecompiled(b)
		if err == nil && (pages < 1 || pages > MaxPages) {
			t.Fatalf("accepted a PDF of %d pages", pages)
		}
		var pe *PrecompiledError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error %v is not a PrecompiledError", err)
		}
	})
}

func BenchmarkCheckPrecompiled(b *testing.B) {
	pdf := testPDF{pages: 10, compact: true, nested: true}.build()
	for b.Loop() {
		if _, err := CheckPrecompiled(pdf); err != nil {
			b.Fatal(err)
		}
	}
}
