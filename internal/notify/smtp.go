package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/textproto"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"time"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// SMTPConfig says how to reach the mail server that sends Notify's emails. ParseSMTPURL makes
// one from COMMONS_SMTP_URL.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	// Security is "starttls" (upgrade a plain connection, refusing a server that cannot),
	// "tls" (TLS from the first byte, as on port 465) or "none" (plain text, for a relay on
	// the same host or network).
	Security string
	// Auth is the SASL mechanism when Username is set: "plain", "login", "cram-md5",
	// "scram-sha-1", "scram-sha-256", or "" to pick the best the server offers.
	Auth string
	// HELO is the name this host gives in EHLO; "" means the machine's hostname.
	HELO string
	// RootCAs, when set, are the only authorities trusted for the server's certificate.
	RootCAs *x509.CertPool
	// Timeout bounds connecting and each command (30 s when zero).
	Timeout time.Duration
	// Pool is how many idle connections are kept for reuse (DefaultSMTPPool when zero; -1
	// keeps none). Each message being handed over needs a connection, so a pool as large as
	// the number a node hands over at once saves a connection (and TLS handshake) per message.
	Pool int
}

// ParseSMTPURL reads the COMMONS_SMTP_URL setting:
//
//	smtp://[USER[:PASSWORD]@]HOST[:PORT][?OPTION=VALUE&...]
//	smtps://[USER[:PASSWORD]@]HOST[:PORT][?OPTION=VALUE&...]
//
// smtp:// defaults to port 587 with STARTTLS required; smtps:// to port 465 with TLS from
// the first byte. The user name and password are percent-encoded (an @ in a user name is
// %40). Options:
//
//	tls=starttls|tls|none   how the connection is secured (none: plain text, for a local relay)
//	auth=plain|login|cram-md5|scram-sha-1|scram-sha-256
//	                        the SASL mechanism (default: the best the server offers)
//	helo=NAME               the name given in EHLO (default: the hostname)
//	ca_file=PATH            a PEM file of the authorities to trust for the server's certificate
//	timeout=30s             bound on connecting and on each command
//	pool=100                idle connections kept for reuse (0 keeps none; default DefaultSMTPPool)
//
// Examples: smtp://apikey:s3cret@smtp.example.com:587, smtps://user:pw@mail.example.com,
// smtp://localhost:25?tls=none.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return SMTPConfig{}, fmt.Errorf("SMTP URL must look like smtp://USER:PASSWORD@HOST:587 or smtps://USER:PASSWORD@HOST:465 (got %q)", redactURL(raw))
	}
	c := SMTPConfig{Host: u.Hostname(), Security: "starttls", Port: 587}
	if u.Scheme == "smtps" {
		c.Security, c.Port = "tls", 465
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	for key := range q {
		switch key {
		case "tls", "auth", "helo", "ca_file", "timeout", "pool":
		default:
			return SMTPConfig{}, fmt.Errorf("SMTP URL: unknown option %q (known: tls, auth, helo, ca_file, timeout, pool)", key)
		}
	}
	if v := q.Get("tls"); v != "" {
		if v != "starttls" && v != "tls" && v != "none" {
			return SMTPConfig{}, fmt.Errorf("SMTP URL: tls must be starttls, tls or none, not %q", v)
		}
		c.Security = v
		if v == "tls" && u.Port() == "" {
			c.Port = 465
		}
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port < 1 || c.Port > 65535 {
			return SMTPConfig{}, fmt.Errorf("SMTP URL: port %q is not a port number", p)
		}
	}
	if v := q.Get("auth"); v != "" {
		if _, ok := smtpAuthTypes[v]; !ok {
			return SMTPConfig{}, fmt.Errorf("SMTP URL: auth must be one of plain, login, cram-md5, scram-sha-1 or scram-sha-256, not %q", v)
		}
		c.Auth = v
	}
	c.HELO = q.Get("helo")
	if v := q.Get("timeout"); v != "" {
		if c.Timeout, err = time.ParseDuration(v); err != nil || c.Timeout <= 0 {
			return SMTPConfig{}, fmt.Errorf("SMTP URL: timeout must be a duration such as 30s, not %q", v)
		}
	}
	if v := q.Get("pool"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return SMTPConfig{}, fmt.Errorf("SMTP URL: pool must be a whole number, not %q", v)
		}
		c.Pool = n
		if n == 0 {
			c.Pool = -1
		}
	}
	if path := q.Get("ca_file"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return SMTPConfig{}, fmt.Errorf("SMTP URL: ca_file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return SMTPConfig{}, fmt.Errorf("SMTP URL: ca_file %s holds no PEM certificate", path)
		}
	}
	return c, nil
}

// redactURL hides a password in a URL for error messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

var smtpAuthTypes = map[string]mail.SMTPAuthType{
	"plain": mail.SMTPAuthPlain, "login": mail.SMTPAuthLogin, "cram-md5": mail.SMTPAuthCramMD5,
	"scram-sha-1": mail.SMTPAuthSCRAMSHA1, "scram-sha-256": mail.SMTPAuthSCRAMSHA256,
}

// SMTPSender sends emails through an SMTP server, keeping a few connections open between
// messages.
type SMTPSender struct {
	client  *mail.Client
	timeout time.Duration
	idle    chan idleConn
}

type idleConn struct {
	c     *smtp.Client
	since time.Time
}

// DefaultSMTPPool keeps a connection for each message a node may be handing over at once.
const DefaultSMTPPool = DefaultDeliveryWorkers

// maxIdleAge is how long a pooled connection may sit unused; servers drop idle clients (RFC
// 5321 suggests after 5 minutes), and a reused dead connection costs a round trip.
const maxIdleAge = 30 * time.Second

// NewSMTPSender checks c and returns a sender. It does not connect until the first email.
func NewSMTPSender(c SMTPConfig) (*SMTPSender, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	opts := []mail.Option{mail.WithPort(c.Port), mail.WithTimeout(timeout),
		mail.WithTLSConfig(&tls.Config{ServerName: c.Host, RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12})}
	switch c.Security {
	case "", "starttls":
		opts = append(opts, mail.WithTLSPortPolicy(mail.TLSMandatory))
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPortPolicy(mail.NoTLS))
	default:
		return nil, fmt.Errorf("SMTP security must be starttls, tls or none, not %q", c.Security)
	}
	// WithTLSPortPolicy picks a port for the policy; the configured one wins.
	opts = append(opts, mail.WithPort(c.Port))
	if c.Username != "" {
		auth := mail.SMTPAuthAutoDiscover
		if c.Auth != "" {
			var ok bool
			if auth, ok = smtpAuthTypes[c.Auth]; !ok {
				return nil, fmt.Errorf("SMTP auth %q is not supported", c.Auth)
			}
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	if c.HELO != "" {
		opts = append(opts, mail.WithHELO(c.HELO))
	}
	client, err := mail.NewClient(c.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("SMTP: %w", err)
	}
	pool := c.Pool
	if pool == 0 {
		pool = DefaultSMTPPool
	}
	return &SMTPSender{client: client, timeout: timeout, idle: make(chan idleConn, max(pool, 0))}, nil
}

// Name implements EmailSender.
func (*SMTPSender) Name() string { return "smtp" }

// SendEmail sends m as a multipart/alternative message (plain text, then HTML). The
// reference it returns is the Message-ID.
func (s *SMTPSender) SendEmail(ctx context.Context, m EmailMessage) (string, error) {
	msg, err := buildSMTPMessage(m)
	if err != nil {
		return "", &ProviderError{Outcome: OutcomeFailed, Err: err}
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return "", &ProviderError{Outcome: OutcomeFailed, Err: fmt.Errorf("from address: %w", err)}
	}
	to, err := msg.GetRecipients()
	if err != nil {
		return "", &ProviderError{Outcome: OutcomeFailed, Err: fmt.Errorf("recipient address: %w", err)}
	}
	conn, reused, err := s.conn(ctx)
	if err != nil {
		return "", &ProviderError{Outcome: OutcomeRetry, Err: fmt.Errorf("connect: %s", redactAddresses(err.Error()))}
	}
	err = s.transmit(conn, from, to, msg)
	if err != nil && reused && connectionGone(err) {
		// A pooled connection the server had closed: nothing was sent on it, so a fresh
		// connection may try once more.
		_ = conn.Close()
		if conn, err = s.dial(ctx); err != nil {
			return "", &ProviderError{Outcome: OutcomeRetry, Err: fmt.Errorf("connect: %s", redactAddresses(err.Error()))}
		}
		err = s.transmit(conn, from, to, msg)
	}
	if err == nil {
		s.release(conn, true)
		return m.MessageID, nil
	}
	_ = conn.Close()
	return "", classifySMTP(err)
}

// smtpStep is where in a mail transaction a failure happened.
type smtpStep int

const (
	stepMail smtpStep = iota // MAIL FROM
	stepRcpt                 // RCPT TO
	stepData                 // DATA, before the message
	stepBody                 // writing the message, before its final dot
	stepEnd                  // the final dot and the server's answer to the message
)

var smtpStepNames = [...]string{"MAIL FROM", "RCPT TO", "DATA", "message", "end of message"}

// smtpError is a failure in a mail transaction, at step.
type smtpError struct {
	step smtpStep
	err  error
}

func (e *smtpError) Error() string { return smtpStepNames[e.step] + ": " + e.err.Error() }
func (e *smtpError) Unwrap() error { return e.err }

// code is the server's reply code, or 0 when there was no reply (the connection failed).
func (e *smtpError) code() int {
	var te *textproto.Error
	if errors.As(e.err, &te) {
		return te.Code
	}
	return 0
}

// transmit sends msg as one mail transaction on c: MAIL, RCPT, DATA (RFC 5321 §3.3). Unlike
// go-mail's Send it sends neither a NOOP before the transaction nor an RSET after it, which
// were a third of the exchanges per message: a transaction ends with the server's answer to
// the message, and a pooled connection that has died shows itself at MAIL, where nothing has
// been sent (connectionGone).
func (s *SMTPSender) transmit(c *smtp.Client, from string, to []string, msg *mail.Msg) error {
	if err := c.UpdateDeadline(s.timeout); err != nil {
		return &smtpError{stepMail, err}
	}
	if err := c.Mail(from); err != nil {
		return &smtpError{stepMail, err}
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return &smtpError{stepRcpt, err}
		}
	}
	w, err := c.Data()
	if err != nil {
		return &smtpError{stepData, err}
	}
	if _, err := msg.WriteTo(w); err != nil {
		return &smtpError{stepBody, err}
	}
	if err := w.Close(); err != nil {
		return &smtpError{stepEnd, err}
	}
	return nil
}

// conn takes an idle connection that is young enough, or dials one.
func (s *SMTPSender) conn(ctx context.Context) (*smtp.Client, bool, error) {
	for {
		select {
		case ic := <-s.idle:
			if time.Since(ic.since) < maxIdleAge {
				return ic.c, true, nil
			}
			_ = s.client.CloseWithSMTPClient(ic.c)
			continue
		default:
		}
		c, err := s.dial(ctx)
		return c, false, err
	}
}

func (s *SMTPSender) dial(ctx context.Context) (*smtp.Client, error) {
	return s.client.DialToSMTPClientWithContext(ctx)
}

// release keeps a healthy connection for the next message, or closes it.
func (s *SMTPSender) release(c *smtp.Client, healthy bool) {
	if healthy {
		select {
		case s.idle <- idleConn{c: c, since: time.Now()}:
			return
		default:
		}
		_ = s.client.CloseWithSMTPClient(c)
		return
	}
	_ = c.Close()
}

// Close closes the idle connections.
func (s *SMTPSender) Close() error {
	for {
		select {
		case ic := <-s.idle:
			_ = s.client.CloseWithSMTPClient(ic.c)
		default:
			return nil
		}
	}
}

// connectionGone reports a failure of the connection itself at the start of a transaction:
// MAIL FROM failed with no reply, or with 421, which a server sends as it closes the
// connection.
func connectionGone(err error) bool {
	var se *smtpError
	return errors.As(err, &se) && se.step == stepMail && (se.code() == 0 || se.code() == 421)
}

// classifySMTP decides what an SMTP failure means for the message. Before the end of the
// message the server cannot have accepted it, so failures there are retried (4xx, broken
// connections) or final (5xx; a refused recipient is permanent-failure). At the end of the
// message a reply code is definite, but a broken connection leaves the outcome unknown.
func classifySMTP(err error) error {
	wrapped := errors.New(redactAddresses(err.Error()))
	var se *smtpError
	if !errors.As(err, &se) {
		return &ProviderError{Outcome: OutcomeRetry, Err: wrapped}
	}
	code := se.code()
	switch {
	case code >= 400 && code < 500:
		return &ProviderError{Outcome: OutcomeRetry, Err: wrapped}
	case code >= 500 && se.step == stepRcpt:
		return &ProviderError{Outcome: OutcomeRejected, Err: wrapped}
	case code >= 500:
		return &ProviderError{Outcome: OutcomeFailed, Err: wrapped}
	case se.step == stepEnd:
		return &ProviderError{Outcome: OutcomeUnknown, Err: wrapped}
	}
	return &ProviderError{Outcome: OutcomeRetry, Err: wrapped}
}

var addressPattern = regexp.MustCompile(`[^\s<>"',;:]+@[^\s<>"',;:]+`)

// redactAddresses hides email addresses in a server's message, which ends up in logs and job
// records.
func redactAddresses(s string) string { return addressPattern.ReplaceAllString(s, "[address]") }

// buildSMTPMessage turns m into a MIME message with the headers GOV.UK Notify sends.
func buildSMTPMessage(m EmailMessage) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.FromFormat(m.FromName, m.FromAddress); err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient address: %w", err)
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply-to address: %w", err)
		}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	if m.UnsubscribeURL != "" {
		// RFC 8058 one-click unsubscribe, as GOV.UK Notify sends it (notify.md §2.16).
		msg.SetGenHeaderPreformatted("List-Unsubscribe", "<"+m.UnsubscribeURL+">")
		msg.SetGenHeaderPreformatted("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	return msg, nil
}
