package notify

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify/content"
)

// GET /v2/template/{id}[/version/{version}], GET /v2/templates, POST /v2/template/{id}/preview
// (notify.md §2.9–2.11).

type templateV2JSON struct {
	ID                 string                     `json:"id"`
	Type               Channel                    `json:"type"`
	CreatedAt          string                     `json:"created_at"`
	UpdatedAt          *string                    `json:"updated_at"`
	CreatedBy          string                     `json:"created_by"`
	Version            int                        `json:"version"`
	Body               string                     `json:"body"`
	Subject            *string                    `json:"subject"`
	Name               string                     `json:"name"`
	Personalisation    map[string]map[string]bool `json:"personalisation"`
	Postage            *string                    `json:"postage"`
	LetterContactBlock *string                    `json:"letter_contact_block"`
}

func (s *Service) templateV2JSON(ctx context.Context, t Template) (templateV2JSON, error) {
	out := templateV2JSON{
		ID: t.ID, Type: t.Type, CreatedAt: v2Time(t.CreatedAt), UpdatedAt: v2TimePtr(t.UpdatedAt),
		CreatedBy: t.CreatedBy, Version: t.Version, Body: t.Content, Name: t.Name,
		Personalisation: map[string]map[string]bool{}, Postage: nullString(t.Postage),
	}
	parts := []string{t.Content}
	if t.Type != SMS {
		out.Subject = &t.Subject
		parts = []string{t.Subject, t.Content}
	}
	if t.Type == Letter && t.LetterContactID != "" {
		block, err := s.letterContactBlock(ctx, t.ServiceID, t.LetterContactID)
		if err != nil {
			return out, err
		}
		out.LetterContactBlock = nullString(block)
		parts = append(parts, block)
	}
	for _, p := range parts {
		for _, name := range content.Placeholders(p) {
			out.Personalisation[name] = map[string]bool{"required": true}
		}
	}
	return out, nil
}

// templateFromPath reads the {id} of a template path and finds the template (version 0 is
// the current one). Another service's, a hidden one, or an unknown version is not found.
func (s *Service) templateFromPath(ctx context.Context, r *http.Request, caller apiauth.Identity, version int) (Template, error) {
	id := r.PathValue("id")
	if !validUUID(id) {
		return Template{}, validationError("id is not a valid UUID")
	}
	t, err := s.TemplateVersion(ctx, caller.ServiceID, canonicalUUID(id), version)
	if failure.Is(err, failure.NotFound) || (err == nil && t.Hidden) {
		return Template{}, errNoResult()
	}
	return t, err
}

func (s *Service) getTemplateV2(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	return s.writeTemplate(w, r, caller, 0)
}

// getTemplateVersionV2 serves a version given in digits; any other version path is a route
// GOV.UK Notify does not have, answered with its legacy 404.
func (s *Service) getTemplateVersionV2(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	raw := r.PathValue("version")
	version, err := strconv.Atoi(raw)
	if err != nil || raw == "" || raw[0] == '-' || raw[0] == '+' {
		writeLegacyError(w, http.StatusNotFound, legacyNotFound)
		return nil
	}
	return s.writeTemplate(w, r, caller, version)
}

func (s *Service) writeTemplate(w http.ResponseWriter, r *http.Request, caller apiauth.Identity, version int) error {
	t, err := s.templateFromPath(r.Context(), r, caller, version)
	if err != nil {
		return err
	}
	out, err := s.templateV2JSON(r.Context(), t)
	if err != nil {
		return err
	}
	writeV2JSON(w, http.StatusOK, out)
	return nil
}

var listTemplatesSchema = requestSchema{fields: []fieldRule{
	{name: "type", kind: ruleEnum, values: []string{"sms", "email", "letter"}},
}}

// listTemplatesV2 lists the service's templates that are neither hidden nor archived.
func (s *Service) listTemplatesV2(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	doc := map[string]any{}
	for k, v := range r.URL.Query() {
		doc[k] = v[0]
	}
	if msgs := listTemplatesSchema.validate(doc, schemaContext{}); len(msgs) > 0 {
		return validationError(msgs...)
	}
	typ, _ := doc["type"].(string)
	list, err := s.Templates(r.Context(), caller.ServiceID, TemplateFilter{Type: Channel(typ)})
	if err != nil {
		return err
	}
	out := make([]templateV2JSON, 0, len(list))
	for _, t := range list {
		j, err := s.templateV2JSON(r.Context(), t)
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	writeV2JSON(w, http.StatusOK, map[string]any{"templates": out})
	return nil
}

var previewSchema = requestSchema{
	fields:        []fieldRule{{name: "id", kind: ruleUUID}, {name: "personalisation", kind: ruleObject}},
	required:      []string{"id"},
	allowUnlisted: true,
}

// previewTemplateV2 fills a template with the personalisation given. An empty body is {}.
func (s *Service) previewTemplateV2(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxV2Body))
	if err != nil {
		return badRequest("Invalid JSON supplied in POST data")
	}
	doc := map[string]any{}
	if len(raw) > 0 {
		v, ok := decodeJSONDocument(raw)
		if !ok {
			return badRequest("Invalid JSON supplied in POST data")
		}
		if !falsy(v) {
			obj, ok := v.(map[string]any)
			if !ok {
				return validationError(pyRepr(v) + " is not of type object")
			}
			doc = obj
		}
	}
	doc["id"] = r.PathValue("id")
	if msgs := previewSchema.validate(doc, schemaContext{}); len(msgs) > 0 {
		return validationError(msgs...)
	}
	t, err := s.templateFromPath(r.Context(), r, caller, 0)
	if err != nil {
		return err
	}
	personalisation, _ := doc["personalisation"].(map[string]any)
	var contactBlock string
	if t.Type == Letter {
		if contactBlock, err = s.letterContactBlock(r.Context(), caller.ServiceID, t.LetterContactID); err != nil {
			return err
		}
	}
	if err := checkMissing(t, personalisation, contactBlock); err != nil {
		return err
	}
	msg := renderMessage(t, personalisation, "")
	out := map[string]any{"id": t.ID, "type": t.Type, "version": t.Version, "body": msg.Body,
		"html": nil, "subject": nil, "postage": nullString(t.Postage)}
	if t.Type != SMS {
		out["subject"] = msg.Subject
	}
	if t.Type == Email {
		out["html"] = previewHTML(t, personalisation)
	}
	writeV2JSON(w, http.StatusOK, out)
	return nil
}

// previewHTML is the HTML fragment of an email's body for the preview response.
func previewHTML(t Template, personalisation map[string]any) string {
	return content.EmailHTML(content.Fill(t.Content, personalisation, content.Email))
}
