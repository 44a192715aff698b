package pay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// The webhooks a service keeps: made, changed, switched off and on, and their signing secrets
// renewed. Every query names the service, so a webhook id from another service is not found;
// every change is written to the audit log in its own transaction.

// Audit actions.
const (
	auditWebhookCreated       = "pay.webhook.created"
	auditWebhookUpdated       = "pay.webhook.updated"
	auditWebhookActivated     = "pay.webhook.activated"
	auditWebhookDeactivated   = "pay.webhook.deactivated"
	auditWebhookSecretRotated = "pay.webhook.secret_rotated"
	auditConfirmationEmail    = "pay.confirmation_email.changed"
)

func errWebhookNotFound() error { return failure.New(failure.NotFound, "Webhook not found") }

// errNoWebhookSealer is a node assembled without a secret key: it cannot keep signing secrets.
var errNoWebhookSealer = errors.New("pay: webhooks need a sealer for their signing secrets")

// auditWebhook writes a change to a webhook in the audit log, as the actor on ctx. The URL is
// recorded without its query, which may carry a token of the service's; the secret never is.
func (s *Service) auditWebhook(ctx context.Context, tx *db.Tx, w Webhook, action string, extra map[string]any) error {
	details := map[string]any{"name": webhookAuditURL(w.CallbackURL), "live": w.Live}
	for k, v := range extra {
		details[k] = v
	}
	return s.webhookAudit(ctx, tx, w.ServiceID, action, "webhook", w.ID, details)
}

func (s *Service) webhookAudit(ctx context.Context, tx *db.Tx, serviceID, action, targetType, targetID string, details map[string]any) error {
	if s.cfg.Webhooks.Audit == nil {
		return nil
	}
	actor, ok := platform.ActorFrom(ctx)
	if !ok {
		actor = platform.SystemActor
	}
	return s.cfg.Webhooks.Audit.Record(ctx, tx, actor, platform.AuditEntry{ServiceID: serviceID, Action: action,
		TargetType: targetType, TargetID: targetID, Details: details})
}

func webhookAuditURL(raw string) string {
	u, _, _ := strings.Cut(raw, "?")
	return u
}

// CreateWebhook makes an active webhook for a service's live or test payments, and returns it
// with its signing secret.
func (s *Service) CreateWebhook(ctx context.Context, serviceID string, live bool, in WebhookInput) (Webhook, string, error) {
	subs, err := s.checkWebhookInput(in, live)
	if err != nil {
		return Webhook{}, "", err
	}
	if s.cfg.Webhooks.Sealer == nil {
		return Webhook{}, "", errNoWebhookSealer
	}
	now := s.now()
	w := Webhook{ID: NewID(), ServiceID: serviceID, Live: live, CallbackURL: in.CallbackURL,
		Description: strings.TrimSpace(in.Description), Subscriptions: subs, Status: WebhookActive, CreatedAt: now, UpdatedAt: now}
	secret := newSigningSecret(live)
	sealer := s.cfg.Webhooks.Sealer
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM pay_webhooks WHERE service_id = ? AND live = ?`, serviceID, live).Scan(&n); err != nil {
			return err
		}
		if n >= MaxWebhooks {
			return failure.New(failure.Conflict, "A service can have at most %d webhooks for its %s payments", MaxWebhooks, webhookModeWord(live))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pay_webhooks (id, service_id, live, callback_url, description, status,
			sealed_secret, key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.ServiceID, w.Live, w.CallbackURL, w.Description, w.Status,
			sealer.Encrypt([]byte(secret), webhookSecretContext(serviceID, w.ID)), sealer.Current(), now, now); err != nil {
			return err
		}
		if err := saveWebhookSubscriptions(ctx, tx, w.ID, subs); err != nil {
			return err
		}
		return s.auditWebhook(ctx, tx, w, auditWebhookCreated, map[string]any{"subscriptions": subs})
	})
	if err != nil {
		return Webhook{}, "", webhookStoreError("create webhook", err)
	}
	return w, secret, nil
}

func webhookModeWord(live bool) string {
	if live {
		return "live"
	}
	return "test"
}

// webhookStoreError keeps a failure's kind and marks database outages as such.
func webhookStoreError(op string, err error) error {
	var f *failure.Error
	if errors.As(err, &f) {
		return err
	}
	return web.Unavailable(fmt.Errorf("pay: %s: %w", op, err))
}

// checkWebhookInput checks everything a new webhook says, reporting every fault at once.
func (s *Service) checkWebhookInput(in WebhookInput, live bool) ([]string, error) {
	var errs []error
	if err := s.checkCallbackURL(in.CallbackURL, live); err != nil {
		errs = append(errs, err)
	}
	if err := checkWebhookDescription(strings.TrimSpace(in.Description)); err != nil {
		errs = append(errs, err)
	}
	subs, err := checkWebhookSubscriptions(in.Subscriptions)
	if err != nil {
		errs = append(errs, err)
	}
	return subs, errors.Join(errs...)
}

func saveWebhookSubscriptions(ctx context.Context, tx *db.Tx, webhookID string, subs []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM pay_webhook_subscriptions WHERE webhook_id = ?`, webhookID); err != nil {
		return err
	}
	for _, t := range subs {
		if _, err := tx.Exec(ctx, `INSERT INTO pay_webhook_subscriptions (webhook_id, event_type) VALUES (?, ?)`, webhookID, t); err != nil {
			return err
		}
	}
	return nil
}

const webhookColumns = "id, service_id, live, callback_url, description, status, created_at, updated_at"

func scanWebhook(row scanner) (Webhook, error) {
	var w Webhook
	if err := row.Scan(&w.ID, &w.ServiceID, &w.Live, &w.CallbackURL, &w.Description, &w.Status, &w.CreatedAt, &w.UpdatedAt); err != nil {
		return Webhook{}, err
	}
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return w, nil
}

// Webhooks lists a service's webhooks, live ones first, then oldest first.
func (s *Service) Webhooks(ctx context.Context, serviceID string) ([]Webhook, error) {
	rows, err := s.db.Query(ctx, "SELECT "+webhookColumns+` FROM pay_webhooks WHERE service_id = ?
		ORDER BY live DESC, created_at, id`, serviceID)
	if err != nil {
		return nil, webhookStoreError("list webhooks", err)
	}
	var out []Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			rows.Close()
			return nil, webhookStoreError("list webhooks", err)
		}
		out = append(out, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, webhookStoreError("list webhooks", err)
	}
	for i := range out {
		if out[i].Subscriptions, err = webhookSubscriptionsOf(ctx, s.db, out[i].ID); err != nil {
			return nil, webhookStoreError("list webhooks", err)
		}
	}
	return out, nil
}

// Webhook returns one of a service's webhooks.
func (s *Service) Webhook(ctx context.Context, serviceID, id string) (Webhook, error) {
	return s.webhook(ctx, s.db, serviceID, id)
}

func (s *Service) webhook(ctx context.Context, q db.Querier, serviceID, id string) (Webhook, error) {
	if !validID(id) {
		return Webhook{}, errWebhookNotFound()
	}
	w, err := scanWebhook(q.QueryRow(ctx, "SELECT "+webhookColumns+" FROM pay_webhooks WHERE id = ? AND service_id = ?", id, serviceID))
	if db.IsNoRows(err) {
		return Webhook{}, errWebhookNotFound()
	}
	if err == nil {
		w.Subscriptions, err = webhookSubscriptionsOf(ctx, q, id)
	}
	if err != nil {
		return Webhook{}, webhookStoreError("read webhook", err)
	}
	return w, nil
}

func webhookSubscriptionsOf(ctx context.Context, q db.Querier, webhookID string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT event_type FROM pay_webhook_subscriptions WHERE webhook_id = ?`, webhookID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		got = append(got, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	for _, t := range WebhookEventTypes { // a stable order, whatever the database returns
		for _, g := range got {
			if g == t {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// UpdateWebhook changes a webhook's URL, description, subscriptions or status. A webhook being
// made active has its URL checked against today's rules.
func (s *Service) UpdateWebhook(ctx context.Context, serviceID, id string, u WebhookUpdate) (Webhook, error) {
	var out Webhook
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		w, err := s.webhook(ctx, tx, serviceID, id)
		if err != nil {
			return err
		}
		before := w
		var errs []error
		if u.CallbackURL != nil {
			w.CallbackURL = *u.CallbackURL
		}
		if u.Status != nil {
			if *u.Status != WebhookActive && *u.Status != WebhookInactive {
				errs = append(errs, failure.Field("status", "Status must be active or inactive"))
			} else {
				w.Status = *u.Status
			}
		}
		if u.CallbackURL != nil || (w.Active() && !before.Active()) {
			if err := s.checkCallbackURL(w.CallbackURL, w.Live); err != nil {
				errs = append(errs, err)
			}
		}
		if u.Description != nil {
			w.Description = strings.TrimSpace(*u.Description)
			if err := checkWebhookDescription(w.Description); err != nil {
				errs = append(errs, err)
			}
		}
		if u.Subscriptions != nil {
			subs, err := checkWebhookSubscriptions(*u.Subscriptions)
			if err != nil {
				errs = append(errs, err)
			}
			w.Subscriptions = subs
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		w.UpdatedAt = s.now()
		if _, err := tx.Exec(ctx, `UPDATE pay_webhooks SET callback_url = ?, description = ?, status = ?, updated_at = ?
			WHERE id = ? AND service_id = ?`, w.CallbackURL, w.Description, w.Status, w.UpdatedAt, w.ID, serviceID); err != nil {
			return err
		}
		if u.Subscriptions != nil {
			if err := saveWebhookSubscriptions(ctx, tx, w.ID, w.Subscriptions); err != nil {
				return err
			}
		}
		out = w
		return s.auditWebhookChange(ctx, tx, before, w)
	})
	if err != nil {
		return Webhook{}, webhookStoreError("update webhook", err)
	}
	return out, nil
}

// auditWebhookChange records an update: a change of status as its own action, anything else as
// an edit, so the log reads as what the person did.
func (s *Service) auditWebhookChange(ctx context.Context, tx *db.Tx, before, after Webhook) error {
	if before.Status != after.Status {
		action := auditWebhookDeactivated
		if after.Active() {
			action = auditWebhookActivated
		}
		if err := s.auditWebhook(ctx, tx, after, action, nil); err != nil {
			return err
		}
	}
	changed := map[string]any{}
	if before.CallbackURL != after.CallbackURL {
		changed["previous_url"] = webhookAuditURL(before.CallbackURL)
	}
	if before.Description != after.Description {
		changed["description"] = after.Description
	}
	if strings.Join(before.Subscriptions, ",") != strings.Join(after.Subscriptions, ",") {
		changed["subscriptions"] = after.Subscriptions
	}
	if len(changed) == 0 {
		return nil
	}
	return s.auditWebhook(ctx, tx, after, auditWebhookUpdated, changed)
}

// DeactivateWebhook stops messages to a webhook; messages already queued are not sent
// (WILL_NOT_SEND).
func (s *Service) DeactivateWebhook(ctx context.Context, serviceID, id string) (Webhook, error) {
	inactive := WebhookInactive
	return s.UpdateWebhook(ctx, serviceID, id, WebhookUpdate{Status: &inactive})
}

// WebhookSecret returns a webhook's signing secret.
func (s *Service) WebhookSecret(ctx context.Context, serviceID, id string) (string, error) {
	if _, err := s.Webhook(ctx, serviceID, id); err != nil {
		return "", err
	}
	var sealed string
	if err := s.db.QueryRow(ctx, `SELECT sealed_secret FROM pay_webhooks WHERE id = ? AND service_id = ?`, id, serviceID).Scan(&sealed); err != nil {
		return "", webhookStoreError("read signing secret", err)
	}
	return s.openWebhookSecret(serviceID, id, sealed)
}

func (s *Service) openWebhookSecret(serviceID, id, sealed string) (string, error) {
	if s.cfg.Webhooks.Sealer == nil {
		return "", errNoWebhookSealer
	}
	plain, err := s.cfg.Webhooks.Sealer.Decrypt(sealed, webhookSecretContext(serviceID, id))
	if err != nil {
		// The key that sealed it is no longer configured, or the row was altered: only the
		// operator can fix either.
		return "", fmt.Errorf("pay: open signing secret of webhook %s: %w", id, err)
	}
	return string(plain), nil
}

// RotateWebhookSecret gives a webhook a new signing secret and returns it. Messages sent from
// then on, retries included, are signed with the new one only.
func (s *Service) RotateWebhookSecret(ctx context.Context, serviceID, id string) (string, error) {
	if s.cfg.Webhooks.Sealer == nil {
		return "", errNoWebhookSealer
	}
	var secret string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		w, err := s.webhook(ctx, tx, serviceID, id)
		if err != nil {
			return err
		}
		secret = newSigningSecret(w.Live)
		sealer := s.cfg.Webhooks.Sealer
		if _, err := tx.Exec(ctx, `UPDATE pay_webhooks SET sealed_secret = ?, key_id = ?, updated_at = ? WHERE id = ? AND service_id = ?`,
			sealer.Encrypt([]byte(secret), webhookSecretContext(serviceID, id)), sealer.Current(), s.now(), id, serviceID); err != nil {
			return err
		}
		return s.auditWebhook(ctx, tx, w, auditWebhookSecretRotated, nil)
	})
	if err != nil {
		return "", webhookStoreError("rotate signing secret", err)
	}
	return secret, nil
}
