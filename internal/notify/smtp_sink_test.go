package notify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpSink is a real SMTP server for tests, on loopback: it keeps every message it accepts,
// and can be told to require STARTTLS or TLS, to require a password, or to misbehave.
type smtpSink struct {
	t    testing.TB
	addr string

	// Set before start.
	cert        *tls.Certificate // offer STARTTLS (or TLS from the first byte, with implicitTLS)
	implicitTLS bool
	user, pass  string // require AUTH PLAIN with these

	mu       sync.Mutex
	server   *smtp.Server
	messages []sinkMessage
	conns    int
	// Misbehaviour, changeable at any time.
	rcptErr       map[string]*smtp.SMTPError // by recipient
	dataErr       *smtp.SMTPError
	dropAfterData bool // read the whole message, then drop the connection without replying
}

type sinkMessage struct {
	From string
	To   []string
	Data []byte
	User string // who authenticated, if anyone
	TLS  bool
}

// newSMTPSink starts a sink on a free loopback port, stopped when the test ends.
func newSMTPSink(t testing.TB, configure func(*smtpSink)) *smtpSink {
	t.Helper()
	s := &smtpSink{t: t, addr: "127.0.0.1:0"}
	if configure != nil {
		configure(s)
	}
	s.start()
	t.Cleanup(s.stop)
	return s
}

// start listens on s.addr (the same port again after a stop).
func (s *smtpSink) start() {
	s.t.Helper()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
		return &sinkSession{sink: s, conn: c}, nil
	}))
	srv.Domain = "sink.test"
	// Clients killed mid-conversation are part of the fault tests, not news.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.AllowInsecureAuth = s.cert == nil
	if s.cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*s.cert}}
	}
	var ln net.Listener
	var err error
	// Port reuse right after a stop can race the kernel's cleanup; a few tries settle it.
	for range 50 {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("smtp sink: %v", err)
	}
	if s.implicitTLS {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	s.addr = ln.Addr().String()
	s.mu.Lock()
	s.server = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// stop closes the listener and every connection, like a server going down.
func (s *smtpSink) stop() {
	s.mu.Lock()
	srv := s.server
	s.server = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

func (s *smtpSink) host() string { h, _, _ := net.SplitHostPort(s.addr); return h }

func (s *smtpSink) port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n := 0
	for _, r := range p {
		n = n*10 + int(r-'0')
	}
	return n
}

func (s *smtpSink) received() []sinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkMessage(nil), s.messages...)
}

// count is how many messages the sink has accepted.
func (s *smtpSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

func (s *smtpSink) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// byMessageID counts the messages received per Message-ID.
func (s *smtpSink) byMessageID() map[string]int {
	out := map[string]int{}
	for _, m := range s.received() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			s.t.Errorf("sink: unparseable message: %v", err)
			continue
		}
		out[strings.Trim(msg.Header.Get("Message-Id"), "<>")]++
	}
	return out
}

type sinkSession struct {
	sink *smtpSink
	conn *smtp.Conn
	from string
	to   []string
	user string
}

func (ss *sinkSession) AuthMechanisms() []string {
	if ss.sink.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.sink.user || password != ss.sink.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.sink.user != "" && ss.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.sink.mu.Lock()
	err := ss.sink.rcptErr[to]
	ss.sink.mu.Unlock()
	if err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.sink.mu.Lock()
	dataErr, drop := ss.sink.dataErr, ss.sink.dropAfterData
	ss.sink.mu.Unlock()
	if drop {
		// The whole message arrived; the reply never will. Whether it "took" is unknowable
		// to the client, which is the point.
		_ = ss.conn.Conn().Close()
		return errors.New("dropped")
	}
	if dataErr != nil {
		return dataErr
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.sink.mu.Lock()
	ss.sink.messages = append(ss.sink.messages, sinkMessage{From: ss.from, To: ss.to, Data: data, User: ss.user, TLS: isTLS})
	ss.sink.mu.Unlock()
	return nil
}

func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }

// selfSignedCert makes a certificate for 127.0.0.1 and localhost, and a pool that trusts it.
func selfSignedCert(t testing.TB) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sink.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
