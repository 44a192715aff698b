package content

import (
	"reflect"
	"testing"
)

func addr(lines ...string) map[string]any {
	p := map[string]any{}
	keys := []string{"address_line_1", "address_line_2", "address_line_3", "address_line_4",
		"address_line_5", "address_line_6", "address_line_7"}
	for i, l := range lines {
		p[keys[i]] = l
	}
	return p
}

func TestValidateAddressErrors(t *testing.T) {
	tests := []struct {
		p    map[string]any
		intl bool
		want string
	}{
		{addr(), false, "Address must be at least 3 lines"},
		{addr("1 Street", "SW1A 1AA"), false, "Address must be at least 3 lines"},
		{addr("1 Street", "Town", "United Kingdom"), false, "Address must be at least 3 lines"},
		{addr("1 Street", "Town", "Scotland", "United Kingdom"), false, "Address must be at least 3 lines"},
		{map[string]any{"address_line_1": "a", "address_line_2": "b", "address_line_3": "c", "address_line_4": "d",
			"address_line_5": "e", "address_line_6": "f\ng", "address_line_7": "SW1A 1AA"}, false, "Address must be no more than 7 lines"},
		{addr("...", "1 Street", "SW1A 1AA"), false, "The first 2 lines of the address must both include at least one alphanumeric character"},
		{addr("Name", "BFPO 1234", "France"), false, "The last line of a BFPO address must not be a country."},
		{addr("Name", "Street", "Town"), false, "Must be a real UK postcode"},
		{addr("Name", "Street", "XX1 1AA"), false, "Must be a real UK postcode"},
		{addr("Name", "Street", "Town"), true, "Last line of address must be a real UK postcode or another country"},
		{addr("Name", "Street", "France"), false, "Must be a real UK postcode"},
		{addr("Name", "=Street", "SW1A 1AA"), false, `Address lines must not start with any of the following characters: @ ( ) = [ ] ” \ / , < >`},
		{addr("Name", "Street", "~Town", "SW1A 1AA"), false, `Address lines must not start with any of the following characters: @ ( ) = [ ] ” \ / , < >`},
		{addr("NFA", "Street", "@Town", "SW1A 1AA"), false, `Address lines must not start with any of the following characters: @ ( ) = [ ] ” \ / , < >`},
		{addr("Name", "nfa", "SW1A 1AA"), false, "Must be a real address"},
		{addr("Name", "No Fixed Abode", "SW1A 1AA"), false, "Must be a real address"},
		{addr("Name", "Street", "No fixed address", "SW1A 1AA"), false, "Must be a real address"},
	}
	for _, tt := range tests {
		_, err := ValidateAddress(tt.p, tt.intl)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("ValidateAddress(%v, %v) = %q, want %q", tt.p, tt.intl, got, tt.want)
		}
	}
}

func TestValidateAddress(t *testing.T) {
	tests := []struct {
		p    map[string]any
		intl bool
		want Address
	}{
		{addr("  Name ,", "1  Street", "sw1a1aa"), false,
			Address{Lines: []string{"Name", "1 Street", "SW1A 1AA"}, Postcode: "SW1A 1AA", Country: UnitedKingdom, Postage: PostageUK}},
		{addr("Name", "1 Street", "SW1A 1AA", "England", "UK"), false,
			Address{Lines: []string{"Name", "1 Street", "SW1A 1AA"}, Postcode: "SW1A 1AA", Country: UnitedKingdom, Postage: PostageUK}},
		{map[string]any{"address_line_1": "Name", "address_line_2": "Street", "address_line_3": nil, "postcode": "BT1 1AA"}, false,
			Address{Lines: []string{"Name", "Street", "BT1 1AA"}, Postcode: "BT1 1AA", Country: UnitedKingdom, Postage: PostageUK}},
		{addr("Name", "Straße 1", "Berlin", "Deutschland"), true,
			Address{Lines: []string{"Name", "Straße 1", "Berlin", "Germany"}, Country: "Germany", Postage: PostageEurope, International: true}},
		{addr("Name", "1 Main St", "New York", "USA"), true,
			Address{Lines: []string{"Name", "1 Main St", "New York", "United States"}, Country: "United States", Postage: PostageRestOfWorld, International: true}},
		{addr("Name", "Unit 5", "BFPO 123"), false,
			Address{Lines: []string{"Name", "Unit 5", "BFPO 123"}, Country: UnitedKingdom, Postage: PostageUK, BFPO: 123}},
		{addr("Name", "Unit 5", "bfpo c/o 123", "BF1 4AA"), false,
			Address{Lines: []string{"Name", "Unit 5", "BF1 4AA", "BFPO 123"}, Postcode: "BF1 4AA", Country: UnitedKingdom, Postage: PostageUK, BFPO: 123}},
		{addr("Name", "Street", "Town", "Jersey", "JE2 3AB"), false,
			Address{Lines: []string{"Name", "Street", "Town", "Jersey", "JE2 3AB"}, Postcode: "JE2 3AB", Country: UnitedKingdom, Postage: PostageUK}},
	}
	for _, tt := range tests {
		got, err := ValidateAddress(tt.p, tt.intl)
		if err != nil {
			t.Errorf("ValidateAddress(%v): %v", tt.p, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ValidateAddress(%v)\n got %+v\nwant %+v", tt.p, got, tt.want)
		}
	}
}

func TestNormalisePostcode(t *testing.T) {
	valid := map[string]string{"sw1a1aa": "SW1A 1AA", " SW1A  1AA ": "SW1A 1AA", "n1 9gu": "N1 9GU",
		"EC1A1BB": "EC1A 1BB", "m11ae": "M1 1AE", "b338th": "B33 8TH", "ZE1 0AA": "ZE1 0AA"}
	for in, want := range valid {
		if got, ok := NormalisePostcode(in); !ok || got != want {
			t.Errorf("NormalisePostcode(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "SW1A", "QQ1 1AA", "SW1A 1AC", "SW1A 1IA", "GIR 0AA", "SW1A 1AAA", "N1 9GU X"} {
		if got, ok := NormalisePostcode(in); ok {
			t.Errorf("NormalisePostcode(%q) = %q, want invalid", in, got)
		}
	}
}

func TestLookupCountry(t *testing.T) {
	tests := []struct{ in, name, postage string }{
		{"France", "France", PostageEurope},
		{"Bahamas", "The Bahamas", PostageRestOfWorld},
		{"Holland", "Netherlands", PostageEurope},
		{"U.S.A.", "United States", PostageRestOfWorld},
		{"United States of America", "United States", PostageRestOfWorld},
		{"Éire", "Ireland", PostageEurope},
		{"Republic of Ireland", "Ireland", PostageEurope},
		{"Côte d’Ivoire", "Ivory Coast", PostageRestOfWorld},
		{"Tenerife", "Canary Islands", PostageEurope},
		{"Bosnia & Herzegovina", "Bosnia and Herzegovina", PostageEurope},
		{"Yr Almaen", "Germany", PostageEurope},
		{"Wales", UnitedKingdom, PostageUK},
		{"Isle of Man", UnitedKingdom, PostageUK},
		{"East Germany", "Germany", PostageEurope},
	}
	for _, tt := range tests {
		name, postage, ok := LookupCountry(tt.in)
		if !ok || name != tt.name || postage != tt.postage {
			t.Errorf("LookupCountry(%q) = %q %q %v, want %q %q", tt.in, name, postage, ok, tt.name, tt.postage)
		}
	}
	for _, in := range []string{"Yugoslavia", "Narnia", "SW1A 1AA", "Street 1", ""} {
		if name, _, ok := LookupCountry(in); ok {
			t.Errorf("LookupCountry(%q) = %q, want not found", in, name)
		}
	}
}
