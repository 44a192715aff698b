// Package notify is Commons' Notify platform: emails, text messages and letters sent from
// templates, wire-compatible with GOV.UK Notify's API v2 so that its official clients work
// unchanged. It owns its tables (notify_*), its HTTP API (/v2/… and /api/notify/v1/…), its
// console pages, and its jobs (sending, callbacks, timeouts, retention).
//
// Other platforms send through the Go API on *Service, never through Notify's tables.
package notify

import (
	"embed"
	"log/slog"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/ratelimit"
	"github.com/commons-gov/commons/internal/secret"
)

//go:embed migrations
var migrations embed.FS

// Migrations creates Notify's tables.
var Migrations = db.Migrations{Platform: "notify", FS: db.SubFS(migrations, "migrations")}

// Channel is the kind of message a template or notification is.
type Channel string

const (
	Email  Channel = "email"
	SMS    Channel = "sms"
	Letter Channel = "letter"
)

// Valid reports whether c is one of the three channels.
func (c Channel) Valid() bool { return c == Email || c == SMS || c == Letter }

// Notification statuses as stored (notify.md §4.1).
const (
	StatusCreated           = "created"
	StatusSending           = "sending"
	StatusSent              = "sent"
	StatusDelivered         = "delivered"
	StatusPending           = "pending"
	StatusTechnicalFailure  = "technical-failure"
	StatusTemporaryFailure  = "temporary-failure"
	StatusPermanentFailure  = "permanent-failure"
	StatusPendingVirusCheck = "pending-virus-check"
	StatusValidationFailed  = "validation-failed"
	StatusVirusScanFailed   = "virus-scan-failed"
	StatusReturnedLetter    = "returned-letter"
	StatusCancelled         = "cancelled"
)

// finalStatuses are those after which nothing changes (the "completed" set of §4.1).
var finalStatuses = map[string]bool{
	StatusSent: true, StatusDelivered: true, "failed": true, StatusTechnicalFailure: true,
	StatusTemporaryFailure: true, StatusPermanentFailure: true, StatusReturnedLetter: true,
	StatusCancelled: true, StatusValidationFailed: true,
}

// IsFinal reports whether a status is final.
func IsFinal(status string) bool { return finalStatuses[status] }

// updatableStatuses are those a provider receipt may still change (§4.2).
var updatableStatuses = map[string]bool{
	StatusCreated: true, StatusSending: true, StatusPending: true, StatusSent: true, StatusPendingVirusCheck: true,
}

// CanUpdate reports whether a notification in this status still accepts receipts.
func CanUpdate(status string) bool { return updatableStatuses[status] }

// Template is the current version of a template.
type Template struct {
	ID              string
	ServiceID       string
	Name            string
	Type            Channel
	Subject         string // email and letter
	Content         string
	Postage         string // letter: first, second or economy
	LetterContactID string
	Version         int
	Archived        bool
	Hidden          bool
	CreatedAt       time.Time
	UpdatedAt       *time.Time
	CreatedBy       string
}

// Notification is one message.
type Notification struct {
	ID              string
	ServiceID       string
	TemplateID      string
	TemplateVersion int
	Type            Channel
	APIKeyID        string
	KeyType         apiauth.KeyType
	JobID           string
	JobRow          int
	Recipient       string // as given (email address, phone number, or the first address line)
	NormalisedTo    string
	International   bool
	Personalisation map[string]any
	ClientReference string
	Status          string
	Subject         string
	Body            string
	Postage         string
	ReplyTo         string
	Sender          string
	UnsubscribeURL  string
	BillableUnits   int
	RateMultiplier  float64
	Pages           int
	CreatedByName   string
	ScheduledFor    *time.Time
	CreatedAt       time.Time
	SentAt          *time.Time
	UpdatedAt       *time.Time
}

// Config is what the Notify platform needs.
type Config struct {
	DB       *db.DB
	Jobs     *jobs.Client
	Platform *platform.Store
	Auth     *apiauth.Authenticator
	Limiter  *ratelimit.Limiter
	Keyring  *secret.Keyring
	Logger   *slog.Logger
	BaseURL  string
	Dev      bool
	// EmailDomain is the domain of From addresses and Message-IDs. Empty means the base URL's
	// host, which suits development; production sets COMMONS_EMAIL_FROM_DOMAIN.
	EmailDomain string
}

// Service is the Notify platform.
type Service struct {
	cfg Config
	db  *db.DB
	log *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// sending is the send path's per-node state: cached reads, the daily counts' view and
	// the batcher that stores sends together (send_batch.go).
	sending sendState
}

// now returns the current time in UTC at the microsecond precision both engines store.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }
