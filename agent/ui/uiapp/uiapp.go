// Package uiapp finds and starts Deskside's window app, the separate
// `deskside-ui` program (agent/cmd/deskside-ui) that draws the fyne windows.
// The agent process (`deskside-agent run`, up all day) and its tray only ever start
// it: they must not link fyne or GL, so this package imports neither.
package uiapp

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Views names the windows the window app can open.
var Views = []string{"get-help", "requests", "what-it-sees", "news", "about", "help-articles", "heads-up",
	"software", "software-prompt"}

// BaseName is the window app's program name, without the ".exe" Windows adds.
const BaseName = "deskside-ui"

// ErrNotInstalled means the window app is neither next to the agent nor on
// $PATH. Its message is for the employee.
var ErrNotInstalled error = notInstalled{}

type notInstalled struct{}

func (notInstalled) Error() string {
	return "the window app (" + exeName() + ") is not next to the agent nor on $PATH"
}

// UserMessage is what the employee reads.
func (notInstalled) UserMessage() string {
	return "The Deskside window app isn't installed next to the agent — please tell IT."
}

func exeName() string {
	if runtime.GOOS == "windows" {
		return BaseName + ".exe"
	}
	return BaseName
}

// executable and lookPath are variables so tests can place the agent.
var (
	executable = os.Executable
	lookPath   = exec.LookPath
)

// Find returns the path of the window app: next to the running executable
// first (where the installer puts it, and so the agent and its windows come
// from the same release), then on $PATH; otherwise ErrNotInstalled.
func Find() (string, error) {
	if exe, err := executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		p := filepath.Join(filepath.Dir(exe), exeName())
		if isExecutable(p) {
			return p, nil
		}
	}
	if p, err := lookPath(exeName()); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		return p, nil
	}
	return "", ErrNotInstalled
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	return runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0
}

// Command returns the command that opens view with args (e.g. "--request",
// id) in a new window process, with this process's environment.
func Command(view string, args ...string) (*exec.Cmd, error) {
	p, err := Find()
	if err != nil {
		return nil, err
	}
	return exec.Command(p, append([]string{view}, args...)...), nil
}

// IsView reports whether name is one of Views.
func IsView(name string) bool {
	for _, v := range Views {
		if v == name {
			return true
		}
	}
	return false
}

// cliFor is what to type instead of opening each window.
var cliFor = map[string]string{
	"get-help":      `deskside-agent ask "what you need help with"`,
	"requests":      "deskside-agent requests",
	"what-it-sees":  "deskside-agent snapshot",
	"news":          "deskside-agent status",
	"about":         "deskside-agent version",
	"help-articles": "deskside-agent articles search WORDS",
	"software":      "deskside-agent software",
}

// NoDisplay is the error of a window asked for where there is no screen to
// draw it on (an SSH session, a server): one sentence, with the command
// that does the same in the terminal.
type NoDisplay struct{ View string }

func (e NoDisplay) Error() string { return e.UserMessage() }

// UserMessage is what the person reads.
func (e NoDisplay) UserMessage() string {
	alt := cliFor[e.View]
	if alt == "" {
		alt = "deskside-agent help"
	}
	return "There's no screen here to open a window on (no DISPLAY or WAYLAND_DISPLAY). In this terminal use: " + alt
}

// CheckDisplay returns NoDisplay when a window for view cannot be shown:
// on Linux and the BSDs, when neither DISPLAY nor WAYLAND_DISPLAY is set.
// Checked before fyne starts, which would otherwise fail with a GLFW
// stack trace. Windows and macOS always have a desktop for the user.
func CheckDisplay(view string) error {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return nil
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return NoDisplay{View: view}
	}
	return nil
}

// Exec turns the current process into the window app with args (`deskside-agent ui
// <view> …`): the same arguments and environment. Where a process can
// replace itself (Unix) it does, so only one process stays; elsewhere the
// window app runs as a child and its exit status is passed on.
func Exec(args []string) error {
	p, err := Find()
	if err != nil {
		return err
	}
	return execve(p, args)
}

// errExitCode carries a child's exit status.
type errExitCode int

func (e errExitCode) Error() string {
	return fmt.Sprintf("the window app exited with status %d", int(e))
}

// ExitCode is the window app's exit status.
func (e errExitCode) ExitCode() int { return int(e) }

// runChild runs the window app as a child sharing stdio.
func runChild(path string, args []string) error {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return errExitCode(ee.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("start the window app %s: %w", path, err)
	}
	return nil
}
