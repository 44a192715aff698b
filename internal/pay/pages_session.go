package pay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/web"
)

// The hosted pages find a payment by the id in their path, and show it only to the browser
// that redeemed its one-time token (pay.md §7.2 step 2). That browser holds a random session
// id in a cookie; pay_sessions binds the id's hash to each payment the browser was handed.
// Anyone else who learns a payment's id — from a shared screen, a proxy log, a referrer —
// reaches the "cannot be used again" page and nothing of the payment.

// paySessionCookie holds the session id. It is scoped to the pages, so no other part of
// Commons receives it.
const (
	paySessionCookie = "commons_pay_session"
	paySessionPath   = "/pay/"
)

// paySessionLifetime bounds how long a browser keeps access to a payment: long enough for the
// 90 minutes a payment may take, and the outcome page after it, but not so long that the next
// person on a shared computer finds the last one's payment. The cookie itself ends with the
// browser session.
const paySessionLifetime = 3 * time.Hour

// maxSessionPayments is how many payments one browser session holds, as GOV.UK Pay allows;
// beyond it the oldest are forgotten, so a session cannot grow without bound.
const maxSessionPayments = 10

// newSessionID returns a fresh session id: 256 random bits.
func newSessionID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms, and a guessable session would
		// open someone else's payment, so there is no fallback.
		panic("pay: no randomness for a session: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionHash is what is stored of a session id.
func sessionHash(id string) string { return hashToken("session:" + id) }

// bindSession gives the browser access to a payment. The browser always gets a new session id,
// which takes over the payments of the one it had: an id fixed in a browser by someone else
// (a planted cookie) therefore never comes to hold the payer's payment.
func (p *payPages) bindSession(w http.ResponseWriter, r *http.Request, paymentID string) error {
	ctx := r.Context()
	now := p.s.now()
	id := newSessionID()
	hash := sessionHash(id)
	err := p.s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM pay_sessions WHERE expires_at < ?", now); err != nil {
			return err
		}
		if old := sessionCookie(r); old != "" {
			if _, err := tx.Exec(ctx, "UPDATE pay_sessions SET session_hash = ?, expires_at = ? WHERE session_hash = ? AND payment_id <> ?",
				hash, now.Add(paySessionLifetime), sessionHash(old), paymentID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "DELETE FROM pay_sessions WHERE session_hash = ?", sessionHash(old)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pay_sessions (session_hash, payment_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			hash, paymentID, now, now.Add(paySessionLifetime)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM pay_sessions WHERE session_hash = ? AND payment_id NOT IN
			(SELECT payment_id FROM pay_sessions WHERE session_hash = ? ORDER BY created_at DESC, payment_id LIMIT ?)`,
			hash, hash, maxSessionPayments)
		return err
	})
	if err != nil {
		return web.Unavailable(fmt.Errorf("pay: bind session: %w", err))
	}
	http.SetCookie(w, &http.Cookie{Name: paySessionCookie, Value: id, Path: paySessionPath, HttpOnly: true,
		Secure: p.secure(r), SameSite: http.SameSiteLaxMode})
	return nil
}

// boundTo reports whether the browser's session holds the payment.
func (p *payPages) boundTo(ctx context.Context, r *http.Request, paymentID string) (bool, error) {
	id := sessionCookie(r)
	if id == "" || !validID(paymentID) {
		return false, nil
	}
	var n int
	err := p.s.db.QueryRow(ctx, "SELECT COUNT(*) FROM pay_sessions WHERE session_hash = ? AND payment_id = ? AND expires_at > ?",
		sessionHash(id), paymentID, p.s.now()).Scan(&n)
	if err != nil {
		return false, web.Unavailable(fmt.Errorf("pay: read session: %w", err))
	}
	return n > 0, nil
}

// sessionCookie returns the browser's session id, or "" when it has none of the right shape.
func sessionCookie(r *http.Request) string {
	c, err := r.Cookie(paySessionCookie)
	if err != nil || len(c.Value) != 43 || strings.Trim(c.Value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return ""
	}
	return c.Value
}

// secure reports whether the session cookie must only travel over TLS: when the browser
// reached us over TLS, directly or through a proxy that says so, or Commons' public address is
// https.
func (p *payPages) secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" ||
		strings.HasPrefix(strings.ToLower(p.s.cfg.BaseURL), "https://")
}
