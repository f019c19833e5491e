package devicelink

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/deskside/deskside/server/internal/store"
)

// seenInterval is how often hellos are written to the store.
const seenInterval = 500 * time.Millisecond

// devicesSeener is a store that records many hellos in one transaction.
// Only ID, AgentVersion, OS, Arch and LastSeen of each device are used.
type devicesSeener interface {
	DevicesSeen(ctx context.Context, seen []store.Device) error
}

// seen coalesces what devices say in hello (last seen, agent version, OS,
// arch) in memory and writes it every seenInterval, and on Close. Before,
// every handshake waited for its own durable commit on the single store
// writer, which capped a reconnect storm's handshakes/s. Nothing needs it
// durable before the welcome: the console's device list and device page
// read the pending values from here (overlay), and losing them to a crash
// only leaves last_seen at the previous connect until the next hello.
// Rollout reads agent versions from its own table, fed at hello.
type seen struct {
	st  store.Store
	log *slog.Logger

	mu       sync.Mutex
	pending  map[string]store.Device
	flushing map[string]store.Device

	flushMu sync.Mutex
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func newSeen(st store.Store, log *slog.Logger, every time.Duration) *seen {
	s := &seen{st: st, log: log, pending: map[string]store.Device{}, stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop(every)
	return s
}

// Add records a hello; empty fields keep the stored value.
func (s *seen) Add(id, agentVersion, os, arch string, at time.Time) {
	s.mu.Lock()
	s.pending[id] = store.Device{ID: id, AgentVersion: agentVersion, OS: os, Arch: arch, LastSeen: at}
	s.mu.Unlock()
}

// Overlay returns d with a hello not yet in the store applied.
func (s *seen) Overlay(d store.Device) store.Device {
	s.mu.Lock()
	h, ok := s.pending[d.ID]
	if !ok {
		h, ok = s.flushing[d.ID]
	}
	s.mu.Unlock()
	if !ok || h.LastSeen.Before(d.LastSeen) {
		return d
	}
	d.LastSeen = h.LastSeen
	d.AgentVersion = cmp.Or(h.AgentVersion, d.AgentVersion)
	d.OS = cmp.Or(h.OS, d.OS)
	d.Arch = cmp.Or(h.Arch, d.Arch)
	return d
}

// Flush writes every pending hello, in one transaction when the store can.
// On failure the hellos go back to pending (unless a newer one came).
func (s *seen) Flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	batch := s.pending
	if len(batch) == 0 {
		s.mu.Unlock()
		return nil
	}
	s.pending, s.flushing = map[string]store.Device{}, batch
	s.mu.Unlock()

	err := s.write(ctx, batch)

	s.mu.Lock()
	s.flushing = nil
	if err != nil {
		for id, d := range batch {
			if _, newer := s.pending[id]; !newer {
				s.pending[id] = d
			}
		}
	}
	s.mu.Unlock()
	return err
}

func (s *seen) write(ctx context.Context, batch map[string]store.Device) error {
	if b, ok := s.st.(devicesSeener); ok {
		all := make([]store.Device, 0, len(batch))
		for _, d := range batch {
			all = append(all, d)
		}
		return b.DevicesSeen(ctx, all)
	}
	// A store without the batch call: one statement per device, still off
	// the handshake path.
	var first error
	for _, d := range batch {
		if err := s.st.DeviceSeen(ctx, d.ID, d.AgentVersion, d.OS, d.Arch, d.LastSeen); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *seen) loop(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		if err := s.Flush(ctx); err != nil {
			s.log.Error("record devices seen", "err", err)
		}
		cancel()
	}
}

// Close stops the ticker and writes what is pending. Safe to call twice.
func (s *seen) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		<-s.done
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		err = s.Flush(ctx)
	})
	return err
}
