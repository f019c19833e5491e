package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store/pgtest"
	"github.com/deskside/deskside/shared/protocol"
)

// BenchmarkApplyInventories: one batch of 50 desks' first full lists of
// ~1,500 entries each (1,400 packages every desk has, 100 drawn from a
// long-tailed pool of 50,000), the way a fleet connecting arrives. Each
// iteration adds 50 new desks to a growing registry.
func BenchmarkApplyInventories(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchApplyInventories(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := OpenPostgres(context.Background(), pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchApplyInventories(b, s)
	})
}

func benchInventory(r *rand.Rand) protocol.SoftwareInventory {
	es := make([]protocol.SoftwareEntry, 0, 1500)
	for i := range 1400 {
		es = append(es, protocol.SoftwareEntry{Name: fmt.Sprintf("lib-shared-%04d", i), Version: fmt.Sprintf("1.%d.%d", i%7, r.IntN(2)),
			Source: protocol.SourceDpkg})
	}
	zipf := rand.NewZipf(r, 1.1, 8, 49_999)
	for range 100 {
		n := zipf.Uint64()
		es = append(es, protocol.SoftwareEntry{Name: fmt.Sprintf("tail-app-%05d", n), Version: "2.0", Source: protocol.SourceFlatpak,
			PerUser: n%50 == 0})
	}
	es, _ = protocol.NormalizeSoftware(es)
	return protocol.SoftwareInventory{Full: true, Hash: protocol.SoftwareHash(es), Entries: es}
}

func benchApplyInventories(b *testing.B, s *SQL) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	const perBatch = 50
	next := 0
	batch := func() []InventoryUpdate {
		us := make([]InventoryUpdate, perBatch)
		for i := range us {
			id := fmt.Sprintf("dev_%06d", next)
			next++
			if _, err := s.w.ExecContext(ctx, "INSERT INTO devices(id, secret_hash, hostname, enrolled_at) VALUES(?,?,?,?)",
				id, []byte("h"), "pc", time.Now().UnixMilli()); err != nil {
				b.Fatal(err)
			}
			us[i] = InventoryUpdate{FrameID: "f", DeviceID: id, Inventory: benchInventory(r), At: time.Now()}
		}
		return us
	}
	entries := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		us := batch()
		b.StartTimer()
		out, err := s.ApplyInventories(ctx, us)
		if err != nil {
			b.Fatal(err)
		}
		for i, o := range out {
			if o.Err != nil || o.Resync {
				b.Fatalf("outcome %+v", o)
			}
			entries += len(us[i].Inventory.Entries)
		}
	}
	b.ReportMetric(float64(entries)/b.Elapsed().Seconds(), "entries/s")
}
