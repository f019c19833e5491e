package mail

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/deskside/deskside/server/internal/mail/mailtest"
	"github.com/deskside/deskside/server/internal/store"
)

func TestSMTPStartTLSDelivers(t *testing.T) {
	srv := mailtest.New(t)
	srv.Start()
	c := smtpFor(t, srv.Settings())
	msg := Message{To: []string{"rob@example.com"}, Subject: "[Deskside] Blocking: Wi-Fi drops on ana-laptop — assigned to you",
		Text: "Hi Rob,\n\nAna assigned you a request.\n", HTML: "<p>Hi Rob,</p>"}
	if err := c.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := srv.Await(1)[0]
	if !got.TLS || got.User != "it@example.com" || got.From != "helpdesk@example.com" || len(got.To) != 1 || got.To[0] != "rob@example.com" {
		t.Fatalf("envelope: tls=%v user=%q from=%q to=%v", got.TLS, got.User, got.From, got.To)
	}
	h, text, html := mailtest.Parse(t, got.Data)
	if s := mailtest.Subject(t, h); s != msg.Subject {
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
	srv := mailtest.New(t)
	srv.Implicit = true
	srv.Start()
	if err := smtpFor(t, srv.Settings()).Send(context.Background(), Message{To: []string{"rob@example.com"}, Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Await(1)[0]; !got.TLS || got.User == "" {
		t.Fatalf("implicit TLS: %+v", got)
	}
}

// TestSMTPClearErrors: each way a mail server can say no gets words that
// say what to do, and nothing is sent.
func TestSMTPClearErrors(t *testing.T) {
	m := Message{To: []string{"rob@example.com"}, Subject: "s", Text: "t"}
	t.Run("AuthRefused", func(t *testing.T) {
		srv := mailtest.New(t)
		srv.Start()
		set := srv.Settings()
		set.Password = "wrong"
		e := sendErr(t, smtpFor(t, set), m)
		if !strings.Contains(e.Msg, "refused the username or password") || !strings.Contains(e.Msg, "Admin → Email") || !e.Permanent {
			t.Fatalf("auth refused: %+v", e)
		}
	})
	t.Run("NoSTARTTLS", func(t *testing.T) {
		srv := mailtest.New(t)
		srv.NoTLS = true
		srv.Start()
		e := sendErr(t, smtpFor(t, srv.Settings()), m)
		if !strings.Contains(e.Msg, "does not offer STARTTLS") {
			t.Fatalf("no STARTTLS: %+v", e)
		}
	})
	t.Run("UntrustedCertificate", func(t *testing.T) {
		srv := mailtest.New(t)
		srv.Start()
		c, err := NewSMTP(srv.Settings(), SMTPOptions{}) // the system pool does not know the test CA
		if err != nil {
			t.Fatal(err)
		}
		if e := sendErr(t, c, m); !strings.Contains(e.Msg, "certificate is not trusted") {
			t.Fatalf("untrusted: %+v", e)
		}
	})
	t.Run("TLSOnPlainPort", func(t *testing.T) {
		srv := mailtest.New(t)
		srv.Start()
		set := srv.Settings()
		set.Security = SecurityTLS
		if e := sendErr(t, smtpFor(t, set), m); !strings.Contains(e.Msg, "did not answer with TLS") {
			t.Fatalf("tls on a STARTTLS port: %+v", e)
		}
	})
	t.Run("Down", func(t *testing.T) {
		srv := mailtest.New(t) // never started
		e := sendErr(t, smtpFor(t, srv.Settings()), m)
		if !strings.Contains(e.Msg, "could not reach the mail server") || e.Permanent {
			t.Fatalf("down: %+v", e)
		}
	})
	t.Run("SignInNeeded", func(t *testing.T) {
		srv := mailtest.New(t)
		srv.Start()
		set := srv.Settings()
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
	for _, h := range []string{"localhost", "::1"} {
		local.Host = h
		if err := CheckSettings(local); err != nil {
			t.Errorf("%s relay: %v", h, err)
		}
	}
}

// TestSMTPNoneToLocalRelay: security "none" talks to a relay on this
// machine without TLS and without signing in.
func TestSMTPNoneToLocalRelay(t *testing.T) {
	srv := mailtest.New(t)
	srv.NoTLS, srv.User = true, ""
	srv.Start()
	set := srv.Settings()
	set.Security, set.Username, set.Password = SecurityNone, "", ""
	if err := smtpFor(t, set).Send(context.Background(), Message{To: []string{"rob@example.com"}, Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Await(1)[0]; got.TLS {
		t.Fatal("expected a plain connection")
	}
}

// FuzzCheckSettings: settings an admin typed either get a sentence back or
// are safe to use: one-line values, a known security, no plain text to
// another machine.
func FuzzCheckSettings(f *testing.F) {
	f.Add("smtp.example.com", 587, "starttls", "it", "pw", "it@example.com", "Acme IT")
	f.Add("127.0.0.1", 25, "none", "", "", "it@localhost", "")
	f.Add("smtp.example.com\r\nRCPT TO:<x>", 587, "tls", "u", "p", "a@b.c", "IT\nBcc: x")
	f.Add("::1", 0, "NONE", "", "x", "<a@b.c>", "")
	f.Fuzz(func(t *testing.T, host string, port int, security, user, pass, from, name string) {
		s := store.MailSettings{Host: host, Port: port, Security: security, Username: user, Password: pass, From: from, FromName: name}
		err := CheckSettings(s)
		if err != nil {
			if err.Error() == "" || !strings.HasSuffix(err.Error(), ".") {
				t.Fatalf("not a sentence: %q", err)
			}
			return
		}
		if strings.ContainsAny(host+from+name, "\r\n") || strings.ContainsAny(host, " /") || (strings.Contains(host, ":") && net.ParseIP(host) == nil) || port < 1 || port > 65535 {
			t.Fatalf("accepted %+v", s)
		}
		if security == SecurityNone && !isLoopback(host) {
			t.Fatalf("plain text to %q accepted", host)
		}
		if security != SecuritySTARTTLS && security != SecurityTLS && security != SecurityNone {
			t.Fatalf("security %q accepted", security)
		}
	})
}
