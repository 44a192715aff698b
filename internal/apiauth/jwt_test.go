package apiauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// claimSamples are payloads on both sides of what scanClaims reads itself.
var claimSamples = []string{
	`{}`, ` {}`, `{} `, "{\t}\n", `{`, `}`, `[]`, `null`, `"x"`, ``, `{}{}`, `{},`,
	`{"iss":"a","iat":1}`, `{"iss":"a","iat":1,}`, `{"iss":"a" "iat":1}`, `{"iss":"a",,"iat":1}`,
	`{ "iss" : "a" , "iat" : 1.5e3 }`, `{"ISS":"a","Iat":-0,"eXp":2E+9}`, `{"iss":"a","iss":null}`,
	`{"iss":null,"iss":"b"}`, `{"iss":1}`, `{"iss":true}`, `{"iss":false}`, `{"iss":nul}`, `{"iss":nulll}`,
	`{"iss":"\u0061"}`, `{"i\u0073s":"a"}`, `{"iſs":"a"}`, `{"iss":"é"}`, "{\"iss\":\"a\x01\"}",
	`{"iat":01}`, `{"iat":-}`, `{"iat":1.}`, `{"iat":.5}`, `{"iat":1e}`, `{"iat":1e+}`, `{"iat":+1}`,
	`{"iat":1e400}`, `{"iat":-1e400}`, `{"iat":"soon"}`, `{"iat":{}}`, `{"iat":[1]}`, `{"iat":{"a":1}}`,
	`{"iat":1,"other":{"nested":[1,2,{"x":null}]}}`, `{"":1}`, `{"x":"y\"z"}`, `{"iss":"a"}x`,
	`{"jti":"8c5d2b0a","iat":1800000000,"iss":"9b3b8a7e-1f7c-4a0e-9d6c-2f1b5c7d8e9f"}`,
}

// Where scanClaims answers, it must answer exactly as encoding/json does.
func FuzzScanClaims(f *testing.F) {
	for _, s := range claimSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		iss, iat, exp, ok := scanClaims(payload)
		jIss, jIat, jExp, jOK := decodeClaims(bytes.Clone(payload))
		if !ok {
			return
		}
		if !jOK {
			t.Fatalf("%q: scanned, but encoding/json refuses it", payload)
		}
		if !bytes.Equal(iss, jIss) || !bytes.Equal(iat, jIat) || !bytes.Equal(exp, jExp) {
			t.Fatalf("%q: scanned iss %q iat %q exp %q, encoding/json %q %q %q", payload, iss, iat, exp, jIss, jIat, jExp)
		}
	})
}

// The common shapes must be read by scanClaims itself, or the fast path is not doing its job.
func TestScanClaimsTakesCommonShapes(t *testing.T) {
	for _, s := range []string{
		`{"iss":"9b3b8a7e-1f7c-4a0e-9d6c-2f1b5c7d8e9f","iat":1800000000}`,
		`{"iat": 1800000000.25, "iss": "9b3b8a7e-1f7c-4a0e-9d6c-2f1b5c7d8e9f", "exp": null, "jti": "x", "admin": false}`,
	} {
		if _, _, _, ok := scanClaims([]byte(s)); !ok {
			t.Errorf("%s fell back to encoding/json", s)
		}
	}
}

// numericClaimOf must read a claim as encoding/json would read it into a float64.
func TestNumericClaimMatchesEncodingJSON(t *testing.T) {
	for _, raw := range []string{`null`, `0`, `-0`, `1800000000`, `1800000000.75`, `-1.5`, `1e9`, `2E+9`, `1e400`, `-1e400`, `"1"`, `true`, `false`, `{}`, `[]`} {
		c := numericClaimOf([]byte(raw))
		var f float64
		err := json.Unmarshal([]byte(raw), &f)
		ok := err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
		if !c.present || c.ok != ok || c.null != (raw == "null") {
			t.Errorf("%s: %+v, encoding/json ok=%v", raw, c, ok)
			continue
		}
		sec, frac := math.Modf(f)
		if ok && !c.at.Equal(time.Unix(int64(sec), int64(frac*1e9))) {
			t.Errorf("%s: at %v, want %v", raw, c.at, time.Unix(int64(sec), int64(frac*1e9)))
		}
	}
	if c := numericClaimOf(nil); c.present {
		t.Errorf("an absent claim reads as present: %+v", c)
	}
}

func TestKnownHeadersSayHS256(t *testing.T) {
	for _, seg := range []string{hs256Header, hs256HeaderTypFirst} {
		b, err := base64.RawURLEncoding.DecodeString(seg)
		var h struct {
			Alg string `json:"alg"`
		}
		if err != nil || json.Unmarshal(b, &h) != nil || h.Alg != "HS256" {
			t.Errorf("%s decodes to %s (%v)", seg, b, err)
		}
	}
}

// Tokens off the common path: each is decided as the general reading decides it.
func TestJWTUnusualShapes(t *testing.T) {
	a, _, now := fixture()
	iat := itoa(now.Unix())
	enc := base64.RawURLEncoding
	good := sign(hs256, claims(serviceID, now.Unix()), secretA)
	parts := strings.Split(good, ".")
	cases := []struct {
		name  string
		token string
		want  Reason // 0 means success
	}{
		{"padded signature", good + "=", 0},
		{"padded header and payload", signRaw(parts[0]+"=="+"."+parts[1]+"=", secretA), 0},
		{"header with spaces", sign(`{ "alg" : "HS256" }`, claims(serviceID, now.Unix()), secretA), 0},
		{"header not JSON", sign(`{alg:HS256}`, claims(serviceID, now.Unix()), secretA), MalformedToken},
		{"null header", sign(`null`, claims(serviceID, now.Unix()), secretA), WrongAlgorithm},
		{"keys in capitals", sign(hs256, `{"ISS":"`+serviceID+`","IAT":`+iat+`}`, secretA), 0},
		{"escaped iss", sign(hs256, `{"iss":"\u0039`+serviceID[1:]+`","iat":`+iat+`}`, secretA), 0},
		{"iss upper case", sign(hs256, claims(strings.ToUpper(serviceID), now.Unix()), secretA), 0},
		{"nested claim", sign(hs256, `{"iss":"`+serviceID+`","iat":`+iat+`,"ctx":{"a":[1,2]}}`, secretA), 0},
		{"later iss wins", sign(hs256, `{"iss":"nope","iss":"`+serviceID+`","iat":`+iat+`}`, secretA), 0},
		{"null iss", sign(hs256, `{"iss":null,"iat":`+iat+`}`, secretA), NoIssuer},
		{"numeric iss", sign(hs256, `{"iss":5,"iat":`+iat+`}`, secretA), MalformedToken},
		{"payload not an object", sign(hs256, `[1]`, secretA), MalformedToken},
		{"payload with leading space", sign(hs256, " "+claims(serviceID, now.Unix()), secretA), MalformedToken},
		{"trailing garbage", sign(hs256, claims(serviceID, now.Unix())+"x", secretA), MalformedToken},
		{"null iat", sign(hs256, `{"iss":"`+serviceID+`","iat":null}`, secretA), KeyNotFound},
		{"fractional iat", sign(hs256, `{"iss":"`+serviceID+`","iat":`+iat+`.5}`, secretA), 0},
		{"null exp", sign(hs256, `{"iss":"`+serviceID+`","iat":`+iat+`,"exp":null}`, secretA), MalformedToken},
		{"string exp", sign(hs256, `{"iss":"`+serviceID+`","iat":`+iat+`,"exp":"x"}`, secretA), MalformedToken},
		{"future exp", sign(hs256, `{"iss":"`+serviceID+`","iat":`+iat+`,"exp":`+itoa(now.Unix()+60)+`}`, secretA), 0},
		{"long payload", sign(hs256, `{"iss":"`+serviceID+`","iat":`+iat+`,"pad":"`+strings.Repeat("x", 2000)+`"}`, secretA), 0},
		{"short signature", parts[0] + "." + parts[1] + "." + parts[2][:20], KeyNotFound},
		{"long signature", good + enc.EncodeToString(make([]byte, 60)), KeyNotFound},
		{"signature not base64", parts[0] + "." + parts[1] + ".***", MalformedToken},
		{"payload not base64", parts[0] + ".***." + parts[2], MalformedToken},
		{"header not base64", "***." + parts[1] + "." + parts[2], MalformedToken},
		{"three dots", good + ".x", MalformedToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer "+tc.token)
			id, err := a.JWT(r)
			if tc.want == 0 {
				if err != nil || id.KeyID != "key-a" || id.ServiceID != serviceID {
					t.Fatalf("got %+v, %v; want key-a", id, err)
				}
				return
			}
			var f *Failure
			if !errors.As(err, &f) || f.Reason != tc.want {
				t.Fatalf("got %v, want reason %q", err, tc.want)
			}
		})
	}
}

// signRaw signs an already encoded header and payload.
func signRaw(input, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// A pooled MAC must give crypto/hmac's answer every time, from many goroutines at once.
func TestKeyMACMatchesHMAC(t *testing.T) {
	secrets := []string{secretA, secretB, "", strings.Repeat("k", 100)}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				secret := secrets[(g+i)%len(secrets)]
				m := newKeyMAC(secret)
				input := strings.Repeat("a.b", i)
				want := hmac.New(sha256.New, []byte(secret))
				want.Write([]byte(input))
				sum := want.Sum(nil)
				for range 3 {
					if !m.verify(input, sum) {
						t.Errorf("secret %q, input %d bytes: a good signature failed", secret, len(input))
						return
					}
				}
				bad := bytes.Clone(sum)
				bad[i%len(bad)] ^= 1
				if m.verify(input, bad) || m.verify(input, sum[:31]) {
					t.Errorf("secret %q, input %d bytes: a bad signature passed", secret, len(input))
					return
				}
			}
		})
	}
	wg.Wait()
}

// referenceJWT decides a token the plain way, with encoding/json throughout: what JWT decided
// before its parsing was made cheap. It returns the id of the matching key, or the reason for
// failing.
func referenceJWT(token string, keys map[string]ServiceKeys, now time.Time) (string, Reason) {
	enc := base64.RawURLEncoding
	first, last := strings.IndexByte(token, '.'), strings.LastIndexByte(token, '.')
	if first < 0 || first == last || strings.IndexByte(token[first+1:last], '.') >= 0 {
		return "", MalformedToken
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss, Iat, Exp json.RawMessage
	}
	hb, err := enc.DecodeString(strings.TrimRight(token[:first], "="))
	if err != nil || json.Unmarshal(hb, &header) != nil {
		return "", MalformedToken
	}
	pb, err := enc.DecodeString(strings.TrimRight(token[first+1:last], "="))
	if err != nil || len(pb) == 0 || pb[0] != '{' || json.Unmarshal(pb, &claims) != nil {
		return "", MalformedToken
	}
	var iss *string
	if claims.Iss != nil && string(claims.Iss) != "null" {
		var s string
		if json.Unmarshal(claims.Iss, &s) != nil {
			return "", MalformedToken
		}
		iss = &s
	}
	sig, err := enc.DecodeString(strings.TrimRight(token[last+1:], "="))
	if err != nil {
		return "", MalformedToken
	}
	if iss == nil {
		return "", NoIssuer
	}
	if !isUUID(*iss) {
		return "", BadIssuer
	}
	sk := keys[lowerASCII(*iss)]
	switch {
	case !sk.Found:
		return "", ServiceNotFound
	case len(sk.Keys) == 0:
		return "", NoKeys
	case sk.Archived:
		return "", ServiceArchived
	case header.Alg != "HS256":
		return "", WrongAlgorithm
	}
	numeric := func(raw json.RawMessage) (time.Time, bool) {
		var f float64
		if json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, false
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), true
	}
	for _, k := range sk.Keys {
		mac := hmac.New(sha256.New, []byte(k.Secret))
		mac.Write([]byte(token[:last]))
		if !hmac.Equal(mac.Sum(nil), sig) || len(claims.Iat) == 0 || string(claims.Iat) == "null" {
			continue
		}
		if t, ok := numeric(claims.Iat); !ok || t.Before(now.Add(-ClockLeeway)) || t.After(now.Add(ClockLeeway)) {
			return "", ClockSkew
		}
		if len(claims.Exp) > 0 {
			if t, ok := numeric(claims.Exp); !ok || now.After(t.Add(ClockLeeway)) {
				return "", MalformedToken
			}
		}
		if k.Revoked {
			return "", KeyRevoked
		}
		return k.ID, 0
	}
	return "", KeyNotFound
}

// JWT must decide every token as the plain reading does.
func FuzzJWT(f *testing.F) {
	a, src, now := fixture()
	iat := itoa(now.Unix())
	for _, s := range claimSamples {
		f.Add(hs256, s, uint8(0))
	}
	f.Add(hs256, claims(serviceID, now.Unix()), uint8(0))
	f.Add(hs256, claims(serviceID, now.Unix()), uint8(1))
	f.Add(`{"alg":"HS512"}`, claims(serviceID, now.Unix()), uint8(0))
	f.Add(`{"alg":"HS256","typ":"JWT"}`, `{"iss":"`+serviceID+`","iat":`+iat+`,"exp":null}`, uint8(0))
	f.Add(`{"typ":"JWT","alg":"HS256"}`, `{"iss":"`+strings.ToUpper(serviceID)+`","iat":`+iat+`.9}`, uint8(2))
	f.Add(`null`, `{"iss":"22222222-2222-4333-8444-555555555555","iat":`+iat+`}`, uint8(0))
	f.Fuzz(func(t *testing.T, header, payload string, how uint8) {
		secrets := []string{secretA, secretB, "wrong"}
		enc := base64.RawURLEncoding
		input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
		token := signRaw(input, secrets[int(how)%len(secrets)])
		switch how / 3 % 4 {
		case 1:
			token += "="
		case 2:
			token = token[:len(token)-2]
		case 3:
			token = input + "." + enc.EncodeToString([]byte(payload))
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		id, err := a.JWT(r)
		var got Reason
		var f *Failure
		if errors.As(err, &f) {
			got = f.Reason
		} else if err != nil {
			t.Fatal(err)
		}
		src.mu.Lock()
		wantID, want := referenceJWT(token, src.keys, now)
		src.mu.Unlock()
		if got != want || id.KeyID != wantID {
			t.Fatalf("header %q payload %q: got key %q reason %v, plain reading says key %q reason %v", header, payload, id.KeyID, got, wantID, want)
		}
	})
}
