package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/ratelimit"
	"github.com/commons-gov/commons/internal/secret"
)

// The /v2 API tested through a real mux and a real database on each engine, with JWTs signed
// as the official clients sign them.

func migrateV2(ctx context.Context, d *db.DB) error {
	if err := jobs.Migrate(ctx, d); err != nil {
		return err
	}
	return d.Migrate(ctx, platform.Migrations, outbox.Migrations, ratelimit.Migrations, Migrations)
}

// v2HoldDelivery stands in for the delivery worker: these tests look at what a send stores and
// queues, not at what delivery then does with it.
type v2HoldDelivery struct {
	river.WorkerDefaults[DeliverArgs]
}

func (v2HoldDelivery) Work(context.Context, *river.Job[DeliverArgs]) error { return nil }

// v2HoldBatch stands in for the batch delivery worker, as v2HoldDelivery for the single one.
type v2HoldBatch struct {
	river.WorkerDefaults[DeliverBatchArgs]
}

func (v2HoldBatch) Work(context.Context, *river.Job[DeliverBatchArgs]) error { return nil }

// v2Clock is a settable clock shared by the service, the authenticator and the limiter.
type v2Clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *v2Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *v2Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// v2Tenant is one service with a key of each type.
type v2Tenant struct {
	id                        string
	liveKey, teamKey, testKey string
	emailTemplate             Template
	smsTemplate               Template
	letterTemplate            Template
}

type v2Fixture struct {
	t        testing.TB
	ctx      context.Context
	d        *db.DB
	svc      *Service
	platform *platform.Store
	auth     *apiauth.Authenticator
	clock    *v2Clock
	srv      *httptest.Server
	a, b     v2Tenant
}

// newV2Fixture makes two live services, A and B, each with keys of every type and one
// template per channel, served through MountV2.
func newV2Fixture(t testing.TB, d *db.DB) *v2Fixture {
	t.Helper()
	ctx := context.Background()
	ring, err := secret.ParseKeyring(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	clock := &v2Clock{t: time.Date(2026, 5, 12, 9, 30, 15, 123456000, time.UTC)}
	p := platform.New(d, ring)
	p.Now = clock.Now
	auth := apiauth.New(p)
	auth.Now = clock.Now
	limiter := ratelimit.New(d)
	limiter.Now = clock.Now
	workers := river.NewWorkers()
	river.AddWorker(workers, v2HoldDelivery{})
	river.AddWorker(workers, v2HoldBatch{})
	jc, err := jobs.New(d, jobs.Config{Workers: workers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	svc := New(Config{DB: d, Jobs: jc, Platform: p, Auth: auth, Limiter: limiter, Keyring: ring,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BaseURL: "http://commons.test"})
	svc.Now = clock.Now
	mux := http.NewServeMux()
	svc.MountV2(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f := &v2Fixture{t: t, ctx: ctx, d: d, svc: svc, platform: p, auth: auth, clock: clock, srv: srv}
	f.a = f.newTenant("Service A", true, nil)
	f.b = f.newTenant("Service B", true, nil)
	return f
}

// newTenant creates a service with keys and templates. perms nil means the defaults plus
// international text messages.
func (f *v2Fixture) newTenant(name string, live bool, perms []string) v2Tenant {
	f.t.Helper()
	if perms == nil {
		perms = []string{platform.ServiceEmail, platform.ServiceSMS, platform.ServiceLetter, platform.ServiceInternationalSMS}
	}
	s, err := f.platform.CreateService(f.ctx, platform.CLIActor, platform.NewService{Name: name, Live: live, Permissions: perms})
	if err != nil {
		f.t.Fatal(err)
	}
	tn := v2Tenant{id: s.ID}
	for _, k := range []struct {
		typ apiauth.KeyType
		dst *string
	}{{apiauth.Live, &tn.liveKey}, {apiauth.Team, &tn.teamKey}, {apiauth.Test, &tn.testKey}} {
		_, key, err := f.platform.CreateAPIKey(f.ctx, platform.CLIActor, s.ID, string(k.typ)+" key", k.typ)
		if err != nil {
			f.t.Fatal(err)
		}
		*k.dst = key
	}
	tn.emailTemplate = f.template(s.ID, TemplateInput{Name: "Welcome", Type: Email, Subject: "Hello ((name))",
		Content: "Hello ((name))\r\n\r\nFunctional test help make our world a better place"})
	tn.smsTemplate = f.template(s.ID, TemplateInput{Name: "Code", Type: SMS,
		Content: "Hello ((name))\n\nFunctional Tests make our world a better place"})
	tn.letterTemplate = f.template(s.ID, TemplateInput{Name: "Letter", Type: Letter, Subject: "Your licence",
		Content: "Hello ((address_line_1))", Postage: "second"})
	return tn
}

func (f *v2Fixture) template(serviceID string, in TemplateInput) Template {
	f.t.Helper()
	t, err := f.svc.CreateTemplate(f.ctx, serviceID, "author@example.gov.uk", in)
	if err != nil {
		f.t.Fatal(err)
	}
	return t
}

// token signs a JWT as the clients do: iss the service id, iat now, HS256 with the secret.
func v2Token(key string, iat time.Time) string {
	serviceID, secretPart, err := apiauth.ParseKey(key)
	if err != nil {
		panic(err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString(fmt.Appendf(nil, `{"iss":%q,"iat":%d}`, serviceID, iat.Unix()))
	mac := hmac.New(sha256.New, []byte(secretPart))
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

// v2Response is a decoded reply.
type v2Response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request signed with key ("" for no Authorization header).
func (f *v2Fixture) do(method, path, key string, body any) v2Response {
	f.t.Helper()
	var rdr io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rdr = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rdr = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rdr)
	if err != nil {
		f.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+v2Token(key, f.clock.Now()))
	}
	req.Header.Set("Content-Type", "application/json")
	return f.send(req)
}

func (f *v2Fixture) send(req *http.Request) v2Response {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := v2Response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			f.t.Fatalf("%s %s: body is not a JSON object: %s", req.Method, req.URL.Path, raw)
		}
	}
	return r
}

// wantError checks a /v2 error reply: status, and each (type, message) item in order.
func (r v2Response) wantError(t *testing.T, status int, items ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	if got, _ := r.body["status_code"].(float64); int(got) != status {
		t.Fatalf("status_code %v, want %d; body %s", r.body["status_code"], status, r.raw)
	}
	errs, _ := r.body["errors"].([]any)
	if len(errs) != len(items)/2 {
		t.Fatalf("%d errors, want %d; body %s", len(errs), len(items)/2, r.raw)
	}
	for i := range errs {
		e := errs[i].(map[string]any)
		if e["error"] != items[2*i] || e["message"] != items[2*i+1] {
			t.Fatalf("error %d = %v: %v, want %s: %s", i, e["error"], e["message"], items[2*i], items[2*i+1])
		}
	}
}

func (r v2Response) want(t *testing.T, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
}

// count runs a count(*) query.
func (f *v2Fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRow(f.ctx, query, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func eachV2(t *testing.T, fn func(t *testing.T, f *v2Fixture)) {
	dbtest.Each(t, migrateV2, func(t *testing.T, d *db.DB) { fn(t, newV2Fixture(t, d)) })
}

func TestV2AuthenticationFailures(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		now := f.clock.Now()
		serviceID, _, _ := apiauth.ParseKey(f.a.liveKey)
		revoked := f.revokedKey(f.a.id)
		cases := []struct {
			name, header string
			status       int
			message      string
		}{
			{"no header", "", 401, "Unauthorized: authentication token must be provided"},
			{"basic", "Basic abc", 401, "Unauthorized: authentication bearer scheme must be used"},
			{"not a jwt", "Bearer nope", 403, "Invalid token: make sure your API token matches the example at https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header"},
			{"no iss", "Bearer " + signV2Claims(`{"iat":1}`, "x"), 403, "Invalid token: iss field not provided"},
			{"iss not uuid", "Bearer " + signV2Claims(`{"iss":"abc","iat":1}`, "x"), 403, "Invalid token: service id is not the right data type"},
			{"unknown service", "Bearer " + signV2Claims(fmt.Sprintf(`{"iss":"3d1b3c3e-9b9f-4c52-8a0e-1d9f7e2b4a11","iat":%d}`, now.Unix()), "x"), 403, "Invalid token: service not found"},
			{"clock skew", "Bearer " + v2Token(f.a.liveKey, now.Add(-31*time.Second)), 403, "Error: Your system clock must be accurate to within 30 seconds"},
			{"revoked key", "Bearer " + v2Token(revoked, now), 403, "Invalid token: API key revoked"},
			{"unknown key", "Bearer " + signV2Claims(fmt.Sprintf(`{"iss":%q,"iat":%d}`, serviceID, now.Unix()), "00000000-0000-4000-8000-000000000000"), 403, "Invalid token: API key not found"},
		}
		for _, path := range []struct{ method, path string }{
			{"GET", "/v2/notifications"}, {"POST", "/v2/notifications/email"}, {"GET", "/v2/templates"},
			{"GET", "/v2/notifications/not-a-uuid"}, {"POST", "/v2/template/x/preview"}, {"GET", "/v2/received-text-messages"},
		} {
			for _, c := range cases {
				req, _ := http.NewRequest(path.method, f.srv.URL+path.path, strings.NewReader("not json"))
				if c.header != "" {
					req.Header.Set("Authorization", c.header)
				}
				f.send(req).wantError(t, c.status, "AuthError", c.message)
			}
		}
		// Authentication comes before the rate limit: failed attempts take no tokens.
		if n := f.count("SELECT count(*) FROM ratelimit_buckets"); n != 0 {
			t.Fatalf("%d rate limit buckets touched by unauthenticated requests", n)
		}
	})
}

func signV2Claims(claims, secretPart string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims))
	mac := hmac.New(sha256.New, []byte(secretPart))
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

func (f *v2Fixture) revokedKey(serviceID string) string {
	f.t.Helper()
	k, key, err := f.platform.CreateAPIKey(f.ctx, platform.CLIActor, serviceID, "old", apiauth.Live)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.platform.RevokeAPIKey(f.ctx, platform.CLIActor, serviceID, k.ID); err != nil {
		f.t.Fatal(err)
	}
	f.auth.Forget(serviceID)
	return key
}

// v2UnreachableKeys is a key source whose database refuses connections.
type v2UnreachableKeys struct{}

func (v2UnreachableKeys) ServiceKeys(context.Context, string) (apiauth.ServiceKeys, error) {
	return apiauth.ServiceKeys{}, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
}

// A database that cannot be reached during authentication is a 503 the client may retry, not
// an authentication failure.
func TestV2AuthDuringOutageIs503(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		f.svc.cfg.Auth = apiauth.New(v2UnreachableKeys{})
		r := f.do("GET", "/v2/notifications", f.a.liveKey, nil)
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503; body %s", r.status, r.raw)
		}
		if r.body["status_code"] != float64(503) {
			t.Fatalf("body %s", r.raw)
		}
	})
}

func TestV2UnknownPathsUseTheLegacyShape(t *testing.T) {
	eachV2(t, func(t *testing.T, f *v2Fixture) {
		for _, p := range []string{"/v2/nothing-here", "/v2/template/" + f.a.emailTemplate.ID + "/version/abc"} {
			r := f.do("GET", p, f.a.liveKey, nil)
			r.want(t, 404)
			if r.body["result"] != "error" || !strings.HasPrefix(r.body["message"].(string), "The requested URL was not found") {
				t.Fatalf("%s: body %s", p, r.raw)
			}
		}
		r := f.do("POST", "/v2/notifications/pigeon", f.a.liveKey, map[string]any{})
		r.want(t, 404)
		if r.body["result"] != "error" {
			t.Fatalf("body %s", r.raw)
		}
	})
}
