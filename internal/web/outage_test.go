package web

import (
	"database/sql"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/commons-gov/commons/internal/db/dbtest"
)

// forwarder is a TCP proxy to a real PostgreSQL server that can be cut and restored, standing
// in for a database outage and its recovery.
type forwarder struct {
	target string
	mu     sync.Mutex
	ln     net.Listener
	addr   string
	conns  []net.Conn
}

func (f *forwarder) start(t *testing.T) {
	t.Helper()
	addr := f.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.ln, f.addr = ln, ln.Addr().String()
	f.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", f.target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, up)
			f.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut closes the listener and every open connection, as a database restart does.
func (f *forwarder) cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ln.Close()
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

func TestOutageGives503AndRecoveryServes(t *testing.T) {
	base := os.Getenv("COMMONS_TEST_POSTGRES_URL")
	if base == "" {
		dbtest.SkipOrFail(t, "COMMONS_TEST_POSTGRES_URL is not set")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{target: u.Host}
	f.start(t)
	defer f.cut()
	u.Host = f.addr
	d, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h := Chain(APIHandler(func(w http.ResponseWriter, r *http.Request) error {
		var one int
		if err := d.QueryRowContext(r.Context(), "SELECT 1").Scan(&one); err != nil {
			return err
		}
		WriteJSON(w, 200, "", one)
		return nil
	}), RequestID)
	get := func() int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		return rec.Code
	}
	if code := get(); code != 200 {
		t.Fatalf("before the outage: %d", code)
	}
	f.cut()
	if code := get(); code != 503 {
		t.Fatalf("during the outage: %d, want 503", code)
	}
	f.start(t)
	if code := get(); code != 200 {
		t.Fatalf("after recovery: %d, want 200", code)
	}
}
