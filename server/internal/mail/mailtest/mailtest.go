// Package mailtest is a real SMTP server (emersion/go-smtp) for tests, in
// the test process: STARTTLS or implicit TLS with a self-signed
// certificate made by the test, AUTH PLAIN, and the emails it received.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
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

// Email is one email the test server accepted.
type Email struct {
	From     string
	To       []string
	Data     []byte
	User     string // who signed in
	TLS      bool   // the DATA went over TLS
	Implicit bool
}

// Server is a real SMTP server (emersion/go-smtp) in the test process:
// STARTTLS with the test certificate, AUTH PLAIN (only over TLS) against
// one username and password.
type Server struct {
	t        testing.TB
	Addr     string
	Implicit bool // TLS from the first byte instead of STARTTLS
	NoTLS    bool // offers no STARTTLS at all
	User     string
	Pass     string

	mu   sync.Mutex
	got  []Email
	srv  *smtp.Server
	ln   net.Listener
	more chan struct{} // signalled on each email
}

func New(t testing.TB) *Server {
	s := &Server{t: t, User: "it@example.com", Pass: "correct horse", more: make(chan struct{}, 1000)}
	s.Addr = freeAddr(t)
	return s
}

// freeAddr is a 127.0.0.1 port nothing listens on (yet).
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Start listens on s.Addr; Stop closes it (the address stays the same).
func (s *Server) Start() {
	s.t.Helper()
	cert, _ := testCert()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	if !s.NoTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	var ln net.Listener
	var err error
	if s.Implicit {
		ln, err = tls.Listen("tcp", s.Addr, srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", s.Addr)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	s.t.Cleanup(s.Stop)
}

func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Settings are Deskside's settings for this server.
func (s *Server) Settings() store.MailSettings {
	host, port, _ := net.SplitHostPort(s.Addr)
	p, _ := strconv.Atoi(port)
	sec := "starttls"
	if s.Implicit {
		sec = "tls"
	}
	return store.MailSettings{Host: host, Port: p, Security: sec, Username: s.User, Password: s.Pass,
		From: "helpdesk@example.com", FromName: "Acme IT"}
}

func (s *Server) Emails() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Email(nil), s.got...)
}

// Await waits until n emails arrived (or fails after a generous deadline).
func (s *Server) Await(n int) []Email {
	s.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if got := s.Emails(); len(got) >= n {
			return got
		}
		select {
		case <-s.more:
		case <-deadline:
			s.t.Fatalf("the mail server received %d emails, want %d", len(s.Emails()), n)
		}
	}
}

type session struct {
	s    *Server
	c    *smtp.Conn
	user string
	cur  Email
}

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != se.s.User || password != se.s.Pass {
			return smtp.ErrAuthFailed
		}
		se.user = username
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.User != "" && se.user == "" {
		return smtp.ErrAuthRequired
	}
	se.cur = Email{From: from, User: se.user}
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
	se.cur.Implicit = se.s.Implicit
	se.s.mu.Lock()
	se.s.got = append(se.s.got, se.cur)
	se.s.mu.Unlock()
	se.s.more <- struct{}{}
	return nil
}

func (se *session) Reset()        { se.cur = Email{} }
func (se *session) Logout() error { return nil }

var _ smtp.AuthSession = (*session)(nil)

// Pool trusts the test certificate: hand it to mail.SMTPOptions.RootCAs.
func Pool() *x509.CertPool {
	_, pool := testCert()
	return pool
}

// Parse reads a received email: its headers and its text and HTML parts.
func Parse(t *testing.T, raw []byte) (netmail.Header, string, string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the received email does not parse: %v\n%s", err, raw)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	var text, html string
	read := func(ct, cte string, r io.Reader) {
		b, err := io.ReadAll(decodeCTE(cte, r))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(ct, "text/plain"):
			text = string(b)
		case strings.HasPrefix(ct, "text/html"):
			html = string(b)
		}
	}
	if !strings.HasPrefix(mt, "multipart/") {
		read(mt, m.Header.Get("Content-Transfer-Encoding"), m.Body)
		return m.Header, text, html
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		read(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
	}
	return m.Header, text, html
}

// Subject is the decoded Subject header.
func Subject(t *testing.T, h netmail.Header) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decodeCTE(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(cte) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r)
	}
	return r
}
