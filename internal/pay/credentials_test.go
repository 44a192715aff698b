package pay_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/pay"
	"github.com/commons-gov/commons/internal/secret"
)

func migrateForCredentials(ctx context.Context, d *db.DB) error {
	return d.Migrate(ctx, pay.Migrations)
}

func TestCredentialsMigrationPairs(t *testing.T) {
	if err := pay.Migrations.CheckPairs(); err != nil {
		t.Fatal(err)
	}
}

func TestProviderCredentials(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, migrateForCredentials, func(t *testing.T, d *db.DB) {
		oldKey := secret.Generate()
		ring, err := secret.ParseKeyring(oldKey)
		if err != nil {
			t.Fatal(err)
		}
		creds := pay.NewCredentials(d, ring)

		if _, err := creds.ProviderCredential(ctx, "svc-a", "stripe"); !failure.Is(err, failure.NotFound) {
			t.Fatalf("before any is set: want NotFound, got %v", err)
		}
		if err := creds.SetProviderCredentials(ctx, "svc-a", "stripe", "  sk_test_first\n"); err != nil {
			t.Fatal(err)
		}
		if got, err := creds.ProviderCredential(ctx, "svc-a", "stripe"); err != nil || got != "sk_test_first" {
			t.Fatalf("read back: %q %v", got, err)
		}

		// At rest the secret is sealed and the sealing key is named.
		var sealed, keyID string
		if err := d.QueryRow(ctx, `SELECT sealed_secret, key_id FROM pay_provider_credentials
			WHERE service_id = ? AND provider = ?`, "svc-a", "stripe").Scan(&sealed, &keyID); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sealed, "sk_test_first") || keyID != ring.Current() {
			t.Fatalf("stored %q under key %q", sealed, keyID)
		}

		// A second save replaces the first.
		if err := creds.SetProviderCredentials(ctx, "svc-a", "stripe", "sk_test_second"); err != nil {
			t.Fatal(err)
		}
		if got, _ := creds.ProviderCredential(ctx, "svc-a", "stripe"); got != "sk_test_second" {
			t.Fatalf("after replacing: %q", got)
		}

		// Another service, or another provider of the same service, sees nothing.
		if _, err := creds.ProviderCredential(ctx, "svc-b", "stripe"); !failure.Is(err, failure.NotFound) {
			t.Fatalf("other service: want NotFound, got %v", err)
		}
		if _, err := creds.ProviderCredential(ctx, "svc-a", "worldpay"); !failure.Is(err, failure.NotFound) {
			t.Fatalf("other provider: want NotFound, got %v", err)
		}

		// A sealed value copied into another service's row does not open there.
		if _, err := d.Exec(ctx, `INSERT INTO pay_provider_credentials (service_id, provider, sealed_secret, key_id, updated_at)
			SELECT 'svc-b', provider, sealed_secret, key_id, updated_at FROM pay_provider_credentials
			WHERE service_id = 'svc-a'`); err != nil {
			t.Fatal(err)
		}
		got, err := pay.NewCredentials(d, ring).ProviderCredential(ctx, "svc-b", "stripe")
		if err == nil || failure.Is(err, failure.NotFound) || got != "" {
			t.Fatalf("copied row opened: %q %v", got, err)
		}
		if strings.Contains(err.Error(), "sk_test") {
			t.Fatalf("error shows the secret: %v", err)
		}

		// After a rotation the old value still opens, and new values use the new key.
		rotated, err := secret.ParseKeyring(secret.Generate() + "," + oldKey)
		if err != nil {
			t.Fatal(err)
		}
		creds = pay.NewCredentials(d, rotated)
		if got, err := creds.ProviderCredential(ctx, "svc-a", "stripe"); err != nil || got != "sk_test_second" {
			t.Fatalf("after rotation: %q %v", got, err)
		}
		if err := creds.SetProviderCredentials(ctx, "svc-a", "stripe", "sk_test_third"); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRow(ctx, `SELECT key_id FROM pay_provider_credentials WHERE service_id = 'svc-a'`).Scan(&keyID); err != nil || keyID != rotated.Current() {
			t.Fatalf("resealed under %q (%v), want %q", keyID, err, rotated.Current())
		}

		// Removing forgets; removing again is fine.
		for range 2 {
			if err := creds.RemoveProviderCredentials(ctx, "svc-a", "stripe"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := creds.ProviderCredential(ctx, "svc-a", "stripe"); !failure.Is(err, failure.NotFound) {
			t.Fatalf("after removal: want NotFound, got %v", err)
		}
	})
}

func TestProviderCredentialsRefuseBlanks(t *testing.T) {
	ring, err := secret.ParseKeyring(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	creds := pay.NewCredentials(nil, ring) // refused before the database is touched
	for _, c := range []struct{ service, provider, secret, field string }{
		{"", "stripe", "sk_test_x", "service_id"},
		{"svc", "", "sk_test_x", "provider"},
		{"svc", "stripe", " \t", "secret"},
	} {
		err := creds.SetProviderCredentials(context.Background(), c.service, c.provider, c.secret)
		var fe *failure.Error
		if !failure.Is(err, failure.Invalid) || !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: got %v", c, err)
		}
	}
}
