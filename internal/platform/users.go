package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// User is a person who signs in to the console: a team member of some services, or a
// platform admin who can see and change every service.
type User struct {
	ID            string
	Email         string
	PlatformAdmin bool
	HasPassword   bool
	TOTPEnabled   bool
	// MobileNumber is the number the person gave for text messages, in E.164 form
	// ("+447700900982"), or "" when they have given none.
	MobileNumber string
	LastSignInAt *time.Time
	// LockedUntil is set while the account is locked after too many failed sign-in attempts;
	// it may be in the past, when the lock has already run out.
	LockedUntil *time.Time
	CreatedAt   time.Time
}

// Actor is the user as the author of a change.
func (u User) Actor() Actor { return Actor{UserID: u.ID, Label: u.Email} }

// userColumns lists what a User is read from, for the users table under alias a.
func userColumns(a string) string {
	return fmt.Sprintf("%[1]s.id, %[1]s.email, %[1]s.platform_admin, %[1]s.password_hash IS NOT NULL, "+
		"%[1]s.totp_secret IS NOT NULL, COALESCE(%[1]s.mobile_number, ''), %[1]s.last_sign_in_at, %[1]s.locked_until, "+
		"%[1]s.created_at", a)
}

// scanUser reads the columns of userColumns, plus any extra destinations after them.
func scanUser(row interface{ Scan(...any) error }, u *User, extra ...any) error {
	dest := append([]any{&u.ID, &u.Email, &u.PlatformAdmin, &u.HasPassword, &u.TOTPEnabled, &u.MobileNumber,
		&u.LastSignInAt, &u.LockedUntil, &u.CreatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	u.LastSignInAt, u.LockedUntil, u.CreatedAt = timePtr(u.LastSignInAt), timePtr(u.LockedUntil), u.CreatedAt.UTC()
	return nil
}

// NormaliseEmail trims and lowercases an email address and checks its shape, so that one
// person has one account however they type their address.
func NormaliseEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", failure.Field("email", "Enter an email address")
	}
	addr, err := mail.ParseAddress(email)
	_, domain, _ := strings.Cut(email, "@")
	if err != nil || addr.Name != "" || addr.Address != email || len(email) > 320 ||
		!strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", failure.Field("email", "Enter an email address in the correct format, like name@example.com")
	}
	return email, nil
}

// CreateUser adds a user with no password; they set one through a first sign-in link.
func (s *Store) CreateUser(ctx context.Context, actor Actor, email string, platformAdmin bool) (User, error) {
	email, err := NormaliseEmail(email)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err = s.createUser(ctx, tx, actor, email, platformAdmin)
		return err
	})
	if err != nil {
		return User{}, wrap("create user", err)
	}
	return u, nil
}

// createUser inserts a user with an already normalised email inside tx.
func (s *Store) createUser(ctx context.Context, tx *db.Tx, actor Actor, email string, platformAdmin bool) (User, error) {
	u := User{ID: newID(), Email: email, PlatformAdmin: platformAdmin, CreatedAt: s.now()}
	_, err := tx.Exec(ctx, "INSERT INTO users (id, email, platform_admin, created_at) VALUES (?, ?, ?, ?)",
		u.ID, u.Email, u.PlatformAdmin, u.CreatedAt)
	if db.IsUniqueViolation(err) {
		return User{}, conflict("email", "A user with the email address %s already exists", email)
	}
	if err != nil {
		return User{}, err
	}
	return u, s.record(ctx, tx, actor, AuditEntry{Action: "user.created", TargetType: "user", TargetID: u.ID,
		Details: map[string]any{"email": email, "platform_admin": platformAdmin}})
}

// User returns one user.
func (s *Store) User(ctx context.Context, id string) (User, error) {
	if !isID(id) {
		return User{}, failure.New(failure.NotFound, "User not found")
	}
	return s.userWhere(ctx, s.db, "u.id = ?", id)
}

// UserByEmail returns the user with an email address, however it is capitalised.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	return s.userWhere(ctx, s.db, "u.email = ?", strings.ToLower(strings.TrimSpace(email)))
}

func (s *Store) userWhere(ctx context.Context, q db.Querier, where string, arg any) (User, error) {
	var u User
	err := scanUser(q.QueryRow(ctx, "SELECT "+userColumns("u")+" FROM users u WHERE "+where, arg), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, failure.New(failure.NotFound, "User not found")
	}
	if err != nil {
		return User{}, fmt.Errorf("user: %w", err)
	}
	return u, nil
}

// Users lists every user by email address.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.Query(ctx, "SELECT "+userColumns("u")+" FROM users u ORDER BY u.email")
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	list := []User{}
	for rows.Next() {
		var u User
		if err := scanUser(rows, &u); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		list = append(list, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return list, nil
}

// SetPlatformAdmin grants or withdraws platform admin rights.
func (s *Store) SetPlatformAdmin(ctx context.Context, actor Actor, userID string, admin bool) error {
	if !isID(userID) {
		return failure.New(failure.NotFound, "User not found")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE users SET platform_admin = ? WHERE id = ? AND platform_admin <> ?", admin, userID, admin)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			_, err = s.userWhere(ctx, tx, "u.id = ?", userID)
			return err // nil when the user already had that setting: nothing changed
		}
		return s.record(ctx, tx, actor, AuditEntry{Action: "user.platform_admin_changed", TargetType: "user",
			TargetID: userID, Details: map[string]any{"platform_admin": admin}})
	})
	return wrap("set platform admin", err)
}
