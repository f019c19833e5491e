package devicelink

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Heads-up checks (issue 14, docs/heads-up.md): the device reports a
// check's state when it changes (check.report, acked after the commit);
// the server sends IT's policy as a sequenced checks.policy frame, at hello
// when the device's group has a newer one, and to every capable device of
// a group when an admin saves it.

// historyPruneEvery is how often the gateway drops heads-up history older
// than the trend shows; a report that finds the last pruning older than
// this does it (one cheap DELETE, off the report's ack path).
const historyPruneEvery = time.Hour

// checkReport hands a check.report to the group commit (checkBatcher),
// which acks it after the commit; a repeated envelope id is acked as a
// duplicate and changes nothing. The link reads on meanwhile.
func (l *link) checkReport(env protocol.Envelope) {
	var b protocol.CheckReport
	if !l.decode(env, &b) {
		return
	}
	l.g.checks.add(checkJob{l: l, env: env, rep: b})
}

// maxCheckBatch bounds one group commit.
const maxCheckBatch = 500

// The consoles hear of stored changes at most every consoleEvery, in one
// device.checks frame of at most about maxConsoleChecks items: a fleet
// reporting at once is a few frames a second to each console, never one
// per commit (a console's send queue counts frames; measured, one frame
// per commit overflowed a technician's queue during a 19,000-desk burst).
const (
	consoleEvery     = 250 * time.Millisecond
	maxConsoleChecks = 2000
)

// checkJob is one check.report waiting for its commit.
type checkJob struct {
	l   *link
	env protocol.Envelope
	rep protocol.CheckReport
}

// checkBatcher stores check.reports in group commits: while one batch
// commits, the next gathers, so 19,000 desks reporting within a jitter
// window cost a few dozen durable writes a second, not 1,300, and the
// writer stays free for requests. Each report is acked only after its
// batch committed; the consoles get the changes a few times a second.
type checkBatcher struct {
	g       *Gateway
	in      chan checkJob
	done    chan struct{}
	quit    chan struct{}
	pending []protocol.DeviceCheck // stored, not yet told to the consoles (run's goroutine only)
}

func newCheckBatcher(g *Gateway) *checkBatcher {
	b := &checkBatcher{g: g, in: make(chan checkJob, 4*maxCheckBatch), done: make(chan struct{}), quit: make(chan struct{})}
	go b.run()
	return b
}

// add queues a report; it blocks while the queue is full (back pressure on
// the device's link). After Close the report is dropped unacked: the
// device sends it again.
func (b *checkBatcher) add(j checkJob) {
	select {
	case b.in <- j:
	case <-b.quit:
	}
}

// Close stops after the batch in flight; safe to call twice.
func (b *checkBatcher) Close() {
	select {
	case <-b.quit:
	default:
		close(b.quit)
	}
	<-b.done
}

func (b *checkBatcher) run() {
	defer close(b.done)
	tick := time.NewTicker(consoleEvery)
	defer tick.Stop()
	batch := make([]checkJob, 0, maxCheckBatch)
	for {
		select {
		case j := <-b.in:
			batch = append(batch[:0], j)
		case <-tick.C:
			b.tell()
			continue
		case <-b.quit:
			b.tell()
			return
		}
	gather:
		for len(batch) < maxCheckBatch {
			select {
			case j := <-b.in:
				batch = append(batch, j)
			default:
				break gather
			}
		}
		b.commit(batch)
		if len(b.pending) >= maxConsoleChecks {
			b.tell()
		}
	}
}

// tell sends the consoles the changes stored since the last time, as one
// device.checks frame.
func (b *checkBatcher) tell() {
	if len(b.pending) == 0 {
		return
	}
	b.g.hub.Broadcast(protocol.KindDeviceChecks, protocol.DeviceChecks{Checks: b.pending})
	b.pending = nil
	b.g.maybePruneHistory()
}

func (b *checkBatcher) commit(batch []checkJob) {
	g := b.g
	items := make([]store.CheckItem, len(batch))
	for i, j := range batch {
		items[i] = store.CheckItem{FrameID: j.env.ID, DeviceID: j.l.dev.ID, Report: j.rep}
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	out, err := g.st.ReportChecks(ctx, items, time.Now())
	cancel()
	if err != nil {
		for _, j := range batch {
			j.l.storeFailed(j.env, err)
		}
		return
	}
	g.metrics.checkBatch.Observe(float64(len(batch)))
	for i, j := range batch {
		j.l.ack(j.env, out[i].Result)
		if out[i].Result.Duplicate {
			continue
		}
		g.metrics.checkReports.WithLabelValues(stateLabel(j.rep.State)).Inc()
		c := out[i].Check
		c.Hostname, c.User = j.l.dev.Hostname, j.l.dev.User
		b.pending = append(b.pending, c.ToWire())
		b.publish(j)
	}
}

// publish tells the event sinks a person fixed a heads-up item or asked
// IT about it (after the commit; a repeated report publishes nothing).
func (b *checkBatcher) publish(j checkJob) {
	t := events.HeadsUpFixed
	switch j.rep.State {
	case protocol.CheckFixed:
	case protocol.CheckAskedIT:
		t = events.HeadsUpAsked
	default:
		return
	}
	d := events.Data{HeadsUp: &events.HeadsUp{Check: j.rep.Check, DeviceID: j.l.dev.ID, Hostname: j.l.dev.Hostname}}
	if u := b.g.opt.PublicURL; u != "" {
		d.URL = u + "/#/devices/" + j.l.dev.ID
		if j.rep.RequestID != "" {
			d.URL = u + "/#/requests/" + j.rep.RequestID
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	b.g.opt.Events.Publish(ctx, events.New(t, d))
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
