package apiauth

// scanClaims finds the iss, iat and exp members of a JWT claims set without encoding/json, for
// the shape clients send: one flat JSON object whose keys are printable ASCII without escapes
// and whose values are strings without escapes, numbers, true, false or null. It returns each
// member's JSON text (the last one, when a key repeats) as sub-slices of p. For anything else —
// nested values, escapes, non-ASCII keys, text that is not JSON — it reports false and the
// caller asks encoding/json instead. Where it reports true it agrees with encoding/json, which
// matches keys to fields without regard to case and lets a later duplicate win; a fuzz test
// holds the two together.
func scanClaims(p []byte) (iss, iat, exp []byte, ok bool) {
	if len(p) == 0 || p[0] != '{' {
		return nil, nil, nil, false
	}
	i := skipSpace(p, 1)
	if i < len(p) && p[i] == '}' {
		return nil, nil, nil, skipSpace(p, i+1) == len(p)
	}
	for {
		if i >= len(p) || p[i] != '"' {
			return nil, nil, nil, false
		}
		j := i + 1
		for j < len(p) && p[j] != '"' {
			if c := p[j]; c < 0x20 || c >= 0x80 || c == '\\' {
				return nil, nil, nil, false
			}
			j++
		}
		if j >= len(p) {
			return nil, nil, nil, false
		}
		key := p[i+1 : j]
		i = skipSpace(p, j+1)
		if i >= len(p) || p[i] != ':' {
			return nil, nil, nil, false
		}
		i = skipSpace(p, i+1)
		end, valid := scanScalar(p, i)
		if !valid {
			return nil, nil, nil, false
		}
		switch value := p[i:end]; {
		case foldedEqual(key, "iss"):
			iss = value
		case foldedEqual(key, "iat"):
			iat = value
		case foldedEqual(key, "exp"):
			exp = value
		}
		i = skipSpace(p, end)
		if i >= len(p) {
			return nil, nil, nil, false
		}
		switch p[i] {
		case ',':
			i = skipSpace(p, i+1)
		case '}':
			return iss, iat, exp, skipSpace(p, i+1) == len(p)
		default:
			return nil, nil, nil, false
		}
	}
}

// scanScalar returns the end of the string without escapes, number or literal at p[i:].
func scanScalar(p []byte, i int) (end int, ok bool) {
	if i >= len(p) {
		return i, false
	}
	switch c := p[i]; {
	case c == '"':
		for j := i + 1; j < len(p); j++ {
			switch c := p[j]; {
			case c == '"':
				return j + 1, true
			case c < 0x20 || c == '\\':
				return j, false
			}
		}
		return len(p), false
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(p, i)
	case c == 't':
		return literal(p, i, "true")
	case c == 'f':
		return literal(p, i, "false")
	case c == 'n':
		return literal(p, i, "null")
	}
	return i, false
}

// scanNumber returns the end of the JSON number at p[i:], following RFC 8259's grammar:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func scanNumber(p []byte, i int) (end int, ok bool) {
	if p[i] == '-' {
		i++
	}
	switch {
	case i < len(p) && p[i] == '0':
		i++
	case i < len(p) && p[i] >= '1' && p[i] <= '9':
		i = digits(p, i)
	default:
		return i, false
	}
	if i < len(p) && p[i] == '.' {
		if i++; i >= len(p) || !isDigit(p[i]) {
			return i, false
		}
		i = digits(p, i)
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		if i++; i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if i >= len(p) || !isDigit(p[i]) {
			return i, false
		}
		i = digits(p, i)
	}
	return i, true
}

func digits(p []byte, i int) int {
	for i < len(p) && isDigit(p[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func literal(p []byte, i int, word string) (end int, ok bool) {
	if len(p)-i < len(word) || string(p[i:i+len(word)]) != word {
		return i, false
	}
	return i + len(word), true
}

// skipSpace returns the index of the first byte at or after i that is not JSON whitespace.
func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// foldedEqual reports whether the ASCII key equals the lower-case name without regard to case.
func foldedEqual(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := range key {
		if lowerByte(key[i]) != name[i] {
			return false
		}
	}
	return true
}
