package sim

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Target is the server under test.
type Target interface {
	// URL is the base URL, http://127.0.0.1:port.
	URL() string
	// Restart stops the server (links drop) and starts it again on the
	// same address and data; it returns once the server answers /healthz.
	Restart(ctx context.Context) error
	// GC asks the server to collect garbage and return freed memory to the
	// OS before a memory reading; false when it cannot.
	GC(ctx context.Context) bool
}

// ServerStats are the figures read from the server's /metrics.
type ServerStats struct {
	At          time.Time `json:"at"`
	RSS         float64   `json:"rss_bytes"`
	HeapInuse   float64   `json:"heap_inuse_bytes"`
	StackInuse  float64   `json:"stack_inuse_bytes"`
	GoSys       float64   `json:"go_sys_bytes"`
	Goroutines  float64   `json:"goroutines"`
	CPUSeconds  float64   `json:"cpu_seconds"`
	OpenFDs     float64   `json:"open_fds"`
	Devices     float64   `json:"device_connections"`
	SlowCloses  float64   `json:"slow_consumer_closes"`
	Cursors     float64   `json:"delivery_cursor_frames"`
	AfterGC     bool      `json:"after_gc"`
	ScrapeError string    `json:"scrape_error,omitempty"`
}

// Scrape reads the server's /metrics (Prometheus text; unlabelled series).
func Scrape(ctx context.Context, base string) (ServerStats, error) {
	s := ServerStats{At: time.Now()}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return s, fmt.Errorf("scrape metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	fields := map[string]*float64{
		"process_resident_memory_bytes":                        &s.RSS,
		"go_memstats_heap_inuse_bytes":                         &s.HeapInuse,
		"go_memstats_stack_inuse_bytes":                        &s.StackInuse,
		"go_memstats_sys_bytes":                                &s.GoSys,
		"go_goroutines":                                        &s.Goroutines,
		"process_cpu_seconds_total":                            &s.CPUSeconds,
		"process_open_fds":                                     &s.OpenFDs,
		"deskside_device_connections":                          &s.Devices,
		"deskside_slow_consumer_closes_total":                  &s.SlowCloses,
		`deskside_device_frames_total{kind="delivery.cursor"}`: &s.Cursors,
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if p, found := fields[name]; ok && found {
			if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
				*p = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("read metrics: %w", err)
	}
	return s, nil
}

// statsAfterGC asks the target to collect first, then scrapes.
func statsAfterGC(ctx context.Context, t Target) ServerStats {
	gc := t.GC(ctx)
	s, err := Scrape(ctx, t.URL())
	if err != nil {
		s.ScrapeError = err.Error()
	}
	s.AfterGC = gc
	return s
}
