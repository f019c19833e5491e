package userinstall

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskside/deskside/installer/enrollconf"
)

func TestInstallUninstall(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	bin := filepath.Join(t.TempDir(), "deskside-agent")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
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
	if err := Install(l, bin, &cfg); err != nil {
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
	if st, err := os.Stat(l.Bin); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("binary: %v %v", st, err)
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
