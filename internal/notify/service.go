package notify

import (
	"log/slog"
	"net/http"
	"time"
)

// New returns the Notify platform.
func New(cfg Config) *Service {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Service{cfg: cfg, db: cfg.DB, log: log, Now: time.Now}
}

// Mount registers Notify's HTTP routes: the GOV.UK Notify-compatible API at /v2/… and
// Commons' own management API at /api/notify/v1/….
func (s *Service) Mount(mux *http.ServeMux) {
	s.MountV2(mux)
	s.mountManagementAPI(mux)
}
