package hub

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/internal/store"
)

// fanOutMin is the smallest Deliver that goes through the sender workers;
// below it each link's own writer is cheap enough. A variable so the
// benchmark can compare both paths.
var fanOutMin = 64

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
	direct := make([]claimed, 0, len(ds))
	var behind []*Peer // a frame from another node is still on its way
	for i, d := range ds {
		p := peers[i]
		if p == nil {
			continue
		}
		p.mu.Lock()
		var ok, overflow bool
		switch {
		case !p.ready || d.Seq <= p.lastSent || p.closing:
		case h.route.on() && p.based && d.Seq > p.lastSent+1:
			behind = append(behind, p)
		case !p.writing && len(p.queue) == 0:
			p.lastSent, p.based = d.Seq, true
			p.writing, ok = true, true
			direct = append(direct, claimed{p, d})
		default:
			p.lastSent, p.based = d.Seq, true
			ok, overflow = p.enqueueLocked(item{data: d.Frame, shared: d.Shared, seq: d.Seq}, false)
		}
		p.mu.Unlock()
		if overflow {
			p.overflow()
		}
		if ok {
			live++
		}
	}
	for _, p := range behind {
		h.catchUp(p)
	}
	if len(direct) == 0 {
		return live
	}
	// Workers take one link at a time from a shared index, so a stuck link
	// holds up only its own worker, never a batch of links behind it.
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := min(senderWorkers(), len(direct))
	limit := min(directTimeout, h.cfg.WriteTimeout)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(direct) {
					return
				}
				// A deadline per write: time.Now is a vDSO read, far below
				// the write itself.
				direct[i].p.writeClaimed(direct[i].d, time.Now().Add(limit))
				direct[i] = claimed{}
			}
		})
	}
	queued := live - len(direct)
	go func() {
		wg.Wait()
		h.log.Info("fan-out written", "frames", len(ds), "direct", len(direct), "queued", queued,
			"workers", workers, "took", time.Since(start).Round(time.Millisecond))
	}()
	return live
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
	case isTimeout(err):
		p.slowClose("slow consumer: a broadcast write timed out, closing")
	default:
		p.CloseNow(websocket.CloseGoingAway, "write failed")
	}
}

// isTimeout reports a write deadline hit. gorilla hides a temporary
// net.Error behind its own type, so errors.Is(err, os.ErrDeadlineExceeded)
// does not see it; Timeout() survives.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
