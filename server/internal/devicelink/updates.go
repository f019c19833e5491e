package devicelink

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/deskside/deskside/server/internal/hub"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Updates is the release service as the device link sees it (package
// release, adapted in package app; see docs/updates.md). Without one, the
// server offers no updates and only audits update.report frames.
type Updates interface {
	// Offer records what the device runs and returns the release it should
	// run, or nil.
	Offer(ctx context.Context, d LinkedDevice) (*protocol.UpdateAvailable, error)
	// Report stores an update.report once per frame id; duplicate is true
	// when frameID was seen before (nothing changed). nil means committed.
	Report(ctx context.Context, deviceID, frameID string, rep protocol.UpdateReport) (duplicate bool, err error)
}

// LinkedDevice is a connected device as its hello described it.
type LinkedDevice struct {
	ID, OS, Arch, Version string
	Caps                  []string // the capabilities hello offered
}

// SetUpdates wires the release service in. Call it before serving.
func (g *Gateway) SetUpdates(u Updates) { g.updates = u }

// linked remembers what each connected device said in hello, for rollout
// nudges. Entries belong to a peer: a replaced link's departure does not
// remove its successor's entry.
type linked struct {
	mu sync.Mutex
	m  map[string]linkedEntry
}

type linkedEntry struct {
	p *hub.Peer
	d LinkedDevice
}

func (l *linked) add(p *hub.Peer, d LinkedDevice) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]linkedEntry{}
	}
	l.m[d.ID] = linkedEntry{p: p, d: d}
}

func (l *linked) remove(p *hub.Peer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.m[p.ID]; ok && e.p == p {
		delete(l.m, p.ID)
	}
}

// ConnectedDevices lists the connected devices with their platform and
// agent version (from hello).
func (g *Gateway) ConnectedDevices() []LinkedDevice {
	g.linked.mu.Lock()
	defer g.linked.mu.Unlock()
	out := make([]LinkedDevice, 0, len(g.linked.m))
	for _, e := range g.linked.m {
		out = append(out, e.d)
	}
	return out
}

// SendUpdate stores update.available in the device's outbox (with a seq,
// like every server → device frame that matters) and delivers it now when
// the device is connected; otherwise it is replayed at the next hello.
func (g *Gateway) SendUpdate(ctx context.Context, deviceID string, offer protocol.UpdateAvailable) error {
	unlock := g.hub.Lock(deviceID)
	defer unlock()
	d, err := g.st.Enqueue(ctx, deviceID, store.Outgoing{Kind: protocol.KindUpdateAvailable, ID: protocol.NewID(), Body: offer})
	if err != nil {
		return fmt.Errorf("send update.available: %w", err)
	}
	g.hub.Deliver(d)
	return nil
}

// offerOnHello tells a device that just said hello about a release for it,
// after welcome and the replay. A failure only costs the nudge: the agent
// also asks on its own timer.
func (l *link) offerOnHello(ctx context.Context, d LinkedDevice) {
	u := l.g.updates
	if u == nil {
		return
	}
	offer, err := u.Offer(ctx, d)
	if err != nil {
		l.g.log.Warn("offer an update at hello", "device", d.ID, "err", err)
		return
	}
	if offer == nil {
		return
	}
	if err := l.g.SendUpdate(ctx, d.ID, *offer); err != nil {
		l.g.log.Warn("offer an update at hello", "device", d.ID, "err", err)
		return
	}
	l.g.log.Info("update offered", "device", d.ID, "from", d.Version, "to", offer.Version)
}

// updateReport stores an update.report and acks it after the commit; a
// repeated envelope id is acked as a duplicate and changes nothing.
func (l *link) updateReport(ctx context.Context, env protocol.Envelope, b protocol.UpdateReport) {
	if l.g.updates == nil {
		// No release service: keep the device's word in the audit log.
		detail := fmt.Sprintf("%s → %s ok=%t rolled_back=%t %s", b.FromVersion, b.ToVersion, b.OK, b.RolledBack, b.Detail)
		if err := l.g.st.Audit(ctx, store.AuditEntry{At: time.Now(), Actor: "device:" + l.dev.ID, Action: "device.update",
			Target: l.dev.ID, Detail: detail}); err != nil {
			l.storeFailed(env, err)
			return
		}
		l.ack(env, store.Result{})
		return
	}
	dup, err := l.g.updates.Report(ctx, l.dev.ID, env.ID, b)
	if err != nil {
		l.storeFailed(env, err)
		return
	}
	l.ack(env, store.Result{Duplicate: dup})
	if !dup {
		l.g.log.Info("update report", "device", l.dev.ID, "from", b.FromVersion, "to", b.ToVersion, "ok", b.OK,
			"rolled_back", b.RolledBack)
	}
}
