package notify

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// What a bulk job sent: counts of its notifications by outcome for the progress page, and a
// report of every row for download.

// BulkOutcomes counts a job's notifications by how far they have got.
type BulkOutcomes struct {
	// Sending are waiting for or with a provider; Delivered reached the recipient (or were
	// handed to a network that gives no receipt); Failed did not.
	Sending, Delivered, Failed int
}

// BulkOutcomes counts a job's notifications by outcome.
func (s *Service) BulkOutcomes(ctx context.Context, serviceID, jobID string) (BulkOutcomes, error) {
	rows, err := s.db.Query(ctx, `SELECT status, count(*) FROM notify_notifications WHERE service_id = ? AND job_id = ?
		GROUP BY status`, serviceID, jobID)
	if err != nil {
		return BulkOutcomes{}, fmt.Errorf("bulk send outcomes: %w", err)
	}
	defer rows.Close()
	var out BulkOutcomes
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return BulkOutcomes{}, fmt.Errorf("bulk send outcomes: %w", err)
		}
		switch {
		case status == StatusDelivered || status == StatusSent:
			out.Delivered += n
		case IsFinal(status):
			out.Failed += n
		default:
			out.Sending += n
		}
	}
	return out, rows.Err()
}

// bulkReportHeader names the report's columns.
var bulkReportHeader = []string{"Row", "Recipient", "Status", "Notification ID"}

// WriteBulkReport writes a CSV report of a job: for every row dealt with so far, in row order,
// its recipient, its notification's status as the API gives it, and the notification's id; a
// row set aside has the status "not sent" and why. Notifications deleted at the end of the
// service's data retention are no longer listed.
func (s *Service) WriteBulkReport(ctx context.Context, j BulkJob, w io.Writer) error {
	sent, err := s.db.Query(ctx, `SELECT job_row, recipient, status, id FROM notify_notifications
		WHERE service_id = ? AND job_id = ? ORDER BY job_row`, j.ServiceID, j.ID)
	if err != nil {
		return fmt.Errorf("bulk send report: %w", err)
	}
	defer sent.Close()
	// The rows set aside have no notification id: an empty fourth column, so that both
	// listings are read alike.
	skipped, err := s.db.Query(ctx, `SELECT job_row, recipient, reason, '' FROM notify_bulk_skipped
		WHERE service_id = ? AND job_id = ? ORDER BY job_row`, j.ServiceID, j.ID)
	if err != nil {
		return fmt.Errorf("bulk send report: %w", err)
	}
	defer skipped.Close()

	out := csv.NewWriter(w)
	if err := out.Write(bulkReportHeader); err != nil {
		return err
	}
	next := func(rows *sql.Rows, letter bool) ([]string, int, error) {
		if !rows.Next() {
			return nil, 0, rows.Err()
		}
		var row int
		var recipient, status, last string
		if err := rows.Scan(&row, &recipient, &status, &last); err != nil {
			return nil, 0, err
		}
		if letter {
			status = letterStatus(status)
		}
		return []string{strconv.Itoa(row), reportCell(recipient), status, last}, row, nil
	}
	a, aRow, err := next(sent, j.Type == Letter)
	if err != nil {
		return fmt.Errorf("bulk send report: %w", err)
	}
	b, bRow, err := next(skipped, false)
	if err != nil {
		return fmt.Errorf("bulk send report: %w", err)
	}
	for a != nil || b != nil {
		if a != nil && (b == nil || aRow < bRow) {
			if err := out.Write(a); err != nil {
				return err
			}
			if a, aRow, err = next(sent, j.Type == Letter); err != nil {
				return fmt.Errorf("bulk send report: %w", err)
			}
			continue
		}
		if err := out.Write([]string{b[0], b[1], "not sent: " + b[2], ""}); err != nil {
			return err
		}
		if b, bRow, err = next(skipped, false); err != nil {
			return fmt.Errorf("bulk send report: %w", err)
		}
	}
	out.Flush()
	return out.Error()
}

// reportCell keeps a value on one line and stops a spreadsheet from reading it as a formula.
// A phone number written +44… is left as it is: a spreadsheet reads it as a number.
func reportCell(v string) string {
	v = strings.ReplaceAll(v, "\n", ", ")
	if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return v
	}
	if (v[0] == '+' || v[0] == '-') && strings.Trim(v[1:], "0123456789 ()-") == "" {
		return v
	}
	return "'" + v
}
