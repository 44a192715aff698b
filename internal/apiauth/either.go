package apiauth

import (
	"net/http"
	"strings"
)

// Either authenticates a request carrying either credential form: a token with exactly two
// dots is a JWT, anything else a whole key. Commons' own APIs accept both, so a team can use
// whichever its client already makes.
func (a *Authenticator) Either(r *http.Request) (Identity, error) {
	if strings.Count(r.Header.Get("Authorization"), ".") == 2 {
		return a.JWT(r)
	}
	return a.BearerKey(r)
}
