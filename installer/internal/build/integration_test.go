package build

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/installer/internal/gen"
	"github.com/deskside/deskside/shared/enrollconf"
)

// TestDebInstallPurge installs the .deb on this machine, checks what it put
// in place, that the agent finds the enrolment config and its window app,
// then purges it and checks that nothing is left. It needs root and dpkg (CI has both) and
// is skipped elsewhere; DESKSIDE_SKIP_INSTALL_TEST=1 skips it too.
func TestDebInstallPurge(t *testing.T) {
	switch {
	case os.Geteuid() != 0:
		t.Skip("not root: the .deb is not installed")
	case !have("dpkg"):
		t.Skip("dpkg not available")
	case os.Getenv("DESKSIDE_SKIP_INSTALL_TEST") != "":
		t.Skip("DESKSIDE_SKIP_INSTALL_TEST set")
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", PackageName).Output(); err == nil && strings.Contains(string(out), "installed") {
		t.Skipf("%s is already installed here (%s): not touching it", PackageName, out)
	}
	for _, p := range []string{LinuxBin, LinuxUIBin, "/etc/deskside"} {
		if _, err := os.Stat(p); err == nil {
			t.Skipf("%s exists but the package is not installed: not touching it", p)
		}
	}
	cfg := testEnroll(t)
	deb := filepath.Join(buildLinux(t, cfg), debName)
	t.Cleanup(func() { dpkg(t, "-P", PackageName) }) // no-op after a successful purge

	// Every path the package holds, and whether it existed before: after the
	// purge, what did not exist must be gone again (directories included).
	existed := map[string]bool{}
	for _, line := range strings.Split(run(t, "dpkg-deb", "-c", deb), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		p := strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/")
		if p == "" {
			continue
		}
		_, err := os.Lstat(p)
		existed[p] = err == nil
	}

	dpkg(t, "-i", deb)
	for p, mode := range map[string]fs.FileMode{
		LinuxBin: 0o755, LinuxUIBin: 0o755, LinuxDesktop: 0o644, LinuxAutostart: 0o644, LinuxUnit: 0o644, LinuxIcon: 0o644,
		"/etc/deskside/enroll.json": EnrollFileMode,
	} {
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("after install: %v", err)
		} else if st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), mode)
		}
	}
	if b, _ := os.ReadFile(LinuxAutostart); string(b) != string(gen.AutostartEntry(LinuxBin)) {
		t.Errorf("installed autostart entry:\n%s", b)
	}
	if b, _ := os.ReadFile(LinuxDesktop); string(b) != string(gen.DesktopEntry(LinuxUIBin)) {
		t.Errorf("installed menu entry:\n%s", b)
	}
	if got, err := enrollconf.Load("/etc/deskside/enroll.json"); err != nil || got != *cfg {
		t.Errorf("installed enrolment config: %+v %v", got, err)
	}
	checkAgentSeesConfig(t, cfg)
	// `deskside-agent ui about` and the tray would start this window app:
	// the agent's own lookup (next to its executable) finds it, with
	// nothing on $PATH to help; and every library it links is there.
	if got := whichUI(t, LinuxBin, os.Environ()); got != LinuxUIBin {
		t.Errorf("the installed agent finds its window app at %q, want %s", got, LinuxUIBin)
	}
	if have("ldd") {
		if out, _ := exec.Command("ldd", LinuxUIBin).CombinedOutput(); strings.Contains(string(out), "not found") {
			t.Errorf("the installed window app lacks libraries (missing from Depends?):\n%s", out)
		}
	}

	// remove keeps conffiles (dpkg policy); purge removes everything.
	dpkg(t, "-r", PackageName)
	for _, p := range []string{LinuxBin, LinuxUIBin} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left after dpkg -r", p)
		}
	}
	dpkg(t, "-P", PackageName)
	for _, p := range []string{LinuxBin, LinuxUIBin, LinuxDesktop, LinuxAutostart, LinuxUnit, LinuxIcon, "/etc/deskside"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left after dpkg -P (%v)", p, err)
		}
	}
	for p, was := range existed {
		if _, err := os.Lstat(p); !was && err == nil {
			t.Errorf("%s did not exist before the install and is left after dpkg -P", p)
		}
	}
	if len(existed) < 6 {
		t.Errorf("could not read the package's paths: %v", existed)
	}
	if out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", PackageName).CombinedOutput(); strings.Contains(string(out), "installed") {
		t.Errorf("dpkg still knows the package: %s", out)
	}
}

// checkAgentSeesConfig asks the installed agent which enrolment config it
// would use, as a fresh user with no config of their own would:
// `deskside-agent enrol --dry-run` checks the file as enrolment would
// (server, token, update key) without contacting the server.
func checkAgentSeesConfig(t *testing.T, cfg *enrollconf.Config) {
	home := t.TempDir()
	cmd := exec.Command(LinuxBin, "enrol", "--dry-run")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"DESKSIDE_CONFIG_DIR="+filepath.Join(home, ".config", "deskside"), enrollconf.EnvFile+"=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("deskside-agent enrol --dry-run: %v\n%s", err, out)
	}
	want := []string{"enrol config: /etc/deskside/enroll.json\n", "server: " + cfg.Server + "\n", "token: ok\n"}
	if agentPackageForTests(t) == AgentPkg {
		want = append(want, "update key: yes\n", "valid: yes")
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("enrol --dry-run lacks %q:\n%s", w, out)
		}
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "deskside", "credentials.json")); err == nil {
		t.Error("enrol --dry-run enrolled")
	}
}

// dpkg runs dpkg, waiting while another process holds its lock.
func dpkg(t *testing.T, args ...string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := exec.Command("dpkg", args...).CombinedOutput()
		if err == nil {
			return
		}
		if strings.Contains(string(out), "lock") && time.Now().Before(deadline) {
			time.Sleep(2 * time.Second)
			continue
		}
		t.Fatalf("dpkg %v: %v\n%s", args, err, out)
	}
}
