package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store/pgtest"
	"github.com/deskside/deskside/shared/protocol"
)

// BenchmarkSoftwarePage50k: the Software page's list over 50,000 titles,
// the views IT uses most. Each sub-benchmark reports p50 and p99 of its
// calls (ms); run with -benchtime=300x. On PostgreSQL it runs in a fresh
// schema (skipped without a server).
func BenchmarkSoftwarePage50k(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchSoftwarePage(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := OpenPostgres(context.Background(), pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchSoftwarePage(b, s)
	})
}

var swBenchWords = []string{"zoom", "studio", "code", "office", "player", "tools", "sync", "note", "cloud", "design", "viewer", "driver"}

// seedTitles50k writes 50,000 titles shaped like a fleet's: a few on every
// desk, a long tail on one or two, a fifth with a per-user install, most
// not yet reviewed, first seen over the last 90 days.
func seedTitles50k(b *testing.B, s *SQL) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	statuses := []protocol.SoftwareStatus{protocol.SoftwareNew, protocol.SoftwareNew, protocol.SoftwareNew, protocol.SoftwareApproved,
		protocol.SoftwareApproved, protocol.SoftwareUnderReview, protocol.SoftwareNotForWork}
	now := time.Now()
	err := s.tx(ctx, func(tx handle) error {
		for i := range 50000 {
			name := fmt.Sprintf("%s %s %d", swBenchWords[r.IntN(len(swBenchWords))], swBenchWords[r.IntN(len(swBenchWords))], i)
			src := protocol.SoftwareSources[r.IntN(len(protocol.SoftwareSources))]
			devices := int(19000 / (1 + r.ExpFloat64()*2000))
			perUser := 0
			if r.IntN(5) == 0 {
				perUser = 1 + r.IntN(devices+1)
			}
			first := now.Add(-time.Duration(r.Int64N(int64(90 * 24 * time.Hour))))
			if _, err := tx.ExecContext(ctx, `INSERT INTO software_titles(id, name, publisher, source, status, devices, per_user_devices,
				first_seen, last_seen) VALUES(?,?,?,?,?,?,?,?,?)`, protocol.SoftwareTitleID(name, "Vendor", src), name,
				fmt.Sprintf("Vendor %d", i%700), src.Family(), string(statuses[r.IntN(len(statuses))]), devices, perUser, ms(first), ms(now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if s.d.postgres {
		// What autovacuum does after a bulk load: statistics, and the
		// visibility map that lets count(*) read the index alone.
		if _, err := s.w.ExecContext(ctx, "VACUUM ANALYZE software_titles"); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSoftwarePage(b *testing.B, s *SQL) {
	seedTitles50k(b, s)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		f    SoftwareFilter
	}{
		{"default", SoftwareFilter{}},
		{"status", SoftwareFilter{Status: []protocol.SoftwareStatus{protocol.SoftwareNew}}},
		{"new_this_week", SoftwareFilter{NewSince: time.Now().Add(-7 * 24 * time.Hour)}},
		{"search", SoftwareFilter{Query: "zoom"}},
		{"per_user", SoftwareFilter{PerUserOnly: true}},
		{"by_name", SoftwareFilter{Sort: "name"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				t0 := time.Now()
				p, err := s.ListSoftware(ctx, c.f)
				took = append(took, time.Since(t0))
				if err != nil || len(p.Titles) == 0 {
					b.Fatal(err, p.Total)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkSoftwareTitlePage: a title page for a title on every one of 200
// desks, each with a 1,500-entry inventory absorbed by ApplyInventories:
// the bitmap → 25 devices query plus their 25 stored inventories read for their
// version and per-user flag. Reports p50/p99 (ms).
func BenchmarkSoftwareTitlePage(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchTitlePage(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := OpenPostgres(context.Background(), pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchTitlePage(b, s)
	})
}

func benchTitlePage(b *testing.B, s *SQL) {
	ctx := context.Background()
	now := time.Now()
	err := s.tx(ctx, func(tx handle) error {
		for i := range 200 {
			if _, err := tx.ExecContext(ctx, "INSERT INTO devices(id, secret_hash, hostname, usr, enrolled_at) VALUES(?,?,?,?,?)",
				fmt.Sprintf("dev_%03d", i), []byte("h"), fmt.Sprintf("pc-%03d", i), "someone", ms(now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	zoom := protocol.SoftwareEntry{Name: "Zoom Workplace", Version: "6.2.5", Publisher: "Zoom Video Communications, Inc.", Source: protocol.SourceRegistryMachine}
	for batch := range 10 {
		var ups []InventoryUpdate
		for i := batch * 20; i < batch*20+20; i++ {
			es := []protocol.SoftwareEntry{zoom}
			for j := range 1499 {
				es = append(es, protocol.SoftwareEntry{Name: fmt.Sprintf("lib%04d-%d", j, i%3), Version: "1.0." + fmt.Sprint(j%7), Source: protocol.SourceDpkg})
			}
			es, _ = protocol.NormalizeSoftware(es)
			ups = append(ups, InventoryUpdate{FrameID: fmt.Sprintf("f%d", i), DeviceID: fmt.Sprintf("dev_%03d", i), At: now,
				Inventory: protocol.SoftwareInventory{Full: true, Hash: protocol.SoftwareHash(es), Entries: es, CollectedAt: now}})
		}
		if _, err := s.ApplyInventories(ctx, ups); err != nil {
			b.Fatal(err)
		}
	}
	var took []time.Duration
	for b.Loop() {
		t0 := time.Now()
		d, err := s.SoftwareTitleDetail(ctx, zoom.TitleID(), 25)
		took = append(took, time.Since(t0))
		if err != nil || len(d.Devices) != 25 || d.Devices[0].Version != "6.2.5" {
			b.Fatal(err, len(d.Devices))
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
