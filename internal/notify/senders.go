package notify

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify/content"
)

// A service's sender settings: email reply-to addresses, text message senders and letter
// contact blocks. Each kind has at most one default, used when a request names none.

// Sender is one reply-to address, text message sender or letter contact block.
type Sender struct {
	ID        string
	ServiceID string
	Value     string // the address, sender name or number, or contact block
	IsDefault bool
	Inbound   bool // text message senders only: the number receives replies
}

// senderKind names a table and how its values are checked.
type senderKind struct {
	table, column, what, field string
	check                      func(string) (string, error)
}

var (
	replyToKind = senderKind{table: "notify_reply_to", column: "email_address", what: "reply-to email address", field: "email_address",
		check: func(v string) (string, error) {
			addr, err := content.ValidateEmail(v)
			if err != nil {
				return "", failure.Field("email_address", "Enter an email address in the correct format, like name@example.gov.uk")
			}
			return addr, nil
		}}
	smsSenderKind = senderKind{table: "notify_sms_senders", column: "sms_sender", what: "text message sender", field: "sms_sender",
		check: checkSMSSender}
	letterContactKind = senderKind{table: "notify_letter_contacts", column: "contact_block", what: "letter contact block", field: "contact_block",
		check: func(v string) (string, error) {
			v = strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n"))
			if v == "" {
				return "", failure.Field("contact_block", "Enter a contact block")
			}
			if strings.Count(v, "\n") >= 10 || len(v) > 1000 {
				return "", failure.Field("contact_block", "Contact block must be 10 lines or fewer")
			}
			return v, nil
		}}
)

var smsSenderPattern = regexp.MustCompile(`^[A-Za-z0-9 &.\-_]{3,11}$`)

// checkSMSSender follows GOV.UK Notify's rules for text message senders: 3 to 11 letters,
// numbers, spaces and & . - _, or a phone number.
func checkSMSSender(v string) (string, error) {
	v = strings.TrimSpace(v)
	if p, err := content.ParsePhone(v); err == nil && strings.ContainsAny(v, "0123456789") && !strings.ContainsAny(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return p.Normalised, nil
	}
	switch {
	case v == "":
		return "", failure.Field("sms_sender", "Enter a text message sender")
	case !smsSenderPattern.MatchString(v):
		return "", failure.Field("sms_sender", "Text message sender must be 3 to 11 characters: letters, numbers, spaces and & . - _")
	case strings.HasPrefix(v, "00"):
		return "", failure.Field("sms_sender", "Text message sender cannot start with 00")
	}
	for _, banned := range []string{"alert", "info", "verify"} {
		if strings.EqualFold(v, banned) {
			return "", failure.Field("sms_sender", "Text message sender cannot be ‘%s’", v)
		}
	}
	return v, nil
}

func (s *Service) addSender(ctx context.Context, k senderKind, serviceID, value string, isDefault, inbound bool) (Sender, error) {
	v, err := k.check(value)
	if err != nil {
		return Sender{}, err
	}
	out := Sender{ID: uuid.NewString(), ServiceID: serviceID, Value: v, IsDefault: isDefault, Inbound: inbound}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+k.table+` WHERE service_id = ? AND archived = ?`, serviceID, false).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			out.IsDefault = true // the first one is the default
		}
		if out.IsDefault {
			if _, err := tx.Exec(ctx, `UPDATE `+k.table+` SET is_default = ? WHERE service_id = ?`, false, serviceID); err != nil {
				return err
			}
		}
		q := `INSERT INTO ` + k.table + ` (id, service_id, ` + k.column + `, is_default, archived, created_at) VALUES (?, ?, ?, ?, ?, ?)`
		args := []any{out.ID, serviceID, v, out.IsDefault, false, s.now()}
		if k.table == smsSenderKind.table {
			q = `INSERT INTO notify_sms_senders (id, service_id, sms_sender, is_default, archived, created_at, inbound) VALUES (?, ?, ?, ?, ?, ?, ?)`
			args = append(args, inbound)
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return err
		}
		return s.audit(ctx, tx, serviceID, senderAudit(k, "added"), senderTargets[k.table], out.ID, senderDetails(k, out))
	})
	s.forgetService(serviceID)
	if err != nil {
		return Sender{}, fmt.Errorf("add %s: %w", k.what, err)
	}
	return out, nil
}

func (s *Service) senders(ctx context.Context, k senderKind, serviceID string) ([]Sender, error) {
	inbound := "false"
	if k.table == smsSenderKind.table {
		inbound = "inbound"
	}
	rows, err := s.db.Query(ctx, `SELECT id, service_id, `+k.column+`, is_default, `+inbound+` FROM `+k.table+`
		WHERE service_id = ? AND archived = ? ORDER BY is_default DESC, created_at`, serviceID, false)
	if err != nil {
		return nil, fmt.Errorf("%s list: %w", k.what, err)
	}
	defer rows.Close()
	var out []Sender
	for rows.Next() {
		var x Sender
		if err := rows.Scan(&x.ID, &x.ServiceID, &x.Value, &x.IsDefault, &x.Inbound); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// sender returns one of a service's senders; ok is false when there is no such one (another
// service's id included).
func (s *Service) sender(ctx context.Context, k senderKind, serviceID, id string) (Sender, bool, error) {
	all, err := s.senders(ctx, k, serviceID)
	if err != nil {
		return Sender{}, false, err
	}
	for _, x := range all {
		if x.ID == id || (id == "" && x.IsDefault) {
			return x, true, nil
		}
	}
	return Sender{}, false, nil
}

func (s *Service) removeSender(ctx context.Context, k senderKind, serviceID, id string) error {
	defer s.forgetService(serviceID)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		removed := Sender{ID: id, ServiceID: serviceID}
		err := tx.QueryRow(ctx, `SELECT is_default, `+k.column+` FROM `+k.table+` WHERE id = ? AND service_id = ? AND archived = ?`,
			id, serviceID, false).Scan(&removed.IsDefault, &removed.Value)
		if db.IsNoRows(err) {
			return failure.New(failure.NotFound, "No %s with that id", k.what)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE `+k.table+` SET archived = ?, is_default = ? WHERE id = ? AND service_id = ?`, true, false, id, serviceID); err != nil {
			return err
		}
		if removed.IsDefault { // the oldest remaining one takes over
			if _, err := tx.Exec(ctx, `UPDATE `+k.table+` SET is_default = ? WHERE id = (SELECT id FROM `+k.table+`
				WHERE service_id = ? AND archived = ? ORDER BY created_at LIMIT 1)`, true, serviceID, false); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, serviceID, senderAudit(k, "removed"), senderTargets[k.table], id, senderDetails(k, removed))
	})
}

// AddReplyTo adds an email reply-to address; the first one, or one added as default, is the default.
func (s *Service) AddReplyTo(ctx context.Context, serviceID, email string, isDefault bool) (Sender, error) {
	return s.addSender(ctx, replyToKind, serviceID, email, isDefault, false)
}

// ReplyTos lists a service's reply-to addresses, the default first.
func (s *Service) ReplyTos(ctx context.Context, serviceID string) ([]Sender, error) {
	return s.senders(ctx, replyToKind, serviceID)
}

// ReplyTo returns one reply-to address, or the default when id is empty.
func (s *Service) ReplyTo(ctx context.Context, serviceID, id string) (Sender, bool, error) {
	return s.sender(ctx, replyToKind, serviceID, id)
}

// RemoveReplyTo removes a reply-to address.
func (s *Service) RemoveReplyTo(ctx context.Context, serviceID, id string) error {
	return s.removeSender(ctx, replyToKind, serviceID, id)
}

// AddSMSSender adds a text message sender. An inbound sender is a number that receives replies.
func (s *Service) AddSMSSender(ctx context.Context, serviceID, sender string, isDefault, inbound bool) (Sender, error) {
	return s.addSender(ctx, smsSenderKind, serviceID, sender, isDefault, inbound)
}

// SMSSenders lists a service's text message senders, the default first.
func (s *Service) SMSSenders(ctx context.Context, serviceID string) ([]Sender, error) {
	return s.senders(ctx, smsSenderKind, serviceID)
}

// SMSSender returns one text message sender, or the default when id is empty.
func (s *Service) SMSSender(ctx context.Context, serviceID, id string) (Sender, bool, error) {
	return s.sender(ctx, smsSenderKind, serviceID, id)
}

// RemoveSMSSender removes a text message sender.
func (s *Service) RemoveSMSSender(ctx context.Context, serviceID, id string) error {
	return s.removeSender(ctx, smsSenderKind, serviceID, id)
}

// AddLetterContact adds a letter contact block.
func (s *Service) AddLetterContact(ctx context.Context, serviceID, block string, isDefault bool) (Sender, error) {
	return s.addSender(ctx, letterContactKind, serviceID, block, isDefault, false)
}

// LetterContacts lists a service's letter contact blocks, the default first.
func (s *Service) LetterContacts(ctx context.Context, serviceID string) ([]Sender, error) {
	return s.senders(ctx, letterContactKind, serviceID)
}

// LetterContact returns one letter contact block, or the default when id is empty.
func (s *Service) LetterContact(ctx context.Context, serviceID, id string) (Sender, bool, error) {
	return s.sender(ctx, letterContactKind, serviceID, id)
}

// RemoveLetterContact removes a letter contact block.
func (s *Service) RemoveLetterContact(ctx context.Context, serviceID, id string) error {
	return s.removeSender(ctx, letterContactKind, serviceID, id)
}
