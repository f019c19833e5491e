package identity

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/deskside/deskside/server/internal/auth"
)

// hashGate bounds the argon2id hashes running at once. Each takes 19 MiB
// and a core for tens of milliseconds; unbounded, forty parallel guesses
// took a server from 38 to 782 MB. A caller that finds every slot taken
// is answered "busy" at once instead of queueing.
type hashGate struct {
	slots   chan struct{}
	running atomic.Int64
	checked atomic.Int64 // passwords verified, dummy hashes included
	mu      sync.Mutex
	peak    int64
}

func newHashGate(n int) *hashGate { return &hashGate{slots: make(chan struct{}, n)} }

// try takes a slot if one is free.
func (g *hashGate) try() bool {
	select {
	case g.slots <- struct{}{}:
	default:
		return false
	}
	n := g.running.Add(1)
	g.mu.Lock()
	g.peak = max(g.peak, n)
	g.mu.Unlock()
	return true
}

func (g *hashGate) done() {
	g.running.Add(-1)
	<-g.slots
}

// Peak is the most hashes that ran at once.
func (g *hashGate) Peak() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}

// check verifies password against encoded in a slot; busy when none is free.
func (g *hashGate) check(encoded, password string) (ok, busy bool) {
	if !g.try() {
		return false, true
	}
	defer g.done()
	g.checked.Add(1)
	return auth.CheckPassword(encoded, password), false
}

// hash hashes a new password in a slot; busy when none is free.
func (g *hashGate) hash(password string) (hash string, busy bool, err error) {
	if !g.try() {
		return "", true, nil
	}
	defer g.done()
	h, err := auth.HashPassword(password)
	return h, false, err
}

// metrics are the sign-in series.
type metrics struct {
	refused *prometheus.CounterVec
	failed  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, g *hashGate) *metrics {
	m := &metrics{
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deskside_signin_refused_total",
			Help: "Sign-in attempts refused before the password was checked, by reason (throttled, busy)."}, []string{"reason"}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "deskside_signin_failed_total",
			Help: "Sign-in attempts with a wrong email or password."}),
	}
	if reg != nil {
		reg.MustRegister(m.refused, m.failed,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "deskside_password_hashes_running",
				Help: "Password hashes running now."}, func() float64 { return float64(g.running.Load()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "deskside_password_hashes_peak",
				Help: "The most password hashes that ran at once since start (bounded by the hashing slots)."},
				func() float64 { return float64(g.Peak()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "deskside_password_hash_slots",
				Help: "Password hashes allowed to run at once."}, func() float64 { return float64(cap(g.slots)) }))
	}
	return m
}
