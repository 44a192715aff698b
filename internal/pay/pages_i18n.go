package pay

import (
	"fmt"
	"slices"
	"strings"
)

// The hosted pages speak the payment's language (pay.md §7.2: "en" or "cy"). Every word they
// show is in this catalogue, English and Welsh side by side, so that a string cannot be added
// in one language and forgotten in the other (a test checks that neither is ever empty).

// Page languages.
const (
	langEnglish = "en"
	langWelsh   = "cy"
)

// pageLang is the language a payment's pages are shown in.
func pageLang(p *Payment) string {
	if p != nil && p.Language == langWelsh {
		return langWelsh
	}
	return langEnglish
}

// messages maps each key to its English and Welsh text.
var messages = map[string][2]string{
	// Layout.
	"skip_link":           {"Skip to main content", "Neidio i’r prif gynnwys"},
	"service_information": {"Service information", "Gwybodaeth am y gwasanaeth"},
	"phase":               {"Beta", "Beta"},
	"phase_text":          {"This is a new service.", "Mae hwn yn wasanaeth newydd."},
	"support_links":       {"Support links", "Dolenni cymorth"},
	"footer_text": {"Commons takes this payment on behalf of the service.",
		"Mae Commons yn cymryd y taliad hwn ar ran y gwasanaeth."},
	"pay_title":     {"Pay", "Talu"},
	"error_prefix":  {"Error:", "Gwall:"},
	"error_summary": {"There is a problem", "Mae problem wedi codi"},
	"continue":      {"Continue", "Parhau"},

	// The card details page.
	"card_title":        {"Enter card details", "Rhowch fanylion y cerdyn"},
	"payment_for":       {"Payment for", "Taliad am"},
	"total_amount":      {"Total amount", "Cyfanswm"},
	"card_number":       {"Card number", "Rhif y cerdyn"},
	"card_number_hint":  {"The long number on the front of your card", "Y rhif hir ar flaen eich cerdyn"},
	"expiry_date":       {"Expiry date", "Dyddiad dod i ben"},
	"expiry_hint":       {"For example, 10/28", "Er enghraifft, 10/28"},
	"expiry_month":      {"Month", "Mis"},
	"expiry_year":       {"Year", "Blwyddyn"},
	"cardholder_name":   {"Name on card", "Enw ar y cerdyn"},
	"cvc":               {"Card security code", "Cod diogelwch y cerdyn"},
	"cvc_hint":          {"The last 3 digits on the back of the card. American Express cards have 4 digits on the front.", "Y 3 digid olaf ar gefn y cerdyn. Mae gan gardiau American Express 4 digid ar y blaen."},
	"billing_address":   {"Billing address", "Cyfeiriad bilio"},
	"billing_hint":      {"The address your card is registered to", "Y cyfeiriad y mae eich cerdyn wedi’i gofrestru iddo"},
	"address_line1":     {"Address line 1", "Llinell gyntaf y cyfeiriad"},
	"address_line2":     {"Address line 2 (optional)", "Ail linell y cyfeiriad (dewisol)"},
	"address_city":      {"Town or city", "Tref neu ddinas"},
	"address_postcode":  {"Postcode", "Cod post"},
	"address_country":   {"Country or territory", "Gwlad neu diriogaeth"},
	"contact_details":   {"Contact details", "Manylion cyswllt"},
	"email":             {"Email address", "Cyfeiriad e-bost"},
	"email_hint":        {"The service may use this to contact you about your payment", "Efallai y bydd y gwasanaeth yn defnyddio hwn i gysylltu â chi am eich taliad"},
	"cancel_payment":    {"Cancel payment", "Canslo’r taliad"},
	"card_data_handled": {"Your card details are sent straight to the payment provider and are not kept.", "Mae manylion eich cerdyn yn cael eu hanfon yn syth at y darparwr taliadau ac nid ydynt yn cael eu cadw."},

	// Card form errors, in the order of the fields.
	"card_number_missing": {"Enter your card number", "Rhowch rif eich cerdyn"},
	"card_number_invalid": {"Enter a valid card number", "Rhowch rif cerdyn dilys"},
	"card_number_length":  {"Card number must be between 12 and 19 digits", "Rhaid i rif y cerdyn fod rhwng 12 a 19 digid"},
	"card_brand_unknown":  {"This type of card is not accepted. Use another card", "Nid yw’r math hwn o gerdyn yn cael ei dderbyn. Defnyddiwch gerdyn arall"},
	"expiry_missing":      {"Enter the expiry date", "Rhowch y dyddiad dod i ben"},
	"expiry_invalid":      {"Enter a valid expiry date", "Rhowch ddyddiad dod i ben dilys"},
	"expiry_past":         {"The expiry date must be in the future", "Rhaid i’r dyddiad dod i ben fod yn y dyfodol"},
	"name_missing":        {"Enter the name as it appears on the card", "Rhowch yr enw fel y mae’n ymddangos ar y cerdyn"},
	"name_card_number":    {"The name on the card must not include a card number", "Ni ddylai’r enw ar y cerdyn gynnwys rhif cerdyn"},
	"name_cvc":            {"Enter the name on the card, not the card security code", "Rhowch yr enw ar y cerdyn, nid cod diogelwch y cerdyn"},
	"name_too_long":       {"Name on card must be 255 characters or fewer", "Rhaid i’r enw ar y cerdyn fod yn 255 o nodau neu lai"},
	"cvc_missing":         {"Enter the card security code", "Rhowch god diogelwch y cerdyn"},
	"cvc_invalid":         {"Card security code must be 3 or 4 digits", "Rhaid i god diogelwch y cerdyn fod yn 3 neu 4 digid"},
	"line1_missing":       {"Enter the first line of your billing address", "Rhowch linell gyntaf eich cyfeiriad bilio"},
	"address_card_number": {"Your address must not include a card number", "Ni ddylai eich cyfeiriad gynnwys rhif cerdyn"},
	"address_too_long":    {"Each line of the address must be 255 characters or fewer", "Rhaid i bob llinell o’r cyfeiriad fod yn 255 o nodau neu lai"},
	"city_missing":        {"Enter your town or city", "Rhowch eich tref neu ddinas"},
	"postcode_missing":    {"Enter your postcode", "Rhowch eich cod post"},
	"postcode_invalid":    {"Enter a real postcode, like SW1A 1AA", "Rhowch god post go iawn, fel SW1A 1AA"},
	"country_missing":     {"Select your country or territory", "Dewiswch eich gwlad neu diriogaeth"},
	"email_missing":       {"Enter your email address", "Rhowch eich cyfeiriad e-bost"},
	"email_invalid":       {"Enter an email address in the correct format, like name@example.com", "Rhowch gyfeiriad e-bost yn y fformat cywir, fel enw@enghraifft.com"},
	"email_too_long":      {"Email address must be 254 characters or fewer", "Rhaid i’r cyfeiriad e-bost fod yn 254 o nodau neu lai"},

	// 3-D Secure.
	"3ds_title":        {"Your bank needs to check it is you", "Mae angen i’ch banc wirio mai chi sydd yno"},
	"3ds_sandbox":      {"This is a test payment, so there is no bank. Choose what the bank’s check does.", "Taliad prawf yw hwn, felly nid oes banc. Dewiswch beth mae gwiriad y banc yn ei wneud."},
	"3ds_pass":         {"Pass", "Pasio"},
	"3ds_fail":         {"Fail", "Methu"},
	"3ds_bank":         {"Your bank will show you how to confirm the payment, then send you back here.", "Bydd eich banc yn dangos i chi sut i gadarnhau’r taliad, ac yna’n eich anfon yn ôl yma."},
	"3ds_continue":     {"Continue to your bank", "Parhau i’ch banc"},
	"3ds_unavailable":  {"Your bank’s check cannot be shown here. Cancel the payment and try again from the service.", "Nid oes modd dangos gwiriad eich banc yma. Canslwch y taliad a rhowch gynnig arall arni o’r gwasanaeth."},
	"waiting_title":    {"We are processing your payment", "Rydym yn prosesu eich taliad"},
	"waiting_body":     {"This can take up to a minute. Do not pay again.", "Gall hyn gymryd hyd at funud. Peidiwch â thalu eto."},
	"waiting_continue": {"Check your payment", "Gwirio eich taliad"},

	// The confirm page.
	"confirm_title":   {"Confirm your payment", "Cadarnhewch eich taliad"},
	"card_details":    {"Card details", "Manylion y cerdyn"},
	"ending_in":       {"ending in", "yn gorffen gyda"},
	"confirm_payment": {"Confirm payment", "Cadarnhau’r taliad"},

	// Outcomes.
	"complete_title":   {"This payment is complete", "Mae’r taliad hwn wedi’i gwblhau"},
	"complete_body":    {"Continue to the service to see what happens next.", "Ewch ymlaen i’r gwasanaeth i weld beth sy’n digwydd nesaf."},
	"declined_title":   {"Your payment has been declined", "Mae eich taliad wedi cael ei wrthod"},
	"declined_body":    {"Go back to the service to try again, for example with another card.", "Ewch yn ôl i’r gwasanaeth i roi cynnig arall arni, er enghraifft gyda cherdyn arall."},
	"error_title":      {"Sorry, we could not take your payment", "Mae’n ddrwg gennym, ni allem gymryd eich taliad"},
	"error_body":       {"There was a problem with the payment provider. Go back to the service to try again.", "Roedd problem gyda’r darparwr taliadau. Ewch yn ôl i’r gwasanaeth i roi cynnig arall arni."},
	"expired_title":    {"The time to make this payment has run out", "Mae’r amser i wneud y taliad hwn wedi dod i ben"},
	"expired_body":     {"Payments must be finished within 90 minutes. Go back to the service to start again.", "Rhaid gorffen taliadau o fewn 90 munud. Ewch yn ôl i’r gwasanaeth i ddechrau eto."},
	"cancelled_title":  {"Your payment has been cancelled", "Mae eich taliad wedi cael ei ganslo"},
	"cancelled_body":   {"Go back to the service if you still want to pay.", "Ewch yn ôl i’r gwasanaeth os ydych chi dal eisiau talu."},
	"no_money_taken":   {"No money has been taken from your account.", "Nid oes unrhyw arian wedi cael ei gymryd o’ch cyfrif."},
	"session_title":    {"This payment link cannot be used again", "Nid oes modd defnyddio’r ddolen dalu hon eto"},
	"session_body":     {"A payment link works once, in the browser it was first opened in, and your session may have ended.", "Mae dolen dalu yn gweithio unwaith, yn y porwr y cafodd ei hagor ynddo gyntaf, ac efallai fod eich sesiwn wedi dod i ben."},
	"session_next":     {"Go back to the service to check whether your payment went through, or to start again.", "Ewch yn ôl i’r gwasanaeth i wirio a aeth eich taliad drwodd, neu i ddechrau eto."},
	"problem_title":    {"Sorry, there is a problem with the service", "Mae’n ddrwg gennym, mae problem gyda’r gwasanaeth"},
	"problem_body":     {"Try again in a few minutes.", "Rhowch gynnig arall arni mewn ychydig funudau."},
	"problem_ref":      {"If you contact the service, quote this reference:", "Os byddwch yn cysylltu â’r gwasanaeth, rhowch y cyfeirnod hwn:"},
	"bad_request":      {"The form could not be read. Go back and try again.", "Nid oedd modd darllen y ffurflen. Ewch yn ôl a rhowch gynnig arall arni."},
	"bad_request_head": {"There is a problem with your request", "Mae problem gyda’ch cais"},
}

// message returns a key's text in lang. An unknown key is an error, which fails the render, so
// that a typo in a template shows up in the page tests rather than as a blank on a page.
func message(lang, key string) (string, error) {
	m, ok := messages[key]
	if !ok {
		return "", fmt.Errorf("pay pages: no message %q", key)
	}
	if lang == langWelsh {
		return m[1], nil
	}
	return m[0], nil
}

// mustMessage is message for keys written in Go code, which the catalogue test covers.
func mustMessage(lang, key string) string {
	s, err := message(lang, key)
	if err != nil {
		panic(err)
	}
	return s
}

// country is one choice of the billing address's country.
type country struct {
	Code          string
	Name, Cymraeg string
}

// countries are the billing countries offered, by ISO 3166-1 alpha-2 code: the United Kingdom,
// its Crown Dependencies and Gibraltar, and the countries UK services' payers most often bank
// in. A prefilled country outside the list is offered too (see countryOptions).
var countries = []country{
	{"GB", "United Kingdom", "Y Deyrnas Unedig"},
	{"GG", "Guernsey", "Ynys y Garn"},
	{"IM", "Isle of Man", "Ynys Manaw"},
	{"JE", "Jersey", "Jersey"},
	{"GI", "Gibraltar", "Gibraltar"},
	{"IE", "Ireland", "Iwerddon"},
	{"FR", "France", "Ffrainc"},
	{"DE", "Germany", "Yr Almaen"},
	{"ES", "Spain", "Sbaen"},
	{"IT", "Italy", "Yr Eidal"},
	{"NL", "Netherlands", "Yr Iseldiroedd"},
	{"BE", "Belgium", "Gwlad Belg"},
	{"PT", "Portugal", "Portiwgal"},
	{"PL", "Poland", "Gwlad Pwyl"},
	{"RO", "Romania", "Rwmania"},
	{"SE", "Sweden", "Sweden"},
	{"NO", "Norway", "Norwy"},
	{"DK", "Denmark", "Denmarc"},
	{"CH", "Switzerland", "Y Swistir"},
	{"AT", "Austria", "Awstria"},
	{"GR", "Greece", "Gwlad Groeg"},
	{"US", "United States", "Yr Unol Daleithiau"},
	{"CA", "Canada", "Canada"},
	{"AU", "Australia", "Awstralia"},
	{"NZ", "New Zealand", "Seland Newydd"},
	{"IN", "India", "India"},
	{"PK", "Pakistan", "Pacistan"},
	{"CN", "China", "Tsieina"},
	{"JP", "Japan", "Japan"},
	{"ZA", "South Africa", "De Affrica"},
	{"NG", "Nigeria", "Nigeria"},
}

// countryName is a country's name in lang, or "" for a code not offered.
func countryName(lang, code string) string {
	for _, c := range countries {
		if c.Code == code {
			if lang == langWelsh {
				return c.Cymraeg
			}
			return c.Name
		}
	}
	return ""
}

// countryOption is one entry of the country list.
type countryOption struct {
	Code, Name string
}

// countryOptions lists the countries in lang: the United Kingdom first, as most payers are
// there, then the rest by their name in that language. A code the service prefilled
// that the list lacks is added under its code, so that it is not silently replaced.
func countryOptions(lang, extra string) []countryOption {
	out := make([]countryOption, 0, len(countries)+1)
	for _, c := range countries[1:] {
		out = append(out, countryOption{c.Code, countryName(lang, c.Code)})
	}
	slices.SortFunc(out, func(a, b countryOption) int { return strings.Compare(a.Name, b.Name) })
	out = append([]countryOption{{"GB", countryName(lang, "GB")}}, out...)
	if extra = strings.ToUpper(extra); extra != "" && countryName(lang, extra) == "" && validCountryCode(extra) {
		out = append(out, countryOption{extra, extra})
	}
	return out
}

// validCountryCode reports whether s has the shape of an ISO 3166-1 alpha-2 code.
func validCountryCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}
