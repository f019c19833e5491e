//go:build linux

package checks

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// BenchmarkRound measures one full round of every check with the default
// policy on this machine, with the real probes and commands (apt-get -s,
// chage), and reports the CPU time it cost the process and its children
// (getrusage) per round beside the wall time.
func BenchmarkRound(b *testing.B) {
	env := Env{Timeout: 30 * time.Second}
	r := NewRunner(Config{Env: env})
	r.SetPolicy(protocol.DefaultChecksPolicy())
	ctx := context.Background()
	r.Round(ctx) // warm: page cache, gopsutil's first reads
	cpu := func() time.Duration {
		var self, kids syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
		_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
		t := func(u syscall.Rusage) time.Duration {
			return time.Duration(u.Utime.Nano() + u.Stime.Nano())
		}
		return t(self) + t(kids)
	}
	b.ResetTimer()
	c0 := cpu()
	for b.Loop() {
		r.Round(ctx)
	}
	c1 := cpu()
	b.ReportMetric(float64((c1-c0).Microseconds())/1000/float64(b.N), "cpu-ms/round")
}
