package letter

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

var testDate = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

func sampleLetter() Letter {
	return Letter{
		AddressLines: []string{"Ms Jane Smith", "Flat 2", "12 Acacia Avenue", "Little Snoring", "NR21 0AA"},
		ContactBlock: "Licensing Team\nDepartment for Examples\nPO Box 1234\nLondon\nSW1A 2AA",
		Heading:      "Your licence application",
		Body:         "Dear Ms Smith,\n\nWe have your application.\n\n# What happens next\n\n* we check it\n* we decide",
		Date:         testDate,
		Postage:      "second",
	}
}

// pageTexts returns the decoded content stream of each page of a PDF, where the text drawn
// appears as "(text) Tj".
func pageTexts(t *testing.T, pdf []byte) []string {
	t.Helper()
	d := newDocument(pdf)
	if err := d.readIndex(); err != nil {
		t.Fatalf("read index: %v", err)
	}
	root, _ := d.dictOf(d.trailer["Root"])
	tree, _ := d.dictOf(root["Pages"])
	kids, _ := d.resolve(tree["Kids"])
	var out []string
	for _, kid := range kids.(pdfArray) {
		page, _ := d.dictOf(kid)
		v, err := d.resolve(page["Contents"])
		if err != nil {
			t.Fatal(err)
		}
		data, err := d.decode(v.(*pdfStream))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(data))
	}
	return out
}

func TestRenderIsAPrintableLetter(t *testing.T) {
	pdf, pages, err := Render(sampleLetter())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("output starts %q", pdf[:min(8, len(pdf))])
	}
	if pages != 1 {
		t.Errorf("pages = %d, want 1", pages)
	}
	checked, err := CheckPrecompiled(pdf)
	if err != nil || checked != pages {
		t.Errorf("CheckPrecompiled = %d, %v; want %d, nil", checked, err, pages)
	}
	text := pageTexts(t, pdf)[0]
	for _, want := range []string{
		"(MS JANE SMITH)", "(FLAT 2)", "(12 ACACIA AVENUE)", "(LITTLE SNORING)", "(NR21 0AA)",
		"(Licensing Team)", "(SW1A 2AA)", "(29 November 2026)", "(Your licence application)",
		"(What happens next)", "(we check it)", "(Page 1 of 1)",
	} {
		if !strings.Contains(text, want+" Tj") {
			t.Errorf("page 1 does not draw %s", want)
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a, _, err := Render(sampleLetter())
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := Render(sampleLetter())
	if !bytes.Equal(a, b) {
		t.Error("the same letter rendered to different bytes")
	}
	if !bytes.Contains(a, []byte("/CreationDate (D:20261129100000)")) {
		t.Error("creation date is not the letter's date")
	}
}

func TestRenderPrintsTheUKDate(t *testing.T) {
	l := sampleLetter()
	l.Date = time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC) // 00:30 on 1 July in London
	pdf, _, err := Render(l)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pageTexts(t, pdf)[0], "(1 July 2026) Tj") {
		t.Error("date is not the UK date")
	}
}

func TestLongLetterNumbersEveryPage(t *testing.T) {
	l := sampleLetter()
	l.Body = strings.Repeat("A paragraph of a long letter, long enough to wrap over several lines of the page. "+
		"It goes on for a while so that the letter runs to more than one page.\n\n", 25)
	pdf, pages, err := Render(l)
	if err != nil {
		t.Fatal(err)
	}
	if pages != 3 {
		t.Fatalf("pages = %d, want 3", pages)
	}
	texts := pageTexts(t, pdf)
	for i, want := range []string{"(Page 1 of 3) Tj", "(Page 2 of 3) Tj", "(Page 3 of 3) Tj"} {
		if !strings.Contains(texts[i], want) {
			t.Errorf("page %d lacks %s", i+1, want)
		}
	}
	if strings.Contains(texts[1], "(MS JANE SMITH)") {
		t.Error("the address is repeated on page 2")
	}
	if n, err := CheckPrecompiled(pdf); n != 3 || err != nil {
		t.Errorf("CheckPrecompiled = %d, %v", n, err)
	}
}

func TestPageBreak(t *testing.T) {
	l := sampleLetter()
	l.Body = "First page.\n\n***\n\nSecond page.\n\n---\n\n---\n\nThird page."
	pdf, pages, err := Render(l)
	if err != nil {
		t.Fatal(err)
	}
	if pages != 3 {
		t.Fatalf("pages = %d, want 3 (a break on an empty page adds no page)", pages)
	}
	texts := pageTexts(t, pdf)
	if !strings.Contains(texts[1], "(Second page.)") || !strings.Contains(texts[2], "(Third page.)") {
		t.Error("text after a page break is not on the next page")
	}
}

func TestTooLong(t *testing.T) {
	if TooLong(MaxPages) || !TooLong(MaxPages+1) {
		t.Errorf("TooLong(%d), TooLong(%d) = %v, %v", MaxPages, MaxPages+1, TooLong(MaxPages), TooLong(MaxPages+1))
	}
	l := sampleLetter()
	l.Body = strings.Repeat("Page of a very long letter.\n\n***\n\n", 11)
	pdf, pages, err := Render(l)
	if err != nil {
		t.Fatalf("a letter over the limit must still render: %v", err)
	}
	if pages != 11 || !TooLong(pages) {
		t.Fatalf("pages = %d, TooLong = %v", pages, TooLong(pages))
	}
	if _, err := CheckPrecompiled(pdf); !errors.Is(err, ErrTooManyPages) {
		t.Errorf("CheckPrecompiled error = %v, want ErrTooManyPages", err)
	}
}

func TestRenderRefusesWhatCannotBeALetter(t *testing.T) {
	for name, change := range map[string]func(*Letter){
		"two address lines":   func(l *Letter) { l.AddressLines = []string{"A", "B", " "} },
		"eight address lines": func(l *Letter) { l.AddressLines = strings.Split("a b c d e f g h", " ") },
		"no date":             func(l *Letter) { l.Date = time.Time{} },
		"unknown postage":     func(l *Letter) { l.Postage = "pigeon" },
	} {
		l := sampleLetter()
		change(&l)
		if _, _, err := Render(l); !errors.Is(err, ErrInvalidLetter) {
			t.Errorf("%s: error = %v, want ErrInvalidLetter", name, err)
		}
	}
}

func TestRenderSurvivesAnyText(t *testing.T) {
	l := sampleLetter()
	l.AddressLines = []string{"Mr Łukasz Wąż", "Tŷ Gwyn", "Heol y Frenhines", "Cardiff", "CF10 1AA"}
	l.Heading = "Eich cais – 申请 🎉"
	l.Body = "Zażółć gęślą jaźń. Ŵ ŷ. ﬁne. \u200bzero\u00a0width. \x00\x07 control. " +
		strings.Repeat("x", 400) + "\n\n" + "\xff invalid UTF-8"
	l.ContactBlock = "Swyddfa\r\nCaerdydd"
	pdf, _, err := Render(l)
	if err != nil {
		t.Fatal(err)
	}
	text := pageTexts(t, pdf)[0]
	for _, want := range []string{"(MR LUKASZ WAZ)", "(TY GWYN)", "(Caerdydd)"} {
		if !strings.Contains(text, want+" Tj") {
			t.Errorf("page does not draw %s", want)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	l := sampleLetter()
	l.Body = strings.Repeat(l.Body+"\n\n", 8)
	for b.Loop() {
		if _, _, err := Render(l); err != nil {
			b.Fatal(err)
		}
	}
}
