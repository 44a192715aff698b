package pay

import (
	"context"
	"fmt"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// Settings are a service's Pay settings: what GOV.UK Pay keeps on a gateway account. A service
// without a row has the defaults: the sandbox, no MOTO, no zero amounts, no recurring payments.
type Settings struct {
	// Provider takes live payments (test payments always use the sandbox).
	Provider string
	// MOTOEnabled allows moto: true (mail order / telephone order payments).
	MOTOEnabled bool
	// MOTOAPIEnabled allows authorisation_mode moto_api: card details sent to POST /v1/auth.
	MOTOAPIEnabled bool
	// AllowZeroAmount allows payments of 0p (to check a card).
	AllowZeroAmount bool
	// RecurringEnabled allows agreements and agreement-mode payments.
	RecurringEnabled bool
	// RateLimit is the service's own rate limit, POST requests a second per bucket; 0 means
	// GOV.UK Pay's. SetSettings leaves it alone; SetRateLimit sets it.
	RateLimit int
}

// DefaultSettings are a service's settings until changed.
var DefaultSettings = Settings{Provider: SandboxName}

// Settings returns a service's Pay settings.
func (s *Service) Settings(ctx context.Context, serviceID string) (Settings, error) {
	st := DefaultSettings
	err := s.db.QueryRow(ctx, `SELECT provider, moto_enabled, moto_api_enabled, allow_zero_amount, recurring_enabled,
		rate_limit FROM pay_settings WHERE service_id = ?`, serviceID).
		Scan(&st.Provider, &st.MOTOEnabled, &st.MOTOAPIEnabled, &st.AllowZeroAmount, &st.RecurringEnabled, &st.RateLimit)
	if err != nil && !db.IsNoRows(err) {
		return st, web.Unavailable(fmt.Errorf("pay: read settings: %w", err))
	}
	return st, nil
}

// SetSettings replaces a service's Pay settings. The provider must be one this node knows.
func (s *Service) SetSettings(ctx context.Context, serviceID string, st Settings) error {
	if _, ok := s.provider(st.Provider); !ok {
		return failure.Field("provider", "Choose a payment provider Commons is configured for")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO pay_settings (service_id, provider, moto_enabled, moto_api_enabled,
		allow_zero_amount, recurring_enabled, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (service_id) DO UPDATE SET provider = excluded.provider, moto_enabled = excluded.moto_enabled,
		moto_api_enabled = excluded.moto_api_enabled, allow_zero_amount = excluded.allow_zero_amount,
		recurring_enabled = excluded.recurring_enabled, updated_at = excluded.updated_at`,
		serviceID, st.Provider, st.MOTOEnabled, st.MOTOAPIEnabled, st.AllowZeroAmount, st.RecurringEnabled, s.now())
	s.forgetSettings(serviceID)
	if err != nil {
		return web.Unavailable(fmt.Errorf("pay: save settings: %w", err))
	}
	return nil
}
