package apiauth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// JWT authenticates a request signed the way GOV.UK Notify's clients sign: an HS256 JWT whose
// iss is the service id and whose iat is the current time, signed with the key's secret and
// tried against each of the service's keys. Failures follow notify.md §1.3 step by step.
func (a *Authenticator) JWT(r *http.Request) (Identity, error) {
	token, err := bearerToken(r)
	if err != nil {
		return Identity{}, err
	}
	var tok parsedJWT
	if !tok.parse(token) {
		return Identity{}, &Failure{Reason: MalformedToken}
	}
	if !tok.hasIss {
		return Identity{}, &Failure{Reason: NoIssuer}
	}
	serviceID := tok.iss
	if !isUUID(serviceID) {
		return Identity{}, &Failure{Reason: BadIssuer}
	}
	serviceID = lowerASCII(serviceID)
	now := a.Now()
	entry, err := a.serviceKeys(r.Context(), serviceID, now)
	if err != nil {
		return Identity{}, err
	}
	keys := entry.keys
	switch {
	case !keys.Found:
		return Identity{}, &Failure{Reason: ServiceNotFound}
	case len(keys.Keys) == 0:
		return Identity{}, &Failure{Reason: NoKeys}
	case keys.Archived:
		return Identity{}, &Failure{Reason: ServiceArchived}
	}
	if tok.alg != "HS256" {
		return Identity{}, &Failure{Reason: WrongAlgorithm}
	}
	for i, k := range keys.Keys {
		if !tok.sigSized || !entry.macs[i].verify(tok.signingInput, tok.signature[:]) {
			continue
		}
		if !tok.iat.present || tok.iat.null {
			// GOV.UK Notify treats a signed token without iat as matching no key.
			continue
		}
		if !withinLeeway(tok.iat, now) {
			return Identity{}, &Failure{Reason: ClockSkew}
		}
		if exp := tok.exp; exp.present {
			if !exp.ok || now.After(exp.at.Add(ClockLeeway)) {
				return Identity{}, &Failure{Reason: MalformedToken}
			}
		}
		if k.Revoked {
			return Identity{}, &Failure{Reason: KeyRevoked}
		}
		return a.identify(serviceID, keys, k, now), nil
	}
	return Identity{}, &Failure{Reason: KeyNotFound}
}

// parsedJWT is a token split and decoded as far as the checks need. Every API request carries
// one, so parsing reads the common shapes without encoding/json and without allocating, and
// hands anything unusual to encoding/json, whose reading is the definition of right.
type parsedJWT struct {
	alg          string
	iss          string
	hasIss       bool
	iat, exp     numericClaim
	signingInput string
	signature    [sha256.Size]byte
	// sigSized is false when the signature is not the size of an HS256 one: such a token is
	// well formed but matches no key.
	sigSized bool
}

// numericClaim is a NumericDate claim (iat, exp) as the checks need it.
type numericClaim struct {
	present bool // the claim is there, even as null
	null    bool
	// ok says the claim reads as a time, as it does when encoding/json can decode it into a
	// float64: a number, or null (which leaves the float at zero).
	ok bool
	at time.Time
}

var b64 = base64.RawURLEncoding

// Headers GOV.UK Notify's clients send, base64url-encoded: PyJWT and node's jsonwebtoken
// write the first, other libraries the second. Recognising them saves decoding every token's
// header; any other header is decoded.
const (
	hs256Header         = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" // {"alg":"HS256","typ":"JWT"}
	hs256HeaderTypFirst = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9" // {"typ":"JWT","alg":"HS256"}
)

// maxStackPayload is the largest decoded payload parse reads without allocating; Notify's
// clients send well under 200 bytes.
const maxStackPayload = 512

// parse splits and decodes token, reporting false when it is not a well-formed JWT.
func (p *parsedJWT) parse(token string) bool {
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')
	if first < 0 || first == last || strings.IndexByte(token[first+1:last], '.') >= 0 {
		return false
	}
	if !p.parseHeader(strings.TrimRight(token[:first], "=")) {
		return false
	}

	seg := strings.TrimRight(token[first+1:last], "=")
	var buf [maxStackPayload]byte
	payload := buf[:0]
	if n := b64.DecodedLen(len(seg)); n > len(buf) {
		payload = make([]byte, n)
	}
	n, err := b64.Decode(payload[:cap(payload)], []byte(seg))
	if err != nil {
		return false
	}
	payload = payload[:n]
	// The payload must be a JSON object; iss must be a string when present.
	iss, iat, exp, ok := scanClaims(payload)
	if !ok {
		if iss, iat, exp, ok = decodeClaims(bytes.Clone(payload)); !ok {
			return false
		}
	}
	if p.iss, p.hasIss, ok = issuerOf(iss); !ok {
		return false
	}
	p.iat, p.exp = numericClaimOf(iat), numericClaimOf(exp)

	seg = strings.TrimRight(token[last+1:], "=")
	var sig [64]byte
	dst := sig[:]
	if n := b64.DecodedLen(len(seg)); n > len(sig) {
		dst = make([]byte, n)
	}
	if n, err = b64.Decode(dst, []byte(seg)); err != nil {
		return false
	}
	if n == sha256.Size {
		copy(p.signature[:], dst)
		p.sigSized = true
	}
	p.signingInput = token[:last]
	return true
}

func (p *parsedJWT) parseHeader(seg string) bool {
	if seg == hs256Header || seg == hs256HeaderTypFirst {
		p.alg = "HS256"
		return true
	}
	header, err := b64.DecodeString(seg)
	if err != nil {
		return false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(header, &h) != nil {
		return false
	}
	p.alg = h.Alg
	return true
}

// decodeClaims reads the iss, iat and exp members of a claims set with encoding/json, for the
// payloads scanClaims does not take.
func decodeClaims(payload []byte) (iss, iat, exp []byte, ok bool) {
	var raw struct {
		Iss json.RawMessage `json:"iss"`
		Iat json.RawMessage `json:"iat"`
		Exp json.RawMessage `json:"exp"`
	}
	if len(payload) == 0 || payload[0] != '{' || json.Unmarshal(payload, &raw) != nil {
		return nil, nil, nil, false
	}
	return raw.Iss, raw.Iat, raw.Exp, true
}

// issuerOf reads the iss claim: absent or null means none, and anything but a string makes
// the token malformed.
func issuerOf(raw []byte) (iss string, present, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, true
	}
	if plainString(raw) {
		return string(raw[1 : len(raw)-1]), true, true
	}
	var s string
	if json.Unmarshal(bytes.Clone(raw), &s) != nil {
		return "", false, false
	}
	return s, true, true
}

// plainString reports whether raw is a JSON string of printable ASCII without escapes, whose
// value is therefore the bytes between its quotes.
func plainString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// numericClaimOf reads a NumericDate claim from its JSON text, which comes from a valid JSON
// document. A number is read with strconv.ParseFloat, exactly as encoding/json reads one into
// a float64.
func numericClaimOf(raw []byte) numericClaim {
	if len(raw) == 0 {
		return numericClaim{}
	}
	c := numericClaim{present: true}
	var f float64
	switch {
	case string(raw) == "null":
		c.null = true
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		var err error
		if f, err = strconv.ParseFloat(string(raw), 64); err != nil {
			return c
		}
	default: // a string, boolean, object or array
		return c
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return c
	}
	sec, frac := math.Modf(f)
	c.at, c.ok = time.Unix(int64(sec), int64(frac*1e9)), true
	return c
}

func withinLeeway(iat numericClaim, now time.Time) bool {
	if !iat.ok {
		return false
	}
	return !iat.at.Before(now.Add(-ClockLeeway)) && !iat.at.After(now.Add(ClockLeeway))
}
