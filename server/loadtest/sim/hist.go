package sim

import (
	"fmt"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Hist records latencies in microseconds (1 µs .. 120 s, 3 significant
// figures) and is safe for concurrent use. It travels between processes as
// its HdrHistogram snapshot, so worker histograms merge exactly.
type Hist struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

const histMaxMicros = 120_000_000

// NewHist returns an empty histogram.
func NewHist() *Hist { return &Hist{h: hdrhistogram.New(1, histMaxMicros, 3)} }

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	us := d.Microseconds()
	if us < 1 {
		us = 1
	}
	if us > histMaxMicros {
		us = histMaxMicros
	}
	h.mu.Lock()
	_ = h.h.RecordValue(us)
	h.mu.Unlock()
}

// Snapshot is a histogram's portable form (JSON between processes).
type Snapshot = hdrhistogram.Snapshot

// Export returns a copy of the histogram's counts.
func (h *Hist) Export() *Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.h.Export()
}

// Merge adds a snapshot's counts; a nil snapshot is ignored.
func (h *Hist) Merge(s *Snapshot) {
	if s == nil {
		return
	}
	h.mu.Lock()
	_ = h.h.Merge(hdrhistogram.Import(s))
	h.mu.Unlock()
}

// Reset empties the histogram.
func (h *Hist) Reset() {
	h.mu.Lock()
	h.h.Reset()
	h.mu.Unlock()
}

// Summary is what tables and JSON show of a histogram, in milliseconds.
type Summary struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

// Summary reads percentiles.
func (h *Hist) Summary() Summary {
	h.mu.Lock()
	defer h.mu.Unlock()
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Summary{Count: h.h.TotalCount(), P50: ms(h.h.ValueAtQuantile(50)), P99: ms(h.h.ValueAtQuantile(99)),
		P999: ms(h.h.ValueAtQuantile(99.9)), Max: ms(h.h.Max()), Mean: h.h.Mean() / 1000}
}

// String is "p50 1.2 ms · p99 3.4 ms · p99.9 5.6 ms (n=100)".
func (s Summary) String() string {
	if s.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %.2f ms · p99 %.2f ms · p99.9 %.2f ms · max %.2f ms (n=%d)", s.P50, s.P99, s.P999, s.Max, s.Count)
}
