package notify

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// Callback types a service can subscribe to (notify.md §7).
const (
	CallbackDeliveryStatus = "delivery_status"
	CallbackInboundSMS     = "inbound_sms"
	CallbackReturnedLetter = "returned_letter"
	CallbackComplaint      = "complaint"
)

// CallbackTypes lists them in display order.
var CallbackTypes = []string{CallbackDeliveryStatus, CallbackInboundSMS, CallbackReturnedLetter, CallbackComplaint}

// Callback is where Notify tells a service about one kind of event.
type Callback struct {
	ServiceID   string
	Type        string
	URL         string
	BearerToken string // decrypted; never shown back in full
}

func validCallbackType(t string) bool {
	for _, c := range CallbackTypes {
		if c == t {
			return true
		}
	}
	return false
}

// SetCallback saves a service's callback of one type. The URL must be https (outside
// development mode, where a team may point it at their laptop) and the bearer token at least
// 10 characters, as GOV.UK Notify requires. The token is stored encrypted.
func (s *Service) SetCallback(ctx context.Context, c Callback) error {
	var errs []error
	if !validCallbackType(c.Type) {
		errs = append(errs, failure.Field("callback_type", "Callback type must be one of %s", strings.Join(CallbackTypes, ", ")))
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		errs = append(errs, failure.Field("url", "Enter a URL that starts with https://"))
	case u.Scheme != "https" && !s.cfg.Dev:
		errs = append(errs, failure.Field("url", "Enter a URL that starts with https://"))
	}
	if len(c.BearerToken) < 10 {
		errs = append(errs, failure.Field("bearer_token", "Bearer token must be at least 10 characters"))
	}
	if len(errs) > 0 {
		return joinFieldErrors(errs)
	}
	sealed := s.cfg.Keyring.Encrypt([]byte(c.BearerToken), []byte(c.ServiceID+"/"+c.Type))
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO notify_callbacks (service_id, callback_type, url, bearer_token_sealed, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (service_id, callback_type) DO UPDATE SET url = excluded.url,
			bearer_token_sealed = excluded.bearer_token_sealed, updated_at = excluded.updated_at`,
			c.ServiceID, c.Type, c.URL, sealed, s.now()); err != nil {
			return err
		}
		// The bearer token is a secret and never goes in the log.
		return s.audit(ctx, tx, c.ServiceID, auditCallbackSaved, "callback", c.Type,
			map[string]any{"name": callbackTypeLabel(c.Type), "url": auditURL(c.URL)})
	})
	if err != nil {
		return fmt.Errorf("save callback: %w", err)
	}
	return nil
}

// RemoveCallback stops a service's callback of one type. Removing one that is not set changes
// nothing and records nothing.
func (s *Service) RemoveCallback(ctx context.Context, serviceID, callbackType string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM notify_callbacks WHERE service_id = ? AND callback_type = ?`, serviceID, callbackType)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return s.audit(ctx, tx, serviceID, auditCallbackRemoved, "callback", callbackType,
			map[string]any{"name": callbackTypeLabel(callbackType)})
	})
}

// Callbacks returns a service's callbacks with their tokens decrypted.
func (s *Service) Callbacks(ctx context.Context, serviceID string) ([]Callback, error) {
	return s.callbacks(ctx, s.db, serviceID, "")
}

// CallbackFor returns the service's callback of one type; ok is false when none is set.
func (s *Service) CallbackFor(ctx context.Context, q db.Querier, serviceID, callbackType string) (Callback, bool, error) {
	all, err := s.callbacks(ctx, q, serviceID, callbackType)
	if err != nil || len(all) == 0 {
		return Callback{}, false, err
	}
	return all[0], true, nil
}

func (s *Service) callbacks(ctx context.Context, q db.Querier, serviceID, only string) ([]Callback, error) {
	query := `SELECT service_id, callback_type, url, bearer_token_sealed FROM notify_callbacks WHERE service_id = ?`
	args := []any{serviceID}
	if only != "" {
		query += ` AND callback_type = ?`
		args = append(args, only)
	}
	rows, err := q.Query(ctx, query+` ORDER BY callback_type`, args...)
	if err != nil {
		return nil, fmt.Errorf("callbacks: %w", err)
	}
	defer rows.Close()
	var out []Callback
	for rows.Next() {
		var c Callback
		var sealed string
		if err := rows.Scan(&c.ServiceID, &c.Type, &c.URL, &sealed); err != nil {
			return nil, err
		}
		token, err := s.cfg.Keyring.Decrypt(sealed, []byte(c.ServiceID+"/"+c.Type))
		if err != nil {
			return nil, fmt.Errorf("callback token for %s: %w", c.Type, err)
		}
		c.BearerToken = string(token)
		out = append(out, c)
	}
	return out, rows.Err()
}
