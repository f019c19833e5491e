// Package hub knows who is connected and moves frames between them: one
// live link per device, any number of technician consoles. It delivers
// stored server → device frames in seq order (replay first, then live),
// broadcasts console events as one prepared message, pings every link from
// one ticker, and closes a slow consumer instead of ever blocking on it.
//
// The hub does no storage; callers store first and then hand the hub what
// to deliver, holding Lock(deviceID) across both so frames stay in order.
package hub

import (
	"encoding/json"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Close codes the hub uses (mirrors of protocol's, named here for readers).
const (
	CloseSlowConsumer = protocol.CloseSlowConsumer
	CloseReplaced     = protocol.CloseReplaced
)

// Config tunes the hub. Zero values take the defaults.
type Config struct {
	PingInterval time.Duration // default 120 s
	WriteTimeout time.Duration // default 10 s
	QueueLen     int           // frames queued per link before it is closed; default 256
	// PresenceEvery is the most often presence goes to consoles; changes in
	// between are coalesced into one presence.batch. Default 250 ms.
	PresenceEvery time.Duration
}

// ReadTimeout is how long a link may stay silent before its read ends: a
// ping interval and a half, plus slack for a slow pong.
func (c Config) ReadTimeout() time.Duration {
	return c.PingInterval + c.PingInterval/2 + 5*time.Second
}

// Hub is the connection map. Its zero value is not usable; call New.
type Hub struct {
	cfg  Config
	log  *slog.Logger
	slow atomic.Int64

	mu       sync.RWMutex
	devices  map[string]*Peer
	consoles map[*Peer]struct{}

	stripes [64]sync.Mutex
	stop    chan struct{}
	stopped sync.Once
	closed  bool // under mu: links added from now on are closed at once

	pres presence

	route route // other nodes, when Attach was called
}

// presence holds device presence changes not yet sent to the consoles.
type presence struct {
	mu     sync.Mutex
	order  []string // device ids, first change first
	latest map[string]protocol.Presence
	last   time.Time   // last flush
	timer  *time.Timer // set while a flush is scheduled
}

// presenceBatchMax bounds one presence.batch frame (~120 bytes a device).
const presenceBatchMax = 2000

// New starts a hub and its ping ticker; Close stops it.
func New(cfg Config, log *slog.Logger) *Hub {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 120 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 256
	}
	if cfg.PresenceEvery <= 0 {
		cfg.PresenceEvery = 250 * time.Millisecond
	}
	h := &Hub{cfg: cfg, log: log, devices: map[string]*Peer{}, consoles: map[*Peer]struct{}{}, stop: make(chan struct{})}
	h.pres.latest = map[string]protocol.Presence{}
	go h.pingLoop()
	return h
}

// Config returns the hub's settings with defaults filled in.
func (h *Hub) Config() Config { return h.cfg }

// closeWorkers close links in parallel on Close: each close is a
// WriteControl with up to a 1 s deadline, and one by one 19,000 of them
// took ~10 s.
const closeWorkers = 64

const goingAway = "the server is restarting; reconnect shortly"

// Close stops the ticker and closes every link with "going away", in
// parallel; a link added afterwards is closed at once. Call it after the
// listener is shut, so no reconnect lands on a closing server.
func (h *Hub) Close() {
	h.stopped.Do(func() { close(h.stop) })
	h.mu.Lock()
	h.closed = true
	var all []*Peer
	for _, p := range h.devices {
		all = append(all, p)
	}
	for p := range h.consoles {
		all = append(all, p)
	}
	h.mu.Unlock()
	work := make(chan *Peer)
	var wg sync.WaitGroup
	for range min(closeWorkers, len(all)) {
		wg.Go(func() {
			for p := range work {
				p.CloseNow(websocket.CloseGoingAway, goingAway)
			}
		})
	}
	for _, p := range all {
		work <- p
	}
	close(work)
	wg.Wait()
}

// SlowConsumerCloses counts links closed because their queue overflowed.
func (h *Hub) SlowConsumerCloses() int64 { return h.slow.Load() }

// Lock serialises storing and delivering frames for one device so they go
// out in seq order. Call the returned function to unlock.
func (h *Hub) Lock(deviceID string) func() {
	f := fnv.New32a()
	_, _ = f.Write([]byte(deviceID))
	m := &h.stripes[f.Sum32()%uint32(len(h.stripes))]
	m.Lock()
	return m.Unlock
}

// LockAll takes every device lock (in a fixed order, so it cannot deadlock
// with Lock), for a store call that writes to many devices' outboxes.
func (h *Hub) LockAll() func() {
	for i := range h.stripes {
		h.stripes[i].Lock()
	}
	return func() {
		for i := range h.stripes {
			h.stripes[i].Unlock()
		}
	}
}

// AddDevice registers a device link (not yet ready for live deliveries; see
// Resume). An older link of the same device is closed with CloseReplaced.
func (h *Hub) AddDevice(ws *websocket.Conn, deviceID string) *Peer {
	p := h.newPeer(ws, deviceID)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		p.CloseNow(websocket.CloseGoingAway, goingAway)
		return p
	}
	old := h.devices[deviceID]
	h.devices[deviceID] = p
	h.mu.Unlock()
	if old != nil {
		old.CloseNow(CloseReplaced, "this device connected again from elsewhere")
	}
	h.watch(p)
	return p
}

// RemoveDevice forgets p if it is still the device's current link and
// reports whether it was (so presence "offline" is sent once).
func (h *Hub) RemoveDevice(p *Peer) bool {
	p.unwatch()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.devices[p.ID] != p {
		return false
	}
	delete(h.devices, p.ID)
	return true
}

// Online reports whether the device has a live link to this node.
func (h *Hub) Online(deviceID string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, ok := h.devices[deviceID]
	return ok
}

// Counts returns the number of live device and console links.
func (h *Hub) Counts() (devices, consoles int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.devices), len(h.consoles)
}

func (h *Hub) device(id string) *Peer {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.devices[id]
}

// Resume queues first (welcome), then every stored frame replay returns,
// then opens p to live deliveries. Holding p's lock while replay reads the
// store means a frame committed meanwhile is either in the replay or
// delivered live after it — never neither.
func (h *Hub) Resume(p *Peer, first func(replay []store.Delivery) []byte, replay func() ([]store.Delivery, error)) error {
	return h.resume(p, 0, false, first, replay)
}

// ResumeAfter is Resume for a device that has every frame up to seq after
// (its hello's last seq): a live frame beyond after+1, or beyond the
// replay's last, means one in between is still to come, and is read from
// the store (frames written on another node may be announced out of order).
func (h *Hub) ResumeAfter(p *Peer, after uint64, first func(replay []store.Delivery) []byte, replay func() ([]store.Delivery, error)) error {
	return h.resume(p, after, true, first, replay)
}

func (h *Hub) resume(p *Peer, after uint64, based bool, first func(replay []store.Delivery) []byte, replay func() ([]store.Delivery, error)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ds, err := replay()
	if err != nil {
		return err
	}
	if ok, _ := p.enqueueLocked(item{data: first(ds)}, true); !ok {
		return nil
	}
	for _, d := range ds {
		p.enqueueLocked(item{data: d.Bytes()}, true)
	}
	p.lastSent = after
	if n := len(ds); n > 0 {
		p.lastSent = max(after, ds[n-1].Seq)
	}
	p.ready, p.based = true, based || len(ds) > 0
	return nil
}

// Deliver sends stored frames to their devices if online here, and tells
// the other nodes (see Attach); offline devices get them by replay. Call
// with Lock(deviceID) held since the store call. Many frames at once (an
// announcement) go out through fanOut. live counts this node's links.
func (h *Hub) Deliver(ds ...store.Delivery) (live int) {
	if len(ds) >= fanOutMin {
		live = h.fanOut(ds)
		h.route.fanout(ds)
		return live
	}
	for _, d := range ds {
		if p := h.device(d.DeviceID); p != nil && h.deliverTo(p, d) {
			live++
		}
		h.route.notify(d)
	}
	return live
}

// deliverTo queues d on p if it is the next frame p needs; a frame beyond
// the next (one written on another node is still on its way) makes p catch
// up from the store instead.
func (h *Hub) deliverTo(p *Peer, d store.Delivery) bool {
	p.mu.Lock()
	var ok, overflow, gap bool
	switch {
	case !p.ready || d.Seq <= p.lastSent:
	case h.route.on() && p.based && d.Seq > p.lastSent+1:
		gap = true
	default:
		p.lastSent, p.based = d.Seq, true
		ok, overflow = p.enqueueLocked(item{data: d.Frame, shared: d.Shared, seq: d.Seq}, false)
	}
	p.mu.Unlock()
	if overflow {
		p.overflow()
	}
	if gap {
		h.catchUp(p)
	}
	return ok
}

// SendLive sends a frame that is not stored (snapshot.want, telemetry.*)
// to the device's link on this node or another; false when it is offline.
func (h *Hub) SendLive(deviceID string, frame []byte) bool {
	if p := h.device(deviceID); p != nil && p.Send(frame) {
		return true
	}
	return h.route.live(deviceID, frame)
}

// Kick closes a device's live link at once (revocation), on every node.
func (h *Hub) Kick(deviceID string, code int, reason string) {
	if p := h.device(deviceID); p != nil {
		p.CloseNow(code, reason)
	}
	h.route.kick(deviceID, code, reason)
}

// AddConsole registers a console link.
func (h *Hub) AddConsole(ws *websocket.Conn, technicianID string) *Peer {
	return h.AddSessionConsole(ws, technicianID, "")
}

// AddSessionConsole registers a console link opened with a sign-in
// session, so that ending the session (CloseConsoles) closes the link.
func (h *Hub) AddSessionConsole(ws *websocket.Conn, technicianID, session string) *Peer {
	p := h.newPeer(ws, technicianID)
	p.session = session
	p.ready = true
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		p.CloseNow(websocket.CloseGoingAway, goingAway)
		return p
	}
	h.consoles[p] = struct{}{}
	h.mu.Unlock()
	return p
}

// RemoveConsole forgets a console link.
func (h *Hub) RemoveConsole(p *Peer) {
	h.mu.Lock()
	delete(h.consoles, p)
	h.mu.Unlock()
}

// Broadcast sends one event to every console (of every node), encoded and
// framed once.
func (h *Hub) Broadcast(kind protocol.Kind, body any) {
	env, err := protocol.New(kind, body)
	if err != nil {
		h.log.Error("encode console event", "kind", kind, "err", err)
		return
	}
	data, err := json.Marshal(env)
	if err != nil {
		h.log.Error("encode console event", "kind", kind, "err", err)
		return
	}
	h.route.console(data)
	h.broadcast(data)
}

// broadcast sends an encoded event to this node's consoles.
func (h *Hub) broadcast(data []byte) {
	h.mu.RLock()
	peers := make([]*Peer, 0, len(h.consoles))
	for p := range h.consoles {
		peers = append(peers, p)
	}
	h.mu.RUnlock()
	if len(peers) == 0 {
		return
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		h.log.Error("prepare console event", "err", err)
		return
	}
	for _, p := range peers {
		p.sendPrepared(pm)
	}
}

// Presence tells the consoles a device came or went. A change after a quiet
// spell goes out at once as a presence frame; while devices keep coming
// and going (a reconnect storm: 38,000 changes in seconds) changes are
// coalesced, each device's latest state kept, and sent at most every
// PresenceEvery as presence.batch frames, so no console queue overflows.
func (h *Hub) Presence(ev protocol.Presence) {
	pr := &h.pres
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if _, ok := pr.latest[ev.DeviceID]; !ok {
		pr.order = append(pr.order, ev.DeviceID)
	}
	pr.latest[ev.DeviceID] = ev
	if pr.timer == nil {
		pr.timer = time.AfterFunc(max(0, h.cfg.PresenceEvery-time.Since(pr.last)), h.flushPresence)
	}
}

func (h *Hub) flushPresence() {
	pr := &h.pres
	pr.mu.Lock()
	order, latest := pr.order, pr.latest
	pr.order, pr.latest, pr.timer, pr.last = nil, map[string]protocol.Presence{}, nil, time.Now()
	pr.mu.Unlock()
	if len(order) == 1 {
		h.Broadcast(protocol.KindPresence, latest[order[0]])
		return
	}
	for len(order) > 0 {
		n := min(len(order), presenceBatchMax)
		b := protocol.PresenceBatch{Devices: make([]protocol.Presence, n)}
		for i, id := range order[:n] {
			b.Devices[i] = latest[id]
		}
		h.Broadcast(protocol.KindPresenceBatch, b)
		order = order[n:]
	}
}

func (h *Hub) pingLoop() {
	t := time.NewTicker(h.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		h.mu.RLock()
		peers := make([]*Peer, 0, len(h.devices)+len(h.consoles))
		for _, p := range h.devices {
			peers = append(peers, p)
		}
		for p := range h.consoles {
			peers = append(peers, p)
		}
		h.mu.RUnlock()
		for _, p := range peers {
			p.enqueue(item{ping: true})
		}
	}
}
