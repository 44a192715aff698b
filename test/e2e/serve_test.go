package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
)

// engineEnv returns the settings for a fresh database of the given engine.
func engineEnv(t *testing.T, engine db.Dialect) []string {
	dir := t.TempDir()
	return []string{"COMMONS_DATABASE_URL=" + dbtest.URL(t, engine), "COMMONS_DATA_DIR=" + dir}
}

// notifyJWT signs a token the way GOV.UK Notify's clients do.
func notifyJWT(serviceID, secret string, iat time.Time) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString([]byte(fmt.Sprintf(`{"iss":%q,"iat":%d}`, serviceID, iat.Unix())))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestServeAndAdminOnEachEngine(t *testing.T) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			env := engineEnv(t, engine)
			n := startNode(t, env)

			// The admin commands work while the server runs on the same database.
			org := adminJSON(t, env, "create-organisation", "--name", "Department for Testing")
			if !uuidPattern.MatchString(org["id"].(string)) || org["name"] != "Department for Testing" {
				t.Fatalf("create-organisation printed %v", org)
			}
			svc := adminJSON(t, env, "create-service", "--name", "Apply for a licence", "--organisation", org["id"].(string))
			serviceID := svc["id"].(string)
			if !uuidPattern.MatchString(serviceID) || svc["live"] != false || svc["organisation_id"] != org["id"] {
				t.Fatalf("create-service printed %v", svc)
			}
			live := adminJSON(t, env, "create-service", "--name", "Live one", "--live")
			if live["live"] != true || live["organisation_id"] != nil {
				t.Fatalf("create-service --live printed %v", live)
			}
			key := adminJSON(t, env, "create-api-key", "--service", serviceID, "--type", "team", "--name", "ci key")
			keyString := key["key"].(string)
			if key["type"] != "team" || key["name"] != "ci key" || !strings.HasSuffix(keyString[:len(keyString)-37], serviceID) {
				t.Fatalf("create-api-key printed %v", key)
			}
			user := adminJSON(t, env, "create-user", "--email", "Someone@Example.gov.uk", "--service", serviceID, "--permissions", "manage_api_keys,send_messages")
			if user["email"] != "someone@example.gov.uk" || !strings.Contains(user["sign_in_url"].(string), "/admin/link/") {
				t.Fatalf("create-user printed %v", user)
			}
			if r := commons(t, env, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "commons ") {
				t.Fatalf("version: %+v", r)
			}

			// The key authenticates both ways: as a bearer key and as a Notify JWT.
			secret := keyString[len(keyString)-36:]
			for _, auth := range []string{"Bearer " + keyString, "Bearer " + notifyJWT(serviceID, secret, time.Now())} {
				status, body := n.get("/api/platform/v1/whoami", auth)
				if status != 200 || !strings.Contains(body, `"service_id":"`+serviceID+`"`) || !strings.Contains(body, `"key_type":"team"`) {
					t.Fatalf("whoami = %d %s", status, body)
				}
			}
			status, body := n.get("/api/platform/v1/whoami", "Bearer "+notifyJWT(serviceID, secret, time.Now().Add(-time.Minute)))
			if status != 403 || !strings.Contains(body, "30 seconds") {
				t.Fatalf("whoami with a stale token = %d %s", status, body)
			}
			if status, _ := n.get("/api/platform/v1/whoami", ""); status != 401 {
				t.Fatalf("whoami without credentials = %d, want 401", status)
			}

			status, body = n.get("/readyz", "")
			if status != 200 || !strings.Contains(body, `"ready"`) {
				t.Fatalf("/readyz = %d %s", status, body)
			}
			if status, _ := n.get("/healthz", ""); status != 200 {
				t.Fatalf("/healthz = %d", status)
			}
			// The invitation email is a job; it reaches the outbox.
			waitFor(t, "the invitation job to run", func() bool {
				_, m := n.get("/metrics", "")
				return strings.Contains(m, `commons_jobs{kind="mail.send",state="completed"} 1`)
			})
			_, metrics := n.get("/metrics", "")
			for _, want := range []string{
				`commons_http_requests_total{method="GET",route="/api/platform/v1/whoami",status="200"}`,
				`commons_http_request_duration_seconds_bucket{method="GET",route="/readyz"`,
			} {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
			if strings.Contains(n.logs(), secret) {
				t.Error("the logs contain an API key secret")
			}
			var line map[string]any
			if err := json.Unmarshal([]byte(firstLine(n.logs())), &line); err != nil {
				t.Errorf("logs are not JSON lines: %q", firstLine(n.logs()))
			}
		})
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDevModePrintsFirstSignInLink(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, []string{"COMMONS_DATA_DIR=" + dir})
	waitFor(t, "the sign-in link", func() bool { return strings.Contains(n.output(), "/admin/link/") })
	link := regexp.MustCompile(`http://\S+/admin/link/\S+`).FindString(n.output())
	if !strings.HasPrefix(link, n.BaseURL) {
		t.Fatalf("link %q does not use the node's base URL %s", link, n.BaseURL)
	}
	if !strings.Contains(n.logs(), "development mode") {
		t.Error("no development mode warning in the logs")
	}
}

func TestBadSettingsExitTwoWithOneLine(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"malformed database URL", nil, []string{"migrate", "--database", "mysql://x"}, "--database"},
		{"bad role", nil, []string{"serve", "--role", "everything"}, "--role"},
		{"bad addr", nil, []string{"serve", "--addr", "8080"}, "--addr"},
		{"unknown flag", nil, []string{"serve", "--colour"}, "colour"},
		{"no secret key outside development", nil, []string{"serve", "--dev=false"}, "COMMONS_SECRET_KEY"},
		{"bad secret key", []string{"COMMONS_SECRET_KEY=short"}, []string{"serve"}, "secret key"},
		{"missing secret file", []string{"COMMONS_SECRET_KEY_FILE=/nonexistent/key"}, []string{"serve"}, "COMMONS_SECRET_KEY_FILE"},
		{"bad env twin", []string{"COMMONS_DEV=maybe"}, []string{"serve"}, "COMMONS_DEV"},
		{"admin without name", nil, []string{"admin", "create-service"}, "--name"},
		{"bad key type", nil, []string{"admin", "create-api-key", "--service", "x", "--type", "gold", "--name", "k"}, "--type"},
		{"unknown command", nil, []string{"frobnicate"}, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := append([]string{"COMMONS_DATA_DIR=" + dir}, tc.env...)
			r := commons(t, env, tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("stderr %q: want one line mentioning %q", r.stderr, tc.want)
			}
		})
	}
	// Nothing was written: no database was created by any of them.
	if entries, _ := filepathGlob(dir); len(entries) != 0 {
		t.Fatalf("bad settings wrote files: %v", entries)
	}
}

func TestUnreachablePostgresFailsClearly(t *testing.T) {
	r := commons(t, []string{"COMMONS_DATA_DIR=" + t.TempDir()}, "migrate", "--database", "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=3")
	if r.code != 1 || !strings.Contains(r.stderr, "127.0.0.1") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q; want exit 1 and one line naming the server", r.code, r.stderr)
	}
}

func TestAdminRefusesBadReferences(t *testing.T) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			env := engineEnv(t, engine)
			r := commons(t, env, "admin", "create-service", "--name", "Orphan", "--organisation", "00000000-0000-4000-8000-000000000000")
			if r.code != 2 || !strings.Contains(r.stderr, "--organisation") {
				t.Fatalf("unknown organisation: exit %d, stderr %q", r.code, r.stderr)
			}
			r = commons(t, env, "admin", "create-api-key", "--service", "00000000-0000-4000-8000-000000000000", "--type", "live", "--name", "k")
			if r.code != 2 {
				t.Fatalf("unknown service: exit %d, stderr %q", r.code, r.stderr)
			}
			r = commons(t, env, "admin", "create-user", "--email", "not-an-email")
			if r.code != 2 || !strings.Contains(r.stderr, "--email") {
				t.Fatalf("bad email: exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}
