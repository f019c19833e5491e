// Package targets runs the help desk's response targets: it keeps the SLA
// policy in force on this node, sets due times on new requests, moves them
// when a wait on the employee ends, warns before a target slips, and keeps
// the honest expectation each device hears at hello.
package targets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/sla"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Defaults of Options.
const (
	DefaultInterval      = 30 * time.Second
	DefaultPromiseEvery  = 5 * time.Minute
	window               = 30 * 24 * time.Hour // the medians' look-back
	maxSamples           = 20000
	warnTimeout          = 20 * time.Second
	defaultZoneEnv       = "TZ"
	zoneinfoPathFragment = "zoneinfo/"
)

// Broadcaster tells every console (the hub).
type Broadcaster interface {
	Broadcast(kind protocol.Kind, body any)
}

// Options configure a Service.
type Options struct {
	Store store.Store
	Hub   Broadcaster // nil: no console toasts
	Log   *slog.Logger
	// Events hears request.target_slipping (nil: nobody).
	Events    events.Sink
	PublicURL string
	// Zone is the default policy's time zone ("" : the server's own zone
	// by its IANA name, else UTC).
	Zone string
	// Now is the clock (nil: time.Now); tests pass a fake one.
	Now func() time.Time
	// Interval is how often warnings are claimed and the policy re-read
	// (another node may have changed it); PromiseEvery how often the
	// 30-day medians are recomputed.
	Interval, PromiseEvery time.Duration
}

// Service is one node's response-target clock. Create with New, then
// Start; Close stops it.
type Service struct {
	opt      Options
	st       store.Store
	log      *slog.Logger
	clock    atomic.Pointer[sla.Clock]
	saved    atomic.Bool // the policy in force was saved by an admin (else the default)
	promises atomic.Pointer[promises]
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
	started  atomic.Bool
}

// promises are minutes to first answer per team name and urgency.
type promises map[string]map[protocol.Urgency]int

// New builds a Service with the default policy in force; Load (or Start)
// reads the saved one.
func New(opt Options) *Service {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Events == nil {
		opt.Events = events.Discard
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Interval <= 0 {
		opt.Interval = DefaultInterval
	}
	if opt.PromiseEvery <= 0 {
		opt.PromiseEvery = DefaultPromiseEvery
	}
	if opt.Zone == "" {
		opt.Zone = LocalZone()
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	s := &Service{opt: opt, st: opt.Store, log: opt.Log, stop: make(chan struct{}), done: make(chan struct{})}
	k, err := sla.Compile(sla.Default(opt.Zone))
	if err != nil { // an unknown Zone: fall back to UTC
		k, _ = sla.Compile(sla.Default("UTC"))
	}
	s.clock.Store(k)
	s.promises.Store(&promises{})
	return s
}

// LocalZone is the server's time zone by IANA name: $TZ, else the target
// of /etc/localtime, else "UTC".
func LocalZone() string {
	if tz := os.Getenv(defaultZoneEnv); tz != "" {
		if _, err := time.LoadLocation(tz); err == nil {
			return tz
		}
	}
	if p, err := os.Readlink("/etc/localtime"); err == nil {
		if i := strings.LastIndex(p, zoneinfoPathFragment); i >= 0 {
			if z := p[i+len(zoneinfoPathFragment):]; z != "" {
				if _, err := time.LoadLocation(z); err == nil {
					return z
				}
			}
		}
	}
	return "UTC"
}

// Start loads the policy and the medians and runs the warning loop until
// Close. The store's resume clock is set to this service.
func (s *Service) Start(ctx context.Context) {
	if !s.started.CompareAndSwap(false, true) {
		return
	}
	s.st.SetResumeClock(s.Resume)
	go s.run(ctx)
}

// Close stops the loop and waits for it; safe to call twice.
func (s *Service) Close() {
	s.once.Do(func() { close(s.stop) })
	if s.started.Load() {
		<-s.done
	}
}

func (s *Service) run(ctx context.Context) {
	defer close(s.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	s.Tick(ctx, true)
	t := time.NewTicker(s.opt.Interval)
	defer t.Stop()
	lastPromise := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			due := time.Since(lastPromise) >= s.opt.PromiseEvery
			if due {
				lastPromise = time.Now()
			}
			s.Tick(ctx, due)
		}
	}
}

// Tick is one round of the loop: re-read the policy, claim and send the
// warnings due now, and (with promise) recompute the medians. Errors are
// logged; the next round tries again.
func (s *Service) Tick(ctx context.Context, promise bool) {
	if err := s.Load(ctx); err != nil {
		s.log.Warn("read the response-target policy", "err", err)
	}
	if err := s.Warn(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("response-target warnings", "err", err)
	}
	if promise {
		if err := s.RefreshPromises(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("response-time medians", "err", err)
		}
	}
}

// Load reads the saved policy (the default when none is saved). A saved
// policy that no longer compiles (a time zone the system lost) keeps the
// one in force and is reported.
func (s *Service) Load(ctx context.Context) error {
	raw, err := s.st.SLAPolicy(ctx)
	if err != nil {
		return err
	}
	if raw == nil {
		if s.saved.Swap(false) {
			k, _ := sla.Compile(sla.Default(s.opt.Zone))
			if k != nil {
				s.clock.Store(k)
			}
		}
		return nil
	}
	cur := s.clock.Load()
	if s.saved.Load() && cur != nil {
		if b, err := json.Marshal(cur.Policy); err == nil && string(b) == string(raw) {
			return nil // unchanged
		}
	}
	p, err := sla.Decode(raw)
	if err != nil {
		return fmt.Errorf("the saved policy is not valid: %w", err)
	}
	k, err := sla.Compile(p)
	if err != nil {
		return err
	}
	s.clock.Store(k)
	s.saved.Store(true)
	return nil
}

// Policy is the policy in force and whether an admin saved it (false: the
// default).
func (s *Service) Policy() (sla.Policy, bool) { return s.clock.Load().Policy, s.saved.Load() }

// SetPolicy validates, saves and puts p in force on this node at once
// (other nodes within Interval). Due times already set are kept: a
// promise made to an employee stands; new requests get the new targets.
func (s *Service) SetPolicy(ctx context.Context, p sla.Policy) error {
	k, err := sla.Compile(p)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode the policy: %w", err)
	}
	if err := s.st.SetSLAPolicy(ctx, raw); err != nil {
		return err
	}
	s.clock.Store(k)
	s.saved.Store(true)
	// Teams and targets may have changed: promise from the new ones now,
	// not in up to PromiseEvery (a failure keeps the old promises).
	if err := s.RefreshPromises(ctx); err != nil {
		s.log.Warn("response-time medians", "err", err)
	}
	return nil
}

// Dues are a new request's due times (zero: no target), counted from at
// on the calendar of the team serving group.
func (s *Service) Dues(group string, u protocol.Urgency, at time.Time) (firstResponse, resolution time.Time) {
	fr, res := s.clock.Load().Dues(group, u, at)
	return fr.UTC(), res.UTC()
}

// Resume is the store's ResumeClock: the dues move later by the working
// time the request waited on the employee.
func (s *Service) Resume(group string, r *store.Request, now time.Time) {
	s.clock.Load().Resume(group, r.WaitingSince, now, &r.FirstResponseDue, &r.ResolutionDue)
	r.FirstResponseDue, r.ResolutionDue = utc(r.FirstResponseDue), utc(r.ResolutionDue)
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}

// Expectations are what a device in group hears at hello: per urgency,
// the usual minutes to a first answer (in working time) and, when IT is
// off now, when it is back. From memory: no store query per hello.
func (s *Service) Expectations(group string, now time.Time) []protocol.Expectation {
	k := s.clock.Load()
	team := k.Team(group)
	next := team.NextOpen(now)
	byU := (*s.promises.Load())[team.Name]
	var out []protocol.Expectation
	for _, u := range []protocol.Urgency{protocol.UrgencyBlocking, protocol.UrgencyWhenYouCan} {
		m, ok := byU[u]
		if !ok { // no medians computed yet: the target alone
			m = k.Policy.Targets.For(u).FirstResponseMinutes
		}
		if m <= 0 && next.IsZero() {
			continue
		}
		e := protocol.Expectation{Urgency: u, FirstResponseMinutes: m, Working: m > 0}
		if !next.IsZero() {
			e.NextOpen = next.UTC()
		}
		out = append(out, e)
	}
	return out
}

// RefreshPromises recomputes the promises from the last 30 days' first
// responses, counted in each team's working time.
func (s *Service) RefreshPromises(ctx context.Context) error {
	now := s.opt.Now()
	samples, err := s.st.FirstResponses(ctx, now.Add(-window), maxSamples)
	if err != nil {
		return err
	}
	k := s.clock.Load()
	worked := map[string]map[protocol.Urgency][]time.Duration{}
	for _, f := range samples {
		team := k.Team(f.Group)
		if worked[team.Name] == nil {
			worked[team.Name] = map[protocol.Urgency][]time.Duration{}
		}
		worked[team.Name][f.Urgency] = append(worked[team.Name][f.Urgency], team.WorkingBetween(f.CreatedAt, f.FirstResponseAt))
	}
	p := promises{}
	for _, team := range k.Teams() {
		p[team.Name] = map[protocol.Urgency]int{}
		for _, u := range []protocol.Urgency{protocol.UrgencyBlocking, protocol.UrgencyWhenYouCan} {
			p[team.Name][u] = sla.Promise(k.Policy.Targets.For(u).FirstResponseMinutes, worked[team.Name][u])
		}
	}
	s.promises.Store(&p)
	return nil
}

// Warn claims the warnings due now and sends each once: an event for the
// integrations (webhooks, chat, email) and a console frame for a toast.
// A claim is made before the warning is sent, so a node that dies in
// between loses that warning rather than sending it twice.
func (s *Service) Warn(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, warnTimeout)
	defer cancel()
	warnBefore := time.Duration(s.clock.Load().Policy.WarnBeforeMinutes) * time.Minute
	ws, err := s.st.ClaimSLAWarnings(ctx, s.opt.Now(), warnBefore)
	if err != nil {
		return err
	}
	names := map[string]string{}
	var errs []error
	for _, w := range ws {
		r := w.Request
		name, ok := names[r.Assignee]
		if !ok && r.Assignee != "" {
			t, err := s.st.Technician(ctx, r.Assignee)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
			name, names[r.Assignee] = t.Name, t.Name
		}
		wire := r.ToWire()
		d := events.Data{Request: &wire, AssigneeName: name, Target: &events.Target{Kind: w.Kind, Due: w.Due}}
		if s.opt.PublicURL != "" {
			d.URL = s.opt.PublicURL + "/#/requests/" + r.ID
		}
		s.opt.Events.Publish(ctx, events.New(events.TargetSlipping, d))
		if s.opt.Hub != nil {
			s.opt.Hub.Broadcast(protocol.KindRequestSlipping, protocol.RequestSlipping{Request: wire, Target: w.Kind, Due: w.Due,
				Overdue: w.Overdue, AssigneeName: name})
		}
		s.log.Info("response target slipping", "request", r.ID, "target", w.Kind, "due", w.Due, "overdue", w.Overdue,
			"assignee", r.Assignee)
	}
	return errors.Join(errs...)
}
