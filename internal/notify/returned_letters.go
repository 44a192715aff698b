package notify

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// Returned letters: a letter the post office could not deliver comes back to the service,
// weeks after it was posted. The team records it by the letter's notification id or its
// reference (GOV.UK Notify takes a list of them); a posted letter becomes returned-letter
// (the API still shows "received", notify.md §4.3) and the service's returned_letter
// callback is called with GOV.UK Notify's body (§7).

// Outcomes of recording a returned letter.
const (
	ReturnedRecorded  = "recorded"         // the letter is now returned-letter
	ReturnedAlready   = "already-recorded" // it was already
	ReturnedNotPosted = "not-posted"       // it has not been posted (Status says what it is)
	ReturnedNotFound  = "not-found"        // no letter of the service has that id or reference
	ReturnedAmbiguous = "ambiguous"        // several letters have that reference
)

// MaxReturnedLetters is how many ids and references one report may hold.
const MaxReturnedLetters = 1000

// ReturnedLetterResult is what became of one id or reference in a report.
type ReturnedLetterResult struct {
	Given          string // the id or reference, as given
	NotificationID string // the letter it named; "" when not found or ambiguous
	Recipient      string // the letter's address, when found
	Outcome        string
	Status         string // the letter's status, when found
}

// ReturnedLetter is a letter recorded as returned.
type ReturnedLetter struct {
	NotificationID string
	ReportedBy     string
	ReportedAt     time.Time
	// Recipient and Reference are the letter's, while it is kept (its retention has not
	// passed); "" after.
	Recipient, Reference string
}

// RecordReturnedLetters records letters as returned, each named by its notification id or
// its reference (the service's own, given when it was sent), one result per distinct entry
// in the order given. Only posted (delivered) letters become returned-letter, each with a
// status event naming by and the returned_letter callback; recording one again changes
// nothing. Test-key letters are never printed, so are not found. An empty list, or one of
// more than MaxReturnedLetters entries, is refused.
func (s *Service) RecordReturnedLetters(ctx context.Context, serviceID string, given []string, by string) ([]ReturnedLetterResult, error) {
	var entries []string
	seen := map[string]bool{}
	for _, g := range given {
		g = strings.TrimSpace(g)
		if g != "" && !seen[g] {
			seen[g] = true
			entries = append(entries, g)
		}
	}
	switch {
	case len(entries) == 0:
		return nil, failure.Field("letters", "Enter the notification ID or reference of at least one returned letter")
	case len(entries) > MaxReturnedLetters:
		return nil, failure.Field("letters", "Enter at most %s notification IDs or references at a time", withThousands(MaxReturnedLetters))
	}
	var out []ReturnedLetterResult
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		out = make([]ReturnedLetterResult, 0, len(entries))
		for _, g := range entries {
			res, err := s.recordReturnedLetter(ctx, tx, serviceID, g, by)
			if err != nil {
				return err
			}
			out = append(out, res)
		}
		return nil
	})
	return out, err
}

// returnableLetters selects a service's letters that could have been printed.
const returnableLetters = `service_id = ? AND notification_type = 'letter' AND key_type <> 'test'`

func (s *Service) recordReturnedLetter(ctx context.Context, tx *db.Tx, serviceID, given, by string) (ReturnedLetterResult, error) {
	res := ReturnedLetterResult{Given: given, Outcome: ReturnedNotFound}
	var found [][3]string // id, status, recipient
	if validUUID(given) {
		var id, status, recipient string
		err := tx.QueryRow(ctx, `SELECT id, status, recipient FROM notify_notifications WHERE id = ? AND `+returnableLetters,
			strings.ToLower(given), serviceID).Scan(&id, &status, &recipient)
		if err != nil && !db.IsNoRows(err) {
			return res, fmt.Errorf("returned letter: %w", err)
		}
		if err == nil {
			found = append(found, [3]string{id, status, recipient})
		}
	}
	if len(found) == 0 {
		rows, err := tx.Query(ctx, `SELECT id, status, recipient FROM notify_notifications
			WHERE client_reference = ? AND `+returnableLetters+` ORDER BY created_at DESC LIMIT 2`, given, serviceID)
		if err != nil {
			return res, fmt.Errorf("returned letter: %w", err)
		}
		for rows.Next() {
			var f [3]string
			if err := rows.Scan(&f[0], &f[1], &f[2]); err != nil {
				rows.Close()
				return res, fmt.Errorf("returned letter: %w", err)
			}
			found = append(found, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, fmt.Errorf("returned letter: %w", err)
		}
	}
	switch len(found) {
	case 0:
		return res, nil
	case 1:
	default:
		res.Outcome = ReturnedAmbiguous
		return res, nil
	}
	res.NotificationID, res.Status, res.Recipient = found[0][0], found[0][1], found[0][2]
	switch res.Status {
	case StatusReturnedLetter:
		res.Outcome = ReturnedAlready
		return res, nil
	case StatusDelivered:
	default:
		res.Outcome = ReturnedNotPosted
		return res, nil
	}
	d := s.statusChanges()
	_, changed, err := d.change(ctx, tx, res.NotificationID, statusChange{
		from: []string{StatusDelivered}, to: StatusReturnedLetter, detail: "Returned to the service, recorded by " + by,
		where: "notification_type = 'letter'",
	})
	if err != nil || !changed {
		res.Outcome = ReturnedAlready
		return res, err
	}
	res.Outcome, res.Status = ReturnedRecorded, StatusReturnedLetter
	if _, err := tx.Exec(ctx, `INSERT INTO notify_returned_letters (notification_id, service_id, reported_by, reported_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (notification_id) DO NOTHING`, res.NotificationID, serviceID, by, s.now()); err != nil {
		return res, fmt.Errorf("returned letter: %w", err)
	}
	body, err := returnedLetterCallbackBody(ctx, tx, serviceID, res.NotificationID)
	if err != nil {
		return res, err
	}
	return res, d.queueServiceCallback(ctx, tx, serviceID, CallbackReturnedLetter, res.NotificationID, body)
}

// returnedLetterCallbackBody describes a returned letter as GOV.UK Notify's callback does
// (its returned letter report's fields): who sent it and how — through the API, from a
// template in the console, or in bulk from a spreadsheet.
func returnedLetterCallbackBody(ctx context.Context, q db.Querier, serviceID, id string) (returnedLetterBody, error) {
	var (
		reference, apiKeyID, sentBy, templateName, templateID, fileName string
		createdAt                                                       time.Time
		version                                                         int
		hidden                                                          sql.NullBool
		row                                                             sql.NullInt64
	)
	err := q.QueryRow(ctx, `SELECT COALESCE(n.client_reference, ''), COALESCE(n.api_key_id, ''), COALESCE(n.created_by_name, ''),
		n.created_at, n.template_id, n.template_version, COALESCE(t.name, ''), t.hidden, COALESCE(j.file_name, ''), n.job_row
		FROM notify_notifications n
		LEFT JOIN notify_templates t ON t.id = n.template_id AND t.service_id = n.service_id
		LEFT JOIN notify_bulk_jobs j ON j.id = n.job_id AND j.service_id = n.service_id
		WHERE n.id = ? AND n.service_id = ?`, id, serviceID).
		Scan(&reference, &apiKeyID, &sentBy, &createdAt, &templateID, &version, &templateName, &hidden, &fileName, &row)
	if err != nil {
		return returnedLetterBody{}, fmt.Errorf("returned letter callback: %w", err)
	}
	body := returnedLetterBody{NotificationID: id, DateSent: callbackTimestamp(createdAt), SentBy: sentBy}
	if sentBy == "" {
		body.SentBy = "API"
	}
	if apiKeyID != "" && reference != "" {
		body.Reference = &reference
	}
	// A precompiled letter's template is a hidden one of Commons' own, meaningless to the
	// service; a letter uploaded in the console is known by its file name instead.
	if !hidden.Bool {
		body.TemplateName, body.TemplateID, body.TemplateVersion = &templateName, &templateID, &version
	} else if apiKeyID == "" && reference != "" {
		body.UploadLetterFileName = &reference
	}
	if fileName != "" {
		body.SpreadsheetFileName = &fileName
		if row.Valid {
			n := int(row.Int64)
			body.SpreadsheetRowNumber = &n
		}
	}
	return body, nil
}

// ReturnedLetters returns up to limit of the letters a service has recorded as returned,
// the latest first.
func (s *Service) ReturnedLetters(ctx context.Context, serviceID string, limit int) ([]ReturnedLetter, error) {
	rows, err := s.db.Query(ctx, `SELECT r.notification_id, r.reported_by, r.reported_at,
		COALESCE(n.recipient, ''), COALESCE(n.client_reference, '')
		FROM notify_returned_letters r LEFT JOIN notify_notifications n ON n.id = r.notification_id AND n.service_id = r.service_id
		WHERE r.service_id = ? ORDER BY r.reported_at DESC, r.notification_id LIMIT ?`, serviceID, limit)
	if err != nil {
		return nil, fmt.Errorf("returned letters: %w", err)
	}
	defer rows.Close()
	var out []ReturnedLetter
	for rows.Next() {
		var l ReturnedLetter
		if err := rows.Scan(&l.NotificationID, &l.ReportedBy, &l.ReportedAt, &l.Recipient, &l.Reference); err != nil {
			return nil, fmt.Errorf("returned letters: %w", err)
		}
		l.ReportedAt = l.ReportedAt.UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}
