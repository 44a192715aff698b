// Command pay-journey load-tests whole sandbox card payments on a live commons binary: each
// journey is what a service and its payer do between them —
//
//  1. the service creates a payment (POST /v1/payments);
//  2. the payer's browser opens next_url (GET /pay/secure/{token}), which sets the session
//     cookie and redirects to the card page, and follows it;
//  3. the browser posts the card form (POST /pay/card_details/{id}) and follows the redirect to
//     the confirm page;
//  4. the browser confirms (POST /pay/card_details/{id}/confirm), which redirects to the
//     service's return_url (not followed: it is the service's);
//  5. the service reads the payment (GET /v1/payments/{id}) and checks that it succeeded.
//
// -workers journeys run at once, each with its own cookie jar, until -journeys are done. It
// prints journeys a second, the journeys' latency percentiles and every failure; any failure
// makes it exit 1. Loopback only; the count bounds every run.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "Commons' address")
	key := flag.String("key", "", "API key of a service (a test key: payments go to the sandbox)")
	journeys := flag.Int("journeys", 1000, "how many journeys in all")
	workers := flag.Int("workers", 32, "how many journeys at once")
	card := flag.String("card", "4444333322221111", "sandbox card number that authorises")
	flag.Parse()
	if *key == "" {
		fmt.Fprintln(os.Stderr, "pay-journey: -key is required")
		os.Exit(2)
	}
	target, err := url.Parse(*base)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pay-journey:", err)
		os.Exit(2)
	}
	// One transport for all workers, with enough idle connections for each to keep its own.
	transport := &http.Transport{MaxIdleConns: 4 * *workers, MaxIdleConnsPerHost: 4 * *workers, IdleConnTimeout: time.Minute}
	r := runner{target: target, key: *key, card: *card, transport: transport}

	var next atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	var failures []string
	var wg sync.WaitGroup
	started := time.Now()
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(*journeys) {
				t := time.Now()
				err := r.journey()
				d := time.Since(t)
				mu.Lock()
				if err != nil {
					failures = append(failures, err.Error())
				} else {
					latencies = append(latencies, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(started)
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	fmt.Printf("journeys: %d done, %d failed in %.2fs with %d workers: %.1f journeys/s; journey latency p50 %s, p90 %s, p99 %s, max %s\n",
		len(latencies), len(failures), elapsed.Seconds(), *workers, float64(len(latencies))/elapsed.Seconds(),
		pct(0.50).Round(time.Millisecond), pct(0.90).Round(time.Millisecond), pct(0.99).Round(time.Millisecond),
		pct(1).Round(time.Millisecond))
	if len(failures) > 0 {
		for i, f := range failures {
			if i == 10 {
				fmt.Fprintf(os.Stderr, "… and %d more\n", len(failures)-10)
				break
			}
			fmt.Fprintln(os.Stderr, "failed:", f)
		}
		os.Exit(1)
	}
}

// runner makes journeys against one Commons.
type runner struct {
	target    *url.URL
	key, card string
	transport *http.Transport
}

const returnURL = "https://service.example.gov.uk/done"

// journey makes one payment from creation to success.
func (r runner) journey() error {
	// The service.
	var created struct {
		PaymentID string `json:"payment_id"`
		Links     struct {
			NextURL struct {
				Href string `json:"href"`
			} `json:"next_url"`
		} `json:"_links"`
	}
	body := `{"amount":1450,"reference":"JOURNEY-1","description":"Bench journey","return_url":"` + returnURL + `"}`
	if err := r.api("POST", "/v1/payments", body, http.StatusCreated, &created); err != nil {
		return err
	}
	next, err := url.Parse(created.Links.NextURL.Href)
	if err != nil || next.Path == "" {
		return fmt.Errorf("create: no next_url in the answer (%v)", err)
	}

	// The payer: a browser with its own cookies, following redirects within Commons only.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Transport: r.transport, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if req.URL.Host != r.target.Host {
				return http.ErrUseLastResponse // the service's return_url
			}
			return nil
		}}
	cardPage := "/pay/card_details/" + created.PaymentID
	// next_url is built on Commons' public base URL; the path is what matters here.
	if err := r.page(browser, "GET", next.Path, nil, http.StatusOK, cardPage); err != nil {
		return fmt.Errorf("next_url: %w", err)
	}
	form := url.Values{"cardNo": {r.card}, "expiryMonth": {"12"}, "expiryYear": {"30"}, "cardholderName": {"Ada Lovelace"},
		"cvc": {"123"}, "addressLine1": {"1 Horse Guards Road"}, "addressCity": {"London"}, "addressPostcode": {"SW1A 2HQ"},
		"addressCountry": {"GB"}, "email": {"ada@example.com"}}
	if err := r.page(browser, "POST", cardPage, form, http.StatusOK, cardPage+"/confirm"); err != nil {
		return fmt.Errorf("card form: %w", err)
	}
	if err := r.page(browser, "POST", cardPage+"/confirm", url.Values{}, http.StatusSeeOther, returnURL); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}

	// The service again.
	var got struct {
		State struct {
			Status string `json:"status"`
		} `json:"state"`
	}
	if err := r.api("GET", "/v1/payments/"+created.PaymentID, "", http.StatusOK, &got); err != nil {
		return err
	}
	if got.State.Status != "success" {
		return fmt.Errorf("payment %s ended %q", created.PaymentID, got.State.Status)
	}
	return nil
}

// api makes a request to the /v1 API and decodes its answer into out.
func (r runner) api(method, path, body string, want int, out any) error {
	var rdr io.Reader
	if body != "" {
		rdr = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, r.target.String()+path, rdr)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: r.transport, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	return json.Unmarshal(raw, out)
}

// page makes a browser request, follows redirects within Commons, and checks where it ended:
// the status of the last answer and its page (or, for a redirect out of Commons, where to).
func (r runner) page(c *http.Client, method, path string, form url.Values, want int, wantAt string) error {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, r.target.String()+path, body)
	if err != nil {
		return err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	at := resp.Request.URL.Path
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		at = resp.Header.Get("Location")
	}
	if resp.StatusCode != want || at != wantAt {
		return errors.New(method + " " + path + ": ended at " + at + " with " + resp.Status + ", want " + wantAt)
	}
	return nil
}
