package content

import (
	_ "embed"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// countriesData lists, one country or territory a line, its Royal Mail postage zone,
// its canonical name and the other names people write for it (local names, Welsh names,
// abbreviations, common misspellings), separated by tabs. The names come from GOV.UK's
// country and territory register; places in the Crown dependencies count as the UK.
//
//go:embed countries.txt
var countriesData string

// Postage zones a letter's address can fall in.
const (
	PostageUK          = "united-kingdom"
	PostageEurope      = "europe"
	PostageRestOfWorld = "rest-of-world"
)

// UnitedKingdom is the canonical name of the UK.
const UnitedKingdom = "United Kingdom"

type country struct {
	name   string
	postal string
}

// countries maps a normalised name to its country.
var countries = func() map[string]country {
	m := map[string]country{}
	for line := range strings.SplitSeq(strings.TrimSpace(countriesData), "\n") {
		fields := strings.Split(line, "\t")
		c := country{postal: fields[0], name: fields[1]}
		for _, name := range fields[1:] {
			if key, ok := countryKey(name); ok {
				m[key] = c
			}
		}
	}
	return m
}()

// ampersandAsAnd is built once: countryKey runs for every name in the table at start-up and
// for every letter address, and building a Replacer costs more than using it.
var ampersandAsAnd = strings.NewReplacer("&", "and", "+", "and")

// countryKey normalises a name for comparison: case, spaces and punctuation are ignored,
// "&" and "+" read as "and", and accents are dropped where the result is still
// recognisable. A name containing a digit is never a country, which is how a postcode
// on the last line is told apart quickly.
func countryKey(name string) (string, bool) {
	if strings.ContainsFunc(name, unicode.IsDigit) {
		return "", false
	}
	name = ampersandAsAnd.Replace(name)
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" _-'’,.()", r) {
			return -1
		}
		return r
	}, strings.ToLower(name))
	if ascii := asciiDowngrade(name); !strings.Contains(ascii, "?") {
		return ascii, true
	}
	return name, true
}

// LookupCountry finds a country by any of its names, also trying the name with "the"
// (or Welsh "yr"/"y") in front. It returns the canonical name and postage zone.
func LookupCountry(name string) (canonical, postage string, ok bool) {
	for _, candidate := range []string{name, "the " + name, "yr " + name, "y " + name} {
		key, valid := countryKey(candidate)
		if !valid {
			return "", "", false
		}
		if c, found := countries[key]; found {
			return c.name, c.postal, true
		}
	}
	return "", "", false
}

// ukPostcodeAreas are the letters that start every real UK postcode.
var ukPostcodeAreas = strings.Fields(`AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO
	CR CT CV CW DA DD DE DG DH DL DN DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU
	HX IG IM IP IV JE KA KT KW KY L GIR LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL
	OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR
	TS TW UB W WA WC WD WF WN WR WS WV YO ZE`)

// NormalisePostcode returns a real UK postcode in its printed form, upper case with one
// space before the last three characters ("sw1a1aa" becomes "SW1A 1AA"), or ok=false.
// A postcode is real when it starts with a known area and the rest has the shape
// district digit(s), sector digit, and two unit letters that are never C, I, K, M, O or V.
func NormalisePostcode(raw string) (string, bool) {
	pc := strings.ToUpper(strings.Map(func(r rune) rune {
		if isSpace(r) || strings.ContainsRune(zeroWidth+fullWidthSpace, r) {
			return -1
		}
		return r
	}, raw))
	for _, area := range ukPostcodeAreas {
		if rest, found := strings.CutPrefix(pc, area); found && postcodeTail(rest) {
			return pc[:len(pc)-3] + " " + pc[len(pc)-3:], true
		}
	}
	return "", false
}

// postcodeTail checks the part after the area: a digit, an optional digit or letter, then
// the inward code's digit and two unit letters.
func postcodeTail(s string) bool {
	if len(s) != 4 && len(s) != 5 {
		return false
	}
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	unit := func(c byte) bool { return c >= 'A' && c <= 'Z' && !strings.ContainsRune("CIKMOV", rune(c)) }
	if !digit(s[0]) {
		return false
	}
	if len(s) == 5 && !(digit(s[1]) || s[1] >= 'A' && s[1] <= 'Z') {
		return false
	}
	n := len(s)
	return digit(s[n-3]) && unit(s[n-2]) && unit(s[n-1])
}

// asciiReplacements extend the text message replacements for places that accept only
// printable ASCII, such as country names being compared and phone numbers being cleaned.
var asciiReplacements = map[rune]string{'Ł': "L", 'ł': "l", '\u200d': ""}

// asciiDowngrade makes s printable ASCII: typographic punctuation becomes its plain
// equivalent, accented letters lose their accents (é becomes e), and anything else
// becomes "?".
func asciiDowngrade(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case asciiReplacements[r] != "" || r == '\u200d':
			b.WriteString(asciiReplacements[r])
		default:
			if repl, ok := smsReplacements[r]; ok {
				b.WriteString(repl)
				continue
			}
			b.WriteString(baseLetter(r))
		}
	}
	return b.String()
}

// baseLetter is the unaccented form of r when its canonical decomposition starts with a
// printable ASCII character, and "?" otherwise.
func baseLetter(r rune) string {
	d := norm.NFD.String(string(r))
	if d != string(r) && d[0] >= 0x20 && d[0] < 0x7f {
		return d[:1]
	}
	return "?"
}
