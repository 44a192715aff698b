package letter

import (
	"strings"
	"unicode"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// Letters are set in the PDF core font Helvetica, so nothing has to be embedded and every PDF
// reader and print workflow can render them. Core fonts only reach the 218 characters of
// Windows-1252 (WinAnsiEncoding), which covers English, Welsh apart from ŵ and ŷ, and the
// Western European languages. Everything else is transliterated here rather than failing the
// letter: a recipient is better served by "Lodz" than by no letter at all.

// unrepresentable stands for a character with no sensible Latin equivalent (Chinese, Arabic,
// emoji and so on). A visible mark tells the reader something was there; a dropped character
// would silently change the text.
const unrepresentable = '?'

// substitutes maps characters outside Windows-1252 that neither canonical nor compatibility
// decomposition turns into something printable, but that have an obvious stand-in.
var substitutes = map[rune]string{
	'\u2010': "-", // hyphen
	'\u2011': "-", // non-breaking hyphen: lines never break inside words here anyway
	'\u2012': "\u2013",
	'\u2015': "\u2014",
	'\u2212': "-", // minus sign
	'\u2043': "-", // hyphen bullet
	'\u2032': "'", // prime
	'\u2033': "\"",
	'\u201B': "\u2018",
	'\u201F': "\u201C",
	'\u2027': "\u00B7",
	'\u2219': "\u00B7",
	'\u25CF': "\u2022", // black circle, often pasted in as a bullet
	'\u25E6': "\u2022",
	'\u2023': "\u2022",
	'\u2192': "->",
	'\u2190': "<-",
	'\u2264': "<=",
	'\u2265': ">=",
	'\u2260': "!=",
	'\u2248': "~",
	'\u2153': "1/3",
	'\u2154': "2/3",
	'\u0141': "L", // Ł has no decomposition
	'\u0142': "l",
	'\u0110': "D",
	'\u0111': "d",
	'\u0126': "H",
	'\u0127': "h",
	'\u0131': "i",
	'\u0166': "T",
	'\u0167': "t",
	'\u0218': "S", // comma-below letters used in Romanian
	'\u0219': "s",
	'\u021A': "T",
	'\u021B': "t",
	'\u2116': "No.",
}

// toWinAnsi converts UTF-8 text to the single-byte Windows-1252 string the core fonts expect.
// Newlines survive; tabs become spaces; other control and format characters (zero-width
// joiners, byte order marks, variation selectors) are dropped because they have no glyph.
func toWinAnsi(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		appendWinAnsi(&b, r)
	}
	return b.String()
}

func appendWinAnsi(b *strings.Builder, r rune) {
	switch {
	case r == '\n':
		b.WriteByte('\n')
		return
	case r == '\t':
		b.WriteByte(' ')
		return
	case r == unicode.ReplacementChar:
		b.WriteRune(unrepresentable)
		return
	case unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Mn, unicode.Me):
		return
	case unicode.IsSpace(r):
		// Every kind of space (thin, em, ideographic) prints as a space; only the
		// no-break space keeps its own code so that it still holds words together.
		if r == '\u00A0' {
			b.WriteByte(0xA0)
		} else {
			b.WriteByte(' ')
		}
		return
	}
	if c, ok := charmap.Windows1252.EncodeRune(r); ok {
		b.WriteByte(c)
		return
	}
	if sub, ok := substitutes[r]; ok {
		for _, sr := range sub {
			c, _ := charmap.Windows1252.EncodeRune(sr)
			b.WriteByte(c)
		}
		return
	}
	// Decomposition keeps the base letter of accented characters (ŵ → w, ő → o) and
	// spells out ligatures and compatibility forms (ﬁ → fi, full-width Ａ → A).
	wrote := false
	for _, d := range norm.NFKD.String(string(r)) {
		if unicode.In(d, unicode.Mn, unicode.Me) {
			continue
		}
		if c, ok := charmap.Windows1252.EncodeRune(d); ok && d >= ' ' {
			b.WriteByte(c)
			wrote = true
		}
	}
	if !wrote {
		b.WriteRune(unrepresentable)
	}
}
