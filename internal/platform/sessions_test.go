package platform_test

import (
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

func TestSessions(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		u := f.user("joan@example.gov.uk")
		id, err := f.s.CreateSession(f.ctx, u.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 43 || strings.Contains(f.tableText("sessions"), id) {
			t.Errorf("session id %q is the wrong length or stored in plain text", id)
		}
		sess, err := f.s.Session(f.ctx, id)
		if err != nil || sess.User.ID != u.ID || sess.MFADone || !sess.ExpiresAt.Equal(start.Add(2*time.Hour)) {
			t.Fatalf("Session = %+v, %v", sess, err)
		}
		if err := f.s.CompleteMFA(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		if sess, err := f.s.Session(f.ctx, id); err != nil || !sess.MFADone {
			t.Errorf("after CompleteMFA: %+v, %v", sess, err)
		}

		// Activity is written at most once a minute.
		lastSeen := func() time.Time {
			t.Helper()
			var at time.Time
			if err := f.d.QueryRow(f.ctx, "SELECT last_seen_at FROM sessions").Scan(&at); err != nil {
				t.Fatal(err)
			}
			return at.UTC()
		}
		f.clock.Advance(59 * time.Second)
		if _, err := f.s.Session(f.ctx, id); err != nil || !lastSeen().Equal(start) {
			t.Errorf("last seen %v after 59 seconds, want unchanged %v (err %v)", lastSeen(), start, err)
		}
		f.clock.Advance(time.Second)
		if _, err := f.s.Session(f.ctx, id); err != nil || !lastSeen().Equal(f.clock.Now()) {
			t.Errorf("last seen %v after a minute, want %v (err %v)", lastSeen(), f.clock.Now(), err)
		}

		// Idle for just under two hours: still signed in. Idle for two hours: signed out.
		f.clock.Advance(2*time.Hour - time.Microsecond)
		if _, err := f.s.Session(f.ctx, id); err != nil {
			t.Fatalf("just before the idle timeout: %v", err)
		}
		f.clock.Advance(2 * time.Hour)
		_, err = f.s.Session(f.ctx, id)
		wantFailure(t, err, failure.Unauthenticated, "")
		wantFailure(t, f.s.CompleteMFA(f.ctx, id), failure.Unauthenticated, "")
	})
}

func TestSessionAbsoluteLimit(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		u := f.user("mary@example.gov.uk")
		id, err := f.s.CreateSession(f.ctx, u.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		for range 23 {
			f.clock.Advance(time.Hour)
			if _, err := f.s.Session(f.ctx, id); err != nil {
				t.Fatalf("after %v of activity: %v", f.clock.Now().Sub(start), err)
			}
		}
		sess, err := f.s.Session(f.ctx, id)
		if err != nil || !sess.ExpiresAt.Equal(start.Add(platform.SessionMaxAge)) {
			t.Errorf("expiry near the absolute limit = %v, %v", sess.ExpiresAt, err)
		}
		f.clock.Advance(time.Hour)
		_, err = f.s.Session(f.ctx, id)
		wantFailure(t, err, failure.Unauthenticated, "")
	})
}

func TestEndSessions(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		u, other := f.user("one@example.gov.uk"), f.user("two@example.gov.uk")
		a, _ := f.s.CreateSession(f.ctx, u.ID, true)
		b, _ := f.s.CreateSession(f.ctx, u.ID, true)
		c, _ := f.s.CreateSession(f.ctx, other.ID, true)
		if err := f.s.EndSession(f.ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := f.s.EndSession(f.ctx, a); err != nil {
			t.Errorf("ending an ended session: %v", err)
		}
		_, err := f.s.Session(f.ctx, a)
		wantFailure(t, err, failure.Unauthenticated, "")
		if _, err := f.s.Session(f.ctx, b); err != nil {
			t.Errorf("the user's other session ended too: %v", err)
		}
		if err := f.s.EndUserSessions(f.ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.Session(f.ctx, b)
		wantFailure(t, err, failure.Unauthenticated, "")
		if _, err := f.s.Session(f.ctx, c); err != nil {
			t.Errorf("another user's session ended: %v", err)
		}
		_, err = f.s.CreateSession(f.ctx, "00000000-0000-4000-8000-000000000000", true)
		wantFailure(t, err, failure.NotFound, "")
		_, err = f.s.Session(f.ctx, "")
		wantFailure(t, err, failure.Unauthenticated, "")
	})
}
