package devicelink

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Heads-up checks (issue 14, docs/heads-up-server.md): the device reports a
// check's state when it changes (check.report, acked after the commit);
// the server sends IT's policy as a sequenced checks.policy frame, at hello
// when the device's group has a newer one, and to every capable device of
// a group when an admin saves it.

// historyPruneEvery is how often the gateway drops heads-up history older
// than the trend shows; a report that finds the last pruning older than
// this does it (one cheap DELETE, off the report's ack path).
const historyPruneEvery = time.Hour

// checkReport stores a check.report and acks it after the commit; a
// repeated envelope id is acked as a duplicate and changes nothing. The
// consoles hear of a stored change as device.checks.
func (l *link) checkReport(ctx context.Context, env protocol.Envelope) {
	var b protocol.CheckReport
	if !l.decode(env, &b) {
		return
	}
	res, dc, err := l.g.st.ReportCheck(ctx, env.ID, l.dev.ID, b, time.Now())
	if err != nil {
		l.storeFailed(env, err)
		return
	}
	l.ack(env, res)
	if res.Duplicate {
		return
	}
	l.g.metrics.checkReports.WithLabelValues(stateLabel(b.State)).Inc()
	dc.Hostname, dc.User = l.dev.Hostname, l.dev.User
	l.g.hub.Broadcast(protocol.KindDeviceChecks, dc.ToWire())
	l.g.maybePruneHistory()
}

// stateLabel keeps metric cardinality bounded.
func stateLabel(s protocol.CheckState) string {
	if s.Valid() {
		return string(s)
	}
	return "unknown"
}

func (g *Gateway) maybePruneHistory() {
	now := time.Now()
	last := g.pruned.Load()
	if now.UnixNano()-last < int64(historyPruneEvery) || !g.pruned.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		n, err := g.st.PruneCheckHistory(ctx, now.AddDate(0, 0, -store.TrendDays-1))
		if err != nil {
			g.log.Warn("prune heads-up history", "err", err)
			return
		}
		g.log.Debug("pruned heads-up history", "rows", n)
	}()
}

// checksOnHello queues the device's group policy when the agent runs
// checks and was not sent the newest one, after welcome and the replay. A
// failure costs only the nudge: the next hello tries again.
func (l *link) checksOnHello(ctx context.Context, hello protocol.Hello) {
	capable := slices.Contains(hello.Capabilities, protocol.CapChecks)
	unlock := l.g.hub.Lock(l.dev.ID)
	defer unlock()
	d, err := l.g.st.ChecksOnHello(ctx, l.dev.ID, capable)
	if err != nil {
		l.g.log.Warn("heads-up policy at hello", "device", l.dev.ID, "err", err)
		return
	}
	if d != nil {
		l.g.hub.Deliver(*d)
		l.g.log.Debug("heads-up policy queued at hello", "device", l.dev.ID, "seq", d.Seq)
	}
}

// PutChecksPolicy stores a group's heads-up policy (validated by the
// caller with ValidateStrict) and delivers it, one frame encoded once, to
// every connected capable device of the group; the others get it by replay
// or at their next hello. live is how many were connected.
func (g *Gateway) PutChecksPolicy(ctx context.Context, group string, p protocol.ChecksPolicy, by string) (pol store.ChecksPolicy, queued, live int, err error) {
	unlock := g.hub.LockAll()
	defer unlock()
	pol, ds, err := g.st.PutChecksPolicy(ctx, group, p, by, protocol.NewID(), time.Now())
	if err != nil {
		return pol, 0, 0, fmt.Errorf("send heads-up policy: %w", err)
	}
	return pol, len(ds), g.hub.Deliver(ds...), nil
}
