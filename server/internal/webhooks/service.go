// Package webhooks sends what happened on the help desk to other systems:
// signed Standard Webhooks deliveries, Slack and Microsoft Teams alerts.
// Its sink queues one delivery per subscribed endpoint durably in the
// store; its dispatcher sends them with per-endpoint workers, retries with
// backoff for up to a day, and refuses private-network targets unless an
// admin opted in (checked at dial time).
package webhooks

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/store"
)

// DefaultBackoff is how long the dispatcher waits after each failed
// attempt (the last step repeats) until Window has passed since the first.
var DefaultBackoff = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour}

// Options configures a Service. Zero values take defaults.
type Options struct {
	Store store.Store
	Log   *slog.Logger
	// ServerName titles chat messages ("Acme IT").
	ServerName string
	// Now is the clock (tests move it); default time.Now.
	Now func() time.Time
	// Backoff is the wait after each failed attempt; default DefaultBackoff.
	Backoff []time.Duration
	// Window is how long after its first attempt a delivery is retried
	// before it is marked failed; default 24 h.
	Window time.Duration
	// Timeout bounds one attempt, from dial to the last byte; default 10 s.
	Timeout time.Duration
	// MaxResponse is how much of an answer is read; more is an error.
	// Default 64 KB.
	MaxResponse int64
	// Poll is how often a worker looks for deliveries another node
	// queued (its own node wakes it at once); default 5 s.
	Poll time.Duration
	// ResendCooldown: "send again" on one delivery counts once per this
	// long; default 1 min.
	ResendCooldown time.Duration
	// RootCAs verifies endpoints' certificates; nil: the system's.
	RootCAs *x509.CertPool
	// Batch is how many deliveries a worker claims at once; default 8.
	Batch int
}

// Service is the webhook sink and dispatcher of one server node.
type Service struct {
	opt Options
	st  store.Store
	log *slog.Logger

	mu      sync.Mutex
	eps     []store.WebhookEndpoint // cached for Publish
	epsAt   time.Time
	workers map[string]*worker
	backlog []store.WebhookDelivery // deliveries the store refused; retried
	closed  bool

	reload chan struct{}
	stop   chan struct{}
	done   sync.WaitGroup
}

var _ events.Sink = (*Service)(nil)

// New builds the service; Start starts its dispatcher.
func New(opt Options) *Service {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if len(opt.Backoff) == 0 {
		opt.Backoff = DefaultBackoff
	}
	if opt.Window == 0 {
		opt.Window = 24 * time.Hour
	}
	if opt.Timeout == 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.MaxResponse == 0 {
		opt.MaxResponse = 64 << 10
	}
	if opt.Poll == 0 {
		opt.Poll = 5 * time.Second
	}
	if opt.ResendCooldown == 0 {
		opt.ResendCooldown = time.Minute
	}
	if opt.Batch == 0 {
		opt.Batch = 8
	}
	return &Service{opt: opt, st: opt.Store, log: opt.Log.With("component", "webhooks"), workers: map[string]*worker{},
		reload: make(chan struct{}, 1), stop: make(chan struct{})}
}

// NewSecret is a fresh signing secret in the Standard Webhooks form
// ("whsec_" and 32 random bytes in base64).
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// endpointsTTL bounds how stale Publish's view of the endpoints may be
// when another node changed them.
const endpointsTTL = 10 * time.Second

func (s *Service) endpoints(ctx context.Context) ([]store.WebhookEndpoint, error) {
	s.mu.Lock()
	if s.eps != nil && time.Since(s.epsAt) < endpointsTTL {
		eps := s.eps
		s.mu.Unlock()
		return eps, nil
	}
	s.mu.Unlock()
	eps, err := s.st.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.eps, s.epsAt = eps, time.Now()
	s.mu.Unlock()
	return eps, nil
}

// Reload makes the service read the endpoints again (call it after an
// endpoint was added, changed or removed).
func (s *Service) Reload() {
	s.mu.Lock()
	s.eps = nil
	s.mu.Unlock()
	select {
	case s.reload <- struct{}{}:
	default:
	}
}

// Publish implements events.Sink: one delivery per subscribed endpoint,
// stored durably before it returns. When the store refuses (briefly
// unavailable), the deliveries are kept in memory and stored again in
// the background, so the event is not lost while the server runs.
func (s *Service) Publish(ctx context.Context, ev events.Event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	eps, err := s.endpoints(ctx)
	if err != nil {
		s.log.Error("webhook endpoints unreadable; event not queued", "event", ev.ID, "type", ev.Type, "err", err)
		return
	}
	var ds []store.WebhookDelivery
	now := s.opt.Now()
	for _, e := range eps {
		if !wants(e, ev) {
			continue
		}
		body, err := Payload(e.Kind, ev, s.opt.ServerName)
		if err != nil {
			s.log.Error("webhook payload", "event", ev.ID, "endpoint", e.ID, "err", err)
			continue
		}
		ds = append(ds, store.WebhookDelivery{ID: DeliveryID(ev.ID, e.ID), EndpointID: e.ID, EventType: string(ev.Type),
			Payload: body, CreatedAt: now, NextAttemptAt: now})
	}
	if len(ds) == 0 {
		return
	}
	// Deliveries whose endpoint has a worker here with room are stored
	// claimed by this node and handed to it: no claim write, no wait.
	held := make([]*worker, len(ds))
	s.mu.Lock()
	for i := range ds {
		if w := s.workers[ds[i].EndpointID]; w != nil && w.reserve() {
			held[i] = w
			ds[i].LeaseUntil = now.Add(s.opt.lease())
		}
	}
	s.mu.Unlock()
	if err := s.st.EnqueueWebhookDeliveries(ctx, ds); err != nil {
		for i, w := range held {
			if w != nil {
				w.unreserve()
				ds[i].LeaseUntil = time.Time{}
			}
		}
		s.log.Warn("webhook deliveries kept in memory until the store answers", "event", ev.ID, "n", len(ds), "err", err)
		s.mu.Lock()
		if len(s.backlog)+len(ds) <= maxBacklog {
			s.backlog = append(s.backlog, ds...)
		} else {
			s.log.Error("webhook backlog full; deliveries dropped", "event", ev.ID, "n", len(ds))
		}
		s.mu.Unlock()
		return
	}
	for i, d := range ds {
		if w := held[i]; w != nil {
			w.fresh <- d // a place was reserved: never blocks
			if w.ctx.Err() != nil {
				w.drainFresh() // the worker stopped meanwhile: give it back to the queue
			}
		} else {
			s.Wake(d.EndpointID)
		}
	}
}

// maxBacklog bounds the deliveries held in memory while the store is away.
const maxBacklog = 10000

// DeliveryID is the webhook-id of ev's delivery to endpoint: stable, so
// storing it twice stores it once.
func DeliveryID(eventID, endpointID string) string { return eventID + "." + endpointID }

// Wake makes the endpoint's worker look for due deliveries now.
func (s *Service) Wake(endpointID string) {
	s.mu.Lock()
	w := s.workers[endpointID]
	s.mu.Unlock()
	if w != nil {
		w.wake()
		return
	}
	s.Reload()
}

// Resend queues a finished delivery again ("send again"); pressed many
// times at once, it sends once (store.ErrConflict for the others).
func (s *Service) Resend(ctx context.Context, endpointID, id string) (store.WebhookDelivery, error) {
	d, err := s.st.ResendWebhookDelivery(ctx, endpointID, id, s.opt.Now(), s.opt.ResendCooldown)
	if err != nil {
		return d, err
	}
	s.Wake(endpointID)
	return d, nil
}

// Start runs the dispatcher until Close.
func (s *Service) Start() {
	s.done.Add(1)
	go s.run()
}

// Close stops the workers (an attempt in flight is abandoned and its
// delivery left due) and waits for them. Safe to call twice.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.done.Wait()
	s.mu.Lock()
	lost := len(s.backlog)
	s.mu.Unlock()
	if lost > 0 {
		s.log.Error("webhook deliveries never reached the store", "n", lost)
	}
	return nil
}

// run keeps one worker per enabled endpoint and flushes the backlog.
func (s *Service) run() {
	defer s.done.Done()
	tick := time.NewTicker(s.opt.Poll)
	defer tick.Stop()
	var pruned time.Time
	for {
		s.flushBacklog()
		s.syncWorkers()
		if time.Since(pruned) > pruneEvery {
			pruned = time.Now()
			s.prune()
		}
		select {
		case <-s.stop:
			s.mu.Lock()
			ws := s.workers
			s.workers = map[string]*worker{}
			s.mu.Unlock()
			for _, w := range ws {
				w.halt()
			}
			return
		case <-s.reload:
		case <-tick.C:
		}
	}
}

// Finished deliveries are kept KeepDeliveries for the console, then
// pruned (checked every pruneEvery).
const (
	KeepDeliveries = 30 * 24 * time.Hour
	pruneEvery     = time.Hour
)

func (s *Service) prune() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if n, err := s.st.PruneWebhookDeliveries(ctx, s.opt.Now().Add(-KeepDeliveries)); err != nil {
		s.log.Warn("prune webhook deliveries", "err", err)
	} else if n > 0 {
		s.log.Info("pruned old webhook deliveries", "n", n)
	}
}

func (s *Service) flushBacklog() {
	s.mu.Lock()
	ds := s.backlog
	s.backlog = nil
	s.mu.Unlock()
	if len(ds) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.st.EnqueueWebhookDeliveries(ctx, ds); err != nil {
		s.mu.Lock()
		s.backlog = append(ds, s.backlog...)
		s.mu.Unlock()
		return
	}
	s.log.Info("webhook deliveries kept in memory are stored now", "n", len(ds))
	for _, d := range ds {
		s.Wake(d.EndpointID)
	}
}

func (s *Service) syncWorkers() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.mu.Lock()
	s.eps = nil
	s.mu.Unlock()
	eps, err := s.endpoints(ctx)
	if err != nil {
		s.log.Warn("webhook endpoints unreadable", "err", err)
		return
	}
	want := map[string]store.WebhookEndpoint{}
	for _, e := range eps {
		if !e.Disabled {
			want[e.ID] = e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for id, w := range s.workers {
		if e, ok := want[id]; !ok || e.URL != w.ep.URL || e.AllowPrivate != w.ep.AllowPrivate || e.Secret != w.ep.Secret || e.Kind != w.ep.Kind {
			go w.halt()
			delete(s.workers, id)
		}
	}
	for id, e := range want {
		if _, ok := s.workers[id]; !ok {
			w := newWorker(s, e)
			s.workers[id] = w
			s.done.Add(1)
			go func() {
				defer s.done.Done()
				w.run()
			}()
		}
	}
}

// errClosed marks an attempt abandoned because the service is closing.
var errClosed = errors.New("webhooks: closing")
