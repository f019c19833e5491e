package windows

import (
	"context"
	"sync"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
)

// composeTimeout bounds one Composing call: it is a hint, never worth
// holding a closing window for long.
const composeTimeout = 2 * time.Second

// composing tells the agent whether the person is typing a request, so no
// software question pops up over what they write. It says so only when
// the state changes, one call at a time, and always ends with the latest
// state: two calls racing could otherwise leave "typing" on after a send.
type composing struct {
	b agentapi.Backend

	callMu sync.Mutex // held while a call is out
	sent   bool       // what the agent was last told (under callMu)

	mu   sync.Mutex
	want bool
}

// set notes the state and tells the agent off the UI goroutine.
func (c *composing) set(on bool) {
	c.mu.Lock()
	changed := c.want != on
	c.want = on
	c.mu.Unlock()
	if changed {
		go c.flush()
	}
}

// stop says "not typing" and waits until the agent was told (or the call
// timed out): the window process ends right after its window closes.
func (c *composing) stop() {
	c.mu.Lock()
	c.want = false
	c.mu.Unlock()
	c.flush()
}

func (c *composing) flush() {
	c.callMu.Lock()
	defer c.callMu.Unlock()
	c.mu.Lock()
	want := c.want
	c.mu.Unlock()
	if want == c.sent {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), composeTimeout)
	defer cancel()
	// An error leaves sent as it was, so the next change tries again; the
	// agent lets "typing" lapse on its own if we never get through.
	if err := c.b.Composing(ctx, want); err == nil {
		c.sent = want
	}
}
