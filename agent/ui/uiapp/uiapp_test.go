package uiapp

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func fakeApp(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, exeName())
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func place(t *testing.T, agentDir string, path string) {
	t.Helper()
	oldExe, oldLook := executable, lookPath
	t.Cleanup(func() { executable, lookPath = oldExe, oldLook })
	executable = func() (string, error) { return filepath.Join(agentDir, "deskside-agent"), nil }
	lookPath = func(name string) (string, error) {
		p := filepath.Join(path, name)
		if isExecutable(p) {
			return p, nil
		}
		return "", errors.New("not found")
	}
}

func TestFindNextToTheAgentFirst(t *testing.T) {
	agentDir, pathDir := t.TempDir(), t.TempDir()
	want := fakeApp(t, agentDir)
	fakeApp(t, pathDir)
	place(t, agentDir, pathDir)
	if got, err := Find(); err != nil || got != want {
		t.Fatalf("Find() = %q, %v; want %q", got, err, want)
	}
}

func TestFindOnPath(t *testing.T) {
	agentDir, pathDir := t.TempDir(), t.TempDir()
	want := fakeApp(t, pathDir)
	place(t, agentDir, pathDir)
	if got, err := Find(); err != nil || got != want {
		t.Fatalf("Find() = %q, %v; want %q", got, err, want)
	}
}

func TestFindSkipsANonExecutableFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no execute bit on Windows")
	}
	agentDir, pathDir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(agentDir, exeName()), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	want := fakeApp(t, pathDir)
	place(t, agentDir, pathDir)
	if got, err := Find(); err != nil || got != want {
		t.Fatalf("Find() = %q, %v; want %q", got, err, want)
	}
}

func TestNotInstalledSaysSoWarmly(t *testing.T) {
	place(t, t.TempDir(), t.TempDir())
	_, err := Find()
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Find() err = %v; want ErrNotInstalled", err)
	}
	var ue interface{ UserMessage() string }
	if !errors.As(err, &ue) || ue.UserMessage() != "The Deskside window app isn't installed next to the agent — please tell IT." {
		t.Fatalf("user message = %v", err)
	}
	if _, err := Command("about"); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Command err = %v", err)
	}
}

func TestCommandPassesViewAndArgs(t *testing.T) {
	agentDir := t.TempDir()
	app := fakeApp(t, agentDir)
	place(t, agentDir, t.TempDir())
	cmd, err := Command("requests", "--request", "r1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{app, "requests", "--request", "r1"}
	if len(cmd.Args) != len(want) {
		t.Fatalf("args = %q; want %q", cmd.Args, want)
	}
	for i := range want {
		if cmd.Args[i] != want[i] {
			t.Fatalf("args = %q; want %q", cmd.Args, want)
		}
	}
}
