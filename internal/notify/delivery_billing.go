package notify

import (
	"context"
	"fmt"

	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/notify/letter"
	"github.com/commons-gov/commons/internal/platform"
)

// recordBillable stores what a message will be billed as, just before it is handed over, as
// GOV.UK Notify does: text message fragments (prefix included) and, for letters, pages and
// sheets of paper. Until then the API reports its cost as not ready.
//
// It reports tooLong for a letter over letter.MaxPages, which cannot be printed.
func (d *Delivery) recordBillable(ctx context.Context, n outgoing, svc platform.Service, st Settings) (tooLong bool, err error) {
	var units, pages int
	switch n.Type {
	case SMS:
		_, _, units = content.SMSFragments(smsMessage(n, svc, st).Body)
	case Letter:
		full, err := d.s.v2Notification(ctx, n.ServiceID, n.ID)
		if err != nil {
			return false, fmt.Errorf("billable units of %s: %w", n.ID, err)
		}
		if full.Pages > 0 {
			pages = full.Pages // a precompiled letter's pages were counted on arrival
		} else {
			pdf, err := d.s.letterPDF(ctx, full)
			if err != nil {
				// The letter is sent (or printed) all the same; only its cost stays unknown.
				d.s.log.Warn("letter pages could not be counted", "notification_id", n.ID, "error", err)
				return false, nil
			}
			if pages, err = letter.CheckPrecompiled(pdf); err != nil && !letter.TooLong(pages) {
				return false, fmt.Errorf("billable units of %s: %w", n.ID, err)
			}
		}
		units = (pages + 1) / 2
	default:
		return false, nil
	}
	_, err = d.s.db.Exec(ctx, `UPDATE notify_notifications SET billable_units = ?, pages = ?
		WHERE id = ? AND status = ?`, units, pages, n.ID, StatusCreated)
	if err != nil {
		return false, fmt.Errorf("billable units of %s: %w", n.ID, err)
	}
	return n.Type == Letter && letter.TooLong(pages), nil
}
