package recipients

import (
	"errors"
	"regexp"
	"strings"

	"github.com/commons-gov/commons/internal/notify/content"
)

// checker checks rows against one file's layout and rules. What does not change from row to
// row (the template's placeholders and fixed text) is worked out once.
type checker struct {
	rules Rules
	l     layout
	// occurrences counts the ((…)) in the message body, for the length bounds below.
	occurrences int
	// mayBeEmpty is false when the body has fixed text, so no row can make it empty.
	mayBeEmpty bool
	// exact turns off the length bounds, so tests can compare them with the full checks.
	exact bool
}

func newChecker(rules Rules, l layout) *checker {
	c := &checker{rules: rules, l: l, occurrences: strings.Count(rules.Body, "((")}
	fixed := placeholderText.ReplaceAllString(rules.Body, "")
	c.mayBeEmpty = !strings.ContainsFunc(fixed, isAlphanumeric)
	return c
}

// placeholderText matches a ((placeholder)), as package content finds them.
var placeholderText = regexp.MustCompile(`\(\([^()]+\)\)`)

func isAlphanumeric(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// check reads one row and lists its problems.
func (c *checker) check(index, number int, fields []string) *Row {
	row := &Row{Index: index, Number: number, Personalisation: make(map[string]any, len(c.l.placeholders)+len(c.l.address)+1)}
	cell := func(col column) string {
		if col.index < len(fields) {
			return clean(fields[col.index])
		}
		return ""
	}
	switch c.rules.Type {
	case content.Letter:
		c.checkAddress(row, cell)
	default:
		c.checkRecipient(row, cell(*c.l.recipient))
	}
	var missing []string
	valuesLen := 0
	for _, col := range c.l.placeholders {
		v := cell(col)
		if v == "" {
			missing = append(missing, col.name)
			continue
		}
		row.Personalisation[col.key] = v
		valuesLen += len(v)
	}
	if len(missing) > 0 {
		problem := "No data in the " + quotedList(missing) + " column"
		if len(missing) > 1 {
			problem += "s"
		}
		row.Problems = append(row.Problems, problem)
		return row
	}
	if p := c.checkMessage(row.Personalisation, valuesLen); p != "" {
		row.Problems = append(row.Problems, p)
	}
	return row
}

// checkRecipient checks an email address or phone number, then trial mode.
func (c *checker) checkRecipient(row *Row, v string) {
	row.Recipient = v
	if v == "" {
		if c.rules.Type == content.SMS {
			row.Problems = append(row.Problems, "No phone number")
		} else {
			row.Problems = append(row.Problems, "No email address")
		}
		return
	}
	row.Personalisation[c.l.recipient.key] = v
	var allowed map[string]bool
	if c.rules.Type == content.SMS {
		p, err := content.ParsePhone(v)
		if err == nil {
			err = p.Permit(c.rules.AllowInternationalSMS, c.rules.AllowUKLandlines)
		}
		if err != nil {
			row.Problems = append(row.Problems, phoneProblem(err))
			return
		}
		row.Phone, row.To = p, p.Normalised
		if c.rules.OnlyTo != nil {
			allowed = c.rules.OnlyTo.Phones
		}
	} else {
		addr, err := content.ValidateEmail(v)
		if err != nil {
			row.Problems = append(row.Problems, "Not a valid email address")
			return
		}
		row.To = addr
		if c.rules.OnlyTo != nil {
			allowed = c.rules.OnlyTo.Emails
		}
	}
	if c.rules.OnlyTo != nil && !allowed[row.To] {
		row.Problems = append(row.Problems, "Not in your team or on your guest list. While your service is in trial mode "+
			"you can only send to them.")
	}
}

// phoneProblem says why a phone number cannot be sent to.
func phoneProblem(err error) string {
	var pe *content.PhoneError
	if errors.As(err, &pe) {
		switch pe.Code {
		case content.PhoneTooShort:
			return "Not a valid phone number: it does not have enough digits"
		case content.PhoneTooLong:
			return "Not a valid phone number: it has too many digits"
		case content.PhoneUnknownCharacter:
			return "Not a valid phone number: it must not contain letters or symbols"
		case content.PhoneUnsupportedCountry:
			return "Not a valid phone number: its country code is not one we can send to"
		case content.PhoneNotUKMobile:
			return "Not a UK mobile number. Your service cannot send text messages to landlines"
		}
		return "Not a valid phone number"
	}
	if errors.Is(err, content.ErrInternationalNotAllowed) {
		return "Your service cannot send text messages to phone numbers outside the UK"
	}
	return "Not a valid phone number"
}

// checkAddress reads a letter's address columns and checks the address as the API does.
func (c *checker) checkAddress(row *Row, cell func(column) string) {
	var lines []string
	for _, col := range c.l.address {
		if v := cell(col); v != "" {
			row.Personalisation[col.key] = v
			lines = append(lines, v)
		}
	}
	row.Recipient = strings.Join(lines, ", ")
	addr, err := content.ValidateAddress(row.Personalisation, c.rules.AllowInternationalLetters)
	var ce *content.Error
	switch {
	case errors.As(err, &ce):
		row.Problems = append(row.Problems, addressProblem(ce.Message))
	case err != nil:
		row.Problems = append(row.Problems, "Not a valid address")
	default:
		row.Address = addr
	}
}

// addressProblem puts the address rules' messages in words that make sense in a list of a
// file's rows.
func addressProblem(msg string) string {
	switch msg {
	case "Must be a real UK postcode":
		return "The last line of the address must be a real UK postcode"
	case "Must be a real address":
		return "The address must be a real address (not ‘NFA’ or ‘no fixed abode’)"
	}
	return msg
}

// checkMessage checks the filled-in message of a row whose placeholders all have values: not
// empty, and not longer than its channel allows. Filling in a long template 100,000 times is
// most of the cost of checking a file, so each check is first bounded: the filled message is at
// most the template plus every value once per placeholder, and when that is within the limit
// (and the template has fixed text, so nothing can empty it) there is nothing to check.
func (c *checker) checkMessage(personalisation map[string]any, valuesLen int) string {
	bound := len(c.rules.Body) + c.occurrences*valuesLen
	switch c.rules.Type {
	case content.SMS:
		// A UTF-16 unit takes at least one byte, and the clean-up never lengthens the text.
		if !c.exact && !c.mayBeEmpty && bound+len(c.rules.SMSPrefix)+2 <= content.SMSMaxCharacters {
			return ""
		}
		msg := content.RenderSMS(c.rules.Body, personalisation, c.rules.SMSPrefix)
		if err := msg.Check(); err != nil {
			if msg.CharactersWithoutPrefix == 0 {
				return "The text message would be empty"
			}
			return "The text message would be " + withThousands(msg.CharactersWithoutPrefix) + " characters long. " +
				"Text messages cannot be longer than " + withThousands(content.SMSMaxCharacters) + " characters."
		}
	case content.Email:
		if !c.exact && !c.mayBeEmpty && bound <= content.EmailMaxBytes {
			return ""
		}
		if err := content.CheckEmailBody(c.rules.Body, personalisation); err != nil {
			n := len(content.EmailBody(c.rules.Body, personalisation))
			if n <= content.EmailMaxBytes {
				return "The email would be empty"
			}
			return "The email would be " + withThousands(n) + " bytes long. Emails cannot be longer than " +
				withThousands(content.EmailMaxBytes) + " bytes."
		}
	case content.Letter:
		if !c.exact && !c.mayBeEmpty {
			return ""
		}
		if strings.TrimSpace(content.Fill(c.rules.Body, personalisation, content.Letter)) == "" {
			return "The letter would be empty"
		}
	}
	return ""
}
