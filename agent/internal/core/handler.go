package core

import (
	"context"
	"runtime"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/link"
	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/version"
)

// handler is the Core seen by the link (kept off Core's public API).
type handler Core

func (h *handler) core() *Core { return (*Core)(h) }

func (h *handler) Hello(ctx context.Context) (protocol.Hello, error) {
	seq, err := h.st.LastSeq(ctx)
	if err != nil {
		return protocol.Hello{}, err
	}
	caps := []string{protocol.CapTelemetry, protocol.CapScreenshot, protocol.CapAnnouncement}
	if h.cfg.UpdateAvailable != nil {
		caps = append(caps, protocol.CapUpdate)
	}
	caps = append(caps, protocol.CapArticles)
	if h.checks != nil {
		caps = append(caps, protocol.CapChecks)
	}
	if h.sw.on {
		caps = append(caps, protocol.CapSoftware)
	}
	return protocol.Hello{AgentVersion: version.Version, OS: runtime.GOOS, Arch: runtime.GOARCH, LastSeq: seq,
		Capabilities: caps, Revision: protocol.Revision}, nil
}

func (h *handler) Pending(ctx context.Context) ([]link.Frame, error) {
	items, err := h.st.Pending(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]link.Frame, len(items))
	for i, it := range items {
		out[i] = link.Frame{ID: it.ID, Data: it.Frame}
	}
	return out, nil
}

func (h *handler) State(s agentapi.ConnState, err error, next time.Time) {
	c := h.core()
	if s != agentapi.ConnOnline {
		c.stopTelemetry()
	}
	c.setState(s, err, next)
	if s == agentapi.ConnOnline {
		go c.softwareOnline(context.Background())
	} else {
		c.softwareOffline()
	}
}

func (h *handler) Welcome(ctx context.Context, w protocol.Welcome) {
	c := h.core()
	c.mu.Lock()
	if w.ServerName != "" {
		c.conn.ServerName = w.ServerName
	}
	stale := time.Since(c.lastSnap) > c.cfg.SnapshotEvery
	c.mu.Unlock()
	if c.cfg.Welcomed != nil {
		c.cfg.Welcomed()
	}
	c.articlesBehind(ctx, w.ArticlesRevision)
	c.softwareWelcome(w)
	c.welcomeExpectations(ctx, w.Expectations)
	if !stale {
		return
	}
	// Keep "what IT can see" current: one snapshot per connect at most
	// every SnapshotEvery.
	if last, err := c.st.LastSnapshot(ctx); err == nil && last != nil && time.Since(last.TakenAt) < c.cfg.SnapshotEvery {
		c.mu.Lock()
		c.lastSnap = last.TakenAt
		c.mu.Unlock()
		return
	}
	decided := time.Now()
	go func() {
		if _, err := c.queueSnapshot(context.WithoutCancel(ctx), decided); err != nil {
			c.log.Warn("snapshot on connect", "err", err)
		}
	}()
}

func (h *handler) Ack(ctx context.Context, a protocol.Ack) {
	c := h.core()
	if c.softwareAck(ctx, a) {
		return
	}
	res, err := c.st.Ack(ctx, a.ID)
	if err != nil {
		c.log.Error("store ack", "id", a.ID, "err", err)
		return
	}
	c.releaseWaiters(ctx, a.ID, res.Kind)
	if !res.Found {
		return
	}
	c.log.Debug("acked", "id", a.ID, "kind", res.Kind, "duplicate", a.Duplicate)
	if res.Request != nil {
		c.publish(agentapi.Event{Type: agentapi.EventRequest, Request: res.Request})
	}
}

// releaseWaiters wakes Snapshot(fresh) callers: the acked frame's own
// waiter, and — on a snapshot ack — every waiter whose snapshot is no
// longer pending because a newer one replaced it and was just acked.
func (c *Core) releaseWaiters(ctx context.Context, id string, kind protocol.Kind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.ackWait[id]; ok {
		close(ch)
		delete(c.ackWait, id)
	}
	if kind != protocol.KindSnapshot {
		return
	}
	for wid, ch := range c.ackWait {
		if pending, err := c.st.IsPending(ctx, wid); err == nil && !pending {
			close(ch)
			delete(c.ackWait, wid)
		}
	}
}

// permanent error codes: resending the same frame would be refused again.
var permanent = map[string]bool{
	protocol.ErrBadBody: true, protocol.ErrBadJSON: true, protocol.ErrForbidden: true, protocol.ErrNotFound: true,
	protocol.ErrTooLarge: true, protocol.ErrUnknownType: true, protocol.ErrWrongVersion: true,
}

func (h *handler) Refused(ctx context.Context, e protocol.Error) {
	c := h.core()
	if c.softwareRefused(ctx, e) {
		return
	}
	c.log.Warn("server refused a frame", "ref", e.Ref, "code", e.Code, "message", e.Message)
	if e.Ref != "" && permanent[e.Code] {
		if err := c.st.Drop(ctx, e.Ref); err != nil {
			c.log.Error("drop refused frame", "ref", e.Ref, "err", err)
		}
	}
}

func (h *handler) Store(ctx context.Context, env protocol.Envelope) error {
	c := h.core()
	a, err := c.st.ApplyServerFrame(ctx, env)
	if err != nil {
		return err
	}
	if a.Duplicate {
		return nil
	}
	if a.Message != nil {
		c.publish(agentapi.Event{Type: agentapi.EventMessage, Message: a.Message, Request: a.Request})
	} else if a.Request != nil {
		c.publish(agentapi.Event{Type: agentapi.EventRequest, Request: a.Request})
	}
	switch {
	case a.Announcement == nil:
	case !a.Announcement.ResolvedAt.IsZero():
		// IT's all-clear on a known problem: not "Email is down" popping up
		// again for everyone, but "it's fixed" for those who said me too.
		if a.Resolved && a.MeToo {
			c.allClear(a.Announcement)
		}
	default:
		c.publish(agentapi.Event{Type: agentapi.EventAnnouncement, Announcement: a.Announcement})
	}
	if env.Type == protocol.KindUpdateAvailable {
		c.updateAvailable(env)
	}
	if a.ChecksPolicy != nil {
		c.applyChecksPolicy(*a.ChecksPolicy)
	}
	if a.SoftwareAsk != nil {
		c.checkPrompts(ctx)
	}
	if a.SoftwareThanks != nil {
		c.softwareThanks(*a.SoftwareThanks)
	}
	return nil
}

func (h *handler) Control(ctx context.Context, env protocol.Envelope) {
	c := h.core()
	switch env.Type {
	case protocol.KindSnapshotWant:
		go func() {
			if _, err := c.queueSnapshot(context.WithoutCancel(ctx), time.Time{}); err != nil {
				c.log.Warn("snapshot on request", "err", err)
			}
		}()
	case protocol.KindTelemetryStart:
		var ts protocol.TelemetryStart
		_ = env.Decode(&ts)
		c.startTelemetry(time.Duration(ts.IntervalMS) * time.Millisecond)
	case protocol.KindTelemetryStop:
		c.stopTelemetry()
	case protocol.KindUpdateAvailable:
		c.updateAvailable(env)
	case protocol.KindArticlesChanged:
		var ch protocol.ArticlesChanged
		if err := env.Decode(&ch); err != nil {
			c.log.Warn("unreadable articles.changed", "err", err)
			return
		}
		c.articlesBehind(ctx, ch.Revision)
	case protocol.KindSoftwareWant:
		c.softwareWant(ctx, env)
	default:
		c.log.Debug("ignored server frame", "type", env.Type)
	}
}

func (c *Core) startTelemetry(every time.Duration) {
	every = min(max(every, time.Second), time.Minute)
	c.stopTelemetry()
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	c.telStop = cancel
	l := c.link
	c.mu.Unlock()
	c.log.Info("telemetry on", "every", every)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			tel := c.sys.Telemetry(ctx)
			if env, err := protocol.New(protocol.KindTelemetry, tel); err == nil && l != nil {
				if err := l.Send(env); err != nil {
					c.log.Debug("telemetry not sent", "err", err)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (c *Core) stopTelemetry() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.telStop != nil {
		c.telStop()
		c.telStop = nil
		c.log.Info("telemetry off")
	}
}
