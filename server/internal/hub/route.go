package hub

import (
	"context"
	"time"

	"github.com/deskside/deskside/server/internal/bus"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// ReplayFunc reads a device's stored frames after a seq, oldest first
// (store.Store.Replay).
type ReplayFunc func(ctx context.Context, deviceID string, after uint64) ([]store.Delivery, error)

// route joins the hub to the other server nodes through a bus. Its zero
// value (a hub without Attach) routes nothing.
type route struct {
	b      bus.Bus
	replay ReplayFunc
	sem    chan struct{} // bounds catch-ups reading the store at once
	h      *Hub
}

// catchUpsAtOnce bounds store reads after a bus reconnect (every link at
// once otherwise).
const catchUpsAtOnce = 16

// liveTimeout bounds asking another node to send an unstored frame.
const liveTimeout = 3 * time.Second

// Attach connects the hub to the other nodes through b: frames stored for
// a device linked elsewhere are announced to the node holding its link,
// which reads what it misses through replay; console events reach the
// consoles of every node. Call once, before the hub has links.
func (h *Hub) Attach(b bus.Bus, replay ReplayFunc) error {
	h.route = route{b: b, replay: replay, sem: make(chan struct{}, catchUpsAtOnce), h: h}
	return b.Handle(router{h})
}

func (r *route) on() bool { return r.b != nil }

// notify tells the node holding d's device (if another) about d. Always,
// not only when the device is not linked here: after a network blip a
// device may be linked to a new node before this one notices its old
// link is dead. The holder ignores a frame it already has.
func (r *route) notify(d store.Delivery) {
	if r.b == nil {
		return
	}
	if err := r.b.Notify(d.DeviceID, bus.Device{Kind: bus.Deliver, Seq: d.Seq, Frame: d.Bytes()}); err != nil {
		r.h.log.Warn("bus: notify", "device", d.DeviceID, "seq", d.Seq, "err", err)
	}
}

// fanout sends the other nodes the deliveries of ds whose devices are not
// linked here: those sharing one frame (an announcement) as one Fanout,
// the rest one by one.
func (r *route) fanout(ds []store.Delivery) {
	if r.b == nil {
		return
	}
	var f bus.Fanout
	var shared *protocol.SeqFrame
	r.h.mu.RLock()
	away := make([]store.Delivery, 0, len(ds))
	for _, d := range ds {
		if r.h.devices[d.DeviceID] == nil {
			away = append(away, d)
		}
	}
	r.h.mu.RUnlock()
	for _, d := range away {
		if d.Shared == nil || (shared != nil && d.Shared != shared) {
			r.notify(d)
			continue
		}
		shared = d.Shared
		f.Devices = append(f.Devices, d.DeviceID)
		f.Seqs = append(f.Seqs, d.Seq)
	}
	if shared == nil {
		return
	}
	f.Template = shared.Template()
	if err := r.b.Fanout(f); err != nil {
		r.h.log.Warn("bus: announcement", "devices", len(f.Devices), "err", err)
	}
}

func (r *route) live(deviceID string, frame []byte) bool {
	if r.b == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	ok, err := r.b.Ask(ctx, deviceID, bus.Device{Kind: bus.Live, Frame: frame})
	if err != nil {
		r.h.log.Warn("bus: live frame", "device", deviceID, "err", err)
	}
	return ok
}

func (r *route) kick(deviceID string, code int, reason string) {
	if r.b == nil {
		return
	}
	if err := r.b.Notify(deviceID, bus.Device{Kind: bus.Kick, Code: code, Reason: reason}); err != nil {
		r.h.log.Warn("bus: kick", "device", deviceID, "err", err)
	}
}

func (r *route) console(data []byte) {
	if r.b == nil {
		return
	}
	if err := r.b.Console(data); err != nil {
		r.h.log.Warn("bus: console event", "err", err)
	}
}

// watch routes p's device messages to this node; before Resume reads the
// store, so a frame stored elsewhere is in the replay or announced after.
func (h *Hub) watch(p *Peer) {
	if h.route.b == nil {
		return
	}
	stop, err := h.route.b.Watch(p.ID)
	if err != nil {
		// Frames stored on other nodes reach it at its next hello.
		h.log.Warn("bus: watch device", "device", p.ID, "err", err)
	}
	p.mu.Lock()
	p.stopWatch = stop
	p.mu.Unlock()
}

func (p *Peer) unwatch() {
	p.unwatchOnce.Do(func() {
		p.mu.Lock()
		stop := p.stopWatch
		p.mu.Unlock()
		if stop != nil {
			stop()
		}
	})
}

// catchUp reads from the store what p's device misses after the last frame
// queued, and queues it. One catch-up per link at a time; one asked for
// meanwhile runs again after it.
func (h *Hub) catchUp(p *Peer) {
	if h.route.replay == nil {
		return
	}
	p.mu.Lock()
	if p.fetching {
		p.again = true
		p.mu.Unlock()
		return
	}
	p.fetching = true
	p.mu.Unlock()
	go func() {
		h.route.sem <- struct{}{}
		defer func() { <-h.route.sem }()
		for h.catchUpOnce(p) {
		}
	}()
}

// catchUpOnce does one store read for catchUp and reports whether another
// was asked for meanwhile.
func (h *Hub) catchUpOnce(p *Peer) (again bool) {
	p.mu.Lock()
	after, closing := p.lastSent, p.closing
	p.again = false
	p.mu.Unlock()
	var ds []store.Delivery
	var err error
	if !closing {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ds, err = h.route.replay(ctx, p.ID, after)
		cancel()
		if err != nil {
			h.log.Warn("catch up from the store", "device", p.ID, "after", after, "err", err)
		}
	}
	p.mu.Lock()
	overflow := false
	for _, d := range ds {
		if d.Seq <= p.lastSent {
			continue
		}
		p.lastSent, p.based = d.Seq, true
		var ok bool
		if ok, overflow = p.enqueueLocked(item{data: d.Frame, shared: d.Shared, seq: d.Seq}, false); !ok {
			break
		}
	}
	again = p.again && !p.closing && !overflow
	p.fetching = again
	p.mu.Unlock()
	if overflow {
		p.overflow()
	}
	return again
}

// router is the hub as the bus's handler.
type router struct{ h *Hub }

func (r router) Device(deviceID string, m bus.Device) bool {
	p := r.h.device(deviceID)
	if p == nil {
		return false
	}
	switch m.Kind {
	case bus.Deliver:
		r.h.deliverTo(p, store.Delivery{DeviceID: deviceID, Seq: m.Seq, Frame: m.Frame})
		return true
	case bus.Live:
		return p.Send(m.Frame)
	case bus.Kick:
		p.CloseNow(m.Code, m.Reason)
		return true
	}
	return false
}

func (r router) Console(frame []byte) {
	if len(frame) > 0 && frame[0] == consoleCloseMark {
		if sel, ok := parseConsoleClose(frame); ok {
			r.h.closeConsoles(sel)
		} else {
			r.h.log.Error("bus: unreadable console close order")
		}
		return
	}
	r.h.broadcast(frame)
}

func (r router) Fanout(f bus.Fanout) {
	sf, err := protocol.ParseSeqFrame(f.Template)
	if err != nil {
		r.h.log.Error("bus: announcement template", "err", err)
		return
	}
	ds := make([]store.Delivery, 0, len(f.Devices))
	r.h.mu.RLock()
	for i, id := range f.Devices {
		if r.h.devices[id] != nil {
			ds = append(ds, store.Delivery{DeviceID: id, Seq: f.Seqs[i], Shared: sf})
		}
	}
	r.h.mu.RUnlock()
	if len(ds) >= fanOutMin {
		r.h.fanOut(ds)
		return
	}
	for _, d := range ds {
		if p := r.h.device(d.DeviceID); p != nil {
			r.h.deliverTo(p, d)
		}
	}
}

// Reconnected catches every link up: notices may have been lost while the
// bus was down.
func (r router) Reconnected() {
	r.h.mu.RLock()
	peers := make([]*Peer, 0, len(r.h.devices))
	for _, p := range r.h.devices {
		peers = append(peers, p)
	}
	r.h.mu.RUnlock()
	for _, p := range peers {
		p.mu.Lock()
		ready := p.ready
		p.mu.Unlock()
		if ready {
			r.h.catchUp(p)
		}
	}
}
