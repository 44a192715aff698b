package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/notify/recipients"
	"github.com/commons-gov/commons/internal/platform"
)

// Checking a file before it is sent, and again as each batch is sent: the same rules as the
// API's for one message (notify.md §3.4, §6), applied to every row by package recipients, with
// what they need about the service read once rather than once a row.

// bulkSender is what a file is checked and sent with: the service as it is now, its
// settings, the template version the file was uploaded for, and the rules its rows must pass.
type bulkSender struct {
	service      platform.Service
	settings     Settings
	template     Template
	contactBlock string // letters
	rules        recipients.Rules
	// refusal is why the service cannot send this file at all, or "".
	refusal string
}

// bulkSenderFor gathers what checking and sending a file of template t needs.
func (s *Service) bulkSenderFor(ctx context.Context, serviceID string, t Template) (bulkSender, error) {
	svc, err := s.serviceFor(ctx, serviceID)
	if err != nil {
		return bulkSender{}, err
	}
	st, err := s.Settings(ctx, serviceID)
	if err != nil {
		return bulkSender{}, err
	}
	b := bulkSender{service: svc, settings: st, template: t}
	if t.Type == Letter {
		if b.contactBlock, err = s.letterContactBlock(ctx, serviceID, t.LetterContactID); err != nil {
			return bulkSender{}, err
		}
	}
	b.rules = recipients.Rules{
		Type: content.Channel(t.Type), Subject: t.Subject, Body: t.Content, ContactBlock: b.contactBlock,
		AllowInternationalSMS:     svc.Can(platform.ServiceInternationalSMS),
		AllowUKLandlines:          st.SMSToUKLandlines,
		AllowInternationalLetters: svc.Can(platform.ServiceInternationalLetters),
	}
	if t.Type == SMS && st.PrefixSMS {
		b.rules.SMSPrefix = svc.Name
	}
	switch {
	case svc.Archived:
		b.refusal = "This service has been archived, so it cannot send messages."
	case !svc.Can(string(t.Type)):
		b.refusal = "Your service cannot send " + channelPlural(t.Type) + ". Ask a team member who manages the service to turn them on."
	case t.Type == Letter && !svc.Live:
		b.refusal = "Your service is in trial mode, so it cannot send letters."
	}
	if !svc.Live && t.Type != Letter {
		if b.rules.OnlyTo, err = s.trialRecipients(ctx, serviceID); err != nil {
			return bulkSender{}, err
		}
	}
	return b, nil
}

// trialRecipients lists whom a service in trial mode may send to: its team members' email
// addresses and mobile numbers and its guest list, normalised as recipients are compared
// (checkRecipientAllowed asks the same question of one recipient).
func (s *Service) trialRecipients(ctx context.Context, serviceID string) (*recipients.Allowed, error) {
	allowed := &recipients.Allowed{Emails: map[string]bool{}, Phones: map[string]bool{}}
	if s.cfg.Platform != nil {
		members, err := s.cfg.Platform.Members(ctx, serviceID)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			allowed.Emails[strings.ToLower(strings.TrimSpace(m.Email))] = true
			if p, ok := memberMobile(m); ok {
				allowed.Phones[p] = true
			}
		}
	}
	guests, err := s.GuestList(ctx, serviceID)
	if err != nil {
		return nil, err
	}
	for _, g := range guests {
		if g.Type == "email" {
			allowed.Emails[strings.ToLower(g.Recipient)] = true
		} else {
			allowed.Phones[g.Recipient] = true
		}
	}
	return allowed, nil
}

// BulkCheck is what checking a file found.
type BulkCheck struct {
	recipients.Summary
	// Refusal is why the service cannot send the file at all, or "".
	Refusal string
	// BadRows are the first rows with problems, in file order, up to the limit asked for.
	BadRows []*recipients.Row
	// RemainingToday is how many more messages of the template's channel the service may send
	// today, and DailyLimit its daily limit.
	RemainingToday, DailyLimit int
}

// Sendable reports whether the file can be sent as it is.
func (c BulkCheck) Sendable() bool { return c.Refusal == "" && c.Summary.OK() }

// OverToday reports whether the file has more rows than the service may still send today.
func (c BulkCheck) OverToday() bool { return c.Rows > c.RemainingToday }

// OverDailyLimit reports whether the file has more rows than the service may send in a day.
func (c BulkCheck) OverDailyLimit() bool { return c.Rows > c.DailyLimit }

// CheckBulkFile checks a file against a template of the service without storing it, keeping up
// to showBad of its bad rows.
func (s *Service) CheckBulkFile(ctx context.Context, serviceID, templateID string, data []byte, showBad int) (BulkCheck, Template, error) {
	t, err := s.bulkTemplate(ctx, serviceID, templateID)
	if err != nil {
		return BulkCheck{}, Template{}, err
	}
	b, err := s.bulkSenderFor(ctx, serviceID, t)
	if err != nil {
		return BulkCheck{}, Template{}, err
	}
	c, err := s.checkWith(ctx, b, data, showBad)
	return c, t, err
}

// checkWith checks a whole file.
func (s *Service) checkWith(ctx context.Context, b bulkSender, data []byte, showBad int) (BulkCheck, error) {
	c := BulkCheck{Refusal: b.refusal, DailyLimit: b.settings.DailyLimit(string(b.template.Type))}
	c.Summary = recipients.Check(data, b.rules, func(r *recipients.Row) {
		if !r.OK() && len(c.BadRows) < showBad {
			c.BadRows = append(c.BadRows, r)
		}
	})
	sent, err := s.sentToday(ctx, b.service.ID, string(b.template.Type))
	if err != nil {
		return BulkCheck{}, err
	}
	c.RemainingToday = max(c.DailyLimit-sent, 0)
	return c, nil
}

// sentToday is a service's count of one daily limit for today.
func (s *Service) sentToday(ctx context.Context, serviceID, limitName string) (int, error) {
	var sent int
	err := s.db.QueryRow(ctx, `SELECT sent FROM notify_daily_counts WHERE service_id = ? AND channel = ? AND day = ?`,
		serviceID, limitName, day(s.now())).Scan(&sent)
	if err != nil && !db.IsNoRows(err) {
		return 0, fmt.Errorf("daily count: %w", err)
	}
	return sent, nil
}

// bulkTemplate finds a template a file may be sent with: one of the service's, not hidden,
// not archived.
func (s *Service) bulkTemplate(ctx context.Context, serviceID, templateID string) (Template, error) {
	t, err := s.Template(ctx, serviceID, canonicalUUID(templateID))
	if failure.Is(err, failure.NotFound) || (err == nil && t.Hidden) {
		return Template{}, failure.Field("template", "Choose one of your templates")
	}
	if err != nil {
		return Template{}, err
	}
	if t.Archived {
		return Template{}, failure.Field("template", "That template has been deleted. Choose another one")
	}
	return t, nil
}

// UploadBulkFile checks an uploaded file and keeps it as a pending job, whatever the check
// found, so that the person can see every problem on the job's page and, if there are none,
// send it. A file too large or of a template that cannot be used is refused.
func (s *Service) UploadBulkFile(ctx context.Context, serviceID string, up BulkUpload) (BulkJob, error) {
	if len(up.Data) > MaxBulkFileBytes {
		return BulkJob{}, failure.Field("file", "The file must be smaller than %d MB", MaxBulkFileBytes>>20)
	}
	if len(up.Data) == 0 {
		return BulkJob{}, failure.Field("file", "The selected file is empty")
	}
	t, err := s.bulkTemplate(ctx, serviceID, up.TemplateID)
	if err != nil {
		return BulkJob{}, err
	}
	// Only the number of rows is kept: the job's page checks the file again when shown, so
	// what it shows is always about the team, guest list and permissions of the moment.
	return s.storeBulkJob(ctx, serviceID, t, up, recipients.Read(up.Data).Rows())
}

// CheckBulkJob checks a stored job's file again, keeping up to showBad bad rows.
func (s *Service) CheckBulkJob(ctx context.Context, j BulkJob, showBad int) (BulkCheck, error) {
	data, err := s.bulkFile(ctx, j.ServiceID, j.ID)
	if err != nil {
		return BulkCheck{}, err
	}
	t, err := s.TemplateVersion(ctx, j.ServiceID, j.TemplateID, j.TemplateVersion)
	if err != nil {
		return BulkCheck{}, err
	}
	b, err := s.bulkSenderFor(ctx, j.ServiceID, t)
	if err != nil {
		return BulkCheck{}, err
	}
	return s.checkWith(ctx, b, data, showBad)
}
