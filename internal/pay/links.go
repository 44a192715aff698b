package pay

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// Payment links (pay.md §10): a team makes a link in the console, and anyone who opens its
// address pays the service through the ordinary card pages, without the service building
// anything. Each payment a link starts is an ordinary payment made through the same create as
// the API's, with source CARD_PAYMENT_LINK, so it shows in searches, reports, webhooks and
// refunds exactly as an API payment does.

// Link is a payment link.
type Link struct {
	ID        string
	ServiceID string
	// Live links take real payments with the service's provider; test links use the sandbox.
	Live        bool
	Slug        string
	Title       string
	Description string
	// Amount is in pence; nil means the payer says how much.
	Amount *int64
	// ReferenceLabel is what the payer is asked for as the payment's reference ("Invoice
	// number"); "" means each payment gets a generated reference instead.
	ReferenceLabel string
	ReferenceHint  string
	Language       string
	Active         bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// AsksForReference reports whether the payer enters the reference.
func (l *Link) AsksForReference() bool { return l.ReferenceLabel != "" }

// AsksForAmount reports whether the payer enters the amount.
func (l *Link) AsksForAmount() bool { return l.Amount == nil }

// Path is the link's address on Commons.
func (l *Link) Path() string { return "/pay/link/" + l.Slug }

// NewLink is a payment link to make.
type NewLink struct {
	Live           bool
	Slug           string // "" makes one from the title
	Title          string
	Description    string
	Amount         *int64
	ReferenceLabel string
	ReferenceHint  string
	Language       string
}

// Limits of a link's fields.
const (
	maxLinkTitle          = maxDescription // the title becomes each payment's description
	maxLinkDescription    = 2000
	maxLinkSlug           = 80
	maxLinkReferenceLabel = 60
	maxLinkReferenceHint  = 255
)

// errLinkNotFound is the not-found of every link lookup: a link of another service is not found
// either, so that its existence is not given away.
func errLinkNotFound() error { return failure.New(failure.NotFound, "Payment link not found") }

// ErrLinkInactive is a payment asked of a link that has been deactivated.
var ErrLinkInactive = failure.New(failure.Conflict, "This payment link is no longer available")

// checkLink applies the rules of a new link, reporting each problem against its form field in
// the order the console's form shows them, and fills in a slug made from the title when none
// was given.
func checkLink(nl *NewLink) error {
	nl.Title = strings.TrimSpace(nl.Title)
	nl.Description = strings.TrimSpace(nl.Description)
	nl.Slug = strings.ToLower(strings.TrimSpace(nl.Slug))
	nl.ReferenceLabel = strings.TrimSpace(nl.ReferenceLabel)
	nl.ReferenceHint = strings.TrimSpace(nl.ReferenceHint)
	switch {
	case nl.Title == "":
		return failure.Field("title", "Enter a title")
	case utf8.RuneCountInString(nl.Title) > maxLinkTitle:
		return failure.Field("title", "Title must be %d characters or fewer", maxLinkTitle)
	case strings.ContainsAny(nl.Title, "<>|"):
		// The title is each payment's description, where the API refuses these characters.
		return failure.Field("title", "Title must not include < > or |")
	case utf8.RuneCountInString(nl.Description) > maxLinkDescription:
		return failure.Field("description", "Details must be %d characters or fewer", maxLinkDescription)
	}
	if nl.Slug == "" {
		nl.Slug = slugFrom(nl.Title)
		if nl.Slug == "" {
			return failure.Field("slug", "Enter a web address for the link, using letters, numbers and hyphens")
		}
	}
	if !validSlug(nl.Slug) {
		return failure.Field("slug", "Web address must be %d characters or fewer, using only letters a to z, numbers and hyphens", maxLinkSlug)
	}
	switch {
	case nl.Amount != nil && *nl.Amount < 1:
		return failure.Field("amount", "Amount must be at least £0.01")
	case nl.Amount != nil && *nl.Amount > maxAmount:
		return failure.Field("amount", "Amount must be %s or less", poundsText(maxAmount))
	case utf8.RuneCountInString(nl.ReferenceLabel) > maxLinkReferenceLabel:
		return failure.Field("reference_label", "Name of the reference must be %d characters or fewer", maxLinkReferenceLabel)
	case utf8.RuneCountInString(nl.ReferenceHint) > maxLinkReferenceHint:
		return failure.Field("reference_hint", "Hint must be %d characters or fewer", maxLinkReferenceHint)
	case nl.Language != langEnglish && nl.Language != langWelsh:
		return failure.Field("language", "Choose the language of the payment pages")
	}
	if nl.ReferenceLabel == "" {
		nl.ReferenceHint = "" // a hint for a question that is never asked would be kept for nothing
	}
	return nil
}

// slugFrom makes a web address from a title: lower-case letters and digits, with a hyphen for
// every run of anything else. Letters outside a to z (accents, Welsh circumflexes) are dropped
// rather than guessed at; the team can type the address they want.
func slugFrom(title string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if gap && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			gap = false
		case r == '\'' || r == '’':
			// "Council's" reads better as "councils" than "council-s".
		default:
			gap = true
		}
		if b.Len() >= maxLinkSlug {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// validSlug accepts lower-case letters, digits and single hyphens between them.
func validSlug(s string) bool {
	if s == "" || len(s) > maxLinkSlug || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

const linkColumns = `id, service_id, live, slug, title, description, amount, reference_label, reference_hint, language,
	active, created_at, updated_at`

func scanLink(row scanner) (*Link, error) {
	var l Link
	var amount sql.NullInt64
	var label, hint sql.NullString
	if err := row.Scan(&l.ID, &l.ServiceID, &l.Live, &l.Slug, &l.Title, &l.Description, &amount, &label, &hint,
		&l.Language, &l.Active, &l.CreatedAt, &l.UpdatedAt); err != nil {
		return nil, err
	}
	l.Amount = nullInt(amount)
	l.ReferenceLabel, l.ReferenceHint = label.String, hint.String
	l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	return &l, nil
}

// CreateLink makes a payment link for a service.
func (s *Service) CreateLink(ctx context.Context, serviceID string, nl NewLink) (*Link, error) {
	return s.createLink(ctx, serviceID, nl, nil)
}

// createLink makes a link, running also (when not nil) in the same transaction: the console
// records the change in the audit log there, so that the link and its record are committed
// together or not at all.
func (s *Service) createLink(ctx context.Context, serviceID string, nl NewLink, also func(tx *db.Tx, l *Link) error) (*Link, error) {
	if err := checkLink(&nl); err != nil {
		return nil, err
	}
	now := s.now()
	l := &Link{ID: NewID(), ServiceID: serviceID, Live: nl.Live, Slug: nl.Slug, Title: nl.Title, Description: nl.Description,
		Amount: nl.Amount, ReferenceLabel: nl.ReferenceLabel, ReferenceHint: nl.ReferenceHint, Language: nl.Language,
		Active: true, CreatedAt: now, UpdatedAt: now}
	var amount any
	if l.Amount != nil {
		amount = *l.Amount
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO pay_links (id, service_id, live, slug, title, description, amount,
			reference_label, reference_hint, language, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, l.ID, l.ServiceID, l.Live, l.Slug, l.Title, l.Description,
			amount, nullable(l.ReferenceLabel), nullable(l.ReferenceHint), l.Language, l.Active, l.CreatedAt, l.UpdatedAt); err != nil {
			if db.IsUniqueViolation(err) {
				return failure.Field("slug", "Another payment link already uses this web address. Choose another")
			}
			return fmt.Errorf("pay: insert link: %w", err)
		}
		if also != nil {
			return also(tx, l)
		}
		return nil
	})
	if err != nil {
		if failure.Is(err, failure.Invalid) {
			return nil, err
		}
		return nil, web.Unavailable(err)
	}
	return l, nil
}

// maxListedLinks bounds the console's list of a service's links: far more than a team keeps.
const maxListedLinks = 500

// Links lists a service's payment links, newest first.
func (s *Service) Links(ctx context.Context, serviceID string) ([]*Link, error) {
	rows, err := s.db.Query(ctx, "SELECT "+linkColumns+` FROM pay_links WHERE service_id = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, serviceID, maxListedLinks)
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: list links: %w", err))
	}
	defer rows.Close()
	var out []*Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("pay: list links: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Link returns one of a service's payment links.
func (s *Service) Link(ctx context.Context, serviceID, id string) (*Link, error) {
	if !validID(id) {
		return nil, errLinkNotFound()
	}
	return s.readLink(ctx, s.db, "id = ? AND service_id = ?", id, serviceID)
}

// LinkBySlug returns the link at an address, active or not.
func (s *Service) LinkBySlug(ctx context.Context, slug string) (*Link, error) {
	if !validSlug(slug) {
		return nil, errLinkNotFound()
	}
	return s.readLink(ctx, s.db, "slug = ?", slug)
}

func (s *Service) readLink(ctx context.Context, q db.Querier, where string, args ...any) (*Link, error) {
	l, err := scanLink(q.QueryRow(ctx, "SELECT "+linkColumns+" FROM pay_links WHERE "+where, args...))
	if db.IsNoRows(err) {
		return nil, errLinkNotFound()
	}
	if err != nil {
		return nil, web.Unavailable(fmt.Errorf("pay: read link: %w", err))
	}
	return l, nil
}

// DeactivateLink stops a link taking payments. Payments it started already carry on.
func (s *Service) DeactivateLink(ctx context.Context, serviceID, id string) error {
	_, err := s.deactivateLink(ctx, serviceID, id, nil)
	return err
}

// deactivateLink deactivates a link, running also in the same transaction when it changed
// anything; deactivating a link twice changes nothing the second time.
func (s *Service) deactivateLink(ctx context.Context, serviceID, id string, also func(tx *db.Tx, l *Link) error) (*Link, error) {
	if !validID(id) {
		return nil, errLinkNotFound()
	}
	var l *Link
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if l, err = s.readLink(ctx, tx, "id = ? AND service_id = ?", id, serviceID); err != nil {
			return err
		}
		if !l.Active {
			return nil
		}
		now := s.now()
		if _, err := tx.Exec(ctx, "UPDATE pay_links SET active = ?, updated_at = ? WHERE id = ? AND service_id = ?",
			false, now, id, serviceID); err != nil {
			return fmt.Errorf("pay: deactivate link: %w", err)
		}
		l.Active, l.UpdatedAt = false, now
		if also != nil {
			return also(tx, l)
		}
		return nil
	})
	if err != nil {
		if failure.Is(err, failure.NotFound) {
			return nil, err
		}
		return nil, web.Unavailable(err)
	}
	return l, nil
}

// Reasons a payer's reference or amount is refused; the link pages word each in the link's
// language.
const (
	linkReferenceMissing    = "reference_missing"
	linkReferenceTooLong    = "reference_too_long"
	linkReferenceCharacters = "reference_characters"
	linkReferenceCardNumber = "reference_card_number"
	linkAmountMissing       = "amount_missing"
	linkAmountInvalid       = "amount_invalid"
	linkAmountTooSmall      = "amount_too_small"
	linkAmountTooLarge      = "amount_too_large"
)

// LinkInputError is a reference or an amount the payer must correct. Field is "reference" or
// "amount"; Reason is one of the link pages' message keys.
type LinkInputError struct{ Field, Reason string }

func (e *LinkInputError) Error() string { return "pay: link payment: " + e.Field + ": " + e.Reason }

// checkLinkReference applies the rules of a reference a payer typed: the API's own (present,
// at most 255 characters, none of < > |) and one of payment links', that it is not a card
// number (pay.md §10, P0105), because a payer who types one there would have it kept in the
// clear in every report and export.
func checkLinkReference(ref string) error {
	switch {
	case ref == "":
		return &LinkInputError{"reference", linkReferenceMissing}
	case javaLen(ref) > maxReference:
		return &LinkInputError{"reference", linkReferenceTooLong}
	case strings.ContainsAny(ref, "<>|"):
		return &LinkInputError{"reference", linkReferenceCharacters}
	case looksLikeCardNumber(ref):
		return &LinkInputError{"reference", linkReferenceCardNumber}
	}
	return nil
}

// looksLikeCardNumber reports whether text, less the spaces and hyphens people group card
// numbers with, is 12 to 19 digits that pass the Luhn check, as every card number does.
func looksLikeCardNumber(text string) bool {
	digits := strings.NewReplacer(" ", "", "-", "").Replace(text)
	return len(digits) >= 12 && len(digits) <= 19 && allDigits(digits) && luhnValid(digits)
}

// checkLinkAmount applies the API's range to an amount a payer entered.
func checkLinkAmount(pence int64) error {
	switch {
	case pence < 1:
		return &LinkInputError{"amount", linkAmountTooSmall}
	case pence > maxAmount:
		return &LinkInputError{"amount", linkAmountTooLarge}
	}
	return nil
}

// Generated references (pay.md §10): ten characters that are easy to read out and type, with a
// digit at the third and seventh places. The alphabet is GOV.UK Pay's, S twice included, so
// that references look the same as theirs; it leaves out I, O, 0 and 1, which people confuse.
const (
	linkReferenceAlphabet = "ABCSDEFGHJKLMNPQRSTUVWXYZ23456789"
	linkReferenceDigits   = "23456789"
	linkReferenceLen      = 10
	// linkReferenceTries is how many references are drawn before one that is already used by
	// the service is accepted anyway: with 10^14 possibilities a clash is already unlikely.
	linkReferenceTries = 3
)

// generatedReference draws one reference.
func generatedReference() string {
	b := make([]byte, linkReferenceLen)
	for i := range b {
		set := linkReferenceAlphabet
		if i == 2 || i == 6 {
			set = linkReferenceDigits
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			panic("pay: no randomness for a reference: " + err.Error())
		}
		b[i] = set[n.Int64()]
	}
	return string(b)
}

// uniqueReference draws references until one is not yet used by the service in that mode.
func (s *Service) uniqueReference(ctx context.Context, serviceID string, live bool) (string, error) {
	var ref string
	for range linkReferenceTries {
		ref = generatedReference()
		var n int
		if err := s.db.QueryRow(ctx, "SELECT count(*) FROM pay_payments WHERE service_id = ? AND live = ? AND lower(reference) = lower(?)",
			serviceID, live, ref).Scan(&n); err != nil {
			return "", web.Unavailable(fmt.Errorf("pay: check reference: %w", err))
		}
		if n == 0 {
			break
		}
	}
	return ref, nil
}

// LinkPayment is a payment started through a link: Next is where to send the payer (the card
// pages' next_url).
type LinkPayment struct {
	ID      string // the id in the return address
	Payment *Payment
	Next    string
}

// StartLinkPayment creates a payment for a link, with the reference and amount the payer gave
// (each ignored when the link fixes it). The payment comes back to the link's "payment
// complete" page.
func (s *Service) StartLinkPayment(ctx context.Context, l *Link, reference string, amount int64) (*LinkPayment, error) {
	if !l.Active {
		return nil, ErrLinkInactive
	}
	var err error
	if l.AsksForReference() {
		reference = strings.TrimSpace(reference)
		if err := checkLinkReference(reference); err != nil {
			return nil, err
		}
	} else if reference, err = s.uniqueReference(ctx, l.ServiceID, l.Live); err != nil {
		return nil, err
	}
	if l.Amount != nil {
		amount = *l.Amount
	} else if err := checkLinkAmount(amount); err != nil {
		return nil, err
	}
	st, err := s.Settings(ctx, l.ServiceID)
	if err != nil {
		return nil, err
	}
	provider, keyType := SandboxName, apiauth.Test
	if l.Live {
		provider, keyType = st.Provider, apiauth.Live
	}
	if _, ok := s.provider(provider); !ok {
		return nil, fmt.Errorf("pay: link %s: no provider %q on this node", l.ID, provider)
	}
	lp := &LinkPayment{ID: NewID()}
	caller := apiauth.Identity{ServiceID: l.ServiceID, KeyType: keyType}
	c, err := s.create(ctx, caller, NewPayment{Amount: amount, Reference: reference, Description: l.Title,
		ReturnURL: s.cfg.BaseURL + l.Path() + "/complete/" + lp.ID, Language: l.Language, AuthorisationMode: ModeWeb,
		Source: SourcePaymentLink, Provider: provider}, "")
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO pay_link_payments (id, link_id, service_id, payment_id, created_at)
		VALUES (?, ?, ?, ?, ?)`, lp.ID, l.ID, l.ServiceID, c.payment.ID, s.now()); err != nil {
		// The payment is left to expire unstarted: without this row its payer could not be
		// shown the outcome.
		return nil, web.Unavailable(fmt.Errorf("pay: record link payment: %w", err))
	}
	links := s.paymentLinks(c.payment, c.token)
	if links.NextURL == nil {
		return nil, fmt.Errorf("pay: link payment %s has no next_url", c.payment.ID)
	}
	lp.Payment, lp.Next = c.payment, links.NextURL.Href
	return lp, nil
}

// LinkPaymentOutcome returns a payment started through the link at slug, by the id in its
// return address.
func (s *Service) LinkPaymentOutcome(ctx context.Context, slug, linkPaymentID string) (*Link, *Payment, error) {
	if !validID(linkPaymentID) {
		return nil, nil, errPaymentNotFound()
	}
	l, err := s.LinkBySlug(ctx, slug)
	if err != nil {
		return nil, nil, err
	}
	var paymentID string
	err = s.db.QueryRow(ctx, "SELECT payment_id FROM pay_link_payments WHERE id = ? AND link_id = ?", linkPaymentID, l.ID).
		Scan(&paymentID)
	if db.IsNoRows(err) {
		return nil, nil, errPaymentNotFound()
	}
	if err != nil {
		return nil, nil, web.Unavailable(fmt.Errorf("pay: read link payment: %w", err))
	}
	p, err := s.Payment(ctx, l.ServiceID, paymentID)
	if err != nil {
		return nil, nil, err
	}
	return l, p, nil
}
