package content

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// PhoneErrorCode says why a phone number was refused.
type PhoneErrorCode int

// Reasons a phone number is refused. Each has a fixed message that Notify's v2 API has
// always returned, and that integrations match on.
const (
	PhoneInvalid PhoneErrorCode = iota
	PhoneTooLong
	PhoneTooShort
	PhoneNotUKMobile
	PhoneUnknownCharacter
	PhoneUnsupportedCountry
)

var phoneMessages = map[PhoneErrorCode]string{
	PhoneInvalid:            "Number is not valid – double check the phone number you entered",
	PhoneTooLong:            "Too many digits",
	PhoneTooShort:           "Not enough digits",
	PhoneNotUKMobile:        "Not a UK mobile number",
	PhoneUnknownCharacter:   "Must not contain letters or symbols",
	PhoneUnsupportedCountry: "Not a valid country prefix",
}

// PhoneError is a refused phone number; its message is the API's exact text.
type PhoneError struct {
	Code PhoneErrorCode
}

// Error returns the API's legacy message for the code.
func (e *PhoneError) Error() string { return phoneMessages[e.Code] }

// ErrInternationalNotAllowed is returned for a number outside the UK when the service
// may not send international text messages. The API reports it as a BadRequestError.
var ErrInternationalNotAllowed = &Error{Message: "Cannot send to international mobile numbers"}

// Phone is a parsed, valid phone number.
type Phone struct {
	// Normalised is E.164 without the "+", the form numbers are stored and sent in.
	Normalised string
	// International is true outside Great Britain, including the Crown dependencies.
	International bool
	// CrownDependency marks Jersey, Guernsey and the Isle of Man: +44 numbers that count
	// as UK for permissions but are billed as international.
	CrownDependency bool
	// UKLandline marks +44 fixed-line numbers, which need the sms_to_uk_landlines permission.
	UKLandline bool
	// CountryPrefix is the calling code used for billing ("44", "1", or "1" plus an area
	// code for North American territories billed separately, such as "1664").
	CountryPrefix string
	// RateMultiplier is how many UK texts one fragment to this number costs.
	RateMultiplier int
	// NumericSender is true where networks refuse alphanumeric sender names.
	NumericSender bool

	countryCode int
}

// drama matches Ofcom's numbers reserved for TV and film (07700 900000–900999). The
// library rejects them but Notify accepts them, and as written the reference's pattern
// accepts any national number starting 7700 and one more digit; we keep that.
var drama = regexp.MustCompile(`^7700[0-9]`)

// ParsePhone validates a phone number as the API's schema does, accepting UK landlines
// and international numbers (permissions are checked by Permit). Numbers are read as UK
// unless they carry a country code; a copy with "+" signs and leading zeros removed is
// tried when the number as written fails, as spreadsheets often mangle them.
func ParsePhone(raw string) (Phone, error) {
	if p, ok := parseUKPhone(raw); ok {
		return p, nil
	}
	return parsePhoneWithLibrary(raw)
}

// parsePhoneWithLibrary is ParsePhone done entirely by the library, for any number.
func parsePhoneWithLibrary(raw string) (Phone, error) {
	num, err := parsePhoneNumber(raw)
	if err != nil {
		cleaned := asciiDowngrade(strings.TrimLeft(strings.ReplaceAll(raw, "+", ""), "0"))
		if num, err = parsePhoneNumber(cleaned); err != nil {
			return Phone{}, err
		}
	}
	p := Phone{countryCode: int(num.GetCountryCode())}
	p.Normalised = strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+")
	tv := drama.MatchString(strconv.FormatUint(num.GetNationalNumber(), 10))
	region := phonenumbers.GetRegionCodeForNumber(num)
	p.International = region != "GB" && !tv
	p.CrownDependency = !tv && p.countryCode == 44 && region != "GB"
	if p.countryCode == 44 {
		switch phonenumbers.GetNumberType(num) {
		case phonenumbers.FIXED_LINE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.UAN:
			p.UKLandline = true
		}
	}
	p.CountryPrefix = strconv.Itoa(p.countryCode)
	if p.countryCode == 1 && len(p.Normalised) >= 4 {
		if _, ok := phoneRates[p.Normalised[:4]]; ok {
			p.CountryPrefix = p.Normalised[:4]
		}
	}
	rate, supported := phoneRates[p.CountryPrefix]
	if _, ok := phoneRates[strconv.Itoa(p.countryCode)]; !ok {
		return Phone{}, &PhoneError{Code: PhoneUnsupportedCountry}
	}
	p.NumericSender = supported && rate.numericSender
	p.RateMultiplier = 1
	if p.International && supported {
		p.RateMultiplier = rate.multiplier
	}
	return p, nil
}

// Permit checks a parsed number against a service's permissions: without
// international_sms only +44 numbers are allowed (ErrInternationalNotAllowed), and without
// sms_to_uk_landlines UK landlines are refused as not a UK mobile.
func (p Phone) Permit(allowInternational, allowUKLandline bool) error {
	if !allowInternational && p.countryCode != 44 {
		return ErrInternationalNotAllowed
	}
	if !allowUKLandline && p.UKLandline {
		return &PhoneError{Code: PhoneNotUKMobile}
	}
	return nil
}

// allowedTypes are the kinds of number a text can go to; premium rate and the rest are refused.
var allowedTypes = map[phonenumbers.PhoneNumberType]bool{
	phonenumbers.FIXED_LINE:           true,
	phonenumbers.MOBILE:               true,
	phonenumbers.FIXED_LINE_OR_MOBILE: true,
	phonenumbers.UAN:                  true,
	phonenumbers.PERSONAL_NUMBER:      true,
}

func parsePhoneNumber(raw string) (*phonenumbers.PhoneNumber, error) {
	for _, r := range raw {
		if !(r >= '0' && r <= '9' || strings.ContainsRune("()-+", r) || isSpace(r) ||
			strings.ContainsRune(zeroWidth+fullWidthSpace, r)) {
			return nil, &PhoneError{Code: PhoneUnknownCharacter}
		}
	}
	if raw == "" {
		return nil, &PhoneError{Code: PhoneTooShort}
	}
	// The library should ignore surrounding spaces and invisible characters but its
	// pattern for trailing ones does not work in Go, so they are trimmed here.
	raw = strings.TrimFunc(raw, func(r rune) bool { return isSpace(r) || strings.ContainsRune(zeroWidth, r) })
	num, err := phonenumbers.Parse(raw, "GB")
	if err != nil {
		return nil, &PhoneError{Code: PhoneInvalid}
	}
	if reason := phonenumbers.IsPossibleNumberWithReason(num); reason != phonenumbers.IS_POSSIBLE {
		forced, ferr := phonenumbers.Parse("+"+raw, "")
		if ferr == nil && phonenumbers.IsPossibleNumber(forced) {
			num = forced
		} else {
			return nil, &PhoneError{Code: possibleReasonCode(reason)}
		}
	}
	if !phonenumbers.IsValidNumber(num) || !allowedTypes[phonenumbers.GetNumberType(num)] {
		if drama.MatchString(strconv.FormatUint(num.GetNationalNumber(), 10)) {
			return num, nil
		}
		return nil, &PhoneError{Code: PhoneInvalid}
	}
	return num, nil
}

func possibleReasonCode(reason phonenumbers.ValidationResult) PhoneErrorCode {
	switch reason {
	case phonenumbers.TOO_LONG:
		return PhoneTooLong
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return PhoneTooShort
	case phonenumbers.INVALID_COUNTRY_CODE:
		return PhoneUnsupportedCountry
	}
	return PhoneInvalid
}

// Country calling codes Notify can send text messages to, with the billing multiplier
// for each (one UK text costs 1) and whether the country's networks refuse
// alphanumeric sender names, in which case a numeric sender must be used. North American
// numbers are listed by country code plus area code where those areas bill differently.

// phoneRate is one calling code's billing entry.
type phoneRate struct {
	multiplier    int
	numericSender bool
}

// phoneRates is keyed by the calling code, or for +1 the code plus area code.
var phoneRates = map[string]phoneRate{
	"1": {1, true}, "7": {10, false}, "20": {7, false}, "27": {3, true},
	"30": {2, false}, "31": {3, false}, "32": {3, true}, "33": {2, false},
	"34": {2, false}, "36": {2, true}, "39": {2, false}, "40": {2, false},
	"41": {2, false}, "43": {2, false}, "44": {2, false}, "45": {2, false},
	"46": {2, false}, "47": {2, false}, "48": {1, false}, "49": {5, false},
	"51": {5, true}, "52": {3, true}, "53": {2, true}, "54": {3, true},
	"55": {2, true}, "56": {2, true}, "57": {2, true}, "58": {2, true},
	"60": {7, true}, "61": {2, false}, "62": {12, false}, "63": {5, false},
	"64": {2, true}, "65": {2, false}, "66": {1, false}, "81": {2, true},
	"82": {1, true}, "84": {4, false}, "86": {1, true}, "90": {1, false},
	"91": {2, false}, "92": {12, false}, "93": {10, false}, "94": {12, false},
	"95": {9, false}, "98": {6, true}, "211": {8, false}, "212": {6, false},
	"213": {6, false}, "216": {9, false}, "218": {9, true}, "220": {4, false},
	"221": {7, false}, "222": {6, false}, "223": {7, false}, "224": {6, false},
	"225": {10, false}, "226": {4, false}, "227": {8, false}, "228": {7, false},
	"229": {7, false}, "230": {4, false}, "231": {6, false}, "232": {5, false},
	"233": {8, false}, "234": {8, false}, "235": {6, false}, "236": {7, false},
	"237": {5, false}, "238": {5, false}, "239": {1, false}, "240": {6, false},
	"241": {8, false}, "242": {7, false}, "243": {5, false}, "244": {3, false},
	"245": {8, false}, "246": {2, false}, "248": {4, false}, "249": {8, false},
	"250": {8, false}, "251": {9, false}, "252": {5, false}, "253": {4, false},
	"254": {3, false}, "255": {7, false}, "256": {7, false}, "257": {8, false},
	"258": {4, false}, "260": {8, false}, "261": {12, false}, "262": {3, false},
	"263": {5, false}, "264": {1, false}, "265": {8, false}, "266": {3, false},
	"267": {3, false}, "268": {7, false}, "269": {7, false}, "291": {3, false},
	"297": {3, false}, "298": {2, false}, "299": {1, false}, "350": {2, true},
	"351": {2, false}, "352": {2, false}, "353": {2, false}, "354": {2, false},
	"355": {3, false}, "356": {2, false}, "357": {2, false}, "358": {2, false},
	"359": {4, true}, "370": {2, false}, "371": {2, false}, "372": {2, false},
	"373": {2, true}, "374": {5, false}, "375": {6, false}, "376": {3, false},
	"377": {4, true}, "378": {8, false}, "380": {5, false}, "381": {7, false},
	"382": {4, false}, "383": {5, false}, "385": {2, false}, "386": {4, false},
	"387": {3, false}, "389": {1, false}, "420": {2, false}, "421": {2, false},
	"423": {1, false}, "500": {3, false}, "501": {5, false}, "502": {5, true},
	"503": {2, false}, "504": {5, false}, "505": {4, false}, "506": {1, false},
	"507": {4, true}, "508": {4, false}, "509": {8, false}, "590": {4, true},
	"591": {4, false}, "592": {6, false}, "593": {4, true}, "594": {4, false},
	"595": {3, false}, "596": {4, false}, "597": {6, false}, "598": {2, true},
	"599": {7, false}, "670": {5, false}, "672": {2, false}, "673": {2, false},
	"674": {6, false}, "675": {6, false}, "676": {4, false}, "677": {2, false},
	"678": {4, false}, "679": {5, false}, "680": {2, false}, "681": {2, false},
	"682": {4, false}, "683": {8, false}, "685": {5, false}, "686": {1, false},
	"687": {3, false}, "689": {3, false}, "690": {8, false}, "691": {2, false},
	"692": {2, false}, "852": {2, false}, "853": {1, false}, "855": {8, true},
	"856": {8, true}, "880": {9, false}, "886": {2, true}, "960": {6, false},
	"961": {9, true}, "962": {8, false}, "963": {9, true}, "964": {9, false},
	"965": {7, false}, "966": {5, false}, "967": {6, false}, "968": {4, false},
	"970": {9, false}, "971": {3, false}, "972": {6, false}, "973": {3, false},
	"974": {6, false}, "975": {10, false}, "976": {7, true}, "977": {8, true},
	"992": {10, false}, "993": {7, false}, "994": {9, false}, "995": {4, false},
	"996": {8, false}, "998": {12, false}, "1242": {3, true}, "1246": {7, true},
	"1264": {6, false}, "1268": {5, false}, "1284": {5, false}, "1345": {6, false},
	"1441": {7, false}, "1473": {6, false}, "1649": {6, false}, "1664": {6, true},
	"1684": {2, true}, "1721": {2, false}, "1758": {7, false}, "1767": {7, false},
	"1784": {7, false}, "1809": {3, true}, "1829": {3, true}, "1849": {3, true},
	"1868": {7, false}, "1869": {6, false}, "1876": {7, false},
}
