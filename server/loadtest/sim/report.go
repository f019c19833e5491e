package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one line of a results table: a figure next to its target.
type Row struct {
	Scenario string `json:"scenario"`
	Metric   string `json:"metric"`
	Value    string `json:"value"`
	Target   string `json:"target,omitempty"`
	// Met is "yes", "no" or "" (no target).
	Met string `json:"met,omitempty"`
}

// Report is what a run writes as JSON.
type Report struct {
	Started  time.Time      `json:"started"`
	Machine  Machine        `json:"machine"`
	Config   RunConfig      `json:"config"`
	Rows     []Row          `json:"rows"`
	Details  map[string]any `json:"details"`
	Failures []string       `json:"failures,omitempty"` // functional failures (the smoke test asserts none)
}

// Machine describes where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	LoadAvg   string `json:"load_avg_at_start"`
	MemTotal  string `json:"mem_total"`
}

func thisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemTotal = strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"))
	}
	return m
}

func (r *Report) add(scenario, metric, value, target string, met *bool) {
	row := Row{Scenario: scenario, Metric: metric, Value: value, Target: target}
	if met != nil {
		row.Met = map[bool]string{true: "yes", false: "NO"}[*met]
	}
	r.Rows = append(r.Rows, row)
}

func (r *Report) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

func ptr(b bool) *bool { return &b }

// Print writes the table of one scenario (or all with "").
func (r *Report) Print(w io.Writer, scenario string) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmetric\tvalue\ttarget\tmet")
	for _, row := range r.Rows {
		if scenario == "" || row.Scenario == scenario {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", row.Scenario, row.Metric, row.Value, row.Target, row.Met)
		}
	}
	_ = tw.Flush()
}

// Save writes the report as indented JSON, creating the directory.
func (r *Report) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("results directory: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

func kb(bytes float64) string  { return fmt.Sprintf("%.2f KB", bytes/1024) }
func mib(bytes float64) string { return fmt.Sprintf("%.1f MiB", bytes/(1<<20)) }
func ms(v float64) string      { return fmt.Sprintf("%.2f ms", v) }
