package secret

import (
	"strings"
	"testing"
)

func TestSealOpenAndRotate(t *testing.T) {
	oldKey, newKey := Generate(), Generate()
	old, err := ParseKeyring(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	sealed := old.Encrypt([]byte("secret value"), []byte("row-1"))
	if strings.Contains(sealed, "secret value") {
		t.Fatal("ciphertext contains the plaintext")
	}
	if _, err := old.Decrypt(sealed, []byte("row-2")); err != ErrCannotDecrypt {
		t.Fatalf("opened with the wrong additional data: %v", err)
	}
	// Rotation: the new key comes first, the old one still opens old values.
	ring, err := ParseKeyring("new:" + newKey + ",old:" + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring.Decrypt(sealed, []byte("row-1")); err != ErrCannotDecrypt {
		t.Fatal("a bare key's derived id must not match the named id")
	}
	ring2, err := ParseKeyring("new:" + newKey + "," + old.Current() + ":" + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ring2.Decrypt(sealed, []byte("row-1"))
	if err != nil || string(plain) != "secret value" {
		t.Fatalf("rotated ring: %q %v", plain, err)
	}
	// Bare keys carry ids derived from themselves, so "NEW,OLD" is all rotation needs.
	ring3, err := ParseKeyring(newKey + "," + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := ring3.Decrypt(sealed, []byte("row-1")); err != nil || string(plain) != "secret value" {
		t.Fatalf("NEW,OLD ring: %q %v", plain, err)
	}
	if !ring2.NeedsRotation(sealed) || ring2.NeedsRotation(ring2.Encrypt([]byte("x"), nil)) {
		t.Fatal("NeedsRotation is wrong")
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := old.Decrypt(tampered, []byte("row-1")); err != ErrCannotDecrypt {
		t.Fatal("a tampered value opened")
	}
}

func TestBadKeysRefused(t *testing.T) {
	for _, s := range []string{"", "short", "a:" + Generate() + ",a:" + Generate(), ":" + Generate()} {
		if _, err := ParseKeyring(s); err == nil {
			t.Errorf("ParseKeyring(%q) accepted", s)
		}
	}
}
