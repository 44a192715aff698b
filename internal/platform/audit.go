package platform

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// AuditEvent is one row of the audit log: who did what to which thing, and when.
type AuditEvent struct {
	ID string
	// ServiceID is empty for events about organisations and users, which belong to no service.
	ServiceID     string
	ActorUserID   string
	ActorAPIKeyID string
	ActorLabel    string
	// Action is a dotted name such as "api_key.revoked"; the part before the dot is the kind
	// of thing, so filters can ask for every "api_key." event.
	Action     string
	TargetType string
	TargetID   string
	Details    map[string]any
	CreatedAt  time.Time
}

// AuditFilter narrows an audit log listing. The zero value lists the newest page.
type AuditFilter struct {
	// Action matches exactly, or as a prefix when it ends in "." ("api_key.").
	Action      string
	ActorLabel  string
	ActorUserID string
	// Since is inclusive and Until exclusive.
	Since time.Time
	Until time.Time
	// Limit is the page size: 100 when zero, at most 1000.
	Limit int
	// Before is the id of the last event of the previous page; the listing continues after it.
	Before string
}

// AuditEntry is what a change says about itself; the actor and time are added when it is
// recorded. Other platforms describe their own changes with it and pass it to Record.
type AuditEntry struct {
	// ServiceID is the service the change belongs to, or "" for changes to no service.
	ServiceID string
	// Action is a dotted name; other platforms start theirs with the platform's name
	// ("notify.template.created"), so that their names cannot clash with tenancy's or each
	// other's and a filter can ask for all of one platform's events.
	Action     string
	TargetType string
	TargetID   string
	// Details are shown to people reading the log. Never put secrets or message content here:
	// the log is append-only, so nothing written to it can be taken back.
	Details map[string]any
}

// Record writes an audit row for another platform's change inside that change's transaction,
// which must be on the same database as the store, so that the change and its row are
// committed together or not at all. An entry without an action, or for a service id that is
// not an id, is a programming error and fails the change.
func (s *Store) Record(ctx context.Context, tx *db.Tx, actor Actor, e AuditEntry) error {
	switch {
	case strings.TrimSpace(e.Action) == "" || strings.TrimSpace(e.TargetType) == "":
		return fmt.Errorf("audit: an entry needs an action and a target type (%q, %q)", e.Action, e.TargetType)
	case e.ServiceID != "" && !isID(e.ServiceID):
		return fmt.Errorf("audit %s: %q is not a service id", e.Action, e.ServiceID)
	}
	return s.record(ctx, tx, actor, e)
}

// record writes an audit row inside the transaction of the change it describes, so that the
// log and the data cannot disagree: both are committed or neither is.
func (s *Store) record(ctx context.Context, tx *db.Tx, actor Actor, e AuditEntry) error {
	if strings.TrimSpace(actor.Label) == "" {
		return fmt.Errorf("audit %s: the actor has no label", e.Action)
	}
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	body, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_events (id, service_id, actor_user_id, actor_api_key_id, actor_label,
		action, target_type, target_id, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		newID(), nullable(e.ServiceID), nullable(actor.UserID), nullable(actor.APIKeyID), actor.Label,
		e.Action, e.TargetType, e.TargetID, string(body), s.now())
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog lists a service's audit events, newest first. Only that service's events are ever
// returned, whatever the filter says.
func (s *Store) AuditLog(ctx context.Context, serviceID string, f AuditFilter) ([]AuditEvent, error) {
	if !isID(serviceID) {
		return nil, failure.New(failure.NotFound, "Service not found")
	}
	return s.auditLog(ctx, "service_id = ?", []any{serviceID}, f)
}

// PlatformAuditLog lists the events that belong to no service (organisations created, users
// created and signing in, lockouts), newest first, for platform admins.
func (s *Store) PlatformAuditLog(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	return s.auditLog(ctx, "service_id IS NULL", nil, f)
}

func (s *Store) auditLog(ctx context.Context, scope string, args []any, f AuditFilter) ([]AuditEvent, error) {
	where := []string{scope}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			where = append(where, "substr(action, 1, ?) = ?")
			args = append(args, len(f.Action), f.Action)
		} else {
			where = append(where, "action = ?")
			args = append(args, f.Action)
		}
	}
	if f.ActorLabel != "" {
		where = append(where, "actor_label = ?")
		args = append(args, f.ActorLabel)
	}
	if f.ActorUserID != "" {
		where = append(where, "actor_user_id = ?")
		args = append(args, f.ActorUserID)
	}
	if !f.Since.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, f.Since.UTC())
	}
	if !f.Until.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, f.Until.UTC())
	}
	if f.Before != "" {
		// The cursor is resolved inside the same scope, so another service's event id cannot
		// be used to page through this one.
		var seq int64
		err := s.db.QueryRow(ctx, "SELECT seq FROM audit_events WHERE id = ? AND "+scope,
			append([]any{f.Before}, args[:scopeArgs(scope)]...)...).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, failure.Field("before", "The page you asked for does not exist. Go back to the first page")
		}
		if err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		where = append(where, "seq < ?")
		args = append(args, seq)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := s.db.Query(ctx, `SELECT id, service_id, actor_user_id, actor_api_key_id, actor_label, action,
		target_type, target_id, details, created_at FROM audit_events WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(" ORDER BY seq DESC LIMIT %d", limit), args...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	events := []AuditEvent{}
	for rows.Next() {
		var e AuditEvent
		var service, user, key sql.NullString
		var details string
		if err := rows.Scan(&e.ID, &service, &user, &key, &e.ActorLabel, &e.Action, &e.TargetType, &e.TargetID,
			&details, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.ServiceID, e.ActorUserID, e.ActorAPIKeyID = service.String, user.String, key.String
		e.CreatedAt = e.CreatedAt.UTC()
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			return nil, fmt.Errorf("audit log: event %s details: %w", e.ID, err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return events, nil
}

// scopeArgs is the number of placeholders in a scope clause.
func scopeArgs(scope string) int { return strings.Count(scope, "?") }
