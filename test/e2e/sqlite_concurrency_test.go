package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/commons-gov/commons/internal/db"
)

// TestAdminCLIBesideServerOnSQLite runs many admin commands against the SQLite file of a
// running server while the server reads and writes it too: API requests, console pages and
// forms, and the invitation jobs the commands leave for it. SQLite allows one writer at a
// time across processes; every one of them must wait its turn rather than fail with
// "database is locked".
func TestAdminCLIBesideServerOnSQLite(t *testing.T) {
	env := engineEnv(t, db.SQLite)
	n := startNode(t, env)
	svc := adminJSON(t, env, "create-service", "--name", "Busy service")
	key := adminJSON(t, env, "create-api-key", "--service", svc["id"].(string), "--type", "team", "--name", "busy key")
	bearer := "Bearer " + key["key"].(string)
	// Two people, so that one's page views never take the other's "created" message.
	reader := signedInAdmin(t, env, n, "reader@example.gov.uk")
	writer := signedInAdmin(t, env, n, "writer@example.gov.uk")

	const cliWorkers, rounds = 4, 10
	var (
		mu       sync.Mutex
		problems []string
	)
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}

	// The server's side: API requests, console pages, and console forms that write.
	stop := make(chan struct{})
	var served atomic.Int64
	var server sync.WaitGroup
	request := func(req *http.Request, client *http.Client, want int, wantText string) {
		resp, err := client.Do(req)
		if err != nil {
			problem("%s %s: %v", req.Method, req.URL.Path, err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || !strings.Contains(string(body), wantText) {
			problem("%s %s = %d, want %d with %q", req.Method, req.URL.Path, resp.StatusCode, want, wantText)
		}
		served.Add(1)
	}
	server.Add(2)
	go func() {
		defer server.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest("GET", n.BaseURL+"/api/platform/v1/whoami", nil)
			req.Header.Set("Authorization", bearer)
			request(req, http.DefaultClient, 200, `"key_type":"team"`)
			req, _ = http.NewRequest("GET", n.BaseURL+"/admin/services/"+svc["id"].(string)+"/team", nil)
			request(req, reader.client, 200, "Busy service")
		}
	}()
	go func() {
		defer server.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("Console organisation %d", i)
			req, _ := http.NewRequest("POST", n.BaseURL+"/admin/organisations", strings.NewReader(url.Values{"name": {name}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			request(req, writer.client, 200, "Organisation created: "+name)
		}
	}()

	// The operators' side: admin commands, several at once, each one a process of its own.
	// Each invitation leaves a job for the server to work, which writes to the outbox.
	var cli sync.WaitGroup
	var invitations atomic.Int64
	for w := range cliWorkers {
		cli.Add(1)
		go func() {
			defer cli.Done()
			run := func(args ...string) string {
				r, err := runCommons(env, append([]string{"admin"}, args...)...)
				if err != nil {
					problem("commons admin %v: %v", args, err)
					return ""
				}
				if r.code != 0 {
					problem("commons admin %v: exit %d: %s", args, r.code, strings.TrimSpace(r.stderr))
					return ""
				}
				return r.stdout
			}
			for i := range rounds {
				out := run("create-service", "--name", fmt.Sprintf("CLI service %d-%d", w, i))
				id := idFrom(out)
				if id == "" {
					continue
				}
				run("create-api-key", "--service", id, "--type", "test", "--name", "cli key")
				if run("create-user", "--email", fmt.Sprintf("cli-%d-%d@example.gov.uk", w, i), "--service", id,
					"--permissions", "send_messages") != "" {
					invitations.Add(1)
				}
			}
		}()
	}
	cli.Wait()
	close(stop)
	server.Wait()

	// Every invitation job ran on the server.
	want := fmt.Sprintf(`commons_jobs{kind="mail.send",state="completed"} %d`, invitations.Load())
	waitFor(t, "the invitation jobs to run", func() bool {
		_, m := n.get("/metrics", "")
		return strings.Contains(m, want)
	})

	for _, p := range problems {
		t.Error(p)
	}
	for _, word := range []string{"database is locked", "SQLITE_BUSY"} {
		if strings.Contains(n.logs(), word) {
			t.Errorf("the server logged %q", word)
		}
	}
	t.Logf("%d admin commands beside %d requests served", cliWorkers*rounds*3, served.Load())
	if served.Load() == 0 {
		t.Error("the server served no requests while the admin commands ran")
	}
}

// idFrom returns the "id" field of an admin command's JSON output.
func idFrom(out string) string {
	_, rest, ok := strings.Cut(out, `"id":"`)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, `"`)
	return id
}
