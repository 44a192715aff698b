package app

import (
	"context"
	"errors"
	"net/http"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify"
	"github.com/commons-gov/commons/internal/pay"
)

// payWebhooks is what Pay's webhooks and confirmation emails need from the rest of Commons:
// the secret key to seal signing secrets with, Notify to send the emails, and the audit log.
func (a *App) payWebhooks() pay.WebhooksConfig {
	cfg := pay.WebhooksConfig{Emailer: payEmailer{n: a.Notify}, Audit: a.Platform}
	if a.cfg.Keyring != nil {
		cfg.Sealer = a.cfg.Keyring
	}
	return cfg
}

// payEmailer sends Pay's confirmation emails through Notify's Go API, as the service, so that
// Notify's own rules (trial mode, daily limits, the template's placeholders) apply.
type payEmailer struct{ n *notify.Service }

// SendEmail sends one email. Notify's refusals are returned as Invalid failures, which Pay does
// not try again; a rate limit or a fault on Notify's side is returned as it is, and retried.
func (e payEmailer) SendEmail(ctx context.Context, serviceID, templateID, to string, personalisation map[string]string, reference string) error {
	fields := make(map[string]any, len(personalisation))
	for k, v := range personalisation {
		fields[k] = v
	}
	_, err := e.n.SendEmail(ctx, serviceID, templateID, to, fields, notify.WithReference(reference))
	var refused *notify.SendError
	if errors.As(err, &refused) && refused.Status < http.StatusInternalServerError && refused.Status != http.StatusTooManyRequests {
		return failure.Wrap(failure.Invalid, err, "Notify refused the email: %s", refused.Message)
	}
	return err
}
