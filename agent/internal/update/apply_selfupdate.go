//go:build linux || darwin || windows || freebsd || netbsd || openbsd

package update

import (
	"fmt"
	"os"

	"github.com/minio/selfupdate"
)

// canApply checks early that the binary's directory is writable, before
// anything is downloaded.
func canApply(exe string) error {
	opts := selfupdate.Options{TargetPath: exe}
	if err := opts.CheckPermissions(); err != nil {
		return fmt.Errorf("cannot replace %s: %w", exe, err)
	}
	return nil
}

// replaceBinary swaps the staged file in with minio/selfupdate, which checks
// the SHA-256 once more as it reads, writes .<name>.new, renames the current
// binary to oldPath (removed when oldPath is "") and the new one into place,
// and renames back if the last step fails.
func replaceBinary(exe, staged string, sum []byte, oldPath string) error {
	mode := os.FileMode(0o755)
	if fi, err := os.Stat(exe); err == nil {
		mode = fi.Mode().Perm() | 0o100
	}
	f, err := os.Open(staged)
	if err != nil {
		return fmt.Errorf("open staged binary: %w", err)
	}
	defer f.Close()
	err = selfupdate.Apply(f, selfupdate.Options{
		TargetPath:  exe,
		TargetMode:  mode,
		Checksum:    sum,
		OldSavePath: oldPath,
	})
	if rerr := selfupdate.RollbackError(err); rerr != nil {
		return fmt.Errorf("replace binary failed and so did putting the old one back (%v): %w", rerr, err)
	}
	if err != nil {
		return fmt.Errorf("replace binary: %w", err)
	}
	return nil
}
