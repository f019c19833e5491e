package sysinfo

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestSnapshotFillsFactsAndNoCommandLines(t *testing.T) {
	s := New(Options{AgentVersion: "1.2.3"})
	snap := s.Snapshot(context.Background())
	if snap.AgentVersion != "1.2.3" || snap.Host.Hostname == "" || snap.Host.OS == "" || snap.CPU.Threads == 0 || snap.Memory.TotalBytes == 0 {
		t.Fatalf("snapshot missing basics: %+v", snap)
	}
	if len(snap.TopCPU) == 0 || len(snap.TopCPU) > 10 || len(snap.TopMemory) == 0 {
		t.Fatalf("top processes: %d by cpu, %d by memory (problems %v)", len(snap.TopCPU), len(snap.TopMemory), snap.Problems)
	}
	for _, d := range snap.Disks {
		if pseudoFS[d.FS] {
			t.Errorf("pseudo filesystem listed: %+v", d)
		}
	}
	b, _ := json.Marshal(snap)
	if strings.Contains(string(b), "-test.") {
		t.Errorf("snapshot carries a command line: %s", b)
	}
}

func TestProbeTimeoutIsAProblemNotAFailure(t *testing.T) {
	p := &probes{problems: map[string]string{}, timeout: 20 * time.Millisecond}
	var got string
	p.run(context.Background(), "slow", func(ctx context.Context) (func(), error) {
		time.Sleep(200 * time.Millisecond)
		return func() { got = "late" }, nil
	})
	p.run(context.Background(), "panicky", func(ctx context.Context) (func(), error) { panic("boom") })
	p.wg.Wait()
	if !strings.Contains(p.problems["slow"], "timed out") || !strings.Contains(p.problems["panicky"], "crashed") {
		t.Fatalf("problems = %v", p.problems)
	}
	time.Sleep(250 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	if got != "" {
		t.Fatal("a timed-out probe wrote its result")
	}
}

func TestTelemetry(t *testing.T) {
	s := New(Options{})
	_ = s.Telemetry(context.Background())
	tel := s.Telemetry(context.Background())
	if tel.MemPct <= 0 || tel.At.IsZero() {
		t.Fatalf("telemetry = %+v", tel)
	}
}

// BenchmarkSnapshotWarm measures a snapshot after the first (the agent's
// steady state: counters from the previous snapshot are reused).
func BenchmarkSnapshotWarm(b *testing.B) {
	s := New(Options{})
	_ = s.Snapshot(context.Background())
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Snapshot(context.Background())
	}
}
