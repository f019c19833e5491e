package gen

import (
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from golden:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	const bin = "/usr/bin/deskside-agent"
	const uiBin = "/usr/bin/deskside-ui"
	const userBin = "/home/Ann Lee/.local/bin/deskside-agent"
	const userUIBin = "/home/Ann Lee/.local/bin/deskside-ui"
	for name, got := range map[string][]byte{
		"deskside.desktop":            DesktopEntry(uiBin),
		"deskside-agent.desktop":      AutostartEntry(bin),
		"user-deskside.desktop":       DesktopEntry(userUIBin),
		"user-deskside-agent.desktop": AutostartEntry(userBin),
		"deskside-agent.service":      SystemdUserUnit(bin),
		"com.deskside.agent.plist":    LaunchdPlist("/Applications/Deskside.app/Contents/MacOS/deskside-agent"),
		"Info.plist":                  InfoPlist("1.2.3-beta.1"),
		"postinstall.sh":              PostInstall(),
		"postremove.sh":               PostRemove(),
		"deskside.svg":                Icon(),
		"deskside.wxs": WXS{Version: "1.2.3-beta.1", AgentExe: `build/windows-amd64/deskside-agent.exe`, SetupExe: `build/windows-amd64/deskside-setup.exe`,
			Server: "https://help.example.com", Token: "dsk1_Abcdefghijklmnop0123"}.Render(),
		"deskside-gui.wxs": WXS{Version: "1.2.3", AgentExe: "deskside-agent.exe", SetupExe: "deskside-setup.exe", UIExe: "deskside-ui.exe",
			Server: "https://help.example.com", Token: "dsk1_Abcdefghijklmnop0123",
			UpdateKey: "RWQyzZV8AvkIcyeApn4Fg5MJpJH3qt+kuk/ke8aM3QdE6rkuu3hVhjLg"}.Render(),
		"deskside-noenrol.wxs": WXS{Version: "0.1.0-dev", AgentExe: "a.exe", SetupExe: "s.exe"}.Render(),
	} {
		t.Run(name, func(t *testing.T) { golden(t, name, got) })
	}
}

func TestExecArg(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/x":  "/usr/bin/x",
		"/home/a b/x": `"/home/a b/x"`,
		`/h/$x"y`:     `"/h/\\$x\\"y"`,
		"/h/100%":     "/h/100%%",
	} {
		if got := execArg(in); got != want {
			t.Errorf("execArg(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNumericVersion(t *testing.T) {
	for in, want := range map[string]string{"1.2.3": "1.2.3", "v1.2.3-rc.1+g": "1.2.3", "0.1.0-dev": "0.1.0", "dev": "0.0.0", "1.x.3": "0.0.0"} {
		if got := NumericVersion(in); got != want {
			t.Errorf("NumericVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWellFormed parses the XML outputs, and checks the unit with
// systemd-analyze when it is installed.
func TestWellFormed(t *testing.T) {
	for name, b := range map[string][]byte{
		"launchd": LaunchdPlist("/A & B/x"), "Info.plist": InfoPlist("1.0.0"),
		"wxs": WXS{Version: "1.0.0", AgentExe: "a&b.exe", SetupExe: "s.exe", UIExe: "u<i>.exe", Server: `https://x/"q"`, Token: "dsk1_<x>", UpdateKey: "<k>"}.Render(),
	} {
		d := xml.NewDecoder(strings.NewReader(string(b)))
		d.Strict = true
		for {
			_, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Errorf("%s is not well-formed XML: %v", name, err)
				break
			}
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		return
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "deskside-agent.service")
	if err := os.WriteFile(unit, SystemdUserUnit("/bin/true"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("systemd-analyze", "verify", "--user", unit)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+dir) // none in CI
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "deskside-agent.service") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	} else if err != nil {
		t.Logf("systemd-analyze could not run here: %s", out)
	}
}
