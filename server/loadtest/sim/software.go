package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Software inventories (issue 15): every device sends its first full list
// (~1,500 entries) at a random moment within a window, as a fleet
// connecting after a rollout would, then a fifth of them a small change
// list. The fleet has 1,400 packages every desk shares and 100 per desk
// drawn from a long-tailed pool of 50,000 titles, a few installed per user.

const (
	swShared   = 1400
	swTail     = 100
	swPool     = 50_000
	swPerUser  = 40 // one tail title in swPerUser is a per-user install
	swChangeOf = 5  // one device in swChangeOf sends a change list later
)

// swInventory is device g's installed software, the same every time it is
// built (seeded by g), so a change list can name its base without the
// simulator keeping 28 million entries in memory.
func swInventory(g int) []protocol.SoftwareEntry {
	r := rand.New(rand.NewPCG(uint64(g), 15))
	es := make([]protocol.SoftwareEntry, 0, swShared+swTail)
	for i := range swShared {
		// Versions differ a little across the fleet, as point releases do.
		es = append(es, protocol.SoftwareEntry{Name: fmt.Sprintf("lib-shared-%04d", i), Version: fmt.Sprintf("1.%d.%d", i%7, r.IntN(3)),
			Publisher: "Debian", Source: protocol.SourceDpkg})
	}
	zipf := rand.NewZipf(r, 1.1, 4, swPool-1)
	for range swTail {
		// Long tail: most draws follow Zipf (a few popular apps), the rest
		// spread over the whole pool (the many apps one desk in a hundred has).
		n := int(zipf.Uint64())
		if r.IntN(10) < 4 {
			n = r.IntN(swPool)
		}
		e := protocol.SoftwareEntry{Name: fmt.Sprintf("tail-app-%05d", n), Version: fmt.Sprintf("%d.0", n%5), Source: protocol.SourceFlatpak,
			AppID: fmt.Sprintf("org.example.App%05d", n)}
		if n%swPerUser == 0 {
			e.Source, e.PerUser = protocol.SourceAppImage, true
		}
		es = append(es, e)
	}
	es, _ = protocol.NormalizeSoftware(es)
	return es
}

// swState is one device's inventory in flight.
type swState struct {
	g      int
	id     string // frame id being sent
	sentAt int64  // first send of the full list (unix nanos)
	full   bool
	base   string // the hash acknowledged for the full list (change lists)
}

// swRun is one software burst's bookkeeping, shared with device.handle.
type swRun struct {
	f        *Fleet
	mu       sync.Mutex
	frames   map[string]*swState // frame id → state
	fullAck  *Hist
	pending  atomic.Int64 // frames sent and not yet acked
	retries  atomic.Int64 // rate_limited answers (sent again later)
	wants    atomic.Int64
	errs     atomic.Int64
	lastAck  atomic.Int64 // unix nanos of the last full list acked
	acked    atomic.Int64 // full lists acked
	changes  atomic.Int64 // change lists acked
	sent     atomic.Int64
	deadline time.Time
}

// softwareBurst sends every live device's full list at a random moment
// within window seconds and waits until all are acked (up to 15 minutes
// after the window), then the change lists.
func (f *Fleet) softwareBurst(ctx context.Context, window float64) *swResult {
	if window <= 0 || len(f.devs) == 0 {
		return nil
	}
	w := time.Duration(window * float64(time.Second))
	run := &swRun{f: f, frames: map[string]*swState{}, fullAck: NewHist(), deadline: time.Now().Add(w + 15*time.Minute)}
	f.sw.Store(run)
	defer f.sw.Store(nil)
	order := rand.Perm(len(f.devs))
	offsets := make([]time.Duration, len(order))
	for i := range offsets {
		offsets[i] = time.Duration(rand.Int64N(int64(w)))
	}
	slices.Sort(offsets)
	start := time.Now()
	for i, at := range offsets {
		if ctx.Err() != nil {
			break
		}
		if d := time.Until(start.Add(at)); d > 0 {
			time.Sleep(d)
		}
		d := f.devs[order[i]]
		run.send(d, &swState{g: d.g, full: true, sentAt: time.Now().UnixNano()})
	}
	for run.pending.Load() > 0 && time.Now().Before(run.deadline) && ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
	}
	res := &swResult{Sent: int(run.sent.Load()), Acked: int(run.acked.Load()), Retries: int(run.retries.Load()),
		Wants: int(run.wants.Load()), Errors: int(run.errs.Load()), LastAckUnixNano: run.lastAck.Load(), StartUnixNano: start.UnixNano(),
		FullAck: run.fullAck.Export()}
	// Then changes only: a fifth of the desks install one more app.
	for run.pending.Load() > 0 && time.Now().Before(run.deadline.Add(time.Minute)) && ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
	}
	res.Changes = int(run.changes.Load())
	return res
}

// send builds and sends st's frame (a full list, or one added app against
// its acknowledged base).
func (s *swRun) send(d *device, st *swState) {
	es := swInventory(st.g)
	var inv protocol.SoftwareInventory
	if st.full {
		inv = protocol.SoftwareInventory{Full: true, Hash: protocol.SoftwareHash(es), Entries: es, CollectedAt: time.Now().UTC()}
	} else {
		add := []protocol.SoftwareEntry{{Name: fmt.Sprintf("new-tool-%d", st.g%300), Version: "1.0", Source: protocol.SourceSnap}}
		next := protocol.ApplySoftwareChanges(es, add, nil)
		inv = protocol.SoftwareInventory{BaseHash: st.base, Hash: protocol.SoftwareHash(next), Added: add, CollectedAt: time.Now().UTC()}
	}
	if st.id == "" {
		st.id = protocol.NewID()
		s.pending.Add(1)
		s.sent.Add(1)
	}
	s.mu.Lock()
	s.frames[st.id] = st
	s.mu.Unlock()
	if err := d.sendFrame(protocol.KindSoftwareInventory, st.id, inv); err != nil {
		s.errs.Add(1)
		s.later(d, st, 5*time.Second)
	}
}

// later sends st again after about after (the agent's retry).
func (s *swRun) later(d *device, st *swState, after time.Duration) {
	time.AfterFunc(after/2+time.Duration(rand.Int64N(int64(after))), func() {
		if time.Now().Before(s.deadline) {
			s.send(d, st)
		}
	})
}

// answered handles the server's answer to a software.inventory frame.
func (s *swRun) answered(d *device, env protocol.Envelope, now int64) {
	switch env.Type {
	case protocol.KindAck:
		var a protocol.Ack
		if env.Decode(&a) != nil {
			return
		}
		s.mu.Lock()
		st := s.frames[a.ID]
		delete(s.frames, a.ID)
		s.mu.Unlock()
		if st == nil {
			return
		}
		s.pending.Add(-1)
		if !st.full {
			s.changes.Add(1)
			return
		}
		s.fullAck.Record(time.Duration(now - st.sentAt))
		s.acked.Add(1)
		s.lastAck.Store(max(s.lastAck.Load(), now))
		if st.g%swChangeOf == 0 {
			s.later(d, &swState{g: st.g, base: a.Ref}, 20*time.Second)
		}
	case protocol.KindError:
		var e protocol.Error
		if env.Decode(&e) != nil {
			return
		}
		s.mu.Lock()
		st := s.frames[e.Ref]
		s.mu.Unlock()
		if st == nil {
			return
		}
		if e.Code == protocol.ErrRateLimited {
			s.retries.Add(1)
			s.later(d, st, 20*time.Second) // the agent backs off; 10–30 s here
			return
		}
		s.errs.Add(1)
		s.later(d, st, 10*time.Second)
	case protocol.KindSoftwareWant:
		s.wants.Add(1)
		s.mu.Lock()
		var mine *swState
		for id, st := range s.frames {
			if st.g == d.g && !st.full {
				mine = st
				delete(s.frames, id)
			}
		}
		s.mu.Unlock()
		if mine != nil {
			s.pending.Add(-1)
			s.send(d, &swState{g: d.g, full: true, sentAt: time.Now().UnixNano()})
		}
	}
}

// swResult is one shard's software burst.
type swResult struct {
	Sent            int       `json:"sent"`
	Acked           int       `json:"acked"`
	Changes         int       `json:"changes_acked"`
	Retries         int       `json:"rate_limited"`
	Wants           int       `json:"wants"`
	Errors          int       `json:"errors"`
	StartUnixNano   int64     `json:"start_unix_nano"`
	LastAckUnixNano int64     `json:"last_ack_unix_nano"`
	FullAck         *Snapshot `json:"full_ack"`
}

// software measures the route while every device sends its first full
// inventory within --software-window, and the server's memory meanwhile:
// the time until the last inventory is acked (absorbed), the route p99
// beside the route phase's, RSS sampled every 5 s.
func (r *Runner) software(ctx context.Context) error {
	took, pending, err := r.settle(ctx, 120*time.Second)
	if err != nil {
		return err
	}
	r.rep.add("software", "waited for delivery.cursor acks", fmt.Sprintf("%.1f s (%d still pending)", took.Seconds(), pending), "", nil)
	var rss []ServerStats
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			if st, err := Scrape(ctx, r.Target.URL()); err == nil {
				rss = append(rss, st)
			}
			select {
			case <-t.C:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	f, err := r.loadWith(ctx, LoadRequest{SoftwareWindow: r.Cfg.SoftwareWindow.Seconds()})
	close(stop)
	<-sampled
	if err != nil {
		return err
	}
	sw := f.Software
	if sw == nil {
		return fmt.Errorf("no shard ran the software burst")
	}
	peak, base := 0.0, 0.0
	for i, s := range rss {
		if i == 0 {
			base = s.RSS
		}
		peak = max(peak, s.RSS)
	}
	absorbed := time.Duration(sw.LastAckUnixNano - sw.StartUnixNano)
	base0, _ := r.rep.Details["route"].(routeFigures)
	within := func(with, without Summary) *bool {
		if without.Count == 0 || with.Count == 0 {
			return nil
		}
		return ptr(with.P99 <= without.P99*1.2)
	}
	r.rep.add("software", "full inventories acked", fmt.Sprintf("%d of %d sent (%d rate_limited and re-sent, %d wants, %d errors)",
		sw.Acked, sw.Sent, sw.Retries, sw.Wants, sw.Errors), fmt.Sprint(r.Cfg.Devices), ptr(sw.Acked >= r.Cfg.Devices))
	r.rep.add("software", "time from the first send to the last ack", fmt.Sprintf("%.0f s (window %s)", absorbed.Seconds(), r.Cfg.SoftwareWindow),
		"≤ 10 min", ptr(sw.Acked >= r.Cfg.Devices && absorbed <= 10*time.Minute))
	r.rep.add("software", "full list sent → acked", f.SwAck.String(), "", nil)
	r.rep.add("software", "change lists acked", fmt.Sprint(sw.Changes), "", nil)
	r.rep.add("software", "persisted: request device → technician", f.DevToTech.String()+fmt.Sprintf(" (without: p99 %.2f ms)", base0.DevToTech.P99), "p99 ≤ +20 %", within(f.DevToTech, base0.DevToTech))
	r.rep.add("software", "persisted: reply technician → device", f.TechToDev.String()+fmt.Sprintf(" (without: p99 %.2f ms)", base0.TechToDev.P99), "p99 ≤ +20 %", within(f.TechToDev, base0.TechToDev))
	r.rep.add("software", "in memory: telemetry device → console", f.Telemetry.String()+fmt.Sprintf(" (without: p99 %.2f ms)", base0.Telemetry.P99), "p99 ≤ +20 %", within(f.Telemetry, base0.Telemetry))
	r.rep.add("software", "request stored and acked", f.Ack.String(), "", nil)
	r.rep.add("software", "server RSS", fmt.Sprintf("peak %s (at start %s, at end %s, %d samples)", mib(peak), mib(base), mib(lastRSS(rss)), len(rss)), "bounded", nil)
	r.rep.add("software", "unexpected disconnects", fmt.Sprint(f.Unexpected), "0", ptr(f.Unexpected == 0))
	r.rep.Details["software"] = map[string]any{"route": f, "inventories": sw, "rss": rss, "absorbed_s": absorbed.Seconds()}
	if sw.Acked < r.Cfg.Devices {
		r.rep.fail("software: %d of %d full inventories acked", sw.Acked, r.Cfg.Devices)
	}
	return nil
}

func lastRSS(s []ServerStats) float64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1].RSS
}

// merge adds another shard's burst.
func (s *swResult) merge(o *swResult, h *Hist) *swResult {
	if o == nil {
		return s
	}
	if s == nil {
		s = &swResult{StartUnixNano: o.StartUnixNano}
	}
	s.Sent += o.Sent
	s.Acked += o.Acked
	s.Changes += o.Changes
	s.Retries += o.Retries
	s.Wants += o.Wants
	s.Errors += o.Errors
	s.StartUnixNano = min(s.StartUnixNano, o.StartUnixNano)
	s.LastAckUnixNano = max(s.LastAckUnixNano, o.LastAckUnixNano)
	h.Merge(o.FullAck)
	return s
}
