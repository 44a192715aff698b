// Package platform is Commons' tenancy: organisations own services, people join services as
// team members with permissions, services hold API keys, and every change anyone makes is
// written to an append-only audit log in the same transaction as the change itself. Every
// platform (Notify, Pay, …) asks this package who a caller is and what they may do, rather than
// reading its tables.
package platform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/secret"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// Migrations is the tenancy schema, applied at start-up before any other platform's, since
// their rows refer to services.
var Migrations = db.Migrations{Platform: "platform", FS: mustSub(migrationFiles, "migrations")}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the folder is embedded above, so this cannot happen at run time
	}
	return sub
}

// Store is the tenancy store. It is safe for concurrent use.
type Store struct {
	db   *db.DB
	keys *secret.Keyring
	// Now is the clock. Tests replace it to move through lockouts and expiries without
	// sleeping.
	Now func() time.Time
	// TOTPIssuer is the name authenticator apps show beside the account.
	TOTPIssuer string
	// OnInvite, when set, is called inside Invite's transaction with the new invitation, so
	// the email carrying the link is queued (a job inserted with tx) exactly when the invite
	// commits. An error from it undoes the invite.
	OnInvite func(ctx context.Context, tx *db.Tx, inv Invitation) error
}

// New returns a Store over d that seals secrets (API key secrets, TOTP seeds) with keys.
func New(d *db.DB, keys *secret.Keyring) *Store {
	return &Store{db: d, keys: keys, Now: time.Now, TOTPIssuer: "Commons"}
}

// now returns the current time as both engines store it: UTC, to the microsecond, so a value
// read back equals the value written.
func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Actor is who made a change: a team member, an API key, or an operator at the command line.
// It is recorded on every audit row.
type Actor struct {
	UserID   string
	APIKeyID string
	// Label is what people reading the audit log see: the user's email address or the key's
	// name.
	Label string
}

// CLIActor is the actor for changes made with the commons admin command, which has no user.
var CLIActor = Actor{Label: "commons admin (CLI)"}

// SystemActor is the actor for changes Commons makes by itself, such as locking an account
// after failed sign-ins, where no person or key chose to make them.
var SystemActor = Actor{Label: "Commons"}

// KeyActor is the actor for a change made through the API with a key.
func KeyActor(keyID, keyName string) Actor { return Actor{APIKeyID: keyID, Label: keyName} }

// actorKey is the context key under which a request carries its actor.
type actorKey struct{}

// WithActor returns ctx carrying who is making the request. The console and the API
// handlers set it once, where they learn who is signed in or which key was used, so that
// platforms whose Go API takes no actor of its own can still record each change under the
// person or key that made it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor WithActor put in ctx; ok is false when there is none.
func ActorFrom(ctx context.Context) (a Actor, ok bool) {
	a, ok = ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// newID returns a fresh row id: a lowercase UUID v4.
func newID() string { return uuid.NewString() }

// isID reports whether s looks like a row id. Lookups of anything else are answered NotFound
// without a query.
func isID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// randomToken returns 32 random bytes in base64url: the value given once to a person (in a
// link or a cookie), and the SHA-256 hash of it that is all the database keeps.
func randomToken() (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// checkName trims a display name and applies the rule every name shares: 1 to 255 characters.
// what is the thing's name in messages ("service", "API key").
func checkName(name, what string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", failure.Field("name", "Enter a%s %s name", article(what), what)
	case utf8.RuneCountInString(name) > 255:
		return "", failure.Field("name", "%s name must be 255 characters or fewer", capitalise(what))
	case !utf8.ValidString(name) || strings.ContainsAny(name, "\x00\r\n"):
		return "", failure.Field("name", "%s name must be on one line and contain only letters, numbers and symbols", capitalise(what))
	}
	return name, nil
}

func article(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "n"
	}
	return ""
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	if strings.HasPrefix(s, "API") {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// conflict is a Conflict failure about one input, for duplicates a person can fix by choosing
// another value.
func conflict(field, format string, args ...any) *failure.Error {
	return &failure.Error{Kind: failure.Conflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// nullable turns "" into SQL NULL for optional reference columns.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// timePtr turns a nullable time column into a pointer, nil when NULL, always UTC.
func timePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
