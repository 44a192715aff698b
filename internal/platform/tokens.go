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

// Purposes of one-time links. The console decides what a redeemed link leads to (setting a
// password, joining a team); the purpose is stored so a link made for one cannot be used for
// another.
const (
	PurposeFirstSignIn   = "first-sign-in"
	PurposeInvite        = "invite"
	PurposeResetPassword = "reset-password"
)

// InviteTTL is how long an invitation link works: long enough to cover a weekend.
const InviteTTL = 72 * time.Hour

func validPurpose(p string) bool {
	return p == PurposeFirstSignIn || p == PurposeInvite || p == PurposeResetPassword
}

// Invitation is what the invitation email needs, handed to Store.OnInvite.
type Invitation struct {
	// ID is fresh for each invitation, so the email job can be keyed by it and sent once.
	ID          string
	UserID      string
	Email       string
	ServiceID   string
	ServiceName string
	// InvitedBy is the inviting actor's label, usually their email address.
	InvitedBy   string
	Permissions []string
	// Token is the one-time link token; it exists nowhere else in plain text.
	Token     string
	ExpiresAt time.Time
}

// Invite adds someone to a service's team by email address and returns the one-time link
// token to send them. Someone without an account gets one, with no password until they follow
// the link. Everything happens in one transaction, OnInvite included: a failed invite leaves
// no user, no membership, no link and no email behind.
func (s *Store) Invite(ctx context.Context, actor Actor, serviceID, email string, perms []string) (User, string, error) {
	email, err := NormaliseEmail(email)
	if err != nil {
		return User{}, "", err
	}
	if perms, err = normalisePermissions(TeamPermissions, perms); err != nil {
		return User{}, "", err
	}
	var u User
	var token string
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err = s.userWhere(ctx, tx, "u.email = ?", email)
		if failure.Is(err, failure.NotFound) {
			u, err = s.createUser(ctx, tx, actor, email, false)
		}
		if err != nil {
			return err
		}
		svc, err := s.addMember(ctx, tx, actor, serviceID, u, perms, "member.invited")
		if err != nil {
			return err
		}
		if token, err = s.issueToken(ctx, tx, u.ID, PurposeInvite, InviteTTL); err != nil {
			return err
		}
		if s.OnInvite == nil {
			return nil
		}
		return s.OnInvite(ctx, tx, Invitation{ID: newID(), UserID: u.ID, Email: u.Email, ServiceID: svc.ID,
			ServiceName: svc.Name, InvitedBy: actor.Label, Permissions: perms, Token: token,
			ExpiresAt: s.now().Add(InviteTTL)})
	})
	if err != nil {
		return User{}, "", wrap("invite team member", err)
	}
	return u, token, nil
}

// IssueSignInToken makes a one-time link token for a user. The token is 32 random bytes; the
// database keeps only its SHA-256, so the link in the email is the only copy.
func (s *Store) IssueSignInToken(ctx context.Context, userID, purpose string, ttl time.Duration) (string, error) {
	if !validPurpose(purpose) {
		return "", fmt.Errorf("issue sign-in link: unknown purpose %q", purpose)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("issue sign-in link: lifetime %s is not positive", ttl)
	}
	var token string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := s.userWhere(ctx, tx, "u.id = ?", userID); err != nil {
			return err
		}
		var err error
		token, err = s.issueToken(ctx, tx, userID, purpose, ttl)
		return err
	})
	if err != nil {
		return "", wrap("issue sign-in link", err)
	}
	return token, nil
}

func (s *Store) issueToken(ctx context.Context, tx *db.Tx, userID, purpose string, ttl time.Duration) (string, error) {
	token, hash := randomToken()
	now := s.now()
	_, err := tx.Exec(ctx, `INSERT INTO sign_in_tokens (token_hash, user_id, purpose, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, hash, userID, purpose, now, now.Add(ttl))
	if err != nil {
		return "", err
	}
	return token, nil
}

func errLinkUsed() error {
	return failure.New(failure.Unauthenticated, "This link has expired or has already been used")
}

// RedeemToken uses up a one-time link token and returns its user and purpose. Marking it used
// is one conditional UPDATE, so of two requests racing with the same token exactly one wins.
// Unknown, used and expired tokens get the same answer.
func (s *Store) RedeemToken(ctx context.Context, token string) (User, string, error) {
	if token == "" {
		return User{}, "", errLinkUsed()
	}
	var u User
	var purpose string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		var userID string
		err := tx.QueryRow(ctx, `UPDATE sign_in_tokens SET used_at = ?
			WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id, purpose`,
			now, hashToken(token), now).Scan(&userID, &purpose)
		if errors.Is(err, sql.ErrNoRows) {
			return errLinkUsed()
		}
		if err != nil {
			return err
		}
		if u, err = s.userWhere(ctx, tx, "u.id = ?", userID); err != nil {
			return err
		}
		return s.record(ctx, tx, u.Actor(), AuditEntry{Action: "user.signed_in", TargetType: "user", TargetID: u.ID,
			Details: map[string]any{"method": "link", "purpose": purpose}})
	})
	if err != nil {
		return User{}, "", wrap("redeem sign-in link", err)
	}
	return u, purpose, nil
}
