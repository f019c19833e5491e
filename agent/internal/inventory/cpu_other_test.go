//go:build !linux && !darwin

package inventory

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
