//go:build windows

package update

import (
	"fmt"
	"os"
	"os/exec"
)

// restartSelf starts exe with the same arguments and exits: Windows has no
// exec, and the running binary was already renamed aside by selfupdate.
func restartSelf(exe string, args []string) error {
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", exe, err)
	}
	os.Exit(0)
	return nil
}
