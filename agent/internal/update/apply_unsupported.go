//go:build !(linux || darwin || windows || freebsd || netbsd || openbsd)

package update

func canApply(string) error { return ErrUnsupported }

func replaceBinary(string, string, []byte, string) error { return ErrUnsupported }
