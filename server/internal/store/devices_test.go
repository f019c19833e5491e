package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func testDevices(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"Alpha": "Linux", "beta": "windows", "50%off": "darwin"})
	if err := s.DeviceSeen(ctx, "beta", "1.2.3", "", "arm64", time.UnixMilli(1700000000000)); err != nil {
		t.Fatal(err)
	}
	d, err := s.Device(ctx, "beta")
	if err != nil || d.AgentVersion != "1.2.3" || d.OS != "windows" || d.Arch != "arm64" || d.LastSeen.UnixMilli() != 1700000000000 || string(d.SecretHash) != "beta" {
		t.Fatalf("after hello: %+v %v", d, err)
	}
	for q, want := range map[string]int{"": 3, "ALPHA": 1, "linux": 1, "%": 1, "_": 0, "a": 3} {
		ds, err := s.ListDevices(ctx, q)
		if err != nil || len(ds) != want {
			t.Errorf("search %q: %d devices %v, want %d", q, len(ds), err, want)
		}
	}
	if err := s.RevokeDevice(ctx, "beta"); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Device(ctx, "beta"); err != nil || !d.Revoked {
		t.Fatalf("revoked: %+v %v", d, err)
	}
	if err := s.RevokeDevice(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if snap, err := s.DeviceSnapshot(ctx, "Alpha"); err != nil || snap != nil {
		t.Fatalf("no snapshot yet: %s %v", snap, err)
	}
	if res, err := s.SaveSnapshot(ctx, "f1", "Alpha", []byte(`{"cpu":1}`)); err != nil || res.Duplicate {
		t.Fatalf("save snapshot: %+v %v", res, err)
	}
	if res, err := s.SaveSnapshot(ctx, "f1", "Alpha", []byte(`{"cpu":2}`)); err != nil || !res.Duplicate {
		t.Fatalf("same frame again: %+v %v", res, err)
	}
	if snap, err := s.DeviceSnapshot(ctx, "Alpha"); err != nil || string(snap) != `{"cpu":1}` {
		t.Fatalf("snapshot: %s %v", snap, err)
	}
	if _, err := s.DeviceSnapshot(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("snapshot of unknown: %v", err)
	}
}
