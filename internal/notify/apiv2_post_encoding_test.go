package notify

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestPostResponseEncoding holds appendPostResponse to encoding/json's encoding of
// postResponse, for every channel and for strings with everything encoding/json escapes.
func TestPostResponseEncoding(t *testing.T) {
	pieces := []string{"", "a", "Hello ((name))", "\r\n", "\t", "\x00", "\x1f", "\x7f", `"`, `\`, "<", ">", "&", "£", "’",
		"\u2028", "\u2029", "\xff", "\xe2\x80", "😀", "\ufffd", "https://commons.test", " "}
	rng := rand.New(rand.NewPCG(3, 4))
	str := func() string {
		s := ""
		for range rng.IntN(6) {
			s += pieces[rng.IntN(len(pieces))]
		}
		return s
	}
	for i := range 20_000 {
		n := Notification{ID: str(), ServiceID: str(), TemplateID: str(), TemplateVersion: rng.IntN(1000) - 10,
			Type: []Channel{Email, SMS, Letter, ""}[i%4], ClientReference: str(), Body: str(), Subject: str(),
			Sender: str(), UnsubscribeURL: str()}
		res := sendResult{Notification: n, FromEmail: str()}
		if rng.IntN(3) == 0 {
			res.Sanitised = map[string]sanitisedValue{str(): {Unsanitised: str(), Sanitised: str()}, "b": {Unsanitised: 1.5}}
		} else if rng.IntN(2) == 0 {
			res.Sanitised = map[string]sanitisedValue{}
		}
		root := str()
		want, err := json.Marshal(postResponse(root, res))
		if err != nil {
			t.Fatal(err)
		}
		if got := appendPostResponse(nil, root, res); string(got) != string(want) {
			t.Fatalf("appendPostResponse(%q, %#v)\n got %s\nwant %s", root, res, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a<b>&c", "\u2028\xff\x00", "£’😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}
