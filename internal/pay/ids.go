package pay

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/big"
)

// idAlphabet is the digit set of Java's BigInteger.toString(32), which GOV.UK Pay's ids are
// written in: lower-case base 32 with the letters a–v.
const idAlphabet = "0123456789abcdefghijklmnopqrstuv"

// idLen is the length of every payment, refund and agreement id: 130 random bits in base 32
// need at most 26 digits, and shorter numbers are left-padded with '0' to that length, so that
// ids always have the 26 characters integrators validate against.
const idLen = 26

// idBits is how much randomness an id carries.
const idBits = 130

// NewID returns a fresh 26-character id.
func NewID() string {
	var b [idBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; an id without randomness would
		// be guessable, so there is no safe fallback.
		panic("pay: no randomness for an id: " + err.Error())
	}
	return idFromBytes(b)
}

// idBytes is enough random bytes for idBits.
const idBytes = (idBits + 7) / 8

// idFromBytes writes the low idBits of b, read as a big-endian number, as formatID would write
// that number, without big-number arithmetic and its allocations: every create makes two ids
// (the payment's and its token's).
func idFromBytes(b [idBytes]byte) string {
	hi := uint64(b[0] & 3) // the 2 bits above the low 128
	mid := binary.BigEndian.Uint64(b[1:9])
	lo := binary.BigEndian.Uint64(b[9:17])
	var buf [idLen]byte
	for i := idLen - 1; i >= 0; i-- {
		buf[i] = idAlphabet[lo&31]
		lo = lo>>5 | mid<<59
		mid = mid>>5 | hi<<59
		hi >>= 5
	}
	return string(buf[:])
}

// formatID writes n in base 32 with idAlphabet, left-padded with '0' to idLen.
func formatID(n *big.Int) string {
	var buf [idLen]byte
	for i := range buf {
		buf[i] = '0'
	}
	v := new(big.Int).Set(n)
	mod := new(big.Int)
	base := big.NewInt(32)
	for i := idLen - 1; i >= 0 && v.Sign() > 0; i-- {
		v.DivMod(v, base, mod)
		buf[i] = idAlphabet[mod.Int64()]
	}
	return string(buf[:])
}

// validID reports whether s could be an id of ours. Lookups check it first, so that a path
// segment of the wrong shape is a plain not-found without a query.
func validID(s string) bool {
	if len(s) != idLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'v') {
			return false
		}
	}
	return true
}

// hashToken is what pay_tokens keeps of a one-time token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
