package notify

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
)

// Postage classes a letter template may use.
var letterPostage = map[string]bool{"first": true, "second": true, "economy": true}

// TemplateInput is what a team gives to create or change a template.
type TemplateInput struct {
	Name    string
	Type    Channel
	Subject string
	Content string
	Postage string
	// LetterContactID picks one of the service's letter contact blocks; empty uses the default.
	LetterContactID string
}

// maxTemplateName keeps names displayable; the reference has no stricter rule.
const maxTemplateName = 255

// validate checks a template and returns it tidied, or field errors joined together.
func (in TemplateInput) validate(creating bool) (TemplateInput, error) {
	var errs []error
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		errs = append(errs, failure.Field("name", "Enter a template name"))
	case utf8.RuneCountInString(in.Name) > maxTemplateName:
		errs = append(errs, failure.Field("name", "Template name must be %d characters or fewer", maxTemplateName))
	}
	if creating && !in.Type.Valid() {
		errs = append(errs, failure.Field("type", "Template type must be email, sms or letter"))
	}
	if strings.TrimSpace(in.Content) == "" {
		errs = append(errs, failure.Field("content", "Enter the template content"))
	}
	switch in.Type {
	case Email, Letter:
		in.Subject = strings.TrimSpace(in.Subject)
		if in.Subject == "" {
			what := "subject"
			if in.Type == Letter {
				what = "letter heading"
			}
			errs = append(errs, failure.Field("subject", "Enter a %s", what))
		}
	case SMS:
		if in.Subject != "" {
			errs = append(errs, failure.Field("subject", "Text message templates have no subject"))
		}
	}
	if in.Type == Letter {
		if in.Postage == "" {
			in.Postage = "second"
		}
		if !letterPostage[in.Postage] {
			errs = append(errs, failure.Field("postage", "Postage must be first, second or economy"))
		}
	} else if in.Postage != "" {
		errs = append(errs, failure.Field("postage", "Only letter templates have postage"))
	}
	if in.Type != Letter && in.LetterContactID != "" {
		errs = append(errs, failure.Field("letter_contact_id", "Only letter templates have a contact block"))
	}
	if len(errs) > 0 {
		return in, joinFieldErrors(errs)
	}
	return in, nil
}

// CreateTemplate makes version 1 of a new template.
func (s *Service) CreateTemplate(ctx context.Context, serviceID, createdBy string, in TemplateInput) (Template, error) {
	in, err := in.validate(true)
	if err != nil {
		return Template{}, err
	}
	t := Template{
		ID: uuid.NewString(), ServiceID: serviceID, Name: in.Name, Type: in.Type, Subject: in.Subject,
		Content: in.Content, Postage: in.Postage, LetterContactID: in.LetterContactID, Version: 1,
		CreatedAt: s.now(), CreatedBy: createdBy,
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := s.checkLetterContact(ctx, tx, serviceID, in.LetterContactID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO notify_templates (id, service_id, name, template_type, subject, content,
			postage, letter_contact_id, version, archived, hidden, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
			t.ID, serviceID, t.Name, string(t.Type), nullable(t.Subject), t.Content, nullable(t.Postage),
			nullable(t.LetterContactID), false, false, t.CreatedAt, createdBy); err != nil {
			return fmt.Errorf("create template: %w", err)
		}
		if err := insertVersion(ctx, tx, t); err != nil {
			return err
		}
		return s.audit(ctx, tx, serviceID, auditTemplateCreated, "template", t.ID, templateDetails(t))
	})
	if err != nil {
		return Template{}, err
	}
	return t, nil
}

func insertVersion(ctx context.Context, tx *db.Tx, t Template) error {
	_, err := tx.Exec(ctx, `INSERT INTO notify_template_versions (template_id, version, service_id, name, template_type,
		subject, content, postage, letter_contact_id, archived, created_at, updated_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Version, t.ServiceID, t.Name, string(t.Type), nullable(t.Subject), t.Content, nullable(t.Postage),
		nullable(t.LetterContactID), t.Archived, t.CreatedAt, t.UpdatedAt, t.CreatedBy)
	if err != nil {
		return fmt.Errorf("record template version: %w", err)
	}
	return nil
}

// UpdateTemplate saves a new version of a template. The type cannot change. An update that
// changes nothing makes no new version.
func (s *Service) UpdateTemplate(ctx context.Context, serviceID, templateID, updatedBy string, in TemplateInput) (Template, error) {
	var out Template
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := s.template(ctx, tx, serviceID, templateID, tx.ForUpdate())
		if err != nil {
			return err
		}
		if cur.Archived {
			return failure.New(failure.Conflict, "Template has been deleted")
		}
		in.Type = cur.Type
		if in, err = in.validate(false); err != nil {
			return err
		}
		if err := s.checkLetterContact(ctx, tx, serviceID, in.LetterContactID); err != nil {
			return err
		}
		if in.Name == cur.Name && in.Subject == cur.Subject && in.Content == cur.Content &&
			in.Postage == cur.Postage && in.LetterContactID == cur.LetterContactID {
			out = cur
			return nil
		}
		now := s.now()
		out = cur
		out.Name, out.Subject, out.Content, out.Postage, out.LetterContactID = in.Name, in.Subject, in.Content, in.Postage, in.LetterContactID
		out.Version = cur.Version + 1
		out.UpdatedAt = &now
		out.CreatedBy = updatedBy
		if _, err := tx.Exec(ctx, `UPDATE notify_templates SET name = ?, subject = ?, content = ?, postage = ?,
			letter_contact_id = ?, version = ?, updated_at = ?, created_by = ? WHERE id = ? AND service_id = ?`,
			out.Name, nullable(out.Subject), out.Content, nullable(out.Postage), nullable(out.LetterContactID),
			out.Version, now, updatedBy, templateID, serviceID); err != nil {
			return fmt.Errorf("update template: %w", err)
		}
		if err := insertVersion(ctx, tx, out); err != nil {
			return err
		}
		return s.audit(ctx, tx, serviceID, auditTemplateUpdated, "template", templateID, templateDetails(out))
	})
	s.forgetService(serviceID)
	return out, err
}

// ArchiveTemplate archives a template: it can no longer be sent, and lists leave it out,
// but fetching it by id still works (as GOV.UK Notify does). Archiving records a version.
func (s *Service) ArchiveTemplate(ctx context.Context, serviceID, templateID, archivedBy string) (Template, error) {
	var out Template
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := s.template(ctx, tx, serviceID, templateID, tx.ForUpdate())
		if err != nil {
			return err
		}
		out = cur
		if cur.Archived {
			return nil
		}
		now := s.now()
		out.Archived, out.Version, out.UpdatedAt, out.CreatedBy = true, cur.Version+1, &now, archivedBy
		if _, err := tx.Exec(ctx, `UPDATE notify_templates SET archived = ?, version = ?, updated_at = ?, created_by = ?
			WHERE id = ? AND service_id = ?`, true, out.Version, now, archivedBy, templateID, serviceID); err != nil {
			return fmt.Errorf("archive template: %w", err)
		}
		if err := insertVersion(ctx, tx, out); err != nil {
			return err
		}
		return s.audit(ctx, tx, serviceID, auditTemplateArchived, "template", templateID, templateDetails(out))
	})
	s.forgetService(serviceID)
	return out, err
}

const templateColumns = `id, service_id, name, template_type, COALESCE(subject, ''), content, COALESCE(postage, ''),
	COALESCE(letter_contact_id, ''), version, archived, hidden, created_at, updated_at, created_by`

func scanTemplate(row interface{ Scan(...any) error }) (Template, error) {
	var t Template
	var typ string
	var updated sql.NullTime
	err := row.Scan(&t.ID, &t.ServiceID, &t.Name, &typ, &t.Subject, &t.Content, &t.Postage, &t.LetterContactID,
		&t.Version, &t.Archived, &t.Hidden, &t.CreatedAt, &updated, &t.CreatedBy)
	t.Type = Channel(typ)
	if updated.Valid {
		u := updated.Time
		t.UpdatedAt = &u
	}
	return t, err
}

// Template returns the current version of one of a service's templates. Another service's
// template is not found, whatever its id.
func (s *Service) Template(ctx context.Context, serviceID, templateID string) (Template, error) {
	return s.template(ctx, s.db, serviceID, templateID, "")
}

func (s *Service) template(ctx context.Context, q db.Querier, serviceID, templateID, lock string) (Template, error) {
	t, err := scanTemplate(q.QueryRow(ctx, `SELECT `+templateColumns+` FROM notify_templates
		WHERE id = ? AND service_id = ?`+lock, templateID, serviceID))
	if db.IsNoRows(err) {
		return Template{}, errTemplateNotFound
	}
	if err != nil {
		return Template{}, fmt.Errorf("template: %w", err)
	}
	return t, nil
}

var errTemplateNotFound = failure.New(failure.NotFound, "Template not found")

// TemplateVersion returns one version of a template. Version 0 means the current one.
func (s *Service) TemplateVersion(ctx context.Context, serviceID, templateID string, version int) (Template, error) {
	if version == 0 {
		return s.Template(ctx, serviceID, templateID)
	}
	row := s.db.QueryRow(ctx, `SELECT v.template_id, v.service_id, v.name, v.template_type, COALESCE(v.subject, ''),
		v.content, COALESCE(v.postage, ''), COALESCE(v.letter_contact_id, ''), v.version, v.archived, t.hidden,
		t.created_at, v.updated_at, v.created_by
		FROM notify_template_versions v JOIN notify_templates t ON t.id = v.template_id
		WHERE v.template_id = ? AND v.service_id = ? AND v.version = ?`, templateID, serviceID, version)
	t, err := scanTemplate(row)
	if db.IsNoRows(err) {
		return Template{}, errTemplateNotFound
	}
	if err != nil {
		return Template{}, fmt.Errorf("template version: %w", err)
	}
	return t, nil
}

// TemplateVersions lists every version of a template, newest first.
func (s *Service) TemplateVersions(ctx context.Context, serviceID, templateID string) ([]Template, error) {
	rows, err := s.db.Query(ctx, `SELECT v.template_id, v.service_id, v.name, v.template_type, COALESCE(v.subject, ''),
		v.content, COALESCE(v.postage, ''), COALESCE(v.letter_contact_id, ''), v.version, v.archived, t.hidden,
		t.created_at, v.updated_at, v.created_by
		FROM notify_template_versions v JOIN notify_templates t ON t.id = v.template_id
		WHERE v.template_id = ? AND v.service_id = ? ORDER BY v.version DESC`, templateID, serviceID)
	if err != nil {
		return nil, fmt.Errorf("template versions: %w", err)
	}
	return collectTemplates(rows)
}

// TemplateFilter narrows Templates.
type TemplateFilter struct {
	Type            Channel // empty for every type
	IncludeArchived bool
}

// Templates lists a service's templates (never hidden ones) sorted by name then type, as
// GOV.UK Notify's list does.
func (s *Service) Templates(ctx context.Context, serviceID string, f TemplateFilter) ([]Template, error) {
	q := `SELECT ` + templateColumns + ` FROM notify_templates WHERE service_id = ? AND hidden = ?`
	args := []any{serviceID, false}
	if !f.IncludeArchived {
		q += ` AND archived = ?`
		args = append(args, false)
	}
	if f.Type != "" {
		q += ` AND template_type = ?`
		args = append(args, string(f.Type))
	}
	rows, err := s.db.Query(ctx, q+` ORDER BY name, template_type`, args...)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return collectTemplates(rows)
}

func collectTemplates(rows *sql.Rows) ([]Template, error) {
	defer rows.Close()
	var out []Template
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// checkLetterContact refuses a contact block id that is not one of the service's.
func (s *Service) checkLetterContact(ctx context.Context, q db.Querier, serviceID, id string) error {
	if id == "" {
		return nil
	}
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM notify_letter_contacts WHERE id = ? AND service_id = ? AND archived = ?`,
		id, serviceID, false).Scan(&n); err != nil {
		return fmt.Errorf("letter contact: %w", err)
	}
	if n == 0 {
		return failure.Field("letter_contact_id", "No letter contact block with that id")
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}
