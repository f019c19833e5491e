//go:build linux || darwin || freebsd || netbsd || openbsd

package update

import (
	"fmt"
	"os"
	"syscall"
)

// restartSelf replaces this process with exe: same pid, same arguments and
// environment, so a service manager or login item sees no exit.
func restartSelf(exe string, args []string) error {
	argv := append([]string{exe}, args...)
	if err := syscall.Exec(exe, argv, os.Environ()); err != nil {
		return fmt.Errorf("exec %s: %w", exe, err)
	}
	return nil // not reached
}
