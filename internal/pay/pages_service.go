package pay

import (
	"context"
	"fmt"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/web"
)

// Two things the hosted pages need that the journey methods do not offer.

// paymentOfUsedToken returns the payment a card-page token was for, once the token has been
// used: the pages send a browser that already holds the payment on to where it stands, and
// show anyone else the "cannot be used again" page. "" when there is no such token.
func (s *Service) paymentOfUsedToken(ctx context.Context, token string) (string, error) {
	var id string
	err := s.db.QueryRow(ctx, "SELECT payment_id FROM pay_tokens WHERE token_hash = ? AND kind = ? AND used_at IS NOT NULL",
		hashToken(token), tokenWeb).Scan(&id)
	if db.IsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", web.Unavailable(fmt.Errorf("pay: read token: %w", err))
	}
	return id, nil
}

// recordPayerEmail keeps the email address the payer typed on the card page, which replaces
// any the service prefilled (it shows in the API's email, as GOV.UK Pay's does). Only a
// payment still waiting for card details takes it: a second submission of the form, racing
// the first, must not change a payment that has moved on.
func (s *Service) recordPayerEmail(ctx context.Context, id, email string) error {
	_, err := s.db.Exec(ctx, "UPDATE pay_payments SET email = ? WHERE id = ? AND status = ?",
		nullable(email), id, string(StatusEnteringCardDetails))
	if err != nil {
		return web.Unavailable(fmt.Errorf("pay: record email: %w", err))
	}
	return nil
}
