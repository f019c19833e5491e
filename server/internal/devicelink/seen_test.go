package devicelink

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store"
)

// seenRecorder is a store that records DeviceSeen calls (one per device).
type seenRecorder struct {
	store.Store
	mu    sync.Mutex
	calls []store.Device
	fail  error
}

func (r *seenRecorder) DeviceSeen(_ context.Context, id, agentVersion, os, arch string, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.calls = append(r.calls, store.Device{ID: id, AgentVersion: agentVersion, OS: os, Arch: arch, LastSeen: at})
	return nil
}

func (r *seenRecorder) Calls() []store.Device {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]store.Device(nil), r.calls...)
}

// batchSeenRecorder also has the one-transaction call.
type batchSeenRecorder struct {
	seenRecorder
	batches [][]store.Device
}

func (r *batchSeenRecorder) DevicesSeen(_ context.Context, seen []store.Device) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, seen)
	return r.fail
}

// Hellos are kept per device (latest wins), written in one batch when the
// store can, and read back from memory until then.
func TestSeenCoalesce(t *testing.T) {
	st := &batchSeenRecorder{}
	s := newSeen(st, slog.New(slog.DiscardHandler), time.Hour)
	defer s.Close()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for dev := range 1000 {
		s.Add(strconv.Itoa(dev), "1.0.0", "linux", "amd64", t0)
	}
	s.Add("42", "1.1.0", "", "", t0.Add(time.Second))

	stored := store.Device{ID: "42", AgentVersion: "0.9.0", OS: "windows", Arch: "arm64", LastSeen: t0.Add(-time.Hour)}
	got := s.Overlay(stored)
	if got.AgentVersion != "1.1.0" || got.OS != "windows" || got.Arch != "arm64" || !got.LastSeen.Equal(t0.Add(time.Second)) {
		t.Fatalf("overlay = %+v: want the pending version and time, the stored OS and arch (empty in hello)", got)
	}
	if got := s.Overlay(store.Device{ID: "other", AgentVersion: "2"}); got.AgentVersion != "2" {
		t.Fatalf("overlay changed a device with no pending hello: %+v", got)
	}

	st.fail = errors.New("disk full")
	if err := s.Flush(context.Background()); err == nil {
		t.Fatal("flush hid the store error")
	}
	st.fail = nil
	if got := s.Overlay(stored); got.AgentVersion != "1.1.0" {
		t.Fatal("a failed flush lost the pending hello")
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(st.batches) != 2 || len(st.batches[1]) != 1000 {
		t.Fatalf("store batches: %d, last has %d devices; want 2, 1000", len(st.batches), len(st.batches[len(st.batches)-1]))
	}
	if len(st.Calls()) != 0 {
		t.Fatal("DeviceSeen was called although the store writes batches")
	}
	if got := s.Overlay(stored); got.AgentVersion != "0.9.0" {
		t.Fatal("a written hello is still overlaid")
	}
	if err := s.Flush(context.Background()); err != nil || len(st.batches) != 2 {
		t.Fatalf("an empty flush wrote: %v", err)
	}
}

// A store without the batch call gets one DeviceSeen per device; the
// ticker writes without being asked, and Close writes the rest (twice is
// safe).
func TestSeenTickAndClose(t *testing.T) {
	st := &seenRecorder{}
	s := newSeen(st, slog.New(slog.DiscardHandler), 10*time.Millisecond)
	s.Add("a", "1.0.0", "linux", "amd64", time.Now())
	for end := time.Now().Add(5 * time.Second); len(st.Calls()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the ticker did not write the pending hello")
		}
	}
	s2 := newSeen(st, slog.New(slog.DiscardHandler), time.Hour)
	s2.Add("b", "1.0.0", "darwin", "arm64", time.Now())
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	calls := st.Calls()
	if len(calls) != 2 || calls[0].ID != "a" || calls[1].ID != "b" || calls[1].OS != "darwin" {
		t.Fatalf("calls = %+v", calls)
	}
}
