package pay

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// The payment link pages speak the link's language, English or Welsh, as the card pages that
// follow them do. Every word they show is here, the two languages side by side, so that one
// cannot be added without the other (a test checks neither is empty).

var linkMessages = map[string][2]string{
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

	// The first page and its questions.
	"amount_to_pay":       {"Amount to pay", "Swm i’w dalu"},
	"amount_hint":         {"In pounds and pence, for example 25.00", "Mewn punnoedd a cheiniogau, er enghraifft 25.00"},
	"continue":            {"Continue", "Parhau"},
	"continue_to_payment": {"Continue to payment", "Parhau i dalu"},

	// The check page.
	"check_title":    {"Check your payment details", "Gwiriwch fanylion eich taliad"},
	"payment_for":    {"Payment for", "Taliad am"},
	"total_to_pay":   {"Total to pay", "Cyfanswm i’w dalu"},
	"change_details": {"Change your details", "Newid eich manylion"},

	// Refusals, in the order of the fields.
	linkReferenceMissing:    {"Enter your %s", "Rhowch eich %s"},
	linkReferenceTooLong:    {"The reference must be 255 characters or fewer", "Rhaid i’r cyfeirnod fod yn 255 o nodau neu lai"},
	linkReferenceCharacters: {"The reference must not include < > or |", "Ni ddylai’r cyfeirnod gynnwys < > neu |"},
	linkReferenceCardNumber: {"Do not enter a card number here. Enter your %s", "Peidiwch â rhoi rhif cerdyn yma. Rhowch eich %s"},
	linkAmountMissing:       {"Enter the amount to pay", "Rhowch y swm i’w dalu"},
	linkAmountInvalid:       {"Enter the amount in pounds and pence, for example 25.00", "Rhowch y swm mewn punnoedd a cheiniogau, er enghraifft 25.00"},
	linkAmountTooSmall:      {"The amount must be at least £0.01", "Rhaid i’r swm fod o leiaf £0.01"},
	linkAmountTooLarge:      {"The amount must be £100,000.00 or less", "Rhaid i’r swm fod yn £100,000.00 neu lai"},

	// Pages about the link or the payment as a whole.
	"unavailable_title": {"This payment link is no longer available", "Nid yw’r ddolen dalu hon ar gael mwyach"},
	"unavailable_body":  {"Contact the service to find another way to pay.", "Cysylltwch â’r gwasanaeth i ddod o hyd i ffordd arall o dalu."},
	"success_title":     {"Your payment was successful", "Mae eich taliad wedi bod yn llwyddiannus"},
	"success_reference": {"Your payment reference is", "Cyfeirnod eich taliad yw"},
	"success_body":      {"Keep a note of your reference in case you need to contact the service about this payment.", "Cadwch nodyn o’ch cyfeirnod rhag ofn y bydd angen i chi gysylltu â’r gwasanaeth am y taliad hwn."},
	"total_paid":        {"Total paid", "Cyfanswm a dalwyd"},
	"reference":         {"Reference", "Cyfeirnod"},
	"failed_title":      {"Your payment was not completed", "Ni chafodd eich taliad ei gwblhau"},
	"failed_body":       {"No money has been taken from your account.", "Nid oes arian wedi’i gymryd o’ch cyfrif."},
	"try_again":         {"Try paying again", "Ceisio talu eto"},
	"pending_title":     {"Your payment has not finished", "Nid yw eich taliad wedi gorffen"},
	"pending_body":      {"If you left the payment pages before paying, no money has been taken and you can start again.", "Os gwnaethoch adael y tudalennau talu cyn talu, nid oes arian wedi’i gymryd a gallwch ddechrau eto."},
	"start_again":       {"Start again", "Dechrau eto"},
	"problem_title":     {"Sorry, there is a problem with the service", "Mae’n ddrwg gennym, mae problem gyda’r gwasanaeth"},
	"problem_body":      {"Try again later. No money has been taken.", "Rhowch gynnig arall arni yn nes ymlaen. Nid oes arian wedi’i gymryd."},
	"problem_reference": {"If you contact the service, quote this reference:", "Os byddwch yn cysylltu â’r gwasanaeth, nodwch y cyfeirnod hwn:"},
}

// linkText returns a message in a language, filled in with args where it has a %s.
func linkText(lang, key string, args ...any) (string, error) {
	m, ok := linkMessages[key]
	if !ok {
		return "", fmt.Errorf("pay: no link page message %q", key)
	}
	i := 0
	if lang == langWelsh {
		i = 1
	}
	if len(args) > 0 {
		return fmt.Sprintf(m[i], args...), nil
	}
	return m[i], nil
}

// inSentence writes a reference's label ("Invoice number") as it reads inside a sentence
// ("invoice number"), leaving labels that start with an abbreviation ("URN") alone.
func inSentence(label string) string {
	first, size := utf8.DecodeRuneInString(label)
	if size == 0 {
		return label
	}
	second, _ := utf8.DecodeRuneInString(label[size:])
	if unicode.IsUpper(second) {
		return label
	}
	return string(unicode.ToLower(first)) + label[size:]
}
