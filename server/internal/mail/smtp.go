package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/deskside/deskside/server/internal/store"
)

// Security settings of an SMTP connection.
const (
	SecuritySTARTTLS = "starttls" // plain connection upgraded with STARTTLS, which is required
	SecurityTLS      = "tls"      // TLS from the first byte (usually port 465)
	SecurityNone     = "none"     // no encryption: only for a relay on this machine
)

// DefaultPort is the usual port of each security setting.
func DefaultPort(security string) int {
	switch security {
	case SecurityTLS:
		return 465
	case SecurityNone:
		return 25
	}
	return 587
}

// settingsError is a sentence for the admin (capitalised and punctuated,
// unlike an error that wraps another), shown as is beside the form.
type settingsError string

func (e settingsError) Error() string { return string(e) }

// CheckSettings says, in words for the admin, what is wrong with s; nil
// when the server can try it.
func CheckSettings(s store.MailSettings) error {
	if strings.TrimSpace(s.Host) == "" {
		return settingsError("Enter the mail server's host name (for example smtp.example.com).")
	}
	if strings.ContainsAny(s.Host, " /\r\n") || (strings.Contains(s.Host, ":") && net.ParseIP(s.Host) == nil) {
		return settingsError("The mail server's host is a name or an address only, without a scheme or a port.")
	}
	if s.Port < 1 || s.Port > 65535 {
		return settingsError("The port is a number from 1 to 65535 (587 for STARTTLS, 465 for TLS).")
	}
	switch s.Security {
	case SecuritySTARTTLS, SecurityTLS:
	case SecurityNone:
		if !isLoopback(s.Host) {
			return settingsError("Unencrypted email is only allowed to a relay on this machine (localhost). Choose STARTTLS or TLS for " + s.Host + ".")
		}
	default:
		return settingsError("Security is starttls, tls or none.")
	}
	if s.Password != "" && s.Username == "" {
		return settingsError("Enter the username that goes with the password.")
	}
	a, err := mail.ParseAddress(s.From)
	if err != nil || a.Address != s.From {
		return settingsError("Enter the address emails come from (for example it@example.com).")
	}
	if strings.ContainsAny(s.FromName, "\r\n") {
		return settingsError("The sender name must be on one line.")
	}
	return nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SMTPOptions tunes an SMTP sender; zero values take defaults.
type SMTPOptions struct {
	// RootCAs are the certificate authorities the mail server's
	// certificate must chain to (nil: the system's).
	RootCAs *x509.CertPool
	// Timeout bounds the dial and each command (default 20 s).
	Timeout time.Duration
}

// SMTP sends email straight to an SMTP server, one connection per email.
// The outbox worker uses it; so does Admin → Email's "Send a test email".
type SMTP struct {
	set store.MailSettings
	opt SMTPOptions
}

var _ Sender = (*SMTP)(nil)

// NewSMTP is a sender for the settings s (checked with CheckSettings).
func NewSMTP(s store.MailSettings, opt SMTPOptions) (*SMTP, error) {
	if err := CheckSettings(s); err != nil {
		return nil, &Error{Msg: err.Error(), Err: err, Permanent: true}
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 20 * time.Second
	}
	return &SMTP{set: s, opt: opt}, nil
}

// Send implements Sender: it dials, secures the connection, signs in when
// a username is set, and hands the email over. Its errors are *Error.
func (c *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := c.build(m)
	if err != nil {
		return &Error{Msg: "This email cannot be sent: " + err.Error(), Err: err, Permanent: true}
	}
	opts := []gomail.Option{gomail.WithPort(c.set.Port), gomail.WithTimeout(c.opt.Timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: c.set.Host, RootCAs: c.opt.RootCAs, MinVersion: tls.VersionTLS12})}
	switch c.set.Security {
	case SecurityTLS:
		opts = append(opts, gomail.WithSSL())
	case SecurityNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.set.Username != "" {
		// Autodiscover picks the strongest mechanism the server offers
		// (PLAIN, LOGIN, SCRAM…) and never sends a password in the clear.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(c.set.Username), gomail.WithPassword(c.set.Password))
	}
	cl, err := gomail.NewClient(c.set.Host, opts...)
	if err != nil {
		return &Error{Msg: "The email settings are not usable: " + err.Error(), Err: err, Permanent: true}
	}
	if err := cl.DialAndSendWithContext(ctx, msg); err != nil {
		return c.explain(err)
	}
	return nil
}

func (c *SMTP) build(m Message) (*gomail.Msg, error) {
	if len(m.To) == 0 {
		return nil, errors.New("it has no recipient")
	}
	msg := gomail.NewMsg()
	if err := msg.FromFormat(oneLine(c.set.FromName), c.set.From); err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(oneLine(m.Subject))
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// oneLine keeps a header value on one line: a subject made from a
// request's text must not start a header of its own.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// Error is a failed send in words for the admin (Msg), with the cause.
type Error struct {
	Msg string
	Err error
	// Permanent: trying again will not help until something changes
	// (settings, the address); the outbox still retries, since an admin
	// may fix the settings in the meantime.
	Permanent bool
}

func (e *Error) Error() string {
	if e.Err == nil || e.Err.Error() == e.Msg {
		return e.Msg
	}
	return e.Msg + " (" + e.Err.Error() + ")"
}

func (e *Error) Unwrap() error { return e.Err }

// explain turns what go-mail, the network or TLS said into what to do.
func (c *SMTP) explain(err error) *Error {
	where := net.JoinHostPort(c.set.Host, strconv.Itoa(c.set.Port))
	var tp *textproto.Error
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var rec tls.RecordHeaderError
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	errors.As(err, &tp)
	msg := err.Error()
	// go-mail's SendError keeps the server's reply without unwrapping to
	// it; its code and text are enough.
	var se *gomail.SendError
	if tp == nil && errors.As(err, &se) && se.ErrorCode() > 0 {
		tp = &textproto.Error{Code: se.ErrorCode(), Msg: se.Error()}
	}
	switch {
	case tp != nil && (tp.Code == 535 || tp.Code == 534):
		return &Error{Msg: "The mail server refused the username or password — check them in Admin → Email.", Err: err, Permanent: true}
	case tp != nil && (tp.Code == 530 || strings.Contains(strings.ToLower(tp.Msg), "authenticat")):
		if c.set.Username == "" {
			return &Error{Msg: "The mail server wants Deskside to sign in — enter a username and password in Admin → Email.", Err: err, Permanent: true}
		}
		return &Error{Msg: "The mail server refused the username or password — check them in Admin → Email.", Err: err, Permanent: true}
	case errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) || strings.Contains(msg, "does not support SMTP AUTH"):
		return &Error{Msg: "The mail server offers no sign-in Deskside can use on this connection — check the security setting, or clear the username if the server needs none, in Admin → Email.",
			Err: err, Permanent: true}
	case strings.Contains(msg, "does not support STARTTLS"):
		return &Error{Msg: "The mail server at " + where + " does not offer STARTTLS — choose TLS (usually port 465) in Admin → Email, or check the port.", Err: err, Permanent: true}
	case errors.As(err, &unknownCA) || errors.As(err, &badHost) || errors.As(err, &certInvalid) || errors.As(err, &verify):
		return &Error{Msg: "The mail server's certificate is not trusted for " + c.set.Host + " — check the host name in Admin → Email (it must match the certificate).", Err: err, Permanent: true}
	case errors.As(err, &rec):
		return &Error{Msg: "The mail server at " + where + " did not answer with TLS — for port 587 choose STARTTLS in Admin → Email.", Err: err, Permanent: true}
	case errors.As(err, &dnsErr):
		return &Error{Msg: "There is no mail server named " + c.set.Host + " — check the host in Admin → Email.", Err: err}
	case errors.As(err, &opErr) && opErr.Op == "dial", errors.As(err, &netErr) && netErr.Timeout():
		return &Error{Msg: "Deskside could not reach the mail server at " + where + " — check the host and port in Admin → Email, and that the server is up. Queued email is retried.", Err: err}
	case tp != nil && tp.Code >= 500:
		return &Error{Msg: "The mail server refused the email — the reply below says why.", Err: err, Permanent: true}
	case tp != nil:
		return &Error{Msg: "The mail server asked Deskside to try again later; queued email is retried.", Err: err}
	}
	return &Error{Msg: "The email could not be sent to the mail server at " + where + ".", Err: err}
}
