package content

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Most numbers services text are UK numbers, and a file of 100,000 of them has to be checked
// in seconds. The library spends tens of microseconds on each: it cleans the text with
// several regular expressions, then looks the number's region and type up again for every
// question asked of it. A number written in one of the usual UK ways (07…, +44…, 0044…, 44…,
// with spaces, dashes or brackets) is read here directly, in the same steps the library's
// parser takes for such text, and its region and type are worked out once, with the
// library's own patterns for +44. Anything else, and any number that would be refused, goes
// the library's way, so the results, the messages and the retry for mangled numbers stay
// exactly as they were (FuzzParsePhone compares the two ways on whatever it is given).

// ukDesc is one kind of number in a region's metadata: the lengths it may have and its
// pattern, anchored as the library anchors it.
type ukDesc struct {
	lengths []int32
	re      *regexp.Regexp
}

// matches is the library's isNumberMatchingDesc.
func (d ukDesc) matches(n string) bool {
	if len(d.lengths) > 0 && !slices.Contains(d.lengths, int32(len(n))) {
		return false
	}
	return d.re.MatchString(n)
}

// ukRegion is one region sharing +44 (Great Britain, Guernsey, the Isle of Man, Jersey).
type ukRegion struct {
	code string
	// leading, when set, decides the region by the number's first digits alone.
	leading *regexp.Regexp
	// general and the rest are in the order the library tries them.
	general, premium, tollFree, sharedCost, voip, personal, pager, uan, voicemail, fixedLine, mobile ukDesc

	// sameMobileAndFixed says fixed-line numbers may be mobiles too.
	sameMobileAndFixed bool
}

// typeOf is the library's getNumberTypeHelper.
func (r *ukRegion) typeOf(n string) phonenumbers.PhoneNumberType {
	switch {
	case !r.general.matches(n):
		return phonenumbers.UNKNOWN
	case r.premium.matches(n):
		return phonenumbers.PREMIUM_RATE
	case r.tollFree.matches(n):
		return phonenumbers.TOLL_FREE
	case r.sharedCost.matches(n):
		return phonenumbers.SHARED_COST
	case r.voip.matches(n):
		return phonenumbers.VOIP
	case r.personal.matches(n):
		return phonenumbers.PERSONAL_NUMBER
	case r.pager.matches(n):
		return phonenumbers.PAGER
	case r.uan.matches(n):
		return phonenumbers.UAN
	case r.voicemail.matches(n):
		return phonenumbers.VOICEMAIL
	case r.fixedLine.matches(n):
		if r.sameMobileAndFixed || r.mobile.matches(n) {
			return phonenumbers.FIXED_LINE_OR_MOBILE
		}
		return phonenumbers.FIXED_LINE
	case !r.sameMobileAndFixed && r.mobile.matches(n):
		return phonenumbers.MOBILE
	}
	return phonenumbers.UNKNOWN
}

// ukNumbers is what reading a +44 number needs from the library's metadata.
type ukNumbers struct {
	// regions share +44, in the library's order; Great Britain is first.
	regions []*ukRegion
	// possible and localOnly are Great Britain's number lengths (the general description).
	possible, localOnly []int32
}

// ukMetadata is built on the first UK number rather than at start-up. It is nil when the
// library's metadata no longer has the shape this file was written for (a new version of the
// library changed Great Britain's prefixes); every number then goes the library's way.
var ukMetadata = sync.OnceValue(loadUKNumbers)

// The parts of Great Britain's metadata the reading below relies on.
const (
	ukInternationalPrefix = "00"
	ukNationalPrefixes    = "0|180020"
)

func loadUKNumbers() *ukNumbers {
	codes := phonenumbers.GetRegionCodesForCountryCode(44)
	if len(codes) == 0 || codes[0] != "GB" || len(phonenumbers.GetRegionCodesForCountryCode(4)) != 0 {
		return nil
	}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil
	}
	byCode := map[string]*phonenumbers.PhoneMetadata{}
	for _, md := range coll.GetMetadata() {
		byCode[md.GetId()] = md
	}
	u := &ukNumbers{}
	compiled := true
	compile := func(pattern string) *regexp.Regexp {
		re, err := regexp.Compile(pattern)
		compiled = compiled && err == nil
		return re
	}
	for _, code := range codes {
		md := byCode[code]
		if md == nil || md.GetCountryCode() != 44 {
			return nil
		}
		desc := func(d *phonenumbers.PhoneNumberDesc) ukDesc {
			return ukDesc{lengths: d.GetPossibleLength(), re: compile("^(?:" + d.GetNationalNumberPattern() + ")$")}
		}
		r := &ukRegion{code: code,
			general: desc(md.GetGeneralDesc()), premium: desc(md.GetPremiumRate()), tollFree: desc(md.GetTollFree()),
			sharedCost: desc(md.GetSharedCost()), voip: desc(md.GetVoip()), personal: desc(md.GetPersonalNumber()),
			pager: desc(md.GetPager()), uan: desc(md.GetUan()), voicemail: desc(md.GetVoicemail()),
			fixedLine: desc(md.GetFixedLine()), mobile: desc(md.GetMobile()),
			sameMobileAndFixed: md.GetSameMobileAndFixedLinePattern()}
		if ld := md.GetLeadingDigits(); ld != "" {
			r.leading = compile("^(?:" + ld + ")")
		}
		u.regions = append(u.regions, r)
	}
	gb := byCode["GB"]
	u.possible, u.localOnly = gb.GetGeneralDesc().GetPossibleLength(), gb.GetGeneralDesc().GetPossibleLengthLocalOnly()
	if !compiled || gb.GetInternationalPrefix() != ukInternationalPrefix || gb.GetNationalPrefixForParsing() != ukNationalPrefixes ||
		gb.GetNationalPrefixTransformRule() != "" || len(u.possible) == 0 || u.possible[0] == -1 ||
		u.length(10) != phonenumbers.IS_POSSIBLE {
		return nil
	}
	return u
}

// length is the library's testNumberLength for Great Britain's general description.
func (u *ukNumbers) length(n int) phonenumbers.ValidationResult {
	switch l := int32(n); {
	case slices.Contains(u.localOnly, l):
		return phonenumbers.IS_POSSIBLE_LOCAL_ONLY
	case u.possible[0] == l:
		return phonenumbers.IS_POSSIBLE
	case u.possible[0] > l:
		return phonenumbers.TOO_SHORT
	case u.possible[len(u.possible)-1] < l:
		return phonenumbers.TOO_LONG
	case slices.Contains(u.possible[1:], l):
		return phonenumbers.IS_POSSIBLE
	}
	return phonenumbers.INVALID_LENGTH
}

// stripNationalPrefix is the library's maybeStripNationalPrefixAndCarrierCode for Great
// Britain: a leading 0 (or 180020) goes, unless the number fits the general pattern with it
// and not without it.
func (u *ukNumbers) stripNationalPrefix(s string) string {
	end := 0
	switch {
	case strings.HasPrefix(s, "0"):
		end = 1
	case strings.HasPrefix(s, "180020"):
		end = 6
	default:
		return s
	}
	general := u.regions[0].general.re
	if general.MatchString(s) && !general.MatchString(s[end:]) {
		return s
	}
	return s[end:]
}

// maxUKText bounds the text the fast path reads; longer text is left to the library.
const maxUKText = 64

// nationalNumber reads text as the library's parser would with Great Britain as the default
// region, for text made only of digits, spaces, dashes and brackets with at most a leading
// "+", and returns the national significant number of a +44 number. ok is false for
// anything else, or when the number would keep a leading zero.
func (u *ukNumbers) nationalNumber(raw string) (national string, ok bool) {
	s := strings.Trim(raw, " \t\r\n")
	if s == "" || len(s) > maxUKText {
		return "", false
	}
	var buf [maxUKText]byte
	digits := buf[:0]
	plus := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '-' || c == '(' || c == ')':
		case c == '+' && i == 0:
			plus = true
		default:
			return "", false
		}
	}
	d := string(digits)
	var nat string
	switch {
	case plus:
		// "+44…": one and two digits are tried as the country code, and 4 is none.
		if !strings.HasPrefix(d, "44") {
			return "", false
		}
		nat = d[2:]
	case strings.HasPrefix(d, ukInternationalPrefix):
		// "0044…": the international prefix, when what follows does not start with 0.
		if !strings.HasPrefix(d[2:], "44") {
			return "", false
		}
		nat = d[4:]
	case strings.HasPrefix(d, "44"):
		// "447…": read as the country code only when the whole is too long to be national.
		if u.length(len(d)) != phonenumbers.TOO_LONG {
			return "", false
		}
		nat = u.stripNationalPrefix(d[2:])
	default:
		nat = d
	}
	if len(nat) < phonenumbers.MIN_LENGTH_FOR_NSN {
		return "", false
	}
	// The national prefix is dropped only when what is left has a possible length.
	if stripped := u.stripNationalPrefix(nat); stripped != nat {
		switch u.length(len(stripped)) {
		case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY, phonenumbers.INVALID_LENGTH:
		default:
			nat = stripped
		}
	}
	// Ten digits is the length every UK mobile has; other lengths, and numbers the library
	// would keep a leading zero on, are left to it.
	if len(nat) != 10 || nat[0] == '0' {
		return "", false
	}
	return nat, true
}

// classify is the library's region and type of +44 national number n.
func (u *ukNumbers) classify(n string) (region string, typ phonenumbers.PhoneNumberType) {
	for _, r := range u.regions {
		if r.leading != nil {
			if r.leading.MatchString(n) {
				return r.code, r.typeOf(n)
			}
			continue
		}
		if t := r.typeOf(n); t != phonenumbers.UNKNOWN {
			return r.code, t
		}
	}
	return "", phonenumbers.UNKNOWN
}

// parseUKPhone is ParsePhone for a number written in one of the usual UK ways that the
// library would accept. ok is false when the number needs the library: the text is written
// some other way, or the number would be refused (so that the refusal, and the second try
// with a cleaned copy, are the library's).
func parseUKPhone(raw string) (p Phone, ok bool) {
	u := ukMetadata()
	if u == nil {
		return Phone{}, false
	}
	n, ok := u.nationalNumber(raw)
	if !ok {
		return Phone{}, false
	}
	region, typ := u.classify(n)
	valid := region != "" && typ != phonenumbers.UNKNOWN
	tv := drama.MatchString(n)
	if (!valid || !allowedTypes[typ]) && !tv {
		return Phone{}, false
	}
	p = Phone{Normalised: "44" + n, CountryPrefix: "44", countryCode: 44}
	p.International = region != "GB" && !tv
	p.CrownDependency = region != "GB" && !tv
	switch typ {
	case phonenumbers.FIXED_LINE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.UAN:
		p.UKLandline = true
	}
	rate := phoneRates["44"]
	p.NumericSender = rate.numericSender
	p.RateMultiplier = 1
	if p.International {
		p.RateMultiplier = rate.multiplier
	}
	return p, true
}
