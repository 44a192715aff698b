package pay

import (
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/ratelimit"
)

func TestIDs(t *testing.T) {
	if got := formatID(big.NewInt(0)); got != strings.Repeat("0", 26) {
		t.Errorf("zero is %q", got)
	}
	if got := formatID(big.NewInt(32*32 + 31)); got != strings.Repeat("0", 23)+"10v" {
		t.Errorf("1055 is %q", got)
	}
	maxID := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), idBits), big.NewInt(1))
	if got := formatID(maxID); got != strings.Repeat("v", 26) {
		t.Errorf("2^130-1 is %q", got)
	}
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !validID(id) || seen[id] {
			t.Fatalf("id %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "short", strings.Repeat("w", 26), strings.Repeat("A", 26)} {
		if validID(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestExternalStates(t *testing.T) {
	cases := map[Status]External{
		StatusCreated:                 {Status: "created"},
		StatusEnteringCardDetails:     {Status: "started"},
		StatusAuthorisation3DSReady:   {Status: "started"},
		StatusAuthorisationSuccess:    {Status: "submitted"},
		StatusAwaitingCaptureRequest:  {Status: "capturable"},
		StatusCaptureQueued:           {Status: "success", Finished: true},
		StatusCaptured:                {Status: "success", Finished: true},
		StatusAuthorisationAborted:    {Status: "failed", Finished: true, Code: "P0010", Message: "Payment method rejected"},
		StatusExpireCancelFailed:      {Status: "failed", Finished: true, Code: "P0020", Message: "Payment expired"},
		StatusUserCancelError:         {Status: "failed", Finished: true, Code: "P0030", Message: "Payment was cancelled by the user"},
		StatusSystemCancelError:       {Status: "cancelled", Finished: true, Code: "P0040", Message: "Payment was cancelled by the service"},
		StatusAuthorisationSubmitted:  {Status: "error", Finished: true, Code: "P0050", Message: "Payment provider returned an error"},
		StatusCaptureError:            {Status: "error", Finished: true, Code: "P0050", Message: "Payment provider returned an error"},
		StatusAuthorisationUnexpected: {Status: "error", Finished: true, Code: "P0050", Message: "Payment provider returned an error"},
	}
	for st, want := range cases {
		if got := st.External(); got != want {
			t.Errorf("%s: %+v, want %+v", st, got, want)
		}
	}
	for _, st := range allStatuses {
		if _, ok := externalOf[st]; !ok {
			t.Errorf("%s has no external state", st)
		}
	}
	if len(allStatuses) != len(externalOf) {
		t.Errorf("%d statuses listed, %d mapped", len(allStatuses), len(externalOf))
	}
}

func TestTransitionTable(t *testing.T) {
	known := map[Status]bool{}
	for _, st := range allStatuses {
		known[st] = true
	}
	for from, tos := range transitions {
		if !known[from] {
			t.Errorf("unknown status %s", from)
		}
		for to, event := range tos {
			if !known[to] || event == "" {
				t.Errorf("%s → %s (%q)", from, to, event)
			}
			// Nothing leaves a state that is finished and settled, except the clean-up steps
			// of cancelling (X CANCEL READY/SUBMITTED) and capturing (success states).
			if from.Finished() && from.External().Status != "success" && !strings.Contains(string(from), "CANCEL") &&
				from != StatusAuthorisationError && from != StatusAuthorisationUnexpected && from != StatusAuthorisationSubmitted {
				t.Errorf("finished %s may move to %s", from, to)
			}
		}
	}
	for _, c := range []struct {
		from, to Status
		ok       bool
	}{
		{StatusCreated, StatusEnteringCardDetails, true},
		{StatusAwaitingCaptureRequest, StatusCaptureApproved, true},
		{StatusCaptured, StatusCaptureApproved, false},
		{StatusSystemCancelled, StatusCreated, false},
		{StatusAuthorisationReady, StatusSystemCancelReady, false},
		{StatusExpired, StatusCaptured, false},
	} {
		if CanTransition(c.from, c.to) != c.ok {
			t.Errorf("%s → %s allowed: %v", c.from, c.to, !c.ok)
		}
	}
}

func TestRefundAvailability(t *testing.T) {
	for _, c := range []struct {
		st        Status
		available int64
		want      string
	}{
		{StatusCreated, 100, RefundPending},
		{StatusAuthorisationSuccess, 100, RefundPending},
		{StatusCaptureApproved, 100, RefundPending},
		{StatusCaptureSubmitted, 100, RefundPending},
		{StatusCaptured, 100, RefundAvailable},
		{StatusCaptured, 0, RefundFull},
		{StatusAwaitingCaptureRequest, 100, RefundUnavailable},
		{StatusCaptureQueued, 100, RefundUnavailable},
		{StatusExpired, 100, RefundUnavailable},
		{StatusCaptureError, 100, RefundUnavailable},
	} {
		if got := refundAvailability(c.st, c.available); got != c.want {
			t.Errorf("%s with %d left: %s, want %s", c.st, c.available, got, c.want)
		}
	}
}

func TestCards(t *testing.T) {
	for number, brand := range map[string]string{
		"4444333322221111": "visa", "5105105105105100": "master-card", "2221000000000009": "master-card",
		"371449635398431": "american-express", "36148900647913": "diners-club", "6011000990139424": "discover",
		"3566002020360505": "jcb", "6759649826438453": "maestro", "6200000000000005": "unionpay", "9999999999999995": "",
	} {
		if got := brandOf(number); got != brand {
			t.Errorf("%s: %q, want %q", number, got, brand)
		}
	}
	for n := range sandboxAuthorised {
		if err := checkCardNumber(n); err != nil {
			t.Errorf("sandbox card %s refused: %v", n, err)
		}
	}
	for _, n := range []string{"4444333322221112", "4444 3333 2222 1111", "41111111111", ""} {
		if checkCardNumber(n) == nil {
			t.Errorf("%q accepted", n)
		}
	}
	c := Card{Number: "4444333322221111", CVC: "123"}
	for _, s := range []string{c.String(), c.GoString()} {
		if strings.Contains(s, "444433") || strings.Contains(s, "123") {
			t.Errorf("card printed as %q", s)
		}
	}
}

func TestMigrationsPair(t *testing.T) {
	if err := Migrations.CheckPairs(); err != nil {
		t.Fatal(err)
	}
}

func TestExpiryDate(t *testing.T) {
	now := time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC) // still May 31st twelve hours behind UTC
	for expiry, want := range map[string]bool{"05/26": true, "04/26": false, "06/26": true, "01/27": true, "12/25": false} {
		if got := expiryInFuture(expiry, now); got != want {
			t.Errorf("%s: %v", expiry, got)
		}
	}
}

// TestRateLimits checks the 429 and that create, capture, other POSTs and GETs have separate
// buckets.
func TestRateLimits(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		limiter := ratelimit.New(f.d)
		limiter.Now = f.clock.Now
		f.svc.cfg.Limiter = limiter
		for range 15 {
			f.do("POST", "/v1/payments", f.a.testKey, webPayment(100)).want(t, http.StatusCreated)
		}
		f.do("POST", "/v1/payments", f.a.testKey, webPayment(100)).wantError(t, http.StatusTooManyRequests,
			`{"code":"P0900","description":"Too many requests"}`)
		// Other buckets, other services and the other mode are unaffected.
		f.do("GET", "/v1/payments", f.a.testKey, nil).want(t, http.StatusOK)
		f.do("POST", "/v1/payments/aaaaaaaaaaaaaaaaaaaaaaaaaa/cancel", f.a.testKey, nil).want(t, http.StatusNotFound)
		f.do("POST", "/v1/payments", f.b.testKey, webPayment(100)).want(t, http.StatusCreated)
		f.do("POST", "/v1/payments", f.a.liveKey, webPayment(100)).want(t, http.StatusCreated)
		// The bucket refills.
		f.clock.Advance(time.Second)
		f.do("POST", "/v1/payments", f.a.testKey, webPayment(100)).want(t, http.StatusCreated)
	})
}
