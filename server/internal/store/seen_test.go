package store

import (
	"context"
	"testing"
	"time"
)

func TestDevicesSeen(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t, t.TempDir())
	enroll(t, s, map[string]string{"a": "linux", "b": "windows"})
	at := time.Now().UTC().Truncate(time.Millisecond)
	err := s.DevicesSeen(ctx, []Device{
		{ID: "a", AgentVersion: "1.2.0", OS: "darwin", Arch: "arm64", LastSeen: at},
		{ID: "b", LastSeen: at.Add(time.Second)}, // empty fields keep the stored values
		{ID: "unknown", AgentVersion: "9", LastSeen: at},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Device(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if a.AgentVersion != "1.2.0" || a.OS != "darwin" || a.Arch != "arm64" || !a.LastSeen.Equal(at) {
		t.Fatalf("a = %+v", a)
	}
	b, err := s.Device(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if b.OS != "windows" || !b.LastSeen.Equal(at.Add(time.Second)) {
		t.Fatalf("b = %+v", b)
	}
	if err := s.DevicesSeen(ctx, nil); err != nil {
		t.Fatal(err)
	}
}
