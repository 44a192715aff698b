package pay

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/platform"
)

// The webhook API through a real mux: what each kind of key may do, and that no key of one
// service reaches another's webhooks.

// webhookAPI serves the webhook API for the fixture and sends requests to it.
type webhookAPI struct {
	t   *testing.T
	srv *httptest.Server
}

func newWebhookAPI(t *testing.T, f *webhookFixture) *webhookAPI {
	mux := http.NewServeMux()
	f.svc.MountWebhookAPI(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &webhookAPI{t: t, srv: srv}
}

// call sends a request with key as the bearer token ("" for none) and decodes the answer.
func (a *webhookAPI) call(method, path, key string, body any) (int, http.Header, map[string]any) {
	a.t.Helper()
	var rdr io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rdr = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rdr = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rdr)
	if err != nil {
		a.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			a.t.Fatalf("%s %s: %s", method, path, raw)
		}
	}
	return resp.StatusCode, resp.Header, out
}

// must fails the test unless the call answered status.
func (a *webhookAPI) must(status int, method, path, key string, body any) map[string]any {
	a.t.Helper()
	got, h, out := a.call(method, path, key, body)
	if got != status {
		a.t.Fatalf("%s %s: status %d, want %d: %v", method, path, got, status, out)
	}
	if status >= 400 && h.Get("Content-Type") != "application/problem+json" {
		a.t.Fatalf("%s %s: error as %s", method, path, h.Get("Content-Type"))
	}
	return out
}

func TestWebhookAPI(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		api := newWebhookAPI(t, f)
		const base = "/api/pay/v1/webhooks"
		created := api.must(http.StatusCreated, "POST", base, f.a.teamKey, map[string]any{
			"callback_url": "https://hooks.example.com/pay", "description": "Case system",
			"subscriptions": []string{"card_payment_failed", "card_payment_succeeded", "card_payment_succeeded"}})
		id := created["id"].(string)
		if created["live"] != false || created["status"] != "active" || !strings.HasPrefix(created["signing_secret"].(string), "webhook_test_") {
			t.Fatalf("created %v", created)
		}
		if subs := created["subscriptions"].([]any); len(subs) != 2 || subs[0] != "card_payment_succeeded" {
			t.Fatalf("subscriptions %v", subs)
		}
		got := api.must(http.StatusOK, "GET", base+"/"+id, f.a.teamKey, nil)
		if _, ok := got["signing_secret"]; ok || got["callback_url"] != "https://hooks.example.com/pay" {
			t.Fatalf("GET %v", got)
		}
		secret := api.must(http.StatusOK, "GET", base+"/"+id+"/signing-secret", f.a.teamKey, nil)["signing_secret"]
		if secret != created["signing_secret"] {
			t.Fatal("GET signing-secret differs from the one made")
		}
		rotated := api.must(http.StatusOK, "POST", base+"/"+id+"/signing-secret", f.a.teamKey, nil)["signing_secret"]
		if rotated == secret {
			t.Fatal("rotation kept the secret")
		}
		updated := api.must(http.StatusOK, "PATCH", base+"/"+id, f.a.teamKey, map[string]any{"description": "Finance"})
		if updated["description"] != "Finance" || updated["callback_url"] != "https://hooks.example.com/pay" {
			t.Fatalf("PATCH %v", updated)
		}
		if out := api.must(http.StatusOK, "POST", base+"/"+id+"/deactivate", f.a.teamKey, nil); out["status"] != "inactive" {
			t.Fatalf("deactivate %v", out)
		}
		if out := api.must(http.StatusOK, "PATCH", base+"/"+id, f.a.teamKey, map[string]any{"status": "active"}); out["status"] != "active" {
			t.Fatalf("reactivate %v", out)
		}
		list := api.must(http.StatusOK, "GET", base, f.a.teamKey, nil)["webhooks"].([]any)
		if len(list) != 1 {
			t.Fatalf("list %v", list)
		}
		// A live key sees the live webhooks only; this test webhook is not among them.
		if list := api.must(http.StatusOK, "GET", base, f.a.liveKey, nil)["webhooks"].([]any); len(list) != 0 {
			t.Fatalf("live key lists %v", list)
		}
		api.must(http.StatusNotFound, "GET", base+"/"+id, f.a.liveKey, nil)
		live := api.must(http.StatusCreated, "POST", base, f.a.liveKey, map[string]any{
			"callback_url": "https://payments.example.gov.uk/hook", "subscriptions": []string{"card_payment_captured"}})
		if live["live"] != true || !strings.HasPrefix(live["signing_secret"].(string), "webhook_live_") {
			t.Fatalf("live webhook %v", live)
		}

		// Service B's keys reach none of A's webhooks, and are told they do not exist.
		for _, key := range []string{f.b.teamKey, f.b.liveKey} {
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{"GET", base + "/" + id, nil},
				{"PATCH", base + "/" + id, map[string]any{"description": "mine"}},
				{"POST", base + "/" + id + "/deactivate", nil},
				{"GET", base + "/" + id + "/signing-secret", nil},
				{"POST", base + "/" + id + "/signing-secret", nil},
				{"GET", base + "/" + id + "/messages", nil},
				{"GET", base + "/" + live["id"].(string), nil},
			} {
				api.must(http.StatusNotFound, c.method, c.path, key, c.body)
			}
			if list := api.must(http.StatusOK, "GET", base, key, nil)["webhooks"].([]any); len(list) != 0 {
				t.Fatalf("service B lists %v", list)
			}
		}
		if w, err := f.svc.Webhook(f.ctx, f.a.id, id); err != nil || w.Description != "Finance" {
			t.Fatalf("B changed A's webhook: %v %v", w, err)
		}

		// Keys that may not manage webhooks, and requests that break the rules.
		api.must(http.StatusForbidden, "GET", base, f.a.testKey, nil)
		api.must(http.StatusUnauthorized, "GET", base, "", nil)
		api.must(http.StatusForbidden, "GET", base, "nonsense", nil)
		bad := api.must(http.StatusBadRequest, "POST", base, f.a.teamKey, map[string]any{
			"callback_url": "http://hooks.example.com/", "subscriptions": []string{"card_payment_refunded", "payment_made"}})
		fields := map[string]bool{}
		for _, e := range bad["errors"].([]any) {
			fields[e.(map[string]any)["field"].(string)] = true
		}
		if !fields["callback_url"] || !fields["subscriptions"] {
			t.Fatalf("errors %v", bad)
		}
		api.must(http.StatusBadRequest, "POST", base, f.a.liveKey, map[string]any{
			"callback_url": "https://hooks.example.com/", "subscriptions": []string{"card_payment_refunded"}})
		api.must(http.StatusBadRequest, "POST", base, f.a.teamKey, map[string]any{
			"callback_url": "https://hooks.example.com/", "subscriptions": []string{"card_payment_refunded"}, "live": true})

		// Messages and their attempts.
		_, tok := f.create(f.a.testKey, webPayment(100))
		f.pay(tok, "4444333322221111")
		msgs := api.must(http.StatusOK, "GET", base+"/"+id+"/messages", f.a.teamKey, nil)
		list = msgs["messages"].([]any)
		if len(list) != 1 || msgs["next"] != nil {
			t.Fatalf("messages %v", msgs)
		}
		m := list[0].(map[string]any)
		if m["event_type"] != "card_payment_succeeded" || m["status"] != "PENDING" || m["resource_type"] != "payment" {
			t.Fatalf("message %v", m)
		}
		f.receiver.answer(http.StatusGone)
		_ = f.deliver(m["id"].(string), 1)
		one := api.must(http.StatusOK, "GET", base+"/"+id+"/messages/"+m["id"].(string), f.a.teamKey, nil)
		log := one["attempt_log"].([]any)
		if one["status"] != "FAILED" || one["next_attempt_at"] == nil || len(log) != 1 || log[0].(map[string]any)["status_code"] != float64(410) {
			t.Fatalf("message %v", one)
		}
		if failed := api.must(http.StatusOK, "GET", base+"/"+id+"/messages?status=FAILED", f.a.teamKey, nil)["messages"].([]any); len(failed) != 1 {
			t.Fatalf("failed messages %v", failed)
		}
		api.must(http.StatusBadRequest, "GET", base+"/"+id+"/messages?status=LOST", f.a.teamKey, nil)

		// Every change was recorded as the key that made it.
		events, err := f.platform.AuditLog(f.ctx, f.a.id, platform.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, e := range events {
			actions[e.Action]++
		}
		if actions[auditWebhookCreated] != 2 || actions[auditWebhookSecretRotated] != 1 || actions[auditWebhookDeactivated] != 1 ||
			actions[auditWebhookActivated] != 1 || actions[auditWebhookUpdated] != 1 {
			t.Fatalf("audit %v", actions)
		}
	})
}

func TestConfirmationEmailAPI(t *testing.T) {
	eachWebhook(t, func(t *testing.T, f *webhookFixture) {
		api := newWebhookAPI(t, f)
		const path = "/api/pay/v1/confirmation-email"
		if got := api.must(http.StatusOK, "GET", path, f.a.liveKey, nil); got["enabled"] != false {
			t.Fatalf("default %v", got)
		}
		body := map[string]any{"enabled": true, "template_id": "8f6c0e3a-4b1e-4d2a-9c55-2f1d3e4b5a6c"}
		api.must(http.StatusForbidden, "PUT", path, f.a.teamKey, body)
		if got := api.must(http.StatusOK, "PUT", path, f.a.liveKey, body); got["enabled"] != true {
			t.Fatalf("saved %v", got)
		}
		api.must(http.StatusBadRequest, "PUT", path, f.a.liveKey, map[string]any{"enabled": true, "template_id": "welcome"})
		if got := api.must(http.StatusOK, "GET", path, f.b.liveKey, nil); got["enabled"] != false {
			t.Fatalf("service B sees %v", got)
		}
	})
}
