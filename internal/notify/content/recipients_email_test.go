package content

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// emailAlphabet is what generated addresses are made of: the characters each rule of
// validateEmailRegexp turns on, and a few it refuses.
const emailAlphabet = "aZx9n-.@_+'\" \t\n\x0b\x1c,;XN"

// TestValidateASCIIEmail holds the fast check of ASCII addresses to the regular expressions
// that define ValidateEmail.
func TestValidateASCIIEmail(t *testing.T) {
	cases := []string{
		"a@b.co", "a@b.c", "a@b.xn--p1ai", "a@b.XN--P1AI", "a@b.xn--", "a@b.xn---a", "a@b.xn--a-", "a@b.xn--a--b",
		"a@b.xn--a-b", "a@a--b.com", "a@a---b.com", "a@-a.com", "a@a-.com", "a@xn--a.com", "a@.com", "a@com.",
		"a@b..com", "a@@b.com", "@b.com", "a@ b.com", "a@b.com ", "a@b.c0m", "a@b.12", "a@b_c.com", "a@b.com@c.com",
		"a@" + strings.Repeat("a", 63) + ".com", "a@" + strings.Repeat("a", 64) + ".com",
		"a@b." + strings.Repeat("a", 63), "a@b." + strings.Repeat("a", 64),
		"a@" + strings.Repeat("a.", 126) + "co", "a@" + strings.Repeat("a.", 127) + "co",
		strings.Repeat("a", 300) + "@" + strings.Repeat("b", 15) + ".com",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		b := make([]byte, 1+rng.IntN(12))
		for i := range b {
			b[i] = emailAlphabet[rng.IntN(len(emailAlphabet))]
		}
		cases = append(cases, string(b), "a@"+string(b), "a@b."+string(b), string(b)+"@b.com")
	}
	for _, addr := range cases {
		checkValidateASCIIEmail(t, addr)
	}
}

func FuzzValidateEmail(f *testing.F) {
	for _, s := range []string{"email@domain.com", "a@b.xn--p1ai", "a@a--b.co", "a@.b", "x@y@z.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		if isASCII(addr) {
			checkValidateASCIIEmail(t, addr)
		}
		got, gotErr := ValidateEmail(addr)
		want, wantErr := validateEmailRegexp(stripObscure(addr))
		if got != want || gotErr != wantErr {
			t.Fatalf("ValidateEmail(%q) = %q, %v; the regular expressions say %q, %v", addr, got, gotErr, want, wantErr)
		}
	})
}

func checkValidateASCIIEmail(t *testing.T, addr string) {
	t.Helper()
	got, gotErr := validateASCIIEmail(addr)
	want, wantErr := validateEmailRegexp(addr)
	if got != want || gotErr != wantErr {
		t.Fatalf("validateASCIIEmail(%q) = %q, %v; the regular expressions say %q, %v", addr, got, gotErr, want, wantErr)
	}
	got, gotErr = ValidateEmail(addr)
	want, wantErr = validateEmailRegexp(stripObscure(addr))
	if got != want || gotErr != wantErr {
		t.Fatalf("ValidateEmail(%q) = %q, %v; the regular expressions say %q, %v", addr, got, gotErr, want, wantErr)
	}
}
