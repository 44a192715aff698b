package pay

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// Disputes (pay.md §4.8): a payer's bank taking back a captured payment. Only providers with
// disputes report them (Stripe, through its webhooks); RecordDispute is what such an adapter
// calls, and GET /v1/disputes lists them. The sandbox never raises one, so a service on the
// sandbox always finds none.

// Dispute statuses (pay.md §6.5).
const (
	DisputeNeedsResponse = "needs_response"
	DisputeUnderReview   = "under_review"
	DisputeLost          = "lost"
	DisputeWon           = "won"
)

var disputeStatuses = map[string]bool{DisputeNeedsResponse: true, DisputeUnderReview: true, DisputeLost: true, DisputeWon: true}

// disputeReasons are the reasons GOV.UK Pay shows; a provider's other reasons are "other".
var disputeReasons = map[string]bool{"credit_not_processed": true, "duplicate": true, "fraudulent": true, "general": true,
	"product_not_received": true, "product_unacceptable": true, "unrecognised": true, "subscription_cancelled": true,
	"other": true}

// Dispute is one dispute against a payment.
type Dispute struct {
	ID                string
	ServiceID         string
	Live              bool
	PaymentID         string
	Provider          string
	ProviderDisputeID string
	Amount            int64
	Fee               *int64
	NetAmount         *int64
	Reason            string
	Status            string
	EvidenceDueDate   *time.Time
	SettledDate       string // YYYY-MM-DD, for a lost dispute once the provider took the money
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

const disputeColumns = `id, service_id, live, payment_id, provider, provider_dispute_id, amount, fee, net_amount, reason,
	status, evidence_due_date, settled_date, created_at, updated_at`

func scanDispute(row scanner) (*Dispute, error) {
	var d Dispute
	var fee, net sql.NullInt64
	var due sql.NullTime
	var settled sql.NullString
	if err := row.Scan(&d.ID, &d.ServiceID, &d.Live, &d.PaymentID, &d.Provider, &d.ProviderDisputeID, &d.Amount, &fee,
		&net, &d.Reason, &d.Status, &due, &settled, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, err
	}
	d.Fee, d.NetAmount, d.EvidenceDueDate, d.SettledDate = nullInt(fee), nullInt(net), nullTime(due), settled.String
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return &d, nil
}

// RecordDispute records a dispute a provider reported against one of our payments, or updates
// it when the provider reports it again (a change of status, say): a dispute is known by the
// provider's id for it. The service and mode are the payment's. CreatedAt is when the dispute
// was raised; zero means now.
func (s *Service) RecordDispute(ctx context.Context, d Dispute) (*Dispute, error) {
	if !disputeStatuses[d.Status] {
		return nil, failure.Field("status", "Unknown dispute status %q", d.Status)
	}
	if !disputeReasons[d.Reason] {
		d.Reason = "other"
	}
	now := s.now()
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	var out *Dispute
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		p, err := lockPayment(ctx, tx, d.PaymentID)
		if err != nil {
			return err
		}
		var due any
		if d.EvidenceDueDate != nil {
			due = d.EvidenceDueDate.UTC()
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pay_disputes (id, service_id, live, payment_id, provider, provider_dispute_id,
			amount, fee, net_amount, reason, status, evidence_due_date, settled_date, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (provider, provider_dispute_id) DO UPDATE SET amount = excluded.amount, fee = excluded.fee,
			net_amount = excluded.net_amount, reason = excluded.reason, status = excluded.status,
			evidence_due_date = excluded.evidence_due_date, settled_date = excluded.settled_date,
			updated_at = excluded.updated_at`,
			NewID(), p.ServiceID, p.Live, p.ID, p.Provider, d.ProviderDisputeID, d.Amount, d.Fee, d.NetAmount, d.Reason,
			d.Status, due, nullable(d.SettledDate), d.CreatedAt.UTC(), now); err != nil {
			return fmt.Errorf("pay: record dispute: %w", err)
		}
		out, err = scanDispute(tx.QueryRow(ctx, "SELECT "+disputeColumns+" FROM pay_disputes WHERE provider = ? AND provider_dispute_id = ?",
			p.Provider, d.ProviderDisputeID))
		return err
	})
	if err != nil {
		return nil, web.Unavailable(err)
	}
	return out, nil
}

// DisputeFilter narrows a dispute search. Zero values do not filter.
type DisputeFilter struct {
	FromDate, ToDate       time.Time // raised at or after, before
	FromSettled, ToSettled string    // YYYY-MM-DD, inclusive
	Status                 string
}

// SearchDisputes returns one page of a scope's disputes matching f, newest first, and how many
// match in all.
func (s *Service) SearchDisputes(ctx context.Context, sc Scope, f DisputeFilter, pg Page) ([]*Dispute, int, error) {
	where := "service_id = ? AND live = ?"
	args := []any{sc.ServiceID, sc.Live}
	for _, c := range []struct {
		on     bool
		clause string
		arg    any
	}{
		{!f.FromDate.IsZero(), "created_at >= ?", f.FromDate},
		{!f.ToDate.IsZero(), "created_at < ?", f.ToDate},
		{f.FromSettled != "", "settled_date >= ?", f.FromSettled},
		{f.ToSettled != "", "settled_date <= ?", f.ToSettled},
		{f.Status != "", "status = ?", f.Status},
	} {
		if c.on {
			where += " AND " + c.clause
			args = append(args, c.arg)
		}
	}
	var total int
	if err := s.db.QueryRow(ctx, "SELECT count(*) FROM pay_disputes WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, web.Unavailable(fmt.Errorf("pay: count disputes: %w", err))
	}
	rows, err := s.db.Query(ctx, "SELECT "+disputeColumns+" FROM pay_disputes WHERE "+where+
		" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", append(args, pg.Size, (pg.Number-1)*pg.Size)...)
	if err != nil {
		return nil, 0, web.Unavailable(fmt.Errorf("pay: search disputes: %w", err))
	}
	defer rows.Close()
	var out []*Dispute
	for rows.Next() {
		d, err := scanDispute(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("pay: search disputes: %w", err)
		}
		out = append(out, d)
	}
	return out, total, rows.Err()
}

// GET /v1/disputes.

type wireDisputeSettlement struct {
	SettledDate string `json:"settled_date,omitempty"`
}

type wireDispute struct {
	Amount            int64                  `json:"amount"`
	CreatedDate       string                 `json:"created_date"`
	DisputeID         string                 `json:"dispute_id"`
	EvidenceDueDate   string                 `json:"evidence_due_date,omitempty"`
	Fee               *int64                 `json:"fee,omitempty"`
	NetAmount         *int64                 `json:"net_amount,omitempty"`
	PaymentID         string                 `json:"payment_id"`
	Reason            string                 `json:"reason"`
	SettlementSummary *wireDisputeSettlement `json:"settlement_summary,omitempty"`
	Status            string                 `json:"status"`
	Links             struct {
		Payment wireLink `json:"payment"`
	} `json:"_links"`
}

// wireDisputeSearch is the dispute search's page. Its links are under "links", not "_links":
// GOV.UK Pay's serialiser names that one field differently, and clients read it there.
type wireDisputeSearch struct {
	Total   int           `json:"total"`
	Count   int           `json:"count"`
	Page    int           `json:"page"`
	Results []wireDispute `json:"results"`
	Links   wireNavLinks  `json:"links"`
}

// disputeFilterParams are the dispute search's filters, in the order they are validated and
// written back into links.
var disputeFilterParams = []string{"from_date", "to_date", "from_settled_date", "to_settled_date", "status"}

func (s *Service) searchDisputes(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	sp := &searchParams{q: r.URL.Query()}
	f := DisputeFilter{FromDate: sp.dateTime("from_date"), ToDate: sp.dateTime("to_date"),
		FromSettled: sp.date("from_settled_date"), ToSettled: sp.date("to_settled_date"), Status: sp.get("status")}
	if strings.TrimSpace(f.Status) != "" && !disputeStatuses[f.Status] {
		sp.bad("status")
	}
	pg := sp.page()
	if len(sp.invalid) > 0 {
		return invalidParams("P0401", sp.invalid)
	}
	disputes, total, err := s.SearchDisputes(r.Context(), scopeOf(caller), f, pg)
	if err != nil {
		return err
	}
	if pageMissing(pg, total) {
		return newAPIError(http.StatusNotFound, "P0402", descPageMissing)
	}
	out := wireDisputeSearch{Total: total, Count: len(disputes), Page: pg.Number, Results: make([]wireDispute, 0, len(disputes))}
	for _, d := range disputes {
		wd := wireDispute{Amount: d.Amount, CreatedDate: apiTime(d.CreatedAt), DisputeID: d.ID, Fee: d.Fee,
			NetAmount: d.NetAmount, PaymentID: d.PaymentID, Reason: d.Reason, Status: d.Status}
		if d.EvidenceDueDate != nil {
			wd.EvidenceDueDate = apiTime(*d.EvidenceDueDate)
		}
		if d.SettledDate != "" {
			wd.SettlementSummary = &wireDisputeSettlement{SettledDate: d.SettledDate}
		}
		wd.Links.Payment = wireLink{Href: s.paymentURL(d.PaymentID), Method: "GET"}
		out.Results = append(out.Results, wd)
	}
	out.Links = s.navLinks("/v1/disputes", sp.q, disputeFilterParams, pg, total)
	writeJSON(w, http.StatusOK, out)
	return nil
}
