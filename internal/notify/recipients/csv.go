package recipients

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// The CSV dialect is the one spreadsheets export and GOV.UK Notify reads (Python's csv module
// with its "excel" dialect and skipinitialspace): fields separated by commas, a field quoted
// with double quotes when it holds a comma, a quote or a line break, and a quote inside a
// quoted field written twice. Reading is lenient, as Python's is: a quote in the middle of an
// unquoted field is an ordinary character, text after a closing quote joins the field, and a
// quoted field still open at the end of the file ends there. Nothing a person uploads is
// refused for its punctuation; at worst a cell holds something odd, which the row checks then
// report in words.

// decode turns an uploaded file into text. Spreadsheets save CSV as UTF-8, sometimes with a
// byte order mark, or (Excel's plain "CSV" choice) as Windows-1252; a file that is not valid
// UTF-8 is read as the latter, which maps every byte to a character. NUL characters are
// dropped: no message can carry them and PostgreSQL cannot store them.
func decode(data []byte) string {
	if !utf8.Valid(data) {
		if converted, err := charmap.Windows1252.NewDecoder().Bytes(data); err == nil {
			data = converted
		} else {
			data = []byte(strings.ToValidUTF8(string(data), "\uFFFD"))
		}
	}
	s := string(data)
	s = strings.TrimPrefix(s, "\uFEFF")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// records splits text into records of fields. Each record is one row of the spreadsheet,
// whatever line breaks its quoted cells hold; an empty line is a record with no fields, so that
// row numbers stay those the spreadsheet shows. A final line break does not start a record.
func records(text string, yield func(fields []string) bool) {
	var fields []string
	var quoted strings.Builder
	i := 0
	for i < len(text) {
		fields = fields[:0]
		// An empty line: no fields.
		if text[i] == '\n' || text[i] == '\r' {
			i = skipLineEnd(text, i)
			if !yield(fields) {
				return
			}
			continue
		}
		for {
			// skipinitialspace: spaces after a separator (and at the start of a line) are not
			// part of the field.
			for i < len(text) && text[i] == ' ' {
				i++
			}
			var field string
			if i < len(text) && text[i] == '"' {
				field, i = quotedField(text, i+1, &quoted)
			} else {
				start := i
				for i < len(text) && text[i] != ',' && text[i] != '\n' && text[i] != '\r' {
					i++
				}
				field = text[start:i]
			}
			fields = append(fields, field)
			if i < len(text) && text[i] == ',' {
				i++
				continue
			}
			break
		}
		if i < len(text) {
			i = skipLineEnd(text, i)
		}
		if !yield(fields) {
			return
		}
	}
}

// skipLineEnd moves past one line ending (\n, \r or \r\n) at i.
func skipLineEnd(text string, i int) int {
	if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
		return i + 2
	}
	return i + 1
}

// quotedField reads a field whose opening quote ends just before i, returning it and the
// index of the separator or line ending after it (or the end of the text).
func quotedField(text string, i int, b *strings.Builder) (string, int) {
	start := i
	// The common case: no doubled quotes and nothing after the closing quote, so the field is a
	// slice of the text.
	if end := strings.IndexByte(text[i:], '"'); end >= 0 {
		after := i + end + 1
		if after == len(text) || text[after] == ',' || text[after] == '\n' || text[after] == '\r' {
			return text[start : i+end], after
		}
	} else {
		return text[start:], len(text)
	}
	b.Reset()
	inQuotes := true
	for i < len(text) {
		c := text[i]
		switch {
		case inQuotes && c == '"':
			if i+1 < len(text) && text[i+1] == '"' {
				b.WriteByte('"')
				i += 2
				continue
			}
			inQuotes = false
			i++
		case !inQuotes && (c == ',' || c == '\n' || c == '\r'):
			return b.String(), i
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), i
}

// obscureSpace lists the invisible characters GOV.UK Notify removes from every cell, wherever
// they are: they are pasted in from web pages and documents and break addresses.
const obscureSpace = "\u180E\u200B\u200C\u200D\u2060\uFEFF"

// clean is a cell's value as a message uses it: invisible characters removed and surrounding
// whitespace (including non-breaking spaces) trimmed.
func clean(v string) string {
	for j := 0; j < len(v); j++ {
		if v[j] >= utf8.RuneSelf {
			if strings.ContainsAny(v, obscureSpace) {
				v = strings.Map(func(r rune) rune {
					if strings.ContainsRune(obscureSpace, r) {
						return -1
					}
					return r
				}, v)
			}
			return strings.TrimFunc(v, unicode.IsSpace)
		}
	}
	return strings.TrimSpace(v)
}

// blank reports whether a record has nothing in any cell: a row a spreadsheet left empty,
// which is skipped rather than reported.
func blank(fields []string) bool {
	for _, f := range fields {
		if clean(f) != "" {
			return false
		}
	}
	return true
}
