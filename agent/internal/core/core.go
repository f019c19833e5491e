// Package core is the one object the agent's UI, CLI and local API talk to:
// it owns the local store, the server link and the system collector, keeps
// the connection state in warm words, publishes events (message received,
// request updated, announcement) and performs the user's actions (raise a
// request with an optional screenshot, reply, rate, reopen, mark read,
// "what IT can see"). Everything the user writes is committed to disk
// before an action returns. It imports no UI.
package core

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/checks"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/link"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/agent/internal/sysinfo"
	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/version"
)

// Config wires a Core. Store and Collector are required.
type Config struct {
	Store     *store.Store
	Collector sysinfo.Collector
	// Creds are the device credentials; nil means not enrolled yet, and
	// Enroll (if set) is called by Run until it succeeds.
	Creds *enroll.Credentials
	// Enroll obtains credentials (from an enrolment config file); Run saves
	// nothing itself — Enroll must persist what it returns.
	Enroll  func(ctx context.Context) (*enroll.Credentials, error)
	Log     *slog.Logger
	RootCAs *x509.CertPool // tests
	// Link adjusts the link's config (tests: backoff, intervals).
	Link func(*link.Config)
	// SnapshotEvery re-sends the snapshot on connect when the last one the
	// server has is older than this (default 30 min).
	SnapshotEvery time.Duration

	// Hooks for the self-updater (agent/internal/update), which the core
	// does not import. Each is optional.

	// Enrolled is called once Run knows the credentials (at once when
	// already enrolled, else after enrolment), before the link starts.
	Enrolled func(ctx context.Context, creds *enroll.Credentials)
	// Welcomed is called each time the server accepts the link's hello.
	// It must not block.
	Welcomed func()
	// UpdateAvailable receives each update.available the server sends
	// (once per frame). It must not block. Setting it advertises the
	// "update" capability in hello.
	UpdateAvailable func(offer protocol.UpdateAvailable)
	// BusyQuiet is how long after a window last did something Busy still
	// says the user is at it (default 2 min).
	BusyQuiet time.Duration
	// SuggestWait is how long article suggestions wait for the server
	// before the offline copy answers (default 2 s).
	SuggestWait time.Duration
	// Checks turns the heads-up checks on (nil: off). Its Report,
	// Notify, Changed and State are the core's; the rest (Env, Interval,
	// Opener…) is the caller's.
	Checks *checks.Config
	// Software turns the software inventory and amnesty on (nil: off).
	Software *SoftwareConfig
}

// Core is the agent. Create with New, start with Run, stop by cancelling
// Run's context and then Close.
type Core struct {
	cfg  Config
	st   *store.Store
	sys  sysinfo.Collector
	log  *slog.Logger
	kick chan struct{}

	snapMu sync.Mutex // serialises snapshot collection and queueing

	mu       sync.Mutex
	conn     agentapi.Connection
	creds    *enroll.Credentials
	link     *link.Link
	subs     map[int]chan agentapi.Event
	nextSub  int
	ackWait  map[string]chan struct{} // envelope id → closed on ack
	telStop  context.CancelFunc
	lastSnap time.Time

	lastUser atomic.Int64 // unix nanoseconds of the last window action (see Busy)

	articles articlesHTTP   // self-help: the article paths' HTTPS client
	syncMu   sync.Mutex     // one offline-articles sync at a time
	checks   *checks.Runner // nil: heads-up checks off
	sw       softwareState  // software amnesty (sw.on: on)

	expect []protocol.Expectation // the help desk's last promises (c.mu), kept in the store
}

// New returns a Core; it does not connect until Run.
func New(cfg Config) (*Core, error) {
	if cfg.Store == nil || cfg.Collector == nil {
		return nil, errors.New("core: store and collector are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.SnapshotEvery <= 0 {
		cfg.SnapshotEvery = 30 * time.Minute
	}
	if cfg.BusyQuiet <= 0 {
		cfg.BusyQuiet = 2 * time.Minute
	}
	if cfg.SuggestWait <= 0 {
		cfg.SuggestWait = suggestWait
	}
	c := &Core{cfg: cfg, st: cfg.Store, sys: cfg.Collector, log: cfg.Log.With("component", "core"),
		kick: make(chan struct{}, 1), subs: map[int]chan agentapi.Event{}, ackWait: map[string]chan struct{}{}, creds: cfg.Creds}
	c.conn = agentapi.Connection{State: agentapi.ConnOffline, Detail: MsgOffline, Since: time.Now().UTC(), AgentVersion: version.Version}
	if cfg.Creds == nil {
		c.conn.State, c.conn.Detail = agentapi.ConnEnrolling, MsgNotEnrolled
	} else {
		c.conn.Server, c.conn.DeviceID, c.conn.ServerName = cfg.Creds.Server, cfg.Creds.DeviceID, cfg.Creds.ServerName
	}
	if cfg.Checks != nil {
		c.checks = c.newChecks(*cfg.Checks)
	}
	c.initSoftware(cfg.Software)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.loadExpectations(ctx)
	return c, nil
}

// Run enrols if needed, then keeps the link up until ctx is done.
func (c *Core) Run(ctx context.Context) error {
	if c.checks != nil {
		// Checks run offline and before enrolment too.
		go c.runChecks(ctx)
	}
	if c.sw.on {
		// The inventory is collected offline and before enrolment too.
		go c.runSoftware(ctx)
	}
	creds, err := c.ensureEnrolled(ctx)
	if err != nil || creds == nil {
		return err // nil creds: ctx ended before enrolment
	}
	if c.cfg.Enrolled != nil {
		c.cfg.Enrolled(ctx, creds)
	}
	lc := link.Config{Server: creds.Server, DeviceID: creds.DeviceID, Secret: creds.Secret, Pin: creds.PinBytes(),
		RootCAs: c.cfg.RootCAs, Handler: (*handler)(c), Log: c.cfg.Log}
	if c.cfg.Link != nil {
		c.cfg.Link(&lc)
	}
	l, err := link.New(lc)
	if err != nil {
		c.setState(agentapi.ConnOffline, err, time.Time{})
		return fmt.Errorf("start link: %w", err)
	}
	c.mu.Lock()
	c.link = l
	c.mu.Unlock()
	return l.Run(ctx)
}

func (c *Core) ensureEnrolled(ctx context.Context) (*enroll.Credentials, error) {
	c.mu.Lock()
	creds := c.creds
	c.mu.Unlock()
	if creds != nil {
		return creds, nil
	}
	if c.cfg.Enroll == nil {
		c.setState(agentapi.ConnEnrolling, enroll.ErrNotEnrolled, time.Time{})
		<-ctx.Done()
		return nil, nil
	}
	for attempt := 0; ; attempt++ {
		c.setDetail(agentapi.ConnEnrolling, MsgEnrolling, nil)
		creds, err := c.cfg.Enroll(ctx)
		if err == nil {
			c.mu.Lock()
			c.creds = creds
			c.conn.Server, c.conn.DeviceID, c.conn.ServerName = creds.Server, creds.DeviceID, creds.ServerName
			c.mu.Unlock()
			return creds, nil
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		wait := link.Backoff(attempt, 2*time.Second, 5*time.Minute, 0.5+0.5*randFloat())
		if errors.Is(err, enroll.ErrBadToken) {
			wait = time.Hour // a new code has to come from IT
		}
		c.log.Warn("enrol", "err", err, "retry_in", wait)
		c.setDetail(agentapi.ConnEnrolling, Words(err), err)
		select {
		case <-ctx.Done():
			return nil, nil
		case <-c.kick:
		case <-time.After(wait):
		}
	}
}

// Close stops telemetry; the store is the caller's to close.
func (c *Core) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.telStop != nil {
		c.telStop()
		c.telStop = nil
	}
	for id, ch := range c.subs {
		close(ch)
		delete(c.subs, id)
	}
	c.sw.mu.Lock()
	for _, t := range []*time.Timer{c.sw.retryT, c.sw.composeT} {
		if t != nil {
			t.Stop()
		}
	}
	c.sw.mu.Unlock()
	return nil
}

var _ agentapi.Backend = (*Core)(nil)

// Status implements agentapi.Backend: the link's state with fresh counters.
// A counter the store cannot read stays 0: the state is what the user needs
// to see, so it never fails.
func (c *Core) Status(ctx context.Context) (agentapi.Connection, error) {
	c.mu.Lock()
	s, expect := c.conn, c.expect
	c.mu.Unlock()
	s.Expectations = c.expectations(expect, time.Now())
	var err error
	if s.Unread, err = c.st.Unread(ctx); err != nil {
		c.log.Debug("count unread", "err", err)
	}
	if s.Pending, err = c.st.PendingCount(ctx); err != nil {
		c.log.Debug("count pending", "err", err)
	}
	return s, nil
}

// connection is Status for the core's own events.
func (c *Core) connection() agentapi.Connection {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, _ := c.Status(ctx)
	return s
}

func (c *Core) setDetail(state agentapi.ConnState, detail string, err error) {
	c.mu.Lock()
	if c.conn.State != state {
		c.conn.Since = time.Now().UTC()
	}
	c.conn.State, c.conn.Detail, c.conn.NextRetry = state, detail, time.Time{}
	c.conn.LastError = ""
	if err != nil {
		c.conn.LastError = err.Error()
	}
	c.mu.Unlock()
	s := c.connection()
	c.publish(agentapi.Event{Type: agentapi.EventConnection, Connection: &s})
}

func (c *Core) setState(state agentapi.ConnState, err error, next time.Time) {
	detail := MsgConnecting
	switch state {
	case agentapi.ConnOnline:
		detail = MsgOnline
	case agentapi.ConnOffline, agentapi.ConnEnrolling:
		detail = Words(err)
	}
	c.mu.Lock()
	if c.conn.State != state {
		c.conn.Since = time.Now().UTC()
	}
	c.conn.State, c.conn.Detail, c.conn.NextRetry = state, detail, next
	if err != nil {
		c.conn.LastError = err.Error()
	} else if state == agentapi.ConnOnline {
		c.conn.LastError = ""
	}
	c.mu.Unlock()
	s := c.connection()
	c.publish(agentapi.Event{Type: agentapi.EventConnection, Connection: &s})
}

// Events implements agentapi.Backend: the current connection, then every
// event, until ctx ends or the core closes. A slow subscriber misses events
// rather than slowing the agent (it can re-read state).
func (c *Core) Events(ctx context.Context) (<-chan agentapi.Event, error) {
	in, cancel := c.subscribe()
	// Subscribed before the state is read, so no change falls in between.
	s := c.connection()
	out := make(chan agentapi.Event)
	go func() {
		defer close(out)
		defer cancel()
		ev, ok := agentapi.Event{Type: agentapi.EventConnection, At: time.Now().UTC(), Connection: &s}, true
		for {
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
			select {
			case ev, ok = <-in:
				if !ok {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// subscribe returns the core's events until cancel (or Close).
func (c *Core) subscribe() (<-chan agentapi.Event, func()) {
	ch := make(chan agentapi.Event, 64)
	c.mu.Lock()
	id := c.nextSub
	c.nextSub++
	c.subs[id] = ch
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if ch, ok := c.subs[id]; ok {
			delete(c.subs, id)
			close(ch)
		}
	}
}

func (c *Core) publish(ev agentapi.Event) {
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	if ev.Request != nil {
		c.promise(ev.Request)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, ch := range c.subs {
		select {
		case ch <- ev:
		default:
			c.log.Warn("event dropped: slow subscriber", "subscriber", id, "type", ev.Type)
		}
	}
}

// kickLink asks the link to send now (or to stop waiting and reconnect).
func (c *Core) kickLink() {
	c.mu.Lock()
	l := c.link
	c.mu.Unlock()
	if l != nil {
		l.Kick()
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}
