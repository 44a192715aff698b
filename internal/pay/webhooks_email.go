package pay

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// The confirmation email: a service may have Commons email the payer when a payment succeeds,
// from one of the service's own Notify email templates. Pay never reads Notify's tables; it
// sends through an Emailer the application gives it, in a job queued in the transaction that
// made the payment succeed, so a crash cannot lose the email and a rolled-back payment cannot
// send one.

// Emailer sends an email from one of a service's Notify templates, as the service. It returns a
// *failure.Error of kind Invalid, Forbidden or NotFound when Notify will never accept the email
// (the template is gone, the address is refused); any other error is tried again later.
type Emailer interface {
	SendEmail(ctx context.Context, serviceID, templateID, to string, personalisation map[string]string, reference string) error
}

// ConfirmationEmail is a service's confirmation email setting.
type ConfirmationEmail struct {
	Enabled bool
	// TemplateID is the Notify email template sent. Its placeholders may use the
	// personalisation of ConfirmationPersonalisation.
	TemplateID string
}

// ConfirmationPersonalisation lists the personalisation a confirmation email is sent with.
var ConfirmationPersonalisation = []string{"payment_id", "reference", "description", "amount", "date"}

// Confirmation email statuses, as pay_confirmation_emails keeps them.
const (
	confirmationQueued  = "queued"
	confirmationSent    = "sent"
	confirmationSkipped = "skipped"
	confirmationFailed  = "failed"
)

// ConfirmationEmail returns a service's setting; a service that never set one sends none.
func (s *Service) ConfirmationEmail(ctx context.Context, serviceID string) (ConfirmationEmail, error) {
	var c ConfirmationEmail
	err := s.db.QueryRow(ctx, `SELECT enabled, template_id FROM pay_confirmation_email_settings WHERE service_id = ?`,
		serviceID).Scan(&c.Enabled, &c.TemplateID)
	if err != nil && !db.IsNoRows(err) {
		return c, webhookStoreError("read confirmation email", err)
	}
	return c, nil
}

// SetConfirmationEmail saves a service's setting. Turning the email on needs a template id; the
// template itself is Notify's to check when the email is sent.
func (s *Service) SetConfirmationEmail(ctx context.Context, serviceID string, c ConfirmationEmail) error {
	c.TemplateID = strings.TrimSpace(c.TemplateID)
	switch {
	case c.Enabled && c.TemplateID == "":
		return failure.Field("template_id", "Enter the id of the Notify email template to send")
	case c.TemplateID != "" && (len(c.TemplateID) != 36 || uuid.Validate(c.TemplateID) != nil):
		return failure.Field("template_id", "Template id must be a Notify template id, like 8f6c0e3a-4b1e-4d2a-9c55-2f1d3e4b5a6c")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO pay_confirmation_email_settings (service_id, enabled, template_id, updated_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (service_id) DO UPDATE SET enabled = excluded.enabled,
			template_id = excluded.template_id, updated_at = excluded.updated_at`, serviceID, c.Enabled, c.TemplateID, s.now()); err != nil {
			return err
		}
		return s.webhookAudit(ctx, tx, serviceID, auditConfirmationEmail, "confirmation_email", serviceID,
			map[string]any{"enabled": c.Enabled, "template_id": c.TemplateID})
	})
	if err != nil {
		return webhookStoreError("save confirmation email", err)
	}
	return nil
}

// queueConfirmationEmail queues the email for a payment that has just succeeded, when the
// service sends one and the payer gave an address. The row, keyed by the payment, makes a
// second success of one payment (which the state machine does not allow anyway) queue nothing.
func queueConfirmationEmail(ctx context.Context, tx *db.Tx, p *Payment, at time.Time) error {
	if p.Email == "" {
		return nil
	}
	var enabled bool
	var templateID string
	err := tx.QueryRow(ctx, `SELECT enabled, template_id FROM pay_confirmation_email_settings WHERE service_id = ?`,
		p.ServiceID).Scan(&enabled, &templateID)
	if db.IsNoRows(err) || (err == nil && (!enabled || templateID == "")) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pay: confirmation email setting: %w", err)
	}
	res, err := tx.Exec(ctx, `INSERT INTO pay_confirmation_emails (payment_id, service_id, template_id, status, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (payment_id) DO NOTHING`, p.ID, p.ServiceID, templateID, confirmationQueued, at)
	if err != nil {
		return fmt.Errorf("pay: queue confirmation email: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	return insertWebhookJobTx(ctx, tx, ConfirmationEmailArgs{PaymentID: p.ID})
}

// ConfirmationEmailArgs is the job that sends one payment's confirmation email.
type ConfirmationEmailArgs struct {
	PaymentID string `json:"payment_id"`
}

// Kind names the job in River's tables.
func (ConfirmationEmailArgs) Kind() string { return "pay.confirmation_email" }

// InsertOpts puts the email on Pay's queue. River's backoff spreads its retries over a few
// hours, long enough for Notify to come back.
func (ConfirmationEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePay, MaxAttempts: 10}
}

type confirmationEmailWorker struct {
	river.WorkerDefaults[ConfirmationEmailArgs]
	s *Service
}

func (w *confirmationEmailWorker) Work(ctx context.Context, job *river.Job[ConfirmationEmailArgs]) error {
	return w.s.sendConfirmationEmail(ctx, job.Args.PaymentID)
}

// sendConfirmationEmail sends a queued email once. The row is marked after Notify has taken the
// email: a crash in between sends it again, which a payer minds less than no receipt at all.
func (s *Service) sendConfirmationEmail(ctx context.Context, paymentID string) error {
	var serviceID, templateID, status string
	var succeededAt time.Time
	err := s.db.QueryRow(ctx, `SELECT service_id, template_id, status, created_at FROM pay_confirmation_emails WHERE payment_id = ?`,
		paymentID).Scan(&serviceID, &templateID, &status, &succeededAt)
	switch {
	case db.IsNoRows(err):
		return nil // deleted after the retention period
	case err != nil:
		return fmt.Errorf("pay: read confirmation email of %s: %w", paymentID, err)
	case status != confirmationQueued:
		return nil
	}
	p, err := s.Payment(ctx, serviceID, paymentID)
	if err != nil {
		return fmt.Errorf("pay: read payment %s for its confirmation email: %w", paymentID, err)
	}
	if p.Email == "" {
		return s.markConfirmationEmail(ctx, paymentID, confirmationSkipped, "The payment has no email address")
	}
	if s.cfg.Webhooks.Emailer == nil {
		return s.markConfirmationEmail(ctx, paymentID, confirmationFailed, "Emails cannot be sent from this Commons")
	}
	err = s.cfg.Webhooks.Emailer.SendEmail(ctx, serviceID, templateID, p.Email, confirmationPersonalisation(p, succeededAt), paymentID)
	switch {
	case err == nil:
		return s.markConfirmationEmail(ctx, paymentID, confirmationSent, "")
	case failure.Is(err, failure.Invalid) || failure.Is(err, failure.Forbidden) || failure.Is(err, failure.NotFound):
		s.log.WarnContext(ctx, "pay: confirmation email refused by Notify", "service_id", serviceID, "payment_id", paymentID,
			"error", err)
		return s.markConfirmationEmail(ctx, paymentID, confirmationFailed, failure.Message(err))
	}
	return fmt.Errorf("pay: confirmation email of %s: %w", paymentID, err)
}

func (s *Service) markConfirmationEmail(ctx context.Context, paymentID, status, reason string) error {
	var sentAt any
	if status == confirmationSent {
		sentAt = s.now()
	}
	if _, err := s.db.Exec(context.WithoutCancel(ctx), `UPDATE pay_confirmation_emails SET status = ?, error = ?, sent_at = ?
		WHERE payment_id = ?`, status, reason, sentAt, paymentID); err != nil {
		return fmt.Errorf("pay: record confirmation email of %s: %w", paymentID, err)
	}
	return nil
}

// confirmationPersonalisation fills ConfirmationPersonalisation for a payment: the amount the
// payer paid in pounds, and the day it succeeded in UK time.
func confirmationPersonalisation(p *Payment, succeededAt time.Time) map[string]string {
	return map[string]string{
		"payment_id":  p.ID,
		"reference":   p.Reference,
		"description": p.Description,
		"amount":      formatPounds(p.TotalAmount()),
		"date":        succeededAt.In(confirmationEmailZone).Format("2 January 2006"),
	}
}

// confirmationEmailZone is the zone payers read dates in.
var confirmationEmailZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return loc
}()
