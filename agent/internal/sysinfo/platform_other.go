//go:build !linux

package sysinfo

import (
	"context"
	"errors"

	"github.com/shirou/gopsutil/v4/mem"

	"github.com/deskside/deskside/shared/protocol"
)

func snapMem(ctx context.Context, t *protocol.Telemetry) {
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		t.MemPct = round1(vm.UsedPercent)
	}
}

// readBattery is not implemented here yet.
func readBattery() (*protocol.Battery, error) {
	return nil, errors.New("not available on this platform")
}
