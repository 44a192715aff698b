package platform

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// Service is one government service using the platforms. A trial service (Live false) may only
// send to its own team; archiving is permanent and revokes every API key.
type Service struct {
	ID             string
	Name           string
	OrganisationID string
	Live           bool
	Archived       bool
	ArchivedAt     *time.Time
	// Permissions are service permission names, in the order of ServicePermissions.
	Permissions []string
	CreatedAt   time.Time
}

// Can reports whether the service has a service permission, such as ServiceSMS.
func (svc Service) Can(perm string) bool { return slices.Contains(svc.Permissions, perm) }

// NewService is what CreateService needs. Permissions nil means DefaultServicePermissions; an
// empty non-nil slice means none.
type NewService struct {
	Name           string
	OrganisationID string
	Live           bool
	Permissions    []string
}

// errArchived refuses changes to an archived service.
func errArchived() error { return failure.New(failure.Conflict, "This service has been archived") }

const serviceColumns = "id, name, organisation_id, live, permissions, archived_at, created_at"

// CreateService adds a service. Names are unique within an organisation (or among services
// with no organisation), ignoring case, among services not archived.
func (s *Store) CreateService(ctx context.Context, actor Actor, ns NewService) (Service, error) {
	name, err := checkName(ns.Name, "service")
	if err != nil {
		return Service{}, err
	}
	perms := DefaultServicePermissions
	if ns.Permissions != nil {
		perms = ns.Permissions
	}
	if perms, err = normalisePermissions(ServicePermissions, perms); err != nil {
		return Service{}, err
	}
	svc := Service{ID: newID(), Name: name, OrganisationID: ns.OrganisationID, Live: ns.Live,
		Permissions: perms, CreatedAt: s.now()}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if ns.OrganisationID != "" {
			var n int
			if isID(ns.OrganisationID) {
				if err := tx.QueryRow(ctx, "SELECT count(*) FROM organisations WHERE id = ?", ns.OrganisationID).Scan(&n); err != nil {
					return err
				}
			}
			if n == 0 {
				return failure.Field("organisation", "Select an organisation from the list")
			}
		}
		if err := s.checkServiceName(ctx, tx, ns.OrganisationID, name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO services (id, name, organisation_id, live, permissions, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, svc.ID, svc.Name, nullable(svc.OrganisationID), svc.Live,
			joinPermissions(svc.Permissions), svc.CreatedAt); err != nil {
			if db.IsUniqueViolation(err) {
				return conflict("name", "A service called %s already exists", name)
			}
			return err
		}
		return s.record(ctx, tx, actor, AuditEntry{ServiceID: svc.ID, Action: "service.created", TargetType: "service",
			TargetID: svc.ID, Details: map[string]any{"name": name, "organisation_id": ns.OrganisationID,
				"live": ns.Live, "permissions": perms}})
	})
	if err != nil {
		return Service{}, wrap("create service", err)
	}
	return svc, nil
}

func (s *Store) checkServiceName(ctx context.Context, q db.Querier, orgID, name string) error {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM services WHERE coalesce(organisation_id, '') = ?
		AND lower(name) = lower(?) AND archived_at IS NULL`, orgID, name).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return conflict("name", "A service called %s already exists", name)
	}
	return nil
}

// Service returns one service, archived or not.
func (s *Store) Service(ctx context.Context, id string) (Service, error) {
	svc, err := s.service(ctx, s.db, id, "")
	return svc, wrap("service", err)
}

// service reads one service through q; lock is "" or tx.ForUpdate().
func (s *Store) service(ctx context.Context, q db.Querier, id, lock string) (Service, error) {
	if !isID(id) {
		return Service{}, failure.New(failure.NotFound, "Service not found")
	}
	rows, err := q.Query(ctx, "SELECT "+serviceColumns+" FROM services WHERE id = ?"+lock, id)
	if err != nil {
		return Service{}, err
	}
	list, err := scanServices(rows)
	if err != nil {
		return Service{}, err
	}
	if len(list) == 0 {
		return Service{}, failure.New(failure.NotFound, "Service not found")
	}
	return list[0], nil
}

// Services lists every service by name, archived ones included, for platform admins.
func (s *Store) Services(ctx context.Context) ([]Service, error) {
	rows, err := s.db.Query(ctx, "SELECT "+serviceColumns+" FROM services ORDER BY lower(name), id")
	if err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	list, err := scanServices(rows)
	return list, wrap("services", err)
}

// ServicesForUser lists the services a user is a team member of, by name.
func (s *Store) ServicesForUser(ctx context.Context, userID string) ([]Service, error) {
	rows, err := s.db.Query(ctx, "SELECT s.id, s.name, s.organisation_id, s.live, s.permissions, s.archived_at, s.created_at "+
		"FROM services s JOIN members m ON m.service_id = s.id "+
		"WHERE m.user_id = ? ORDER BY lower(s.name), s.id", userID)
	if err != nil {
		return nil, fmt.Errorf("services for user: %w", err)
	}
	list, err := scanServices(rows)
	return list, wrap("services for user", err)
}

func scanServices(rows *sql.Rows) ([]Service, error) {
	defer rows.Close()
	list := []Service{}
	for rows.Next() {
		var svc Service
		var org sql.NullString
		var perms string
		if err := rows.Scan(&svc.ID, &svc.Name, &org, &svc.Live, &perms, &svc.ArchivedAt, &svc.CreatedAt); err != nil {
			return nil, err
		}
		svc.OrganisationID = org.String
		svc.Permissions = splitPermissions(perms)
		svc.ArchivedAt = timePtr(svc.ArchivedAt)
		svc.Archived = svc.ArchivedAt != nil
		svc.CreatedAt = svc.CreatedAt.UTC()
		list = append(list, svc)
	}
	return list, rows.Err()
}

// SetLive moves a service between trial mode and live. Setting the mode it already has
// changes nothing and writes no audit row.
func (s *Store) SetLive(ctx context.Context, actor Actor, id string, live bool) error {
	return wrap("set service live", s.changeService(ctx, id, func(tx *db.Tx, svc Service) error {
		if svc.Live == live {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE services SET live = ? WHERE id = ?", live, id); err != nil {
			return err
		}
		action := "service.made_trial"
		if live {
			action = "service.made_live"
		}
		return s.record(ctx, tx, actor, AuditEntry{ServiceID: id, Action: action, TargetType: "service", TargetID: id})
	}))
}

// RenameService changes a service's name, under the same rules as CreateService.
func (s *Store) RenameService(ctx context.Context, actor Actor, id, name string) error {
	name, err := checkName(name, "service")
	if err != nil {
		return err
	}
	return wrap("rename service", s.changeService(ctx, id, func(tx *db.Tx, svc Service) error {
		if svc.Name == name {
			return nil
		}
		if !strings.EqualFold(svc.Name, name) {
			if err := s.checkServiceName(ctx, tx, svc.OrganisationID, name); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE services SET name = ? WHERE id = ?", name, id); err != nil {
			if db.IsUniqueViolation(err) {
				return conflict("name", "A service called %s already exists", name)
			}
			return err
		}
		return s.record(ctx, tx, actor, AuditEntry{ServiceID: id, Action: "service.renamed", TargetType: "service",
			TargetID: id, Details: map[string]any{"from": svc.Name, "to": name}})
	}))
}

// SetServicePermissions replaces a service's permissions.
func (s *Store) SetServicePermissions(ctx context.Context, actor Actor, id string, perms []string) error {
	perms, err := normalisePermissions(ServicePermissions, perms)
	if err != nil {
		return err
	}
	return wrap("set service permissions", s.changeService(ctx, id, func(tx *db.Tx, svc Service) error {
		if slices.Equal(svc.Permissions, perms) {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE services SET permissions = ? WHERE id = ?", joinPermissions(perms), id); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, AuditEntry{ServiceID: id, Action: "service.permissions_changed",
			TargetType: "service", TargetID: id, Details: map[string]any{"from": svc.Permissions, "to": perms}})
	}))
}

// Archive retires a service for good: its API keys are revoked in the same transaction, so no
// request authenticates with them from the moment the archive commits. Archiving an archived
// service changes nothing.
func (s *Store) Archive(ctx context.Context, actor Actor, id string) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		svc, err := s.service(ctx, tx, id, tx.ForUpdate())
		if err != nil || svc.Archived {
			return err
		}
		now := s.now()
		if _, err := tx.Exec(ctx, "UPDATE services SET archived_at = ? WHERE id = ?", now, id); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "UPDATE api_keys SET revoked_at = ? WHERE service_id = ? AND revoked_at IS NULL", now, id)
		if err != nil {
			return err
		}
		revoked, err := res.RowsAffected()
		if err != nil {
			return err
		}
		return s.record(ctx, tx, actor, AuditEntry{ServiceID: id, Action: "service.archived", TargetType: "service",
			TargetID: id, Details: map[string]any{"name": svc.Name, "api_keys_revoked": revoked}})
	})
	return wrap("archive service", err)
}

// changeService runs change in a transaction on a locked, unarchived service.
func (s *Store) changeService(ctx context.Context, id string, change func(tx *db.Tx, svc Service) error) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		svc, err := s.service(ctx, tx, id, tx.ForUpdate())
		if err != nil {
			return err
		}
		if svc.Archived {
			return errArchived()
		}
		return change(tx, svc)
	})
}
