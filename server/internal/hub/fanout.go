package hub

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/internal/store"
)

// fanOutMin is the smallest Deliver that goes through the sender workers;
// below it each link's own writer is cheap enough. A variable so the
// benchmark can compare both paths.
var fanOutMin = 64

// fanOutChunk is how many links a sender worker takes at a time.
const fanOutChunk = 128

// directTimeout bounds one direct write by a sender worker. The frame is
// small and the link's queue was empty, so a write that blocks this long
// means the device stopped reading long ago (its socket buffer is full):
// it is closed as a slow consumer and resumes from its seq, instead of
// holding a worker that other devices are waiting for.
const directTimeout = 2 * time.Second

// senderWorkers is how many goroutines write one fan-out: a few per core,
// so a handful of stuck sockets cannot hold the rest back.
func senderWorkers() int { return max(4, runtime.GOMAXPROCS(0)*4) }

// claimed is a link whose writer a sender worker has become, with the
// frame it writes.
type claimed struct {
	p *Peer
	d store.Delivery
}

// fanOut delivers many frames (one announcement to 19,000 devices). A link
// whose queue is empty and which has no writer running is claimed (it
// counts as writing, so nothing overtakes the frame) and written to
// directly by one of a few sender workers; the others get the frame in
// their queue as usual. Before, every link got its own writer goroutine:
// 19,000 goroutine starts, stack growths and wake-ups per announcement.
// fanOut returns once every frame is claimed or queued; the writes go on
// in the background, so the hub never waits on one client.
func (h *Hub) fanOut(ds []store.Delivery) (live int) {
	peers := make([]*Peer, len(ds))
	h.mu.RLock()
	for i, d := range ds {
		peers[i] = h.devices[d.DeviceID]
	}
	h.mu.RUnlock()

	start := time.Now()
	work := make(chan []claimed, len(ds)/fanOutChunk+1)
	var wg sync.WaitGroup
	workers, direct := 0, 0
	batch := make([]claimed, 0, fanOutChunk)
	send := func() {
		if len(batch) == 0 {
			return
		}
		if workers < senderWorkers() {
			workers++
			wg.Go(func() { h.sender(work) })
		}
		direct += len(batch)
		work <- batch
		batch = make([]claimed, 0, fanOutChunk)
	}
	for i, d := range ds {
		p := peers[i]
		if p == nil {
			continue
		}
		p.mu.Lock()
		var ok, overflow, claim bool
		switch {
		case !p.ready || d.Seq <= p.lastSent || p.closing:
		case !p.writing && len(p.queue) == 0:
			p.lastSent = d.Seq
			p.writing, claim, ok = true, true, true
		default:
			p.lastSent = d.Seq
			ok, overflow = p.enqueueLocked(item{data: d.Frame, shared: d.Shared, seq: d.Seq}, false)
		}
		p.mu.Unlock()
		if overflow {
			p.overflow()
		}
		if ok {
			live++
		}
		if claim {
			batch = append(batch, claimed{p, d})
			if len(batch) == fanOutChunk {
				send()
			}
		}
	}
	send()
	close(work)
	queued := live - direct
	go func() {
		wg.Wait()
		h.log.Info("fan-out written", "frames", len(ds), "direct", direct, "queued", queued,
			"workers", workers, "took", time.Since(start).Round(time.Millisecond))
	}()
	return live
}

// sender writes claimed links' frames until work is closed and drained.
func (h *Hub) sender(work <-chan []claimed) {
	limit := min(directTimeout, h.cfg.WriteTimeout)
	for batch := range work {
		for _, c := range batch {
			// A deadline per write (time.Now is a vDSO read, far below the
			// write itself): one per chunk would leave the links after a
			// stuck one too little time, and close them as slow.
			c.p.writeClaimed(c.d, time.Now().Add(limit))
		}
	}
}

// writeClaimed writes d on a link claimed by fanOut, then hands the link
// back: to its own writer when frames were queued meanwhile.
func (p *Peer) writeClaimed(d store.Delivery, deadline time.Time) {
	err := p.write(item{data: d.Frame, shared: d.Shared, seq: d.Seq}, deadline)
	p.mu.Lock()
	switch {
	case err != nil || p.closed:
		p.writing = false
	case len(p.queue) > 0:
		go p.drain() // still writing: the queue's own writer takes over
	default:
		p.writing = false
		p.queue = nil
	}
	p.mu.Unlock()
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		p.slowClose("slow consumer: a broadcast write timed out, closing")
	default:
		p.CloseNow(websocket.CloseGoingAway, "write failed")
	}
}
