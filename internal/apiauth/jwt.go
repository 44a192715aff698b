package apiauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
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
	tok, ok := parseJWT(token)
	if !ok {
		return Identity{}, &Failure{Reason: MalformedToken}
	}
	if tok.claims.Iss == nil {
		return Identity{}, &Failure{Reason: NoIssuer}
	}
	serviceID := *tok.claims.Iss
	if !isUUID(serviceID) {
		return Identity{}, &Failure{Reason: BadIssuer}
	}
	serviceID = lowerASCII(serviceID)
	keys, err := a.serviceKeys(r.Context(), serviceID)
	if err != nil {
		return Identity{}, err
	}
	switch {
	case !keys.Found:
		return Identity{}, &Failure{Reason: ServiceNotFound}
	case len(keys.Keys) == 0:
		return Identity{}, &Failure{Reason: NoKeys}
	case keys.Archived:
		return Identity{}, &Failure{Reason: ServiceArchived}
	}
	if tok.header.Alg != "HS256" {
		return Identity{}, &Failure{Reason: WrongAlgorithm}
	}
	now := a.Now()
	for _, k := range keys.Keys {
		if !tok.signedWith(k.Secret) {
			continue
		}
		if len(tok.claims.Iat) == 0 || string(tok.claims.Iat) == "null" {
			// GOV.UK Notify treats a signed token without iat as matching no key.
			continue
		}
		if !withinLeeway(tok.claims.Iat, now) {
			return Identity{}, &Failure{Reason: ClockSkew}
		}
		if exp := tok.claims.Exp; len(exp) > 0 {
			if t, ok := numericTime(exp); !ok || now.After(t.Add(ClockLeeway)) {
				return Identity{}, &Failure{Reason: MalformedToken}
			}
		}
		if k.Revoked {
			return Identity{}, &Failure{Reason: KeyRevoked}
		}
		return a.identify(serviceID, keys, k), nil
	}
	return Identity{}, &Failure{Reason: KeyNotFound}
}

type jwtHeader struct {
	Alg string `json:"alg"`
}

type jwtClaims struct {
	Iss *string         `json:"iss"`
	Iat json.RawMessage `json:"iat"`
	Exp json.RawMessage `json:"exp"`
}

type parsedJWT struct {
	header       jwtHeader
	claims       jwtClaims
	signingInput string
	signature    []byte
}

var b64 = base64.RawURLEncoding

func parseJWT(token string) (parsedJWT, bool) {
	var p parsedJWT
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')
	if first < 0 || first == last || strings.IndexByte(token[first+1:last], '.') >= 0 {
		return p, false
	}
	header, err := b64.DecodeString(strings.TrimRight(token[:first], "="))
	if err != nil || json.Unmarshal(header, &p.header) != nil {
		return p, false
	}
	payload, err := b64.DecodeString(strings.TrimRight(token[first+1:last], "="))
	if err != nil {
		return p, false
	}
	// The payload must be a JSON object; iss must be a string when present.
	var raw struct {
		Iss json.RawMessage `json:"iss"`
		Iat json.RawMessage `json:"iat"`
		Exp json.RawMessage `json:"exp"`
	}
	if len(payload) == 0 || payload[0] != '{' || json.Unmarshal(payload, &raw) != nil {
		return p, false
	}
	if raw.Iss != nil && string(raw.Iss) != "null" {
		var s string
		if json.Unmarshal(raw.Iss, &s) != nil {
			return p, false
		}
		p.claims.Iss = &s
	}
	p.claims.Iat = raw.Iat
	p.claims.Exp = raw.Exp
	if p.signature, err = b64.DecodeString(strings.TrimRight(token[last+1:], "=")); err != nil {
		return p, false
	}
	p.signingInput = token[:last]
	return p, true
}

func (p parsedJWT) signedWith(secret string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(p.signingInput))
	return hmac.Equal(mac.Sum(nil), p.signature)
}

func numericTime(raw json.RawMessage) (time.Time, bool) {
	var f float64
	if json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

func withinLeeway(iat json.RawMessage, now time.Time) bool {
	t, ok := numericTime(iat)
	if !ok {
		return false
	}
	return !t.Before(now.Add(-ClockLeeway)) && !t.After(now.Add(ClockLeeway))
}
