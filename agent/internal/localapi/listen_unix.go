//go:build !windows

package localapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// DefaultSocketPath is where the agent listens: $DESKSIDE_SOCKET, else
// $XDG_RUNTIME_DIR/deskside/agent.sock, else a 0700 "run" dir under the
// user's config dir.
func DefaultSocketPath() (string, error) {
	if p := os.Getenv("DESKSIDE_SOCKET"); p != "" {
		return p, nil
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "deskside", "agent.sock"), nil
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find socket dir: %w", err)
	}
	return filepath.Join(cfg, "deskside", "run", "agent.sock"), nil
}

// Listen opens the socket at path, readable only by this user: the dir is
// 0700 and the socket 0600. A stale socket left by a killed agent is removed;
// a live one (another agent answering) is an error.
func Listen(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make socket dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secure socket dir: %w", err)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("another Deskside agent is already running (socket %s)", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	old := syscall.Umask(0o177)
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("secure socket: %w", err)
	}
	return l, nil
}

func dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", path)
}
