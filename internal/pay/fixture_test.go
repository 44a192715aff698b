package pay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
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

// The Pay API tested through a real mux and a real database on each engine, with keys made by
// the platform as a service team would make them.

func migrate(ctx context.Context, d *db.DB) error {
	if err := jobs.Migrate(ctx, d); err != nil {
		return err
	}
	return d.Migrate(ctx, platform.Migrations, outbox.Migrations, ratelimit.Migrations, Migrations)
}

// testClock is a settable clock shared by the service and the authenticator.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// tenant is one service with a key of each type.
type tenant struct {
	id                        string
	liveKey, teamKey, testKey string
}

type fixture struct {
	t        testing.TB
	ctx      context.Context
	d        *db.DB
	svc      *Service
	platform *platform.Store
	auth     *apiauth.Authenticator
	jobs     *jobs.Client
	clock    *testClock
	srv      *httptest.Server
	a, b     tenant
}

const testBaseURL = "http://commons.test"

// start is the fixture clock's first reading: 2026-05-12T09:30:15.123456Z.
var start = time.Date(2026, 5, 12, 9, 30, 15, 123456000, time.UTC)

// newFixture makes two live services, A and B, each with keys of every type, served through
// Mount. Rate limits are off here (they have a test of their own), so that tests may make as
// many requests as they need.
func newFixture(t testing.TB, d *db.DB, providers map[string]Provider) *fixture {
	t.Helper()
	ctx := context.Background()
	ring, err := secret.ParseKeyring(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: start}
	p := platform.New(d, ring)
	p.Now = clock.Now
	auth := apiauth.New(p)
	auth.Now = clock.Now
	workers := river.NewWorkers()
	jc, err := jobs.New(d, jobs.Config{Workers: workers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	svc := New(Config{DB: d, Jobs: jc, Auth: auth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		BaseURL: testBaseURL + "/", Providers: providers})
	svc.Now = clock.Now
	svc.RegisterWorkers(workers)
	mux := http.NewServeMux()
	svc.Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, ctx: ctx, d: d, svc: svc, platform: p, auth: auth, jobs: jc, clock: clock, srv: srv}
	f.a = f.newTenant("Service A")
	f.b = f.newTenant("Service B")
	return f
}

func (f *fixture) newTenant(name string) tenant {
	f.t.Helper()
	s, err := f.platform.CreateService(f.ctx, platform.CLIActor, platform.NewService{Name: name, Live: true})
	if err != nil {
		f.t.Fatal(err)
	}
	tn := tenant{id: s.ID}
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
	return tn
}

// response is a decoded reply.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request with key as the bearer token ("" for none). body may be a string (sent as
// it is) or anything JSON can encode.
func (f *fixture) do(method, path, key string, body any, headers ...string) response {
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
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			f.t.Fatalf("%s %s: body is not a JSON object: %s", method, path, raw)
		}
	}
	return r
}

// want checks the status.
func (r response) want(t testing.TB, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

// wantJSON checks the status and that the body is exactly want (ignoring want's layout).
func (r response) wantJSON(t testing.TB, status int, want string) {
	t.Helper()
	r.want(t, status)
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(want)); err != nil {
		t.Fatalf("bad expected JSON: %v\n%s", err, want)
	}
	if !bytes.Equal(r.raw, buf.Bytes()) {
		t.Fatalf("body\n got %s\nwant %s", r.raw, buf.Bytes())
	}
}

// wantError checks an error reply: status and exact body.
func (r response) wantError(t testing.TB, status int, want string) {
	t.Helper()
	r.wantJSON(t, status, want)
}

// link returns the href of a link in the body.
func (r response) link(t testing.TB, name string) string {
	t.Helper()
	links, _ := r.body["_links"].(map[string]any)
	l, _ := links[name].(map[string]any)
	href, _ := l["href"].(string)
	if href == "" {
		t.Fatalf("no %s link in %s", name, r.raw)
	}
	return href
}

// webToken is the chargeTokenId of a create or GET response.
func (r response) webToken(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(r.link(t, "next_url"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/pay/secure/")
}

// motoToken is the one_time_token of a moto_api create or GET response.
func (r response) motoToken(t testing.TB) string {
	t.Helper()
	links, _ := r.body["_links"].(map[string]any)
	l, _ := links["auth_url_post"].(map[string]any)
	params, _ := l["params"].(map[string]any)
	tok, _ := params["one_time_token"].(string)
	if tok == "" {
		t.Fatalf("no one_time_token in %s", r.raw)
	}
	return tok
}

// webPayment is a minimal valid create body.
func webPayment(amount int) map[string]any {
	return map[string]any{"amount": amount, "reference": "ref-1", "description": "A licence",
		"return_url": "https://service.example.gov.uk/return"}
}

// create makes a web payment and returns its id and token.
func (f *fixture) create(key string, body map[string]any) (string, string) {
	f.t.Helper()
	r := f.do("POST", "/v1/payments", key, body).want(f.t, http.StatusCreated)
	return r.body["payment_id"].(string), r.webToken(f.t)
}

// card is a sandbox card that authorises.
func card(number string) Card {
	return Card{Number: number, CVC: "123", ExpiryDate: "12/30", CardholderName: "Ada Lovelace",
		BillingAddress: &Address{Line1: "1 Street", City: "London", Postcode: "SW1A 1AA", Country: "GB"}}
}

// pay takes a payment through the card pages: started, authorised with the card, confirmed.
func (f *fixture) pay(token, number string) *Payment {
	f.t.Helper()
	p, err := f.svc.StartWithToken(f.ctx, token)
	if err != nil {
		f.t.Fatal(err)
	}
	if p, err = f.svc.Authorise(f.ctx, p.ID, card(number)); err != nil {
		f.t.Fatal(err)
	}
	if p.Status != StatusAuthorisationSuccess {
		f.t.Fatalf("authorised to %s", p.Status)
	}
	if p, err = f.svc.Confirm(f.ctx, p.ID); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// captured makes a payment of amount with key and takes it all the way to CAPTURED.
func (f *fixture) captured(key string, amount int) string {
	f.t.Helper()
	id, token := f.create(key, webPayment(amount))
	f.pay(token, "4444333322221111")
	if _, err := f.svc.CaptureOnce(f.ctx, id); err != nil {
		f.t.Fatal(err)
	}
	if st := f.status(id); st != StatusCaptured {
		f.t.Fatalf("payment is %s, want CAPTURED", st)
	}
	return id
}

// status reads a payment's internal status.
func (f *fixture) status(id string) Status {
	f.t.Helper()
	var st string
	if err := f.d.QueryRow(f.ctx, "SELECT status FROM pay_payments WHERE id = ?", id).Scan(&st); err != nil {
		f.t.Fatal(err)
	}
	return Status(st)
}

// count runs a count(*) query.
func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRow(f.ctx, query, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// each runs fn on both engines with a fresh fixture.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) { eachWith(t, nil, fn) }

// eachWith is each with providers replacing or adding to the sandbox.
func eachWith(t *testing.T, providers map[string]Provider, fn func(t *testing.T, f *fixture)) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		fn(t, newFixture(t, d, providers))
	})
}

// errProvider is a provider that cannot be reached.
var errProvider = errors.New("provider unreachable")
