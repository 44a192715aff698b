package notify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/platform"
)

// The guest list: people outside the team whom a trial service, or a team key, may send to.

// GuestListEntry is one email address or mobile number on the guest list, in normalised form.
type GuestListEntry struct {
	ID        string
	ServiceID string
	Type      string // "email" or "mobile"
	Recipient string
}

// MaxGuestList is how many entries a guest list holds (GOV.UK Notify allows 5 of each kind
// in its form; the API keeps the same bound per kind).
const MaxGuestList = 5

// SetGuestList replaces a service's guest list. Entries must already be normalised; the
// caller validates them (the API and console do, with content.ValidateEmail/ParsePhone).
func (s *Service) SetGuestList(ctx context.Context, serviceID string, emails, mobiles []string) error {
	if len(emails) > MaxGuestList || len(mobiles) > MaxGuestList {
		return failure.Field("guest_list", "A guest list can have up to %d email addresses and %d phone numbers", MaxGuestList, MaxGuestList)
	}
	want := map[string]bool{}
	counts := map[string]int{}
	for kind, list := range map[string][]string{"email": emails, "mobile": mobiles} {
		for _, r := range list {
			if r = strings.TrimSpace(r); r != "" && !want[kind+"\x00"+r] {
				want[kind+"\x00"+r] = true
				counts[kind]++
			}
		}
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		current, err := s.guestList(ctx, tx, serviceID)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, g := range current {
			have[g.Type+"\x00"+g.Recipient] = true
		}
		if maps.Equal(have, want) {
			return nil // the same list: nothing to change or record
		}
		if _, err := tx.Exec(ctx, `DELETE FROM notify_guest_list WHERE service_id = ?`, serviceID); err != nil {
			return fmt.Errorf("guest list: %w", err)
		}
		for entry := range want {
			kind, r, _ := strings.Cut(entry, "\x00")
			if _, err := tx.Exec(ctx, `INSERT INTO notify_guest_list (id, service_id, recipient_type, recipient, created_at)
				VALUES (?, ?, ?, ?, ?)`, uuid.NewString(), serviceID, kind, r, s.now()); err != nil {
				return fmt.Errorf("guest list: %w", err)
			}
		}
		// The log says how many people the list holds, not who: they are not the team, and
		// the log, being append-only, could never forget them.
		return s.audit(ctx, tx, serviceID, auditGuestListChanged, "guest_list", serviceID,
			map[string]any{"name": "Guest list", "email_addresses": counts["email"], "phone_numbers": counts["mobile"]})
	})
}

// GuestList returns a service's guest list.
func (s *Service) GuestList(ctx context.Context, serviceID string) ([]GuestListEntry, error) {
	return s.guestList(ctx, s.db, serviceID)
}

func (s *Service) guestList(ctx context.Context, q db.Querier, serviceID string) ([]GuestListEntry, error) {
	rows, err := q.Query(ctx, `SELECT id, service_id, recipient_type, recipient FROM notify_guest_list
		WHERE service_id = ? ORDER BY recipient_type, recipient`, serviceID)
	if err != nil {
		return nil, fmt.Errorf("guest list: %w", err)
	}
	defer rows.Close()
	var out []GuestListEntry
	for rows.Next() {
		var e GuestListEntry
		if err := rows.Scan(&e.ID, &e.ServiceID, &e.Type, &e.Recipient); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Team members' own mobile numbers admit them as recipients of text messages from a service in
// trial mode, or sent with a team key, as their email addresses do for emails (notify.md §6.1).

// NormaliseTeamMobile checks the mobile number a team member gives for themselves and returns
// it in E.164 form ("+447700900982"), the form the platform keeps. It must be a UK mobile or
// a number abroad: a UK landline cannot receive texts from most services. The console calls
// it through its configuration, because tenancy cannot depend on Notify; the failure is about
// the "mobile_number" field, in words for the person typing.
func NormaliseTeamMobile(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", failure.Field("mobile_number", "Enter a mobile number")
	}
	p, err := content.ParsePhone(raw)
	if err == nil {
		err = p.Permit(true, false)
	}
	var pe *content.PhoneError
	switch {
	case err == nil:
		return "+" + p.Normalised, nil
	case !errors.As(err, &pe):
		return "", failure.Field("mobile_number", "Enter a mobile number in the correct format, like 07700 900 982 or +61 412 345 678")
	}
	switch pe.Code {
	case content.PhoneTooShort:
		return "", failure.Field("mobile_number", "Mobile number is too short: enter it with its area or country code, like 07700 900 982")
	case content.PhoneTooLong:
		return "", failure.Field("mobile_number", "Mobile number is too long")
	case content.PhoneUnknownCharacter:
		return "", failure.Field("mobile_number", "Mobile number must only include numbers, spaces, brackets, dashes and a plus sign")
	case content.PhoneNotUKMobile:
		return "", failure.Field("mobile_number", "Enter a mobile number, not a landline")
	case content.PhoneUnsupportedCountry:
		return "", failure.Field("mobile_number", "Notify cannot send text messages to numbers with that country code")
	}
	return "", failure.Field("mobile_number", "Enter a mobile number in the correct format, like 07700 900 982 or +61 412 345 678")
}

// memberMobile returns a team member's mobile number in the form recipients are compared in;
// ok is false when they have none. The stored number is normalised again rather than trusted,
// so that a number kept in any E.164 spelling still matches.
func memberMobile(m platform.Member) (phone string, ok bool) {
	if m.MobileNumber == "" {
		return "", false
	}
	return normalisePhoneForMatch(m.MobileNumber)
}

// teamMobile reports whether a phone number, normalised as recipients are compared, is the
// mobile number of one of the service's team members.
func (s *Service) teamMobile(ctx context.Context, serviceID, phone string) (bool, error) {
	if s.cfg.Platform == nil {
		return false, nil
	}
	members, err := s.cfg.Platform.Members(ctx, serviceID)
	if err != nil {
		return false, err
	}
	for _, m := range members {
		if p, ok := memberMobile(m); ok && p == phone {
			return true, nil
		}
	}
	return false, nil
}
