package notify

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
)

// statusChange is one conditional status update: to status when the current status is one
// of from, setting the extra columns in set (with args) when the extra condition where holds.
type statusChange struct {
	from   []string
	to     string
	detail string
	set    string
	args   []any
	where  string
}

// changedRow is a notification as it stands after a status change: what the status event and
// the delivery-status callback need.
type changedRow struct {
	ID              string
	ServiceID       string
	Type            Channel
	Reference       string
	To              string
	Status          string
	TemplateID      string
	TemplateVersion int
	CreatedAt       time.Time
	SentAt          *time.Time
	UpdatedAt       *time.Time
}

const changedColumns = `id, service_id, notification_type, COALESCE(client_reference, ''), recipient, status,
	template_id, template_version, created_at, sent_at, updated_at`

func scanChanged(row interface{ Scan(...any) error }) (changedRow, error) {
	var r changedRow
	var typ string
	var sent, updated sql.NullTime
	if err := row.Scan(&r.ID, &r.ServiceID, &typ, &r.Reference, &r.To, &r.Status, &r.TemplateID,
		&r.TemplateVersion, &r.CreatedAt, &sent, &updated); err != nil {
		return changedRow{}, err
	}
	r.Type = Channel(typ)
	if sent.Valid {
		r.SentAt = &sent.Time
	}
	if updated.Valid {
		r.UpdatedAt = &updated.Time
	}
	return r, nil
}

// change applies c to notification id in tx. When the row changed it records the status
// event and queues the delivery-status callback the new status calls for, in the same
// transaction, and reports true.
func (d *Delivery) change(ctx context.Context, tx *db.Tx, id string, c statusChange) (changedRow, bool, error) {
	q := `UPDATE notify_notifications SET status = ?, updated_at = ?`
	args := []any{c.to, d.s.now()}
	if c.set != "" {
		q += ", " + c.set
		args = append(args, c.args...)
	}
	q += ` WHERE id = ? AND status IN (` + sqlPlaceholders(len(c.from)) + `)`
	args = append(args, id)
	for _, f := range c.from {
		args = append(args, f)
	}
	if c.where != "" {
		q += " AND " + c.where
	}
	r, err := scanChanged(tx.QueryRow(ctx, q+` RETURNING `+changedColumns, args...))
	if db.IsNoRows(err) {
		return changedRow{}, false, nil
	}
	if err != nil {
		return changedRow{}, false, fmt.Errorf("notification %s to %s: %w", id, c.to, err)
	}
	if err := d.recordChange(ctx, tx, r, c.detail); err != nil {
		return changedRow{}, false, err
	}
	return r, true, nil
}

// recordChange writes the status event of a change that has been made and queues its
// callback.
func (d *Delivery) recordChange(ctx context.Context, tx *db.Tx, r changedRow, detail string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO notify_status_events (notification_id, service_id, status, detail, created_at)
		VALUES (?, ?, ?, ?, ?)`, r.ID, r.ServiceID, r.Status, detail, d.s.now()); err != nil {
		return fmt.Errorf("status event for %s: %w", r.ID, err)
	}
	return d.queueDeliveryCallback(ctx, tx, r)
}

// insertJob adds a job in tx: through the platform's job client, or, inside a worker that has
// none, through the River client running it.
func (d *Delivery) insertJob(ctx context.Context, tx *db.Tx, args river.JobArgs) error {
	if d.s.cfg.Jobs != nil {
		return d.s.cfg.Jobs.InsertTx(ctx, tx, args, nil)
	}
	client, err := river.ClientFromContextSafely[*sql.Tx](ctx)
	if err != nil {
		return fmt.Errorf("insert %s: no job client: %w", args.Kind(), err)
	}
	if _, err := client.InsertTx(ctx, tx.Sql, args, nil); err != nil {
		return fmt.Errorf("insert %s: %w", args.Kind(), err)
	}
	return nil
}

// sqlPlaceholders returns n comma-separated question marks.
func sqlPlaceholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// statusChanges changes statuses as delivery does — conditionally, with the status event and
// the callback in the same transaction — for the parts of Notify that move messages on
// without a provider: the print batch and returned letters, from the console and the Go API.
// Those steps need only the service, not delivery's providers.
func (s *Service) statusChanges() *Delivery { return &Delivery{s: s} }
