package sysinfo

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/disk"
	gnet "github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/deskside/deskside/shared/protocol"
)

// pseudoFS are filesystems that hold no user data: never listed.
var pseudoFS = map[string]bool{
	"tmpfs": true, "devtmpfs": true, "devfs": true, "proc": true, "sysfs": true, "cgroup": true, "cgroup2": true,
	"overlay": true, "squashfs": true, "autofs": true, "mqueue": true, "debugfs": true, "tracefs": true,
	"securityfs": true, "pstore": true, "bpf": true, "configfs": true, "fusectl": true, "hugetlbfs": true,
	"binfmt_misc": true, "nsfs": true, "ramfs": true, "efivarfs": true, "rpc_pipefs": true, "nullfs": true,
	"fuse.gvfsd-fuse": true, "fuse.portal": true, "fuse.lxcfs": true, "shm": true, "devpts": true,
}

func disks(ctx context.Context) ([]protocol.Disk, error) {
	parts, err := disk.PartitionsWithContext(ctx, false)
	if err != nil && len(parts) == 0 {
		return nil, fmt.Errorf("list disks: %w", err)
	}
	seen := map[string]bool{}
	var out []protocol.Disk
	for _, p := range parts {
		if pseudoFS[p.Fstype] || strings.HasPrefix(p.Mountpoint, "/snap/") || strings.HasPrefix(p.Mountpoint, "/var/lib/docker") ||
			strings.HasPrefix(p.Mountpoint, "/System/Volumes/") && p.Mountpoint != "/System/Volumes/Data" {
			continue
		}
		key := p.Device
		if key == "" || key == "none" {
			key = p.Mountpoint
		}
		if seen[key] {
			continue // bind mounts of one device
		}
		u, err := disk.UsageWithContext(ctx, p.Mountpoint)
		if err != nil || u.Total == 0 {
			continue
		}
		seen[key] = true
		out = append(out, protocol.Disk{Mount: p.Mountpoint, FS: p.Fstype, TotalBytes: u.Total, FreeBytes: u.Free, UsedPct: round1(u.UsedPercent)})
	}
	return out, nil
}

func interfaces() ([]protocol.NetIf, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []protocol.NetIf
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		n := protocol.NetIf{Name: ifc.Name, MAC: ifc.HardwareAddr.String(), Up: ifc.Flags&net.FlagUp != 0}
		if addrs, err := ifc.Addrs(); err == nil {
			for _, a := range addrs {
				n.Addrs = append(n.Addrs, a.String())
			}
		}
		out = append(out, n)
	}
	return out, nil
}

type procSample struct {
	cpuSeconds float64
}

// topProcesses lists the busiest processes by CPU (since the previous
// snapshot; lifetime average on the first) and by resident memory. Names
// only: command lines can hold secrets.
func (s *System) topProcesses(ctx context.Context) (byCPU, byMem []protocol.Proc, err error) {
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list processes: %w", err)
	}
	now := time.Now()
	s.mu.Lock()
	prev, prevAt := s.lastProc, s.lastProcAt
	s.mu.Unlock()
	wall := now.Sub(prevAt).Seconds()
	cur := make(map[int32]procSample, len(procs))
	all := make([]protocol.Proc, 0, len(procs))
	for _, p := range procs {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		name, err := p.NameWithContext(ctx)
		if err != nil || name == "" {
			continue
		}
		pr := protocol.Proc{Name: name, PID: p.Pid}
		if mi, err := p.MemoryInfoWithContext(ctx); err == nil {
			pr.MemBytes = mi.RSS
		}
		if t, err := p.TimesWithContext(ctx); err == nil {
			secs := t.User + t.System
			cur[p.Pid] = procSample{cpuSeconds: secs}
			if old, ok := prev[p.Pid]; ok && wall > 0 {
				pr.CPUPct = round1(max(secs-old.cpuSeconds, 0) / wall * 100)
			} else if prev == nil {
				if c, err := p.CPUPercentWithContext(ctx); err == nil {
					pr.CPUPct = round1(c)
				}
			}
		}
		all = append(all, pr)
	}
	s.mu.Lock()
	s.lastProc, s.lastProcAt = cur, now
	s.mu.Unlock()
	byCPU = sortTop(all, s.opt.TopN, func(a, b protocol.Proc) bool { return a.CPUPct > b.CPUPct })
	byMem = sortTop(all, s.opt.TopN, func(a, b protocol.Proc) bool { return a.MemBytes > b.MemBytes })
	return byCPU, byMem, nil
}

type netSample struct {
	at     time.Time
	rx, tx uint64
}

// Telemetry returns one compact live sample: CPU and memory use, the
// fullest disk, and network rates since the previous sample.
func (s *System) Telemetry(ctx context.Context) protocol.Telemetry {
	t := protocol.Telemetry{At: time.Now().UTC().Truncate(time.Millisecond)}
	ctx, cancel := context.WithTimeout(ctx, s.opt.ProbeTimeout)
	defer cancel()
	if u, err := s.cpuUsage(ctx); err == nil {
		t.CPUPct = u
	}
	snapMem(ctx, &t)
	if ds, err := disks(ctx); err == nil {
		for _, d := range ds {
			t.DiskPct = max(t.DiskPct, d.UsedPct)
		}
	}
	if io, err := gnet.IOCountersWithContext(ctx, false); err == nil && len(io) > 0 {
		cur := netSample{at: t.At, rx: io[0].BytesRecv, tx: io[0].BytesSent}
		s.mu.Lock()
		prev := s.lastNet
		s.lastNet = cur
		s.mu.Unlock()
		if dt := cur.at.Sub(prev.at).Seconds(); !prev.at.IsZero() && dt > 0 && cur.rx >= prev.rx && cur.tx >= prev.tx {
			t.NetRxBps = round1(float64(cur.rx-prev.rx) / dt)
			t.NetTxBps = round1(float64(cur.tx-prev.tx) / dt)
		}
	}
	return t
}
