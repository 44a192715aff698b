package web

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRequestIDAcceptsSaneAndReplacesOthers(t *testing.T) {
	var seen string
	h := RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = RequestIDFrom(r.Context()) }))
	for in, keep := range map[string]bool{
		"abc-123_X.y:z":           true,
		"":                        false,
		"has space":               false,
		"new\nline":               false,
		strings.Repeat("a", 129):  false,
		"5f1c7a2e-0c1b-4c39-9f4e": true,
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set(HeaderRequestID, in)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := rec.Header().Get(HeaderRequestID)
		if out != seen || out == "" {
			t.Errorf("%q: header %q, context %q", in, out, seen)
		}
		if (out == in) != keep {
			t.Errorf("%q: kept=%v, want %v", in, out == in, keep)
		}
	}
}

func TestAccessLogRecordsRouteNotPathOrSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	mux := http.NewServeMux()
	mux.Handle("GET /admin/link/{token}", APIHandler(func(w http.ResponseWriter, r *http.Request) error {
		w.Write([]byte("hello"))
		return nil
	}))
	h := Chain(mux, RequestID, AccessLog(logger))
	req := httptest.NewRequest("GET", "/admin/link/secret-token?email=a@b.c", nil)
	req.Header.Set("Authorization", "Bearer secret-key")
	req.Header.Set("Cookie", "commons_session=secret-session")
	h.ServeHTTP(httptest.NewRecorder(), req)

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log is not one JSON line: %v: %s", err, buf.String())
	}
	if line["route"] != "/admin/link/{token}" || line["method"] != "GET" || line["status"] != 200.0 || line["bytes"] != 5.0 {
		t.Fatalf("log line %v", line)
	}
	if line["request_id"] == "" || line["duration_ms"] == nil {
		t.Fatalf("log line %v", line)
	}
	if s := buf.String(); strings.Contains(s, "secret") || strings.Contains(s, "a@b.c") {
		t.Fatalf("log leaks: %s", s)
	}
}

func TestInternalCauseLoggedOnceNeverSent(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	h := Chain(APIHandler(func(w http.ResponseWriter, r *http.Request) error {
		return errSecretCause
	}), RequestID, AccessLog(logger))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "disk") {
		t.Fatalf("response %d %s", rec.Code, rec.Body)
	}
	if n := strings.Count(buf.String(), "disk on fire"); n != 1 {
		t.Fatalf("cause logged %d times: %s", n, buf.String())
	}
	if !strings.Contains(buf.String(), rec.Header().Get(HeaderRequestID)) || !strings.Contains(buf.String(), `"level":"ERROR"`) {
		t.Fatalf("cause not logged with request id at error level: %s", buf.String())
	}
}

var errSecretCause = &secretErr{}

type secretErr struct{}

func (*secretErr) Error() string { return "disk on fire" }

func TestRecoverTurnsPanicInto500(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	h := Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }),
		RequestID, AccessLog(logger), Recover(logger))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	if !strings.Contains(buf.String(), "panic: boom") || !strings.Contains(buf.String(), "stack") {
		t.Fatalf("panic not logged: %s", buf.String())
	}
	if strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("panic value leaked: %s", rec.Body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for base, hsts := range map[string]bool{"https://commons.example": true, "http://localhost:8080": false} {
		rec := httptest.NewRecorder()
		SecurityHeaders(base)(ok).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		h := rec.Header()
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: %v", base, h)
		}
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "script-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP allows inline code: %q", csp)
		}
		if (h.Get("Strict-Transport-Security") != "") != hsts {
			t.Errorf("%s: HSTS %q", base, h.Get("Strict-Transport-Security"))
		}
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	csrf, err := CrossOrigin("http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	called := 0
	h := csrf(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called++ }))
	post := func(headers map[string]string) int {
		req := httptest.NewRequest("POST", "http://localhost:8080/admin/sign-out", nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := post(map[string]string{"Sec-Fetch-Site": "cross-site", "Accept": "text/html"}); code != 403 {
		t.Fatalf("cross-site POST: %d", code)
	}
	if code := post(map[string]string{"Origin": "https://evil.example"}); code != 403 {
		t.Fatalf("foreign Origin POST: %d", code)
	}
	if called != 0 {
		t.Fatal("handler ran for a refused request")
	}
	if code := post(map[string]string{"Sec-Fetch-Site": "same-origin"}); code != 200 {
		t.Fatalf("same-origin POST: %d", code)
	}
	if code := post(nil); code != 200 {
		t.Fatalf("non-browser POST: %d", code)
	}
}

func TestMetricsLabelRoutesByPattern(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	mux := http.NewServeMux()
	mux.Handle("GET /v1/payments/{id}", APIHandler(func(w http.ResponseWriter, r *http.Request) error { return nil }))
	h := Chain(mux, RequestID, m.Middleware)
	for _, p := range []string{"/v1/payments/a", "/v1/payments/b", "/nowhere/1", "/nowhere/2"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/v1/payments/a", nil))

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "commons_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				key += l.GetName() + "=" + l.GetValue() + " "
			}
			got[key] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"method=GET route=/v1/payments/{id} status=200 ": 2,
		"method=GET route=unmatched status=404 ":         2,
		"method=other route=unmatched status=405 ":       1,
	}
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("series %v, want %v", got, want)
		}
	}
}

func TestStackOrder(t *testing.T) {
	stack, err := Stack(StackConfig{Logger: slog.New(slog.DiscardHandler), BaseURL: "https://commons.example"})
	if err != nil {
		t.Fatal(err)
	}
	h := stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("x") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || rec.Header().Get("Strict-Transport-Security") == "" || rec.Header().Get(HeaderRequestID) == "" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
}

// BenchmarkStack measures what the standard stack adds to a request that does nothing, which
// bounds the overhead every API request pays. The access log is JSON, as in production, written
// to io.Discard; each sub-benchmark adds one layer, so the differences price each layer.
func BenchmarkStack(b *testing.B) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.Handle("GET /v1/ping", APIHandler(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(204)
		return nil
	}))
	full, err := Stack(StackConfig{Logger: logger, BaseURL: "https://commons.example", Metrics: NewMetrics(prometheus.NewRegistry())})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", mux},
		{"request-id", Chain(mux, RequestID)},
		{"access-log", Chain(mux, RequestID, AccessLog(logger))},
		{"metrics", Chain(mux, RequestID, NewMetrics(prometheus.NewRegistry()).Middleware)},
		{"security-headers", Chain(mux, SecurityHeaders("https://commons.example"))},
		{"stack", full(mux)},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/ping", nil)
			w := &discardWriter{}
			b.ReportAllocs()
			for b.Loop() {
				w.header = make(http.Header) // as net/http gives each response
				c.h.ServeHTTP(w, req)
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so that benchmarks price the handler
// rather than httptest.ResponseRecorder's copying.
type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
