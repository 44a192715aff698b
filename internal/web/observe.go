package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// recorder remembers the status and size of a response for the access log and metrics. One
// recorder serves every layer: a layer that finds one already in place reuses it.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func record(w http.ResponseWriter, info *requestInfo) *recorder {
	if rec, ok := w.(*recorder); ok {
		return rec
	}
	if info != nil && info.rec.ResponseWriter == nil {
		info.rec.ResponseWriter = w
		return &info.rec
	}
	return &recorder{ResponseWriter: w}
}

// WriteHeader records the first final status.
func (rec *recorder) WriteHeader(code int) {
	// Informational responses (103 Early Hints) are not the final status.
	if rec.status == 0 && code >= 200 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

// Write counts the bytes of the body; a body without a status is a 200.
func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flushing, deadlines).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// Flush passes flushes through for handlers that stream.
func (rec *recorder) Flush() {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

// statusOf returns the final status, which is 200 when the handler wrote nothing at all.
func (rec *recorder) statusOf() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// AccessLog writes one JSON-friendly line per request: request id, method, route pattern,
// status, duration and bytes, plus the internal cause of a failure. It never logs the path or
// query (they can hold one-time tokens and personal data), nor headers, so that Authorization
// values and cookies cannot leak into logs.
//
// Every request pays for this line, so it is built with as little work as slog allows: the
// record goes straight to the handler (Logger.LogAttrs would also capture the caller's program
// counter, which nothing here uses), and it reuses the clock reading taken for the duration.
func AccessLog(logger *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info := infoFrom(r.Context())
			start := startOf(info)
			rec := record(w, info)
			next.ServeHTTP(rec, r)
			status := rec.statusOf()
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			ctx := r.Context()
			h := logger.Handler()
			if !h.Enabled(ctx, level) {
				return
			}
			end := endOf(info)
			line := slog.NewRecord(end, level, "request", 0)
			if info != nil {
				line.AddAttrs(slog.String("request_id", info.id))
			}
			line.AddAttrs(
				slog.String("method", methodOf(r)),
				slog.String("route", routeOf(r)),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(end.Sub(start).Microseconds())/1000),
				slog.Int64("bytes", rec.bytes),
			)
			if info != nil && info.err != nil {
				line.AddAttrs(slog.String("error", info.err.Error()))
				if info.stack != nil {
					line.AddAttrs(slog.String("stack", string(info.stack)))
				}
			}
			_ = h.Handle(ctx, line)
		})
	}
}

// startOf returns when the stack began serving a request: the time RequestID noted, or now
// outside RequestID. endOf returns when it was served: the first layer to ask reads the clock
// and later layers reuse the reading. The access log and metrics share both readings, which
// matters where reading the clock costs a good fraction of a microsecond (on virtual machines).
func startOf(info *requestInfo) time.Time {
	if info != nil {
		return info.start
	}
	return time.Now()
}

func endOf(info *requestInfo) time.Time {
	if info == nil {
		return time.Now()
	}
	if info.end.IsZero() {
		info.end = time.Now()
	}
	return info.end
}

// Recover turns a panic in a handler into a 500 response and a logged error with its stack, so
// that one bad request cannot take the process down or leave the client hanging. A panic with
// http.ErrAbortHandler is the standard way to abort a response and is passed on.
func Recover(logger *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := record(w, infoFrom(r.Context()))
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err := fmt.Errorf("panic: %v", v)
				stack := debug.Stack()
				if info := infoFrom(r.Context()); info != nil {
					info.err, info.stack = err, stack
				} else {
					logger.ErrorContext(r.Context(), "request panicked", "error", err.Error(), "stack", string(stack))
				}
				if rec.status == 0 {
					writeBareError(rec, r, http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// Metrics counts requests and measures their latency by route. Routes are mux patterns, never
// paths, methods are the standard ones or "other", and statuses are three digits, so the
// number of series stays bounded however clients behave.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// series caches the children for each label combination seen, because resolving labels
	// through the vectors hashes every label string on every request; the cache makes the
	// common case one map lookup.
	series sync.Map // seriesKey → *seriesPair
}

type seriesKey struct {
	route, method string
	status        int
}

type seriesPair struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// NewMetrics creates the HTTP metrics and registers them with reg. Registering twice is a
// wiring mistake at start-up, so it panics like prometheus.MustRegister.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "commons_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "commons_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Middleware records each request once it has been served.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r.Context())
		start := startOf(info)
		rec := record(w, info)
		next.ServeHTTP(rec, r)
		m.observe(routeOf(r), methodOf(r), rec.statusOf(), endOf(info).Sub(start))
	})
}

func (m *Metrics) observe(route, method string, status int, d time.Duration) {
	key := seriesKey{route: route, method: method, status: status}
	v, ok := m.series.Load(key)
	if !ok {
		v, _ = m.series.LoadOrStore(key, &seriesPair{
			requests: m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(route, method),
		})
	}
	pair := v.(*seriesPair)
	pair.requests.Inc()
	pair.duration.Observe(d.Seconds())
}
