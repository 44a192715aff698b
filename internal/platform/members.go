package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// Member is a user as a team member of one service.
type Member struct {
	User
	// Permissions are team permission names, in the order of TeamPermissions.
	Permissions []string
	AddedAt     time.Time
}

// Can reports whether the member holds a team permission.
func (m Member) Can(perm string) bool { return slices.Contains(m.Permissions, perm) }

// AddMember makes an existing user a team member of a service.
func (s *Store) AddMember(ctx context.Context, actor Actor, serviceID, userID string, perms []string) error {
	perms, err := normalisePermissions(TeamPermissions, perms)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := s.userWhere(ctx, tx, "u.id = ?", userID)
		if err != nil {
			return err
		}
		_, err = s.addMember(ctx, tx, actor, serviceID, u, perms, "member.added")
		return err
	})
	return wrap("add team member", err)
}

// addMember inserts a membership and its audit row inside tx and returns the service, which
// must exist and not be archived.
func (s *Store) addMember(ctx context.Context, tx *db.Tx, actor Actor, serviceID string, u User, perms []string, action string) (Service, error) {
	svc, err := s.service(ctx, tx, serviceID, "")
	if err != nil {
		return Service{}, err
	}
	if svc.Archived {
		return Service{}, errArchived()
	}
	_, err = tx.Exec(ctx, "INSERT INTO members (service_id, user_id, permissions, created_at) VALUES (?, ?, ?, ?)",
		serviceID, u.ID, joinPermissions(perms), s.now())
	if db.IsUniqueViolation(err) {
		return Service{}, conflict("email", "%s is already a team member", u.Email)
	}
	if err != nil {
		return Service{}, err
	}
	return svc, s.record(ctx, tx, actor, AuditEntry{ServiceID: serviceID, Action: action, TargetType: "user", TargetID: u.ID,
		Details: map[string]any{"email": u.Email, "permissions": perms}})
}

// SetMemberPermissions replaces a team member's permissions.
func (s *Store) SetMemberPermissions(ctx context.Context, actor Actor, serviceID, userID string, perms []string) error {
	perms, err := normalisePermissions(TeamPermissions, perms)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var stored, email string
		err := tx.QueryRow(ctx, `SELECT m.permissions, u.email FROM members m JOIN users u ON u.id = m.user_id
			WHERE m.service_id = ? AND m.user_id = ?`+tx.ForUpdate(), serviceID, userID).Scan(&stored, &email)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotMember()
		}
		if err != nil {
			return err
		}
		before := splitPermissions(stored)
		if slices.Equal(before, perms) {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE members SET permissions = ? WHERE service_id = ? AND user_id = ?",
			joinPermissions(perms), serviceID, userID); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, AuditEntry{ServiceID: serviceID, Action: "member.permissions_changed",
			TargetType: "user", TargetID: userID, Details: map[string]any{"email": email, "from": before, "to": perms}})
	})
	return wrap("set team member permissions", err)
}

// RemoveMember takes a user off a service's team. The user keeps their account.
func (s *Store) RemoveMember(ctx context.Context, actor Actor, serviceID, userID string) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var email string
		err := tx.QueryRow(ctx, `SELECT u.email FROM members m JOIN users u ON u.id = m.user_id
			WHERE m.service_id = ? AND m.user_id = ?`+tx.ForUpdate(), serviceID, userID).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotMember()
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM members WHERE service_id = ? AND user_id = ?", serviceID, userID); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, AuditEntry{ServiceID: serviceID, Action: "member.removed", TargetType: "user",
			TargetID: userID, Details: map[string]any{"email": email}})
	})
	return wrap("remove team member", err)
}

func errNotMember() error { return failure.New(failure.NotFound, "Team member not found") }

// Members lists a service's team by email address.
func (s *Store) Members(ctx context.Context, serviceID string) ([]Member, error) {
	rows, err := s.db.Query(ctx, "SELECT "+userColumns("u")+`, m.permissions, m.created_at
		FROM members m JOIN users u ON u.id = m.user_id WHERE m.service_id = ? ORDER BY u.email`, serviceID)
	if err != nil {
		return nil, fmt.Errorf("team members: %w", err)
	}
	defer rows.Close()
	list := []Member{}
	for rows.Next() {
		var m Member
		var perms string
		if err := scanUser(rows, &m.User, &perms, &m.AddedAt); err != nil {
			return nil, fmt.Errorf("team members: %w", err)
		}
		m.Permissions, m.AddedAt = splitPermissions(perms), m.AddedAt.UTC()
		list = append(list, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("team members: %w", err)
	}
	return list, nil
}

// MemberPermissions returns a user's team permissions in a service, or NotFound when they are
// not on its team.
func (s *Store) MemberPermissions(ctx context.Context, serviceID, userID string) ([]string, error) {
	var stored string
	err := s.db.QueryRow(ctx, "SELECT permissions FROM members WHERE service_id = ? AND user_id = ?",
		serviceID, userID).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotMember()
	}
	if err != nil {
		return nil, fmt.Errorf("team member permissions: %w", err)
	}
	return splitPermissions(stored), nil
}

// Can reports whether a user may do something in a service: a platform admin may do
// everything; anyone else needs the team permission. Someone not on the team, or not a user
// at all, may do nothing. Asking about a permission outside TeamPermissions is a programming
// error and fails loudly rather than quietly answering no.
func (s *Store) Can(ctx context.Context, userID, serviceID, perm string) (bool, error) {
	if !isTeamPermission(perm) {
		return false, fmt.Errorf("permission check: %q is not a team permission", perm)
	}
	var admin bool
	var stored sql.NullString
	err := s.db.QueryRow(ctx, `SELECT u.platform_admin, m.permissions FROM users u
		LEFT JOIN members m ON m.user_id = u.id AND m.service_id = ? WHERE u.id = ?`, serviceID, userID).Scan(&admin, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("permission check: %w", err)
	}
	return admin || stored.Valid && slices.Contains(splitPermissions(stored.String), perm), nil
}
