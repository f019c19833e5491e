package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/deskside/deskside/server/internal/store"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost, made
// once per test binary, and a pool that trusts it.
var testCert = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test mail server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
})

// received is one email the test server accepted.
type received struct {
	From     string
	To       []string
	Data     []byte
	User     string // who signed in
	TLS      bool   // the DATA went over TLS
	Implicit bool
}

// mailServer is a real SMTP server (emersion/go-smtp) in the test process:
// STARTTLS with the test certificate, AUTH PLAIN (only over TLS) against
// one username and password.
type mailServer struct {
	t        *testing.T
	addr     string
	implicit bool // TLS from the first byte instead of STARTTLS
	noTLS    bool // offers no STARTTLS at all
	user     string
	pass     string

	mu   sync.Mutex
	got  []received
	srv  *smtp.Server
	ln   net.Listener
	more chan struct{} // signalled on each email
}

func newMailServer(t *testing.T) *mailServer {
	s := &mailServer{t: t, user: "it@example.com", pass: "correct horse", more: make(chan struct{}, 1000)}
	s.addr = freeAddr(t)
	return s
}

// freeAddr is a 127.0.0.1 port nothing listens on (yet).
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// start listens on s.addr; stop closes it (the address stays the same).
func (s *mailServer) start() {
	s.t.Helper()
	cert, _ := testCert()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	if !s.noTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	var ln net.Listener
	var err error
	if s.implicit {
		ln, err = tls.Listen("tcp", s.addr, srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", s.addr)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	s.t.Cleanup(s.stop)
}

func (s *mailServer) stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// settings are Deskside's settings for this server.
func (s *mailServer) settings() store.MailSettings {
	host, port, _ := net.SplitHostPort(s.addr)
	p, _ := strconv.Atoi(port)
	sec := SecuritySTARTTLS
	if s.implicit {
		sec = SecurityTLS
	}
	return store.MailSettings{Host: host, Port: p, Security: sec, Username: s.user, Password: s.pass,
		From: "helpdesk@example.com", FromName: "Acme IT"}
}

func (s *mailServer) emails() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

// await waits until n emails arrived (or fails after a generous deadline).
func (s *mailServer) await(n int) []received {
	s.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if got := s.emails(); len(got) >= n {
			return got
		}
		select {
		case <-s.more:
		case <-deadline:
			s.t.Fatalf("the mail server received %d emails, want %d", len(s.emails()), n)
		}
	}
}

type session struct {
	s    *mailServer
	c    *smtp.Conn
	user string
	cur  received
}

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != se.s.user || password != se.s.pass {
			return smtp.ErrAuthFailed
		}
		se.user = username
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.user != "" && se.user == "" {
		return smtp.ErrAuthRequired
	}
	se.cur = received{From: from, User: se.user}
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.cur.To = append(se.cur.To, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	se.cur.Data = b
	_, se.cur.TLS = se.c.TLSConnectionState()
	se.cur.Implicit = se.s.implicit
	se.s.mu.Lock()
	se.s.got = append(se.s.got, se.cur)
	se.s.mu.Unlock()
	se.s.more <- struct{}{}
	return nil
}

func (se *session) Reset()        { se.cur = received{} }
func (se *session) Logout() error { return nil }

var _ smtp.AuthSession = (*session)(nil)

// smtpFor is an SMTP sender that trusts the test certificate.
func smtpFor(t *testing.T, set store.MailSettings) *SMTP {
	t.Helper()
	_, pool := testCert()
	c, err := NewSMTP(set, SMTPOptions{RootCAs: pool, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sendErr(t *testing.T, c *SMTP, m Message) *Error {
	t.Helper()
	err := c.Send(context.Background(), m)
	if err == nil {
		t.Fatal("the send went through")
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("send error %T %v is not a *mail.Error", err, err)
	}
	return e
}
