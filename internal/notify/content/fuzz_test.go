package content

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzPlaceholders(f *testing.F) {
	for _, seed := range []string{"Hello ((name))", "((a??b??c)) ((A)) (((x)))", "((", "))((", "((First name)) ((first_name))",
		"((x??((y))))", "((\u00e9))((É))", "((a-b)) ((a b)) ((a_b))"} {
		f.Add(seed, "value")
	}
	f.Fuzz(func(t *testing.T, text, value string) {
		names := Placeholders(text)
		seen := map[string]bool{}
		all := map[string]any{}
		for _, n := range names {
			key := NormaliseKey(n)
			if seen[key] {
				t.Fatalf("duplicate placeholder %q in %q", n, names)
			}
			seen[key] = true
			if !strings.Contains(text, "(("+n) {
				t.Fatalf("placeholder %q not in text", n)
			}
			all[n] = value
		}
		if got := Missing([]string{text}, nil); !slices.Equal(got, names) {
			t.Fatalf("Missing with no values = %q, want %q", got, names)
		}
		if got := Missing([]string{text}, all); len(got) != 0 {
			t.Fatalf("Missing with all values = %q", got)
		}
		if Fill(text, nil, Email) != text {
			t.Fatal("Fill without values changed the text")
		}
		if value == "" && len(Fill(text, all, Email)) > len(text) {
			t.Fatal("empty values made the text longer")
		}
	})
}

// ourTags are the only elements EmailHTML writes; anything else starting with "<" would
// mean escaping failed.
var ourTags = regexp.MustCompile(`^</?(?:p|a|h2|h3|hr|br|table|tr|td|ul|ol|li|div|blockquote)[ >]`)

func FuzzEmailHTML(f *testing.F) {
	for _, seed := range [][2]string{
		{"Hello ((name))", "<script>alert(1)</script>"},
		{"# Title\n\n* ((v))\n* b\n\n^ inset\n\n---\n\n[link](http://x.com \"t\")", `"><script>`},
		{"((v))", "[x](javascript:alert(1)) http://a.com/<script> &lt;script&gt;"},
		{"1. a\n2. b\n\n```\n<b>\n```", "<SCRIPT src=x>"},
		{"[a](<http://x>) ![i](src) [r][k]\n\n[k]: http://k \"<t>\"", "&#60;script&#62;"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, body, value string) {
		if !utf8.ValidString(body) || !utf8.ValidString(value) {
			return
		}
		filled := Fill(body, map[string]any{"v": value, "name": value}, Email)
		out := EmailHTML(filled)
		for i := strings.IndexByte(out, '<'); i >= 0; i = strings.IndexByte(out[i+1:], '<') + i + 1 {
			if !ourTags.MatchString(out[i:]) {
				t.Fatalf("unexpected markup at %q in %q", out[i:min(len(out), i+30)], out)
			}
			if strings.IndexByte(out[i+1:], '<') < 0 {
				break
			}
		}
		if text := EmailText(filled); !strings.HasSuffix(text, "\n") {
			t.Fatalf("plain text %q does not end with a newline", text)
		}
		EmailDocument(EmailSubject(body, map[string]any{"v": value}), out)
	})
}

func FuzzSMSEncoding(f *testing.F) {
	for _, seed := range []string{"", "Hello", "^{}[]~|€\\", "Croeso Ŵ", "👨‍👩‍👧‍👦", "– — “ ” …", strings.Repeat("a", 161),
		strings.Repeat("ÿ", 71), "a\r\n\r\n\r\nb , c .", "\u200b\u00a0\t\u2028"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			return
		}
		enc, chars, frags := SMSFragments(text)
		sent := NormaliseSMS(text)
		if chars != utf16Len(sent) {
			t.Fatalf("characters %d, but the message is %d UTF-16 units", chars, utf16Len(sent))
		}
		nonGSM := strings.ContainsFunc(sent, func(r rune) bool { return !gsmSet[r] })
		if (enc == UCS2) != nonGSM {
			t.Fatalf("encoding %s for %q", enc, sent)
		}
		switch enc {
		case UCS2:
			if want := max(1, ceilDiv(chars, 67)); chars > 70 && frags != want || chars <= 70 && frags != 1 {
				t.Fatalf("UCS-2 %d characters in %d fragments", chars, frags)
			}
		case GSM7:
			septets := chars + strings.Count(sent, "^") + strings.Count(sent, "{") + strings.Count(sent, "}") +
				strings.Count(sent, "\\") + strings.Count(sent, "[") + strings.Count(sent, "~") + strings.Count(sent, "]") +
				strings.Count(sent, "|") + strings.Count(sent, "€")
			if septets <= 160 && frags != 1 || septets > 160 && frags != ceilDiv(septets, 153) {
				t.Fatalf("GSM-7 %d septets in %d fragments", septets, frags)
			}
		default:
			t.Fatalf("unknown encoding %q", enc)
		}
		if m := RenderSMS(text, nil, ""); m.Characters != chars || m.Fragments != frags || m.Message != sent {
			t.Fatalf("RenderSMS disagrees: %+v", m)
		}
	})
}
