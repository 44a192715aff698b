package pay

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// Provider credentials: each service brings its own account with a real payment provider (its
// Stripe secret key, say), so an adapter looks up the calling service's secret on every call.
// Secrets are sealed at rest with Commons' secret key and never appear in logs or errors.

// Sealer encrypts values at rest. *secret.Keyring is one; taking an interface keeps key loading
// and rotation out of this package.
type Sealer interface {
	// Encrypt seals plain, bound to additional (which must be given again to open it).
	Encrypt(plain, additional []byte) string
	// Decrypt opens a value made by Encrypt under any key the sealer still holds.
	Decrypt(sealed string, additional []byte) ([]byte, error)
	// Current names the key Encrypt uses now, recorded so that values sealed under an older
	// key can be found and sealed again after a rotation.
	Current() string
}

// Credentials stores each service's secret for each payment provider, in
// pay_provider_credentials. It stands apart from Service because provider adapters read it and
// must exist before the Service they are registered with (Config.Providers).
type Credentials struct {
	db     *db.DB
	sealer Sealer
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// NewCredentials returns the credential store on d, sealing with sealer.
func NewCredentials(d *db.DB, sealer Sealer) *Credentials {
	return &Credentials{db: d, sealer: sealer, Now: time.Now}
}

// credentialContext binds a sealed secret to its row, so that a value copied to another service
// or provider does not open there. NUL cannot occur in either id, so no two rows share it.
func credentialContext(serviceID, provider string) []byte {
	return []byte("pay_provider_credentials\x00" + serviceID + "\x00" + provider)
}

// SetProviderCredentials seals and saves a service's secret for a provider, replacing any
// earlier one. Surrounding white space is dropped: secrets are usually pasted.
func (c *Credentials) SetProviderCredentials(ctx context.Context, serviceID, provider, secret string) error {
	secret = strings.TrimSpace(secret)
	switch {
	case serviceID == "":
		return failure.Field("service_id", "Choose a service")
	case provider == "":
		return failure.Field("provider", "Choose a payment provider")
	case secret == "":
		return failure.Field("secret", "Enter the payment provider's secret key")
	}
	sealed := c.sealer.Encrypt([]byte(secret), credentialContext(serviceID, provider))
	_, err := c.db.Exec(ctx, `INSERT INTO pay_provider_credentials (service_id, provider, sealed_secret, key_id, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (service_id, provider) DO UPDATE SET sealed_secret = excluded.sealed_secret,
		key_id = excluded.key_id, updated_at = excluded.updated_at`,
		serviceID, provider, sealed, c.sealer.Current(), c.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return web.Unavailable(fmt.Errorf("pay: save %s credentials: %w", provider, err))
	}
	return nil
}

// ProviderCredential returns a service's secret for a provider: a NotFound error when the
// service has not given one.
func (c *Credentials) ProviderCredential(ctx context.Context, serviceID, provider string) (string, error) {
	var sealed string
	err := c.db.QueryRow(ctx, `SELECT sealed_secret FROM pay_provider_credentials WHERE service_id = ? AND provider = ?`,
		serviceID, provider).Scan(&sealed)
	switch {
	case db.IsNoRows(err):
		return "", failure.New(failure.NotFound, "This service has no %s account details", provider)
	case err != nil:
		return "", web.Unavailable(fmt.Errorf("pay: read %s credentials: %w", provider, err))
	}
	plain, err := c.sealer.Decrypt(sealed, credentialContext(serviceID, provider))
	if err != nil {
		// Internal: the secret key that sealed it is missing from COMMONS_SECRET_KEY, or the row
		// was altered. Only the operator can fix either.
		return "", fmt.Errorf("pay: open %s credentials of service %s: %w", provider, serviceID, err)
	}
	return string(plain), nil
}

// RemoveProviderCredentials forgets a service's secret for a provider (a revoked key, or a
// service moving to another provider). Removing one that is not there is not an error.
func (c *Credentials) RemoveProviderCredentials(ctx context.Context, serviceID, provider string) error {
	if _, err := c.db.Exec(ctx, `DELETE FROM pay_provider_credentials WHERE service_id = ? AND provider = ?`,
		serviceID, provider); err != nil {
		return web.Unavailable(fmt.Errorf("pay: remove %s credentials: %w", provider, err))
	}
	return nil
}
