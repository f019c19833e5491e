//go:build !linux && !darwin && !windows

package sysinfo

import "errors"

func hardwareModel() (string, error) { return "", errors.New("not available on this platform") }
