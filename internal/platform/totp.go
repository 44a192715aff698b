package platform

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// Authenticator codes are the common kind every app supports: six digits, SHA-1, a new code
// every 30 seconds.
var totpOptions = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// StartTOTP begins setting up an authenticator app: it stores a new seed, sealed, as pending
// and returns it (for typing in) and as an otpauth:// URL (for a QR code). The user's current
// app, if any, keeps working until ConfirmTOTP proves the new one.
func (s *Store) StartTOTP(ctx context.Context, userID string) (secretBase32, otpauthURL string, err error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return "", "", err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.TOTPIssuer, AccountName: u.Email})
	if err != nil {
		return "", "", fmt.Errorf("start authenticator app: %w", err)
	}
	sealed := s.keys.Encrypt([]byte(key.Secret()), []byte(u.ID))
	if _, err := s.db.Exec(ctx, "UPDATE users SET totp_pending = ? WHERE id = ?", sealed, u.ID); err != nil {
		return "", "", fmt.Errorf("start authenticator app: %w", err)
	}
	return key.Secret(), key.URL(), nil
}

// ConfirmTOTP turns on the pending authenticator app once the user shows a code from it.
func (s *Store) ConfirmTOTP(ctx context.Context, actor Actor, userID, code string) error {
	code, err := checkCodeShape(code)
	if err != nil {
		return err
	}
	if !isID(userID) {
		return failure.New(failure.NotFound, "User not found")
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var pending sql.NullString
		err := tx.QueryRow(ctx, "SELECT totp_pending FROM users WHERE id = ?"+tx.ForUpdate(), userID).Scan(&pending)
		if errors.Is(err, sql.ErrNoRows) {
			return failure.New(failure.NotFound, "User not found")
		}
		if err != nil {
			return err
		}
		if !pending.Valid {
			return failure.New(failure.Conflict, "Start setting up your authenticator app again")
		}
		seed, err := s.keys.Decrypt(pending.String, []byte(userID))
		if err != nil {
			return fmt.Errorf("authenticator seed: %w", err)
		}
		step, ok := matchCode(string(seed), code, s.now())
		if !ok {
			return errWrongCode()
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = ?,
			totp_failed_attempts = 0 WHERE id = ?`, step, userID); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, AuditEntry{Action: "user.totp_enabled", TargetType: "user", TargetID: userID})
	})
	return wrap("confirm authenticator app", err)
}

// CheckTOTP verifies a code from the user's authenticator app, allowing the codes either side
// of now for clock drift. A code is good once: the step it belongs to is remembered, so a code
// seen over someone's shoulder cannot be replayed. Wrong codes count towards a lockout like
// wrong passwords.
func (s *Store) CheckTOTP(ctx context.Context, userID, code string) error {
	code, err := checkCodeShape(code)
	if err != nil {
		return err
	}
	if !isID(userID) {
		return failure.New(failure.NotFound, "User not found")
	}
	var u User
	var sealed sql.NullString
	err = scanUser(s.db.QueryRow(ctx, "SELECT "+userColumns("u")+", u.totp_secret FROM users u WHERE u.id = ?", userID),
		&u, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return failure.New(failure.NotFound, "User not found")
	}
	if err != nil {
		return fmt.Errorf("check authenticator code: %w", err)
	}
	if !sealed.Valid {
		return failure.New(failure.Conflict, "Set up an authenticator app first")
	}
	now := s.now()
	if u.LockedUntil != nil && now.Before(*u.LockedUntil) {
		return lockedFailure(*u.LockedUntil)
	}
	seed, err := s.keys.Decrypt(sealed.String, []byte(userID))
	if err != nil {
		return fmt.Errorf("check authenticator code: seed: %w", err)
	}
	step, ok := matchCode(string(seed), code, now)
	if !ok {
		return s.failedAttempt(ctx, u, "totp_failed_attempts", errWrongCode())
	}
	// The step only moves forward, in one statement, so two requests racing with the same code
	// cannot both succeed.
	res, err := s.db.Exec(ctx, `UPDATE users SET totp_last_step = ?, totp_failed_attempts = 0
		WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)`, step, userID, step)
	if err != nil {
		return fmt.Errorf("check authenticator code: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("check authenticator code: %w", err)
	} else if n == 0 {
		return failure.Field("code", "That code has already been used. Wait for your authenticator app to show a new one")
	}
	return nil
}

// DisableTOTP removes a user's authenticator app, for when they have lost it. They set up a
// new one at their next sign-in.
func (s *Store) DisableTOTP(ctx context.Context, actor Actor, userID string) error {
	if !isID(userID) {
		return failure.New(failure.NotFound, "User not found")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL
			WHERE id = ? AND totp_secret IS NOT NULL`, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			_, err = s.userWhere(ctx, tx, "u.id = ?", userID)
			return err // nil when there was no app to remove
		}
		return s.record(ctx, tx, actor, AuditEntry{Action: "user.totp_disabled", TargetType: "user", TargetID: userID})
	})
	return wrap("remove authenticator app", err)
}

// checkCodeShape removes the spaces people type and checks for six digits.
func checkCodeShape(code string) (string, error) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return "", failure.Field("code", "Enter the 6-digit code from your authenticator app")
	}
	return code, nil
}

func errWrongCode() error {
	return failure.Field("code", "The code is not correct. Check your authenticator app and try again")
}

// matchCode finds which 30-second step, of the one now and its neighbours, a code belongs to.
func matchCode(seed, code string, now time.Time) (step int64, ok bool) {
	current := now.Unix() / int64(totpOptions.Period)
	for _, d := range []int64{0, -1, 1} {
		at := time.Unix((current+d)*int64(totpOptions.Period), 0)
		want, err := totp.GenerateCodeCustom(seed, at, totpOptions)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return current + d, true
		}
	}
	return 0, false
}
