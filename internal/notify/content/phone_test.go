package content

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestParsePhoneValid(t *testing.T) {
	tests := []struct {
		raw           string
		normalised    string
		international bool
		landline      bool
		prefix        string
		rate          int
	}{
		{"7723456789", "447723456789", false, false, "44", 1},
		{"07723456789", "447723456789", false, false, "44", 1},
		{"07723 456789", "447723456789", false, false, "44", 1},
		{"07723-456-789", "447723456789", false, false, "44", 1},
		{"00447723456789", "447723456789", false, false, "44", 1},
		{"00 44 7723456789", "447723456789", false, false, "44", 1},
		{"+447723456789", "447723456789", false, false, "44", 1},
		{"+44 7723 456 789", "447723456789", false, false, "44", 1},
		{"+44 (0)7723 456 789", "447723456789", false, false, "44", 1},
		{"\u200b\t\t+44 (0)7723 456 789\ufeff \r\n", "447723456789", false, false, "44", 1},
		{"0+447700900100", "447700900100", false, false, "44", 1},
		{"07700900010", "447700900010", false, false, "44", 1},
		{"+447700900030", "447700900030", false, false, "44", 1},
		{"0117 496 0860", "441174960860", false, true, "44", 1},
		{"020 7946 0991", "442079460991", false, true, "44", 1},
		{"07797800123", "447797800123", true, false, "44", 2},
		{"+7 (8) (495) 123-45-67", "74951234567", true, true, "7", 10},
		{"784951234567", "74951234567", true, false, "7", 10},
		{"1-202-555-0104", "12025550104", true, false, "1", 1},
		{"1‑202–555—010−4", "12025550104", true, false, "1", 1},
		{"+0012025550104", "12025550104", true, false, "1", 1},
		{"16644913789", "16644913789", true, false, "1664", 6},
		{"20-12-1234-1234", "201212341234", true, false, "20", 7},
		{"+23052512345", "23052512345", true, false, "230", 4},
		{"+33122334455", "33122334455", true, false, "33", 0},
	}
	for _, tt := range tests {
		p, err := ParsePhone(tt.raw)
		if err != nil {
			t.Errorf("ParsePhone(%q): %v", tt.raw, err)
			continue
		}
		if p.Normalised != tt.normalised || p.International != tt.international || p.CountryPrefix != tt.prefix ||
			(tt.normalised[:2] == "44" && p.UKLandline != tt.landline) || (tt.rate > 0 && p.RateMultiplier != tt.rate) {
			t.Errorf("ParsePhone(%q) = %+v", tt.raw, p)
		}
	}
	if p, _ := ParsePhone("07797800123"); !p.CrownDependency {
		t.Error("Jersey number should be a Crown dependency")
	}
	if p, _ := ParsePhone("+60123451345"); !p.NumericSender {
		t.Error("Malaysia should need a numeric sender")
	}
}

func TestParsePhoneInvalid(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", "Not enough digits"},
		{"0772345678910", "Too many digits"},
		{"0044772345678910", "Too many digits"},
		{"+44 (0)7723 456 789 10", "Too many digits"},
		{"80100000000", "Too many digits"},
		{"+12345 12345 12345 6", "Too many digits"},
		{"0772345678", "Number is not valid – double check the phone number you entered"},
		{"004477234567", "Number is not valid – double check the phone number you entered"},
		{"+44 (0)7723 456 78", "Number is not valid – double check the phone number you entered"},
		{"1234567", "Number is not valid – double check the phone number you entered"},
		{"+682 1234", "Number is not valid – double check the phone number you entered"},
		{"0400 123 4567", "Number is not valid – double check the phone number you entered"},
		{"0900 123 4567", "Number is not valid – double check the phone number you entered"},
		{"0033877123456", "Number is not valid – double check the phone number you entered"},
		{"07890x32109", "Must not contain letters or symbols"},
		{"07723 456789...", "Must not contain letters or symbols"},
		{"07723 ☟☜⬇⬆☞☝", "Must not contain letters or symbols"},
		{`07";DROP TABLE;"`, "Must not contain letters or symbols"},
		{"ALPHANUM3R1C", "Must not contain letters or symbols"},
	}
	for _, tt := range tests {
		_, err := ParsePhone(tt.raw)
		var pe *PhoneError
		if !errors.As(err, &pe) || err.Error() != tt.want {
			t.Errorf("ParsePhone(%q) error = %v, want %q", tt.raw, err, tt.want)
		}
	}
}

func TestPhonePermit(t *testing.T) {
	tests := []struct {
		raw                  string
		international, lands bool
		want                 string
	}{
		{"07723456789", false, false, ""},
		{"0117 496 0860", true, false, "Not a UK mobile number"},
		{"0117 496 0860", false, true, ""},
		{"+12025550104", false, true, "Cannot send to international mobile numbers"},
		{"+12025550104", true, false, ""},
		{"07797800123", false, false, ""},
	}
	for _, tt := range tests {
		p, err := ParsePhone(tt.raw)
		if err != nil {
			t.Fatalf("ParsePhone(%q): %v", tt.raw, err)
		}
		got := ""
		if err := p.Permit(tt.international, tt.lands); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Permit(%q, %v, %v) = %q, want %q", tt.raw, tt.international, tt.lands, got, tt.want)
		}
	}
	if p, _ := ParsePhone("+12025550104"); p.Permit(false, false) != ErrInternationalNotAllowed {
		t.Error("want ErrInternationalNotAllowed")
	}
}

// TestParsePhoneReferenceLengths pins what the reference (notifications-utils PhoneNumber,
// legacy v2 messages) says about UK numbers that are too short, too long or nearly right, in
// each way of writing them. Only 4 to 6 national digits are "Not enough digits": 7 and 9 are
// possible lengths of UK numbers, so shorter mobiles are "not valid"; and numbers starting
// 7700 then any digit count as Ofcom's drama numbers, so "0770090" is accepted as the
// reference accepts it.
func TestParsePhoneReferenceLengths(t *testing.T) {
	const notValid = "Number is not valid – double check the phone number you entered"
	tests := []struct{ raw, want string }{
		{"0", "Not enough digits"},
		{"+44", "Not enough digits"},
		{"0044", "Not enough digits"},
		{"07723", "Not enough digits"},
		{"077234", "Not enough digits"},
		{"0772345", "Not enough digits"},
		{"0779780", "Not enough digits"},
		{"07723456", notValid},
		{"077234567", notValid},
		{"0772345678", notValid},
		{"+447723", notValid},
		{"+44772345678", notValid},
		{"0044772345678", notValid},
		{"44772345678", notValid},
		{"00440077234567", notValid},
		{"077978001231", notValid},
		{"0772345678912", "Too many digits"},
		{"07723456789123", "Too many digits"},
		{"+4477234567890", "Too many digits"},
		{"004477234567890", "Too many digits"},
		{"4477234567890", "Too many digits"},
		{"0779780012312", "Too many digits"},
		{"0770090", "440770090"},
		{"07700900", "447700900"},
		{"077009001", "44077009001"},
		{"0770090012", "44770090012"},
		{"+44770090", "44770090"},
		{"077234567890", "77234567890"}, // read as Russian once the leading 0 is dropped
		{"4407723456789", "447723456789"},
		{"44007723456789", "447723456789"},
		{"+44007723456789", "447723456789"},
		{"0044 (0) 7723 456789", "447723456789"},
		{"++447723456789", "447723456789"},
		{"+ 44 7723 456789", "447723456789"},
		{"(07723) 456789", "447723456789"},
		{"-07723456789", "447723456789"},
		{"07723\t456789", "447723456789"},
		{"0 7 7 2 3 4 5 6 7 8 9", "447723456789"},
		{"000007700900100", "447700900100"},
		{"+07700900100", "447700900100"},
		{"0+44(0)7700900100", "447700900100"},
	}
	for _, tt := range tests {
		p, err := ParsePhone(tt.raw)
		got := p.Normalised
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("ParsePhone(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// TestParsePhoneFastPath checks that the usual ways of writing a UK number are read without
// the library, so that a file of them is checked quickly, and that what is read is right.
func TestParsePhoneFastPath(t *testing.T) {
	tests := []struct {
		raw, normalised         string
		international, landline bool
	}{
		{"07723456789", "447723456789", false, false},
		{"07723 456789", "447723456789", false, false},
		{"07723 456 789", "447723456789", false, false},
		{"07723-456-789", "447723456789", false, false},
		{"(07723) 456789", "447723456789", false, false},
		{"7723456789", "447723456789", false, false},
		{"+447723456789", "447723456789", false, false},
		{"+44 7723 456 789", "447723456789", false, false},
		{"+44 (0)7723 456 789", "447723456789", false, false},
		{"00447723456789", "447723456789", false, false},
		{"00 44 7723 456789", "447723456789", false, false},
		{"447723456789", "447723456789", false, false},
		{" 07723 456789\t", "447723456789", false, false},
		{"07700 900123", "447700900123", false, false},
		{"07797 800123", "447797800123", true, false},
		{"07624 123456", "447624123456", true, false},
		{"020 7946 0991", "442079460991", false, true},
		{"07000 123456", "447000123456", false, false},
	}
	for _, tt := range tests {
		p, ok := parseUKPhone(tt.raw)
		if !ok {
			t.Errorf("parseUKPhone(%q) left it to the library", tt.raw)
			continue
		}
		if p.Normalised != tt.normalised || p.International != tt.international || p.UKLandline != tt.landline {
			t.Errorf("parseUKPhone(%q) = %+v", tt.raw, p)
		}
		want, err := parsePhoneWithLibrary(tt.raw)
		if err != nil || want != p {
			t.Errorf("parseUKPhone(%q) = %+v, the library says %+v, %v", tt.raw, p, want, err)
		}
	}
	for _, raw := range []string{"", "0772345678", "07723 45678x", "+1 202 555 0104", "0+447723456789", "0900 123 4567",
		"07600 123456", "0033877123456", "07723\u00a0456789"} {
		if p, ok := parseUKPhone(raw); ok {
			t.Errorf("parseUKPhone(%q) = %+v, want it left to the library", raw, p)
		}
	}
}

// TestParseUKPhoneMatchesLibrary compares the fast path with the library over every five-digit
// start of a 7… national number and every three-digit start of the rest, each written one of
// the usual ways, so that a range the fast path reads differently cannot hide.
func TestParseUKPhoneMatchesLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	formats := []string{"0%s", "+44%s", "0044%s", "44%s", "%s", "+44 (0)%s", "0%s "}
	var numbers []string
	for p := 70000; p < 80000; p++ {
		numbers = append(numbers, fmt.Sprintf("%d%05d", p, rng.IntN(100000)))
	}
	for p := 100; p < 1000; p++ {
		numbers = append(numbers, fmt.Sprintf("%d%07d", p, rng.IntN(10000000)))
	}
	if testing.Short() {
		numbers = numbers[:1000]
	}
	fast := 0
	for _, n := range numbers {
		raw := fmt.Sprintf(formats[rng.IntN(len(formats))], n)
		p, ok := parseUKPhone(raw)
		if !ok {
			continue
		}
		fast++
		if want, err := parsePhoneWithLibrary(raw); err != nil || want != p {
			t.Errorf("parseUKPhone(%q) = %+v, the library says %+v, %v", raw, p, want, err)
		}
	}
	if fast < len(numbers)/4 {
		t.Errorf("only %d of %d numbers took the fast path", fast, len(numbers))
	}
}

func BenchmarkParsePhone(b *testing.B) {
	for _, bm := range []struct {
		name   string
		number func(i int) string
	}{
		{"uk-mobile", func(i int) string { return fmt.Sprintf("07%03d %06d", 100+i%300, i*7919%1000000) }},
		{"uk-mobile-international-form", func(i int) string { return fmt.Sprintf("+44 7%03d %06d", 100+i%300, i*7919%1000000) }},
		{"international", func(i int) string { return fmt.Sprintf("+1 202 555 %04d", i) }},
	} {
		numbers := make([]string, 1000)
		for i := range numbers {
			numbers[i] = bm.number(i)
		}
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := ParsePhone(numbers[i%len(numbers)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
