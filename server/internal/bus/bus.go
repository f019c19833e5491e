// Package bus carries what one server node must tell the others when
// several share one database: "device D has a new stored frame" (routed to
// the node that holds D's link), unstored control frames for a device
// (snapshot.want, telemetry.*), a revocation kick, an announcement's
// deliveries (every node fans out to its own links), and console events
// (every node relays them to its own consoles).
//
// Durability stays in the store: a message lost on the bus costs only
// liveness. The holding node catches up from the store by seq (on the next
// notice, on a gap, after a bus reconnect), and a device replays by seq at
// hello. Two implementations: Mem, in-process (the default: one node, zero
// configuration), and NATS.
package bus

import (
	"context"
	"errors"
)

// Kind says what a device-bound message asks of the node holding the link.
type Kind uint8

// Device-bound message kinds. A retired kind is never reused.
const (
	// Deliver: a stored frame (Seq, Frame). The holder sends it if it is
	// next for the link, or reads what it misses from the store.
	Deliver Kind = 1
	// Live: an unstored frame (Frame) for the link; Ask reports whether a
	// node took it.
	Live Kind = 2
	// Kick: close the link with Code and Reason (revocation).
	Kick Kind = 3
)

func (k Kind) String() string {
	switch k {
	case Deliver:
		return "deliver"
	case Live:
		return "live"
	case Kick:
		return "kick"
	}
	return "unknown"
}

// Device is a message for whichever node holds one device's link.
type Device struct {
	Kind   Kind
	Seq    uint64 // Deliver
	Frame  []byte // Deliver, Live: the whole envelope
	Code   int    // Kick
	Reason string // Kick
}

// Fanout is many devices' copies of one frame (an announcement): the
// seq-less template stored once, and each device's seq.
type Fanout struct {
	Template []byte   `json:"template"`
	Devices  []string `json:"devices"`
	Seqs     []uint64 `json:"seqs"` // Seqs[i] is Devices[i]'s
}

// Handler is what a node does with what the bus brings. Calls may come
// from any goroutine; a node never gets its own Console or Fanout back.
type Handler interface {
	// Device handles a message for a device watched by this node and
	// reports whether the node still holds its link.
	Device(deviceID string, m Device) (taken bool)
	// Console relays an encoded console event to this node's consoles.
	Console(frame []byte)
	// Fanout sends an announcement to this node's links among f.Devices.
	Fanout(f Fanout)
	// Reconnected says messages may have been lost while the bus was
	// down: catch every link up from the store.
	Reconnected()
}

// Bus connects this node to the others.
type Bus interface {
	// Handle starts delivering to h; call once, before anything else.
	Handle(h Handler) error
	// Watch routes deviceID's messages to this node until unwatch is
	// called; it returns once the route is in place, so a notice published
	// after a store read that follows Watch cannot be missed. Watches
	// nest: the route goes with the last unwatch.
	Watch(deviceID string) (unwatch func(), err error)
	// Notify publishes m to whichever node holds deviceID's link; nobody
	// holding it is not an error.
	Notify(deviceID string, m Device) error
	// Ask sends m and reports whether a node holding the link took it.
	Ask(ctx context.Context, deviceID string, m Device) (taken bool, err error)
	// Console publishes an encoded console event to the other nodes.
	Console(frame []byte) error
	// Fanout publishes an announcement's deliveries to the other nodes.
	Fanout(f Fanout) error
	// Close stops the bus. Safe to call twice.
	Close() error
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("bus closed")

// Split cuts f into parts of at most n devices each (a NATS message is
// capped, 1 MB by default; a device costs ~50 bytes).
func (f Fanout) Split(n int) []Fanout {
	if n <= 0 || len(f.Devices) <= n {
		return []Fanout{f}
	}
	var out []Fanout
	for i := 0; i < len(f.Devices); i += n {
		j := min(i+n, len(f.Devices))
		out = append(out, Fanout{Template: f.Template, Devices: f.Devices[i:j], Seqs: f.Seqs[i:j]})
	}
	return out
}
