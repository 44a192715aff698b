package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// Console sessions end after two hours without a request, and after 24 hours whatever
// happens, so a forgotten shared computer does not stay signed in.
const (
	SessionIdleTimeout = 2 * time.Hour
	SessionMaxAge      = 24 * time.Hour
	// sessionRefreshEvery limits how often a request writes the session's last-seen time:
	// once a minute is accurate enough for a two-hour timeout and spares a write per request.
	sessionRefreshEvery = time.Minute
)

// Session is a signed-in console user.
type Session struct {
	User User
	// MFADone is false between the password and the authenticator code; the console lets such
	// a session do nothing but finish signing in.
	MFADone    bool
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

func errSessionEnded() error {
	return failure.New(failure.Unauthenticated, "Your session has ended. Sign in again")
}

// CreateSession starts a session for a user and returns its id, for the cookie. The database
// keeps only the id's SHA-256.
func (s *Store) CreateSession(ctx context.Context, userID string, mfaDone bool) (string, error) {
	id, hash := randomToken()
	now := s.now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := s.userWhere(ctx, tx, "u.id = ?", userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, mfa_done, created_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?)`, hash, userID, mfaDone, now, now)
		return err
	})
	if err != nil {
		return "", wrap("create session", err)
	}
	return id, nil
}

// Session returns the live session with an id and counts this as activity. An unknown or
// expired id is an Unauthenticated failure.
func (s *Store) Session(ctx context.Context, id string) (Session, error) {
	if id == "" {
		return Session{}, errSessionEnded()
	}
	hash := hashToken(id)
	var sess Session
	err := scanUser(s.db.QueryRow(ctx, "SELECT "+userColumns("u")+`, s.mfa_done, s.created_at, s.last_seen_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, hash),
		&sess.User, &sess.MFADone, &sess.CreatedAt, &sess.LastSeenAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, errSessionEnded()
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	sess.CreatedAt, sess.LastSeenAt = sess.CreatedAt.UTC(), sess.LastSeenAt.UTC()
	now := s.now()
	if !now.Before(sessionExpiry(sess.CreatedAt, sess.LastSeenAt)) {
		if _, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE id_hash = ?", hash); err != nil {
			return Session{}, fmt.Errorf("session: end expired: %w", err)
		}
		return Session{}, errSessionEnded()
	}
	if now.Sub(sess.LastSeenAt) >= sessionRefreshEvery {
		if _, err := s.db.Exec(ctx, "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?",
			now, hash, now); err != nil {
			return Session{}, fmt.Errorf("session: refresh: %w", err)
		}
		sess.LastSeenAt = now
	}
	sess.ExpiresAt = sessionExpiry(sess.CreatedAt, sess.LastSeenAt)
	return sess, nil
}

// sessionExpiry is when a session ends if nothing more happens: the sooner of the idle and
// absolute limits.
func sessionExpiry(created, lastSeen time.Time) time.Time {
	idle, absolute := lastSeen.Add(SessionIdleTimeout), created.Add(SessionMaxAge)
	if idle.Before(absolute) {
		return idle
	}
	return absolute
}

// CompleteMFA records that a session's user has given their second factor.
func (s *Store) CompleteMFA(ctx context.Context, id string) error {
	now := s.now()
	res, err := s.db.Exec(ctx, `UPDATE sessions SET mfa_done = ?, last_seen_at = ?
		WHERE id_hash = ? AND last_seen_at > ? AND created_at > ?`,
		true, now, hashToken(id), now.Add(-SessionIdleTimeout), now.Add(-SessionMaxAge))
	if err != nil {
		return fmt.Errorf("complete sign-in: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("complete sign-in: %w", err)
	} else if n == 0 {
		return errSessionEnded()
	}
	return nil
}

// EndSession signs a session out. Ending a session that has already ended is not an error.
func (s *Store) EndSession(ctx context.Context, id string) error {
	if _, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE id_hash = ?", hashToken(id)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// EndUserSessions signs a user out everywhere, for when their password changes or their
// account is taken away.
func (s *Store) EndUserSessions(ctx context.Context, userID string) error {
	if _, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", userID); err != nil {
		return fmt.Errorf("end user sessions: %w", err)
	}
	return nil
}

// PurgeExpired deletes ended sessions and expired one-time links, and returns how many rows
// went. A periodic job calls it; nothing depends on it running, since expired rows are
// refused anyway.
func (s *Store) PurgeExpired(ctx context.Context) (int64, error) {
	now := s.now()
	var total int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"DELETE FROM sessions WHERE last_seen_at <= ? OR created_at <= ?",
				[]any{now.Add(-SessionIdleTimeout), now.Add(-SessionMaxAge)}},
			{"DELETE FROM sign_in_tokens WHERE expires_at <= ?", []any{now}},
		} {
			res, err := tx.Exec(ctx, q.sql, q.args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired sessions and links: %w", err)
	}
	return total, nil
}
