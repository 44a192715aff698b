package stripepsp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/db/dbtest"
)

// stripe-mock is Stripe's own mock of its API: it checks every request against Stripe's
// OpenAPI description and answers with fixtures. Tests start one on a loopback port the system
// chooses, and read the port from what it prints.

// stripeMockPath finds the stripe-mock binary: COMMONS_STRIPE_MOCK, or bin/stripe-mock at the
// root of the repository (where `make bin/stripe-mock` puts it).
func stripeMockPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("COMMONS_STRIPE_MOCK"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "bin", "stripe-mock")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// startStripeMock runs stripe-mock until the test ends and returns its HTTP address. Without
// the binary the test skips, or fails under COMMONS_REQUIRE_ALL=1.
func startStripeMock(t *testing.T) string {
	t.Helper()
	bin := stripeMockPath(t)
	if _, err := os.Stat(bin); bin == "" || err != nil {
		dbtest.SkipOrFail(t, "stripe-mock not found (run `make bin/stripe-mock`, or set COMMONS_STRIPE_MOCK)")
	}
	// Both listeners on loopback with system-chosen ports: its HTTPS default would otherwise
	// listen on every interface, at a fixed port that parallel runs would fight over.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	found := make(chan string, 1)
	go func() {
		const prefix = "Listening for HTTP at address: "
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				found <- addr
				break
			}
		}
		_, _ = io.Copy(io.Discard, out) // keep its output from blocking it
	}()
	var base string
	select {
	case addr := <-found:
		base = "http://" + addr
	case <-time.After(60 * time.Second):
		t.Fatal("stripe-mock did not start listening within 60 s")
	}

	// Listening is announced just before serving; wait until it answers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(base + "/v1/balance")
		if err == nil {
			res.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock does not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call is one request the adapter sent, as it reached Stripe, and the id in Stripe's answer.
type call struct {
	Method, Path   string
	Form           url.Values // the form body, or the query of a GET
	IdempotencyKey string
	Authorization  string
	Status         int
	ResponseID     string
}

// recorder stands between the adapter and a Stripe API (stripe-mock, or a fake), keeping every
// request, because stripe-mock answers with fixtures and does not say what it was sent.
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	calls []call
}

func newRecorder(t *testing.T, upstream string) *recorder {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(res *http.Response) error {
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		res.Body = io.NopCloser(bytes.NewReader(body))
		var obj struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &obj)
		rec.mu.Lock()
		rec.calls[len(rec.calls)-1].Status = res.StatusCode
		rec.calls[len(rec.calls)-1].ResponseID = obj.ID
		rec.mu.Unlock()
		return nil
	}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if r.Method == http.MethodGet {
			form = r.URL.Query()
		}
		rec.mu.Lock()
		rec.calls = append(rec.calls, call{Method: r.Method, Path: r.URL.Path, Form: form,
			IdempotencyKey: r.Header.Get("Idempotency-Key"), Authorization: r.Header.Get("Authorization")})
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// take returns the calls made since the last take.
func (r *recorder) take() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}
