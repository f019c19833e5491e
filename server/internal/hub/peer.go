package hub

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/shared/protocol"
)

// item is one thing waiting to be written: a text frame, a prepared
// broadcast, a ping or a close.
type item struct {
	data   []byte
	shared *protocol.SeqFrame // with seq: a frame encoded once for many devices
	seq    uint64
	pm     *websocket.PreparedMessage
	ping   bool
	close  *closeMsg
}

type closeMsg struct {
	code   int
	reason string
}

// Peer is one WebSocket link (a device or a console). Writes go through a
// bounded queue drained by a goroutine that exists only while there is
// something to write, so an idle link costs its read goroutine and little
// else. Only the read loop (owned by the caller) reads from WS.
type Peer struct {
	WS *websocket.Conn
	ID string // device id, or technician id for consoles

	session string // console: the sign-in session it was opened with

	h        *Hub
	mu       sync.Mutex
	queue    []item
	writing  bool
	closing  bool // a close is queued or done; nothing more is accepted
	closed   bool
	ready    bool   // device: replay done, live deliveries accepted
	lastSent uint64 // device: highest seq queued
	based    bool   // device: lastSent is known to be the device's own
	fetching bool   // device: a catch-up from the store is running
	again    bool   // device: catch up once more when it ends
	done     chan struct{}

	unwatchOnce sync.Once
	stopWatch   func() // set by AddDevice before the peer is shared
}

func (h *Hub) newPeer(ws *websocket.Conn, id string) *Peer {
	return &Peer{WS: ws, ID: id, h: h, done: make(chan struct{})}
}

// Done is closed once the link is closed.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Send queues a text frame; false if the link is closing or the queue
// overflowed (the link is then closed with CloseSlowConsumer).
func (p *Peer) Send(data []byte) bool { return p.enqueue(item{data: data}) }

func (p *Peer) sendPrepared(pm *websocket.PreparedMessage) bool { return p.enqueue(item{pm: pm}) }

// CloseAfter queues a close frame behind what is already queued (an error
// frame reaches the client before the close), then closes the link.
func (p *Peer) CloseAfter(code int, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return
	}
	p.closing = true
	p.queue = append(p.queue, item{close: &closeMsg{code, reason}})
	p.kick()
}

// CloseNow sends a close frame at once, bypassing the queue, and closes the
// link. Safe to call twice and from any goroutine.
func (p *Peer) CloseNow(code int, reason string) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closing, p.closed = true, true
	p.queue = nil
	close(p.done)
	p.mu.Unlock()
	// WriteControl may run concurrently with a blocked writer; Close then
	// unblocks that writer.
	_ = p.WS.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	_ = p.WS.Close()
}

// Closed reports whether the link is closed.
func (p *Peer) Closed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *Peer) enqueue(it item) bool {
	p.mu.Lock()
	ok, overflow := p.enqueueLocked(it, false)
	p.mu.Unlock()
	if overflow {
		p.overflow()
	}
	return ok
}

// enqueueLocked queues it; force skips the queue limit (replay). Caller
// holds p.mu and calls p.overflow after unlocking when overflow is true.
func (p *Peer) enqueueLocked(it item, force bool) (ok, overflow bool) {
	if p.closing {
		return false, false
	}
	if !force && !it.ping && len(p.queue) >= p.h.cfg.QueueLen {
		return false, true
	}
	p.queue = append(p.queue, it)
	p.kick()
	return true, false
}

func (p *Peer) overflow() { p.slowClose("slow consumer: send queue full, closing") }

// slowClose closes a link that does not keep up with 4003; it resumes from
// its seq when it reconnects.
func (p *Peer) slowClose(msg string) {
	p.h.slow.Add(1)
	p.h.log.Warn(msg, "peer", p.ID, "queue_len", p.h.cfg.QueueLen)
	p.CloseNow(CloseSlowConsumer, "you are not reading fast enough; reconnect and resume")
}

// kick starts the writer if it is not running. Caller holds p.mu.
func (p *Peer) kick() {
	if p.writing || p.closed {
		return
	}
	p.writing = true
	go p.drain()
}

func (p *Peer) drain() {
	for {
		p.mu.Lock()
		if len(p.queue) == 0 || p.closed {
			p.writing = false
			p.queue = nil // let a grown backing array go
			p.mu.Unlock()
			return
		}
		it := p.queue[0]
		p.queue[0] = item{}
		p.queue = p.queue[1:]
		p.mu.Unlock()

		if err := p.write(it, time.Now().Add(p.h.cfg.WriteTimeout)); err != nil || it.close != nil {
			p.mu.Lock()
			p.writing = false
			p.mu.Unlock()
			if it.close != nil {
				// Give the client a moment to read the close before the socket goes.
				time.AfterFunc(100*time.Millisecond, func() { p.CloseNow(it.close.code, it.close.reason) })
				return
			}
			p.CloseNow(websocket.CloseGoingAway, "write failed")
			return
		}
	}
}

func (p *Peer) write(it item, deadline time.Time) error {
	switch {
	case it.ping:
		return p.WS.WriteControl(websocket.PingMessage, nil, deadline)
	case it.close != nil:
		return p.WS.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(it.close.code, it.close.reason), deadline)
	}
	if err := p.WS.SetWriteDeadline(deadline); err != nil {
		return err
	}
	if it.pm != nil {
		return p.WS.WritePreparedMessage(it.pm)
	}
	if it.shared != nil {
		// The seq is spliced in straight into the pooled write buffer.
		w, err := p.WS.NextWriter(websocket.TextMessage)
		if err != nil {
			return err
		}
		if err := it.shared.WriteTo(w, it.seq); err != nil {
			_ = w.Close()
			return err
		}
		return w.Close()
	}
	return p.WS.WriteMessage(websocket.TextMessage, it.data)
}
