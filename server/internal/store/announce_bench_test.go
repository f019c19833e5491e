package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkAnnounce19k: the store's share of one announcement to 19,000
// devices (the announcement, 19,000 seqs and outbox rows, one commit).
func BenchmarkAnnounce19k(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	err = s.tx(ctx, func(tx handle) error {
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
