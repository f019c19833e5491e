package sim_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/deskside/deskside/server/loadtest/sim"
	"github.com/deskside/deskside/server/servertest"
)

// testTarget is a servertest server in this process.
type testTarget struct {
	t *testing.T
	s *servertest.Server
}

func (tt testTarget) URL() string { return tt.s.URL() }

func (tt testTarget) Restart(context.Context) error { tt.s.Restart(tt.t); return nil }

func (tt testTarget) GC(context.Context) bool { runtime.GC(); debug.FreeOSMemory(); return true }

// TestSmoke runs every default scenario with a small fleet against an
// in-process server and asserts only that it worked: every device
// connected, every announcement delivered, no unexpected disconnect.
// Timings are printed, never asserted.
func TestSmoke(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 100
	}
	smoke(t, n, sim.DefaultScenarios, 100*time.Second)
}

// TestSmokeSoftware runs the software scenario with a small fleet: every
// device's full inventory (~1,500 entries) is acked, some change lists too.
func TestSmokeSoftware(t *testing.T) {
	smoke(t, 60, []string{"route", "software"}, 150*time.Second)
}

// TestSmokeWebhooks runs the webhooks scenario after route with a small
// fleet: the simulator's receiver gets signed deliveries and reports
// their delay.
func TestSmokeWebhooks(t *testing.T) {
	smoke(t, 60, []string{"route", "webhooks"}, 100*time.Second)
}

func smoke(t *testing.T, n int, scenarios []string, limit time.Duration) {
	s := servertest.New(t, servertest.WithPingInterval(5*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var techs []*sim.Tech
	for range 2 {
		tc := s.Tech(t)
		tech := &sim.Tech{URL: s.URL(), Client: tc.Client, CSRF: tc.CSRF}
		if err := tech.Open(ctx, 4); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tech.Close)
		techs = append(techs, tech)
	}
	var shards []sim.Shard
	for i := range 2 {
		f := sim.NewFleet(sim.FleetConfig{URL: s.URL(), First: i * n / 2, Count: n / 2, PerSourceIP: 100,
			CursorDelay: 200 * time.Millisecond, BackoffBase: 200 * time.Millisecond, BackoffCap: 2 * time.Second})
		shards = append(shards, sim.LocalShard{F: f})
		t.Cleanup(f.Close)
	}
	r := &sim.Runner{Target: testTarget{t, s}, Shards: shards, Techs: techs, Out: newTestWriter(t),
		Cfg: sim.RunConfig{Devices: n, Scenarios: scenarios, Hold: 2 * time.Second, TelemetryRate: 100, ProbeRate: 10,
			LoadFor: 2 * time.Second, SoftwareWindow: 3 * time.Second, SlowFraction: 0.01, SlowPushes: 3, PushBytes: 2000,
			StormTimeout: 40 * time.Second, Token: s.Token(t)}}
	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Save(filepath.Join(t.TempDir(), "smoke.json")); err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Failures {
		t.Error(f)
	}
	if os.Getenv("DESKSIDE_SMOKE_TABLE") != "" {
		rep.Print(newTestWriter(t), "")
	}
}

// testWriter logs whole lines (tabwriter writes in pieces).
type testWriter struct {
	t   *testing.T
	buf *[]byte
}

func newTestWriter(t *testing.T) testWriter { return testWriter{t, new([]byte)} }

func (w testWriter) Write(p []byte) (int, error) {
	*w.buf = append(*w.buf, p...)
	for {
		i := bytes.IndexByte(*w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Log(string((*w.buf)[:i]))
		*w.buf = (*w.buf)[i+1:]
	}
}
