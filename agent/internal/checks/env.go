package checks

import (
	"context"
	"os"
	"os/user"
	"runtime"
	"slices"
	"time"

	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
)

// Defaults fills env's zero fields with the real machine.
func (e *Env) Defaults() {
	if e.Root == "" {
		e.Root = "/"
	}
	if e.Cmd == nil {
		e.Cmd = ExecCommander{}
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.User == "" {
		if u, err := user.Current(); err == nil {
			e.User = u.Username
		}
	}
	if e.Home == "" {
		e.Home, _ = os.UserHomeDir()
	}
	if e.Mounts == nil {
		e.Mounts = FixedDisks
	}
	if e.Uptime == nil {
		e.Uptime = func(ctx context.Context) (time.Duration, error) {
			s, err := host.UptimeWithContext(ctx)
			return time.Duration(s) * time.Second, err
		}
	}
	if e.GOOS == "" {
		e.GOOS = runtime.GOOS
	}
	if e.Timeout <= 0 {
		e.Timeout = 20 * time.Second
	}
	if e.memo == nil {
		e.memo = &memo{}
	}
}

// FixedDisks lists the writable physical filesystems (not snaps, not CDs,
// not network shares), each device once.
func FixedDisks(ctx context.Context) ([]Mount, error) {
	parts, err := disk.PartitionsWithContext(ctx, false)
	if err != nil && len(parts) == 0 {
		return nil, err
	}
	var out []Mount
	seen := map[string]bool{}
	for _, p := range parts {
		if seen[p.Device] || slices.Contains([]string{"squashfs", "iso9660", "udf", "cdfs"}, p.Fstype) || slices.Contains(p.Opts, "ro") {
			continue
		}
		seen[p.Device] = true
		u, err := disk.UsageWithContext(ctx, p.Mountpoint)
		if err != nil || u.Total == 0 {
			continue
		}
		out = append(out, Mount{Path: p.Mountpoint, TotalBytes: u.Total, FreeBytes: u.Free})
	}
	return out, nil
}

// PathMounts measures the named paths' filesystems (tests: a tmpfs).
func PathMounts(paths ...string) func(context.Context) ([]Mount, error) {
	return func(ctx context.Context) ([]Mount, error) {
		var out []Mount
		for _, p := range paths {
			u, err := disk.UsageWithContext(ctx, p)
			if err != nil {
				return nil, err
			}
			out = append(out, Mount{Path: p, TotalBytes: u.Total, FreeBytes: u.Free})
		}
		return out, nil
	}
}
