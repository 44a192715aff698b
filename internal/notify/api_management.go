package notify

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// Commons' own Notify management API (/api/notify/v1/…): templates kept in code, and the
// sending settings a team would otherwise click through. House style: RFC 9457 problems,
// snake_case JSON, RFC 3339 UTC timestamps. Live and team keys may use it; test keys may not,
// because a test key must never change what live sending does.

// managed wraps a management handler with authentication, and makes the key the actor of the
// changes the handler makes.
func (s *Service) managed(h func(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error) http.Handler {
	return web.APIHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.cfg.Auth.Either(r)
		if err != nil {
			return authProblem(err)
		}
		if id.KeyType == apiauth.Test {
			return failure.New(failure.Forbidden, "Test keys cannot change templates or settings; use a live or team key")
		}
		// Changes made with the key are recorded in the audit log as the key's.
		r = r.WithContext(platform.WithActor(r.Context(), platform.KeyActor(id.KeyID, id.KeyName)))
		return h(w, r, id)
	})
}

// authProblem turns an authentication failure into the house error vocabulary.
func authProblem(err error) error {
	var f *apiauth.Failure
	if !errors.As(err, &f) {
		return err
	}
	kind := failure.Forbidden
	if f.MissingCredentials() {
		kind = failure.Unauthenticated
	}
	return &failure.Error{Kind: kind, Message: "Authentication failed: " + f.Reason.String(), Err: err}
}

func (s *Service) mountManagementAPI(mux *http.ServeMux) {
	const p = "/api/notify/v1"
	mux.Handle("POST "+p+"/templates", s.managed(s.apiCreateTemplate))
	mux.Handle("GET "+p+"/templates", s.managed(s.apiListTemplates))
	mux.Handle("GET "+p+"/templates/{id}", s.managed(s.apiGetTemplate))
	mux.Handle("PUT "+p+"/templates/{id}", s.managed(s.apiUpdateTemplate))
	mux.Handle("POST "+p+"/templates/{id}/archive", s.managed(s.apiArchiveTemplate))
	mux.Handle("GET "+p+"/templates/{id}/versions", s.managed(s.apiTemplateVersions))
	s.mountSettingsAPI(mux, p)
	s.mountCancel(mux, p)
}

// templateJSON is a template in the management API.
type templateJSON struct {
	ID              string  `json:"id"`
	Name            string  `json:"name"`
	Type            Channel `json:"type"`
	Subject         *string `json:"subject"`
	Content         string  `json:"content"`
	Postage         *string `json:"postage"`
	LetterContactID *string `json:"letter_contact_id"`
	Version         int     `json:"version"`
	Archived        bool    `json:"archived"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       *string `json:"updated_at"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toTemplateJSON(t Template) templateJSON {
	out := templateJSON{ID: t.ID, Name: t.Name, Type: t.Type, Subject: optional(t.Subject), Content: t.Content,
		Postage: optional(t.Postage), LetterContactID: optional(t.LetterContactID), Version: t.Version,
		Archived: t.Archived, CreatedAt: rfc3339(t.CreatedAt)}
	if t.UpdatedAt != nil {
		u := rfc3339(*t.UpdatedAt)
		out.UpdatedAt = &u
	}
	return out
}

type templateRequest struct {
	Name            string  `json:"name"`
	Type            Channel `json:"type"`
	Subject         string  `json:"subject"`
	Content         string  `json:"content"`
	Postage         string  `json:"postage"`
	LetterContactID string  `json:"letter_contact_id"`
}

func (req templateRequest) input() TemplateInput {
	return TemplateInput{Name: req.Name, Type: req.Type, Subject: req.Subject, Content: req.Content,
		Postage: req.Postage, LetterContactID: req.LetterContactID}
}

func keyLabel(id apiauth.Identity) string { return "API key " + id.KeyName }

func (s *Service) apiCreateTemplate(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
	var req templateRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	t, err := s.CreateTemplate(r.Context(), id.ServiceID, keyLabel(id), req.input())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/notify/v1/templates/"+t.ID)
	web.WriteJSON(w, http.StatusCreated, "", toTemplateJSON(t))
	return nil
}

func (s *Service) apiUpdateTemplate(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
	var req templateRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Type != "" {
		cur, err := s.Template(r.Context(), id.ServiceID, r.PathValue("id"))
		if err != nil {
			return err
		}
		if req.Type != cur.Type {
			return failure.Field("type", "A template’s type cannot change; make a new template instead")
		}
	}
	t, err := s.UpdateTemplate(r.Context(), id.ServiceID, r.PathValue("id"), keyLabel(id), req.input())
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", toTemplateJSON(t))
	return nil
}

func (s *Service) apiGetTemplate(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
	t, err := s.Template(r.Context(), id.ServiceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", toTemplateJSON(t))
	return nil
}

func (s *Service) apiArchiveTemplate(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
	t, err := s.ArchiveTemplate(r.Context(), id.ServiceID, r.PathValue("id"), keyLabel(id))
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", toTemplateJSON(t))
	return nil
}

func (s *Service) apiListTemplates(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
	q := r.URL.Query()
	f := TemplateFilter{Type: Channel(q.Get("type"))}
	if f.Type != "" && !f.Type.Valid() {
		return failure.Field("type", "type must be email, sms or letter")
	}
	if v := q.Get("include_archived"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return failure.Field("include_archived", "include_archived must be true or false")
		}
		f.IncludeArchived = b
	}
	ts, err := s.Templates(r.Context(), id.ServiceID, f)
	if err != nil {
		return err
	}
	return writeTemplateList(w, ts)
}

func (s *Service) apiTemplateVersions(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
	ts, err := s.TemplateVersions(r.Context(), id.ServiceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		return errTemplateNotFound
	}
	return writeTemplateList(w, ts)
}

func writeTemplateList(w http.ResponseWriter, ts []Template) error {
	out := make([]templateJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, toTemplateJSON(t))
	}
	web.WriteJSON(w, http.StatusOK, "", map[string]any{"templates": out})
	return nil
}
