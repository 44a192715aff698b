// Package secret encrypts values at rest (API key secrets, TOTP seeds, provider credentials)
// with AES-256-GCM under Commons' secret key. Every ciphertext names the key that made it, so
// the secret key can be rotated: new values use the first key, old ones still open with theirs.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Keyring holds the current key and any older keys still needed to decrypt.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// ErrBadKey describes the accepted forms of COMMONS_SECRET_KEY.
var ErrBadKey = errors.New("secret key must be 32 random bytes in base64 (make one with: openssl rand -base64 32), " +
	"or a comma-separated list ID:BASE64,... with the current key first")

// Generate returns a new random key in the form ParseKeyring accepts.
func Generate() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

// ParseKeyring reads a secret key setting: one base64 key, or "id:base64,id:base64" with the
// current key first. A bare key's id is derived from its hash.
func ParseKeyring(setting string) (*Keyring, error) {
	setting = strings.TrimSpace(setting)
	if setting == "" {
		return nil, ErrBadKey
	}
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(setting, ",") {
		part = strings.TrimSpace(part)
		id, encoded, named := strings.Cut(part, ":")
		if !named {
			encoded = part
		}
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || len(raw) != 32 {
			return nil, ErrBadKey
		}
		if !named {
			sum := sha256.Sum256(raw)
			id = hex.EncodeToString(sum[:4])
		}
		if id == "" || strings.ContainsAny(id, ".:") {
			return nil, ErrBadKey
		}
		block, _ := aes.NewCipher(raw)
		aead, _ := cipher.NewGCM(block)
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("secret key: key id %q appears twice", id)
		}
		k.aeads[id] = aead
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

// Encrypt seals plain under the current key. The result is "keyid.base64(nonce|ciphertext)".
// additional binds the ciphertext to its context (say, the row id), so that a value copied to
// another row does not decrypt there.
func (k *Keyring) Encrypt(plain, additional []byte) string {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	sealed := aead.Seal(nonce, nonce, plain, additional)
	return k.current + "." + base64.RawStdEncoding.EncodeToString(sealed)
}

// ErrCannotDecrypt means the value was made under a key this keyring lacks, or was altered.
var ErrCannotDecrypt = errors.New("cannot decrypt: unknown key id or altered value")

// Decrypt opens a value made by Encrypt with any key in the ring.
func (k *Keyring) Decrypt(sealed string, additional []byte) ([]byte, error) {
	id, encoded, ok := strings.Cut(sealed, ".")
	aead := k.aeads[id]
	if !ok || aead == nil {
		return nil, ErrCannotDecrypt
	}
	raw, err := base64.RawStdEncoding.DecodeString(encoded)
	if err != nil || len(raw) < aead.NonceSize() {
		return nil, ErrCannotDecrypt
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], additional)
	if err != nil {
		return nil, ErrCannotDecrypt
	}
	return plain, nil
}

// Current returns the id of the key new values are sealed with.
func (k *Keyring) Current() string { return k.current }

// NeedsRotation reports whether a sealed value was made under an older key.
func (k *Keyring) NeedsRotation(sealed string) bool {
	id, _, _ := strings.Cut(sealed, ".")
	return id != k.current
}
