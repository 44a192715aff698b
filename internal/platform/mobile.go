package platform

import (
	"context"
	"regexp"
	"strings"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// A team member's mobile number lets a service in trial mode, or a team key, text them as it
// can already email them. The platform keeps numbers in E.164 form and checks only that shape:
// the numbering rules (which numbers are mobiles, which countries can be texted) belong to
// Notify, which the console asks before saving, and which normalises numbers again when it
// compares them with a recipient.

// e164 is "+", a country code that does not start with 0, and up to 15 digits in all.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// errMobileFormat is the message for a number that is not a phone number at all.
var errMobileFormat = failure.Field("mobile_number", "Enter a mobile number in the correct format, like 07700 900 982 or +61 412 345 678")

// CheckMobileNumber returns a phone number in E.164 form, or an Invalid failure about the
// "mobile_number" field. Spaces, dashes, dots and brackets are ignored; a number starting 07
// is read as a UK mobile, and one starting 00 as international. It does not know which
// numbers are mobiles: callers that can tell check that first.
func CheckMobileNumber(number string) (string, error) {
	n := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" \t-.()", r) {
			return -1
		}
		return r
	}, strings.TrimSpace(number))
	switch {
	case n == "":
		return "", failure.Field("mobile_number", "Enter a mobile number")
	case strings.HasPrefix(n, "00"):
		n = "+" + n[2:]
	case strings.HasPrefix(n, "07"):
		n = "+44" + n[1:]
	}
	if !e164.MatchString(n) {
		return "", errMobileFormat
	}
	return n, nil
}

// SetMobileNumber saves a user's mobile number, or removes it when number is empty. A number
// that is already theirs changes nothing and records nothing.
func (s *Store) SetMobileNumber(ctx context.Context, actor Actor, userID, number string) error {
	if !isID(userID) {
		return failure.New(failure.NotFound, "User not found")
	}
	if strings.TrimSpace(number) != "" {
		var err error
		if number, err = CheckMobileNumber(number); err != nil {
			return err
		}
	} else {
		number = ""
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := s.userWhere(ctx, tx, "u.id = ?"+tx.ForUpdate(), userID)
		if err != nil || u.MobileNumber == number {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET mobile_number = ? WHERE id = ?", nullable(number), userID); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, AuditEntry{Action: "user.mobile_number_changed", TargetType: "user", TargetID: userID,
			Details: map[string]any{"email": u.Email, "mobile_number": number}})
	})
	return wrap("set mobile number", err)
}
