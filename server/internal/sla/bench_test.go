package sla

import (
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// BenchmarkDues is the cost a new request adds: both due times of a
// "when you can" request (8 and 40 working hours) raised on a Friday
// evening, across a weekend and a holiday.
func BenchmarkDues(b *testing.B) {
	k := clockB(b)
	start := time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)
	for b.Loop() {
		k.Dues("berlin-office", protocol.UrgencyWhenYouCan, start)
	}
}

// BenchmarkNextOpen is the per-hello cost of "IT is back Monday at 9:00".
func BenchmarkNextOpen(b *testing.B) {
	c := clockB(b).Team("")
	now := time.Date(2026, 11, 13, 19, 0, 0, 0, time.UTC)
	for b.Loop() {
		c.NextOpen(now)
	}
}

func clockB(b *testing.B) *Clock {
	p, err := Decode([]byte(berlinPolicy))
	if err != nil {
		b.Fatal(err)
	}
	k, err := Compile(p)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// BenchmarkWorkingBetween is the per-sample cost of the 30-day medians:
// one request answered on Monday that came in on Friday afternoon.
func BenchmarkWorkingBetween(b *testing.B) {
	c := clockB(b).Team("")
	from, to := time.Date(2026, 11, 13, 15, 0, 0, 0, time.UTC), time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
	for b.Loop() {
		c.WorkingBetween(from, to)
	}
}
