package content

import (
	"regexp"
	"strconv"
	"strings"
)

// Address is a letter's validated address.
type Address struct {
	// Lines are the address as it will be printed: whitespace tidied, a UK postcode in
	// its standard form, and an international address ending with the country's
	// canonical name.
	Lines []string
	// Postcode is the normalised UK postcode, or "" for international addresses.
	Postcode string
	// Country is the canonical country name (United Kingdom for UK and BFPO addresses).
	Country string
	// Postage is PostageUK, PostageEurope or PostageRestOfWorld.
	Postage string
	// International is true when the letter leaves the UK.
	International bool
	// BFPO is the British Forces Post Office number, or 0.
	BFPO int
}

// Address validation messages, in the order the checks run.
const (
	msgTooFewLines       = "Address must be at least 3 lines"
	msgTooManyLines      = "Address must be no more than 7 lines"
	msgFirstTwoLines     = "The first 2 lines of the address must both include at least one alphanumeric character"
	msgBFPOCountry       = "The last line of a BFPO address must not be a country."
	msgPostcode          = "Must be a real UK postcode"
	msgPostcodeOrCountry = "Last line of address must be a real UK postcode or another country"
	msgBadFirstCharacter = `Address lines must not start with any of the following characters: @ ( ) = [ ] ” \ / , < >`
	msgNoFixedAbode      = "Must be a real address"
)

var (
	reBFPO        = regexp.MustCompile(`^[` + pySpace + `]*bfpo[` + pySpace + `]*(?:c/o)?(?:[` + pySpace + `]*([0-9]+))?[` + pySpace + `]*$`)
	reNoFixed     = regexp.MustCompile(`(?i)no fixed (?:abode|address)`)
	reAlphanum    = regexp.MustCompile(`[a-zA-Z0-9]`)
	badLineStarts = `@()=[]"\/,<>~`
)

// ValidateAddress reads a letter's address from its personalisation (address_line_1 to
// address_line_7, or address_line_1 to 6 and postcode when address_line_7 is absent)
// and runs Notify's checks in order, returning the first failure with its exact message.
// allowInternational is the service's international_letters permission.
func ValidateAddress(personalisation map[string]any, allowInternational bool) (Address, error) {
	keys := []string{"address_line_1", "address_line_2", "address_line_3", "address_line_4",
		"address_line_5", "address_line_6", "postcode"}
	if _, ok := personalisation["address_line_7"]; ok {
		keys[6] = "address_line_7"
	}
	raw := make([]string, len(keys))
	for i, k := range keys {
		if v := personalisation[k]; !falsy(v) {
			raw[i] = pyStr(v)
		}
	}
	a := parseAddress(strings.Join(raw, "\n"))
	count := 0
	for _, l := range a.Lines {
		if l != "" {
			count++
		}
	}
	fail := func(msg string) (Address, error) { return Address{}, &Error{Message: msg} }
	switch {
	case count < 3:
		return fail(msgTooFewLines)
	case count > 7:
		return fail(msgTooManyLines)
	case len(a.Lines) < 2 || !reAlphanum.MatchString(a.Lines[0]) || !reAlphanum.MatchString(a.Lines[1]):
		return fail(msgFirstTwoLines)
	case a.International && a.BFPO > 0:
		return fail(msgBFPOCountry)
	case !(allowInternational && a.International && a.BFPO == 0) && a.Postcode == "" && a.BFPO == 0:
		if allowInternational {
			return fail(msgPostcodeOrCountry)
		}
		return fail(msgPostcode)
	}
	for _, l := range a.Lines {
		if l != "" && strings.ContainsRune(badLineStarts, []rune(l)[0]) {
			return fail(msgBadFirstCharacter)
		}
	}
	for _, l := range a.Lines {
		if strings.ToLower(l) == "nfa" {
			return fail(msgNoFixedAbode)
		}
	}
	if reNoFixed.MatchString(strings.Join(a.Lines, "\n")) {
		return fail(msgNoFixedAbode)
	}
	return a, nil
}

// falsy mirrors the reference reading "value or empty": null, "", 0, false and empty
// lists all leave the line blank.
func falsy(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case float64:
		return x == 0
	case int:
		return x == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	if n, ok := v.(interface{ String() string }); ok {
		if f, err := strconv.ParseFloat(n.String(), 64); err == nil {
			return f == 0
		}
	}
	return false
}

// parseAddress tidies the lines, then works out from the end whether the address is
// BFPO, international (last line a country other than the UK) or UK, dropping trailing
// lines that just say United Kingdom, England, Wales and so on.
func parseAddress(raw string) Address {
	var lines []string
	for _, l := range splitLines(raw) {
		l = strings.TrimRight(normaliseWhitespace(l, false), " ,")
		if l != "" {
			lines = append(lines, removeSpaceBeforePunctuation(l))
		}
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	a := Address{Country: UnitedKingdom, Postage: PostageUK}
	rest := lines
	for _, l := range lines {
		if m := reBFPO.FindStringSubmatch(strings.ToLower(l)); m != nil && m[1] != "" {
			a.BFPO, _ = strconv.Atoi(m[1])
			rest = nil
			for _, keep := range lines {
				if !reBFPO.MatchString(strings.ToLower(keep)) {
					rest = append(rest, keep)
				}
			}
			break
		}
	}
	body := rest
	if len(rest) > 0 {
		if name, postage, ok := LookupCountry(rest[len(rest)-1]); ok {
			drop := trailingUK(rest)
			body = rest[:len(rest)-max(drop, 1)]
			a.Country, a.Postage = name, postage
		}
	}
	a.International = a.Postage != PostageUK
	if !a.International && len(body) > 0 {
		a.Postcode, _ = NormalisePostcode(body[len(body)-1])
	}
	switch {
	case a.International:
		a.Lines = appendLines(body, bfpoLine(a.BFPO), a.Country)
	case a.Postcode != "":
		a.Lines = appendLines(body[:len(body)-1], a.Postcode, bfpoLine(a.BFPO))
	default:
		a.Lines = appendLines(body, bfpoLine(a.BFPO))
	}
	return a
}

// trailingUK counts the lines naming the UK at the end of the address; lines that are
// not countries are passed over and any other country stops the count.
func trailingUK(lines []string) int {
	n := 0
	for i := len(lines) - 1; i >= 0; i-- {
		name, _, ok := LookupCountry(lines[i])
		if !ok {
			continue
		}
		if name != UnitedKingdom {
			break
		}
		n++
	}
	return n
}

func bfpoLine(n int) string {
	if n == 0 {
		return ""
	}
	return "BFPO " + strconv.Itoa(n)
}

func appendLines(base []string, extra ...string) []string {
	out := append([]string(nil), base...)
	for _, e := range extra {
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}
