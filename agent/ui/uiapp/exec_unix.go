//go:build unix

package uiapp

import (
	"os"
	"syscall"
)

func execve(path string, args []string) error {
	argv := append([]string{path}, args...)
	if err := syscall.Exec(path, argv, os.Environ()); err != nil {
		// Where exec in place is refused, run it as a child instead.
		return runChild(path, args)
	}
	return nil
}
