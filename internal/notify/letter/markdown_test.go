package letter

import (
	"strings"
	"testing"
)

// describe flattens blocks into one line each, for compact expectations.
func describe(blocks []block) []string {
	var out []string
	for _, b := range blocks {
		switch b.kind {
		case blockParagraph:
			out = append(out, "p:"+strings.Join(b.lines, "|"))
		case blockHeading:
			out = append(out, "h:"+strings.Join(b.lines, "|"))
		case blockPageBreak:
			out = append(out, "break")
		case blockList:
			var items []string
			for _, it := range b.items {
				loose := ""
				if it.loose {
					loose = "~"
				}
				items = append(items, strings.Repeat(">", it.depth)+it.marker+loose+strings.Join(it.lines, "|"))
			}
			out = append(out, "list:"+strings.Join(items, ";"))
		}
	}
	return out
}

// The expectations follow notifications-utils tests/test_markdown.py for the letter renderer.
func TestParseBody(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"paragraphs keep line breaks", "line one\nline two\n\nnew paragraph", []string{"p:line one|line two", "p:new paragraph"}},
		{"many blank lines", "before\n\n\n\n\n\nafter", []string{"p:before", "p:after"}},
		{"CRLF", "a\r\nb\r\n\r\nc", []string{"p:a|b", "p:c"}},
		{"level 1 heading", "# heading", []string{"h:heading"}},
		{"heading without a space", "#heading", []string{"h:heading"}},
		{"level 2 heading is a paragraph", "## heading", []string{"p:heading"}},
		{"level 3 heading is a paragraph", "### inset text", []string{"p:inset text"}},
		{"setext level 1", "Title\n=====", []string{"h:Title"}},
		{"setext level 2 is a paragraph", "Title\n-----", []string{"p:Title"}},
		{"stars break the page", "a\n\n***\n\nb", []string{"p:a", "break", "p:b"}},
		{"dashes break the page", "a\n\n---\n\nb", []string{"p:a", "break", "p:b"}},
		{"spaced underscores break the page", "a\n\n_ _ _\n\nb", []string{"p:a", "break", "p:b"}},
		{"a break interrupts a paragraph", "a\n***\nb", []string{"p:a", "break", "p:b"}},
		{"bullets", "* one\n* two\n* three", []string{"list:•one;•two;•three"}},
		{"bullets without spaces", "*one\n*two", []string{"list:•one;•two"}},
		{"dash and bullet characters", "- one\n• two", []string{"list:•one;•two"}},
		{"pluses are not lists", "+ one\n+ two", []string{"p:+ one|+ two"}},
		{"numbers", "1. one\n2. two\n3. three", []string{"list:1.one;2.two;3.three"}},
		{"numbers without spaces", "1.one\n2.two", []string{"list:1.one;2.two"}},
		{"numbering restarts at one", "7. one\n9. two", []string{"list:1.one;2.two"}},
		{"a list needs a blank line before it", "Things:\n* a\n* b", []string{"p:Things:|* a|* b"}},
		{"continuation lines join the item", "* one\ncarries on\n* two", []string{"list:•one|carries on;•two"}},
		{"nested", "* a\n  * b\n  * c\n* d", []string{"list:•a;>•b;>•c;•d"}},
		{"numbers in bullets", "* a\n  1. b\n  2. c\n* d", []string{"list:•a;>1.b;>2.c;•d"}},
		{"loose list", "* a\n\n* b\n\nafter", []string{"list:•~a;•b", "p:after"}},
		{"a break ends a list", "* a\n***\nb", []string{"list:•a", "break", "p:b"}},
		{"inset text is plain", "^ inset text\ncontinues", []string{"p:inset text|continues"}},
		{"tables are dropped", "col | col\n----|----\nval | val\n\nafter", []string{"p:after"}},
		{"indented text is not a list", "    * not a list", []string{"p:* not a list"}},
		{"empty", "  \n\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := describe(parseBody(tc.body))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("parseBody(%q)\n got %q\nwant %q", tc.body, got, tc.want)
			}
		})
	}
}

func TestParseInline(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"Visit https://www.gov.uk/apply now", "Visit [www.gov.uk/apply] now"},
		{"See http://example.com.", "See [example.com]."},
		{"(https://example.com/a)", "([example.com/a])"},
		{"Mail <help@example.com>", "Mail [help@example.com]"},
		{"Visit our [website](https://www.example.com/xyz).", "Visit our [website](https://www.example.com/xyz)."},
		{"something **important**", "something **important**"},
		{"variable called `thing`", "variable called `thing`"},
		{`an escaped \*star\*`, "an escaped *star*"},
		{`"Quoted," she said, 'twice'.`, "\u201cQuoted,\u201d she said, \u2018twice\u2019."},
		{"It's the '90s", "It\u2019s the \u201990s"},
		{"email o'neil@example.com please", "email o'neil@example.com please"},
		{"before - after", "before \u2013 after"},
		{"before -- after", "before \u2013 after"},
		{"well-known", "well-known"},
		{"hello , world .", "hello, world."},
	} {
		var b strings.Builder
		for _, s := range parseInline(tc.in) {
			if s.bold {
				b.WriteString("[" + s.text + "]")
			} else {
				b.WriteString(s.text)
			}
		}
		if b.String() != tc.want {
			t.Errorf("parseInline(%q) = %q, want %q", tc.in, b.String(), tc.want)
		}
	}
}

func TestToWinAnsi(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain ASCII", "plain ASCII"},
		{"café £5 €10 “quotes” – dash • bullet …", "caf\xe9 \xa35 \x8010 \x93quotes\x94 \x96 dash \x95 bullet \x85"},
		{"Tŷ Ŵ", "Ty W"},
		{"Łódź", "L\xf3dz"},
		{"ﬁne", "fine"},
		{"non\u2011breaking \u2212minus", "non-breaking -minus"},
		{"中文", "??"},
		{"emoji 🎉\ufe0f", "emoji ?"},
		{"zero\u200bwidth\ufeff", "zerowidth"},
		{"tab\there\x00\x07", "tab here"},
		{"thin\u2009space no\u00a0break", "thin space no\xa0break"},
		{"bad \xff byte", "bad ? byte"},
	} {
		if got := toWinAnsi(tc.in); got != tc.want {
			t.Errorf("toWinAnsi(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
