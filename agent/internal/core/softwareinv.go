package core

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/inventory"
	"github.com/deskside/deskside/agent/internal/link"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Software inventory: collected at start (after a jitter, so a fleet that
// boots at nine does not collect and send at once), then twice a day, and
// at once when the server asks (software.want). The list goes on the link,
// not through the outbox — it can always be collected again — but the last
// list the server acknowledged is kept in the store, because it is the
// base of the next change list, across restarts too.

// SoftwareReport is what one collection found.
type SoftwareReport struct {
	Entries   []protocol.SoftwareEntry
	Truncated bool // the collectors found more than they returned
	// Failed lists the sources that could not be read this time: their
	// entries from before are kept, never reported removed.
	Failed []protocol.SoftwareSource
}

// CollectInstalled reads this computer's software sources (the package
// databases, per-user apps, the Uninstall keys, app bundles; see
// agent/internal/inventory). It never fails as a whole: a source present
// but unreadable is in Failed, and its earlier entries are kept.
func CollectInstalled(ctx context.Context) (SoftwareReport, error) {
	rep := inventory.Collect(ctx, inventory.Options{})
	out := SoftwareReport{Entries: rep.Entries, Truncated: rep.Truncated}
	for _, f := range rep.Failed {
		out.Failed = append(out.Failed, f.Source)
		slog.Warn("software source unreadable; keeping what it listed before", "source", f.Source, "err", f.Err)
	}
	return out, nil
}

// SoftwareConfig turns the software inventory and amnesty on.
type SoftwareConfig struct {
	// Collect reads what is installed; nil: this computer's own sources
	// (agent/internal/inventory, see CollectInstalled).
	Collect func(ctx context.Context) (SoftwareReport, error)
	// StartJitter bounds the random wait before the first collection
	// (default 3 min; negative: none).
	StartJitter time.Duration
	// Every is the time between collections (default 12 h), each moved by
	// up to ± Jitter (default 1 h).
	Every, Jitter time.Duration
	// CatalogueEvery is how often the catalogue is fetched while online
	// (default 6 h); it is fetched at each connect too.
	CatalogueEvery time.Duration
	// RetryBase and RetryCap bound the backoff after the server said
	// rate_limited about an inventory (default 1 min and 1 h).
	RetryBase, RetryCap time.Duration
	// PromptCheck is how often held questions are looked at again
	// (default 1 h).
	PromptCheck time.Duration
	// Now is the prompts' clock (default time.Now); tests move it.
	Now func() time.Time
}

func (sc *SoftwareConfig) defaults() {
	if sc.Collect == nil {
		sc.Collect = CollectInstalled
	}
	if sc.StartJitter == 0 {
		sc.StartJitter = 3 * time.Minute
	}
	if sc.Every <= 0 {
		sc.Every = 12 * time.Hour
	}
	if sc.Jitter == 0 {
		sc.Jitter = time.Hour
	}
	if sc.CatalogueEvery <= 0 {
		sc.CatalogueEvery = 6 * time.Hour
	}
	if sc.RetryBase <= 0 {
		sc.RetryBase = time.Minute
	}
	if sc.RetryCap <= 0 {
		sc.RetryCap = time.Hour
	}
	if sc.PromptCheck <= 0 {
		sc.PromptCheck = time.Hour
	}
	if sc.Now == nil {
		sc.Now = time.Now
	}
}

const (
	// inflightFor is how long an inventory frame waits for its ack before
	// it counts as lost (the next send decides afresh).
	inflightFor = 5 * time.Minute
	// maxInventoryBody keeps a full list inside one frame, with room for
	// the envelope.
	maxInventoryBody = protocol.MaxFrameBytes - 64<<10
	// collectRetry is the wait after a collection that could not be kept
	// (a full disk), instead of half a day.
	collectRetry = time.Hour
)

// sentInventory is an inventory frame on its way.
type sentInventory struct {
	set  store.SoftwareSet
	full bool
	at   time.Time
}

// softwareState is the core's software amnesty state.
type softwareState struct {
	on   bool
	cfg  SoftwareConfig
	want chan bool // wakes the loop: collect now (true: then send a full list)

	collectMu sync.Mutex // one collection at a time
	sendMu    sync.Mutex // one send decision at a time
	promptMu  sync.Mutex // one prompt decision at a time
	catMu     sync.Mutex // one catalogue fetch at a time

	mu         sync.Mutex
	serverOK   bool   // the server's welcome listed CapSoftware
	serverHash string // the inventory the server holds, as last heard
	inflight   map[string]sentInventory
	again      bool // a send was asked for while one was in flight
	againFull  bool
	retries    int
	retryT     *time.Timer
	composing  time.Time   // the person is typing a request until then
	composeT   *time.Timer // re-checks the prompts when composing lapses
	catFetched time.Time

	send func(protocol.Envelope) error // tests: instead of the link
}

func (c *Core) initSoftware(cfg *SoftwareConfig) {
	if cfg == nil {
		return
	}
	c.sw.on, c.sw.cfg = true, *cfg
	c.sw.cfg.defaults()
	c.sw.want = make(chan bool, 1)
	c.sw.inflight = map[string]sentInventory{}
}

func (c *Core) now() time.Time {
	if c.sw.cfg.Now != nil {
		return c.sw.cfg.Now()
	}
	return time.Now()
}

// runSoftware collects on its schedule, re-checks held questions and
// refreshes the catalogue until ctx ends.
func (c *Core) runSoftware(ctx context.Context) {
	cfg := c.sw.cfg
	first := time.Duration(0)
	if cfg.StartJitter > 0 {
		first = time.Duration(randFloat() * float64(cfg.StartJitter))
	}
	collectT := time.NewTimer(first)
	defer collectT.Stop()
	promptT := time.NewTicker(cfg.PromptCheck)
	defer promptT.Stop()
	catT := time.NewTicker(cfg.CatalogueEvery)
	defer catT.Stop()
	c.checkPrompts(ctx) // questions kept from before a restart
	for {
		full := false
		select {
		case <-ctx.Done():
			return
		case <-collectT.C:
		case full = <-c.sw.want:
		case <-promptT.C:
			c.checkPrompts(ctx)
			continue
		case <-catT.C:
			c.refreshCatalogue(ctx, false)
			continue
		}
		next := cfg.Every + time.Duration((2*randFloat()-1)*float64(cfg.Jitter))
		if err := c.collectAndSend(ctx, full); err != nil && ctx.Err() == nil {
			c.log.Warn("software inventory", "err", err)
			if errors.Is(err, store.ErrDiskFull) {
				next = collectRetry
			}
		}
		if !collectT.Stop() {
			select {
			case <-collectT.C:
			default:
			}
		}
		collectT.Reset(next)
	}
}

// CollectSoftware reads what is installed now, keeps it, and sends the
// server what changed when online.
func (c *Core) CollectSoftware(ctx context.Context) error {
	if !c.sw.on {
		return errors.New("software inventory is off")
	}
	return c.collectAndSend(ctx, false)
}

func (c *Core) collectAndSend(ctx context.Context, full bool) error {
	cerr := c.collectSoftware(ctx)
	// A full list the server asked for goes out even when this collection
	// could not be kept: the one before is still a true list.
	if cerr == nil || full {
		if err := c.sendSoftware(ctx, full); err != nil {
			c.log.Info("software inventory not sent", "err", err)
		}
	}
	return cerr
}

// collectSoftware runs the collectors and keeps the result as the current
// inventory.
func (c *Core) collectSoftware(ctx context.Context) error {
	c.sw.collectMu.Lock()
	defer c.sw.collectMu.Unlock()
	start := time.Now()
	rep, err := c.sw.cfg.Collect(ctx)
	if err != nil {
		return err
	}
	prev, err := c.st.SoftwareCurrent(ctx)
	if err != nil {
		return err
	}
	set := mergeInventory(prev, rep, time.Now().UTC().Truncate(time.Millisecond))
	if err := c.st.SaveSoftwareCurrent(ctx, set); err != nil {
		return err
	}
	changed := prev == nil || prev.Hash != set.Hash
	c.log.Info("software collected", "entries", len(set.Entries), "changed", changed, "unreadable", set.Unreadable,
		"truncated", set.Truncated, "took", time.Since(start).Round(time.Millisecond))
	if changed {
		c.publish(agentapi.Event{Type: agentapi.EventSoftware})
		c.checkPrompts(ctx) // a title asked about may be gone
	}
	return nil
}

// mergeInventory is what a collection means: the entries found, plus the
// earlier entries of each source that could not be read this time (a
// failed read is not an uninstall), normalised, cut to fit one frame.
func mergeInventory(prev *store.SoftwareSet, rep SoftwareReport, at time.Time) store.SoftwareSet {
	failed := map[protocol.SoftwareSource]bool{}
	for _, s := range rep.Failed {
		failed[s] = true
	}
	in := make([]protocol.SoftwareEntry, 0, len(rep.Entries))
	for _, e := range rep.Entries {
		if !failed[e.Source] {
			in = append(in, e)
		}
	}
	if prev != nil {
		for _, e := range prev.Entries {
			if failed[e.Source] {
				in = append(in, e)
			}
		}
	}
	entries, truncated := protocol.NormalizeSoftware(in)
	entries, cut := fitFrame(entries)
	unreadable := make([]protocol.SoftwareSource, 0, len(failed))
	for s := range failed {
		unreadable = append(unreadable, s)
	}
	slices.Sort(unreadable)
	if len(unreadable) == 0 {
		unreadable = nil
	}
	return store.SoftwareSet{Entries: entries, Hash: protocol.SoftwareHash(entries), CollectedAt: at,
		Truncated: rep.Truncated || truncated || cut, Unreadable: unreadable}
}

// fitFrame cuts entries so a full list fits one frame (only lists of very
// long names come near; the cut keeps the canonical order's first ones).
func fitFrame(entries []protocol.SoftwareEntry) ([]protocol.SoftwareEntry, bool) {
	size := func(n int) int {
		b, _ := json.Marshal(entries[:n])
		return len(b)
	}
	if size(len(entries)) <= maxInventoryBody {
		return entries, false
	}
	lo, hi := 0, len(entries) // size(lo) fits, size(hi) does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if size(mid) <= maxInventoryBody {
			lo = mid
		} else {
			hi = mid
		}
	}
	return entries[:lo], true
}

// sendSoftware sends the current inventory as the server needs it: nothing
// when it holds it already, the changes since the acknowledged list when
// that is what it holds, else (or when full) the whole list. One frame is
// in flight at a time; a send asked for meanwhile follows its ack.
func (c *Core) sendSoftware(ctx context.Context, full bool) error {
	c.sw.sendMu.Lock()
	defer c.sw.sendMu.Unlock()
	if !c.online() {
		return link.ErrOffline
	}
	c.sw.mu.Lock()
	if !c.sw.serverOK {
		c.sw.mu.Unlock()
		return nil
	}
	for id, s := range c.sw.inflight {
		if time.Since(s.at) > inflightFor {
			delete(c.sw.inflight, id)
		}
	}
	if len(c.sw.inflight) > 0 {
		c.sw.again, c.sw.againFull = true, c.sw.againFull || full
		c.sw.mu.Unlock()
		return nil
	}
	serverHash := c.sw.serverHash
	c.sw.mu.Unlock()

	cur, err := c.st.SoftwareCurrent(ctx)
	if err != nil || cur == nil {
		return err // nothing collected yet: the first collection sends
	}
	acked, err := c.st.SoftwareAcked(ctx)
	if err != nil {
		return err
	}
	if !full && cur.Hash == serverHash {
		// The server holds exactly this list: it is the acknowledged one.
		if acked == nil || acked.Hash != cur.Hash {
			return c.st.SaveSoftwareAcked(ctx, store.SoftwareSet{Entries: cur.Entries, Hash: cur.Hash})
		}
		return nil
	}
	inv := protocol.SoftwareInventory{Hash: cur.Hash, Truncated: cur.Truncated, CollectedAt: cur.CollectedAt}
	if !full && acked != nil && serverHash != "" && acked.Hash == serverHash {
		added, removed := protocol.SoftwareDiff(acked.Entries, cur.Entries)
		if len(added)+len(removed) <= protocol.MaxSoftwareChanges {
			inv.BaseHash, inv.Added, inv.Removed = acked.Hash, added, removed
		}
	}
	if inv.BaseHash == "" {
		inv.Full, inv.Entries = true, cur.Entries
	}
	env, err := protocol.New(protocol.KindSoftwareInventory, inv)
	if err != nil {
		return err
	}
	c.sw.mu.Lock()
	c.sw.inflight[env.ID] = sentInventory{set: store.SoftwareSet{Entries: cur.Entries, Hash: cur.Hash}, full: inv.Full, at: time.Now()}
	c.sw.mu.Unlock()
	if err := c.sendFrame(env); err != nil {
		c.sw.mu.Lock()
		delete(c.sw.inflight, env.ID)
		c.sw.mu.Unlock()
		return err
	}
	c.log.Info("software inventory sent", "full", inv.Full, "entries", len(inv.Entries), "added", len(inv.Added),
		"removed", len(inv.Removed), "hash", inv.Hash)
	return nil
}

// sendFrame writes a volatile frame on the link (or the test's stand-in).
func (c *Core) sendFrame(env protocol.Envelope) error {
	if c.sw.send != nil {
		return c.sw.send(env)
	}
	c.mu.Lock()
	l := c.link
	c.mu.Unlock()
	if l == nil {
		return link.ErrOffline
	}
	return l.Send(env)
}

// softwareWelcome learns what the server holds from its welcome; anything
// in flight on the old connection is forgotten.
func (c *Core) softwareWelcome(w protocol.Welcome) {
	if !c.sw.on {
		return
	}
	c.sw.mu.Lock()
	defer c.sw.mu.Unlock()
	c.sw.serverOK = slices.Contains(w.Capabilities, protocol.CapSoftware)
	c.sw.serverHash = w.SoftwareHash
	c.resetInflightLocked()
}

func (c *Core) resetInflightLocked() {
	clear(c.sw.inflight)
	c.sw.again, c.sw.againFull = false, false
	if c.sw.retryT != nil {
		c.sw.retryT.Stop()
		c.sw.retryT = nil
	}
}

// softwareOnline sends what the server lacks and fetches the catalogue,
// once the link is up.
func (c *Core) softwareOnline(ctx context.Context) {
	c.sw.mu.Lock()
	ok := c.sw.serverOK
	c.sw.mu.Unlock()
	if !c.sw.on || !ok {
		return
	}
	if err := c.sendSoftware(ctx, false); err != nil {
		c.log.Info("software inventory not sent", "err", err)
	}
	c.refreshCatalogue(ctx, true)
}

// softwareOffline forgets frames in flight: the link they went on is gone.
func (c *Core) softwareOffline() {
	if !c.sw.on {
		return
	}
	c.sw.mu.Lock()
	c.resetInflightLocked()
	c.sw.mu.Unlock()
}

// softwareAck settles an inventory frame: its list is what the server
// holds, and the base of the next change list. false: not an inventory.
func (c *Core) softwareAck(ctx context.Context, a protocol.Ack) bool {
	if !c.sw.on {
		return false
	}
	c.sw.mu.Lock()
	sent, ok := c.sw.inflight[a.ID]
	if !ok {
		c.sw.mu.Unlock()
		return false
	}
	delete(c.sw.inflight, a.ID)
	c.sw.retries = 0
	match := a.Ref == "" || a.Ref == sent.set.Hash
	c.sw.serverHash = sent.set.Hash
	if !match {
		c.sw.serverHash = a.Ref
	}
	again, full := c.sw.again || !match, c.sw.againFull
	c.sw.again, c.sw.againFull = false, false
	c.sw.mu.Unlock()
	if match {
		if err := c.st.SaveSoftwareAcked(ctx, sent.set); err != nil {
			// The server has it all the same; the next welcome's hash says so.
			c.log.Warn("keep the acknowledged software list", "err", err)
		} else {
			c.publish(agentapi.Event{Type: agentapi.EventSoftware})
		}
	} else {
		c.log.Warn("server holds another software list than the one sent", "sent", sent.set.Hash, "server", a.Ref)
	}
	if again {
		go c.sendLater(context.WithoutCancel(ctx), full)
	}
	return true
}

func (c *Core) sendLater(ctx context.Context, full bool) {
	if err := c.sendSoftware(ctx, full); err != nil {
		c.log.Info("software inventory not sent", "err", err)
	}
}

// softwareRefused handles an error frame about an inventory: rate_limited
// waits (backoff with jitter) and tries again; a refused change list is
// followed by the full list; a refused full list waits for the next
// collection. false: not an inventory.
func (c *Core) softwareRefused(ctx context.Context, e protocol.Error) bool {
	if !c.sw.on || e.Ref == "" {
		return false
	}
	c.sw.mu.Lock()
	sent, ok := c.sw.inflight[e.Ref]
	if !ok {
		c.sw.mu.Unlock()
		return false
	}
	delete(c.sw.inflight, e.Ref)
	if e.Code == protocol.ErrRateLimited {
		wait := link.Backoff(c.sw.retries, c.sw.cfg.RetryBase, c.sw.cfg.RetryCap, 0.5+0.5*randFloat())
		c.sw.retries++
		if c.sw.retryT != nil {
			c.sw.retryT.Stop()
		}
		bg := context.WithoutCancel(ctx)
		c.sw.retryT = time.AfterFunc(wait, func() { c.sendLater(bg, sent.full) })
		c.sw.mu.Unlock()
		c.log.Info("server is busy; software inventory later", "retry_in", wait.Round(time.Millisecond))
		return true
	}
	c.sw.mu.Unlock()
	if !sent.full {
		c.log.Warn("server refused the software changes; sending the full list", "code", e.Code, "message", e.Message)
		go c.sendLater(context.WithoutCancel(ctx), true)
		return true
	}
	c.log.Warn("server refused the software list; trying again at the next collection", "code", e.Code, "message", e.Message)
	return true
}

// softwareWant: the server lacks the list or its base; collect now and
// send it whole.
func (c *Core) softwareWant(ctx context.Context, env protocol.Envelope) {
	if !c.sw.on {
		return
	}
	var w protocol.SoftwareWant
	_ = env.Decode(&w) // the reason is for the log only
	c.log.Info("server asked for the full software list", "reason", w.Reason, "have", w.Have)
	c.sw.mu.Lock()
	c.sw.serverHash = w.Have
	c.resetInflightLocked() // the change list that missed will not be acked
	c.sw.mu.Unlock()
	select {
	case c.sw.want <- true:
	default:
	}
}
