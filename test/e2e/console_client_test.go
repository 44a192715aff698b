package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// browser is a person using the team console of one node: an HTTP client with a cookie jar
// that follows redirects, as a browser without JavaScript would.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// get fetches a console path and returns the final status and body after redirects.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.client.Get(b.base + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	return readResponse(b.t, resp)
}

// post submits a form to a console path and returns the final status and body after redirects.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	resp, err := b.client.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	return readResponse(b.t, resp)
}

func readResponse(t *testing.T, resp *http.Response) (int, string) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", resp.Request.URL, err)
	}
	return resp.StatusCode, string(body)
}

// signInWithLink follows a one-time sign-in link printed by `commons admin create-user` (its
// host may be another node's: only the token is used) and chooses a password, leaving the
// browser fully signed in.
func (b *browser) signInWithLink(signInURL, password string) {
	b.t.Helper()
	_, token, ok := strings.Cut(signInURL, "/admin/link/")
	if !ok || token == "" {
		b.t.Fatalf("sign-in URL %q has no /admin/link/ token", signInURL)
	}
	if status, body := b.get("/admin/link/" + token); status != 200 || !strings.Contains(body, "Continue signing in") {
		b.t.Fatalf("GET the sign-in link = %d\n%s", status, body)
	}
	status, body := b.post("/admin/link/"+token, nil)
	if status != 200 || !strings.Contains(body, `action="/admin/set-password"`) {
		b.t.Fatalf("using the sign-in link = %d, want the set-password page\n%s", status, body)
	}
	status, body = b.post("/admin/set-password", url.Values{"password": {password}})
	if status != 200 || !strings.Contains(body, "Your password has been saved") {
		b.t.Fatalf("setting a password = %d\n%s", status, body)
	}
}

// signedInAdmin makes a platform admin with the admin CLI and signs them in to the node's
// console.
func signedInAdmin(t *testing.T, env []string, n *node, email string) *browser {
	t.Helper()
	user := adminJSON(t, env, "create-user", "--email", email, "--platform-admin")
	b := newBrowser(t, n.BaseURL)
	b.signInWithLink(user["sign_in_url"].(string), "a long and unguessable passphrase")
	return b
}

// runCommons runs the binary like commons, but reports a failure to start as an error, so
// that it may be called from goroutines other than the test's.
func runCommons(env []string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(baseEnv(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return result{code: ee.ExitCode(), stdout: out.String(), stderr: errOut.String()}, nil
	}
	if err != nil {
		return result{}, err
	}
	return result{stdout: out.String(), stderr: errOut.String()}, nil
}

// riverClientID returns the id the node's job client works under, from its "River client
// started" log line.
func (n *node) riverClientID(t *testing.T) string {
	t.Helper()
	var id string
	waitFor(t, "the node's job client to start", func() bool {
		for _, line := range strings.Split(n.logs(), "\n") {
			var entry struct {
				Msg      string `json:"msg"`
				ClientID string `json:"client_id"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "River client started" && entry.ClientID != "" {
				id = entry.ClientID
				return true
			}
		}
		return false
	})
	return id
}
