package app

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/secret"
)

func parseServe(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	var s Settings
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	s.BindStorage(fs)
	s.BindServe(fs)
	return s.Parse(args)
}

func clearEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "COMMONS_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

func TestDefaultsAreDevelopmentOnSQLite(t *testing.T) {
	clearEnv(t)
	c, err := parseServe(t)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev || c.DatabaseURL != "sqlite:"+filepath.Join("commons-data", "commons.db") || c.Addr != "localhost:8080" ||
		c.BaseURL != "http://localhost:8080" || c.Role != "all" {
		t.Fatalf("defaults = %+v", c)
	}
}

// productionProviders sets the delivery settings production requires.
func productionProviders(t *testing.T) {
	t.Setenv("COMMONS_SMTP_URL", "smtp://user:pass@smtp.example.gov.uk:587")
	t.Setenv("COMMONS_EMAIL_FROM_DOMAIN", "notifications.example.gov.uk")
	t.Setenv("COMMONS_SMS_PROVIDER_URL", "https://sms.example.com/send")
	t.Setenv("COMMONS_SMS_PROVIDER_TOKEN", "token")
	t.Setenv("COMMONS_SMS_CALLBACK_SECRET", "a-shared-secret-of-16+")
}

func TestProductionNeedsProviders(t *testing.T) {
	clearEnv(t)
	t.Setenv("COMMONS_SECRET_KEY", secret.Generate())
	_, err := parseServe(t)
	var u *UsageError
	if !errors.As(err, &u) || !strings.Contains(u.Msg, "COMMONS_SMTP_URL") {
		t.Fatalf("production without providers: %v", err)
	}
	productionProviders(t)
	c, err := parseServe(t)
	if err != nil || c.Dev || c.SMTPURL == "" {
		t.Fatalf("production with providers: %+v %v", c, err)
	}
}

func TestEnvironmentTwinsAndFlagsWin(t *testing.T) {
	clearEnv(t)
	productionProviders(t)
	key := secret.Generate()
	t.Setenv("COMMONS_ADDR", "127.0.0.1:9000")
	t.Setenv("COMMONS_SECRET_KEY", key)
	t.Setenv("COMMONS_ROLE", "worker")
	c, err := parseServe(t, "--role", "api")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.Role != "api" || c.Dev || c.Keyring == nil || c.BaseURL != "http://127.0.0.1:9000" {
		t.Fatalf("config = %+v", c)
	}
	// A secret key given makes production the default; --dev still turns development on.
	if c, err = parseServe(t, "--dev"); err != nil || !c.Dev {
		t.Fatalf("--dev: %+v %v", c, err)
	}
}

func TestSecretFromFile(t *testing.T) {
	clearEnv(t)
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(secret.Generate()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COMMONS_SECRET_KEY_FILE", path)
	productionProviders(t)
	c, err := parseServe(t)
	if err != nil || c.Keyring == nil || c.Dev {
		t.Fatalf("config from file: %+v %v", c, err)
	}
}

func TestBadSettingsAreUsageErrors(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{
		{"--database", "sqlite:"},
		{"--database", "redis://x"},
		{"--role", "both"},
		{"--addr", "nowhere"},
		{"--base-url", "ftp://x"},
		{"--log-format", "xml"},
		{"--log-level", "loud"},
		{"--dev=false"},
		{"--secret-key", "tooshort"},
		{"--dev=perhaps"},
		{"extra"},
	} {
		_, err := parseServe(t, args...)
		var u *UsageError
		if !errors.As(err, &u) || strings.Contains(u.Msg, "\n") {
			t.Errorf("%v: got %v, want a one-line usage error", args, err)
		}
	}
}

func TestDevSecretKeyIsMadeOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	c := Config{Dev: true, DataDir: dir}
	if err := c.LoadDevSecretKey(); err != nil || !c.GeneratedSecretKey {
		t.Fatalf("first load: %v generated=%v", err, c.GeneratedSecretKey)
	}
	sealed := c.Keyring.Encrypt([]byte("hello"), nil)
	again := Config{Dev: true, DataDir: dir}
	if err := again.LoadDevSecretKey(); err != nil || again.GeneratedSecretKey {
		t.Fatalf("second load: %v generated=%v", err, again.GeneratedSecretKey)
	}
	if plain, err := again.Keyring.Decrypt(sealed, nil); err != nil || string(plain) != "hello" {
		t.Fatalf("the kept key does not open what the first one sealed: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, "secret-key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret key file: %v mode %v", err, info.Mode())
	}
}

func TestMigrationsPairAcrossEngines(t *testing.T) {
	for _, m := range Migrations() {
		if err := m.CheckPairs(); err != nil {
			t.Error(err)
		}
	}
}

// The mail system's secret is optional; when given it must be long enough, and it may come
// from a file like the other secrets.
func TestEmailCallbackSecret(t *testing.T) {
	clearEnv(t)
	c, err := parseServe(t)
	if err != nil || c.EmailCallbackSecret != "" {
		t.Fatalf("without it: %q %v", c.EmailCallbackSecret, err)
	}
	_, err = parseServe(t, "--email-callback-secret", "too-short")
	var u *UsageError
	if !errors.As(err, &u) || !strings.Contains(u.Msg, "COMMONS_EMAIL_CALLBACK_SECRET") {
		t.Fatalf("a short secret: %v", err)
	}
	path := filepath.Join(t.TempDir(), "email-secret")
	if err := os.WriteFile(path, []byte("a-mail-system-secret-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COMMONS_EMAIL_CALLBACK_SECRET_FILE", path)
	if c, err = parseServe(t); err != nil || c.EmailCallbackSecret != "a-mail-system-secret-1" {
		t.Fatalf("from a file: %q %v", c.EmailCallbackSecret, err)
	}
}
