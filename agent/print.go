package main

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// printSnapshot shows "what IT can see" in plain words.
func printSnapshot(w io.Writer, s *protocol.Snapshot) {
	gb := func(b uint64) string { return fmt.Sprintf("%.1f GB", float64(b)/(1<<30)) }
	fmt.Fprintf(w, "This is what IT can see about this computer (taken %s):\n\n", s.TakenAt.Local().Format(time.RFC1123))
	h := s.Host
	fmt.Fprintf(w, "Computer   %s — %s %s %s (%s, kernel %s)\n", h.Hostname, h.Platform, h.PlatformVersion, h.Model, h.Arch, h.Kernel)
	fmt.Fprintf(w, "User       %s\n", h.User)
	fmt.Fprintf(w, "Running    since %s (%s)\n", h.BootTime.Local().Format(time.RFC1123), (time.Duration(h.UptimeSeconds) * time.Second).String())
	fmt.Fprintf(w, "Processor  %s — %d cores, %d threads, %.1f%% busy, load %.2f %.2f %.2f\n", s.CPU.Model, s.CPU.Cores, s.CPU.Threads, s.CPU.UsagePct, s.CPU.Load1, s.CPU.Load5, s.CPU.Load15)
	fmt.Fprintf(w, "Memory     %s of %s used (%.0f%%), swap %s of %s\n", gb(s.Memory.UsedBytes), gb(s.Memory.TotalBytes), s.Memory.UsedPct, gb(s.Memory.SwapUsedBytes), gb(s.Memory.SwapTotalBytes))
	for _, d := range s.Disks {
		fmt.Fprintf(w, "Disk       %s (%s): %s free of %s (%.0f%% used)\n", d.Mount, d.FS, gb(d.FreeBytes), gb(d.TotalBytes), d.UsedPct)
	}
	for _, n := range s.Network {
		state := "down"
		if n.Up {
			state = "up"
		}
		fmt.Fprintf(w, "Network    %s %s %s %v\n", n.Name, state, n.MAC, n.Addrs)
	}
	if b := s.Battery; b != nil {
		fmt.Fprintf(w, "Battery    %.0f%% %s\n", b.Percent, b.State)
	}
	fmt.Fprintln(w, "\nBusiest programs (names only — IT never sees what's in them):")
	for _, p := range s.TopCPU {
		fmt.Fprintf(w, "  %-24s %5.1f%% CPU  %8.1f MB\n", p.Name, p.CPUPct, float64(p.MemBytes)/(1<<20))
	}
	fmt.Fprintln(w, "Largest programs in memory:")
	for _, p := range s.TopMemory {
		fmt.Fprintf(w, "  %-24s %8.1f MB\n", p.Name, float64(p.MemBytes)/(1<<20))
	}
	if len(s.Problems) > 0 {
		fmt.Fprintln(w, "\nCould not read:")
		keys := make([]string, 0, len(s.Problems))
		for k := range s.Problems {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s: %s\n", k, s.Problems[k])
		}
	}
	fmt.Fprintf(w, "\nAgent version %s\n", s.AgentVersion)
}
