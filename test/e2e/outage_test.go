package e2e

import (
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
)

// postgresSwitch turns connections to one test database off and on, as the database
// becoming briefly unavailable does, through the server named by COMMONS_TEST_POSTGRES_URL.
type postgresSwitch struct {
	t     *testing.T
	admin *sql.DB
	name  string
}

func newPostgresSwitch(t *testing.T, databaseURL string) *postgresSwitch {
	t.Helper()
	base := os.Getenv("COMMONS_TEST_POSTGRES_URL")
	if base == "" {
		dbtest.SkipOrFail(t, "COMMONS_TEST_POSTGRES_URL is not set")
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	s := &postgresSwitch{t: t, admin: admin, name: strings.TrimPrefix(u.Path, "/")}
	t.Cleanup(func() {
		// Let the test database's own cleanup connect and drop it whatever happened.
		_, _ = admin.Exec(`ALTER DATABASE "` + s.name + `" ALLOW_CONNECTIONS true`)
		admin.Close()
	})
	return s
}

// off refuses new connections to the database and ends every existing one.
func (s *postgresSwitch) off() {
	s.t.Helper()
	if _, err := s.admin.Exec(`ALTER DATABASE "` + s.name + `" ALLOW_CONNECTIONS false`); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, s.name); err != nil {
		s.t.Fatal(err)
	}
}

// on accepts connections again.
func (s *postgresSwitch) on() {
	s.t.Helper()
	if _, err := s.admin.Exec(`ALTER DATABASE "` + s.name + `" ALLOW_CONNECTIONS true`); err != nil {
		s.t.Fatal(err)
	}
}

// TestDatabaseOutageWhileServing makes the database unavailable under a running node: the
// node says it is not ready, and API requests and console pages that need the database answer
// 503 rather than 500 or a sign-in page; once the database is back, the same node serves
// the same requests again by itself.
func TestDatabaseOutageWhileServing(t *testing.T) {
	env := engineEnv(t, db.Postgres)
	databaseURL := strings.TrimPrefix(env[0], "COMMONS_DATABASE_URL=")
	sw := newPostgresSwitch(t, databaseURL)
	n := startNode(t, env)

	svc := adminJSON(t, env, "create-service", "--name", "Outage service")
	key := adminJSON(t, env, "create-api-key", "--service", svc["id"].(string), "--type", "live", "--name", "outage key")
	bearer := "Bearer " + key["key"].(string)
	console := signedInAdmin(t, env, n, "operator@example.gov.uk")
	// The service's page reads the session and the service from the database.
	page := "/admin/services/" + svc["id"].(string)

	type check struct {
		name string
		do   func() (int, string)
		ok   func(status int, body string) bool
	}
	checks := []check{
		{"/readyz", func() (int, string) { return n.get("/readyz", "") },
			func(s int, b string) bool { return s == 200 && strings.Contains(b, `"database":"ok"`) }},
		{"whoami", func() (int, string) { return n.get("/api/platform/v1/whoami", bearer) },
			func(s int, b string) bool { return s == 200 && strings.Contains(b, key["id"].(string)) }},
		{"console service page", func() (int, string) { return console.get(page) },
			func(s int, b string) bool { return s == 200 && strings.Contains(b, "Outage service") }},
	}
	for _, c := range checks {
		if status, body := c.do(); !c.ok(status, body) {
			t.Fatalf("%s before the outage = %d\n%s", c.name, status, body)
		}
	}

	sw.off()
	// Let the authenticator's cached copy of the service's keys expire, so that the API
	// request needs the database.
	time.Sleep(2 * apiauth.CacheTTL)

	// The process is up, so a supervisor has no reason to restart it; only readiness fails.
	if status, body := n.get("/healthz", ""); status != 200 {
		t.Errorf("/healthz during the outage = %d %s; want 200", status, body)
	}
	status, body := n.get("/readyz", "")
	if status != 503 || !strings.Contains(body, `"database":"unreachable"`) {
		t.Errorf("/readyz during the outage = %d %s; want 503 naming the database", status, body)
	}
	status, body = n.get("/api/platform/v1/whoami", bearer)
	if status != 503 || !strings.Contains(body, "unavailable") {
		t.Errorf("whoami during the outage = %d %s; want 503", status, body)
	}
	status, body = console.get(page)
	if status != 503 || !strings.Contains(body, "Sorry, the service is unavailable") {
		t.Errorf("console page during the outage = %d; want the 503 page\n%s", status, body)
	}
	if t.Failed() {
		t.FailNow()
	}

	sw.on()
	for _, c := range checks {
		var status int
		var body string
		waitFor(t, c.name+" to succeed again after the outage", func() bool {
			status, body = c.do()
			return c.ok(status, body)
		})
	}
	// The node was never restarted.
	select {
	case <-n.exited:
		t.Fatalf("the node exited during the outage:\n%s", n.logs())
	default:
	}
}
