package platform

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// Password hashing follows OWASP's Argon2id baseline (19 MiB, two passes, one lane): slow
// enough to make guessing a stolen hash expensive, quick enough that a sign-in costs tens of
// milliseconds. The parameters are stored in each hash, so raising them later leaves old
// hashes readable.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password rules, in characters.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// hashPassword returns a PHC-style Argon2id string: $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func hashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// checkPassword reports whether password matches an encoded hash, comparing in constant time.
func checkPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("password hash: not an argon2id hash")
	}
	var version int
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("password hash: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil ||
		memory == 0 || passes == 0 || threads == 0 {
		return false, errors.New("password hash: bad parameters")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("password hash: salt: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errors.New("password hash: bad key")
	}
	got := argon2.IDKey([]byte(password), salt, passes, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked against when there is no real hash (unknown email, no password yet),
// so those sign-ins take as long as a wrong password and do not reveal which accounts exist.
var dummyHash = sync.OnceValue(func() string { return hashPassword("no account has this password") })

// SetPassword sets a user's password and clears any lockout, since whoever sets it has proved
// they control the account (by signing in, or through an emailed link). It does not end the
// user's sessions; the console decides which to keep.
func (s *Store) SetPassword(ctx context.Context, actor Actor, userID, password string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	switch n := utf8.RuneCountInString(password); {
	case n == 0:
		return failure.Field("password", "Enter a password")
	case n < MinPasswordLength:
		return failure.Field("password", "Password must be %d characters or more", MinPasswordLength)
	case n > MaxPasswordLength:
		return failure.Field("password", "Password must be %d characters or fewer", MaxPasswordLength)
	case strings.EqualFold(strings.TrimSpace(password), u.Email):
		return failure.Field("password", "Password must not be your email address")
	}
	hash := hashPassword(password) // outside the transaction: it is the slow part
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, failed_attempts = 0, totp_failed_attempts = 0,
			locked_until = NULL WHERE id = ?`, hash, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return failure.New(failure.NotFound, "User not found")
		}
		return s.record(ctx, tx, actor, AuditEntry{Action: "user.password_set", TargetType: "user", TargetID: userID})
	})
	return wrap("set password", err)
}

// errBadCredentials is the one answer to a wrong email or password, so that the two cannot be
// told apart.
func errBadCredentials() error {
	return &failure.Error{Kind: failure.Unauthenticated, Field: "email",
		Message: "The email address or password you entered is incorrect"}
}

// SignIn checks an email address and password. Five wrong passwords in a row lock the account
// for 15 minutes (a RateLimited failure whose cause is a *Locked); a right one resets the
// count. It does not check the second factor: that is CheckTOTP.
func (s *Store) SignIn(ctx context.Context, email, password string) (User, error) {
	var u User
	var hash sql.NullString
	err := scanUser(s.db.QueryRow(ctx, "SELECT "+userColumns("u")+", u.password_hash FROM users u WHERE u.email = ?",
		strings.ToLower(strings.TrimSpace(email))), &u, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("sign in: %w", err)
	}
	if err != nil || !hash.Valid {
		_, _ = checkPassword(dummyHash(), password)
		return User{}, errBadCredentials()
	}
	now := s.now()
	if u.LockedUntil != nil && now.Before(*u.LockedUntil) {
		return User{}, lockedFailure(*u.LockedUntil)
	}
	ok, err := checkPassword(hash.String, password)
	if err != nil {
		return User{}, fmt.Errorf("sign in: %w", err)
	}
	if !ok {
		return User{}, s.failedAttempt(ctx, u, "failed_attempts", errBadCredentials())
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// Another request may have locked the account while this one was hashing.
		var locked *time.Time
		if err := tx.QueryRow(ctx, "SELECT locked_until FROM users WHERE id = ?"+tx.ForUpdate(), u.ID).Scan(&locked); err != nil {
			return err
		}
		if locked != nil && now.Before(*locked) {
			return lockedFailure(locked.UTC())
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET failed_attempts = 0, last_sign_in_at = ? WHERE id = ?", now, u.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, u.Actor(), AuditEntry{Action: "user.signed_in", TargetType: "user", TargetID: u.ID,
			Details: map[string]any{"method": "password"}})
	})
	if err != nil {
		return User{}, wrap("sign in", err)
	}
	u.LastSignInAt = &now
	return u, nil
}

// Throttling of guesses. Passwords and authenticator codes count separately, so that knowing
// the password (which resets its count) does not buy unlimited guesses at the code; either
// count reaching the limit locks the whole account.
const (
	MaxFailedAttempts = 5
	LockoutPeriod     = 15 * time.Minute
)

// Locked is the cause of the RateLimited failure returned while an account is locked, so a
// page can show when it opens again in its own words.
type Locked struct {
	Until time.Time
}

// Error describes the lock for logs; people see the failure's message instead.
func (l *Locked) Error() string { return "account locked until " + l.Until.Format(time.RFC3339) }

// lockedFailure says when a locked account opens again, in UK time as people there read it.
func lockedFailure(until time.Time) error {
	return failure.Wrap(failure.RateLimited, &Locked{Until: until},
		"Too many failed attempts. Try again after %s", clockTime(until))
}

// london is the zone the console's users read times in. Without the zone database (a bare
// container) times are shown in UTC and say so.
var london = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return nil
	}
	return loc
})

// clockTime formats a time the GOV.UK way: "4:35pm".
func clockTime(t time.Time) string {
	if loc := london(); loc != nil {
		return t.In(loc).Format("3:04pm")
	}
	return t.UTC().Format("3:04pm") + " UTC"
}

// guessNames says in the audit log which kind of guess locked an account.
var guessNames = map[string]string{"failed_attempts": "password", "totp_failed_attempts": "authenticator code"}

// failedAttempt counts a wrong guess in column (failed_attempts or totp_failed_attempts) and
// locks the account when the count reaches the limit. It returns wrong, or the lockout failure
// when this guess locked the account.
func (s *Store) failedAttempt(ctx context.Context, u User, column string, wrong error) error {
	var lockedUntil time.Time
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "UPDATE users SET "+column+" = "+column+" + 1 WHERE id = ? RETURNING "+column,
			u.ID).Scan(&n); err != nil {
			return err
		}
		if n < MaxFailedAttempts {
			return nil
		}
		lockedUntil = s.now().Add(LockoutPeriod)
		if _, err := tx.Exec(ctx, `UPDATE users SET locked_until = ?, failed_attempts = 0, totp_failed_attempts = 0
			WHERE id = ?`, lockedUntil, u.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, SystemActor, AuditEntry{Action: "user.locked_out", TargetType: "user", TargetID: u.ID,
			Details: map[string]any{"email": u.Email, "until": lockedUntil.Format(time.RFC3339),
				"after_wrong": guessNames[column]}})
	})
	if err != nil {
		return fmt.Errorf("count failed attempt: %w", err)
	}
	if !lockedUntil.IsZero() {
		return lockedFailure(lockedUntil)
	}
	return wrong
}
