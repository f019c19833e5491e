package sysinfo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v4/mem"

	"github.com/deskside/deskside/shared/protocol"
)

func snapMem(ctx context.Context, t *protocol.Telemetry) {
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		t.MemPct = round1(vm.UsedPercent)
	}
}

// hardwareModel reads the DMI product name (readable without root).
func hardwareModel() (string, error) {
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join("/sys/class/dmi/id", f))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	vendor, product := read("sys_vendor"), read("product_name")
	if product == "" {
		if b, err := os.ReadFile("/proc/device-tree/model"); err == nil {
			return strings.TrimRight(string(b), "\x00\n"), nil
		}
		return "", errors.New("hardware model not readable on this machine")
	}
	if vendor != "" && !strings.HasPrefix(product, vendor) {
		return vendor + " " + product, nil
	}
	return product, nil
}

// powerSupplyDir is a variable so tests can point it at a fake tree.
var powerSupplyDir = "/sys/class/power_supply"

// readBattery reads the first battery under /sys/class/power_supply; nil
// (and no problem) when the machine has none.
func readBattery() (*protocol.Battery, error) {
	return batteryFrom(powerSupplyDir)
}

func batteryFrom(dir string) (*protocol.Battery, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read power supplies: %w", err)
	}
	for _, e := range entries {
		read := func(f string) string {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name(), f))
			return strings.TrimSpace(string(b))
		}
		if read("type") != "Battery" || read("present") == "0" {
			continue
		}
		b := &protocol.Battery{State: "unknown"}
		if pct, err := strconv.ParseFloat(read("capacity"), 64); err == nil {
			b.Percent = pct
		}
		switch strings.ToLower(read("status")) {
		case "charging":
			b.State, b.Charging = "charging", true
		case "discharging":
			b.State = "discharging"
		case "full":
			b.State = "full"
		case "not charging":
			b.State = "full"
		}
		return b, nil
	}
	return nil, nil
}
