//go:build linux

package checks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/deskside/deskside/shared/protocol"
)

// probeRestart: Debian's /run/reboot-required (and the packages that asked
// for it), Fedora's `needs-restarting -r` when it is installed, and uptime.
func probeRestart(ctx context.Context, env *Env, p protocol.CheckPolicy) (Finding, error) {
	var reasons []string
	for _, marker := range []string{"/run/reboot-required", "/var/run/reboot-required"} {
		if _, err := os.Stat(env.path(marker)); err == nil {
			reason := "reboot-required"
			if b, err := os.ReadFile(env.path(marker + ".pkgs")); err == nil {
				if pk := strings.Fields(string(b)); len(pk) > 0 {
					reason += " (" + truncate(strings.Join(pk, " "), 200) + ")"
				}
			}
			reasons = append(reasons, reason)
			break
		}
	}
	if len(reasons) == 0 {
		// needs-restarting -r exits 1 when a restart is needed, 0 when
		// not; absent (not Fedora/RHEL) it is simply not a marker.
		if _, err := env.Cmd.Run(ctx, "needs-restarting", "-r"); exitCode(err) == 1 {
			reasons = append(reasons, "needs-restarting")
		}
	}
	up, err := env.Uptime(ctx)
	if err != nil {
		return Finding{}, fmt.Errorf("uptime: %w", err)
	}
	return restartFinding(reasons, up, p), nil
}

// probeUpdates asks the package manager: `apt-get -s upgrade` (a dry run
// that needs no lock), else `dnf check-update` (exit 100: updates).
//
// apt-get -s costs seconds of CPU (it resolves the whole upgrade), so its
// answer is kept until APT's state changes: the package lists (apt update)
// or the installed packages (dpkg's status). A round then costs a few
// stat calls.
func probeUpdates(ctx context.Context, env *Env, _ protocol.CheckPolicy) (Finding, error) {
	key := aptStateKey(env)
	if key != "" {
		if f, ok := env.memo.get("apt", key); ok {
			return f, nil
		}
	}
	out, err := env.Cmd.Run(ctx, "apt-get", "-s", "-o", "Debug::NoLocking=true", "upgrade")
	if err == nil {
		n, perr := parseAptSimulate(string(out))
		if perr != nil {
			return Finding{}, perr
		}
		f := updatesFinding(n, false)
		if key != "" {
			env.memo.put("apt", key, f)
		}
		return f, nil
	}
	aptErr := err
	out, err = env.Cmd.Run(ctx, "dnf", "check-update", "-q")
	switch exitCode(err) {
	case 0:
		return updatesFinding(0, false), nil
	case 100:
		return updatesFinding(parseDnfCheckUpdate(string(out)), false), nil
	}
	return Finding{}, fmt.Errorf("no package manager answered (apt-get: %v; dnf: %v)", aptErr, err)
}

// probePassword reads the signed-in user's expiry with `chage -l`.
func probePassword(ctx context.Context, env *Env, p protocol.CheckPolicy) (Finding, error) {
	if env.User == "" {
		return Finding{}, errors.New("no signed-in user")
	}
	out, err := env.Cmd.Run(ctx, "chage", "-l", env.User)
	if err != nil {
		return Finding{}, err
	}
	exp, never, err := parseChage(string(out))
	if err != nil {
		return Finding{}, err
	}
	return passwordFinding(env.Now(), exp, never, p), nil
}

// probeBattery compares energy_full (or charge_full) with its design
// value for each battery under /sys/class/power_supply.
func probeBattery(_ context.Context, env *Env, p protocol.CheckPolicy) (Finding, error) {
	dirs, _ := filepath.Glob(env.path("/sys/class/power_supply/BAT*"))
	full, design := 0, 0
	for _, d := range dirs {
		for _, pair := range [][2]string{{"energy_full", "energy_full_design"}, {"charge_full", "charge_full_design"}} {
			f, ferr := readInt(filepath.Join(d, pair[0]))
			g, gerr := readInt(filepath.Join(d, pair[1]))
			if ferr == nil && gerr == nil && g > 0 {
				full, design = full+f, design+g
				break
			}
		}
	}
	if len(dirs) == 0 {
		return noBattery(), nil
	}
	if design == 0 {
		return Finding{}, errors.New("the battery does not report its design capacity")
	}
	return batteryFinding(full, design, p), nil
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// probeEncryption finds the device under / (mountinfo's major:minor) and
// walks its device-mapper ancestry in sysfs: any dm device whose uuid
// starts with CRYPT- (LUKS or plain dm-crypt) means / is encrypted.
func probeEncryption(_ context.Context, env *Env, _ protocol.CheckPolicy) (Finding, error) {
	b, err := os.ReadFile(env.path("/proc/self/mountinfo"))
	if err != nil {
		return Finding{}, fmt.Errorf("read mountinfo: %w", err)
	}
	devno := ""
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == "/" {
			devno = f[2] // the last mount on / wins
		}
	}
	if devno == "" || strings.HasPrefix(devno, "0:") {
		return Finding{}, fmt.Errorf("/ is not on a block device (%q): a container or network root", devno)
	}
	dev, err := filepath.EvalSymlinks(env.path("/sys/dev/block/" + devno))
	if err != nil {
		return Finding{}, fmt.Errorf("find the device of /: %w", err)
	}
	name, how := filepath.Base(dev), ""
	if isCrypt(env, name, 0, &how) {
		return encryptionFinding(true, how), nil
	}
	return encryptionFinding(false, name), nil
}

// isCrypt reports whether block device name or one it sits on (its
// "slaves", or the disk a partition belongs to) is a dm-crypt mapping.
func isCrypt(env *Env, name string, depth int, how *string) bool {
	if depth > 8 {
		return false
	}
	if b, err := os.ReadFile(env.path("/sys/block/" + name + "/dm/uuid")); err == nil && strings.HasPrefix(string(b), "CRYPT-") {
		*how = "dm-crypt (" + strings.SplitN(strings.TrimSpace(string(b)), "-", 3)[1] + ") on " + name
		return true
	}
	slaves, _ := os.ReadDir(env.path("/sys/block/" + name + "/slaves"))
	for _, s := range slaves {
		if isCrypt(env, s.Name(), depth+1, how) {
			return true
		}
	}
	return false
}

// exitCode returns the exit status carried by err, or -1.
func exitCode(err error) int {
	var ee interface{ ExitCode() int }
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// path joins Root and an absolute path.
func (e *Env) path(p string) string { return filepath.Join(e.Root, filepath.FromSlash(p)) }

// aptStateKey names APT's state by the times and sizes of what apt update
// and dpkg change ("" when this is not an APT system).
func aptStateKey(env *Env) string {
	var b strings.Builder
	for _, p := range []string{"/var/lib/apt/lists", "/var/lib/dpkg/status", "/var/cache/apt/pkgcache.bin"} {
		fi, err := os.Stat(env.path(p))
		if err != nil {
			if p == "/var/cache/apt/pkgcache.bin" {
				continue
			}
			return ""
		}
		fmt.Fprintf(&b, "%s:%d:%d;", p, fi.ModTime().UnixNano(), fi.Size())
	}
	return b.String()
}
