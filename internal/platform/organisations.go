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

// Organisation is a government body that owns services, such as a department or a council.
type Organisation struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// CreateOrganisation adds an organisation. Names are unique, ignoring case.
func (s *Store) CreateOrganisation(ctx context.Context, actor Actor, name string) (Organisation, error) {
	name, err := checkName(name, "organisation")
	if err != nil {
		return Organisation{}, err
	}
	o := Organisation{ID: newID(), Name: name, CreatedAt: s.now()}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM organisations WHERE lower(name) = lower(?)", name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return conflict("name", "An organisation called %s already exists", name)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO organisations (id, name, created_at) VALUES (?, ?, ?)",
			o.ID, o.Name, o.CreatedAt); err != nil {
			if db.IsUniqueViolation(err) {
				return conflict("name", "An organisation called %s already exists", name)
			}
			return err
		}
		return s.record(ctx, tx, actor, AuditEntry{Action: "organisation.created", TargetType: "organisation",
			TargetID: o.ID, Details: map[string]any{"name": name}})
	})
	if err != nil {
		return Organisation{}, wrap("create organisation", err)
	}
	return o, nil
}

// Organisation returns one organisation.
func (s *Store) Organisation(ctx context.Context, id string) (Organisation, error) {
	if !isID(id) {
		return Organisation{}, failure.New(failure.NotFound, "Organisation not found")
	}
	var o Organisation
	err := s.db.QueryRow(ctx, "SELECT id, name, created_at FROM organisations WHERE id = ?", id).
		Scan(&o.ID, &o.Name, &o.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Organisation{}, failure.New(failure.NotFound, "Organisation not found")
	}
	if err != nil {
		return Organisation{}, fmt.Errorf("organisation: %w", err)
	}
	o.CreatedAt = o.CreatedAt.UTC()
	return o, nil
}

// Organisations lists every organisation by name.
func (s *Store) Organisations(ctx context.Context) ([]Organisation, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name, created_at FROM organisations ORDER BY lower(name), id")
	if err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	defer rows.Close()
	list := []Organisation{}
	for rows.Next() {
		var o Organisation
		if err := rows.Scan(&o.ID, &o.Name, &o.CreatedAt); err != nil {
			return nil, fmt.Errorf("organisations: %w", err)
		}
		o.CreatedAt = o.CreatedAt.UTC()
		list = append(list, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	return list, nil
}

// wrap names the operation on an internal error and leaves nil and classified failures as they
// are, so a failure's public message reaches the caller unchanged.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var f *failure.Error
	if errors.As(err, &f) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
