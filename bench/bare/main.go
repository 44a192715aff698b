// Command bare is the baseline for Commons' load tests: a bare net/http server answering
// GET /api/platform/v1/whoami with the same JSON as Commons, with no authentication, no
// middleware and no database. A ratio against it, measured in the same run, says what
// Commons' own work costs on whatever machine runs the benchmark.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "host and port to listen on")
	flag.Parse()
	// The same shape Commons encodes (a struct, fields in the order a map would write them),
	// so that the ratio measures Commons' own work and not a difference in JSON encoding.
	type whoami struct {
		KeyID     string `json:"key_id"`
		KeyName   string `json:"key_name"`
		KeyType   string `json:"key_type"`
		Live      bool   `json:"live"`
		ServiceID string `json:"service_id"`
	}
	body := whoami{
		KeyID: "0f0e5a5e-6c1d-4a3b-8b7e-1c2d3e4f5a6b", KeyName: "bench", KeyType: "team",
		Live: false, ServiceID: "9b3b8a7e-1f7c-4a0e-9d6c-2f1b5c7d8e9f",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/platform/v1/whoami", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(body)
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}
