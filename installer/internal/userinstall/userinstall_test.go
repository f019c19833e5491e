package userinstall

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskside/deskside/shared/enrollconf"
)

func TestInstallUninstall(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	src := t.TempDir()
	bin, ui := filepath.Join(src, "deskside-agent"), filepath.Join(src, "deskside-ui")
	for _, p := range []string{bin, ui} {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l, err := UserLayout()
	if err != nil {
		t.Fatal(err)
	}
	if l.Autostart != filepath.Join(home, ".config/autostart/deskside-agent.desktop") || l.Bin != filepath.Join(home, ".local/bin/deskside-agent") {
		t.Fatalf("layout: %+v", l)
	}
	cfg, err := enrollconf.New("https://help.example.com", "dsk1_Abcdefghijklmnop0123", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := Install(l, bin, ui, &cfg); err != nil {
		t.Fatal(err)
	}
	auto, err := os.ReadFile(l.Autostart)
	if err != nil || !strings.Contains(string(auto), "Exec="+l.Bin+" run\n") {
		t.Fatalf("autostart entry: %q %v", auto, err)
	}
	st, err := os.Stat(l.EnrollFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("enrol config: %v %v", st, err)
	}
	for _, p := range []string{l.Bin, l.UIBin} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o755 {
			t.Fatalf("binary: %v %v", st, err)
		}
	}
	// The agent looks for the window app next to itself.
	if filepath.Dir(l.UIBin) != filepath.Dir(l.Bin) {
		t.Errorf("deskside-ui %s is not next to the agent %s", l.UIBin, l.Bin)
	}
	menu, err := os.ReadFile(l.Desktop)
	if err != nil || !strings.Contains(string(menu), "Exec="+l.UIBin+" get-help\n") {
		t.Fatalf("menu entry: %q %v", menu, err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(l.EnrollFile), "device.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Uninstall(l, true); err != nil {
		t.Fatal(err)
	}
	var left []string
	filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Fatalf("left after uninstall: %v", left)
	}
	if err := Uninstall(l, true); err != nil {
		t.Fatalf("second uninstall: %v", err)
	}
}
