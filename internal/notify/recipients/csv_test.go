package recipients

import (
	"reflect"
	"testing"
)

// readAll collects the records of text.
func readAll(text string) [][]string {
	var out [][]string
	records(text, func(fields []string) bool {
		out = append(out, append([]string{}, fields...))
		return true
	})
	return out
}

// The dialect is Python's csv module with skipinitialspace, which GOV.UK Notify reads files
// with; these are the cases spreadsheets produce and people type.
func TestRecordsReadTheSpreadsheetDialect(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want [][]string
	}{
		{"plain", "a,b,c\n1,2,3\n", [][]string{{"a", "b", "c"}, {"1", "2", "3"}}},
		{"no final newline", "a,b\n1,2", [][]string{{"a", "b"}, {"1", "2"}}},
		{"windows line endings", "a,b\r\n1,2\r\n", [][]string{{"a", "b"}, {"1", "2"}}},
		{"old mac line endings", "a,b\r1,2\r", [][]string{{"a", "b"}, {"1", "2"}}},
		{"empty cells", "a,,c\n,,\n", [][]string{{"a", "", "c"}, {"", "", ""}}},
		{"empty line keeps its row", "a\n\nb\n", [][]string{{"a"}, {}, {"b"}}},
		{"quoted comma", `"Smith, Jo",x` + "\n", [][]string{{"Smith, Jo", "x"}}},
		{"doubled quote", `"say ""hi""",x`, [][]string{{`say "hi"`, "x"}}},
		{"line break inside quotes", "\"line 1\nline 2\",x\ny,z\n", [][]string{{"line 1\nline 2", "x"}, {"y", "z"}}},
		{"space after comma skipped", `a, "b, c", d`, [][]string{{"a", "b, c", "d"}}},
		{"quote inside unquoted field", `it"s,x`, [][]string{{`it"s`, "x"}}},
		{"text after closing quote", `"ab"cd,x`, [][]string{{"abcd", "x"}}},
		{"unterminated quote runs to the end", "\"abc\nd,e", [][]string{{"abc\nd,e"}}},
		{"trailing comma", "a,b,\n", [][]string{{"a", "b", ""}}},
		{"only a comma", ",", [][]string{{"", ""}}},
		{"empty text", "", nil},
	}
	for _, c := range cases {
		if got := readAll(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %q read as %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"utf-8 with a byte order mark", []byte("\xEF\xBB\xBFemail address\n"), "email address\n"},
		{"windows-1252 from Excel", []byte("name\nJos\xE9 \x93quoted\x94\n"), "name\nJosé “quoted”\n"},
		{"nul characters dropped", []byte("a\x00b"), "ab"},
	}
	for _, c := range cases {
		if got := decode(c.in); got != c.want {
			t.Errorf("%s: decoded %q, want %q", c.name, got, c.want)
		}
	}
}

func TestCleanCells(t *testing.T) {
	cases := map[string]string{
		"  plain  ":                     "plain",
		"\u00a0non-breaking\u00a0":      "non-breaking",
		"zero\u200bwidth\ufeff":         "zerowidth",
		"\u200b  hidden at the start ":  "hidden at the start",
		"tab\tinside stays":             "tab\tinside stays",
		"line\nbreak inside stays\n\n ": "line\nbreak inside stays",
	}
	for in, want := range cases {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}
