package content

import (
	"errors"
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
