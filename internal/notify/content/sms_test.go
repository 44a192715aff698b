package content

import (
	"strings"
	"testing"
)

func TestRenderSMSCounts(t *testing.T) {
	tests := []struct {
		content string
		values  map[string]any
		prefix  string
		count   int
		body    string
	}{
		{"'First line.\n", nil, "", 12, "'First line."},
		{"\t\n\r", nil, "", 0, ""},
		{"Content with ((placeholder))", map[string]any{"placeholder": "something extra here"}, "", 33, "Content with something extra here"},
		{"Content with ((placeholder))", map[string]any{"placeholder": ""}, "", 12, "Content with"},
		{"((placeholder))  ", map[string]any{"placeholder": "  "}, "", 0, ""},
		{"Content with ((placeholder))", map[string]any{"placeholder": "something extra here"}, "GDS", 38, "Content with something extra here"},
		{"Just content", nil, "GDS", 17, "Just content"},
		{"((placeholder))  ", map[string]any{"placeholder": "  "}, "GDS", 4, ""},
		{"  G      D       S  ", nil, "", 5, "G D S"},
		{"P1 \n\n\n\n\n\n P2", nil, "", 6, "P1\n\nP2"},
		{"a    ((placeholder))    b", map[string]any{"placeholder": ""}, "", 3, "a b"},
		{"Hello\r\n\r\n\r\nWorld , ok .", nil, "", 17, "Hello\n\nWorld, ok."},
		{"مرحبا Test 𠮷 😀", nil, "", 16, "مرحبا Test 𠮷 😀"},
		{"👨‍👩‍👧‍👦", nil, "", 11, "👨‍👩‍👧‍👦"},
		{"– — “ ” …", nil, "", 11, `- - " " ...`},
		{"„Cześć\"", nil, "", 7, `"Cześć"`},
		{"zero\u200bwidth\u00a0space\ttab", nil, "", 19, "zerowidth space tab"},
		{"Items: ((list))", map[string]any{"list": []any{"a", "b", "c"}}, "", 17, "Items: a, b and c"},
	}
	for _, tt := range tests {
		m := RenderSMS(tt.content, tt.values, tt.prefix)
		if m.Characters != tt.count || m.Body != tt.body {
			t.Errorf("RenderSMS(%q, prefix %q) = %d %q, want %d %q", tt.content, tt.prefix, m.Characters, m.Body, tt.count, tt.body)
		}
	}
	// U+2F9F4 is outside the Basic Multilingual Plane, so it counts as two.
	m := RenderSMS("\U0002F9F4", nil, "👨‍👩‍👧‍👦")
	if m.Message != "👨‍👩‍👧‍👦: \U0002F9F4" || m.Characters != 15 || m.CharactersWithoutPrefix != 2 {
		t.Errorf("unicode prefix: %+v", m)
	}
}

func TestSMSFragments(t *testing.T) {
	tests := []struct {
		content   string
		encoding  Encoding
		fragments int
	}{
		{strings.Repeat("à", 160), GSM7, 1},
		{strings.Repeat("à", 161), GSM7, 2},
		{strings.Repeat("à", 306), GSM7, 2},
		{strings.Repeat("à", 307), GSM7, 3},
		{strings.Repeat("à", 918), GSM7, 6},
		{strings.Repeat("à", 919), GSM7, 7},
		{strings.Repeat("ÿ", 70), UCS2, 1},
		{strings.Repeat("ÿ", 71), UCS2, 2},
		{strings.Repeat("ÿ", 134), UCS2, 2},
		{strings.Repeat("ÿ", 135), UCS2, 3},
		{strings.Repeat("ÿ", 402), UCS2, 6},
		{strings.Repeat("ÿ", 403), UCS2, 7},
		{strings.Repeat("à", 70) + "ÿ", UCS2, 2},
		{strings.Repeat("🚀", 35), UCS2, 1},
		{strings.Repeat("🚀", 36), UCS2, 2},
		{strings.Repeat("^", 80), GSM7, 1},
		{strings.Repeat("^", 81), GSM7, 2},
		{strings.Repeat("a", 158) + "|", GSM7, 1},
		{strings.Repeat("a", 159) + "|", GSM7, 2},
		{strings.Repeat("a", 304) + "[]", GSM7, 3},
		{strings.Repeat("â", 69) + "{", UCS2, 1},
		{strings.Repeat("â", 70) + "{", UCS2, 2},
		{strings.Repeat("a", 160) + "–", GSM7, 2},
		{strings.Repeat("a", 150) + "“…”", GSM7, 1},
		{"", GSM7, 1},
	}
	for _, tt := range tests {
		enc, _, frags := SMSFragments(tt.content)
		m := RenderSMS(tt.content, nil, "")
		if enc != tt.encoding || frags != tt.fragments || m.Encoding != enc || m.Fragments != frags {
			t.Errorf("SMSFragments(%.12q… len %d) = %s %d, want %s %d", tt.content, len(tt.content), enc, frags, tt.encoding, tt.fragments)
		}
	}
}

func TestSMSCheck(t *testing.T) {
	tests := []struct {
		content string
		prefix  string
		want    string
	}{
		{"((x))", "", "Your message is empty."},
		{"((x))", "Service", "Your message is empty."},
		{strings.Repeat("a", 918), "A long service name", ""},
		{strings.Repeat("a", 919), "", "Your message is too long. Text messages cannot be longer than 918 characters. Your message is 919 characters long."},
		{strings.Repeat("😀", 460), "", "Your message is too long. Text messages cannot be longer than 918 characters. Your message is 920 characters long."},
	}
	for _, tt := range tests {
		err := RenderSMS(tt.content, map[string]any{"x": " "}, tt.prefix).Check()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Check(%.10q…) = %q, want %q", tt.content, got, tt.want)
		}
	}
}

func TestNormaliseSMS(t *testing.T) {
	if got := NormaliseSMS("  Hi ,  there\r\n\r\n\r\n\r\nBye…  "); got != "Hi, there\n\nBye..." {
		t.Errorf("NormaliseSMS = %q", got)
	}
}
