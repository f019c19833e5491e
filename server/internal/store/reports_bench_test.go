package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store/pgtest"
	"github.com/deskside/deskside/server/internal/store/reporttest"
)

// BenchmarkMonthReport: the Reports page's month over 1,000,000 requests,
// all created in that month (the worst case: every row is the month's),
// in a time zone with a daylight-saving change inside the month. Seeding
// takes a while; run with -benchtime=7x (median-ms is the median call). On PostgreSQL it runs in a fresh
// schema (skipped without a server).
func BenchmarkMonthReport(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchMonthReport(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := OpenPostgres(context.Background(), pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchMonthReport(b, s)
	})
}

func benchMonthReport(b *testing.B, s *SQL) {
	ctx := context.Background()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Skip("no time-zone database:", err)
	}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 1, 0)
	start := time.Now()
	if err := reporttest.Seed(ctx, s, reporttest.Options{Requests: 1_000_000, Devices: 5000, From: from, To: to, Loc: loc,
		Seed: 1, SelfService: true}); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded 1,000,000 requests in %v", time.Since(start).Round(time.Second))
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		rep, err := s.MonthReport(ctx, from, to, loc)
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if rep.Requests != 1_000_000 {
			b.Fatalf("report counts %d requests", rep.Requests)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}
