package apiauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// keyMAC verifies HS256 signatures made with one key. hmac.New allocates and hashes the key's
// padded blocks on every call; an HMAC that has been Reset once restores those precomputed
// states instead (FIPS 198-1 §6 allows exactly this), so keeping a pool of them makes a
// verification cost the message's own blocks and no allocations.
type keyMAC struct {
	pool sync.Pool // of *pooledMAC
}

type pooledMAC struct {
	h   hash.Hash
	in  []byte // the signing input, copied: hash.Hash.Write would make a converted string escape
	sum [sha256.Size]byte
}

func newKeyMAC(secret string) *keyMAC {
	m := &keyMAC{}
	m.pool.New = func() any {
		h := hmac.New(sha256.New, []byte(secret))
		h.Reset()
		return &pooledMAC{h: h}
	}
	return m
}

// verify reports, in constant time, whether sig is the HS256 signature of input.
func (m *keyMAC) verify(input string, sig []byte) bool {
	p := m.pool.Get().(*pooledMAC)
	p.in = append(p.in[:0], input...)
	p.h.Write(p.in)
	ok := hmac.Equal(p.h.Sum(p.sum[:0]), sig)
	p.h.Reset()
	if cap(p.in) <= 4096 {
		m.pool.Put(p)
	}
	return ok
}
