package console

import (
	"net/http"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

type apiKeysPage struct {
	chrome
	Keys []platform.APIKey
}

func (c *Console) apiKeys(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	keys, err := c.store.APIKeys(r.Context(), sc.service.ID)
	if err != nil {
		return err
	}
	return c.render(w, r, "api-keys", apiKeysPage{chrome: c.chrome(s, sc, "api-keys"), Keys: keys})
}

func (c *Console) newKeyPage(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	if sc.service.Archived {
		return failure.New(failure.Conflict, "This service has been archived")
	}
	return c.render(w, r, "new-key", confirmPage{chrome: c.chrome(s, sc, "api-keys"), Form: web.NewForm()})
}

type keyCreatedPage struct {
	chrome
	Key    platform.APIKey
	Secret string
}

// createKey makes a key and shows the whole key string on the response to this one POST.
// Nothing else ever shows it again: the page is not cached and not reachable by a GET.
func (c *Console) createKey(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	f.Require("name", "Enter a name for this API key")
	if t := apiauth.KeyType(f.Get("key_type")); !t.Valid() {
		f.AddError("key_type", "Select a type of API key")
	}
	if f.Valid() {
		key, secret, err := c.store.CreateAPIKey(r.Context(), s.actor(), sc.service.ID, f.Get("name"), apiauth.KeyType(f.Get("key_type")))
		if err == nil {
			return c.render(w, r, "key-created", keyCreatedPage{chrome: c.chrome(s, sc, "api-keys"), Key: key, Secret: secret})
		}
		if !f.Fail(err, "name") {
			return err
		}
	}
	return c.renderInvalid(w, r, "new-key", confirmPage{chrome: c.chrome(s, sc, "api-keys"), Form: f})
}

type revokePage struct {
	chrome
	Key platform.APIKey
}

// key finds an unrevoked key of the service in the URL.
func (c *Console) key(r *http.Request, sc *serviceContext) (platform.APIKey, error) {
	keys, err := c.store.APIKeys(r.Context(), sc.service.ID)
	if err != nil {
		return platform.APIKey{}, err
	}
	for _, k := range keys {
		if k.ID == r.PathValue("key") {
			if k.Revoked() {
				return k, failure.New(failure.Conflict, "This API key has already been revoked")
			}
			return k, nil
		}
	}
	return platform.APIKey{}, failure.New(failure.NotFound, "API key not found")
}

func (c *Console) revokeKeyPage(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	k, err := c.key(r, sc)
	if err != nil {
		return err
	}
	return c.render(w, r, "revoke-key", revokePage{chrome: c.chrome(s, sc, "api-keys"), Key: k})
}

func (c *Console) revokeKey(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	k, err := c.key(r, sc)
	if err != nil {
		return err
	}
	if err := c.store.RevokeAPIKey(r.Context(), s.actor(), sc.service.ID, k.ID); err != nil {
		return err
	}
	return redirect(w, r, "/admin/services/"+sc.service.ID+"/api-keys", "API key revoked: "+k.Name)
}
