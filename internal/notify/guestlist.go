package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
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
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM notify_guest_list WHERE service_id = ?`, serviceID); err != nil {
			return fmt.Errorf("guest list: %w", err)
		}
		seen := map[string]bool{}
		for kind, list := range map[string][]string{"email": emails, "mobile": mobiles} {
			for _, r := range list {
				r = strings.TrimSpace(r)
				if r == "" || seen[kind+r] {
					continue
				}
				seen[kind+r] = true
				if _, err := tx.Exec(ctx, `INSERT INTO notify_guest_list (id, service_id, recipient_type, recipient, created_at)
					VALUES (?, ?, ?, ?, ?)`, uuid.NewString(), serviceID, kind, r, s.now()); err != nil {
					return fmt.Errorf("guest list: %w", err)
				}
			}
		}
		return nil
	})
}

// GuestList returns a service's guest list.
func (s *Service) GuestList(ctx context.Context, serviceID string) ([]GuestListEntry, error) {
	rows, err := s.db.Query(ctx, `SELECT id, service_id, recipient_type, recipient FROM notify_guest_list
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
