package platform_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/secret"
)

func migrate(ctx context.Context, d *db.DB) error { return d.Migrate(ctx, platform.Migrations) }

// clock is a settable clock, safe for the concurrent tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start is a winter afternoon, when UK time is UTC, so lockout messages are predictable.
var start = time.Date(2026, time.January, 14, 16, 20, 0, 0, time.UTC)

// fixture is a store over a fresh database with a fixed clock, and helpers to set up tenants.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	d     *db.DB
	s     *platform.Store
	clock *clock
	admin platform.Actor
}

// each runs fn on both engines, each with a fresh fixture.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	keys, err := secret.ParseKeyring(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		c := &clock{t: start}
		s := platform.New(d, keys)
		s.Now = c.Now
		fn(t, &fixture{t: t, ctx: context.Background(), d: d, s: s, clock: c, admin: platform.CLIActor})
	})
}

func (f *fixture) service(name string) platform.Service {
	f.t.Helper()
	svc, err := f.s.CreateService(f.ctx, f.admin, platform.NewService{Name: name})
	if err != nil {
		f.t.Fatalf("create service %s: %v", name, err)
	}
	return svc
}

func (f *fixture) user(email string) platform.User {
	f.t.Helper()
	u, err := f.s.CreateUser(f.ctx, f.admin, email, false)
	if err != nil {
		f.t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// member makes a user on a service's team with the given permissions.
func (f *fixture) member(svc platform.Service, email string, perms ...string) platform.User {
	f.t.Helper()
	u := f.user(email)
	if err := f.s.AddMember(f.ctx, f.admin, svc.ID, u.ID, perms); err != nil {
		f.t.Fatalf("add member %s: %v", email, err)
	}
	return u
}

// actions lists a service's audit actions, oldest first, for comparing with what a test did.
func (f *fixture) actions(serviceID string) []string {
	f.t.Helper()
	var events []platform.AuditEvent
	var err error
	if serviceID == "" {
		events, err = f.s.PlatformAuditLog(f.ctx, platform.AuditFilter{})
	} else {
		events, err = f.s.AuditLog(f.ctx, serviceID, platform.AuditFilter{})
	}
	if err != nil {
		f.t.Fatalf("audit log: %v", err)
	}
	out := make([]string, len(events))
	for i, e := range events {
		out[len(events)-1-i] = e.Action
	}
	return out
}

var tables = []string{"organisations", "services", "users", "members", "api_keys", "sign_in_tokens", "sessions", "audit_events"}

// counts returns the number of rows in every table, to show that a failed call wrote nothing.
func (f *fixture) counts() map[string]int {
	f.t.Helper()
	out := map[string]int{}
	for _, table := range tables {
		var n int
		if err := f.d.QueryRow(f.ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			f.t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// unchanged fails the test if any table's row count differs from before.
func (f *fixture) unchanged(before map[string]int, what string) {
	f.t.Helper()
	after := f.counts()
	for _, table := range tables {
		if before[table] != after[table] {
			f.t.Errorf("%s: %s went from %d to %d rows", what, table, before[table], after[table])
		}
	}
}

// tableText renders every value in a table as text, to search for something that must not be
// stored.
func (f *fixture) tableText(table string) string {
	f.t.Helper()
	rows, err := f.d.Query(f.ctx, "SELECT * FROM "+table)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			f.t.Fatal(err)
		}
		for _, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%v\n", v)
		}
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return b.String()
}

// wantFailure checks an error's kind and, when field is not empty, the input it names.
func wantFailure(t *testing.T, err error, kind failure.Kind, field string) *failure.Error {
	t.Helper()
	if !failure.Is(err, kind) {
		t.Fatalf("got error %v (kind %v), want kind %v", err, failure.KindOf(err), kind)
	}
	var fe *failure.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *failure.Error", err)
	}
	if field != "" && fe.Field != field {
		t.Errorf("error %q names field %q, want %q", fe.Message, fe.Field, field)
	}
	return fe
}

func TestMigrationsPair(t *testing.T) {
	if err := platform.Migrations.CheckPairs(); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		if err := migrate(f.ctx, f.d); err != nil {
			t.Fatal(err)
		}
		pending, err := f.d.Pending(f.ctx, platform.Migrations)
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending = %v, %v", pending, err)
		}
	})
}
