package mail

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"

	"github.com/deskside/deskside/server/internal/store"
)

// parse reads a received email: its headers and its text and HTML parts.
func parse(t *testing.T, raw []byte) (netmail.Header, string, string) {
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

func subject(t *testing.T, h netmail.Header) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPStartTLSDelivers(t *testing.T) {
	srv := newMailServer(t)
	srv.start()
	c := smtpFor(t, srv.settings())
	msg := Message{To: []string{"rob@example.com"}, Subject: "[Deskside] Blocking: Wi-Fi drops on ana-laptop — assigned to you",
		Text: "Hi Rob,\n\nAna assigned you a request.\n", HTML: "<p>Hi Rob,</p>"}
	if err := c.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := srv.await(1)[0]
	if !got.TLS || got.User != "it@example.com" || got.From != "helpdesk@example.com" || len(got.To) != 1 || got.To[0] != "rob@example.com" {
		t.Fatalf("envelope: tls=%v user=%q from=%q to=%v", got.TLS, got.User, got.From, got.To)
	}
	h, text, html := parse(t, got.Data)
	if s := subject(t, h); s != msg.Subject {
		t.Errorf("subject %q, want %q", s, msg.Subject)
	}
	if from := h.Get("From"); !strings.Contains(from, "Acme IT") || !strings.Contains(from, "<helpdesk@example.com>") {
		t.Errorf("From: %q", from)
	}
	if h.Get("To") != "<rob@example.com>" || h.Get("Message-Id") == "" || h.Get("Date") == "" {
		t.Errorf("headers: To %q, Message-ID %q, Date %q", h.Get("To"), h.Get("Message-Id"), h.Get("Date"))
	}
	if strings.ReplaceAll(text, "\r\n", "\n") != msg.Text || !strings.Contains(html, "<p>Hi Rob,</p>") {
		t.Errorf("bodies: text %q html %q", text, html)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := newMailServer(t)
	srv.implicit = true
	srv.start()
	if err := smtpFor(t, srv.settings()).Send(context.Background(), Message{To: []string{"rob@example.com"}, Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.await(1)[0]; !got.TLS || got.User == "" {
		t.Fatalf("implicit TLS: %+v", got)
	}
}

// TestSMTPClearErrors: each way a mail server can say no gets words that
// say what to do, and nothing is sent.
func TestSMTPClearErrors(t *testing.T) {
	m := Message{To: []string{"rob@example.com"}, Subject: "s", Text: "t"}
	t.Run("AuthRefused", func(t *testing.T) {
		srv := newMailServer(t)
		srv.start()
		set := srv.settings()
		set.Password = "wrong"
		e := sendErr(t, smtpFor(t, set), m)
		if !strings.Contains(e.Msg, "refused the username or password") || !strings.Contains(e.Msg, "Admin → Email") || !e.Permanent {
			t.Fatalf("auth refused: %+v", e)
		}
	})
	t.Run("NoSTARTTLS", func(t *testing.T) {
		srv := newMailServer(t)
		srv.noTLS = true
		srv.start()
		e := sendErr(t, smtpFor(t, srv.settings()), m)
		if !strings.Contains(e.Msg, "does not offer STARTTLS") {
			t.Fatalf("no STARTTLS: %+v", e)
		}
	})
	t.Run("UntrustedCertificate", func(t *testing.T) {
		srv := newMailServer(t)
		srv.start()
		c, err := NewSMTP(srv.settings(), SMTPOptions{}) // the system pool does not know the test CA
		if err != nil {
			t.Fatal(err)
		}
		if e := sendErr(t, c, m); !strings.Contains(e.Msg, "certificate is not trusted") {
			t.Fatalf("untrusted: %+v", e)
		}
	})
	t.Run("TLSOnPlainPort", func(t *testing.T) {
		srv := newMailServer(t)
		srv.start()
		set := srv.settings()
		set.Security = SecurityTLS
		if e := sendErr(t, smtpFor(t, set), m); !strings.Contains(e.Msg, "did not answer with TLS") {
			t.Fatalf("tls on a STARTTLS port: %+v", e)
		}
	})
	t.Run("Down", func(t *testing.T) {
		srv := newMailServer(t) // never started
		e := sendErr(t, smtpFor(t, srv.settings()), m)
		if !strings.Contains(e.Msg, "could not reach the mail server") || e.Permanent {
			t.Fatalf("down: %+v", e)
		}
	})
	t.Run("SignInNeeded", func(t *testing.T) {
		srv := newMailServer(t)
		srv.start()
		set := srv.settings()
		set.Username, set.Password = "", ""
		if e := sendErr(t, smtpFor(t, set), m); !strings.Contains(e.Msg, "enter a username and password") {
			t.Fatalf("no credentials: %+v", e)
		}
	})
}

func TestCheckSettings(t *testing.T) {
	good := store.MailSettings{Host: "smtp.example.com", Port: 587, Security: SecuritySTARTTLS, Username: "u", Password: "p",
		From: "it@example.com", FromName: "Acme IT"}
	if err := CheckSettings(good); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*store.MailSettings){
		"no host":           func(s *store.MailSettings) { s.Host = "" },
		"host with scheme":  func(s *store.MailSettings) { s.Host = "smtp://smtp.example.com" },
		"port":              func(s *store.MailSettings) { s.Port = 0 },
		"security":          func(s *store.MailSettings) { s.Security = "ssl3" },
		"none to elsewhere": func(s *store.MailSettings) { s.Security = SecurityNone },
		"from":              func(s *store.MailSettings) { s.From = "IT <it@example.com>" },
		"from name newline": func(s *store.MailSettings) { s.FromName = "IT\r\nBcc: x@example.com" },
		"password alone":    func(s *store.MailSettings) { s.Username = "" },
	} {
		s := good
		change(&s)
		if err := CheckSettings(s); err == nil {
			t.Errorf("%s: accepted %+v", name, s)
		}
	}
	local := good
	local.Host, local.Security, local.Username, local.Password = "127.0.0.1", SecurityNone, "", ""
	if err := CheckSettings(local); err != nil {
		t.Errorf("a local relay without TLS: %v", err)
	}
	local.Host = "localhost"
	if err := CheckSettings(local); err != nil {
		t.Errorf("localhost relay: %v", err)
	}
}

// TestSMTPNoneToLocalRelay: security "none" talks to a relay on this
// machine without TLS and without signing in.
func TestSMTPNoneToLocalRelay(t *testing.T) {
	srv := newMailServer(t)
	srv.noTLS, srv.user = true, ""
	srv.start()
	set := srv.settings()
	set.Security, set.Username, set.Password = SecurityNone, "", ""
	if err := smtpFor(t, set).Send(context.Background(), Message{To: []string{"rob@example.com"}, Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.await(1)[0]; got.TLS {
		t.Fatal("expected a plain connection")
	}
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
