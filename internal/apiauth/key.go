// Package apiauth resolves an API request to the service and key that made it. Every Commons
// API uses it: the Notify API with GOV.UK Notify's HS256 JWTs, Pay and Commons' own APIs with
// the whole key as a bearer token. It returns typed failures; each API maps them to its own
// wire format.
package apiauth

import (
	"context"
	"errors"
	"strings"
)

// KeyType decides what a key may do: live keys send to anyone, team keys only to the team and
// guest list, test keys simulate.
type KeyType string

const (
	Live KeyType = "live"
	Team KeyType = "team"
	Test KeyType = "test"
)

// Valid reports whether t is one of the three key types.
func (t KeyType) Valid() bool { return t == Live || t == Team || t == Test }

// Key is one API key of a service as authentication needs it.
type Key struct {
	ID      string
	Name    string
	Type    KeyType
	Secret  string // the 36-character secret, decrypted
	Revoked bool
}

// ServiceKeys is what authentication needs to know about a service.
type ServiceKeys struct {
	Found    bool
	Archived bool
	Live     bool
	Keys     []Key
}

// Source looks up a service's keys. The platform store implements it.
type Source interface {
	ServiceKeys(ctx context.Context, serviceID string) (ServiceKeys, error)
}

// Lengths of the parts of a key string. A key is "<name>-<service id>-<secret>"; clients slice
// it from the end, so the name may itself contain hyphens.
const (
	secretLen    = 36
	serviceIDLen = 36
)

// ErrMalformedKey means a string is not laid out as a Commons API key.
var ErrMalformedKey = errors.New("API key must be <name>-<service id>-<secret>")

// FormatKey lays out a key string the way GOV.UK Notify does. Whitespace in the name becomes
// underscores so the key stays one token.
func FormatKey(name, serviceID, secret string) string {
	return strings.Join(strings.Fields(name), "_") + "-" + serviceID + "-" + secret
}

// ParseKey splits a key string into its service id and secret, slicing from the end as the
// official clients do.
func ParseKey(key string) (serviceID, secret string, err error) {
	if len(key) < serviceIDLen+1+secretLen {
		return "", "", ErrMalformedKey
	}
	secret = key[len(key)-secretLen:]
	serviceID = key[len(key)-secretLen-1-serviceIDLen : len(key)-secretLen-1]
	if key[len(key)-secretLen-1] != '-' || !isUUID(serviceID) {
		return "", "", ErrMalformedKey
	}
	return serviceID, secret, nil
}

// isUUID reports whether s is a UUID in its 36-character textual form (any case).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
