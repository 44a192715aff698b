package pay

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// Commons' own API for Pay's webhooks and confirmation email, at /api/pay/v1/…, in the house
// style: RFC 9457 problems, snake_case JSON, RFC 3339 UTC times. A live key manages the
// service's live webhooks and a team key its test webhooks, as each sees only those payments;
// test keys may not change anything.

const webhookAPIBase = "/api/pay/v1"

// MountWebhookAPI serves the webhook API on mux.
func (s *Service) MountWebhookAPI(mux *http.ServeMux) {
	const p = webhookAPIBase
	mux.Handle("GET "+p+"/webhooks", s.webhookAPI(s.apiListWebhooks))
	mux.Handle("POST "+p+"/webhooks", s.webhookAPI(s.apiCreateWebhook))
	mux.Handle("GET "+p+"/webhooks/{webhook}", s.webhookAPI(s.apiGetWebhook))
	mux.Handle("PATCH "+p+"/webhooks/{webhook}", s.webhookAPI(s.apiUpdateWebhook))
	mux.Handle("POST "+p+"/webhooks/{webhook}/deactivate", s.webhookAPI(s.apiDeactivateWebhook))
	mux.Handle("GET "+p+"/webhooks/{webhook}/signing-secret", s.webhookAPI(s.apiGetWebhookSecret))
	mux.Handle("POST "+p+"/webhooks/{webhook}/signing-secret", s.webhookAPI(s.apiRotateWebhookSecret))
	mux.Handle("GET "+p+"/webhooks/{webhook}/messages", s.webhookAPI(s.apiWebhookMessages))
	mux.Handle("GET "+p+"/webhooks/{webhook}/messages/{message}", s.webhookAPI(s.apiWebhookMessage))
	mux.Handle("GET "+p+"/confirmation-email", s.webhookAPI(s.apiGetConfirmationEmail))
	mux.Handle("PUT "+p+"/confirmation-email", s.webhookAPI(s.apiSetConfirmationEmail))
}

// webhookAPI wraps a handler with authentication by a live or team key, and makes the key the
// actor of the changes the handler makes.
func (s *Service) webhookAPI(h func(w http.ResponseWriter, r *http.Request, sc Scope) error) http.Handler {
	return web.APIHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.cfg.Auth.BearerKey(r)
		if err != nil {
			return webhookAuthProblem(err)
		}
		if id.KeyType == apiauth.Test {
			return failure.New(failure.Forbidden, "Test keys cannot manage webhooks; use a live key for live payments or a team key for test payments")
		}
		r = r.WithContext(platform.WithActor(r.Context(), platform.KeyActor(id.KeyID, id.KeyName)))
		return h(w, r, scopeOf(id))
	})
}

// webhookAuthProblem turns an authentication failure into the house error vocabulary.
func webhookAuthProblem(err error) error {
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

// webhookJSON is a webhook in the API.
type webhookJSON struct {
	ID            string   `json:"id"`
	Live          bool     `json:"live"`
	CallbackURL   string   `json:"callback_url"`
	Description   string   `json:"description"`
	Subscriptions []string `json:"subscriptions"`
	Status        string   `json:"status"`
	CreatedAt     string   `json:"created_at"`
	UpdatedAt     string   `json:"updated_at"`
}

func webhookTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func toWebhookJSON(w Webhook) webhookJSON {
	subs := w.Subscriptions
	if subs == nil {
		subs = []string{}
	}
	return webhookJSON{ID: w.ID, Live: w.Live, CallbackURL: w.CallbackURL, Description: w.Description, Subscriptions: subs,
		Status: w.Status, CreatedAt: webhookTime(w.CreatedAt), UpdatedAt: webhookTime(w.UpdatedAt)}
}

// scopedWebhook reads a webhook the caller may see: the service's, in the key's mode. Any other
// is not found, as another service's payment is.
func (s *Service) scopedWebhook(r *http.Request, sc Scope) (Webhook, error) {
	w, err := s.Webhook(r.Context(), sc.ServiceID, r.PathValue("webhook"))
	if err != nil {
		return Webhook{}, err
	}
	if w.Live != sc.Live {
		return Webhook{}, errWebhookNotFound()
	}
	return w, nil
}

func (s *Service) apiListWebhooks(w http.ResponseWriter, r *http.Request, sc Scope) error {
	all, err := s.Webhooks(r.Context(), sc.ServiceID)
	if err != nil {
		return err
	}
	out := []webhookJSON{}
	for _, h := range all {
		if h.Live == sc.Live {
			out = append(out, toWebhookJSON(h))
		}
	}
	web.WriteJSON(w, http.StatusOK, "", map[string]any{"webhooks": out})
	return nil
}

type createWebhookRequest struct {
	CallbackURL   string   `json:"callback_url"`
	Description   string   `json:"description"`
	Subscriptions []string `json:"subscriptions"`
}

// createdWebhookJSON is a new webhook with its signing secret.
type createdWebhookJSON struct {
	webhookJSON
	SigningSecret string `json:"signing_secret"`
}

func (s *Service) apiCreateWebhook(w http.ResponseWriter, r *http.Request, sc Scope) error {
	var req createWebhookRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	h, secret, err := s.CreateWebhook(r.Context(), sc.ServiceID, sc.Live,
		WebhookInput{CallbackURL: req.CallbackURL, Description: req.Description, Subscriptions: req.Subscriptions})
	if err != nil {
		return err
	}
	w.Header().Set("Location", webhookAPIBase+"/webhooks/"+h.ID)
	web.WriteJSON(w, http.StatusCreated, "", createdWebhookJSON{webhookJSON: toWebhookJSON(h), SigningSecret: secret})
	return nil
}

func (s *Service) apiGetWebhook(w http.ResponseWriter, r *http.Request, sc Scope) error {
	h, err := s.scopedWebhook(r, sc)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", toWebhookJSON(h))
	return nil
}

type updateWebhookRequest struct {
	CallbackURL   *string   `json:"callback_url"`
	Description   *string   `json:"description"`
	Subscriptions *[]string `json:"subscriptions"`
	Status        *string   `json:"status"`
}

func (s *Service) apiUpdateWebhook(w http.ResponseWriter, r *http.Request, sc Scope) error {
	h, err := s.scopedWebhook(r, sc)
	if err != nil {
		return err
	}
	var req updateWebhookRequest
	if err := web.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	h, err = s.UpdateWebhook(r.Context(), sc.ServiceID, h.ID, WebhookUpdate{CallbackURL: req.CallbackURL,
		Description: req.Description, Subscriptions: req.Subscriptions, Status: req.Status})
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", toWebhookJSON(h))
	return nil
}

func (s *Service) apiDeactivateWebhook(w http.ResponseWriter, r *http.Request, sc Scope) error {
	h, err := s.scopedWebhook(r, sc)
	if err != nil {
		return err
	}
	if h, err = s.DeactivateWebhook(r.Context(), sc.ServiceID, h.ID); err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", toWebhookJSON(h))
	return nil
}

func (s *Service) apiGetWebhookSecret(w http.ResponseWriter, r *http.Request, sc Scope) error {
	h, err := s.scopedWebhook(r, sc)
	if err != nil {
		return err
	}
	secret, err := s.WebhookSecret(r.Context(), sc.ServiceID, h.ID)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", map[string]string{"signing_secret": secret})
	return nil
}

func (s *Service) apiRotateWebhookSecret(w http.ResponseWriter, r *http.Request, sc Scope) error {
	h, err := s.scopedWebhook(r, sc)
	if err != nil {
		return err
	}
	secret, err := s.RotateWebhookSecret(r.Context(), sc.ServiceID, h.ID)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", map[string]string{"signing_secret": secret})
	return nil
}

// webhookMessageJSON is a message in the API.
type webhookMessageJSON struct {
	ID            string               `json:"id"`
	EventType     string               `json:"event_type"`
	ResourceType  string               `json:"resource_type"`
	ResourceID    string               `json:"resource_id"`
	EventDate     string               `json:"event_date"`
	Status        string               `json:"status"`
	Attempts      int                  `json:"attempts"`
	LastAttemptAt *string              `json:"last_attempt_at"`
	NextAttemptAt *string              `json:"next_attempt_at"`
	CreatedAt     string               `json:"created_at"`
	AttemptLog    []webhookAttemptJSON `json:"attempt_log,omitempty"`
}

// webhookAttemptJSON is one delivery attempt in the API.
type webhookAttemptJSON struct {
	Attempt    int    `json:"attempt"`
	Result     string `json:"result"`
	StatusCode *int   `json:"status_code"`
	Error      string `json:"error,omitempty"`
	DurationMS int    `json:"duration_ms"`
	CreatedAt  string `json:"created_at"`
}

func webhookOptionalTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := webhookTime(*t)
	return &s
}

func toWebhookMessageJSON(m WebhookMessage) webhookMessageJSON {
	return webhookMessageJSON{ID: m.ID, EventType: m.EventType, ResourceType: "payment", ResourceID: m.ResourceID,
		EventDate: webhookTime(m.EventAt), Status: m.Status, Attempts: m.Attempts, LastAttemptAt: webhookOptionalTime(m.LastAttemptAt),
		NextAttemptAt: webhookOptionalTime(m.NextAttemptAt), CreatedAt: webhookTime(m.CreatedAt)}
}

// apiWebhookMessages lists a webhook's messages, newest first, WebhookMessagePage at a time; the
// next page is at the "next" link (?after=).
func (s *Service) apiWebhookMessages(w http.ResponseWriter, r *http.Request, sc Scope) error {
	h, err := s.scopedWebhook(r, sc)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := WebhookMessageFilter{Status: q.Get("status"), After: q.Get("after")}
	list, more, err := s.WebhookMessages(r.Context(), sc.ServiceID, h.ID, f)
	if err != nil {
		return err
	}
	out := struct {
		Messages []webhookMessageJSON `json:"messages"`
		Next     *string              `json:"next"`
	}{Messages: []webhookMessageJSON{}}
	for _, m := range list {
		out.Messages = append(out.Messages, toWebhookMessageJSON(m))
	}
	if more {
		v := url.Values{"after": {list[len(list)-1].ID}}
		if f.Status != "" {
			v.Set("status", f.Status)
		}
		next := webhookAPIBase + "/webhooks/" + h.ID + "/messages?" + v.Encode()
		out.Next = &next
	}
	web.WriteJSON(w, http.StatusOK, "", out)
	return nil
}

func (s *Service) apiWebhookMessage(w http.ResponseWriter, r *http.Request, sc Scope) error {
	h, err := s.scopedWebhook(r, sc)
	if err != nil {
		return err
	}
	m, attempts, err := s.WebhookMessage(r.Context(), sc.ServiceID, h.ID, r.PathValue("message"))
	if err != nil {
		return err
	}
	out := toWebhookMessageJSON(m)
	out.AttemptLog = []webhookAttemptJSON{}
	for _, a := range attempts {
		j := webhookAttemptJSON{Attempt: a.Attempt, Result: a.Result, Error: a.Error, DurationMS: a.DurationMS,
			CreatedAt: webhookTime(a.CreatedAt)}
		if a.StatusCode != 0 {
			code := a.StatusCode
			j.StatusCode = &code
		}
		out.AttemptLog = append(out.AttemptLog, j)
	}
	web.WriteJSON(w, http.StatusOK, "", out)
	return nil
}

type confirmationEmailJSON struct {
	Enabled    bool   `json:"enabled"`
	TemplateID string `json:"template_id"`
}

func (s *Service) apiGetConfirmationEmail(w http.ResponseWriter, r *http.Request, sc Scope) error {
	c, err := s.ConfirmationEmail(r.Context(), sc.ServiceID)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", confirmationEmailJSON{Enabled: c.Enabled, TemplateID: c.TemplateID})
	return nil
}

// apiSetConfirmationEmail replaces the setting. It covers live and test payments alike, so only
// a live key may change it.
func (s *Service) apiSetConfirmationEmail(w http.ResponseWriter, r *http.Request, sc Scope) error {
	if !sc.Live {
		return failure.New(failure.Forbidden, "Only a live key can change the confirmation email")
	}
	var req confirmationEmailJSON
	if err := web.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	c := ConfirmationEmail{Enabled: req.Enabled, TemplateID: req.TemplateID}
	if err := s.SetConfirmationEmail(r.Context(), sc.ServiceID, c); err != nil {
		return err
	}
	c, err := s.ConfirmationEmail(r.Context(), sc.ServiceID)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", confirmationEmailJSON{Enabled: c.Enabled, TemplateID: c.TemplateID})
	return nil
}
