package content

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Hello ((name))", []string{"name"}},
		{"((First name)) ((first_name)) ((FIRSTNAME)) ((first-name))", []string{"First name"}},
		{"((a)) ((b)) ((a))", []string{"a", "b"}},
		{"((show??Some text)) ((show))", []string{"show"}},
		{"((a??b??c))", []string{"a"}},
		{"(((nested))) ((not (valid)))", []string{"nested"}},
		{"(no) ((  )) text", []string{"  "}},
		{"no placeholders", nil},
	}
	for _, tt := range tests {
		if got := Placeholders(tt.text); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Placeholders(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestMissing(t *testing.T) {
	parts := []string{"Your ((reference))", "Hello ((First Name)), ((code)) ((extra??yes))"}
	p := map[string]any{"first_name": "", "CODE": nil, "unused": 1}
	got := Missing(parts, p)
	want := []string{"reference", "code", "extra"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Missing = %q, want %q", got, want)
	}
	if msg := MissingMessage(got); msg != "Missing personalisation: reference, code, extra" {
		t.Errorf("MissingMessage = %q", msg)
	}
	if MissingMessage(nil) != "" {
		t.Error("MissingMessage(nil) should be empty")
	}
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFillValues(t *testing.T) {
	p := decode(t, `{"int": 3, "neg": -0, "big": 123456789012345678901234567890,
		"float": 3.0, "half": 0.5, "tiny": 0.00001, "small": 0.0001, "huge": 1e16, "large": 1e15,
		"exp": 1.5E-7, "yes": true, "no": false, "list": ["a", null, " b ", "", 2],
		"empty": [], "nested": [["x", 1]], "obj": {"k": "v", "a": 1.5}, "null": null}`)
	tests := []struct {
		text string
		ch   Channel
		want string
	}{
		{"((int)) ((neg)) ((big))", SMS, "3 0 123456789012345678901234567890"},
		{"((float)) ((half)) ((tiny)) ((small))", SMS, "3.0 0.5 1e-05 0.0001"},
		{"((huge)) ((large)) ((exp))", SMS, "1e+16 1000000000000000.0 1.5e-07"},
		{"((yes)) ((no))", SMS, "True False"},
		{"Items:((list))", Email, "Items:\n\n* a\n* b\n* 2"},
		{"Items: ((list))", SMS, "Items: a, b and 2"},
		{"Items:((list))", Letter, "Items:\n\n* a\n* b\n* 2"},
		{"[((empty))]", Email, "[]"},
		{"((nested))", SMS, "['x', 1]"},
		{"((obj))", SMS, "{'a': 1.5, 'k': 'v'}"},
		{"Hi ((null)) ((missing))", SMS, "Hi ((null)) ((missing))"},
		{"((INT))((In T))((i-n_t))", SMS, "333"},
	}
	for _, tt := range tests {
		if got := Fill(tt.text, p, tt.ch); got != tt.want {
			t.Errorf("Fill(%q, %s) = %q, want %q", tt.text, tt.ch, got, tt.want)
		}
	}
	// Without UseNumber, encoding/json gives float64: whole numbers read as integers.
	if got := Fill("((a)) ((b))", map[string]any{"a": float64(7), "b": 2.5}, SMS); got != "7 2.5" {
		t.Errorf("float64 values = %q", got)
	}
	if got := Fill("((one)) and ((two))", map[string]any{"one": []string{"x"}, "two": []any{"x", "y"}}, SMS); got != "x and x and y" {
		t.Errorf("lists = %q", got)
	}
}

func TestConditionalPlaceholders(t *testing.T) {
	for _, v := range []any{"yes", "Y", "TRUE", "t", "1", "include", "Show", true, json.Number("1")} {
		if got := Fill("a((flag??b??c))d", map[string]any{"flag": v}, Email); got != "ab??cd" {
			t.Errorf("value %v: got %q", v, got)
		}
	}
	for _, v := range []any{"no", "", "0", "false", "nope", false, json.Number("1.0"), []any{"yes"}} {
		if got := Fill("a((flag?? b))d", map[string]any{"flag": v}, Email); got != "ad" {
			t.Errorf("value %v: got %q", v, got)
		}
	}
	if got := Fill("a((flag??b))", nil, Email); got != "a((flag??b))" {
		t.Errorf("missing conditional = %q", got)
	}
}

func TestKeyCollisions(t *testing.T) {
	p := map[string]any{"First Name": "a", "firstname": "b", "FIRST_NAME": "c"}
	for range 20 {
		if got := Fill("((first name))", p, SMS); got != "b" {
			t.Fatalf("collision resolved to %q, want the key already in normal form", got)
		}
	}
	if got := Fill("((x))", map[string]any{"X-": "1", "x_": "2"}, SMS); got != "1" {
		t.Errorf("collision without normal form = %q, want alphabetically first key", got)
	}
}

func TestIsAddressPlaceholder(t *testing.T) {
	for _, name := range []string{"address_line_1", "Address Line 7", "postcode", "POST-CODE"} {
		if !IsAddressPlaceholder(name) {
			t.Errorf("%q should be an address placeholder", name)
		}
	}
	if IsAddressPlaceholder("address_line_8") || IsAddressPlaceholder("name") {
		t.Error("unexpected address placeholder")
	}
}
