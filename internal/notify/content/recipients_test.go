package content

import (
	"strings"
	"testing"
)

func TestValidateEmail(t *testing.T) {
	valid := []string{
		"email@domain.com", "email@domain.COM", "firstname.lastname@domain.com", "firstname.o'lastname@domain.com",
		"email@subdomain.domain.com", "firstname+lastname@domain.com", "1234567890@domain.com", "email@domain-one.com",
		"_______@domain.com", "email@domain.name", "email@domain.superlongtld", "email@domain.co.jp",
		"firstname-lastname@domain.com", "info@german-financial-services.vermögensberatung",
		"info@german-financial-services.reallylongarbitrarytldthatiswaytoohugejustincase",
		"japanese-info@例え.テスト", "email@double--hyphen.com",
	}
	for _, addr := range valid {
		got, err := ValidateEmail(addr)
		if err != nil || got != strings.ToLower(addr) {
			t.Errorf("ValidateEmail(%q) = %q, %v", addr, got, err)
		}
	}
	invalid := []string{
		"email@123.123.123.123", "email@[123.123.123.123]", "plainaddress", "@no-local-part.com",
		"Outlook Contact <outlook-contact@domain.com>", "no-at.domain.com", "no-tld@domain",
		";beginning-semicolon@domain.co.uk", "middle-semicolon@domain.co;uk", "trailing-semicolon@domain.com;",
		`"email+leading-quotes@domain.com`, `email+middle"-quotes@domain.com`, `"quoted-local-part"@domain.com`,
		`"quoted@domain.com"`, "lots-of-dots@domain..gov..uk", "two-dots..in-local@domain.com",
		"multiple@domains@domain.com", "spaces in local@domain.com", "spaces-in-domain@dom ain.com",
		"underscores-in-domain@dom_ain.com", "pipe-in-domain@example.com|gov.uk", "comma,in-local@gov.uk",
		"comma-in-domain@domain,gov.uk", "pound-sign-in-local£@domain.com", "local-with-’-apostrophe@domain.com",
		"local-with-”-quotes@domain.com", "domain-starts-with-a-dot@.domain.com", "brackets(in)local@domain.com",
		"email-too-long-" + strings.Repeat("a", 320) + "@example.com", "incorrect-punycode@xn---something.com",
		"label-too-long@" + strings.Repeat("a", 64) + ".com", "",
	}
	for _, addr := range invalid {
		if got, err := ValidateEmail(addr); err != ErrInvalidEmail || err.Error() != "Not a valid email address" {
			t.Errorf("ValidateEmail(%q) = %q, %v; want invalid", addr, got, err)
		}
	}
	for _, addr := range []string{" email@domain.com ", "\temail@domain.com\n", "\u200bEmail@Domain.com\u200b"} {
		if got, err := ValidateEmail(addr); err != nil || got != "email@domain.com" {
			t.Errorf("ValidateEmail(%q) = %q, %v", addr, got, err)
		}
	}
}

func TestSanitise(t *testing.T) {
	tests := []struct{ in, want, text string }{
		{`Amala, please [click this (evil link](https://evil.link)`, `Amala, please \[click this \(evil link\]\(\)`, `Amala, please [click this (evil link]()`},
		{"Marie.Curie-Sklodowska is rad", `Marie\. Curie\-Sklodowska is rad`, "Marie. Curie-Sklodowska is rad"},
		{"https://evil.link and www.evil.link?arg=nam", " and ", "and"},
		{"evil. link and other-evil. lnk", `evil\. link and other\-evil\. lnk`, "evil. link and other-evil. lnk"},
		{"https://evil.link and www.evil.link", ` and www\. evil\. link`, "and www. evil. link"},
		{"www.evil.link and https://evil.link", `www\. evil\. link and `, "www. evil. link and"},
		{"foo.bar/baz and https://evil.link/foo.bar/bazpwnme", " and ", "and"},
		{"foo.bar/baz and https://localhost/foo.bar/bazsomething/weird", " and https://localhost/", "and https://localhost/"},
		{`\# Rogue Header`, `\\\# Rogue Header`, `\# Rogue Header`},
		{"## Rogue Header", `\#\# Rogue Header`, "## Rogue Header"},
		{`Ulica Ceynowy 5\44`, `Ulica Ceynowy 5\\44`, `Ulica Ceynowy 5\44`},
		{"[żądło rządzi tą pszczołą](to-jest-atak.com)", `\[żądło rządzi tą pszczołą\]\(to\-jest\-atak\. com\)`, "[żądło rządzi tą pszczołą](to-jest-atak. com)"},
		{"`*_(){}[]<>#+-.!|", "\\`\\*\\_\\(\\)\\{\\}\\[\\]\\<\\>\\#\\+\\-\\.\\!\\|", "`*_(){}[]\\<>#+-.!|"},
		{"name@example.com", `name@example\.com`, "name@example.com"},
		{"plain words", "plain words", "plain words"},
	}
	for _, tt := range tests {
		got := Sanitise(tt.in)
		if got != tt.want {
			t.Errorf("Sanitise(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if text := strings.TrimSpace(EmailText(got)); text != tt.text {
			t.Errorf("EmailText(Sanitise(%q)) = %q, want %q", tt.in, text, tt.text)
		}
	}
}

func TestSimulatedRecipients(t *testing.T) {
	for _, addr := range []string{"simulate-delivered@notifications.service.gov.uk", " Simulate-Delivered-2@notifications.service.gov.uk ",
		"simulate-delivered-3@notifications.service.gov.uk"} {
		if !IsSimulatedEmail(addr) {
			t.Errorf("%q should be simulated", addr)
		}
	}
	if IsSimulatedEmail("simulate-delivered-4@notifications.service.gov.uk") {
		t.Error("unexpected simulated email")
	}
	for _, n := range []string{"+447700900000", "07700 900111", "0044 7700 900 222", "447700900000"} {
		if !IsSimulatedPhone(n) {
			t.Errorf("%q should be simulated", n)
		}
	}
	for _, n := range []string{"07700900001", "not a number", ""} {
		if IsSimulatedPhone(n) {
			t.Errorf("%q should not be simulated", n)
		}
	}
}

func TestTestKeyOutcome(t *testing.T) {
	tests := []struct {
		ch        Channel
		recipient string
		want      string
	}{
		{SMS, "07700900003", "temporary-failure"},
		{SMS, "+447700900003 ", "temporary-failure"},
		{SMS, "07700900002", "permanent-failure"},
		{SMS, "07700900001", "delivered"},
		{SMS, "07723456789", "delivered"},
		{Email, "temp-fail@simulator.notify", "temporary-failure"},
		{Email, "Perm-Fail@simulator.notify", "permanent-failure"},
		{Email, "someone@example.com", "delivered"},
		{Letter, "anything", "delivered"},
	}
	for _, tt := range tests {
		if got := TestKeyOutcome(tt.ch, tt.recipient); got != tt.want {
			t.Errorf("TestKeyOutcome(%s, %q) = %q, want %q", tt.ch, tt.recipient, got, tt.want)
		}
	}
}
