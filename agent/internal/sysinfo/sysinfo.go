// Package sysinfo collects what IT needs to help — host, OS, CPU, memory,
// disks, network, battery, top processes — into a protocol.Snapshot, and
// compact live telemetry, through gopsutil behind the small Collector
// interface. Every probe has a timeout; a probe that fails or times out is
// named in Snapshot.Problems, never fatal. It never reads content: no file
// names, no command lines.
package sysinfo

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/deskside/deskside/shared/protocol"
)

// Collector is what the core needs; tests pass a fake.
type Collector interface {
	Snapshot(ctx context.Context) protocol.Snapshot
	Telemetry(ctx context.Context) protocol.Telemetry
}

// Options configures a System.
type Options struct {
	AgentVersion string
	// ProbeTimeout caps each probe (default 3 s).
	ProbeTimeout time.Duration
	// TopN is how many processes to list by CPU and by memory (default 10).
	TopN int
}

// System collects from the running machine. It keeps the previous CPU and
// process counters so that a warm snapshot measures usage since the last one
// without sleeping. Safe for concurrent use.
type System struct {
	opt Options

	mu         sync.Mutex
	lastCPU    *cpu.TimesStat
	lastProc   map[int32]procSample
	lastProcAt time.Time
	lastNet    netSample
	static     *staticFacts
}

type staticFacts struct {
	cpuModel       string
	cores, threads int
	model          string
	modelErr       error
}

// New returns a System collector.
func New(opt Options) *System {
	if opt.ProbeTimeout <= 0 {
		opt.ProbeTimeout = 3 * time.Second
	}
	if opt.TopN <= 0 {
		opt.TopN = 10
	}
	return &System{opt: opt}
}

// probes runs named probes concurrently, each under its own timeout, and
// records failures. A probe's result is applied only if it finished in time,
// so a late probe never writes into a snapshot already returned.
type probes struct {
	mu       sync.Mutex
	wg       sync.WaitGroup
	problems map[string]string
	timeout  time.Duration
}

func (p *probes) run(ctx context.Context, name string, fn func(ctx context.Context) (apply func(), err error)) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		pctx, cancel := context.WithTimeout(ctx, p.timeout)
		defer cancel()
		type result struct {
			apply func()
			err   error
		}
		ch := make(chan result, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					ch <- result{err: fmt.Errorf("probe crashed: %v", r)}
				}
			}()
			a, err := fn(pctx)
			ch <- result{a, err}
		}()
		select {
		case r := <-ch:
			p.mu.Lock()
			defer p.mu.Unlock()
			if r.err != nil {
				p.problems[name] = r.err.Error()
			}
			if r.apply != nil {
				r.apply()
			}
		case <-pctx.Done():
			p.mu.Lock()
			p.problems[name] = fmt.Sprintf("timed out after %s", p.timeout)
			p.mu.Unlock()
		}
	}()
}

// Snapshot collects a full snapshot. It always returns one; what could not
// be read is listed in Problems.
func (s *System) Snapshot(ctx context.Context) protocol.Snapshot {
	snap := protocol.Snapshot{TakenAt: time.Now().UTC().Truncate(time.Millisecond), AgentVersion: s.opt.AgentVersion}
	snap.Host.OS, snap.Host.Arch = runtime.GOOS, runtime.GOARCH
	p := &probes{problems: map[string]string{}, timeout: s.opt.ProbeTimeout}

	p.run(ctx, "host", func(ctx context.Context) (func(), error) {
		info, err := host.InfoWithContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("read host: %w", err)
		}
		return func() {
			h := &snap.Host
			h.Hostname, h.Platform, h.PlatformVersion, h.Kernel = info.Hostname, info.Platform, info.PlatformVersion, info.KernelVersion
			h.BootTime = time.Unix(int64(info.BootTime), 0).UTC()
			h.UptimeSeconds = info.Uptime
			if info.KernelArch != "" {
				h.Arch = info.KernelArch
			}
		}, nil
	})
	p.run(ctx, "user", func(ctx context.Context) (func(), error) {
		name := currentUser()
		if name == "" {
			return nil, fmt.Errorf("no user name found")
		}
		return func() { snap.Host.User = name }, nil
	})
	p.run(ctx, "cpu", func(ctx context.Context) (func(), error) {
		st, err := s.staticFacts(ctx)
		if err != nil {
			return nil, err
		}
		usage, err := s.cpuUsage(ctx)
		if err != nil {
			return nil, err
		}
		return func() {
			snap.CPU.Model, snap.CPU.Cores, snap.CPU.Threads, snap.CPU.UsagePct = st.cpuModel, st.cores, st.threads, usage
			if st.modelErr != nil {
				p.problems["model"] = st.modelErr.Error()
			}
			snap.Host.Model = st.model
		}, nil
	})
	if runtime.GOOS != "windows" {
		p.run(ctx, "load", func(ctx context.Context) (func(), error) {
			l, err := load.AvgWithContext(ctx)
			if err != nil {
				return nil, fmt.Errorf("read load: %w", err)
			}
			return func() {
				snap.CPU.Load1, snap.CPU.Load5, snap.CPU.Load15 = round1(l.Load1), round1(l.Load5), round1(l.Load15)
			}, nil
		})
	}
	p.run(ctx, "memory", func(ctx context.Context) (func(), error) {
		vm, err := mem.VirtualMemoryWithContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("read memory: %w", err)
		}
		sw, swErr := mem.SwapMemoryWithContext(ctx)
		return func() {
			snap.Memory = protocol.Memory{TotalBytes: vm.Total, UsedBytes: vm.Used, UsedPct: round1(vm.UsedPercent)}
			if swErr == nil {
				snap.Memory.SwapTotalBytes, snap.Memory.SwapUsedBytes = sw.Total, sw.Used
			} else {
				p.problems["swap"] = swErr.Error()
			}
		}, nil
	})
	p.run(ctx, "disks", func(ctx context.Context) (func(), error) {
		d, err := disks(ctx)
		return func() { snap.Disks = d }, err
	})
	p.run(ctx, "network", func(ctx context.Context) (func(), error) {
		n, err := interfaces()
		return func() { snap.Network = n }, err
	})
	p.run(ctx, "battery", func(ctx context.Context) (func(), error) {
		b, err := readBattery()
		return func() { snap.Battery = b }, err
	})
	p.run(ctx, "processes", func(ctx context.Context) (func(), error) {
		byCPU, byMem, err := s.topProcesses(ctx)
		return func() { snap.TopCPU, snap.TopMemory = byCPU, byMem }, err
	})
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.problems) > 0 {
		snap.Problems = p.problems
	}
	return snap
}

func (s *System) staticFacts(ctx context.Context) (*staticFacts, error) {
	s.mu.Lock()
	st := s.static
	s.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st = &staticFacts{}
	infos, err := cpu.InfoWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("read cpu: %w", err)
	}
	if len(infos) > 0 {
		st.cpuModel = strings.TrimSpace(infos[0].ModelName)
	}
	st.threads, _ = cpu.CountsWithContext(ctx, true)
	st.cores, _ = cpu.CountsWithContext(ctx, false)
	if st.threads == 0 {
		st.threads = runtime.NumCPU()
	}
	st.model, st.modelErr = hardwareModel()
	s.mu.Lock()
	s.static = st
	s.mu.Unlock()
	return st, nil
}

// cpuUsage is the busy share since the previous call; the first call
// samples for 100 ms.
func (s *System) cpuUsage(ctx context.Context) (float64, error) {
	read := func() (*cpu.TimesStat, error) {
		t, err := cpu.TimesWithContext(ctx, false)
		if err != nil || len(t) == 0 {
			return nil, fmt.Errorf("read cpu times: %v", err)
		}
		return &t[0], nil
	}
	s.mu.Lock()
	prev := s.lastCPU
	s.mu.Unlock()
	if prev == nil {
		var err error
		if prev, err = read(); err != nil {
			return 0, err
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	cur, err := read()
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.lastCPU = cur
	s.mu.Unlock()
	return round1(busyPct(*prev, *cur)), nil
}

func busyPct(a, b cpu.TimesStat) float64 {
	idle := func(t cpu.TimesStat) float64 { return t.Idle + t.Iowait }
	total := func(t cpu.TimesStat) float64 {
		return t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
	}
	dt := total(b) - total(a)
	if dt <= 0 {
		return 0
	}
	pct := (dt - (idle(b) - idle(a))) / dt * 100
	return min(max(pct, 0), 100)
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// sortTop returns the first n of ps ordered by less.
func sortTop(ps []protocol.Proc, n int, less func(a, b protocol.Proc) bool) []protocol.Proc {
	out := append([]protocol.Proc(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool { return less(out[i], out[j]) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}
