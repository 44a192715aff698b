package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// Settings are a service's Notify settings. A service with no row has the defaults.
type Settings struct {
	ServiceID                  string
	RateLimit                  int // requests a minute per key type
	EmailDailyLimit            int
	SMSDailyLimit              int
	LetterDailyLimit           int
	InternationalSMSDailyLimit int
	EmailSenderName            string // empty: the service's name
	EmailSenderLocalPart       string // empty: derived from the service's name
	PrefixSMS                  bool
	ContactLink                string // needed to send files by email
	EmailRetentionDays         int
	SMSRetentionDays           int
	LetterRetentionDays        int
	// SMSToUKLandlines is GOV.UK Notify's sms_to_uk_landlines permission: without it a UK
	// landline is refused as "Not a UK mobile number", as Notify refuses it.
	SMSToUKLandlines bool
}

// DefaultSettings are GOV.UK Notify's documented limits for a live service and its default
// data retention.
func DefaultSettings(serviceID string) Settings {
	return Settings{
		ServiceID: serviceID, RateLimit: 3000,
		EmailDailyLimit: 250_000, SMSDailyLimit: 250_000, LetterDailyLimit: 20_000, InternationalSMSDailyLimit: 100,
		EmailRetentionDays: 7, SMSRetentionDays: 7, LetterRetentionDays: 7,
	}
}

// RetentionDays returns how long notifications of a channel are kept.
func (st Settings) RetentionDays(c Channel) int {
	switch c {
	case SMS:
		return st.SMSRetentionDays
	case Letter:
		return st.LetterRetentionDays
	}
	return st.EmailRetentionDays
}

// DailyLimit returns the daily limit of a channel ("international_sms" included).
func (st Settings) DailyLimit(channel string) int {
	switch channel {
	case "sms":
		return st.SMSDailyLimit
	case "letter":
		return st.LetterDailyLimit
	case "international_sms":
		return st.InternationalSMSDailyLimit
	}
	return st.EmailDailyLimit
}

const settingsColumns = `service_id, rate_limit, email_daily_limit, sms_daily_limit, letter_daily_limit,
	international_sms_daily_limit, email_sender_name, email_sender_local_part, prefix_sms, contact_link,
	email_retention_days, sms_retention_days, letter_retention_days, sms_to_uk_landlines`

// Settings returns a service's settings, or the defaults when it has none saved.
func (s *Service) Settings(ctx context.Context, serviceID string) (Settings, error) {
	st := DefaultSettings(serviceID)
	err := s.db.QueryRow(ctx, `SELECT `+settingsColumns+` FROM notify_settings WHERE service_id = ?`, serviceID).Scan(
		&st.ServiceID, &st.RateLimit, &st.EmailDailyLimit, &st.SMSDailyLimit, &st.LetterDailyLimit,
		&st.InternationalSMSDailyLimit, &st.EmailSenderName, &st.EmailSenderLocalPart, &st.PrefixSMS, &st.ContactLink,
		&st.EmailRetentionDays, &st.SMSRetentionDays, &st.LetterRetentionDays, &st.SMSToUKLandlines)
	if err != nil && !db.IsNoRows(err) {
		return Settings{}, fmt.Errorf("notify settings: %w", err)
	}
	return st, nil
}

// SaveSettings validates and stores a service's settings.
func (s *Service) SaveSettings(ctx context.Context, st Settings) error {
	var errs []error
	positive := func(field string, v int) {
		if v < 1 {
			errs = append(errs, failure.Field(field, "%s must be a whole number of 1 or more", strings.ReplaceAll(field, "_", " ")))
		}
	}
	positive("rate_limit", st.RateLimit)
	positive("email_daily_limit", st.EmailDailyLimit)
	positive("sms_daily_limit", st.SMSDailyLimit)
	positive("letter_daily_limit", st.LetterDailyLimit)
	if st.InternationalSMSDailyLimit < 0 {
		errs = append(errs, failure.Field("international_sms_daily_limit", "international sms daily limit must be 0 or more"))
	}
	for field, days := range map[string]int{"email_retention_days": st.EmailRetentionDays, "sms_retention_days": st.SMSRetentionDays, "letter_retention_days": st.LetterRetentionDays} {
		if days < 3 || days > 90 {
			errs = append(errs, failure.Field(field, "Retention must be between 3 and 90 days"))
		}
	}
	if st.ContactLink != "" && !strings.HasPrefix(st.ContactLink, "https://") && !strings.HasPrefix(st.ContactLink, "mailto:") && !strings.Contains(st.ContactLink, "@") {
		errs = append(errs, failure.Field("contact_link", "Contact link must be an https URL, an email address or a phone number"))
	}
	if len(errs) > 0 {
		return joinFieldErrors(errs)
	}
	// The settings before the change are read outside its transaction, for the audit log
	// only: a save that changes nothing writes nothing, and one that does is recorded with
	// what it changed.
	before, err := s.Settings(ctx, st.ServiceID)
	if err != nil {
		return fmt.Errorf("save notify settings: %w", err)
	}
	changes := settingsChanges(before, st)
	if len(changes) == 0 {
		return nil
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO notify_settings (`+settingsColumns+`, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (service_id) DO UPDATE SET rate_limit = excluded.rate_limit,
		email_daily_limit = excluded.email_daily_limit, sms_daily_limit = excluded.sms_daily_limit,
		letter_daily_limit = excluded.letter_daily_limit, international_sms_daily_limit = excluded.international_sms_daily_limit,
		email_sender_name = excluded.email_sender_name, email_sender_local_part = excluded.email_sender_local_part,
		prefix_sms = excluded.prefix_sms, contact_link = excluded.contact_link,
		email_retention_days = excluded.email_retention_days, sms_retention_days = excluded.sms_retention_days,
		letter_retention_days = excluded.letter_retention_days, sms_to_uk_landlines = excluded.sms_to_uk_landlines,
		updated_at = excluded.updated_at`,
			st.ServiceID, st.RateLimit, st.EmailDailyLimit, st.SMSDailyLimit, st.LetterDailyLimit,
			st.InternationalSMSDailyLimit, st.EmailSenderName, st.EmailSenderLocalPart, st.PrefixSMS, st.ContactLink,
			st.EmailRetentionDays, st.SMSRetentionDays, st.LetterRetentionDays, st.SMSToUKLandlines, s.now())
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, st.ServiceID, auditSettingsChanged, "notify_settings", st.ServiceID,
			map[string]any{"name": "Notify settings", "changes": changes})
	})
	if err != nil {
		return fmt.Errorf("save notify settings: %w", err)
	}
	s.forgetService(st.ServiceID)
	return nil
}

// day is the UTC calendar day daily limits count within.
func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
