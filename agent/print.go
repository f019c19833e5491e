package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// statusWords says where a request stands, as the windows do.
func statusWords(r agentapi.Request) string {
	if !r.Sent {
		return "saved, not yet with IT"
	}
	switch r.Status {
	case protocol.StatusNew:
		return "with IT, not picked up yet"
	case protocol.StatusInProgress:
		return "IT is on it"
	case protocol.StatusWaitingOnUser:
		return "IT is waiting for you"
	case protocol.StatusResolved:
		return "resolved"
	case protocol.StatusReopened:
		return "reopened"
	}
	return string(r.Status)
}

// printRequests lists requests newest first, one per line, with the ID
// that `deskside-agent requests --id` takes.
func printRequests(w io.Writer, rs []agentapi.Request) {
	if len(rs) == 0 {
		fmt.Fprintln(w, `You haven't asked IT for anything from this computer yet: deskside-agent ask "what you need".`)
		return
	}
	for _, r := range rs {
		mark := " "
		if r.Unread {
			mark = "*"
		}
		fmt.Fprintf(w, "%s %s  %s  %-27s %s\n", mark, r.ID, r.CreatedAt.Local().Format("Jan _2 15:04"), statusWords(r), firstLine(r.Text, 50))
		if r.LastText != "" && r.LastText != r.Text {
			fmt.Fprintf(w, "      latest: %s\n", firstLine(r.LastText, 70))
		}
		if r.Expectation != "" {
			fmt.Fprintf(w, "      %s\n", r.Expectation)
		}
	}
	fmt.Fprintln(w, "\nRead one with its replies: deskside-agent requests --id ID   (* = new replies)")
}

// printThread shows one request and its conversation, oldest first.
func printThread(w io.Writer, r agentapi.Request) {
	fmt.Fprintf(w, "Request %s — %s (%s, %s)\n", r.ID, statusWords(r), r.Category, strings.ReplaceAll(string(r.Urgency), "_", " "))
	if r.Assignee != nil {
		fmt.Fprintf(w, "Looked after by %s\n", r.Assignee.Name)
	}
	if r.Expectation != "" {
		fmt.Fprintln(w, r.Expectation)
	}
	fmt.Fprintf(w, "\n%s  You:\n  %s\n", r.CreatedAt.Local().Format("Jan _2 15:04"), indent(r.Text))
	for _, m := range r.Messages {
		who := m.Author.Name
		if m.FromUser {
			who = "You"
		} else if who == "" {
			who = "IT"
		}
		fmt.Fprintf(w, "\n%s  %s:\n  %s\n", m.CreatedAt.Local().Format("Jan _2 15:04"), who, indent(m.Text))
	}
	if len(r.Messages) == 0 {
		fmt.Fprintln(w, "\nNo reply from IT yet.")
	}
}

// printExpectations says how soon IT usually answers, per urgency, as
// `deskside-agent status` shows it; nothing when IT never said.
func printExpectations(w io.Writer, list []agentapi.Expectation) {
	label := "Answers:"
	for _, u := range []protocol.Urgency{protocol.UrgencyBlocking, protocol.UrgencyWhenYouCan} {
		if t := agentapi.ExpectationFor(list, u); t != "" {
			fmt.Fprintf(w, "%-11s %s: %s\n", label, urgencyWords(u), t)
			label = ""
		}
	}
}

func urgencyWords(u protocol.Urgency) string {
	if u == protocol.UrgencyBlocking {
		return "Blocking my work"
	}
	return "When you can"
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func indent(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n  ") }

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
