package tray

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"

	"github.com/deskside/deskside/agent/ui/uiapp"
)

// ExecLauncher starts the window process: the window app (deskside-ui, see
// uiapp.Find) with `<view> [args]`. One window per view and arguments: a
// second click while it is open starts nothing new.
type ExecLauncher struct {
	// Exe is the window app; empty means uiapp.Find at each click, so an
	// app installed after the agent started is found.
	Exe string
	Log *slog.Logger

	mu      sync.Mutex
	running map[string]*os.Process
}

// NewExecLauncher returns a launcher over the window app.
func NewExecLauncher(log *slog.Logger) *ExecLauncher {
	return &ExecLauncher{Log: log, running: map[string]*os.Process{}}
}

// Open implements Launcher.
func (l *ExecLauncher) Open(view string, args ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := strings.Join(append([]string{view}, args...), " ")
	if _, ok := l.running[key]; ok {
		return nil
	}
	exe := l.Exe
	if exe == "" {
		p, err := uiapp.Find()
		if err != nil {
			return err
		}
		exe = p
	}
	if l.running == nil {
		l.running = map[string]*os.Process{}
	}
	cmd := exec.Command(exe, append([]string{view}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the %s window: %w", view, err)
	}
	l.running[key] = cmd.Process
	go func() {
		if err := cmd.Wait(); err != nil && l.Log != nil {
			l.Log.Debug("window process ended", "view", view, "err", err)
		}
		l.mu.Lock()
		delete(l.running, key)
		l.mu.Unlock()
	}()
	return nil
}

// OpenURL implements Launcher with the desktop's own opener.
func (l *ExecLauncher) OpenURL(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open %s: %w", url, err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
