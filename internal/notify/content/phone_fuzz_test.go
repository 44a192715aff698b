package content

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParsePhone checks that the fast path for UK numbers never disagrees with the library
// (what it accepts, the library accepts the same way), and that whatever ParsePhone is given
// it either refuses with one of the reference's messages or returns a number in international
// digits. (Reading the result again need not give the same number: the reference keeps
// leading zeros on some numbers it accepts as drama numbers, and drops them when read again.)
func FuzzParsePhone(f *testing.F) {
	for _, seed := range []string{
		"07723456789", "07723 456 789", "+44 (0)7723 456 789", "00447723456789", "447723456789", "7723456789",
		"0770090", "07700 900123", "07797 800123", "07624 123456", "020 7946 0991", "016064 1234", "0900 123 4567",
		"0+447700900100", "000007700900100", "+07700900100", "4407723456789", "44007723456789", "1800207723456789",
		"+1 202 555 0104", "1‑202–555—010−4", "+33122334455", "784951234567", "+682 1234", "07890x32109", "",
		"(", "+", "00", "0044", "\u200b\t07723 456789\ufeff", "07723\u00a0456789", "++447723456789", "+4+47723456789",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		// Random text rarely looks like a UK number, so the same text with only the
		// characters the fast path reads is compared too.
		shaped := strings.Map(func(r rune) rune {
			if strings.ContainsRune("0123456789 -()+", r) {
				return r
			}
			return -1
		}, raw)
		if fast, ok := parseUKPhone(shaped); ok {
			if want, err := parsePhoneWithLibrary(shaped); err != nil || fast != want {
				t.Fatalf("parseUKPhone(%q) = %+v, the library says %+v, %v", shaped, fast, want, err)
			}
		}
		want, wantErr := parsePhoneWithLibrary(raw)
		if fast, ok := parseUKPhone(raw); ok && (wantErr != nil || fast != want) {
			t.Fatalf("parseUKPhone(%q) = %+v, the library says %+v, %v", raw, fast, want, wantErr)
		}
		p, err := ParsePhone(raw)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() || p != want {
			t.Fatalf("ParsePhone(%q) = %+v, %v; the library says %+v, %v", raw, p, err, want, wantErr)
		}
		if err != nil {
			var pe *PhoneError
			if !errors.As(err, &pe) || pe.Error() == "" {
				t.Fatalf("ParsePhone(%q) error %v is not a PhoneError", raw, err)
			}
			return
		}
		if p.Normalised == "" || strings.Trim(p.Normalised, "0123456789") != "" || !strings.HasPrefix(p.Normalised, p.CountryPrefix) {
			t.Fatalf("ParsePhone(%q) = %+v", raw, p)
		}
	})
}
