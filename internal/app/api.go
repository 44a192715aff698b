package app

import (
	"errors"
	"net/http"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// asFailure is errors.As for *failure.Error.
func asFailure(err error, target **failure.Error) bool { return errors.As(err, target) }

// mountAPI registers the platform-wide API. GET /api/platform/v1/whoami answers with the
// service and key a credential belongs to, so that a team can check a key (and a load test
// can measure authentication alone). It accepts both credential forms: a Notify-style JWT
// and the whole key as a bearer token.
func (a *App) mountAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/platform/v1/whoami", func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Auth.Either(r)
		if err != nil {
			a.writeAuthProblem(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, whoami{
			KeyID: id.KeyID, KeyName: id.KeyName, KeyType: id.KeyType, Live: id.ServiceLive, ServiceID: id.ServiceID,
		})
	})
}

// whoami is the body of GET /api/platform/v1/whoami. A struct encodes without the sorting and
// boxing a map costs on every request; its fields are in alphabetical order, the order a map's
// keys are written in, so the bytes on the wire are the same either way.
type whoami struct {
	KeyID     string          `json:"key_id"`
	KeyName   string          `json:"key_name"`
	KeyType   apiauth.KeyType `json:"key_type"`
	Live      bool            `json:"live"`
	ServiceID string          `json:"service_id"`
}

// writeAuthProblem answers an authentication failure in Commons' own API style.
func (a *App) writeAuthProblem(w http.ResponseWriter, r *http.Request, err error) {
	var f *apiauth.Failure
	if !errors.As(err, &f) {
		a.log.Error("authentication lookup failed", "error", err)
		status := http.StatusInternalServerError
		if web.IsUnavailable(err) {
			status = http.StatusServiceUnavailable
		}
		writeProblem(w, status, "Authentication is unavailable", "Try again later.")
		return
	}
	status := http.StatusForbidden
	if f.MissingCredentials() {
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="commons"`)
	}
	writeProblem(w, status, http.StatusText(status), "Authentication failed: "+f.Reason.String()+".")
}

func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = jsonEncode(w, map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail})
}
