// Package pay is Commons' Pay platform: card payments wire-compatible with GOV.UK Pay's public
// API v1, so that its official clients and existing integrations work unchanged. It owns its
// tables (pay_*), its HTTP API at /v1/…, the state machine every payment moves through, the
// payment providers that move the money (a sandbox first; real providers plug in behind the
// Provider interface), refunds, and its jobs (capture, expiry, upkeep).
//
// The hosted card pages are built on the Go API here (StartWithToken, Authorise, Confirm,
// UserCancel, PaymentForPage), never on the tables.
package pay

import (
	"embed"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/ratelimit"
)

//go:embed migrations
var migrations embed.FS

// Migrations creates Pay's tables.
var Migrations = db.Migrations{Platform: "pay", FS: db.SubFS(migrations, "migrations")}

// Config is what the Pay platform needs.
type Config struct {
	DB      *db.DB
	Jobs    *jobs.Client
	Auth    *apiauth.Authenticator
	Limiter *ratelimit.Limiter // nil: no rate limits
	Logger  *slog.Logger
	// BaseURL is Commons' public address; every link in a response is built on it.
	BaseURL string
	// Providers are the payment providers by name. The sandbox is always there (a test key
	// always uses it); an entry named "sandbox" replaces it, which tests use to inject faults.
	Providers map[string]Provider
	// Webhooks configures webhooks and confirmation emails (webhooks.go).
	Webhooks WebhooksConfig
}

// Service is the Pay platform.
type Service struct {
	cfg       Config
	db        *db.DB
	log       *slog.Logger
	providers map[string]Provider
	settings  settingsCache // settings_cache.go
	creates   createBatcher // create_batch.go
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// New returns the Pay platform.
func New(cfg Config) *Service {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	providers := map[string]Provider{SandboxName: Sandbox{}}
	for name, p := range cfg.Providers {
		providers[name] = p
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Service{cfg: cfg, db: cfg.DB, log: log, providers: providers, Now: time.Now}
}

// now returns the current time in UTC at the microsecond precision both engines store.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Mount registers Pay's HTTP API: the GOV.UK Pay-compatible /v1 routes at the root path, as the
// official clients expect whatever they do with a base URL's path.
func (s *Service) Mount(mux *http.ServeMux) { s.mountV1(mux) }
