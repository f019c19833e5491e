package mail

import (
	"context"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/mail/mailtest"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/internal/store/pgtest"
)

// BenchmarkQueueSend is one durable enqueue (what an assignment costs the
// technician's request) on each backend.
func BenchmarkQueueSend(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, st store.MailStore) {
		q := NewQueue(st)
		m := AssignedEmail(assignedEvent(), rob)
		b.ReportAllocs()
		for b.Loop() {
			if err := q.Send(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("SQLite", func(b *testing.B) {
		st, err := store.Open(ctx, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		run(b, st)
	})
	b.Run("Postgres", func(b *testing.B) {
		st, err := store.OpenPostgres(ctx, pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		run(b, st)
	})
}

// BenchmarkSMTPSend is one email over a fresh STARTTLS connection with
// AUTH PLAIN to the in-process server: the worker's cost per email.
func BenchmarkSMTPSend(b *testing.B) {
	srv := mailtest.New(b)
	srv.Start()
	c, err := NewSMTP(srv.Settings(), SMTPOptions{RootCAs: mailtest.Pool(), Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	m := AssignedEmail(assignedEvent(), rob)
	for b.Loop() {
		if err := c.Send(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
}
