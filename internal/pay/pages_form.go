package pay

import (
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/commons-gov/commons/internal/web"
)

// The card details form (pay.md §7.2 step 3). Its field names are GOV.UK Pay's, so that a
// payer's browser autofill and any assistive tooling built for those pages work here too.
const (
	fieldCardNo   = "cardNo"
	fieldMonth    = "expiryMonth"
	fieldYear     = "expiryYear"
	fieldName     = "cardholderName"
	fieldCVC      = "cvc"
	fieldLine1    = "addressLine1"
	fieldLine2    = "addressLine2"
	fieldCity     = "addressCity"
	fieldPostcode = "addressPostcode"
	fieldCountry  = "addressCountry"
	fieldEmail    = "email"
)

// secretFields are never shown back to the payer, logged or kept: a redisplayed form asks for
// them again.
var secretFields = []string{fieldCardNo, fieldCVC}

// Limits of the free-text fields.
const (
	maxCardFieldLength = 255
	maxPayerEmail      = 254
	// maxDigitsInText is how many digits a name or address line may hold before it looks
	// like a card number typed in the wrong box.
	maxDigitsInText = 11
	maxExpiryYear   = 2099
)

// cardEntry is what the payer entered, checked: the card for the provider and the email
// address for the payment.
type cardEntry struct {
	Card  Card
	Email string
}

// checkCardForm checks the card form in the order its fields appear, recording an error in
// lang against each field at fault, and returns what was entered. The caller must forget the
// secret fields before the form is shown again.
func checkCardForm(form *web.Form, lang string, now time.Time) cardEntry {
	fail := func(field, key string) { form.AddError(field, mustMessage(lang, key)) }
	var e cardEntry

	number := strings.Map(func(r rune) rune {
		if r == ' ' {
			return -1
		}
		return r
	}, form.Raw(fieldCardNo))
	switch {
	case number == "":
		fail(fieldCardNo, "card_number_missing")
	case !allDigits(number):
		fail(fieldCardNo, "card_number_invalid")
	case len(number) < 12 || len(number) > 19:
		fail(fieldCardNo, "card_number_length")
	case !luhnValid(number):
		fail(fieldCardNo, "card_number_invalid")
	case brandOf(number) == "":
		fail(fieldCardNo, "card_brand_unknown")
	}

	month, year, field, key := checkExpiry(form.Get(fieldMonth), form.Get(fieldYear), now)
	if key != "" {
		fail(field, key)
	}

	name := form.Get(fieldName)
	switch {
	case name == "":
		fail(fieldName, "name_missing")
	case utf8.RuneCountInString(name) > maxCardFieldLength:
		fail(fieldName, "name_too_long")
	case countDigits(name) > maxDigitsInText:
		fail(fieldName, "name_card_number")
	case allDigits(name) && (len(name) == 3 || len(name) == 4):
		fail(fieldName, "name_cvc")
	}

	cvc := strings.TrimSpace(form.Raw(fieldCVC))
	switch {
	case cvc == "":
		fail(fieldCVC, "cvc_missing")
	case !allDigits(cvc) || len(cvc) < 3 || len(cvc) > 4:
		fail(fieldCVC, "cvc_invalid")
	}

	addr := Address{Line1: form.Get(fieldLine1), Line2: form.Get(fieldLine2), City: form.Get(fieldCity),
		Postcode: form.Get(fieldPostcode), Country: strings.ToUpper(form.Get(fieldCountry))}
	checkAddressLine(form, lang, fieldLine1, addr.Line1, "line1_missing")
	checkAddressLine(form, lang, fieldLine2, addr.Line2, "")
	checkAddressLine(form, lang, fieldCity, addr.City, "city_missing")
	switch pc, ok := ukPostcode(addr.Postcode); {
	case addr.Postcode == "":
		fail(fieldPostcode, "postcode_missing")
	case countDigits(addr.Postcode) > maxDigitsInText:
		fail(fieldPostcode, "address_card_number")
	case utf8.RuneCountInString(addr.Postcode) > maxCardFieldLength:
		fail(fieldPostcode, "address_too_long")
	case addr.Country == "GB" && !ok:
		fail(fieldPostcode, "postcode_invalid")
	case addr.Country == "GB":
		addr.Postcode = pc
		form.Set(fieldPostcode, pc)
	}
	if !validCountryCode(addr.Country) {
		fail(fieldCountry, "country_missing")
	}

	e.Email = form.Get(fieldEmail)
	switch {
	case e.Email == "":
		fail(fieldEmail, "email_missing")
	case len(e.Email) > maxPayerEmail:
		fail(fieldEmail, "email_too_long")
	case !validPayerEmail(e.Email):
		fail(fieldEmail, "email_invalid")
	}

	e.Card = Card{Number: number, CVC: cvc, ExpiryDate: fmt.Sprintf("%02d/%02d", month, year%100),
		CardholderName: name, BillingAddress: &addr}
	return e
}

// checkAddressLine checks one line of the billing address; missingKey is "" for an optional
// line.
func checkAddressLine(form *web.Form, lang, field, value, missingKey string) {
	switch {
	case value == "" && missingKey != "":
		form.AddError(field, mustMessage(lang, missingKey))
	case utf8.RuneCountInString(value) > maxCardFieldLength:
		form.AddError(field, mustMessage(lang, "address_too_long"))
	case countDigits(value) > maxDigitsInText:
		form.AddError(field, mustMessage(lang, "address_card_number"))
	}
}

// checkExpiry checks an expiry month and year (two or four digits). A card works to the end of
// its expiry month. It returns the month and four-digit year, or the field at fault and the
// message key.
func checkExpiry(rawMonth, rawYear string, now time.Time) (month, year int, field, key string) {
	if rawMonth == "" && rawYear == "" {
		return 0, 0, fieldMonth, "expiry_missing"
	}
	month, err := strconv.Atoi(rawMonth)
	if !allDigits(rawMonth) || len(rawMonth) > 2 || err != nil || month < 1 || month > 12 {
		return 0, 0, fieldMonth, "expiry_invalid"
	}
	year, err = strconv.Atoi(rawYear)
	if !allDigits(rawYear) || (len(rawYear) != 2 && len(rawYear) != 4) || err != nil {
		return 0, 0, fieldYear, "expiry_invalid"
	}
	if len(rawYear) == 2 {
		year += 2000
	}
	if year > maxExpiryYear || year < 2000 {
		return 0, 0, fieldYear, "expiry_invalid"
	}
	now = now.UTC()
	if year < now.Year() || (year == now.Year() && month < int(now.Month())) {
		return 0, 0, fieldMonth, "expiry_past"
	}
	return month, year, "", ""
}

// countDigits counts the ASCII digits in s.
func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// rePostcode is the shape of a UK postcode without its space: an outward code of one or two
// letters, a digit and an optional letter or digit, then an inward code of a digit and two
// letters; GIR 0AA is the one exception.
var rePostcode = regexp.MustCompile(`^(?:GIR0AA|[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2})$`)

// ukPostcode checks a UK postcode and returns it in its usual form: capitals, one space before
// the inward code.
func ukPostcode(s string) (string, bool) {
	compact := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if !rePostcode.MatchString(compact) {
		return "", false
	}
	return compact[:len(compact)-3] + " " + compact[len(compact)-3:], true
}

// reDomainLabel is one label of an email address's domain.
var reDomainLabel = regexp.MustCompile(`(?i)^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// validPayerEmail checks an email address the way mail providers will: a plain addr-spec (no
// display name, no quoted local part), with a domain of at least two labels and a top-level
// domain that is not all digits.
func validPayerEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s || strings.HasPrefix(s, `"`) {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	if len(local) > 64 || strings.Contains(local, "..") {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !reDomainLabel.MatchString(l) {
			return false
		}
	}
	return !allDigits(labels[len(labels)-1])
}
