package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// APIKey describes one of a service's API keys. The secret is not here: it is shown once, when
// the key is made, and after that only authentication can read it.
type APIKey struct {
	ID              string
	ServiceID       string
	Name            string
	Type            apiauth.KeyType
	CreatedAt       time.Time
	CreatedBy       string // the label of the actor who made it
	CreatedByUserID string
	RevokedAt       *time.Time
	LastUsedAt      *time.Time
}

// Revoked reports whether the key has been revoked.
func (k APIKey) Revoked() bool { return k.RevokedAt != nil }

// CreateAPIKey makes a key for a service and returns it with the full key string the service
// team puts in their configuration. The secret in it is stored only sealed under the secret
// key (bound to the key's id), and the string is never shown again.
func (s *Store) CreateAPIKey(ctx context.Context, actor Actor, serviceID, name string, t apiauth.KeyType) (APIKey, string, error) {
	name, err := checkName(name, "API key")
	if err != nil {
		return APIKey{}, "", err
	}
	if !t.Valid() {
		return APIKey{}, "", failure.Field("key_type", "Select a type of API key")
	}
	k := APIKey{ID: newID(), ServiceID: serviceID, Name: name, Type: t, CreatedAt: s.now(),
		CreatedBy: actor.Label, CreatedByUserID: actor.UserID}
	secretValue := uuid.NewString()
	sealed := s.keys.Encrypt([]byte(secretValue), []byte(k.ID))
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		svc, err := s.service(ctx, tx, serviceID, tx.ForUpdate())
		if err != nil {
			return err
		}
		if svc.Archived {
			return errArchived()
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE service_id = ? AND lower(name) = lower(?)
			AND revoked_at IS NULL`, serviceID, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return conflict("name", "An API key called %s already exists", name)
		}
		_, err = tx.Exec(ctx, `INSERT INTO api_keys (id, service_id, name, key_type, secret_sealed, created_at,
			created_by_user_id, created_by_label) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, serviceID, name, string(t), sealed, k.CreatedAt, nullable(actor.UserID), actor.Label)
		if db.IsUniqueViolation(err) {
			return conflict("name", "An API key called %s already exists", name)
		}
		if err != nil {
			return err
		}
		return s.record(ctx, tx, actor, AuditEntry{ServiceID: serviceID, Action: "api_key.created", TargetType: "api_key",
			TargetID: k.ID, Details: map[string]any{"name": name, "key_type": string(t)}})
	})
	if err != nil {
		return APIKey{}, "", wrap("create API key", err)
	}
	return k, apiauth.FormatKey(name, serviceID, secretValue), nil
}

// APIKeys lists a service's keys, live ones first, newest first within each group.
func (s *Store) APIKeys(ctx context.Context, serviceID string) ([]APIKey, error) {
	rows, err := s.db.Query(ctx, `SELECT id, service_id, name, key_type, created_at, created_by_user_id,
		created_by_label, revoked_at, last_used_at FROM api_keys WHERE service_id = ?`, serviceID)
	if err != nil {
		return nil, fmt.Errorf("API keys: %w", err)
	}
	defer rows.Close()
	list := []APIKey{}
	for rows.Next() {
		var k APIKey
		var by sql.NullString
		if err := rows.Scan(&k.ID, &k.ServiceID, &k.Name, &k.Type, &k.CreatedAt, &by, &k.CreatedBy,
			&k.RevokedAt, &k.LastUsedAt); err != nil {
			return nil, fmt.Errorf("API keys: %w", err)
		}
		k.CreatedByUserID, k.CreatedAt = by.String, k.CreatedAt.UTC()
		k.RevokedAt, k.LastUsedAt = timePtr(k.RevokedAt), timePtr(k.LastUsedAt)
		list = append(list, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("API keys: %w", err)
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].Revoked() != list[j].Revoked() {
			return !list[i].Revoked()
		}
		if !list[i].CreatedAt.Equal(list[j].CreatedAt) {
			return list[i].CreatedAt.After(list[j].CreatedAt)
		}
		return list[i].ID < list[j].ID
	})
	return list, nil
}

// RevokeAPIKey stops a key working. Only the service's own keys can be revoked through it: the
// id of another service's key is not found. Revoking a revoked key changes nothing.
func (s *Store) RevokeAPIKey(ctx context.Context, actor Actor, serviceID, keyID string) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var name string
		var revoked *time.Time
		err := tx.QueryRow(ctx, "SELECT name, revoked_at FROM api_keys WHERE id = ? AND service_id = ?"+tx.ForUpdate(),
			keyID, serviceID).Scan(&name, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return failure.New(failure.NotFound, "API key not found")
		}
		if err != nil || revoked != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND service_id = ?",
			s.now(), keyID, serviceID); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, AuditEntry{ServiceID: serviceID, Action: "api_key.revoked", TargetType: "api_key",
			TargetID: keyID, Details: map[string]any{"name": name}})
	})
	return wrap("revoke API key", err)
}

// ServiceKeys gives authentication what it needs about a service, secrets decrypted: one
// query for the service and one for its keys. An unknown service is Found false, not an
// error, so the API can answer in its own words.
func (s *Store) ServiceKeys(ctx context.Context, serviceID string) (apiauth.ServiceKeys, error) {
	var out apiauth.ServiceKeys
	if !isID(strings.ToLower(serviceID)) {
		return out, nil
	}
	serviceID = strings.ToLower(serviceID)
	var archived *time.Time
	err := s.db.QueryRow(ctx, "SELECT live, archived_at FROM services WHERE id = ?", serviceID).Scan(&out.Live, &archived)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("service keys: %w", err)
	}
	out.Found, out.Archived = true, archived != nil
	rows, err := s.db.Query(ctx, `SELECT id, name, key_type, secret_sealed, revoked_at IS NOT NULL
		FROM api_keys WHERE service_id = ? ORDER BY created_at DESC, id`, serviceID)
	if err != nil {
		return out, fmt.Errorf("service keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k apiauth.Key
		var sealed string
		if err := rows.Scan(&k.ID, &k.Name, &k.Type, &sealed, &k.Revoked); err != nil {
			return out, fmt.Errorf("service keys: %w", err)
		}
		plain, err := s.keys.Decrypt(sealed, []byte(k.ID))
		if err != nil {
			return out, fmt.Errorf("service keys: key %s: %w", k.ID, err)
		}
		k.Secret = string(plain)
		out.Keys = append(out.Keys, k)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("service keys: %w", err)
	}
	return out, nil
}

// TouchAPIKeys records when keys were last used. Authentication gathers the times in memory
// and writes them in batches, rather than writing on every request; a time only ever moves a
// key's last use forward, so batches from several nodes may arrive in any order.
func (s *Store) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	ids := make([]string, 0, len(lastUsed))
	for id := range lastUsed {
		ids = append(ids, id)
	}
	sort.Strings(ids) // a fixed order keeps two nodes' batches from deadlocking on PostgreSQL
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, id := range ids {
			at := lastUsed[id].UTC().Truncate(time.Microsecond)
			if _, err := tx.Exec(ctx, `UPDATE api_keys SET last_used_at = ?
				WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, at, id, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("touch API keys: %w", err)
	}
	return nil
}
