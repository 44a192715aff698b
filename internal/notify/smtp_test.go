package notify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
)

func TestParseSMTPURL(t *testing.T) {
	good := []struct {
		raw  string
		want SMTPConfig
	}{
		{"smtp://apikey:s3cr%40t@smtp.example.com", SMTPConfig{Host: "smtp.example.com", Port: 587, Username: "apikey", Password: "s3cr@t", Security: "starttls"}},
		{"smtps://user:pw@mail.example.com", SMTPConfig{Host: "mail.example.com", Port: 465, Username: "user", Password: "pw", Security: "tls"}},
		{"smtp://localhost:25?tls=none", SMTPConfig{Host: "localhost", Port: 25, Security: "none"}},
		{"smtp://relay.internal?tls=tls&auth=login&helo=node1.example&timeout=10s&pool=0", SMTPConfig{Host: "relay.internal", Port: 465,
			Security: "tls", Auth: "login", HELO: "node1.example", Timeout: 10 * time.Second, Pool: -1}},
		{"smtp://u%40example.com:p@[::1]:2525?tls=starttls&pool=16", SMTPConfig{Host: "::1", Port: 2525, Username: "u@example.com", Password: "p", Security: "starttls", Pool: 16}},
	}
	for _, g := range good {
		got, err := ParseSMTPURL(g.raw)
		if err != nil {
			t.Errorf("%s: %v", g.raw, err)
			continue
		}
		if got != g.want {
			t.Errorf("%s:\n got %+v\nwant %+v", g.raw, got, g.want)
		}
	}
	for _, bad := range []string{
		"", "mail.example.com", "http://mail.example.com", "smtp://", "smtp://host?tls=maybe", "smtp://host?auth=xoauth9",
		"smtp://host:99999", "smtp://host?timeout=soon", "smtp://host?pool=-2", "smtp://host?colour=blue",
		"smtp://host?ca_file=/nonexistent/ca.pem",
	} {
		if _, err := ParseSMTPURL(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
	if _, err := ParseSMTPURL("ftp://user:hunter2@host"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad URL's error must not show its password: %v", err)
	}
}

func testEmail(id string) EmailMessage {
	return EmailMessage{
		NotificationID: id, FromName: "Apply for a Licence", FromAddress: "apply.for.a.licence@notify.example.gov.uk",
		To: "jo@example.com", ReplyTo: "replies@licensing.example.gov.uk", Subject: "Your licence – ready",
		Text: "Hello Jo\r\n\r\nYour licence is ready. Café.", HTML: "<p>Hello Jo</p><p>Your licence is ready. Café.</p>",
		UnsubscribeURL: "https://licensing.example.gov.uk/unsubscribe/" + id,
		MessageID:      MessageID(id, "notify.example.gov.uk"),
	}
}

func plainSender(t *testing.T, sink *smtpSink) *SMTPSender {
	t.Helper()
	s, err := NewSMTPSender(SMTPConfig{Host: sink.host(), Port: sink.port(), Security: "none", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The message on the wire: GOV.UK Notify's headers, and a multipart/alternative body whose
// parts decode to the plain text and the HTML.
func TestSMTPSenderMessage(t *testing.T) {
	sink := newSMTPSink(t, nil)
	sender := plainSender(t, sink)
	m := testEmail("6f1c1b3e-8d5e-4a57-9a41-2b1f7f3c0a11")
	ref, err := sender.SendEmail(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if ref != m.MessageID {
		t.Errorf("reference %q, want the Message-ID %q", ref, m.MessageID)
	}
	got := sink.received()
	if len(got) != 1 {
		t.Fatalf("sink has %d messages, want 1", len(got))
	}
	if got[0].From != m.FromAddress || len(got[0].To) != 1 || got[0].To[0] != m.To {
		t.Errorf("envelope from %q to %q", got[0].From, got[0].To)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(h.Get("Subject"))
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != m.FromName || from[0].Address != m.FromAddress {
		t.Errorf("From = %q (%v)", h.Get("From"), err)
	}
	for name, want := range map[string]string{
		"To": "<jo@example.com>", "Reply-To": "<replies@licensing.example.gov.uk>", "Message-Id": "<" + m.MessageID + ">",
		"List-Unsubscribe": "<" + m.UnsubscribeURL + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if subject != m.Subject {
		t.Errorf("Subject = %q, want %q", subject, m.Subject)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", h.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	var order []string
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(p)
		}
		body, _ := io.ReadAll(r)
		parts[ct] = string(body)
		order = append(order, ct)
	}
	if len(order) != 2 || order[0] != "text/plain" || order[1] != "text/html" {
		t.Errorf("parts %q, want text/plain then text/html", order)
	}
	if parts["text/plain"] != m.Text {
		t.Errorf("text part = %q, want %q", parts["text/plain"], m.Text)
	}
	if parts["text/html"] != m.HTML {
		t.Errorf("HTML part = %q, want %q", parts["text/html"], m.HTML)
	}

	// No unsubscribe URL, no reply-to: no such headers.
	m2 := testEmail("7a2d2c4f-9e6f-4b68-8b52-3c2a8a4d1b22")
	m2.UnsubscribeURL, m2.ReplyTo = "", ""
	if _, err := sender.SendEmail(context.Background(), m2); err != nil {
		t.Fatal(err)
	}
	msg2, _ := mail.ReadMessage(bytes.NewReader(sink.received()[1].Data))
	for _, name := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "Reply-To"} {
		if v := msg2.Header.Get(name); v != "" {
			t.Errorf("%s = %q without an unsubscribe URL or reply-to", name, v)
		}
	}
}

// STARTTLS and AUTH against a server with a self-signed certificate the sender trusts; TLS
// from the first byte likewise. A wrong password or a server that cannot STARTTLS sends
// nothing and is retried later.
func TestSMTPSenderTLSAndAuth(t *testing.T) {
	cert, pool := selfSignedCert(t)
	ctx := context.Background()

	starttls := newSMTPSink(t, func(s *smtpSink) { s.cert, s.user, s.pass = cert, "notify", "correct horse" })
	s, err := NewSMTPSender(SMTPConfig{Host: starttls.host(), Port: starttls.port(), Security: "starttls",
		Username: "notify", Password: "correct horse", RootCAs: pool, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendEmail(ctx, testEmail("11111111-1111-4111-8111-111111111111")); err != nil {
		t.Fatalf("STARTTLS with AUTH: %v", err)
	}
	if got := starttls.received(); len(got) != 1 || !got[0].TLS || got[0].User != "notify" {
		t.Errorf("STARTTLS sink got %+v; want one message over TLS from the authenticated user", got)
	}
	s.Close()

	wrong, _ := NewSMTPSender(SMTPConfig{Host: starttls.host(), Port: starttls.port(), Security: "starttls",
		Username: "notify", Password: "wrong", Auth: "plain", RootCAs: pool, Timeout: 10 * time.Second})
	_, err = wrong.SendEmail(ctx, testEmail("22222222-2222-4222-8222-222222222222"))
	if outcomeOf(err) != OutcomeRetry {
		t.Errorf("wrong password: %v (outcome %d); want a retry", err, outcomeOf(err))
	}

	untrusted, _ := NewSMTPSender(SMTPConfig{Host: starttls.host(), Port: starttls.port(), Security: "starttls",
		Username: "notify", Password: "correct horse", Timeout: 10 * time.Second})
	if _, err := untrusted.SendEmail(ctx, testEmail("33333333-3333-4333-8333-333333333333")); outcomeOf(err) != OutcomeRetry {
		t.Errorf("untrusted certificate: %v; want a retry", err)
	}

	noTLS := newSMTPSink(t, nil)
	mustTLS, _ := NewSMTPSender(SMTPConfig{Host: noTLS.host(), Port: noTLS.port(), Security: "starttls", Timeout: 10 * time.Second})
	if _, err := mustTLS.SendEmail(ctx, testEmail("44444444-4444-4444-8444-444444444444")); outcomeOf(err) != OutcomeRetry {
		t.Errorf("server without STARTTLS: %v; want a retry", err)
	}
	if n := len(noTLS.received()) + len(starttls.received()); n != 1 {
		t.Errorf("%d messages delivered in total, want only the first", n)
	}

	implicit := newSMTPSink(t, func(s *smtpSink) { s.cert, s.implicitTLS = cert, true })
	tlsSender, err := ParseSMTPURL("smtps://" + implicit.addr + "?timeout=10s")
	if err != nil {
		t.Fatal(err)
	}
	tlsSender.RootCAs = pool
	ts, err := NewSMTPSender(tlsSender)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	if _, err := ts.SendEmail(ctx, testEmail("55555555-5555-4555-8555-555555555555")); err != nil {
		t.Fatalf("implicit TLS: %v", err)
	}
	if got := implicit.received(); len(got) != 1 || !got[0].TLS {
		t.Errorf("implicit TLS sink got %+v", got)
	}
}

// Each SMTP failure is classified by whether the server can have taken the message.
func TestSMTPSenderFailuresClassified(t *testing.T) {
	sink := newSMTPSink(t, nil)
	sender := plainSender(t, sink)
	ctx := context.Background()
	set := func(f func()) {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		sink.rcptErr, sink.dataErr, sink.dropAfterData = nil, nil, false
		f()
	}
	cases := []struct {
		name string
		set  func()
		want ProviderOutcome
	}{
		{"recipient refused", func() {
			sink.rcptErr = map[string]*smtp.SMTPError{"jo@example.com": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user jo@example.com"}}
		}, OutcomeRejected},
		{"recipient deferred", func() {
			sink.rcptErr = map[string]*smtp.SMTPError{"jo@example.com": {Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try later"}}
		}, OutcomeRetry},
		{"message refused", func() {
			sink.dataErr = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Rejected"}
		}, OutcomeFailed},
		{"message deferred", func() {
			sink.dataErr = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "Full"}
		}, OutcomeRetry},
		{"no reply after the message", func() { sink.dropAfterData = true }, OutcomeUnknown},
	}
	for i, c := range cases {
		set(c.set)
		_, err := sender.SendEmail(ctx, testEmail("66666666-6666-4666-8666-00000000000"+string(rune('0'+i))))
		if outcomeOf(err) != c.want {
			t.Errorf("%s: %v (outcome %d), want outcome %d", c.name, err, outcomeOf(err), c.want)
		}
		if err != nil && strings.Contains(err.Error(), "jo@example.com") {
			t.Errorf("%s: error shows the recipient's address: %v", c.name, err)
		}
	}
	set(func() {})
	if len(sink.received()) != 0 {
		t.Errorf("sink accepted %d messages, want none", len(sink.received()))
	}
	sink.stop()
	if _, err := sender.SendEmail(ctx, testEmail("77777777-7777-4777-8777-777777777777")); outcomeOf(err) != OutcomeRetry {
		t.Errorf("server down: %v; want a retry", err)
	}
}

// What a failure in a mail transaction means for the message, by where it happened and the
// server's reply; and which failures show that a pooled connection had died before anything
// was sent on it.
func TestClassifySMTP(t *testing.T) {
	reply := func(code int) error { return &textproto.Error{Code: code, Msg: "about jo@example.com"} }
	broken := io.ErrUnexpectedEOF
	for _, c := range []struct {
		step smtpStep
		err  error
		want ProviderOutcome
		gone bool
	}{
		{stepMail, broken, OutcomeRetry, true},
		{stepMail, reply(421), OutcomeRetry, true},
		{stepMail, reply(451), OutcomeRetry, false},
		{stepMail, reply(553), OutcomeFailed, false},
		{stepRcpt, reply(550), OutcomeRejected, false},
		{stepRcpt, reply(450), OutcomeRetry, false},
		{stepRcpt, broken, OutcomeRetry, false},
		{stepData, reply(554), OutcomeFailed, false},
		{stepData, broken, OutcomeRetry, false},
		{stepBody, broken, OutcomeRetry, false},
		{stepEnd, reply(452), OutcomeRetry, false},
		{stepEnd, reply(554), OutcomeFailed, false},
		{stepEnd, broken, OutcomeUnknown, false},
	} {
		err := &smtpError{step: c.step, err: c.err}
		got := classifySMTP(err)
		if outcomeOf(got) != c.want || connectionGone(err) != c.gone {
			t.Errorf("%v: outcome %d, connection gone %v; want %d, %v", err, outcomeOf(got), connectionGone(err), c.want, c.gone)
		}
		if strings.Contains(got.Error(), "jo@example.com") || !strings.HasPrefix(got.Error(), smtpStepNames[c.step]) {
			t.Errorf("%v: error %q should name the step and hide the address", err, got)
		}
	}
	if got := classifySMTP(errors.New("dial tcp: connection refused")); outcomeOf(got) != OutcomeRetry {
		t.Errorf("a failure outside a transaction: %v, want a retry", got)
	}
}

// Connections are reused between messages, and a pooled connection the server has dropped
// is replaced without losing the message.
func TestSMTPSenderReusesConnections(t *testing.T) {
	sink := newSMTPSink(t, nil)
	sender := plainSender(t, sink)
	ctx := context.Background()
	for i := range 3 {
		if _, err := sender.SendEmail(ctx, testEmail("88888888-8888-4888-8888-00000000000"+string(rune('0'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	if n := sink.connections(); n != 1 {
		t.Errorf("3 messages used %d connections, want 1", n)
	}
	sink.stop()
	sink.start()
	if _, err := sender.SendEmail(ctx, testEmail("99999999-9999-4999-8999-999999999999")); err != nil {
		t.Fatalf("after the server restarted: %v", err)
	}
	if got := sink.byMessageID(); len(got) != 4 {
		t.Errorf("sink has %v, want 4 distinct messages", got)
	}
}

// Through the delivery worker: an email goes over SMTP and is delivered, its provider
// reference the Message-ID the sink saw.
func TestDeliveryOverSMTP(t *testing.T) {
	dbtest.Each(t, migrateForDelivery, func(t *testing.T, d *db.DB) {
		sink := newSMTPSink(t, nil)
		cfg, err := ParseSMTPURL("smtp://" + sink.addr + "?tls=none")
		if err != nil {
			t.Fatal(err)
		}
		sender, err := NewSMTPSender(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer sender.Close()
		e := newDeliveryEnv(t, d, deliveryEnvOptions{work: true, cfg: DeliveryConfig{Email: sender, SMS: &recordingSMS{}}})
		n := e.notification(Email, "jo@example.com")
		n.UnsubscribeURL = "https://licensing.example.gov.uk/unsubscribe/1"
		e.queue(t, n)
		deliveryWaitFor(t, 30*time.Second, "the email to be delivered", func() bool { return e.state(t, n.ID).Status == StatusDelivered })
		st := e.state(t, n.ID)
		if want := n.ID + "@notify.example.gov.uk"; st.Reference != want || st.Provider != "smtp" {
			t.Errorf("delivered: %+v; want reference %s by smtp", st, want)
		}
		if got := sink.byMessageID(); got[st.Reference] != 1 || len(got) != 1 {
			t.Errorf("sink has %v", got)
		}
	})
}

func TestRedactAddresses(t *testing.T) {
	in := `550 5.1.1 <jo.bloggs+x@example.co.uk>: Recipient address rejected, affected recipient(s): sam@example.com`
	out := redactAddresses(in)
	if strings.Contains(out, "@") || !strings.Contains(out, "Recipient address rejected") {
		t.Errorf("redactAddresses = %q", out)
	}
	if !errors.Is(&ProviderError{Err: io.EOF}, io.EOF) {
		t.Error("ProviderError must unwrap to its cause")
	}
}
