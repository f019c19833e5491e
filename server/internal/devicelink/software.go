package devicelink

import (
	"context"
	"encoding/json"
	"github.com/deskside/deskside/server/internal/events"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Software amnesty (issue 15, docs/software.md): the device reports its
// installed software (software.inventory: a full list, then changes
// against a hash); the gateway absorbs inventories in group commits
// (invBatcher), acks each after its batch committed, answers a change list
// whose base it does not hold with software.want, and tells the consoles
// with software.updated at most about once a second.

// Group commit bounds. A fleet connecting at once sends ~1,500 entries a
// desk; the queue holds at most maxQueuedEntries (a few hundred MB of
// decoded entries at the very most, ~45 MB typically) and a device whose
// inventory does not fit is told rate_limited and retries later, so memory
// cannot grow with the fleet and the read loop never waits.
const (
	maxQueuedEntries = 300_000
	batchEntries     = 75_000 // ~50 desks' full lists per transaction
	batchDevices     = 200    // or this many frames (change lists are small)
	batchWait        = time.Second
	softwareTellGap  = time.Second // software.updated at most this often
)

// invJob is one software.inventory waiting for its commit.
type invJob struct {
	l       *link
	env     protocol.Envelope
	inv     protocol.SoftwareInventory
	entries int
	at      time.Time
}

func (j invJob) size() int { return max(1, j.entries) }

// invBatcher stores inventories in group commits: one ApplyInventories per
// batch, so a title shared by the fleet is written once per batch.
type invBatcher struct {
	g    *Gateway
	mu   sync.Mutex
	q    []invJob
	held int // entries queued or in the batch being stored
	wake chan struct{}
	quit chan struct{}
	done chan struct{}

	newTitles int // since the last software.updated (run's goroutine only)
	changed   bool
	told      time.Time
	prompt    bool // IT's prompt policy as last read (run's goroutine only)
	promptAt  time.Time
}

func newInvBatcher(g *Gateway) *invBatcher {
	b := &invBatcher{g: g, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// add queues an inventory; false when the queue is full (or closed).
func (b *invBatcher) add(j invJob) bool {
	b.mu.Lock()
	select {
	case <-b.quit:
		b.mu.Unlock()
		return false
	default:
	}
	if b.held+j.size() > maxQueuedEntries {
		b.mu.Unlock()
		return false
	}
	b.q = append(b.q, j)
	b.held += j.size()
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return true
}

// full reports whether the queue is full, so a frame can be refused
// before its thousands of entries are decoded.
func (b *invBatcher) full() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held >= maxQueuedEntries
}

// Close stores what is queued, then stops; safe to call twice.
func (b *invBatcher) Close() {
	b.mu.Lock()
	select {
	case <-b.quit:
	default:
		close(b.quit)
	}
	b.mu.Unlock()
	<-b.done
}

// take removes the next batch from the queue: when it is big enough, its
// oldest frame waited batchWait, or force.
func (b *invBatcher) take(force bool) ([]invJob, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.q) == 0 {
		return nil, -1
	}
	n, entries := 0, 0
	for n < len(b.q) && n < batchDevices && entries < batchEntries {
		entries += b.q[n].size()
		n++
	}
	full := n == batchDevices || entries >= batchEntries || n < len(b.q)
	if wait := batchWait - time.Since(b.q[0].at); !force && !full && wait > 0 {
		return nil, wait
	}
	batch := slices.Clone(b.q[:n])
	b.q = slices.Delete(b.q, 0, n)
	return batch, 0
}

func (b *invBatcher) run() {
	defer close(b.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	tell := time.NewTicker(softwareTellGap)
	defer tell.Stop()
	for {
		closing := false
		select {
		case <-b.wake:
		case <-timer.C:
		case <-tell.C:
			b.tell()
		case <-b.quit:
			closing = true
		}
		for {
			batch, wait := b.take(closing)
			if batch == nil {
				if wait > 0 {
					timer.Reset(wait)
				}
				break
			}
			b.commit(batch)
		}
		if closing {
			b.tell()
			return
		}
	}
}

// tell sends the consoles one software.updated for what was stored since
// the last one.
func (b *invBatcher) tell() {
	if !b.changed {
		return
	}
	b.g.hub.Broadcast(protocol.KindSoftwareUpdated, protocol.SoftwareUpdated{NewTitles: b.newTitles})
	b.newTitles, b.changed, b.told = 0, false, time.Now()
}

func (b *invBatcher) commit(batch []invJob) {
	g := b.g
	defer func() {
		b.mu.Lock()
		for _, j := range batch {
			b.held -= j.size()
		}
		b.mu.Unlock()
	}()
	updates := make([]store.InventoryUpdate, len(batch))
	for i, j := range batch {
		updates[i] = store.InventoryUpdate{FrameID: j.env.ID, DeviceID: j.l.dev.ID, Inventory: j.inv, At: j.at}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*storeTimeout)
	defer cancel()
	// Asks go into devices' outboxes: with the prompt on, hold every
	// device lock over the commit and the delivery so they go out in seq
	// order (see hub.Lock). With it off no frame is stored, and the locks
	// are not taken: deliveries to other desks are never held up by a batch.
	if b.softwarePrompt(ctx) {
		unlock := g.hub.LockAll()
		defer unlock()
	}
	start := time.Now()
	out, err := g.st.ApplyInventories(ctx, updates)
	if err != nil {
		for _, j := range batch {
			j.l.storeFailed(j.env, err)
		}
		return
	}
	g.metrics.inventoryBatch.Observe(float64(len(batch)))
	g.log.Debug("inventories stored", "frames", len(batch), "took", time.Since(start))
	var asks []store.Delivery
	for i, j := range batch {
		o := out[i]
		switch {
		case o.Err != nil:
			j.l.refuse(protocol.ErrBadBody, "This inventory could not be stored: "+o.Err.Error(), j.env.ID)
		case o.Resync:
			j.l.send(protocol.KindSoftwareWant, protocol.SoftwareWant{Reason: "base_unknown", Have: o.Hash})
		default:
			j.l.send(protocol.KindAck, protocol.Ack{ID: j.env.ID, Ref: o.Hash})
			b.changed = true
			b.newTitles += o.NewTitles
			asks = append(asks, o.Asks...)
		}
	}
	if len(asks) > 0 {
		g.hub.Deliver(asks...)
	}
	if time.Since(b.told) >= softwareTellGap {
		b.tell()
	}
}

// softwarePrompt reports whether IT's policy turns the prompt on (stored
// by the console half under "software.policy"; absent: off). It is read
// at most every promptEvery: during a reconnect storm the read pool is
// queued deep, and the group commit must not wait behind it for a setting.
// On a read error the last value holds.
func (b *invBatcher) softwarePrompt(ctx context.Context) bool {
	if time.Since(b.promptAt) < promptEvery {
		return b.prompt
	}
	v, err := b.g.st.GetMeta(ctx, "software.policy")
	if err != nil {
		b.g.log.Warn("read software policy", "err", err)
		return b.prompt
	}
	var p store.SoftwarePolicy
	b.prompt = v != "" && json.Unmarshal([]byte(v), &p) == nil && p.Prompt
	b.promptAt = time.Now()
	return b.prompt
}

// promptEvery is how stale the gateway's view of the prompt policy may be.
const promptEvery = 5 * time.Second

// softwareInventory checks a software.inventory and hands it to the group
// commit, which acks it after its batch committed.
func (l *link) softwareInventory(env protocol.Envelope) {
	if !utf8.Valid(env.Body) {
		l.refuse(protocol.ErrBadBody, "This inventory is not valid UTF-8; the agent cleans names before sending.", env.ID)
		return
	}
	if l.g.inventories.full() {
		l.refuse(protocol.ErrRateLimited, busyInventories, env.ID)
		return
	}
	var b protocol.SoftwareInventory
	if !l.decode(env, &b) {
		return
	}
	j := invJob{l: l, env: env, inv: b, entries: len(b.Entries) + len(b.Added) + len(b.Removed), at: time.Now().UTC()}
	if !l.g.inventories.add(j) {
		l.refuse(protocol.ErrRateLimited, busyInventories, env.ID)
	}
}

const busyInventories = "The server is busy taking in software lists; send it again in a minute."

// softwareAnswer stores a person's answer to software.ask.
func (l *link) softwareAnswer(ctx context.Context, env protocol.Envelope) {
	var b protocol.SoftwareAnswer
	if !l.decode(env, &b) {
		return
	}
	res, err := l.g.st.RecordSoftwareAnswer(ctx, env.ID, l.dev.ID, b, time.Now().UTC())
	if err != nil {
		l.storeFailed(env, err)
		return
	}
	l.ack(env, res)
	if !res.Duplicate {
		l.g.hub.Broadcast(protocol.KindSoftwareUpdated, protocol.SoftwareUpdated{Titles: []string{b.TitleID}})
		if b.Answer == protocol.AnswerForWork {
			l.publishSoftware(ctx, b)
		}
	}
}

// publishSoftware tells the event sinks a person reported software for
// work (after the answer is stored; a repeated frame publishes nothing).
func (l *link) publishSoftware(ctx context.Context, b protocol.SoftwareAnswer) {
	sw := &events.Software{TitleID: b.TitleID, DeviceID: l.dev.ID, Hostname: l.dev.Hostname}
	if t, err := l.g.st.SoftwareTitleDetail(ctx, b.TitleID, 1); err == nil {
		sw.Name, sw.Publisher = t.Name, t.Publisher
	} else {
		l.g.log.Warn("software title for the event", "title", b.TitleID, "err", err)
	}
	d := events.Data{Software: sw}
	if l.g.opt.PublicURL != "" {
		d.URL = l.g.opt.PublicURL + "/#/software/" + b.TitleID
	}
	l.g.opt.Events.Publish(ctx, events.New(events.SoftwareReported, d))
}

// softwareHash is what welcome says the server holds for a device that
// reports software ("" when none or on a read error: the agent then sends
// a full list, which is always safe).
func (g *Gateway) softwareHash(ctx context.Context, deviceID string, caps []string) string {
	if !slices.Contains(caps, protocol.CapSoftware) {
		return ""
	}
	h, err := g.st.DeviceSoftwareHash(ctx, deviceID)
	if err != nil {
		g.log.Warn("software hash at hello", "device", deviceID, "err", err)
		return ""
	}
	return h
}
