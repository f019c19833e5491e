package mail

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/mail/mailtest"
	"github.com/deskside/deskside/server/internal/store"
)

// smtpFor is an SMTP sender that trusts the test certificate.
func smtpFor(t *testing.T, set store.MailSettings) *SMTP {
	t.Helper()
	pool := mailtest.Pool()
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
