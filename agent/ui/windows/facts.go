package windows

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Fact is one line of "what IT can see", in plain words.
type Fact struct {
	Label string
	Value string
}

// NeverCollected is the promise shown under every list of facts.
const NeverCollected = "Deskside never collects your files, what you browse, what you type, " +
	"or your screen — unless you click to attach a screenshot."

// Facts turns a snapshot into plain lines, in the order a person would ask.
func Facts(s *protocol.Snapshot) []Fact {
	if s == nil {
		return nil
	}
	var out []Fact
	add := func(label, value string) {
		if strings.TrimSpace(value) != "" {
			out = append(out, Fact{label, value})
		}
	}
	h := s.Host
	add("Computer name", h.Hostname)
	add("Signed in as", h.User)
	add("System", joinNonEmpty(" ", titleOS(h), h.PlatformVersion, archWords(h.Arch)))
	add("Model", h.Model)
	if h.UptimeSeconds > 0 {
		add("Switched on for", Duration(time.Duration(h.UptimeSeconds)*time.Second))
	}
	if s.CPU.Model != "" || s.CPU.Threads > 0 {
		cpu := s.CPU.Model
		if s.CPU.Cores > 0 {
			cpu = joinNonEmpty(", ", cpu, fmt.Sprintf("%d cores", s.CPU.Cores))
		}
		add("Processor", fmt.Sprintf("%s — %.0f %% busy", cpu, s.CPU.UsagePct))
	}
	if s.Memory.TotalBytes > 0 {
		add("Memory", fmt.Sprintf("%s of %s in use", Bytes(s.Memory.UsedBytes), Bytes(s.Memory.TotalBytes)))
	}
	for _, d := range s.Disks {
		add("Disk "+d.Mount, fmt.Sprintf("%s free of %s", Bytes(d.FreeBytes), Bytes(d.TotalBytes)))
	}
	for _, n := range s.Network {
		state := "not connected"
		if n.Up {
			state = "connected"
		}
		add("Network "+n.Name, joinNonEmpty(" — ", strings.Join(n.Addrs, ", "), state))
	}
	if b := s.Battery; b != nil {
		state := "on battery"
		if b.Charging || b.State == "charging" {
			state = "charging"
		} else if b.State == "full" {
			state = "full"
		}
		add("Battery", fmt.Sprintf("%.0f %%, %s", b.Percent, state))
	}
	add("Busiest programs", procs(s.TopCPU, func(p protocol.Proc) string { return fmt.Sprintf("%.0f %% CPU", p.CPUPct) }))
	add("Largest programs", procs(s.TopMemory, func(p protocol.Proc) string { return Bytes(p.MemBytes) }))
	if len(s.Problems) > 0 {
		keys := make([]string, 0, len(s.Problems))
		for k := range s.Problems {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		add("Could not read", strings.Join(keys, ", "))
	}
	add("Deskside version", s.AgentVersion)
	return out
}

func procs(ps []protocol.Proc, what func(protocol.Proc) string) string {
	var parts []string
	for i, p := range ps {
		if i == 3 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", p.Name, what(p)))
	}
	return strings.Join(parts, ", ")
}

func titleOS(h protocol.Host) string {
	p := h.Platform
	if p == "" {
		p = h.OS
	}
	switch strings.ToLower(p) {
	case "darwin":
		return "macOS"
	case "linux", "debian", "ubuntu", "fedora", "arch":
		return strings.ToUpper(p[:1]) + p[1:]
	}
	return p
}

func archWords(a string) string {
	switch a {
	case "amd64", "arm64":
		return "(64-bit)"
	case "386", "arm":
		return "(32-bit)"
	}
	return ""
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

// Bytes says a size the way people do: "16 GB", "900 MB".
func Bytes(n uint64) string {
	const unit = 1024
	f := float64(n)
	for _, u := range []string{"bytes", "KB", "MB", "GB"} {
		if f < unit {
			if u == "bytes" || f >= 10 {
				return fmt.Sprintf("%.0f %s", f, u)
			}
			return fmt.Sprintf("%.1f %s", f, u)
		}
		f /= unit
	}
	if f >= 10 {
		return fmt.Sprintf("%.0f TB", f)
	}
	return fmt.Sprintf("%.1f TB", f)
}

// Duration says how long, roughly: "2 days 3 hours", "45 minutes".
func Duration(d time.Duration) string {
	days := int(d.Hours()) / 24
	hours := int(d.Hours()) % 24
	mins := int(d.Minutes()) % 60
	plural := func(n int, w string) string {
		if n == 1 {
			return "1 " + w
		}
		return fmt.Sprintf("%d %ss", n, w)
	}
	switch {
	case days > 0:
		return plural(days, "day") + " " + plural(hours, "hour")
	case hours > 0:
		return plural(hours, "hour") + " " + plural(mins, "minute")
	}
	return plural(mins, "minute")
}

// When says a time relative to now: "today at 09:30", "yesterday at 17:02",
// "3 Nov at 10:00".
func When(t, now time.Time) string {
	if t.IsZero() {
		return "not yet"
	}
	t = t.Local()
	now = now.Local()
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	clock := t.Format("15:04")
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return "today at " + clock
	case now.Sub(t) < 48*time.Hour && t.Add(24*time.Hour).Day() == d2:
		return "yesterday at " + clock
	case y1 == y2:
		return t.Format("2 Jan") + " at " + clock
	}
	return t.Format("2 Jan 2006")
}
