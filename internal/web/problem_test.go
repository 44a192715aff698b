package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/failure"
	_ "github.com/jackc/pgx/v5/stdlib"
)

func serveAPI(t *testing.T, err error) (*httptest.ResponseRecorder, Problem) {
	t.Helper()
	h := Chain(APIHandler(func(w http.ResponseWriter, r *http.Request) error { return err }), RequestID)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/things", nil))
	var p Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
	}
	return rec, p
}

func TestAPIHandlerMapsFailureKinds(t *testing.T) {
	cases := []struct {
		err    error
		status int
	}{
		{failure.New(failure.Invalid, "bad"), 400},
		{failure.New(failure.NotFound, "no such thing"), 404},
		{failure.New(failure.Conflict, "already"), 409},
		{failure.New(failure.Unauthenticated, "who are you"), 401},
		{failure.New(failure.Forbidden, "not yours"), 403},
		{failure.New(failure.RateLimited, "slow down"), 429},
		{failure.New(failure.Unavailable, "down"), 503},
		{failure.New(failure.Internal, "secret detail"), 500},
		{errors.New("raw secret detail"), 500},
	}
	for _, c := range cases {
		rec, p := serveAPI(t, c.err)
		if rec.Code != c.status || p.Status != c.status {
			t.Errorf("%v: status %d/%d, want %d", c.err, rec.Code, p.Status, c.status)
		}
		if ct := rec.Header().Get("Content-Type"); ct != ContentTypeProblem {
			t.Errorf("%v: content type %q", c.err, ct)
		}
		if p.Type != "about:blank" || p.Title != http.StatusText(c.status) {
			t.Errorf("%v: type %q title %q", c.err, p.Type, p.Title)
		}
		if p.RequestID == "" || p.RequestID != rec.Header().Get(HeaderRequestID) {
			t.Errorf("%v: request id %q vs header %q", c.err, p.RequestID, rec.Header().Get(HeaderRequestID))
		}
		if c.status == 500 && strings.Contains(rec.Body.String(), "secret") {
			t.Errorf("internal detail leaked: %s", rec.Body)
		}
	}
}

func TestAPIHandlerListsFieldErrors(t *testing.T) {
	err := errors.Join(failure.Field("email", "Enter an email address"), failure.Field("name", "Enter a name"))
	rec, p := serveAPI(t, fmt.Errorf("create: %w", err))
	if rec.Code != 400 {
		t.Fatalf("status %d", rec.Code)
	}
	want := []FieldProblem{{"email", "Enter an email address"}, {"name", "Enter a name"}}
	if len(p.Errors) != 2 || p.Errors[0] != want[0] || p.Errors[1] != want[1] {
		t.Fatalf("errors %+v, want %+v", p.Errors, want)
	}
}

func TestAPIHandlerWritesNothingOnSuccess(t *testing.T) {
	h := APIHandler(func(w http.ResponseWriter, r *http.Request) error {
		WriteJSON(w, http.StatusCreated, "", map[string]string{"id": "x"})
		return nil
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	if rec.Code != 201 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestDatabaseOutageIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	rec, p := serveAPI(t, fmt.Errorf("load service: %w", refused))
	if rec.Code != 503 || p.Status != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("got %d %+v", rec.Code, p)
	}
	if strings.Contains(rec.Body.String(), "refused") {
		t.Fatalf("cause leaked: %s", rec.Body)
	}
	// A classified failure keeps its kind even when a network error is inside it.
	if IsUnavailable(failure.Wrap(failure.NotFound, refused, "no such service")) {
		t.Fatal("a NotFound failure was treated as an outage")
	}
	if IsUnavailable(errors.New("syntax error")) || IsUnavailable(nil) {
		t.Fatal("ordinary errors are not outages")
	}
	if !failure.Is(Unavailable(refused), failure.Unavailable) {
		t.Fatal("Unavailable did not classify a refused connection")
	}
}

// A real driver against a port where nothing listens reports the outage the way a stopped
// PostgreSQL server does.
func TestRealDriverConnectionRefusedIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	d, err := sql.Open("pgx", "postgres://nobody@"+addr+"/none?connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.PingContext(context.Background())
	if err == nil {
		t.Fatal("ping of a closed port succeeded")
	}
	if !IsUnavailable(err) {
		t.Fatalf("not treated as unavailable: %T %v", err, err)
	}
}

type sqlState string

func (s sqlState) Error() string    { return "server says " + string(s) }
func (s sqlState) SQLState() string { return string(s) }

func TestServerShutdownStatesAreUnavailable(t *testing.T) {
	for _, state := range []string{"57P01", "08006", "57P03"} {
		if !IsUnavailable(sqlState(state)) {
			t.Errorf("%s not unavailable", state)
		}
	}
	if IsUnavailable(sqlState("23505")) {
		t.Error("a unique violation is not an outage")
	}
}

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	for in, want := range map[string]string{
		`{"name":"a","count":1}`:    "",
		`{"name":"a","extra":true}`: "unknown field",
		`{"name":`:                  "not valid JSON",
		``:                          "empty",
		`{"count":"x"}`:             "count must be a number",
		`{"name":"a"} {"name":"b"}`: "single JSON document",
		`{"name":"` + strings.Repeat("x", MaxJSONBytes) + `"}`: "bytes or fewer",
	} {
		var b body
		req := httptest.NewRequest("POST", "/", strings.NewReader(in))
		err := DecodeJSON(httptest.NewRecorder(), req, &b)
		if want == "" {
			if err != nil {
				t.Errorf("%.40s: %v", in, err)
			}
			continue
		}
		if !failure.Is(err, failure.Invalid) || !strings.Contains(failure.Message(err), want) {
			t.Errorf("%.40s: got %v, want Invalid containing %q", in, err, want)
		}
	}
}
