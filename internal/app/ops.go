package app

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/commons-gov/commons/internal/jobs"
)

// mountOps registers the endpoints operators and load balancers use.
func (a *App) mountOps(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{Registry: a.metrics}))
}

// readyz says whether this node can serve: the database answers and its schema is current.
// A load balancer takes the node out of rotation while it is not.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "migrations": "ok"}
	status := http.StatusOK
	if err := a.db.Ping(ctx); err != nil {
		checks["database"] = "unreachable"
		checks["migrations"] = "unknown"
		status = http.StatusServiceUnavailable
	} else {
		pending, err := a.db.Pending(ctx, a.migrations...)
		if err == nil {
			var riverPending bool
			riverPending, err = jobs.Pending(ctx, a.db)
			if riverPending {
				pending = append(pending, "river")
			}
		}
		switch {
		case err != nil:
			checks["migrations"] = "unknown"
			status = http.StatusServiceUnavailable
		case len(pending) > 0:
			checks["migrations"] = "pending: run commons migrate"
			status = http.StatusServiceUnavailable
		}
	}
	body := map[string]any{"status": "ready", "checks": checks}
	if status != http.StatusOK {
		body["status"] = "not ready"
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newMetrics returns the registry /metrics serves, with the Go runtime and process collectors.
func newMetrics() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return reg
}

func jsonEncode(w http.ResponseWriter, v any) error { return json.NewEncoder(w).Encode(v) }
