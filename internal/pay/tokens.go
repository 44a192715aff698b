package pay

import (
	"context"
	"fmt"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// One-time tokens hand a payment to whoever completes it: the payer's browser (next_url's
// chargeTokenId) or the service's MOTO system (auth_url_post's one_time_token). Every read of an
// unfinished payment mints a fresh one, as GOV.UK Pay does, so that a service can always send
// the payer back to the journey.

// Token kinds.
const (
	tokenWeb  = "web"
	tokenMOTO = "moto_api"
)

// TokenLifetime is how long an unused token works (pay.md §6.4).
const TokenLifetime = 7 * 24 * time.Hour

// mintToken makes a one-time token for a payment and returns it. Only its hash is stored.
func mintToken(ctx context.Context, q db.Querier, p *Payment, at time.Time) (string, error) {
	kind := tokenKindOf(p)
	token := NewID()
	if _, err := q.Exec(ctx, `INSERT INTO pay_tokens (token_hash, payment_id, service_id, kind, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, hashToken(token), p.ID, p.ServiceID, kind, at, at.Add(TokenLifetime)); err != nil {
		return "", fmt.Errorf("pay: mint token: %w", err)
	}
	return token, nil
}

// tokenKindOf is the kind of token a payment's links carry.
func tokenKindOf(p *Payment) string {
	if p.AuthorisationMode == ModeMOTOAPI {
		return tokenMOTO
	}
	return tokenWeb
}

// linkToken mints a token when the payment's links need one, and returns "" otherwise.
func (s *Service) linkToken(ctx context.Context, p *Payment) (string, error) {
	if !needsNextURL(p) {
		return "", nil
	}
	token, err := mintToken(ctx, s.db, p, s.now())
	return token, web.Unavailable(err)
}

// Token failures.
var (
	// ErrTokenInvalid: no such token, or it has expired, or it is for another kind of journey.
	ErrTokenInvalid = failure.New(failure.NotFound, "The one_time_token is not valid")
	// ErrTokenUsed: the token has been redeemed already.
	ErrTokenUsed = failure.New(failure.Conflict, "The one_time_token has already been used")
	// errTokenWrongKind: a card-page token offered to the MOTO API, or the other way round.
	errTokenWrongKind = failure.New(failure.NotFound, "The one_time_token is for another kind of journey")
)

// redeemToken marks a token used inside tx and returns its payment, locked. Of two requests
// redeeming one token, exactly one succeeds: the mark is a compare-and-set on used_at.
func redeemToken(ctx context.Context, tx *db.Tx, token, kind string, at time.Time) (*Payment, error) {
	var paymentID, gotKind string
	var expires time.Time
	var used *time.Time
	err := tx.QueryRow(ctx, "SELECT payment_id, kind, expires_at, used_at FROM pay_tokens WHERE token_hash = ?",
		hashToken(token)).Scan(&paymentID, &gotKind, &expires, &used)
	if db.IsNoRows(err) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("pay: read token: %w", err)
	}
	if used != nil {
		return nil, ErrTokenUsed
	}
	if !at.Before(expires) {
		return nil, ErrTokenInvalid
	}
	if gotKind != kind {
		return nil, errTokenWrongKind
	}
	res, err := tx.Exec(ctx, "UPDATE pay_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL", at, hashToken(token))
	if err != nil {
		return nil, fmt.Errorf("pay: use token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrTokenUsed
	}
	return lockPayment(ctx, tx, paymentID)
}
