package content

import (
	"regexp"
	"strings"

	"golang.org/x/net/idna"
)

// Email addresses are checked more strictly than RFC 5322 allows: quoted local parts,
// comments and IP-literal domains are refused because mail providers reject them at
// send time, when the API can no longer tell the caller.

// ErrInvalidEmail is the API's error for an address that fails validation.
var ErrInvalidEmail = &Error{Message: "Not a valid email address"}

const maxEmailLength = 320

var (
	reEmail        = regexp.MustCompile(`^[a-zA-Z0-9.!#$%&'*+/=?^_` + "`" + `{|}~\-]+@([^.@][^@` + pySpace + `]+)$`)
	reHostnamePart = regexp.MustCompile(`(?i)^(?:xn|[a-z0-9]+)(?:-?-[a-z0-9]+)*$`)
	reTLD          = regexp.MustCompile(`(?i)^(?:[a-z]{2,63}|xn--(?:[a-z0-9]+-)*[a-z0-9]+)$`)
)

// idnaProfile converts internationalised domain names to their ASCII form. Hyphen and
// label rules are left to the hostname checks below, which are stricter about letters
// and looser about double hyphens than IDNA's own.
var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(true), idna.CheckHyphens(false),
	idna.StrictDomainName(false), idna.ValidateLabels(false), idna.BidiRule())

// ValidateEmail checks an email address and returns it trimmed (including invisible
// and non-breaking spaces) and lower-cased, the form it is stored and compared in.
func ValidateEmail(raw string) (string, error) {
	if isASCII(raw) {
		// stripObscure removes only characters beyond ASCII, then trims.
		return validateASCIIEmail(strings.Trim(raw, asciiWhitespace))
	}
	addr := stripObscure(raw)
	if isASCII(addr) {
		return validateASCIIEmail(addr)
	}
	return validateEmailRegexp(addr)
}

// validateEmailRegexp is ValidateEmail's definition, for an address already stripped.
func validateEmailRegexp(addr string) (string, error) {
	m := reEmail.FindStringSubmatch(addr)
	if m == nil || len(addr) > maxEmailLength || strings.Contains(addr, "..") {
		return "", ErrInvalidEmail
	}
	host, err := domainToASCII(m[1])
	if err != nil {
		return "", ErrInvalidEmail
	}
	parts := strings.Split(host, ".")
	if len(host) > 253 || len(parts) < 2 {
		return "", ErrInvalidEmail
	}
	for _, part := range parts {
		if part == "" || len(part) > 63 || !reHostnamePart.MatchString(part) {
			return "", ErrInvalidEmail
		}
	}
	if !reTLD.MatchString(parts[len(parts)-1]) {
		return "", ErrInvalidEmail
	}
	return strings.ToLower(addr), nil
}

// validateASCIIEmail accepts exactly the ASCII addresses validateEmailRegexp accepts, without
// regular expressions, which cost a send several microseconds (TestValidateASCIIEmail and
// FuzzValidateEmail hold the two together). For ASCII, domainToASCII changes nothing, and
// the hostname rules already refuse what reEmail's domain part refuses (an @, whitespace, a
// leading dot, fewer than two characters).
func validateASCIIEmail(addr string) (string, error) {
	at := strings.IndexByte(addr, '@')
	if at <= 0 || len(addr) > maxEmailLength || strings.Contains(addr, "..") {
		return "", ErrInvalidEmail
	}
	for i := range at {
		if !isEmailLocalByte(addr[i]) {
			return "", ErrInvalidEmail
		}
	}
	host := addr[at+1:]
	if len(host) > 253 {
		return "", ErrInvalidEmail
	}
	labels := 0
	for rest := host; ; labels++ {
		label, after, more := strings.Cut(rest, ".")
		if len(label) > 63 || !isHostnameLabel(label) {
			return "", ErrInvalidEmail
		}
		if !more {
			if labels == 0 || !isTLD(label) {
				return "", ErrInvalidEmail
			}
			break
		}
		rest = after
	}
	return strings.ToLower(addr), nil
}

// isEmailLocalByte is reEmail's class of local-part characters.
func isEmailLocalByte(c byte) bool {
	return isASCIIAlnum(c) || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isHostnameLabel is reHostnamePart for ASCII: letters and digits, in runs joined by one or
// two hyphens.
func isHostnameLabel(s string) bool {
	if s == "" || !isASCIIAlnum(s[0]) || !isASCIIAlnum(s[len(s)-1]) {
		return false
	}
	hyphens := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '-':
			if hyphens++; hyphens > 2 {
				return false
			}
		case isASCIIAlnum(c):
			hyphens = 0
		default:
			return false
		}
	}
	return true
}

// isTLD is reTLD for ASCII: 2 to 63 letters, or xn-- and letters and digits in runs joined by
// single hyphens.
func isTLD(s string) bool {
	if len(s) > 4 && strings.EqualFold(s[:4], "xn--") {
		punycode := s[4:]
		if !isASCIIAlnum(punycode[0]) || !isASCIIAlnum(punycode[len(punycode)-1]) || strings.Contains(punycode, "--") {
			return false
		}
		for i := 0; i < len(punycode); i++ {
			if c := punycode[i]; c != '-' && !isASCIIAlnum(c) {
				return false
			}
		}
		return true
	}
	if len(s) < 2 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// ideographicDots are the full stops IDNA treats as label separators. Every send validates
// its address, so the replacer is built once rather than on each call.
var ideographicDots = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".")

// domainToASCII converts label by label: ASCII labels pass through unchanged (as in the
// reference, which only checks their length), others are mapped and Punycode-encoded.
func domainToASCII(host string) (string, error) {
	if !isASCII(host) {
		host = ideographicDots.Replace(host)
	}
	labels := strings.Split(host, ".")
	for i, label := range labels {
		if isASCII(label) {
			if len(label) > 63 || (label == "" && i != len(labels)-1) {
				return "", ErrInvalidEmail
			}
			continue
		}
		ascii, err := idnaProfile.ToASCII(label)
		if err != nil || ascii == "" || len(ascii) > 63 {
			return "", ErrInvalidEmail
		}
		labels[i] = ascii
	}
	return strings.Join(labels, "."), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Smoke-test recipients. Sends to them are validated like any other and answered with
// 201, but nothing is stored or sent, so services can check their integration in
// production without messaging anyone.
var (
	simulatedEmails = map[string]bool{
		"simulate-delivered@notifications.service.gov.uk":   true,
		"simulate-delivered-2@notifications.service.gov.uk": true,
		"simulate-delivered-3@notifications.service.gov.uk": true,
	}
	simulatedPhones = map[string]bool{
		"447700900000": true,
		"447700900111": true,
		"447700900222": true,
	}
)

// IsSimulatedEmail reports whether addr is one of the smoke-test email addresses.
func IsSimulatedEmail(addr string) bool {
	return simulatedEmails[strings.ToLower(stripObscure(addr))]
}

// IsSimulatedPhone reports whether number, however it is formatted ("07700 900000",
// "+447700900000"), is one of the smoke-test phone numbers.
func IsSimulatedPhone(number string) bool {
	p, err := ParsePhone(number)
	return err == nil && simulatedPhones[p.Normalised]
}

// Delivery outcomes a test key can produce.
const (
	StatusDelivered        = "delivered"
	StatusTemporaryFailure = "temporary-failure"
	StatusPermanentFailure = "permanent-failure"
)

// Test-key recipients that simulate failures.
const (
	testTempFailEmail = "temp-fail@simulator.notify"
	testPermFailEmail = "perm-fail@simulator.notify"
	testTempFailPhone = "7700900003"
	testPermFailPhone = "7700900002"
)

// TestKeyOutcome is the final status a notification sent with a test key reaches. Texts
// to numbers ending 7700900003 fail temporarily and 7700900002 permanently; emails to
// temp-fail@simulator.notify and perm-fail@simulator.notify likewise; everything else,
// letters included, is delivered. recipient is the address or number as the request gave
// it: like the reference, numbers are matched on their last digits as written.
func TestKeyOutcome(channel Channel, recipient string) string {
	switch channel {
	case SMS:
		to := strings.TrimSpace(recipient)
		switch {
		case strings.HasSuffix(to, testTempFailPhone):
			return StatusTemporaryFailure
		case strings.HasSuffix(to, testPermFailPhone):
			return StatusPermanentFailure
		}
	case Email:
		switch strings.ToLower(stripObscure(recipient)) {
		case testTempFailEmail:
			return StatusTemporaryFailure
		case testPermFailEmail:
			return StatusPermanentFailure
		}
	}
	return StatusDelivered
}
