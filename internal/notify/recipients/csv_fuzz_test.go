package recipients

import (
	"reflect"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/notify/content"
)

// encode writes records in the dialect records reads: a field is quoted when it holds a
// comma, a quote or a line break, starts with a space (which would otherwise be skipped), or
// is the only field of its record and empty (which would otherwise read as a blank line).
func encode(recs [][]string) string {
	var b strings.Builder
	for _, rec := range recs {
		for i, f := range rec {
			if i > 0 {
				b.WriteByte(',')
			}
			if strings.ContainsAny(f, ",\"\r\n") || strings.HasPrefix(f, " ") || (f == "" && len(rec) == 1) {
				b.WriteString(`"` + strings.ReplaceAll(f, `"`, `""`) + `"`)
			} else {
				b.WriteString(f)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

var fuzzRules = []Rules{
	{Type: content.Email, Subject: "((subject))", Body: "Hello ((name))\n\n((body??Some text))", MaxRows: 50},
	{Type: content.SMS, Body: "((message))", SMSPrefix: "Service", AllowUKLandlines: true, MaxRows: 50},
	{Type: content.SMS, Body: "Code ((code))", OnlyTo: &Allowed{Phones: map[string]bool{"447700900123": true}}},
	{Type: content.Letter, Subject: "Hi", Body: "((address line 1)) ((name))", AllowInternationalLetters: true, MaxRows: 50},
}

// FuzzCSVReader feeds arbitrary bytes to the reader and the checks. Whatever a file holds,
// reading it never fails; what was read survives being written out and read again; every row
// visited is numbered after the header and in order; the counts agree with the rows; and the
// length bounds never change a verdict.
func FuzzCSVReader(f *testing.F) {
	seeds := []string{
		"email address,name,subject,body\njo@example.gov.uk,Jo,Hi,yes\n",
		"phone number,message\n07700 900123,\"Hello, \"\"you\"\"\"\n\n+44 7700 900124,\n",
		"Address Line 1,address line 2,postcode,name\nJo,1 High St,LS1 1AA,Jo\n,,,\n",
		"\xEF\xBB\xBFphone_number,CODE\r\n07700900123,1\r\n",
		"email address\n\"unterminated\n",
		"a,\"b\"c,\" d\"\"\n\r\n\r",
		"name\nJos\xE9\n",
		",,\n\n\"\"\n",
		"phone number,message\n07700900123," + strings.Repeat("€", 500) + "\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		text := decode(data)
		recs := readAll(text)
		if again := readAll(encode(recs)); !reflect.DeepEqual(again, recs) && !(len(again) == 0 && len(recs) == 0) {
			t.Fatalf("records %q written and read again as %q", recs, again)
		}
		for _, rules := range fuzzRules {
			var rows []*Row
			sum := Check(data, rules, func(r *Row) { rows = append(rows, r) })
			var exact []*Row
			exactSum := Read(data).check(rules, 0, MaxRows, func(r *Row) { exact = append(exact, r) }, true)
			if !reflect.DeepEqual(sum, exactSum) || !reflect.DeepEqual(rows, exact) {
				t.Fatalf("%s: bounded and exact checks differ: %+v, %+v", rules.Type, sum, exactSum)
			}
			if len(sum.Problems) > 0 {
				if len(rows) != 0 || sum.OK() {
					t.Fatalf("%s: rows checked in a file with problems %v", rules.Type, sum.Problems)
				}
				continue
			}
			if len(rows) != sum.Rows {
				t.Fatalf("%s: visited %d rows, summary says %d", rules.Type, len(rows), sum.Rows)
			}
			bad, last := 0, 1
			for _, r := range rows {
				if r.Number <= last {
					t.Fatalf("%s: row %d after row %d", rules.Type, r.Number, last)
				}
				last = r.Number
				if !r.OK() {
					bad++
				}
				if r.OK() && rules.Type != content.Letter && r.To == "" {
					t.Fatalf("%s: row %d can be sent but has no recipient", rules.Type, r.Number)
				}
			}
			if bad != sum.BadRows {
				t.Fatalf("%s: %d bad rows, summary says %d", rules.Type, bad, sum.BadRows)
			}
		}
	})
}
