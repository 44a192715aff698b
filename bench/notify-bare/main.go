// Command notify-bare is the baseline for bench/notify.sh: a bare net/http server answering
// POST /v2/notifications/email by decoding the same JSON Commons is sent and inserting one
// row into the same kind of database, opened the same way (internal/db: the same pragmas and
// pools), with no authentication, rate limit, template or job. A ratio against it, measured
// in the same run, says what Commons' own work on an accepted send costs on whatever machine
// runs the benchmark.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
)

// request is the body Commons is sent.
type request struct {
	EmailAddress    string         `json:"email_address"`
	TemplateID      string         `json:"template_id"`
	Personalisation map[string]any `json:"personalisation"`
	Reference       *string        `json:"reference"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "host and port to listen on")
	dbURL := flag.String("database", "", "database URL, as COMMONS_DATABASE_URL")
	flag.Parse()
	ctx := context.Background()
	d, err := db.Open(ctx, *dbURL)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := d.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_bare_notifications (
		id TEXT PRIMARY KEY, email_address TEXT NOT NULL, template_id TEXT NOT NULL,
		personalisation TEXT NOT NULL, reference TEXT, created_at TIMESTAMP NOT NULL)`); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/notifications/email", func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		personalisation, _ := json.Marshal(req.Personalisation)
		id := uuid.NewString()
		if _, err := d.Exec(r.Context(), `INSERT INTO bench_bare_notifications
			(id, email_address, template_id, personalisation, reference, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			id, req.EmailAddress, req.TemplateID, string(personalisation), req.Reference, time.Now().UTC()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}
