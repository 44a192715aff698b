package app

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/secret"
)

// Config is every setting of `commons serve`. Each has a flag and an environment twin
// COMMONS_<FLAG>; secrets also have a COMMONS_<FLAG>_FILE twin naming a file that holds them.
type Config struct {
	Addr            string
	DatabaseURL     string
	BaseURL         string
	Role            string // all, api or worker
	Dev             bool
	DataDir         string
	SecretKey       string
	AdminEmail      string
	LogFormat       string // json or text
	LogLevel        string
	ShutdownTimeout time.Duration

	// Delivery providers for Notify; development mode needs none of them.
	SMTPURL           string
	EmailFromDomain   string
	SMSProviderURL    string
	SMSProviderToken  string
	SMSCallbackSecret string
	// EmailCallbackSecret authenticates the mail system's bounces and complaints; optional:
	// without it the endpoint refuses every report.
	EmailCallbackSecret string

	// Keyring is SecretKey parsed; set by Resolve.
	Keyring *secret.Keyring
	// GeneratedSecretKey is true when development mode made the key (and saved it in DataDir).
	GeneratedSecretKey bool
}

// UsageError is a problem with the settings: the command prints it on one line and exits 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// Settings binds Config's fields to flags on fs. dev is a tri-state: unset means "development
// mode unless production settings are given".
type Settings struct {
	Config
	devFlag triBool
	fs      *flag.FlagSet
	secret  []string // flags whose _FILE twin is honoured
	serving bool     // the command is serve, which needs delivery settings outside development
}

// BindStorage registers the settings every command needs to reach the database.
func (s *Settings) BindStorage(fs *flag.FlagSet) {
	s.fs = fs
	fs.StringVar(&s.DatabaseURL, "database", "", "database URL: sqlite:PATH or postgres://USER@HOST:PORT/NAME (default sqlite:<data-dir>/commons.db)")
	fs.StringVar(&s.DataDir, "data-dir", "commons-data", "folder for the SQLite database and, in development mode, the generated secret key")
	fs.StringVar(&s.SecretKey, "secret-key", "", "key that encrypts secrets at rest: 32 random bytes in base64, or ID:BASE64,... with the current key first (required outside development mode)")
	fs.Var(&s.devFlag, "dev", "development mode: messages go to the console outbox and a secret key is generated (default true unless a secret key is given)")
	fs.StringVar(&s.BaseURL, "base-url", "", "public URL of this Commons, used in links (default http://<addr>)")
	s.secret = []string{"secret-key", "database"}
}

// BindServe registers the settings only `commons serve` has.
func (s *Settings) BindServe(fs *flag.FlagSet) {
	fs.StringVar(&s.Addr, "addr", "localhost:8080", "host and port to listen on")
	fs.StringVar(&s.Role, "role", "all", "what this node does: all (HTTP and jobs), api (HTTP only) or worker (jobs, plus health and metrics)")
	fs.StringVar(&s.AdminEmail, "admin-email", "admin@commons.localhost", "email address of the first platform admin, created at first start in development mode")
	fs.StringVar(&s.LogFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&s.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&s.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a stopping node waits for requests and jobs in flight")
	fs.StringVar(&s.SMTPURL, "smtp-url", "", "SMTP server for Notify's emails: smtp://USER:PASS@HOST:587 (STARTTLS) or smtps://USER:PASS@HOST:465; options tls=, auth=, pool= (required outside development mode)")
	fs.StringVar(&s.EmailFromDomain, "email-from-domain", "", "domain of Notify's From addresses and Message-IDs, such as notifications.example.gov.uk (required outside development mode)")
	fs.StringVar(&s.SMSProviderURL, "sms-provider-url", "", "HTTPS endpoint of the text message provider (required outside development mode)")
	fs.StringVar(&s.SMSProviderToken, "sms-provider-token", "", "bearer token for the text message provider")
	fs.StringVar(&s.SMSCallbackSecret, "sms-callback-secret", "", "shared secret the text message provider sends with receipts and replies (16 characters or more)")
	fs.StringVar(&s.EmailCallbackSecret, "email-callback-secret", "", "shared secret the mail system sends with bounces and complaints (16 characters or more; without it they are refused)")
	s.secret = append(s.secret, "smtp-url", "sms-provider-token", "sms-callback-secret", "email-callback-secret")
	s.serving = true
}

// EnvName is the environment twin of a flag: --base-url → COMMONS_BASE_URL.
func EnvName(flagName string) string {
	n := "COMMONS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
	if flagName == "database" {
		n += "_URL"
	}
	return n
}

// Parse reads args, then fills every flag not given on the command line from its environment
// twin, then checks and completes the settings.
func (s *Settings) Parse(args []string) (Config, error) {
	fs := s.fs
	fs.SetOutput(devNull{})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, err
		}
		return Config{}, usagef("%v (see --help)", err)
	}
	if fs.NArg() > 0 {
		return Config{}, usagef("unexpected argument %q (see --help)", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		env := EnvName(f.Name)
		value, ok := os.LookupEnv(env)
		if isSecret(s.secret, f.Name) {
			if file, fok := os.LookupEnv(env + "_FILE"); fok && file != "" {
				b, rerr := os.ReadFile(file)
				if rerr != nil {
					err = usagef("%s_FILE: cannot read %s: %v", env, file, rerr)
					return
				}
				value, ok = strings.TrimSpace(string(b)), true
			}
		}
		if ok {
			if serr := f.Value.Set(value); serr != nil {
				err = usagef("%s=%q is not valid: %v", env, value, serr)
			}
		}
	})
	if err != nil {
		return Config{}, err
	}
	return s.resolve()
}

func isSecret(list []string, name string) bool {
	for _, n := range list {
		if n == name {
			return true
		}
	}
	return false
}

// resolve checks the settings and fills in defaults that depend on others.
func (s *Settings) resolve() (Config, error) {
	c := s.Config
	c.Dev = c.SecretKey == ""
	if s.devFlag.set {
		c.Dev = s.devFlag.value
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "commons.db")
	}
	if _, _, err := db.Parse(c.DatabaseURL); err != nil {
		return c, usagef("--database (COMMONS_DATABASE_URL): %v", err)
	}
	if c.Role != "" && c.Role != "all" && c.Role != "api" && c.Role != "worker" {
		return c, usagef("--role (COMMONS_ROLE) must be all, api or worker, not %q", c.Role)
	}
	if c.Addr != "" {
		if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
			return c, usagef("--addr (COMMONS_ADDR) must be HOST:PORT, such as localhost:8080, not %q", c.Addr)
		} else if _, err := strconv.Atoi(port); err != nil {
			return c, usagef("--addr (COMMONS_ADDR) port must be a number, not %q", port)
		}
	}
	if c.BaseURL == "" {
		addr := c.Addr
		if addr == "" {
			addr = "localhost:8080"
		}
		c.BaseURL = "http://" + addr
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, usagef("--base-url (COMMONS_BASE_URL) must be an http or https URL, such as https://commons.example.gov.uk, not %q", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.LogFormat != "" && c.LogFormat != "json" && c.LogFormat != "text" {
		return c, usagef("--log-format (COMMONS_LOG_FORMAT) must be json or text, not %q", c.LogFormat)
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		return c, usagef("--log-level (COMMONS_LOG_LEVEL) must be debug, info, warn or error, not %q", c.LogLevel)
	}
	if c.SecretKey != "" {
		if c.Keyring, err = secret.ParseKeyring(c.SecretKey); err != nil {
			return c, usagef("--secret-key (COMMONS_SECRET_KEY): %v", err)
		}
	} else if !c.Dev {
		return c, usagef("outside development mode a secret key is required: set COMMONS_SECRET_KEY (or COMMONS_SECRET_KEY_FILE) to 32 random bytes in base64, made with: openssl rand -base64 32")
	}
	if c.EmailCallbackSecret != "" && len(c.EmailCallbackSecret) < 16 {
		return c, usagef("--email-callback-secret (COMMONS_EMAIL_CALLBACK_SECRET) must be at least 16 characters, so that it cannot be guessed")
	}
	if s.serving && !c.Dev {
		for _, need := range []struct{ value, flag string }{
			{c.SMTPURL, "smtp-url"}, {c.EmailFromDomain, "email-from-domain"},
			{c.SMSProviderURL, "sms-provider-url"}, {c.SMSProviderToken, "sms-provider-token"},
			{c.SMSCallbackSecret, "sms-callback-secret"},
		} {
			if need.value == "" {
				return c, usagef("outside development mode Notify needs real providers: set --%s (%s); see docs/configuration.md", need.flag, EnvName(need.flag))
			}
		}
	}
	return c, nil
}

// LoadDevSecretKey reads the development secret key from the data folder, making and saving
// one if there is none. Only development mode calls it.
func (c *Config) LoadDevSecretKey() error {
	if c.Keyring != nil {
		return nil
	}
	path := filepath.Join(c.DataDir, "secret-key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", c.DataDir, err)
		}
		key := secret.Generate()
		// O_EXCL: if another process (the admin CLI) made the key first, use theirs.
		f, ferr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if ferr == nil {
			_, werr := f.WriteString(key + "\n")
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				return fmt.Errorf("save development secret key: %w", werr)
			}
			c.GeneratedSecretKey = true
		} else if !errors.Is(ferr, os.ErrExist) {
			return fmt.Errorf("save development secret key: %w", ferr)
		}
		if b, err = os.ReadFile(path); err != nil {
			return fmt.Errorf("read development secret key: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("read development secret key: %w", err)
	}
	k, err := secret.ParseKeyring(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("development secret key in %s: %w", path, err)
	}
	c.Keyring = k
	return nil
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// triBool is a boolean flag that also knows whether it was given, because development mode's
// default depends on other settings.
type triBool struct{ set, value bool }

func (b *triBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *triBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("must be true or false")
	}
	b.set, b.value = true, v
	return nil
}

func (b *triBool) IsBoolFlag() bool { return true }
