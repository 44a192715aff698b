package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/notify/letter"
)

// GET /v2/notifications/{id}/pdf (notify.md §2.8): the PDF of a letter, in GOV.UK Notify's
// order of checks. A precompiled letter returns the bytes the service sent; a templated one
// returns the PDF delivery stored, or the same PDF rendered now from the stored letter (the
// rendering depends only on the letter, so it is the same file).

func errPDFNotReady() *v2Error {
	return newV2Error(http.StatusBadRequest, errTypePDFNotReady, "PDF not available yet, try again later")
}

func (s *Service) getNotificationPDF(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	id, err := notificationIDFromPath(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	n, err := s.v2Notification(ctx, caller.ServiceID, id)
	if err != nil {
		return err
	}
	switch {
	case n.Type != Letter:
		return badRequest("Notification is not a letter")
	case n.Status == StatusVirusScanFailed:
		return badRequest("File did not pass the virus scan")
	case n.Status == StatusTechnicalFailure:
		return badRequest("PDF not available for letters in status %s", n.Status)
	case n.Status == StatusPendingVirusCheck:
		return errPDFNotReady()
	}
	pdf, err := s.letterPDF(ctx, n)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pdf)
	return nil
}

// letterPDF returns the stored PDF of a letter, rendering a templated letter that has none.
func (s *Service) letterPDF(ctx context.Context, n Notification) ([]byte, error) {
	var pdf []byte
	var precompiled bool
	err := s.db.QueryRow(ctx, `SELECT pdf, precompiled FROM notify_letter_pdfs WHERE notification_id = ? AND service_id = ?`,
		n.ID, n.ServiceID).Scan(&pdf, &precompiled)
	switch {
	case err == nil:
		return pdf, nil
	case !db.IsNoRows(err):
		return nil, fmt.Errorf("letter PDF: %w", err)
	case n.TemplateID == precompiledTemplateID(n.ServiceID):
		return nil, errPDFNotReady()
	}
	var recipient, contactBlock string
	var created time.Time
	if err := s.db.QueryRow(ctx, `SELECT recipient, COALESCE(reply_to, ''), created_at FROM notify_notifications
		WHERE id = ? AND service_id = ?`, n.ID, n.ServiceID).Scan(&recipient, &contactBlock, &created); err != nil {
		return nil, fmt.Errorf("letter PDF: %w", err)
	}
	pdf, _, err = letter.Render(letter.Letter{
		AddressLines: strings.Split(recipient, "\n"), ContactBlock: contactBlock, Heading: n.Subject, Body: n.Body,
		Date: created.UTC(), Postage: n.Postage,
	})
	if err != nil {
		s.logger().WarnContext(ctx, "letter PDF could not be rendered", "notification_id", n.ID, "error", err)
		return nil, errPDFNotReady()
	}
	return pdf, nil
}
