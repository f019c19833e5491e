//go:build linux

package checks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

func TestRestartMarkerUnderTestRoot(t *testing.T) {
	env, _, _ := testEnv(t)
	ctx := context.Background()
	if f := Probe(ctx, env, policy(protocol.CheckRestartNeeded)); f.State != protocol.CheckOK {
		t.Fatalf("no marker: %+v", f)
	}
	writeFile(t, env.path("/run/reboot-required"), "*** System restart required ***\n")
	writeFile(t, env.path("/run/reboot-required.pkgs"), "linux-image-6.1.0-28-amd64\nlibc6\n")
	f := Probe(ctx, env, policy(protocol.CheckRestartNeeded))
	if f.State != protocol.CheckWarn || f.Fix != FixRestart || !strings.Contains(f.Evidence["pending"], "libc6") {
		t.Fatalf("marker: %+v", f)
	}
	if !strings.Contains(f.Summary, "needs a restart") {
		t.Errorf("summary %q", f.Summary)
	}
}

func TestRestartLongUptime(t *testing.T) {
	env, cmd, _ := testEnv(t)
	env.Uptime = func(context.Context) (time.Duration, error) { return 23*24*time.Hour + time.Hour, nil }
	f := Probe(context.Background(), env, policy(protocol.CheckRestartNeeded))
	if f.State != protocol.CheckWarn || !strings.Contains(f.Summary, "on for 23 days") {
		t.Fatalf("uptime: %+v", f)
	}
	// Fedora's marker: needs-restarting -r exits 1.
	env.Uptime = func(context.Context) (time.Duration, error) { return time.Hour, nil }
	cmd.set("needs-restarting -r", "Reboot is required", 1)
	if f := Probe(context.Background(), env, policy(protocol.CheckRestartNeeded)); f.State != protocol.CheckWarn || f.Evidence["pending"] != "needs-restarting" {
		t.Fatalf("needs-restarting: %+v", f)
	}
}

func TestUpdatesFromApt(t *testing.T) {
	env, cmd, _ := testEnv(t)
	cmd.set("apt-get -s -o Debug::NoLocking=true upgrade", fixture(t, "apt-get-s-upgrade.txt"), 0)
	f := Probe(context.Background(), env, policy(protocol.CheckOSUpdates))
	if f.State != protocol.CheckOK || !f.Pending || f.Evidence["updates"] != "3" || !strings.HasPrefix(f.Summary, "3 updates are waiting") {
		t.Fatalf("apt: %+v", f)
	}
	cmd2 := &fakeCmd{}
	cmd2.set("dnf check-update -q", "\nkernel.x86_64  6.11.4-301.fc41  updates\nopenssl.x86_64  1:3.2.2-9.fc41  updates\n", 100)
	env.Cmd = cmd2
	if f := Probe(context.Background(), env, policy(protocol.CheckOSUpdates)); f.Evidence["updates"] != "2" {
		t.Fatalf("dnf: %+v", f)
	}
	env.Cmd = &fakeCmd{}
	if f := Probe(context.Background(), env, policy(protocol.CheckOSUpdates)); f.State != protocol.CheckUnknown {
		t.Fatalf("no package manager: %+v", f)
	}
}

func TestPasswordFromChage(t *testing.T) {
	env, cmd, clk := testEnv(t)
	cmd.set("chage -l ada", fixture(t, "chage-l.txt"), 0) // expires Dec 10, 2026; now Dec 3
	f := Probe(context.Background(), env, policy(protocol.CheckPasswordExpiry))
	if f.State != protocol.CheckWarn || f.Evidence["days_left"] != "7" || f.Deadline.Format("2006-01-02") != "2026-12-10" {
		t.Fatalf("chage: %+v", f)
	}
	if !strings.Contains(f.Summary, "expires in 7 days (Thursday 10 December)") {
		t.Errorf("summary %q", f.Summary)
	}
	clk.Add(-30 * 24 * time.Hour)
	if f := Probe(context.Background(), env, policy(protocol.CheckPasswordExpiry)); f.State != protocol.CheckOK {
		t.Fatalf("a month before: %+v", f)
	}
}

func TestBatteryUnderTestRoot(t *testing.T) {
	env, _, _ := testEnv(t)
	if f := Probe(context.Background(), env, policy(protocol.CheckBatteryHealth)); f.State != protocol.CheckOK || f.Evidence["battery"] != "none" {
		t.Fatalf("no battery: %+v", f)
	}
	bat := env.path("/sys/class/power_supply/BAT0")
	writeFile(t, filepath.Join(bat, "energy_full"), "26000000\n")
	writeFile(t, filepath.Join(bat, "energy_full_design"), "50000000\n")
	f := Probe(context.Background(), env, policy(protocol.CheckBatteryHealth))
	if f.State != protocol.CheckWarn || f.Evidence["health_pct"] != "52" || !strings.Contains(f.Summary, "only 52%") {
		t.Fatalf("worn battery: %+v", f)
	}
}

// luksRoot builds sysfs for / on LVM (dm-1) on LUKS (dm-0) on nvme0n1p3.
func luksRoot(t *testing.T, env *Env, crypt bool) {
	writeFile(t, env.path("/proc/self/mountinfo"), "22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/mapper/vg-root rw\n")
	for _, d := range []string{"/sys/devices/virtual/block/dm-1/slaves/dm-0", "/sys/devices/virtual/block/dm-0/slaves/nvme0n1p3"} {
		if err := os.MkdirAll(env.path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, env.path("/sys/devices/virtual/block/dm-1/dm/uuid"), "LVM-abc\n")
	uuid := "CRYPT-LUKS2-0123456789abcdef-luks-1\n"
	if !crypt {
		uuid = "LVM-def\n"
	}
	writeFile(t, env.path("/sys/devices/virtual/block/dm-0/dm/uuid"), uuid)
	if err := os.MkdirAll(env.path("/sys/dev/block"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(env.path("/sys/block"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"/sys/dev/block/253:1": "../../devices/virtual/block/dm-1",
		"/sys/block/dm-1":      "../devices/virtual/block/dm-1",
		"/sys/block/dm-0":      "../devices/virtual/block/dm-0",
	} {
		if err := os.Symlink(target, env.path(link)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEncryptionLUKSUnderTestRoot(t *testing.T) {
	env, _, _ := testEnv(t)
	luksRoot(t, env, true)
	f := Probe(context.Background(), env, policy(protocol.CheckDiskEncryption))
	if f.State != protocol.CheckOK || f.Evidence["encrypted"] != "yes" || !strings.Contains(f.Evidence["detail"], "LUKS2") {
		t.Fatalf("luks: %+v", f)
	}
	env2, _, _ := testEnv(t)
	luksRoot(t, env2, false)
	if f := Probe(context.Background(), env2, policy(protocol.CheckDiskEncryption)); f.State != protocol.CheckWarn {
		t.Fatalf("plain LVM: %+v", f)
	}
	env3, _, _ := testEnv(t)
	writeFile(t, env3.path("/proc/self/mountinfo"), "500 400 0:52 / / rw,relatime - overlay overlay rw\n")
	if f := Probe(context.Background(), env3, policy(protocol.CheckDiskEncryption)); f.State != protocol.CheckUnknown {
		t.Fatalf("container root must be unknown, never a warning: %+v", f)
	}
}

// A probe that hangs is cut at its timeout and says "couldn't check".
func TestProbeTimeoutIsUnknown(t *testing.T) {
	env, cmd, _ := testEnv(t)
	cmd.set("chage -l ada", "", 0)
	cmd.block["chage -l ada"] = true
	env.Timeout = 50 * time.Millisecond
	f := Probe(context.Background(), env, policy(protocol.CheckPasswordExpiry))
	if f.State != protocol.CheckUnknown || !strings.Contains(f.Summary, "couldn't check") {
		t.Fatalf("hung probe: %+v", f)
	}
}

func policy(k protocol.CheckKind) protocol.CheckPolicy {
	return withDefaults(protocol.DefaultCheckPolicy(k))
}

// apt-get -s runs again only when APT's state changed (apt update, a
// package installed): a round otherwise costs a few stat calls.
func TestUpdatesAptAnswerKeptUntilStateChanges(t *testing.T) {
	env, cmd, _ := testEnv(t)
	const apt = "apt-get -s -o Debug::NoLocking=true upgrade"
	cmd.set(apt, fixture(t, "apt-get-s-upgrade.txt"), 0)
	if err := os.MkdirAll(env.path("/var/lib/apt/lists"), 0o755); err != nil {
		t.Fatal(err)
	}
	status := env.path("/var/lib/dpkg/status")
	writeFile(t, status, "Package: libc6\n")
	runs := func() int {
		n := 0
		for _, l := range cmd.ran {
			if l == apt {
				n++
			}
		}
		return n
	}
	for range 3 {
		if f := Probe(context.Background(), env, policy(protocol.CheckOSUpdates)); f.Evidence["updates"] != "3" {
			t.Fatalf("updates %+v", f)
		}
	}
	if runs() != 1 {
		t.Fatalf("apt-get ran %d times for an unchanged APT state; want 1", runs())
	}
	cmd.set(apt, fixture(t, "apt-get-s-upgrade-none.txt"), 0)
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(status, later, later); err != nil {
		t.Fatal(err)
	}
	if f := Probe(context.Background(), env, policy(protocol.CheckOSUpdates)); f.Evidence["updates"] != "0" || runs() != 2 {
		t.Fatalf("after dpkg changed: %+v, %d runs", f, runs())
	}
}

// The kept apt answer survives a restart of the agent (sign-in), through
// the saved state.
func TestAptAnswerSurvivesRestart(t *testing.T) {
	env, cmd, _ := testEnv(t)
	const apt = "apt-get -s -o Debug::NoLocking=true upgrade"
	cmd.set(apt, fixture(t, "apt-get-s-upgrade.txt"), 0)
	if err := os.MkdirAll(env.path("/var/lib/apt/lists"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, env.path("/var/lib/dpkg/status"), "Package: libc6\n")
	st := &memState{}
	pol := protocol.ChecksPolicy{Checks: []protocol.CheckPolicy{{Kind: protocol.CheckOSUpdates, Enabled: true, UpdatesDays: 7}}}
	for range 2 {
		e := *env
		e.memo = nil // a new process
		r := NewRunner(Config{Env: e, State: st})
		r.SetPolicy(pol)
		if err := r.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		res := r.Round(context.Background())
		if res[0].Summary != "3 updates are ready to install when you have a moment." {
			t.Fatalf("summary %q", res[0].Summary)
		}
	}
	n := 0
	for _, l := range cmd.ran {
		if l == apt {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("apt-get ran %d times across a restart with APT unchanged; want 1", n)
	}
}
