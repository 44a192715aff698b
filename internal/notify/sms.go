package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HTTPSMS is a generic HTTPS text message provider. For each message it makes one request:
//
//	POST <URL>
//	Authorization: Bearer <Token>
//	Content-Type: application/json
//
//	{"id": "<notification id>", "to": "+447700900123", "body": "…", "sender": "GOVUK"}
//
// A 2xx answer means the provider has the message; its JSON body may carry {"reference": "…"},
// the provider's own id, which its receipts may quote instead of ours. The id is an
// idempotency key: a provider that keeps one message per id can never deliver a notification
// twice. A 429 or 5xx answer, or a request that never reached the provider, is tried again
// later; any other answer fails the notification (technical-failure); a request whose answer
// was lost (a timeout after sending) is not repeated, so that the message is never sent twice.
//
// The provider reports outcomes and forwards replies to Commons: see MountProviderCallbacks.
type HTTPSMS struct {
	URL    string
	Token  string
	Client *http.Client // nil: a client with a 10 s timeout
}

// NewHTTPSMS checks the settings of an HTTPS text message provider (COMMONS_SMS_PROVIDER_URL
// and COMMONS_SMS_PROVIDER_TOKEN).
func NewHTTPSMS(rawURL, token string) (*HTTPSMS, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("text message provider URL must be an https URL, not %q", rawURL)
	}
	if token == "" {
		return nil, errors.New("text message provider token is required")
	}
	return &HTTPSMS{URL: rawURL, Token: token}, nil
}

// Name implements SMSProvider.
func (*HTTPSMS) Name() string { return "sms-https" }

type httpSMSRequest struct {
	ID     string `json:"id"`
	To     string `json:"to"`
	Body   string `json:"body"`
	Sender string `json:"sender"`
}

// SendSMS implements SMSProvider.
func (p *HTTPSMS) SendSMS(ctx context.Context, m SMSMessage) (string, error) {
	to := m.To
	if !strings.HasPrefix(to, "+") {
		to = "+" + to
	}
	body, err := json.Marshal(httpSMSRequest{ID: m.NotificationID, To: to, Body: m.Body, Sender: m.Sender})
	if err != nil {
		return "", &ProviderError{Outcome: OutcomeFailed, Err: err}
	}
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return "", &ProviderError{Outcome: OutcomeFailed, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.Token)
	if err := ctx.Err(); err != nil {
		return "", &ProviderError{Outcome: OutcomeRetry, Err: err}
	}
	resp, err := client.Do(req)
	if err != nil {
		if notSent(err) {
			return "", &ProviderError{Outcome: OutcomeRetry, Err: fmt.Errorf("sms provider unreachable: %w", err)}
		}
		return "", &ProviderError{Outcome: OutcomeUnknown, Err: fmt.Errorf("sms provider: no answer: %w", err)}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		var out struct {
			Reference string `json:"reference"`
		}
		_ = json.Unmarshal(answer, &out)
		if out.Reference == "" {
			out.Reference = m.NotificationID
		}
		return out.Reference, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return "", &ProviderError{Outcome: OutcomeRetry, Err: fmt.Errorf("sms provider answered %d", resp.StatusCode)}
	default:
		return "", &ProviderError{Outcome: OutcomeFailed, Err: fmt.Errorf("sms provider answered %d", resp.StatusCode)}
	}
}

// notSent reports whether a request error happened before any of the request could have
// reached the server: the connection was never made.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
