//go:build !(linux || darwin || freebsd || netbsd || openbsd || windows)

package update

func restartSelf(string, []string) error { return ErrUnsupported }
