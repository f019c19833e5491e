package devicelink

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store"
)

// pruneRecorder is a store that only records PruneCursors calls.
type pruneRecorder struct {
	store.Store
	mu    sync.Mutex
	calls []map[string]uint64
	fail  error
	hold  chan struct{} // when set, PruneCursors waits on it
}

func (r *pruneRecorder) PruneCursors(_ context.Context, c map[string]uint64) error {
	if r.hold != nil {
		<-r.hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, maps.Clone(c))
	return r.fail
}

func (r *pruneRecorder) Calls() []map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// Many cursors from many devices become one store call with each device's
// highest seq; a failed call keeps them for the next round.
func TestCursorsCoalesce(t *testing.T) {
	st := &pruneRecorder{}
	c := newCursors(st, slog.New(slog.DiscardHandler), time.Hour)
	defer c.Close()
	for dev := range 1000 {
		for _, seq := range []uint64{3, 7, 5} {
			c.Add(strconv.Itoa(dev), seq)
		}
	}
	if got := c.Of("42"); got != 7 {
		t.Fatalf("Of = %d, want 7", got)
	}
	st.fail = errors.New("disk full")
	if err := c.Flush(context.Background()); err == nil {
		t.Fatal("flush hid the store error")
	}
	st.fail = nil
	c.Add("42", 9)
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := st.Calls()
	if len(calls) != 2 || len(calls[1]) != 1000 || calls[1]["1"] != 7 || calls[1]["42"] != 9 {
		t.Fatalf("store calls: %d, last has %d devices", len(calls), len(calls[len(calls)-1]))
	}
	if err := c.Flush(context.Background()); err != nil || len(st.Calls()) != 2 {
		t.Fatalf("an empty flush wrote: %v", err)
	}
	if c.Of("42") != 0 {
		t.Fatal("applied cursor still pending")
	}
}

// While a flush is writing, its cursors still count for a replay.
func TestCursorsVisibleWhileFlushing(t *testing.T) {
	st := &pruneRecorder{hold: make(chan struct{})}
	c := newCursors(st, slog.New(slog.DiscardHandler), time.Hour)
	c.Add("d", 4)
	done := make(chan error)
	go func() { done <- c.Flush(context.Background()) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		busy := c.flushing != nil
		c.mu.Unlock()
		if busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("flush did not start")
		}
		time.Sleep(time.Millisecond)
	}
	if got := c.Of("d"); got != 4 {
		t.Fatalf("while flushing Of = %d, want 4", got)
	}
	close(st.hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st.hold = nil
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// The ticker applies cursors on its own, and Close applies the rest.
func TestCursorsTickAndClose(t *testing.T) {
	st := &pruneRecorder{}
	c := newCursors(st, slog.New(slog.DiscardHandler), 10*time.Millisecond)
	c.Add("a", 1)
	deadline := time.Now().Add(5 * time.Second)
	for len(st.Calls()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the ticker never flushed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c2 := newCursors(st, slog.New(slog.DiscardHandler), time.Hour)
	c2.Add("b", 2)
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c2.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	calls := st.Calls()
	if last := calls[len(calls)-1]; last["b"] != 2 {
		t.Fatalf("Close did not flush: %v", calls)
	}
	_ = c.Close()
}
