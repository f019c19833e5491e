package sysinfo

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func hardwareModel() (string, error) {
	m, err := unix.Sysctl("hw.model")
	if err != nil {
		return "", fmt.Errorf("read hw.model: %w", err)
	}
	return m, nil
}
