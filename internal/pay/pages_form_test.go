package pay

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/web"
)

// checkForm runs the card form checks on values (a complete valid form with changes) and
// returns each field's error, in the order found.
func checkForm(t *testing.T, lang string, change map[string]string) (cardEntry, map[string]string) {
	t.Helper()
	v := goodCard("4444333322221111")
	for k, val := range change {
		v.Set(k, val)
	}
	form := formOf(t, v)
	entry := checkCardForm(form, lang, time.Date(2026, 5, 12, 9, 30, 0, 0, time.UTC))
	errs := map[string]string{}
	for _, e := range form.Errors() {
		errs[e.Field] = e.Message
	}
	return entry, errs
}

// formOf makes a web.Form of values as a browser would post them.
func formOf(t *testing.T, v url.Values) *web.Form {
	t.Helper()
	f := web.NewForm()
	for k, vals := range v {
		f.Set(k, vals...)
	}
	return f
}

func TestCardFormChecks(t *testing.T) {
	for _, c := range []struct {
		name   string
		change map[string]string
		field  string // "" for a valid form
		msg    string
	}{
		{"valid", nil, "", ""},
		{"card number with spaces", map[string]string{fieldCardNo: " 4444 3333 2222 1111 "}, "", ""},
		{"card number with dashes", map[string]string{fieldCardNo: "4444-3333-2222-1111"}, fieldCardNo, "Enter a valid card number"},
		{"card number too short", map[string]string{fieldCardNo: "4242 4242 42"}, fieldCardNo, "Card number must be between 12 and 19 digits"},
		{"card number too long", map[string]string{fieldCardNo: "42424242424242424242"}, fieldCardNo, "Card number must be between 12 and 19 digits"},
		{"card number fails Luhn", map[string]string{fieldCardNo: "4444333322221112"}, fieldCardNo, "Enter a valid card number"},
		{"card brand unknown", map[string]string{fieldCardNo: "1234567812345670"}, fieldCardNo, "This type of card is not accepted. Use another card"},
		{"19-digit card", map[string]string{fieldCardNo: "4917610000000000003"}, "", ""},
		{"expiry month 13", map[string]string{fieldMonth: "13"}, fieldMonth, "Enter a valid expiry date"},
		{"expiry month 0", map[string]string{fieldMonth: "0"}, fieldMonth, "Enter a valid expiry date"},
		{"expiry month missing", map[string]string{fieldMonth: ""}, fieldMonth, "Enter a valid expiry date"},
		{"expiry year 3 digits", map[string]string{fieldYear: "203"}, fieldYear, "Enter a valid expiry date"},
		{"expiry year 4 digits", map[string]string{fieldYear: "2030"}, "", ""},
		{"expiry after 2099", map[string]string{fieldYear: "2100"}, fieldYear, "Enter a valid expiry date"},
		{"expiry this month", map[string]string{fieldMonth: "5", fieldYear: "26"}, "", ""},
		{"expiry last month", map[string]string{fieldMonth: "04", fieldYear: "2026"}, fieldMonth, "The expiry date must be in the future"},
		{"expiry last year", map[string]string{fieldMonth: "12", fieldYear: "25"}, fieldMonth, "The expiry date must be in the future"},
		{"expiry missing", map[string]string{fieldMonth: "", fieldYear: ""}, fieldMonth, "Enter the expiry date"},
		{"name missing", map[string]string{fieldName: "  "}, fieldName, "Enter the name as it appears on the card"},
		{"name with a card number", map[string]string{fieldName: "4444333322221111"}, fieldName, "The name on the card must not include a card number"},
		{"name with 11 digits", map[string]string{fieldName: "Ada 12345678901"}, "", ""},
		{"name like a CVC", map[string]string{fieldName: "123"}, fieldName, "Enter the name on the card, not the card security code"},
		{"name like an Amex CVC", map[string]string{fieldName: "1234"}, fieldName, "Enter the name on the card, not the card security code"},
		{"name too long", map[string]string{fieldName: strings.Repeat("a", 256)}, fieldName, "Name on card must be 255 characters or fewer"},
		{"cvc missing", map[string]string{fieldCVC: ""}, fieldCVC, "Enter the card security code"},
		{"cvc 2 digits", map[string]string{fieldCVC: "12"}, fieldCVC, "Card security code must be 3 or 4 digits"},
		{"cvc letters", map[string]string{fieldCVC: "12a"}, fieldCVC, "Card security code must be 3 or 4 digits"},
		{"cvc 4 digits", map[string]string{fieldCVC: "1234"}, "", ""},
		{"line 1 missing", map[string]string{fieldLine1: ""}, fieldLine1, "Enter the first line of your billing address"},
		{"line 1 with a card number", map[string]string{fieldLine1: "4444 3333 2222 1111"}, fieldLine1, "Your address must not include a card number"},
		{"line 2 with a card number", map[string]string{fieldLine2: "444433332222"}, fieldLine2, "Your address must not include a card number"},
		{"city missing", map[string]string{fieldCity: ""}, fieldCity, "Enter your town or city"},
		{"postcode missing", map[string]string{fieldPostcode: ""}, fieldPostcode, "Enter your postcode"},
		{"UK postcode wrong", map[string]string{fieldPostcode: "12345"}, fieldPostcode, "Enter a real postcode, like SW1A 1AA"},
		{"French postcode", map[string]string{fieldPostcode: "75001", fieldCountry: "FR"}, "", ""},
		{"country missing", map[string]string{fieldCountry: ""}, fieldCountry, "Select your country or territory"},
		{"email missing", map[string]string{fieldEmail: ""}, fieldEmail, "Enter your email address"},
		{"email without a domain dot", map[string]string{fieldEmail: "ada@example"}, fieldEmail, "Enter an email address in the correct format, like name@example.com"},
		{"email with a name", map[string]string{fieldEmail: "Ada <ada@example.com>"}, fieldEmail, "Enter an email address in the correct format, like name@example.com"},
		{"email too long", map[string]string{fieldEmail: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com"}, fieldEmail, "Email address must be 254 characters or fewer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, errs := checkForm(t, langEnglish, c.change)
			if c.field == "" {
				if len(errs) > 0 {
					t.Fatalf("errors %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[c.field] != c.msg {
				t.Fatalf("errors %v, want %s: %q", errs, c.field, c.msg)
			}
		})
	}
}

func TestCardFormEntry(t *testing.T) {
	e, errs := checkForm(t, langEnglish, map[string]string{fieldCardNo: "4444 3333 2222 1111", fieldMonth: "3", fieldYear: "2031",
		fieldPostcode: " sw1a  2hq ", fieldCountry: "gb"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	c := e.Card
	if c.Number != "4444333322221111" || c.CVC != "123" || c.ExpiryDate != "03/31" || c.CardholderName != "Ada Lovelace" {
		t.Fatalf("card %#v", c.BillingAddress)
	}
	if a := *c.BillingAddress; a != (Address{Line1: "1 Horse Guards Road", City: "London", Postcode: "SW1A 2HQ", Country: "GB"}) {
		t.Fatalf("address %+v", a)
	}
	if e.Email != "ada@example.com" {
		t.Fatalf("email %q", e.Email)
	}
	_, errs = checkForm(t, langWelsh, map[string]string{fieldCardNo: ""})
	if errs[fieldCardNo] != "Rhowch rif eich cerdyn" {
		t.Fatalf("Welsh error %v", errs)
	}
}

func TestUKPostcodes(t *testing.T) {
	for in, want := range map[string]string{"SW1A 1AA": "SW1A 1AA", "sw1a1aa": "SW1A 1AA", "M1 1AE": "M1 1AE",
		"b33 8th": "B33 8TH", "CR2 6XH": "CR2 6XH", "DN55 1PT": "DN55 1PT", "W1A 0AX": "W1A 0AX", "gir 0aa": "GIR 0AA",
		"EC1A 1BB": "EC1A 1BB", "12345": "", "SW1A": "", "SW1A 1A": "", "": ""} {
		got, ok := ukPostcode(in)
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestPayerEmails(t *testing.T) {
	for addr, want := range map[string]bool{"ada@example.com": true, "a.b+c@sub.example.co.uk": true,
		"ada@example": false, "ada@@example.com": false, "ada example@x.com": false, "@example.com": false,
		"ada@-example.com": false, "ada@example.123": false, "a..b@example.com": false, `"a b"@example.com`: false} {
		if got := validPayerEmail(addr); got != want {
			t.Errorf("%q: %v, want %v", addr, got, want)
		}
	}
}

func TestFormatPounds(t *testing.T) {
	for pence, want := range map[int64]string{0: "£0.00", 5: "£0.05", 1234: "£12.34", 100000: "£1,000.00",
		123456789: "£1,234,567.89", 10000000: "£100,000.00"} {
		if got := formatPounds(pence); got != want {
			t.Errorf("%d: %q, want %q", pence, got, want)
		}
	}
}

// TestPageCatalogue checks every message has both languages, and that the templates and the
// Go code only use keys the catalogue has (a render with a missing key fails, which the page
// tests would catch; this names the key).
func TestPageCatalogue(t *testing.T) {
	for key, m := range messages {
		if strings.TrimSpace(m[0]) == "" || strings.TrimSpace(m[1]) == "" {
			t.Errorf("%s: %q / %q", key, m[0], m[1])
		}
	}
	for _, c := range countries {
		if c.Name == "" || c.Cymraeg == "" || !validCountryCode(c.Code) {
			t.Errorf("country %+v", c)
		}
	}
	for _, outcome := range []string{"complete", "declined", "error", "expired", "cancelled"} {
		for _, part := range []string{"_title", "_body"} {
			if _, err := message(langWelsh, outcome+part); err != nil {
				t.Error(err)
			}
		}
	}
	if opts := countryOptions(langWelsh, "br"); opts[0].Code != "GB" || opts[len(opts)-1] != (countryOption{"BR", "BR"}) {
		t.Fatalf("options %v", opts)
	}
}

func TestPagePaths(t *testing.T) {
	base := "/pay/card_details/x"
	for st, want := range map[Status]string{
		StatusCreated: base, StatusEnteringCardDetails: base, StatusAuthorisationReady: base + "/auth_waiting",
		StatusAuthorisation3DSRequired: base + "/3ds_required", StatusAuthorisation3DSReady: base + "/auth_waiting",
		StatusAuthorisationSuccess: base + "/confirm", StatusCaptureApproved: base + "/outcome",
		StatusAwaitingCaptureRequest: base + "/outcome", StatusExpired: base + "/outcome",
	} {
		if got := pageFor(&Payment{ID: "x", Status: st}); got != want {
			t.Errorf("%s: %s, want %s", st, got, want)
		}
	}
	for st, want := range map[Status]string{
		StatusCaptured: "complete", StatusAwaitingCaptureRequest: "complete", StatusAuthorisationRejected: "declined",
		StatusExpired: "expired", StatusUserCancelled: "cancelled", StatusSystemCancelled: "cancelled",
		StatusAuthorisationError: "error", StatusAuthorisationTimeout: "error", StatusCaptureError: "error",
	} {
		if got := outcomeOf(&Payment{Status: st}); got != want {
			t.Errorf("%s: %s, want %s", st, got, want)
		}
	}
	if got := originOf("https://service.example.gov.uk:8443/return?x=1"); got != "https://service.example.gov.uk:8443" {
		t.Errorf("origin %q", got)
	}
	if got := originOf("javascript:alert(1)"); got != "" {
		t.Errorf("origin %q", got)
	}
}

func TestSessionMigrationPairs(t *testing.T) {
	if err := Migrations.CheckPairs(); err != nil {
		t.Fatal(err)
	}
}
