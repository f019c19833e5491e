package sysinfo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBatteryFromSysfs(t *testing.T) {
	dir := t.TempDir()
	write := func(dev, f, v string) {
		_ = os.MkdirAll(filepath.Join(dir, dev), 0o755)
		if err := os.WriteFile(filepath.Join(dir, dev, f), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("AC", "type", "Mains")
	if b, err := batteryFrom(dir); b != nil || err != nil {
		t.Fatalf("desktop: %+v, %v", b, err)
	}
	write("BAT0", "type", "Battery")
	write("BAT0", "capacity", "81")
	write("BAT0", "status", "Charging")
	b, err := batteryFrom(dir)
	if err != nil || b == nil || b.Percent != 81 || !b.Charging || b.State != "charging" {
		t.Fatalf("laptop: %+v, %v", b, err)
	}
}
