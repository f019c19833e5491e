package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store/pgtest"
)

// BenchmarkAnnounce19k: the store's share of one announcement to 19,000
// devices (the announcement, 19,000 seqs and outbox rows, one commit).
// On PostgreSQL it runs in a fresh schema (skipped without a server).
func BenchmarkAnnounce19k(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchAnnounce19k(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := OpenPostgres(context.Background(), pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchAnnounce19k(b, s)
	})
}

func benchAnnounce19k(b *testing.B, s *SQL) {
	ctx := context.Background()
	err := s.tx(ctx, func(tx handle) error {
		for i := range 19000 {
			if _, err := tx.ExecContext(ctx, "INSERT INTO devices(id, secret_hash, hostname, enrolled_at) VALUES(?,?,?,?)",
				fmt.Sprintf("dev_%05d", i), []byte("h"), "pc", time.Now().UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		a, out := announcement(fmt.Sprintf("ann_%d", i))
		if _, ds, err := s.Announce(ctx, a, out); err != nil || len(ds) != 19000 {
			b.Fatal(err, len(ds))
		}
	}
}
