package pay

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
)

// GET /v1/payments and GET /v1/refunds.

// Pagination defaults (pay.md §3).
const (
	defaultDisplaySize = 500
	maxDisplaySize     = 500
)

// searchParams reads query parameters, remembering the order they are given in for the links.
type searchParams struct {
	q       url.Values
	invalid []string
}

func (sp *searchParams) get(name string) string { return sp.q.Get(name) }

// bad records an invalid parameter; all of them are reported together.
func (sp *searchParams) bad(name string) { sp.invalid = append(sp.invalid, name) }

func (sp *searchParams) maxLen(name string, max int) string {
	v := sp.get(name)
	if strings.TrimSpace(v) != "" && javaLen(v) > max {
		sp.bad(name)
	}
	return v
}

func (sp *searchParams) exactDigits(name string, n int) string {
	v := sp.get(name)
	if strings.TrimSpace(v) != "" && (len(v) != n || !allDigits(v)) {
		sp.bad(name)
	}
	return v
}

func (sp *searchParams) dateTime(name string) time.Time {
	v := sp.get(name)
	if strings.TrimSpace(v) == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		sp.bad(name)
	}
	return t.UTC()
}

func (sp *searchParams) date(name string) string {
	v := sp.get(name)
	if strings.TrimSpace(v) == "" {
		return ""
	}
	if _, err := time.Parse("2006-01-02", v); err != nil {
		sp.bad(name)
	}
	return v
}

func (sp *searchParams) page() Page {
	pg := Page{Number: 1, Size: defaultDisplaySize}
	if v := sp.get("page"); strings.TrimSpace(v) != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !allDigits(v) || n < 1 {
			sp.bad("page")
		} else {
			pg.Number = n
		}
	}
	if v := sp.get("display_size"); strings.TrimSpace(v) != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !allDigits(v) || n < 1 || n > maxDisplaySize {
			sp.bad("display_size")
		} else {
			pg.Size = n
		}
	}
	return pg
}

// invalidParams is the 422 naming every invalid parameter.
func invalidParams(code string, names []string) *apiError {
	return newAPIError(http.StatusUnprocessableEntity, code,
		"Invalid parameters: "+strings.Join(names, ", ")+". See Public API documentation for the correct data formats")
}

// validStates are the states the search accepts; GOV.UK Pay refuses "capturable" here too.
var validStates = map[string]bool{"created": true, "started": true, "submitted": true, "success": true,
	"failed": true, "cancelled": true, "error": true}

// paymentFilterParams are the filters of a payment search, in the order they are validated
// and written back into links.
var paymentFilterParams = []string{"reference", "email", "state", "card_brand", "from_date", "to_date",
	"cardholder_name", "first_digits_card_number", "last_digits_card_number", "from_settled_date",
	"to_settled_date", "agreement_id"}

type wireHref struct {
	Href string `json:"href"`
}

type wireNavLinks struct {
	Self      *wireHref `json:"self,omitempty"`
	FirstPage *wireHref `json:"first_page,omitempty"`
	LastPage  *wireHref `json:"last_page,omitempty"`
	PrevPage  *wireHref `json:"prev_page,omitempty"`
	NextPage  *wireHref `json:"next_page,omitempty"`
}

type wireSearch[T any] struct {
	Total   int          `json:"total"`
	Count   int          `json:"count"`
	Page    int          `json:"page"`
	Results []T          `json:"results"`
	Links   wireNavLinks `json:"_links"`
}

func (s *Service) searchPayments(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	sp := &searchParams{q: r.URL.Query()}
	state := sp.get("state")
	if strings.TrimSpace(state) != "" && !validStates[state] {
		sp.bad("state")
	}
	f := PaymentFilter{State: state, Reference: sp.maxLen("reference", maxReference), Email: sp.maxLen("email", maxEmail),
		CardBrand: sp.maxLen("card_brand", 20), FromDate: sp.dateTime("from_date"), ToDate: sp.dateTime("to_date")}
	pg := sp.page()
	f.FirstDigits = sp.exactDigits("first_digits_card_number", 6)
	f.LastDigits = sp.exactDigits("last_digits_card_number", 4)
	f.FromSettled, f.ToSettled = sp.date("from_settled_date"), sp.date("to_settled_date")
	f.CardholderName, f.AgreementID = sp.get("cardholder_name"), sp.get("agreement_id")
	if len(sp.invalid) > 0 {
		return invalidParams("P0401", sp.invalid)
	}
	payments, total, err := s.SearchPayments(r.Context(), scopeOf(caller), f, pg)
	if err != nil {
		return err
	}
	if pageMissing(pg, total) {
		return newAPIError(http.StatusNotFound, "P0402", descPageMissing)
	}
	out := wireSearch[wirePayment]{Total: total, Count: len(payments), Page: pg.Number, Results: make([]wirePayment, 0, len(payments))}
	for _, p := range payments {
		body := s.paymentBody(p)
		body.AgreementID = ""
		body.Links = s.searchLinks(p)
		out.Results = append(out.Results, body)
	}
	out.Links = s.navLinks("/v1/payments", sp.q, paymentFilterParams, pg, total)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Service) searchRefunds(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	sp := &searchParams{q: r.URL.Query()}
	f := RefundFilter{FromDate: sp.dateTime("from_date"), ToDate: sp.dateTime("to_date"),
		FromSettled: sp.date("from_settled_date"), ToSettled: sp.date("to_settled_date")}
	pg := sp.page()
	if len(sp.invalid) > 0 {
		return invalidParams("P1101", sp.invalid)
	}
	refunds, total, err := s.SearchRefunds(r.Context(), scopeOf(caller), f, pg)
	if err != nil {
		return err
	}
	if pageMissing(pg, total) {
		return newAPIError(http.StatusNotFound, "P1100", descPageMissing)
	}
	out := wireSearch[wireRefund]{Total: total, Count: len(refunds), Page: pg.Number, Results: make([]wireRefund, 0, len(refunds))}
	for _, ref := range refunds {
		body := s.refundBody(ref)
		body.PaymentID = ref.PaymentID
		out.Results = append(out.Results, body)
	}
	out.Links = s.navLinks("/v1/refunds", sp.q, []string{"from_date", "to_date", "from_settled_date", "to_settled_date"}, pg, total)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pageMissing reports a page past the last one. The first page always exists, empty or not.
func pageMissing(pg Page, total int) bool { return pg.Number > 1 && (pg.Number-1)*pg.Size >= total }

// navLinks are a search's self, first, last, previous and next pages, each with the search's
// filters; previous and next only where there is such a page.
func (s *Service) navLinks(path string, q url.Values, filters []string, pg Page, total int) wireNavLinks {
	var base strings.Builder
	for _, name := range filters {
		if v := q.Get(name); v != "" {
			base.WriteString(url.QueryEscape(name) + "=" + url.QueryEscape(v) + "&")
		}
	}
	href := func(page int) *wireHref {
		return &wireHref{Href: s.cfg.BaseURL + path + "?" + base.String() + "display_size=" + strconv.Itoa(pg.Size) +
			"&page=" + strconv.Itoa(page)}
	}
	last := max(1, (total+pg.Size-1)/pg.Size)
	l := wireNavLinks{Self: href(pg.Number), FirstPage: href(1), LastPage: href(last)}
	if pg.Number > 1 {
		l.PrevPage = href(pg.Number - 1)
	}
	if pg.Number < last {
		l.NextPage = href(pg.Number + 1)
	}
	return l
}
