package e2e

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/mail"
	"github.com/commons-gov/commons/internal/secret"
)

// TestTwoNodesShareOneDatabase runs two `commons serve` processes on one PostgreSQL database,
// as a deployment behind a load balancer does: either node answers for keys made anywhere,
// they share the job queue without running any job twice, and a key revoked on one is
// refused by the other within the authenticator's cache lifetime.
func TestTwoNodesShareOneDatabase(t *testing.T) {
	env := engineEnv(t, db.Postgres)
	// One explicit key for both, as production has; --dev keeps the outbox as the mail sender.
	env = append(env, "COMMONS_SECRET_KEY="+secret.Generate())
	a := startNode(t, env, "--dev")
	b := startNode(t, env, "--dev")

	svc := adminJSON(t, env, "create-service", "--name", "Shared service")
	serviceID := svc["id"].(string)
	key := adminJSON(t, env, "create-api-key", "--service", serviceID, "--type", "live", "--name", "shared key")
	bearer := "Bearer " + key["key"].(string)

	t.Run("both nodes serve", func(t *testing.T) {
		for _, n := range []*node{a, b} {
			if status, body := n.get("/readyz", ""); status != 200 || !strings.Contains(body, `"ready"`) {
				t.Errorf("%s /readyz = %d %s", n.BaseURL, status, body)
			}
			status, body := n.get("/api/platform/v1/whoami", bearer)
			if status != 200 || !strings.Contains(body, `"service_id":"`+serviceID+`"`) || !strings.Contains(body, `"key_id":"`+key["id"].(string)+`"`) {
				t.Errorf("%s whoami = %d %s", n.BaseURL, status, body)
			}
		}
	})

	t.Run("jobs are shared without duplicates", func(t *testing.T) {
		sharedJobs(t, env[0][len("COMMONS_DATABASE_URL="):], a, b)
	})

	t.Run("a key revoked on one node is refused by the other", func(t *testing.T) {
		console := signedInAdmin(t, env, a, "revoker@example.gov.uk")
		// Node B has just checked the key, so it holds the service's keys in its cache.
		if status, body := b.get("/api/platform/v1/whoami", bearer); status != 200 {
			t.Fatalf("node B whoami before revoking = %d %s", status, body)
		}
		keysPage := "/admin/services/" + serviceID + "/api-keys"
		revoke := keysPage + "/" + key["id"].(string) + "/revoke"
		if status, body := console.get(revoke); status != 200 || !strings.Contains(body, "shared key") {
			t.Fatalf("node A revoke page = %d\n%s", status, body)
		}
		status, body := console.post(revoke, url.Values{})
		if status != 200 || !strings.Contains(body, "API key revoked: shared key") {
			t.Fatalf("revoking on node A = %d, want the API keys page saying it was revoked\n%s", status, body)
		}

		// Node B refuses the key once its cached copy of the service's keys expires
		// (apiauth.CacheTTL); the bound here is generous, the cache lifetime is short.
		var lastStatus int
		var lastBody string
		revoked := time.Now()
		deadline := revoked.Add(5 * time.Second)
		for time.Now().Before(deadline) {
			lastStatus, lastBody = b.get("/api/platform/v1/whoami", bearer)
			if lastStatus != 200 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if lastStatus != 403 || !strings.Contains(lastBody, "revoked") {
			t.Fatalf("node B whoami after revoking on node A = %d %s; want 403 saying the key was revoked", lastStatus, lastBody)
		}
		t.Logf("node B refused the revoked key after %s", time.Since(revoked).Round(time.Millisecond))
		// And it keeps refusing it: nothing brings a revoked key back.
		if status, body := b.get("/api/platform/v1/whoami", bearer); status != 403 {
			t.Fatalf("node B whoami later = %d %s", status, body)
		}
		if status, body := a.get("/api/platform/v1/whoami", bearer); status != 403 || !strings.Contains(body, "revoked") {
			t.Fatalf("node A whoami after revoking = %d %s", status, body)
		}

		// Sessions live in the database too: the same browser session works on node B.
		other := &browser{t: t, base: b.BaseURL, client: console.client}
		status, body = other.get(keysPage)
		if status != 200 || !strings.Contains(body, "Revoked ") || strings.Contains(body, "/revoke\"") {
			t.Fatalf("node B API keys page for node A's session = %d, want the key shown as revoked\n%s", status, body)
		}
	})
}

// sharedJobs inserts batches of mail jobs from outside both nodes and checks that the nodes
// share them: each job runs exactly once, each message reaches the outbox exactly once, and
// both nodes' job clients did some of the work.
//
// Each node works up to jobs.DefaultMaxWorkers jobs at once and looks for more every
// jobs.DefaultFetchPollInterval, so a batch of hundreds keeps one node busy for far longer
// than the other takes to notice it. Should one node nevertheless finish a batch alone, the
// next batch gives the other another chance; a node that never takes any job fails.
func sharedJobs(t *testing.T, databaseURL string, nodes ...*node) {
	ctx := context.Background()
	d, err := db.Open(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// An insert-only client (Work is false): the worker is registered only so that the kind
	// is known, and never runs here; the nodes run the jobs.
	workers := river.NewWorkers()
	river.AddWorker(workers, &mail.Worker{Sender: mail.OutboxSender{}})
	inserter, err := jobs.New(d, jobs.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}

	clientIDs := make([]string, len(nodes))
	for i, n := range nodes {
		clientIDs[i] = n.riverClientID(t)
	}
	if clientIDs[0] == clientIDs[1] {
		t.Fatalf("both nodes work under the job client id %q", clientIDs[0])
	}

	const batch, maxBatches = 400, 3
	const reference = "e2e-shared-jobs"
	total := 0
	for round := 1; round <= maxBatches; round++ {
		params := make([]river.InsertManyParams, batch)
		for i := range params {
			params[i] = river.InsertManyParams{Args: mail.SendArgs{Message: mail.Message{
				ID:        fmt.Sprintf("e2e-shared-%d-%04d", round, i),
				To:        fmt.Sprintf("person%d@example.gov.uk", i),
				Subject:   "Shared job",
				Body:      "One of many.",
				Reference: reference,
			}}}
		}
		if _, err := inserter.River().InsertMany(ctx, params); err != nil {
			t.Fatalf("insert jobs: %v", err)
		}
		total += batch

		waitFor(t, fmt.Sprintf("all %d jobs to complete", total), func() bool {
			var done int
			err := d.QueryRow(ctx, `SELECT count(*) FROM river_job
				WHERE kind = 'mail.send' AND args->'message'->>'reference' = ? AND state = 'completed'`, reference).Scan(&done)
			if err != nil {
				t.Fatalf("count completed jobs: %v", err)
			}
			return done == total
		})

		workedBy := map[string]int{}
		rows, err := d.Query(ctx, `SELECT w, count(*) FROM river_job, unnest(attempted_by) AS w
			WHERE kind = 'mail.send' AND args->'message'->>'reference' = ? GROUP BY w`, reference)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				t.Fatal(err)
			}
			workedBy[id] = n
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		for id := range workedBy {
			if !slices.Contains(clientIDs, id) {
				t.Fatalf("a job was worked by %q, which is neither node (%v)", id, clientIDs)
			}
		}
		t.Logf("after %d jobs, work by node: %v", total, workedBy)
		if workedBy[clientIDs[0]] > 0 && workedBy[clientIDs[1]] > 0 {
			break
		}
		if round == maxBatches {
			t.Fatalf("after %d jobs only %v did any work; want both of %v", total, workedBy, clientIDs)
		}
	}

	// Every job ran once: one attempt, by one client, and no job is in any other state.
	var jobsTotal, onceOnly int
	if err := d.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'completed' AND attempt = 1 AND cardinality(attempted_by) = 1)
		FROM river_job WHERE kind = 'mail.send' AND args->'message'->>'reference' = ?`, reference).Scan(&jobsTotal, &onceOnly); err != nil {
		t.Fatal(err)
	}
	if jobsTotal != total || onceOnly != total {
		t.Fatalf("%d jobs, %d completed at the first attempt by one node; want %d of each", jobsTotal, onceOnly, total)
	}
	// Every message reached the outbox exactly once.
	var rowsTotal, ids int
	if err := d.QueryRow(ctx, `SELECT count(*), count(DISTINCT id) FROM outbox_messages WHERE reference = ?`, reference).Scan(&rowsTotal, &ids); err != nil {
		t.Fatal(err)
	}
	if rowsTotal != total || ids != total {
		t.Fatalf("the outbox holds %d rows for %d message ids; want %d of each", rowsTotal, ids, total)
	}
	var missing int
	if err := d.QueryRow(ctx, `SELECT count(*) FROM river_job j WHERE j.kind = 'mail.send' AND j.args->'message'->>'reference' = ?
		AND NOT EXISTS (SELECT 1 FROM outbox_messages o WHERE o.id = j.args->'message'->>'id')`, reference).Scan(&missing); err != nil {
		t.Fatal(err)
	}
	if missing != 0 {
		t.Fatalf("%d completed jobs have no outbox message", missing)
	}
}
