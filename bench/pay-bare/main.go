// Command pay-bare is the baseline for bench/pay.sh: a bare net/http server answering
// POST /v1/payments by decoding the same JSON Commons is sent and inserting one row into the
// same kind of database, opened the same way (internal/db: the same pragmas and pools), with no
// authentication, rate limit, validation, state history, token or job. A ratio against it,
// measured in the same run, says what Commons' own work on a created payment costs on whatever
// machine runs the benchmark.
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
	Amount      int64  `json:"amount"`
	Reference   string `json:"reference"`
	Description string `json:"description"`
	ReturnURL   string `json:"return_url"`
}

// response is a small answer of the same shape as a created payment's first fields.
type response struct {
	PaymentID string `json:"payment_id"`
	Amount    int64  `json:"amount"`
	Reference string `json:"reference"`
	NextURL   string `json:"next_url"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8191", "host and port to listen on")
	dbURL := flag.String("database", "", "database URL, as COMMONS_DATABASE_URL")
	flag.Parse()
	ctx := context.Background()
	d, err := db.Open(ctx, *dbURL)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := d.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_bare_payments (
		id TEXT PRIMARY KEY, amount BIGINT NOT NULL, reference TEXT NOT NULL, description TEXT NOT NULL,
		return_url TEXT NOT NULL, created_at TIMESTAMP NOT NULL)`); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/payments", func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id := uuid.NewString()
		if _, err := d.Exec(r.Context(), `INSERT INTO bench_bare_payments (id, amount, reference, description, return_url,
			created_at) VALUES (?, ?, ?, ?, ?, ?)`, id, req.Amount, req.Reference, req.Description, req.ReturnURL,
			time.Now().UTC()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(response{PaymentID: id, Amount: req.Amount, Reference: req.Reference,
			NextURL: "http://" + r.Host + "/pay/secure/" + id})
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}
