package letter

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// A small reader for PDF's object syntax (ISO 32000-1 §7.2–7.3), enough to find and walk the
// page tree of a precompiled letter. It never trusts the input: every read is bounds-checked,
// nesting is capped, and it reports malformed input as an error instead of panicking.

type (
	pdfName   string
	pdfString string
	pdfArray  []any
	pdfDict   map[pdfName]any
	pdfRef    struct{ num, gen int }
	// pdfStream is a stream object with its data still encoded.
	pdfStream struct {
		dict pdfDict
		data []byte
	}
	// pdfKeyword is a bare word other than true, false and null, such as obj or endobj.
	pdfKeyword string
)

// maxNesting bounds arrays and dictionaries inside one another, so that a hostile file cannot
// exhaust the stack. Real documents nest a handful of levels.
const maxNesting = 64

var errSyntax = errors.New("malformed PDF syntax")

type lexer struct {
	data []byte
	pos  int
}

func isSpace(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isDelimiter(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// skip passes over white space and comments.
func (l *lexer) skip() {
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		switch {
		case isSpace(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

// word reads a run of regular characters: a number or a keyword.
func (l *lexer) word() []byte {
	start := l.pos
	for l.pos < len(l.data) && !isSpace(l.data[l.pos]) && !isDelimiter(l.data[l.pos]) {
		l.pos++
	}
	return l.data[start:l.pos]
}

// keyword reports whether the next token is kw, and consumes it if so.
func (l *lexer) keyword(kw string) bool {
	l.skip()
	save := l.pos
	if string(l.word()) == kw {
		return true
	}
	l.pos = save
	return false
}

// integer reads a non-negative integer token.
func (l *lexer) integer() (int, bool) {
	l.skip()
	save := l.pos
	n, err := strconv.Atoi(string(l.word()))
	if err != nil || n < 0 {
		l.pos = save
		return 0, false
	}
	return n, true
}

// value reads one object. An integer followed by another and R is read as a reference.
func (l *lexer) value(depth int) (any, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("%w: nested more than %d deep", errSyntax, maxNesting)
	}
	l.skip()
	if l.pos >= len(l.data) {
		return nil, fmt.Errorf("%w: unexpected end of data", errSyntax)
	}
	switch c := l.data[l.pos]; {
	case c == '/':
		l.pos++
		return pdfName(decodeName(l.word())), nil
	case c == '(':
		return l.literalString()
	case c == '<' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '<':
		l.pos += 2
		return l.dict(depth)
	case c == '<':
		return l.hexString()
	case c == '[':
		l.pos++
		var arr pdfArray
		for {
			l.skip()
			if l.pos < len(l.data) && l.data[l.pos] == ']' {
				l.pos++
				return arr, nil
			}
			v, err := l.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
	case isDelimiter(c):
		return nil, fmt.Errorf("%w: unexpected %q at offset %d", errSyntax, c, l.pos)
	}
	start := l.pos
	w := l.word()
	switch string(w) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if n, err := strconv.ParseInt(string(w), 10, 64); err == nil {
		if n >= 0 && w[0] != '+' {
			save := l.pos
			if gen, ok := l.integer(); ok && l.keyword("R") {
				return pdfRef{num: int(n), gen: gen}, nil
			}
			l.pos = save
		}
		return n, nil
	}
	if f, err := strconv.ParseFloat(string(w), 64); err == nil {
		return f, nil
	}
	if len(w) == 0 {
		return nil, fmt.Errorf("%w: unexpected byte at offset %d", errSyntax, start)
	}
	return pdfKeyword(w), nil
}

func (l *lexer) dict(depth int) (pdfDict, error) {
	d := pdfDict{}
	for {
		l.skip()
		if bytes.HasPrefix(l.data[l.pos:], []byte(">>")) {
			l.pos += 2
			return d, nil
		}
		key, err := l.value(depth + 1)
		if err != nil {
			return nil, err
		}
		name, ok := key.(pdfName)
		if !ok {
			return nil, fmt.Errorf("%w: dictionary key is not a name at offset %d", errSyntax, l.pos)
		}
		v, err := l.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d[name] = v
	}
}

func (l *lexer) literalString() (pdfString, error) {
	l.pos++ // (
	var b []byte
	for level := 1; l.pos < len(l.data); l.pos++ {
		c := l.data[l.pos]
		switch c {
		case '(':
			level++
		case ')':
			if level--; level == 0 {
				l.pos++
				return pdfString(b), nil
			}
		case '\\':
			l.pos++
			if l.pos >= len(l.data) {
				continue
			}
			c = l.data[l.pos]
			switch c {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r', '\n': // a line continuation
				if c == '\r' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '\n' {
					l.pos++
				}
				continue
			}
			if c >= '0' && c <= '7' {
				v := 0
				for k := 0; k < 3 && l.pos < len(l.data) && l.data[l.pos] >= '0' && l.data[l.pos] <= '7'; k++ {
					v = v*8 + int(l.data[l.pos]-'0')
					l.pos++
				}
				l.pos--
				c = byte(v)
			}
		}
		b = append(b, c)
	}
	return "", fmt.Errorf("%w: unterminated string", errSyntax)
}

func (l *lexer) hexString() (pdfString, error) {
	l.pos++ // <
	var b []byte
	var half byte
	odd := false
	for ; l.pos < len(l.data); l.pos++ {
		c := l.data[l.pos]
		var v byte
		switch {
		case c == '>':
			if odd {
				b = append(b, half<<4)
			}
			l.pos++
			return pdfString(b), nil
		case isSpace(c):
			continue
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return "", fmt.Errorf("%w: bad hex string at offset %d", errSyntax, l.pos)
		}
		if odd {
			b = append(b, half<<4|v)
		} else {
			half = v
		}
		odd = !odd
	}
	return "", fmt.Errorf("%w: unterminated hex string", errSyntax)
}

// decodeName undoes #xx escapes in a name.
func decodeName(w []byte) string {
	if bytes.IndexByte(w, '#') < 0 {
		return string(w)
	}
	var b []byte
	for i := 0; i < len(w); i++ {
		if w[i] == '#' && i+2 < len(w) {
			if v, err := strconv.ParseUint(string(w[i+1:i+3]), 16, 8); err == nil {
				b = append(b, byte(v))
				i += 2
				continue
			}
		}
		b = append(b, w[i])
	}
	return string(b)
}
