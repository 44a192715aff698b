package pay

import "strings"

// Card brands as slugs (stored, and accepted by the search filter card_brand) and the labels
// the API shows in card_details.card_brand.
var brandLabels = map[string]string{
	"visa":             "Visa",
	"master-card":      "Mastercard",
	"american-express": "American Express",
	"diners-club":      "Diners Club",
	"discover":         "Discover",
	"jcb":              "Jcb",
	"maestro":          "Maestro",
	"unionpay":         "Union Pay",
}

// brandLabel is the display form of a brand slug.
func brandLabel(slug string) string { return brandLabels[slug] }

// brandOf recognises a card's brand from its leading digits (its issuer identification
// number), or returns "" for a number no accepted brand issues.
func brandOf(number string) string {
	p := func(n int) int {
		if len(number) < n {
			return -1
		}
		v := 0
		for i := 0; i < n; i++ {
			v = v*10 + int(number[i]-'0')
		}
		return v
	}
	switch p2, p3, p4 := p(2), p(3), p(4); {
	case p2 == 34 || p2 == 37:
		return "american-express"
	case p4 >= 3528 && p4 <= 3589:
		return "jcb"
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39:
		return "diners-club"
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65:
		return "discover"
	case p2 == 62:
		return "unionpay"
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return "master-card"
	case p2 == 50, p2 >= 56 && p2 <= 58, p2 == 63, p2 == 67:
		return "maestro"
	case strings.HasPrefix(number, "4"):
		return "visa"
	}
	return ""
}

// sandboxDebitCards are the sandbox's test cards that are debit cards; the others are credit.
var sandboxDebitCards = setOf(
	"4917610000000000003", "4000056655665556", "5105105105105100", "4000160000000004", "4988080000000000",
	"4131840000000003", "4000180000000002", "5200828282828210",
)

// cardTypeOf is the sandbox's answer to "credit or debit?".
func cardTypeOf(number string) string {
	if sandboxDebitCards[number] || brandOf(number) == "maestro" {
		return "debit"
	}
	return "credit"
}

// luhnValid reports whether a string of digits passes the Luhn check every card number does.
func luhnValid(number string) bool {
	if number == "" {
		return false
	}
	sum, double := 0, false
	for i := len(number) - 1; i >= 0; i-- {
		c := number[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// allDigits reports whether s is non-empty and only digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
