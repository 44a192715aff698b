package notify

import (
	"reflect"
	"testing"
)

var plainObjectSeeds = []string{
	`{"email_address":"a@example.com","template_id":"f33517ff-2a88-4f6e-b855-c550268ce08a","personalisation":{"name":"x"}}`,
	`{}`, ` { } `, `{"a":[]}`, `{"a":[1,-0.5e+3,true,false,null,{"b":"c"},[]]}`, `{"a":"£’😀"}`, `{"a":1,"a":2}`,
	`{"a":"\u00e9"}`, `{"a":"x\ny"}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":1}x`, `[1]`, `"s"`,
	`null`, `{"a":"\xff"}`, `{"a" "b"}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`, `{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":{"p":{"q":1}}}}}}}}}}}}}}}}}`,
	"{\"a\":\"b\"}\n", "\t{\"a\":\"b\"}\r\n", `{"a":"b"} {}`,
}

// TestDecodePlainObject holds decodePlainObject to encoding/json on bodies of the shapes it
// takes and of those it must leave alone.
func TestDecodePlainObject(t *testing.T) {
	for _, s := range plainObjectSeeds {
		checkDecodePlainObject(t, []byte(s))
	}
	if _, ok := decodePlainObject([]byte(plainObjectSeeds[0])); !ok {
		t.Fatal("a send's usual body was left to encoding/json")
	}
}

func FuzzDecodePlainObject(f *testing.F) {
	for _, s := range plainObjectSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkDecodePlainObject)
}

func checkDecodePlainObject(t *testing.T, raw []byte) {
	got, ok := decodePlainObject(raw)
	if !ok {
		return
	}
	want, wantOK := decodeJSONDocument(raw)
	if !wantOK || !reflect.DeepEqual(any(got), want) {
		t.Fatalf("decodePlainObject(%q) = %#v; encoding/json gives %#v, %v", raw, got, want, wantOK)
	}
}
