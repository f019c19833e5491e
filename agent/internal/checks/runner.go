package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Result is a check's current result, as the Heads-up window and
// `deskside-agent checks` show it.
type Result struct {
	Kind     protocol.CheckKind  `json:"kind"`
	State    protocol.CheckState `json:"state"`
	Title    string              `json:"title"`
	Summary  string              `json:"summary"`
	Evidence map[string]string   `json:"evidence,omitempty"`
	Deadline time.Time           `json:"deadline,omitzero"`
	// Fix is the fix "Fix it for me" runs ("" when there is none).
	Fix          Fix       `json:"fix,omitempty"`
	SnoozedUntil time.Time `json:"snoozed_until,omitzero"`
	RequestID    string    `json:"request_id,omitempty"`
	HowToURL     string    `json:"how_to_url,omitempty"`
	ArticleID    string    `json:"article_id,omitempty"`
	FixURL       string    `json:"fix_url,omitempty"`
	ObservedAt   time.Time `json:"observed_at"`
}

// Attention reports whether the result asks something of the person (the
// tray's count): a warning not snoozed and not with IT.
func (r Result) Attention() bool { return r.State == protocol.CheckWarn }

// Report is the result as the wire's CheckReport.
func (r Result) Report() protocol.CheckReport {
	return protocol.CheckReport{Check: r.Kind, State: r.State, Summary: truncate(r.Summary, protocol.MaxTextRunes),
		Evidence: r.Evidence, Deadline: r.Deadline, SnoozedUntil: r.SnoozedUntil, RequestID: r.RequestID, ObservedAt: r.ObservedAt}
}

// item is what the Runner remembers about a check across rounds and
// restarts (saved through Persister).
type item struct {
	Reported     protocol.CheckState `json:"reported,omitempty"`
	SnoozedUntil time.Time           `json:"snoozed_until,omitzero"`
	AskedIT      string              `json:"asked_it,omitempty"`
	FixedAt      time.Time           `json:"fixed_at,omitzero"`
	PendingSince time.Time           `json:"pending_since,omitzero"`
	LastNotified time.Time           `json:"last_notified,omitzero"`

	result  Result  // not saved: the next round measures again
	finding Finding // the last probe's
}

// savedState is what Persister keeps: each check's memory, and the
// costly probes' answers with the state they were measured on (so an agent
// that starts at sign-in does not run apt-get -s again for nothing).
type savedState struct {
	Items map[protocol.CheckKind]*item `json:"items"`
	Memo  map[string]MemoEntry         `json:"memo,omitempty"`
}

// Persister keeps the Runner's memory (the agent store's meta table).
type Persister interface {
	Load(ctx context.Context) ([]byte, error)
	Save(ctx context.Context, b []byte) error
}

// Config wires a Runner.
type Config struct {
	Env Env
	Log *slog.Logger
	// State keeps what was reported, snoozed and asked across restarts
	// (optional: memory only).
	State Persister
	// Interval is the time between rounds (default 1 h), jittered ±20 %.
	Interval time.Duration
	// ReportJitter spreads a round's reports over up to this long so a
	// fleet with one policy does not report at once (default 5 min).
	ReportJitter time.Duration
	// Report sends a changed state durably (the outbox). A report that
	// fails is tried again after the next round.
	Report func(ctx context.Context, r protocol.CheckReport) error
	// Notify tells the person about a new warning (and again after
	// RemindHours; a password warning every day). Must not block.
	Notify func(Result)
	// Changed is called after the results changed (the UI's event).
	Changed func()
	// Opener, Restarter and CleanFolders carry out the fixes.
	Opener       Opener
	Restarter    *Restarter
	CleanFolders []string
}

// Runner runs the checks of the policy. Safe for concurrent use.
type Runner struct {
	cfg  Config
	env  *Env
	log  *slog.Logger
	kick chan time.Duration

	roundMu sync.Mutex // one round at a time
	mu      sync.Mutex
	policy  []protocol.CheckPolicy
	rev     int64
	items   map[protocol.CheckKind]*item
}

// NewRunner returns a Runner with the default policy; Load restores its
// memory.
func NewRunner(cfg Config) *Runner {
	cfg.Env.Defaults()
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.ReportJitter <= 0 {
		cfg.ReportJitter = 5 * time.Minute
	}
	if cfg.CleanFolders == nil {
		cfg.CleanFolders = CleanFolders(cfg.Env.GOOS, cfg.Env.Home)
	}
	if cfg.Opener == nil {
		cfg.Opener = OSOpener{Cmd: cfg.Env.Cmd, GOOS: cfg.Env.GOOS}
	}
	if cfg.Restarter == nil {
		cfg.Restarter = &Restarter{Rebooter: OSRebooter{Cmd: cfg.Env.Cmd, GOOS: cfg.Env.GOOS}}
	}
	r := &Runner{cfg: cfg, log: cfg.Log.With("component", "checks"), kick: make(chan time.Duration, 1),
		items: map[protocol.CheckKind]*item{}}
	r.env = &r.cfg.Env
	r.SetPolicy(protocol.DefaultChecksPolicy())
	return r
}

// Restarter is the Runner's restart planner (the UI shows its countdown).
func (r *Runner) Restarter() *Restarter { return r.cfg.Restarter }

// Load restores what was reported, snoozed and asked.
func (r *Runner) Load(ctx context.Context) error {
	if r.cfg.State == nil {
		return nil
	}
	b, err := r.cfg.State.Load(ctx)
	if err != nil || len(b) == 0 {
		return err
	}
	var saved savedState
	if err := json.Unmarshal(b, &saved); err != nil {
		r.log.Warn("checks state unreadable: starting afresh", "err", err)
		return nil
	}
	r.env.memo.restore(saved.Memo)
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, it := range saved.Items {
		if it != nil {
			r.items[k] = it
		}
	}
	return nil
}

func (r *Runner) save(ctx context.Context) {
	if r.cfg.State == nil {
		return
	}
	r.mu.Lock()
	b, err := json.Marshal(savedState{Items: r.items, Memo: r.env.memo.snapshot()})
	r.mu.Unlock()
	if err == nil {
		err = r.cfg.State.Save(ctx, b)
	}
	if err != nil {
		r.log.Warn("save checks state", "err", err)
	}
}

// SetPolicy applies IT's policy: the items this agent knows and that are
// valid, with zero thresholds meaning the defaults; every other item is
// logged and skipped, never fatal. It returns the items in use.
func (r *Runner) SetPolicy(p protocol.ChecksPolicy) []protocol.CheckPolicy {
	use, skipped := p.Usable()
	for _, err := range skipped {
		r.log.Warn("checks policy item skipped", "revision", p.Revision, "err", err)
	}
	for i := range use {
		use[i] = withDefaults(use[i])
	}
	r.mu.Lock()
	r.policy, r.rev = use, p.Revision
	r.mu.Unlock()
	return use
}

// withDefaults fills a policy item's zero thresholds. UpdatesDays keeps
// its zero: "warn at once".
func withDefaults(c protocol.CheckPolicy) protocol.CheckPolicy {
	d := protocol.DefaultCheckPolicy(c.Kind)
	if c.DiskFreePct == 0 {
		c.DiskFreePct = d.DiskFreePct
	}
	if c.DiskFreeGB == 0 {
		c.DiskFreeGB = d.DiskFreeGB
	}
	if c.UptimeDays == 0 {
		c.UptimeDays = d.UptimeDays
	}
	if c.PasswordDays == 0 {
		c.PasswordDays = d.PasswordDays
	}
	if c.BatteryHealthPct == 0 {
		c.BatteryHealthPct = d.BatteryHealthPct
	}
	if c.RemindHours == 0 {
		c.RemindHours = d.RemindHours
	}
	return c
}

// Kick asks Run for a round now, its reports spread over the jitter
// (a new policy reaches a whole group at once).
func (r *Runner) Kick() {
	select {
	case r.kick <- r.cfg.ReportJitter:
	default:
	}
}

// Run runs a round at start and then every Interval (±20 %), sending the
// changes after a random delay within ReportJitter, until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.Load(ctx); err != nil {
		r.log.Warn("load checks state", "err", err)
	}
	jitter := r.cfg.ReportJitter
	for {
		r.Round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if !sleep(ctx, time.Duration(rand.Float64()*float64(jitter))) {
			return nil
		}
		r.Flush(ctx)
		wait := time.Duration(float64(r.cfg.Interval) * (0.8 + 0.4*rand.Float64()))
		select {
		case <-ctx.Done():
			return nil
		case jitter = <-r.kick:
		case <-time.After(wait):
			jitter = r.cfg.ReportJitter
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Round runs every enabled check once, concurrently, and updates their
// states; it notifies new warnings but sends nothing (Flush does).
func (r *Runner) Round(ctx context.Context) []Result {
	r.roundMu.Lock()
	defer r.roundMu.Unlock()
	r.mu.Lock()
	pol := append([]protocol.CheckPolicy(nil), r.policy...)
	r.mu.Unlock()
	found := make([]Finding, len(pol))
	var wg sync.WaitGroup
	for i, p := range pol {
		if !p.Enabled {
			continue
		}
		wg.Go(func() { found[i] = Probe(ctx, r.env, p) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	var notify []Result
	r.mu.Lock()
	enabled := map[protocol.CheckKind]bool{}
	for i, p := range pol {
		if !p.Enabled {
			continue
		}
		enabled[p.Kind] = true
		if res, ok := r.applyLocked(p, found[i]); ok {
			notify = append(notify, res)
		}
	}
	for k, it := range r.items {
		if !enabled[k] {
			it.result = Result{}
		}
	}
	r.mu.Unlock()
	r.save(ctx)
	for _, n := range notify {
		if r.cfg.Notify != nil {
			r.cfg.Notify(n)
		}
	}
	if r.cfg.Changed != nil {
		r.cfg.Changed()
	}
	return r.Results()
}

// applyLocked folds a finding into the check's state; ok says to notify.
func (r *Runner) applyLocked(p protocol.CheckPolicy, f Finding) (Result, bool) {
	it := r.items[p.Kind]
	if it == nil {
		it = &item{}
		r.items[p.Kind] = it
	}
	now := r.env.Now()
	warn := f.State == protocol.CheckWarn
	if p.Kind == protocol.CheckOSUpdates && f.State == protocol.CheckOK {
		// Updates warn once they have waited the policy's days.
		if f.Pending {
			if it.PendingSince.IsZero() {
				it.PendingSince = now
			}
			warn = now.Sub(it.PendingSince) >= time.Duration(p.UpdatesDays)*24*time.Hour
		} else {
			it.PendingSince = time.Time{}
		}
	}
	state := f.State
	switch {
	case f.State == protocol.CheckUnknown:
	case !warn:
		state = protocol.CheckOK
		if !it.FixedAt.IsZero() {
			state = protocol.CheckFixed
		}
		it.SnoozedUntil, it.AskedIT = time.Time{}, ""
	default:
		it.FixedAt = time.Time{}
		state = protocol.CheckWarn
		switch {
		case it.AskedIT != "":
			state = protocol.CheckAskedIT
		case it.SnoozedUntil.After(now):
			state = protocol.CheckSnoozed
		default:
			it.SnoozedUntil = time.Time{}
		}
	}
	prev := it.result.State
	it.finding = f
	it.result = r.result(p, f, it, state, now)
	if state != protocol.CheckWarn {
		return it.result, false
	}
	again := remindEvery(p, f)
	if prev != protocol.CheckWarn || it.LastNotified.IsZero() || now.Sub(it.LastNotified) >= again {
		it.LastNotified = now
		return it.result, true
	}
	return it.result, false
}

// remindEvery is how often a warning comes back: the policy's hours, and
// at most a day for a password with a deadline.
func remindEvery(p protocol.CheckPolicy, f Finding) time.Duration {
	d := time.Duration(max(p.RemindHours, 1)) * time.Hour
	if !f.Deadline.IsZero() {
		d = min(d, 24*time.Hour)
	}
	return d
}

func (r *Runner) result(p protocol.CheckPolicy, f Finding, it *item, state protocol.CheckState, now time.Time) Result {
	res := Result{Kind: p.Kind, State: state, Title: p.Title, Summary: f.Summary, Evidence: f.Evidence,
		Deadline: f.Deadline, HowToURL: p.HowToURL, ArticleID: p.ArticleID, FixURL: p.FixURL, ObservedAt: now.UTC()}
	if res.Title == "" {
		res.Title = Title(p.Kind)
	}
	if p.Kind == protocol.CheckOSUpdates && f.Pending && state == protocol.CheckOK {
		// Waiting, but not yet long enough to bother the person.
		res.Summary = fmt.Sprintf("%s ready to install when you have a moment.", plural(atoi(f.Evidence["updates"]), "update is", "updates are"))
	}
	if p.Text != "" && (state != protocol.CheckOK && state != protocol.CheckFixed && state != protocol.CheckUnknown) {
		if s := expand(p.Text, f.Evidence); s != "" {
			res.Summary = s
		}
	}
	if f.State != protocol.CheckUnknown && (state == protocol.CheckWarn || state == protocol.CheckSnoozed || state == protocol.CheckAskedIT) {
		res.Fix = f.Fix
		if res.Fix == FixOpenPasswordPage && p.FixURL == "" {
			res.Fix = FixNone
		}
	}
	if state == protocol.CheckSnoozed {
		res.SnoozedUntil = it.SnoozedUntil
	}
	if state == protocol.CheckAskedIT {
		res.RequestID = it.AskedIT
	}
	return res
}

// Results lists the enabled checks' current results in the order a person
// reads them (protocol.CheckKinds); before the first round, none.
func (r *Runner) Results() []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Result
	for _, k := range protocol.CheckKinds {
		if it := r.items[k]; it != nil && it.result.Kind != "" {
			out = append(out, it.result)
		}
	}
	return out
}

// Result returns one check's current result.
func (r *Runner) Result(k protocol.CheckKind) (Result, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	it := r.items[k]
	if it == nil || it.result.Kind == "" {
		return Result{}, false
	}
	return it.result, true
}

// Flush sends every check whose state differs from the last one reported.
func (r *Runner) Flush(ctx context.Context) {
	if r.cfg.Report == nil {
		return
	}
	sent := false
	for _, res := range r.Results() {
		r.mu.Lock()
		it := r.items[res.Kind]
		due := it.Reported != res.State
		r.mu.Unlock()
		if !due {
			continue
		}
		if err := r.cfg.Report(ctx, res.Report()); err != nil {
			r.log.Warn("check report not queued", "check", res.Kind, "err", err)
			continue
		}
		r.mu.Lock()
		it.Reported = res.State
		r.mu.Unlock()
		sent = true
	}
	if sent {
		r.save(ctx)
	}
}

// ErrNotWarning refuses an action on a check that is not warning.
var ErrNotWarning = errors.New("this check has nothing to act on right now")

// ErrPastDeadline refuses "Remind me later" once the deadline has come.
var ErrPastDeadline = errors.New("it can't wait any longer: the deadline has come")

// Snooze is "Remind me later": the warning comes back after the policy's
// RemindHours (a password's after at most a day), never after its
// deadline. It returns when.
func (r *Runner) Snooze(ctx context.Context, k protocol.CheckKind) (time.Time, error) {
	r.mu.Lock()
	it, p, ok := r.lookupLocked(k)
	if !ok || (it.result.State != protocol.CheckWarn && it.result.State != protocol.CheckSnoozed) {
		r.mu.Unlock()
		return time.Time{}, ErrNotWarning
	}
	now := r.env.Now()
	until := now.Add(remindEvery(p, it.finding))
	if dl := it.finding.Deadline; !dl.IsZero() {
		if !dl.After(now) {
			r.mu.Unlock()
			return time.Time{}, ErrPastDeadline
		}
		if until.After(dl) {
			until = dl
		}
	}
	it.SnoozedUntil = until
	it.result.State, it.result.SnoozedUntil, it.result.ObservedAt = protocol.CheckSnoozed, until, now.UTC()
	r.mu.Unlock()
	r.changed(ctx)
	return until, nil
}

// AskedIT records that "Ask IT" raised request id for check k.
func (r *Runner) AskedIT(ctx context.Context, k protocol.CheckKind, requestID string) error {
	r.mu.Lock()
	it, _, ok := r.lookupLocked(k)
	if !ok || it.result.State == protocol.CheckOK || it.result.State == protocol.CheckFixed {
		r.mu.Unlock()
		return ErrNotWarning
	}
	it.AskedIT = requestID
	it.result.State, it.result.RequestID, it.result.ObservedAt = protocol.CheckAskedIT, requestID, r.env.Now().UTC()
	r.mu.Unlock()
	r.changed(ctx)
	return nil
}

func (r *Runner) lookupLocked(k protocol.CheckKind) (*item, protocol.CheckPolicy, bool) {
	it := r.items[k]
	if it == nil || it.result.Kind == "" {
		return nil, protocol.CheckPolicy{}, false
	}
	for _, p := range r.policy {
		if p.Kind == k {
			return it, p, true
		}
	}
	return nil, protocol.CheckPolicy{}, false
}

func (r *Runner) changed(ctx context.Context) {
	r.save(ctx)
	r.Flush(ctx)
	if r.cfg.Changed != nil {
		r.cfg.Changed()
	}
}

// recheck probes one check again after a fix, marking it fixed when ok.
func (r *Runner) recheck(ctx context.Context, k protocol.CheckKind) Result {
	r.mu.Lock()
	it, p, ok := r.lookupLocked(k)
	if ok {
		it.FixedAt = r.env.Now()
	}
	r.mu.Unlock()
	if !ok {
		return Result{}
	}
	f := Probe(ctx, r.env, p)
	r.mu.Lock()
	res, _ := r.applyLocked(p, f)
	if res.State != protocol.CheckFixed {
		// Not ok yet (an update still installing): the click is not a fix.
		it.FixedAt = time.Time{}
	}
	r.mu.Unlock()
	r.changed(ctx)
	return res
}

// Policy returns the items in use and the policy's revision.
func (r *Runner) Policy() ([]protocol.CheckPolicy, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]protocol.CheckPolicy(nil), r.policy...), r.rev
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
