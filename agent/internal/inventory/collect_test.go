package inventory

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskside/deskside/shared/protocol"
)

// TestCollectCanceled: a canceled collection reads nothing and says every
// source failed, so the caller keeps what it had rather than report it all
// removed.
func TestCollectCanceled(t *testing.T) {
	root, home := userFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := Collect(ctx, linuxAt(root, home))
	if len(rep.Entries) != 0 || len(rep.Read) != 0 || len(rep.Failed) != len(readersFor("linux")) {
		t.Fatalf("canceled: %+v", rep)
	}
	for _, f := range rep.Failed {
		if !errors.Is(f.Err, context.Canceled) {
			t.Fatalf("%v", f)
		}
	}
}

// TestReadersPerOS: each OS family reads its own sources, and every source
// in the protocol is read on some OS.
func TestReadersPerOS(t *testing.T) {
	seen := map[protocol.SoftwareSource]bool{}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		rs := readersFor(goos)
		if len(rs) == 0 {
			t.Fatalf("%s reads nothing", goos)
		}
		for _, r := range rs {
			if seen[r.source] {
				t.Fatalf("%s read on two OSes", r.source)
			}
			seen[r.source] = true
		}
	}
	for _, s := range protocol.SoftwareSources {
		if !seen[s] {
			t.Errorf("no OS reads %s", s)
		}
	}
	if rep := Collect(context.Background(), Options{GOOS: "plan9", Run: noTools}); len(rep.Read)+len(rep.Failed)+len(rep.Entries) != 0 {
		t.Fatalf("an OS without sources: %+v", rep)
	}
}

// BenchmarkCollect collects this machine's inventory with the default
// options (figures in docs/benchmarks.md).
func BenchmarkCollect(b *testing.B) {
	n := 0
	cpu := processCPU()
	for b.Loop() {
		rep := Collect(context.Background(), Options{})
		if len(rep.Failed) > 0 {
			b.Fatalf("failed: %v", rep.Failed)
		}
		n = len(rep.Entries)
	}
	b.ReportMetric(float64(n), "entries")
	// CPU beside wall time: on a shared machine the wall time is mostly
	// waiting for a core.
	if cpu := processCPU() - cpu; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkCollectDesktop collects a synthetic desktop-sized Linux install:
// 4,000 dpkg packages with descriptions and conffiles as long as real ones.
func BenchmarkCollectDesktop(b *testing.B) {
	root := b.TempDir()
	var s strings.Builder
	for i := range 4000 {
		fmt.Fprintf(&s, "Package: package-%d\nStatus: install ok installed\nPriority: optional\nSection: utils\nInstalled-Size: %d\n"+
			"Maintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>\nArchitecture: amd64\nVersion: %d.%d-1ubuntu1\n"+
			"Depends: libc6 (>= 2.34), libglib2.0-0t64 (>= 2.79.2), libgtk-3-0t64 (>= 3.24.41)\nConffiles:\n /etc/package-%d/config.conf 0123456789abcdef0123456789abcdef\n"+
			"Description: a package of a desktop install\n %s\n .\n %s\n\n", i, 100+i, i%30, i%7, i, strings.Repeat("a long description line ", 3), strings.Repeat("more words ", 6))
	}
	writeFile(b, filepath.Join(root, "var/lib/dpkg/status"), s.String())
	o := linuxAt(root, b.TempDir())
	b.SetBytes(int64(s.Len()))
	cpu := processCPU()
	for b.Loop() {
		if rep := Collect(context.Background(), o); len(rep.Entries) != 4000 {
			b.Fatalf("%d entries", len(rep.Entries))
		}
	}
	if cpu := processCPU() - cpu; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
