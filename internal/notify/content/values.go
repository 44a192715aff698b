package content

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// formatValue turns a personalisation value into the text that replaces its placeholder.
// Numbers and booleans are written the way the reference (a Python service) writes them,
// because service teams compare rendered messages with what GOV.UK Notify produced.
func formatValue(val any, markdownLists bool) string {
	if items, ok := listItems(val); ok {
		return formatList(items, markdownLists)
	}
	return pyStr(val)
}

// listItems reports whether val is a JSON array and, if so, its usable items: JSON nulls
// are dropped, each item is cleaned of invisible whitespace, and empty items are dropped.
func listItems(val any) ([]string, bool) {
	var raw []any
	switch l := val.(type) {
	case []any:
		raw = l
	case []string:
		raw = make([]any, len(l))
		for i, s := range l {
			raw[i] = s
		}
	default:
		rv := reflect.ValueOf(val)
		if rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() == reflect.Uint8 {
			return nil, false
		}
		raw = make([]any, rv.Len())
		for i := range raw {
			raw[i] = rv.Index(i).Interface()
		}
	}
	items := make([]string, 0, len(raw))
	for _, item := range raw {
		if item == nil {
			continue
		}
		if s := stripObscure(pyStr(item)); s != "" {
			items = append(items, s)
		}
	}
	return items, true
}

// formatList writes a list as markdown bullets for emails and letters (the leading blank
// line starts a new block so the bullets render as a list) or as "a, b and c" for texts.
func formatList(items []string, markdownLists bool) string {
	if len(items) == 0 {
		return ""
	}
	if markdownLists {
		var b strings.Builder
		b.WriteString("\n")
		for _, item := range items {
			b.WriteString("\n* ")
			b.WriteString(item)
		}
		return b.String()
	}
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// pyStr renders a value as Python's str() would for the value decoded from JSON.
func pyStr(val any) string {
	switch v := val.(type) {
	case nil:
		return "None"
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	case json.Number:
		return pyNumber(string(v))
	case float64:
		return pyFloatOrInt(v)
	case float32:
		return pyFloatOrInt(float64(v))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v)
	case map[string]any:
		return pyDictRepr(v)
	case []any:
		return pyListRepr(v)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(val)
}

// pyNumber formats a JSON number literal as Python's json module would decode and print
// it: literals with a fraction or exponent become floats, the rest integers of any size.
func pyNumber(lit string) string {
	if strings.ContainsAny(lit, ".eE") {
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil && !math.IsInf(f, 0) {
			return lit
		}
		return pyFloat(f)
	}
	var n big.Int
	if _, ok := n.SetString(lit, 10); !ok {
		return lit
	}
	return n.String()
}

// pyFloatOrInt handles numbers decoded into float64 by encoding/json, which cannot tell
// 3 from 3.0. Whole numbers within float64's exact integer range are taken to have been
// written as integers, the common case; callers wanting exactness decode with UseNumber.
func pyFloatOrInt(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return pyFloat(f)
}

// pyFloat is Python's repr of a float: the shortest round-tripping digits, positional
// notation with at least one decimal place for exponents from -5 to 15, scientific
// notation with a two-digit exponent outside that range.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return sci
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyRepr is Python's repr, used for items nested inside lists and objects.
func pyRepr(val any) string {
	if s, ok := val.(string); ok {
		return pyStringRepr(s)
	}
	return pyStr(val)
}

func pyStringRepr(s string) string {
	quote := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(quote):
			b.WriteByte('\\')
			b.WriteByte(quote)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

func pyListRepr(l []any) string {
	parts := make([]string, len(l))
	for i, item := range l {
		parts[i] = pyRepr(item)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// pyDictRepr writes keys in sorted order: Go maps have lost the JSON order Python keeps,
// and a stable order matters more than matching an order we cannot know.
func pyDictRepr(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = pyStringRepr(k) + ": " + pyRepr(m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// PythonNumber prints a JSON number literal as GOV.UK Notify (in Python) prints it, for
// messages that quote a value back.
func PythonNumber(lit string) string { return pyNumber(lit) }

// PythonFloat prints a float as Python's repr does.
func PythonFloat(f float64) string { return pyFloat(f) }
