package apiauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const (
	serviceID = "9b3b8a7e-1f7c-4a0e-9d6c-2f1b5c7d8e9f"
	secretA   = "0f0e5a5e-6c1d-4a3b-8b7e-1c2d3e4f5a6b"
	secretB   = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
)

// memorySource is a Source over a map, so that these tests exercise the verification rules
// alone; the platform store's own tests cover the database side.
type memorySource struct {
	mu    sync.Mutex
	keys  map[string]ServiceKeys
	reads int
}

func (m *memorySource) ServiceKeys(_ context.Context, id string) (ServiceKeys, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	return m.keys[id], nil
}

func sign(header, payload, secret string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

func fixture() (*Authenticator, *memorySource, time.Time) {
	now := time.Unix(1_800_000_000, 0)
	src := &memorySource{keys: map[string]ServiceKeys{
		serviceID: {Found: true, Live: true, Keys: []Key{
			{ID: "key-revoked", Name: "old", Type: Live, Secret: secretB, Revoked: true},
			{ID: "key-a", Name: "main", Type: Team, Secret: secretA},
		}},
		"11111111-2222-4333-8444-555555555555": {Found: true},
		"22222222-2222-4333-8444-555555555555": {Found: true, Archived: true, Keys: []Key{{ID: "k", Type: Live, Secret: secretA}}},
	}}
	a := New(src)
	a.Now = func() time.Time { return now }
	return a, src, now
}

func claims(iss string, iat int64) string {
	return `{"iss":"` + iss + `","iat":` + itoa(iat) + `}`
}

func itoa(n int64) string {
	return string(appendInt(nil, n))
}

func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		return appendInt(append(b, '-'), -n)
	}
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

const hs256 = `{"alg":"HS256","typ":"JWT"}`

func TestJWTFailuresInNotifyOrder(t *testing.T) {
	a, _, now := fixture()
	iat := now.Unix()
	cases := []struct {
		name   string
		header string
		want   Reason
	}{
		{"no header", "", NoCredentials},
		{"basic scheme", "Basic abc", NotBearer},
		{"not a jwt", "Bearer not-a-token", MalformedToken},
		{"two parts", "Bearer a.b", MalformedToken},
		{"no iss", "Bearer " + sign(hs256, `{"iat":1}`, secretA), NoIssuer},
		{"iss not uuid", "Bearer " + sign(hs256, claims("nope", iat), secretA), BadIssuer},
		{"unknown service", "Bearer " + sign(hs256, claims("33333333-2222-4333-8444-555555555555", iat), secretA), ServiceNotFound},
		{"no keys", "Bearer " + sign(hs256, claims("11111111-2222-4333-8444-555555555555", iat), secretA), NoKeys},
		{"archived", "Bearer " + sign(hs256, claims("22222222-2222-4333-8444-555555555555", iat), secretA), ServiceArchived},
		{"wrong alg", "Bearer " + sign(`{"alg":"HS512"}`, claims(serviceID, iat), secretA), WrongAlgorithm},
		{"iat too old", "Bearer " + sign(hs256, claims(serviceID, iat-31), secretA), ClockSkew},
		{"iat in future", "Bearer " + sign(hs256, claims(serviceID, iat+31), secretA), ClockSkew},
		{"iat not a number", "Bearer " + sign(hs256, `{"iss":"`+serviceID+`","iat":"soon"}`, secretA), ClockSkew},
		{"expired exp", "Bearer " + sign(hs256, `{"iss":"`+serviceID+`","iat":`+itoa(iat)+`,"exp":`+itoa(iat-100)+`}`, secretA), MalformedToken},
		{"revoked key", "Bearer " + sign(hs256, claims(serviceID, iat), secretB), KeyRevoked},
		{"unknown secret", "Bearer " + sign(hs256, claims(serviceID, iat), "ffffffff-5e6f-4a7b-8c9d-0e1f2a3b4c5d"), KeyNotFound},
		{"signed without iat", "Bearer " + sign(hs256, `{"iss":"`+serviceID+`"}`, secretA), KeyNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v2/notifications", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			_, err := a.JWT(r)
			var f *Failure
			if !errors.As(err, &f) || f.Reason != tc.want {
				t.Fatalf("got %v, want reason %q", err, tc.want)
			}
		})
	}
}

func TestJWTSuccess(t *testing.T) {
	a, _, now := fixture()
	for _, skew := range []int64{-30, 0, 30} {
		r := httptest.NewRequest("GET", "/", nil)
		// The scheme is matched without regard to case.
		r.Header.Set("Authorization", "bEARER "+sign(hs256, claims(serviceID, now.Unix()+skew), secretA))
		id, err := a.JWT(r)
		if err != nil {
			t.Fatalf("skew %d: %v", skew, err)
		}
		if id.ServiceID != serviceID || id.KeyID != "key-a" || id.KeyType != Team || !id.ServiceLive {
			t.Fatalf("identity = %+v", id)
		}
	}
}

func TestBearerKey(t *testing.T) {
	a, _, _ := fixture()
	try := func(key string) (Identity, error) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+key)
		return a.BearerKey(r)
	}
	id, err := try(FormatKey("my key-with-hyphens", serviceID, secretA))
	if err != nil || id.KeyID != "key-a" {
		t.Fatalf("good key: %+v, %v", id, err)
	}
	for key, want := range map[string]Reason{
		"short":                            MalformedKey,
		FormatKey("x", serviceID, secretB): KeyRevoked,
		FormatKey("x", serviceID, "ffffffff-5e6f-4a7b-8c9d-0e1f2a3b4c5d"): KeyNotFound,
		FormatKey("x", "33333333-2222-4333-8444-555555555555", secretA):   KeyNotFound,
		FormatKey("x", "22222222-2222-4333-8444-555555555555", secretA):   ServiceArchived,
	} {
		_, err := try(key)
		var f *Failure
		if !errors.As(err, &f) || f.Reason != want {
			t.Errorf("key %q: got %v, want %q", key, err, want)
		}
	}
}

func TestParseKey(t *testing.T) {
	key := FormatKey("Team  key", serviceID, secretA)
	if key != "Team_key-"+serviceID+"-"+secretA {
		t.Fatalf("FormatKey = %q", key)
	}
	sid, sec, err := ParseKey(key)
	if err != nil || sid != serviceID || sec != secretA {
		t.Fatalf("ParseKey = %q %q %v", sid, sec, err)
	}
	if _, _, err := ParseKey(serviceID + "-" + secretA); err != nil {
		t.Fatalf("a bare service-id-secret key must parse: %v", err)
	}
	if _, _, err := ParseKey("x-" + serviceID + "_" + secretA); err == nil {
		t.Fatal("a key without the hyphen before the secret parsed")
	}
}

// A revocation made on another node is seen once the cache entry is older than CacheTTL.
func TestRevocationSeenAfterCacheTTL(t *testing.T) {
	a, src, now := fixture()
	current := now
	a.Now = func() time.Time { return current }
	req := func() error {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+sign(hs256, claims(serviceID, current.Unix()), secretA))
		_, err := a.JWT(r)
		return err
	}
	if err := req(); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	sk := src.keys[serviceID]
	sk.Keys = []Key{{ID: "key-a", Type: Team, Secret: secretA, Revoked: true}}
	src.keys[serviceID] = sk
	src.mu.Unlock()
	current = current.Add(CacheTTL)
	var f *Failure
	if err := req(); !errors.As(err, &f) || f.Reason != KeyRevoked {
		t.Fatalf("after CacheTTL: got %v, want revoked", err)
	}
	if CacheTTL >= time.Second {
		t.Fatalf("CacheTTL %v must stay under one second", CacheTTL)
	}
}

type touchRecorder struct{ got map[string]time.Time }

func (t *touchRecorder) TouchAPIKeys(_ context.Context, m map[string]time.Time) error {
	t.got = m
	return nil
}

func TestLastUsedFlushedInBatches(t *testing.T) {
	a, src, now := fixture()
	for range 3 {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+sign(hs256, claims(serviceID, now.Unix()), secretA))
		if _, err := a.JWT(r); err != nil {
			t.Fatal(err)
		}
	}
	if src.reads != 1 {
		t.Errorf("keys read %d times within the cache TTL, want 1", src.reads)
	}
	rec := &touchRecorder{}
	if err := a.FlushLastUsed(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 || !rec.got["key-a"].Equal(now) {
		t.Fatalf("flushed %v", rec.got)
	}
	rec.got = nil
	_ = a.FlushLastUsed(context.Background(), rec)
	if rec.got != nil {
		t.Fatalf("second flush wrote %v, want nothing", rec.got)
	}
}

func BenchmarkJWT(b *testing.B) {
	a, _, now := fixture()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+sign(hs256, claims(serviceID, now.Unix()), secretA))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.JWT(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBearerKey(b *testing.B) {
	a, _, _ := fixture()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+FormatKey("bench", serviceID, secretA))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.BearerKey(r); err != nil {
			b.Fatal(err)
		}
	}
}
