package devicelink

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/deskside/deskside/server/internal/store"
)

// cursorInterval is how often delivery cursors are applied to the store.
const cursorInterval = 500 * time.Millisecond

// cursors coalesces delivery.cursor frames per device in memory and prunes
// the outboxes in one transaction every cursorInterval. A cursor needs no
// durable commit before its ack: losing a prune only means a reconnecting
// device is offered frames its hello.last_seq already skips. Before, every
// cursor was its own synchronous commit on the single writer, and the
// 19,000 cursors that follow a broadcast queued every other write for
// seconds.
type cursors struct {
	st  store.Store
	log *slog.Logger

	mu       sync.Mutex
	pending  map[string]uint64 // highest seq per device, not yet flushing
	flushing map[string]uint64 // being written by the current flush

	flushMu sync.Mutex // one flush at a time
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func newCursors(st store.Store, log *slog.Logger, every time.Duration) *cursors {
	c := &cursors{st: st, log: log, pending: map[string]uint64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop(every)
	return c
}

// Add records that the device has stored everything up to seq.
func (c *cursors) Add(deviceID string, seq uint64) {
	c.mu.Lock()
	if seq > c.pending[deviceID] {
		c.pending[deviceID] = seq
	}
	c.mu.Unlock()
}

// Of returns the highest seq the device confirmed that may not be in the
// store yet (0 if none), so a replay can skip it.
func (c *cursors) Of(deviceID string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.pending[deviceID], c.flushing[deviceID])
}

// Flush applies every pending cursor in one transaction. On failure the
// cursors go back to pending for the next round.
func (c *cursors) Flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	batch := c.pending
	if len(batch) == 0 {
		c.mu.Unlock()
		return nil
	}
	c.pending, c.flushing = map[string]uint64{}, batch
	c.mu.Unlock()

	err := c.st.PruneCursors(ctx, batch)

	c.mu.Lock()
	c.flushing = nil
	if err != nil {
		for id, seq := range batch {
			if seq > c.pending[id] {
				c.pending[id] = seq
			}
		}
	}
	c.mu.Unlock()
	return err
}

func (c *cursors) loop(every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		if err := c.Flush(ctx); err != nil {
			c.log.Error("apply delivery cursors", "err", err)
		}
		cancel()
	}
}

// Close stops the ticker and applies what is pending. Safe to call twice.
func (c *cursors) Close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		err = c.Flush(ctx)
	})
	return err
}
