package sim

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// RunConfig chooses scenarios and their sizes.
type RunConfig struct {
	Devices   int           `json:"devices"`
	Scenarios []string      `json:"scenarios"` // idle, broadcast, route, webhooks, checks, software, slow, storm
	Hold      time.Duration `json:"hold_ns"`   // idle hold
	// Background traffic during route and slow: telemetry frames per second
	// (device → console, in memory) and request probes per second (stored,
	// answered by a technician).
	TelemetryRate float64       `json:"telemetry_per_s"`
	ProbeRate     float64       `json:"probes_per_s"`
	LoadFor       time.Duration `json:"load_ns"`
	SlowFraction  float64       `json:"slow_fraction"`
	// SlowPushes messages of PushBytes go to each slow device per phase.
	SlowPushes   int           `json:"slow_pushes"`
	PushBytes    int           `json:"push_bytes"`
	StormTimeout time.Duration `json:"storm_timeout_ns"`
	Token        string        `json:"-"`
	// ProfileBroadcast, when set, is where a CPU profile of the server
	// (its /debug/pprof, server mode "self") taken across the broadcast goes.
	ProfileBroadcast string `json:"-"`
	// Broadcasts is how many announcements the broadcast scenario sends,
	// one after another on the same fleet (default 1).
	Broadcasts int `json:"broadcasts"`
	// SoftwareWindow is the window within which every device sends its
	// first software inventory (scenario software).
	SoftwareWindow time.Duration `json:"software_window_ns"`
}

// AllScenarios in the order they run.
var AllScenarios = []string{"idle", "broadcast", "route", "webhooks", "checks", "software", "slow", "storm"}

// DefaultScenarios run when none are named: all but software, which takes
// minutes (--scenarios route,software), and webhooks (--scenarios
// route,webhooks: route first, as its baseline).
var DefaultScenarios = []string{"idle", "broadcast", "route", "checks", "slow", "storm"}

// Runner drives one run: shards of devices, technicians, a target server.
type Runner struct {
	Cfg    RunConfig
	Target Target
	Shards []Shard
	Techs  []*Tech // Techs[0] is an admin; all have consoles open
	Out    io.Writer
	rep    *Report
	base   ServerStats // after enrolment, before any device link
}

// Run enrols and connects the fleet, runs the chosen scenarios and returns
// the report. Functional failures go to Report.Failures; err is for a run
// that could not go on.
func (r *Runner) Run(ctx context.Context) (*Report, error) {
	r.rep = &Report{Started: time.Now(), Machine: thisMachine(), Config: r.Cfg, Details: map[string]any{}}
	if err := r.enrollAndConnect(ctx); err != nil {
		return r.rep, err
	}
	for _, sc := range AllScenarios {
		if !slices.Contains(r.Cfg.Scenarios, sc) {
			continue
		}
		var err error
		switch sc {
		case "idle":
			err = r.idle(ctx)
		case "broadcast":
			for i := range max(1, r.Cfg.Broadcasts) {
				if i > 0 { // let the last one's delivery.cursor round pass
					if _, _, err = r.settle(ctx, 30*time.Second); err != nil {
						break
					}
					_ = sleepCtx(ctx, 3*time.Second)
				}
				if err = r.broadcast(ctx, i); err != nil {
					break
				}
			}
		case "route":
			err = r.route(ctx)
		case "webhooks":
			err = r.webhooks(ctx)
		case "checks":
			err = r.checks(ctx)
		case "software":
			err = r.software(ctx)
		case "slow":
			err = r.slow(ctx)
		case "storm":
			err = r.storm(ctx)
		}
		if err != nil {
			return r.rep, fmt.Errorf("scenario %s: %w", sc, err)
		}
		fmt.Fprintf(r.Out, "\n== %s\n", sc)
		r.rep.Print(r.Out, sc)
	}
	st, err := r.status(ctx)
	if err != nil {
		return r.rep, err
	}
	r.rep.Details["final_status"] = st
	if st.Unexpected > 0 {
		r.rep.fail("%d unexpected disconnects over the run", st.Unexpected)
	}
	return r.rep, nil
}

// each runs fn on every shard at once and returns the first error.
func each[T any](r *Runner, fn func(s Shard) (T, error)) ([]T, error) {
	out := make([]T, len(r.Shards))
	errs := make([]error, len(r.Shards))
	var wg sync.WaitGroup
	for i, s := range r.Shards {
		wg.Go(func() { out[i], errs[i] = fn(s) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (r *Runner) status(ctx context.Context) (Status, error) {
	sts, err := each(r, func(s Shard) (Status, error) { return s.Status(ctx) })
	var sum Status
	for _, s := range sts {
		sum = sum.Add(s)
	}
	return sum, err
}

func (r *Runner) enrollAndConnect(ctx context.Context) error {
	ens, err := each(r, func(s Shard) (EnrollResult, error) { return s.Enroll(ctx, r.Cfg.Token) })
	if err != nil {
		return err
	}
	var enrolled int
	var secs float64
	cached := false
	for _, e := range ens {
		enrolled += e.Devices
		secs = max(secs, e.Seconds)
		cached = cached || e.Cached
	}
	r.base = statsAfterGC(ctx, r.Target)
	r.rep.Details["server_before_links"] = r.base
	if cached {
		r.rep.add("connect", "devices enrolled", fmt.Sprintf("%d (credentials cached)", enrolled), "", nil)
	} else {
		r.rep.add("connect", "devices enrolled", fmt.Sprintf("%d in %.1f s (%.0f/s)", enrolled, secs, float64(enrolled)/max(secs, 1e-3)), "", nil)
	}
	start := time.Now()
	crs, err := each(r, func(s Shard) (ConnectResult, error) { return s.Connect(ctx) })
	if err != nil {
		return err
	}
	el := time.Since(start).Seconds()
	h := NewHist()
	var conn, failed int
	for _, c := range crs {
		conn += c.Connected
		failed += c.Failed
		h.Merge(c.Handshake)
	}
	hs := h.Summary()
	r.rep.add("connect", "devices connected", fmt.Sprintf("%d of %d", conn, r.Cfg.Devices), fmt.Sprint(r.Cfg.Devices), ptr(conn == r.Cfg.Devices))
	r.rep.add("connect", "connect rate", fmt.Sprintf("%.0f handshakes/s (%.1f s)", float64(conn)/max(el, 1e-3), el), "", nil)
	r.rep.add("connect", "handshake latency", hs.String(), "", nil)
	r.rep.Details["connect"] = map[string]any{"connected": conn, "failed": failed, "seconds": el, "handshake": hs}
	if conn != r.Cfg.Devices {
		r.rep.fail("connected %d of %d devices", conn, r.Cfg.Devices)
	}
	fmt.Fprintf(r.Out, "\n== connect\n")
	r.rep.Print(r.Out, "connect")
	return nil
}
