package core

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// BenchmarkSoftwareRound is one collection's work on the agent beyond the
// collectors: merge with the kept list, normalise, hash, keep it in the
// store (a full-disk-safe transaction), and the change list against the
// acked base (10 changes), for a desktop Linux install (1,500 entries) and
// the largest list (20,000).
func BenchmarkSoftwareRound(b *testing.B) {
	for _, n := range []int{1500, 20000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			ctx := context.Background()
			st, err := store.Open(filepath.Join(b.TempDir(), "agent.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			mk := func(gen int) SoftwareReport {
				es := make([]protocol.SoftwareEntry, n)
				for i := range es {
					v := "1.0"
					if i < 5 {
						v = fmt.Sprintf("1.%d", gen) // 5 new versions a round
					}
					es[i] = protocol.SoftwareEntry{Name: fmt.Sprintf("lib-package-%05d", i), Version: v,
						Publisher: "Debian Maintainers", Source: protocol.SourceDpkg, AppID: fmt.Sprintf("lib-package-%05d:amd64", i)}
				}
				return SoftwareReport{Entries: es}
			}
			base := mergeInventory(nil, mk(0), time.Now())
			if err := st.SaveSoftwareAcked(ctx, base); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				prev, err := st.SoftwareCurrent(ctx)
				if err != nil {
					b.Fatal(err)
				}
				set := mergeInventory(prev, mk(i+1), time.Now())
				if err := st.SaveSoftwareCurrent(ctx, set); err != nil {
					b.Fatal(err)
				}
				acked, _ := st.SoftwareAcked(ctx)
				added, removed := protocol.SoftwareDiff(acked.Entries, set.Entries)
				if len(added) != 5 || len(removed) != 5 {
					b.Fatalf("%d added, %d removed", len(added), len(removed))
				}
			}
		})
	}
}
