package identity

import (
	"sync"
	"time"
)

// Throttle slows password guessing without locking the owner out (the
// policy is in docs/security.md):
//
//   - Per account and address: FreeFails wrong passwords cost nothing;
//     after that each attempt must wait a delay that doubles with every
//     failure (BaseDelay, 2×, 4×… up to MaxDelay), and only one attempt
//     at a time is let through. An attacker at one address slows only
//     that address's attempts for that account.
//   - Per address, over every account: IPCap failures in Window.
//   - Per account, over every address: AccountCap failures in Window, so
//     many addresses together still slow down.
//   - An address the account signed in from before (known good), or a
//     request carrying a live session of that account, is exempt from the
//     two wide caps, so a flood elsewhere never blocks the owner.
//
// Attempts in flight count as failures until they end, so a burst of
// parallel guesses cannot all start before the first one fails.
type Throttle struct {
	FreeFails  int
	BaseDelay  time.Duration
	MaxDelay   time.Duration
	Window     time.Duration
	IPCap      int
	AccountCap int

	mu       sync.Mutex
	now      func() time.Time
	pairs    map[string]*pair
	ips      map[string]*tally
	accounts map[string]*tally
	good     map[string]map[string]time.Time // account → address → last success
}

type pair struct {
	fails, inflight int
	last            time.Time
}

type tally struct {
	fails    []time.Time
	inflight int
}

// maxKeys bounds each map; stale entries are dropped when it is reached.
const maxKeys = 10000

// goodPerAccount bounds the addresses remembered per account.
const goodPerAccount = 16

// NewThrottle returns the default policy.
func NewThrottle() *Throttle {
	return &Throttle{FreeFails: 3, BaseDelay: time.Second, MaxDelay: 10 * time.Minute, Window: 15 * time.Minute,
		IPCap: 100, AccountCap: 50, now: time.Now,
		pairs: map[string]*pair{}, ips: map[string]*tally{}, accounts: map[string]*tally{}, good: map[string]map[string]time.Time{}}
}

// Attempt is one admitted sign-in attempt; end it with exactly one of
// Fail, Succeed or Cancel.
type Attempt struct {
	t                 *Throttle
	account, ip, pkey string
	once              sync.Once
}

// KnownGood reports whether account signed in from ip before.
func (t *Throttle) KnownGood(account, ip string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.good[account][ip]
	return ok
}

// Begin admits an attempt, or refuses it and says how long to wait.
// exempt skips the wide caps (known-good address or live session).
func (t *Throttle) Begin(account, ip string, exempt bool) (*Attempt, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if _, ok := t.good[account][ip]; ok {
		exempt = true
	}
	pkey := account + "\x00" + ip
	p := t.pairs[pkey]
	if p != nil && p.inflight == 0 && now.Sub(p.last) > t.Window {
		p.fails = 0 // forgiven after a quiet window
	}
	if p != nil {
		if pending := p.fails + p.inflight; pending >= t.FreeFails {
			if p.inflight > 0 {
				return nil, t.delay(pending)
			}
			if wait := p.last.Add(t.delay(p.fails)).Sub(now); wait > 0 {
				return nil, wait
			}
		}
	}
	ipt, act := t.tally(t.ips, ip, now), t.tally(t.accounts, account, now)
	if !exempt {
		if len(ipt.fails)+ipt.inflight >= t.IPCap {
			return nil, ipt.fails[0].Add(t.Window).Sub(now) + time.Second
		}
		if len(act.fails)+act.inflight >= t.AccountCap {
			return nil, act.fails[0].Add(t.Window).Sub(now) + time.Second
		}
	}
	if p == nil {
		p = &pair{}
		t.prune(now)
		t.pairs[pkey] = p
	}
	p.inflight++
	ipt.inflight++
	act.inflight++
	return &Attempt{t: t, account: account, ip: ip, pkey: pkey}, 0
}

// delay is the wait after fails failures.
func (t *Throttle) delay(fails int) time.Duration {
	n := fails - t.FreeFails
	if n < 0 {
		return 0
	}
	if n > 30 {
		return t.MaxDelay
	}
	return min(t.BaseDelay<<n, t.MaxDelay)
}

// tally returns key's failures in the window, creating the entry.
func (t *Throttle) tally(m map[string]*tally, key string, now time.Time) *tally {
	c := m[key]
	if c == nil {
		c = &tally{}
		m[key] = c
	}
	i := 0
	for i < len(c.fails) && now.Sub(c.fails[i]) > t.Window {
		i++
	}
	c.fails = c.fails[i:]
	return c
}

// prune drops entries with nothing in flight and nothing recent once a
// map is full, so an attacker cycling keys cannot grow memory forever.
func (t *Throttle) prune(now time.Time) {
	if len(t.pairs) >= maxKeys {
		for k, p := range t.pairs {
			if p.inflight == 0 && now.Sub(p.last) > t.Window {
				delete(t.pairs, k)
			}
		}
	}
	for _, m := range []map[string]*tally{t.ips, t.accounts} {
		if len(m) < maxKeys {
			continue
		}
		for k, c := range m {
			if c.inflight == 0 && (len(c.fails) == 0 || now.Sub(c.fails[len(c.fails)-1]) > t.Window) {
				delete(m, k)
			}
		}
	}
}

func (a *Attempt) end(f func(p *pair, ipt, act *tally, now time.Time)) {
	a.once.Do(func() {
		t := a.t
		t.mu.Lock()
		defer t.mu.Unlock()
		now := t.now()
		p, ipt, act := t.pairs[a.pkey], t.tally(t.ips, a.ip, now), t.tally(t.accounts, a.account, now)
		if p == nil { // pruned: cannot happen while in flight, but stay safe
			p = &pair{inflight: 1}
			t.pairs[a.pkey] = p
		}
		p.inflight--
		ipt.inflight--
		act.inflight--
		f(p, ipt, act, now)
	})
}

// Fail records a wrong password.
func (a *Attempt) Fail() {
	a.end(func(p *pair, ipt, act *tally, now time.Time) {
		p.fails++
		p.last = now
		ipt.fails = append(ipt.fails, now)
		act.fails = append(act.fails, now)
	})
}

// Succeed forgets the pair's failures and remembers the address as known
// good for the account.
func (a *Attempt) Succeed() {
	a.end(func(p *pair, _, _ *tally, now time.Time) {
		t := a.t
		p.fails = 0
		g := t.good[a.account]
		if g == nil {
			if len(t.good) >= maxKeys {
				clear(t.good) // forgetting known-good addresses only costs leniency
			}
			g = map[string]time.Time{}
			t.good[a.account] = g
		}
		if _, ok := g[a.ip]; !ok && len(g) >= goodPerAccount {
			oldest, at := "", now
			for ip, when := range g {
				if when.Before(at) {
					oldest, at = ip, when
				}
			}
			delete(g, oldest)
		}
		g[a.ip] = now
	})
}

// Cancel ends an attempt that was never checked (the server was busy or
// failed): it counts neither way.
func (a *Attempt) Cancel() { a.end(func(*pair, *tally, *tally, time.Time) {}) }
