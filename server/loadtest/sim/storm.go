package sim

import (
	"context"
	"fmt"
	"time"
)

// slowPhase runs the same load with the slow set reading (A) or not (B),
// pushing large messages to that set in both phases.
func (r *Runner) slowPhase(ctx context.Context, stopReading bool) (routeFigures, int, error) {
	idss, err := each(r, func(s Shard) ([]string, error) { return s.SetSlow(ctx, r.Cfg.SlowFraction, stopReading) })
	if err != nil {
		return routeFigures{}, 0, err
	}
	var ids []string
	for _, s := range idss {
		ids = append(ids, s...)
	}
	pushed := make(chan [2]int, 1)
	go func() {
		s, f := r.push(ctx, ids, r.Cfg.SlowPushes, r.Cfg.PushBytes)
		pushed <- [2]int{s, f}
	}()
	f, err := r.load(ctx, 0)
	p := <-pushed
	if err != nil {
		return f, len(ids), err
	}
	if p[1] > 0 {
		r.rep.fail("slow: %d pushed messages were refused", p[1])
	}
	return f, len(ids), nil
}

// slow compares the others' latency and the server's memory with and
// without 1 % of devices that stop reading.
func (r *Runner) slow(ctx context.Context) error {
	a, n, err := r.slowPhase(ctx, false)
	if err != nil {
		return err
	}
	b, _, err := r.slowPhase(ctx, true)
	if err != nil {
		return err
	}
	if _, err := each(r, func(s Shard) ([]string, error) { return s.SetSlow(ctx, r.Cfg.SlowFraction, false) }); err != nil {
		return err
	}
	stB := b.Server
	if err := sleepCtx(ctx, 3*time.Second); err != nil { // the slow set drains or reconnects
		return err
	}
	after := statsAfterGC(ctx, r.Target)
	move := func(x, y Summary) (string, bool) {
		if x.P99 <= 0 {
			return "n/a", false
		}
		d := (y.P99 - x.P99) / x.P99 * 100
		return fmt.Sprintf("p99 %.2f → %.2f ms (%+.0f %%)", x.P99, y.P99, d), d <= 20
	}
	r.rep.add("slow", "slow consumers", fmt.Sprintf("%d devices (%.0f %%), %d × %d B pushed to each per phase", n, r.Cfg.SlowFraction*100,
		r.Cfg.SlowPushes, r.Cfg.PushBytes), "", nil)
	s, ok := move(a.Telemetry, b.Telemetry)
	r.rep.add("slow", "others: telemetry device → console", s, "≤ +20 %", ptr(ok))
	s, ok = move(a.DevToTech, b.DevToTech)
	r.rep.add("slow", "others: request device → technician", s, "≤ +20 %", ptr(ok))
	s, ok = move(a.RoundTrip, b.RoundTrip)
	r.rep.add("slow", "others: round trip", s, "≤ +20 %", ptr(ok))
	r.rep.add("slow", "server heap in use, end of phase", fmt.Sprintf("%s reading → %s not reading", mib(a.Server.HeapInuse), mib(stB.HeapInuse)), "bounded", nil)
	r.rep.add("slow", "server RSS after GC, slow set back", mib(after.RSS), "", nil)
	r.rep.add("slow", "closed as slow consumers (server)", fmt.Sprintf("%.0f", stB.SlowCloses), "", nil)
	unexp := a.Unexpected + b.Unexpected
	r.rep.add("slow", "unexpected disconnects (others)", fmt.Sprint(unexp), "0", ptr(unexp == 0))
	r.rep.Details["slow"] = map[string]any{"reading": a, "not_reading": b, "after_gc": after, "slow_devices": n}
	if unexp > 0 {
		r.rep.fail("slow: %d unexpected disconnects", unexp)
	}
	return nil
}

// storm restarts the server with every device linked and waits until all
// are back.
func (r *Runner) storm(ctx context.Context) error {
	st0, err := r.status(ctx)
	if err != nil {
		return err
	}
	if _, err := each(r, func(s Shard) (struct{}, error) { return struct{}{}, s.Expect(ctx, true) }); err != nil {
		return err
	}
	defer func() {
		_, _ = each(r, func(s Shard) (struct{}, error) { return struct{}{}, s.Expect(context.Background(), false) })
	}()
	t0 := time.Now()
	if err := r.Target.Restart(ctx); err != nil {
		return fmt.Errorf("restart server: %w", err)
	}
	ready := time.Now()
	stReady, err := r.status(ctx)
	if err != nil {
		return err
	}
	var st Status
	deadline := ready.Add(r.Cfg.StormTimeout)
	for {
		if st, err = r.status(ctx); err != nil {
			return err
		}
		if st.Welcomes-st0.Welcomes >= r.Cfg.Devices && st.Online >= r.Cfg.Devices || time.Now().After(deadline) {
			break
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	last := time.Unix(0, st.LastWelcomeUnixNano)
	back := st.Welcomes - st0.Welcomes
	fails := st.DialFailures - stReady.DialFailures // refused while the server was down do not count
	missing := r.Cfg.Devices - st.Online
	sinceReady := last.Sub(ready)
	rate := float64(back) / max(sinceReady.Seconds(), 1e-3)
	r.rep.add("storm", "back online", fmt.Sprintf("%d of %d", st.Online, r.Cfg.Devices), fmt.Sprint(r.Cfg.Devices), ptr(missing == 0))
	r.rep.add("storm", "restart (stop + start + healthz)", fmt.Sprintf("%.2f s", ready.Sub(t0).Seconds()), "", nil)
	r.rep.add("storm", "all back after server ready", fmt.Sprintf("%.2f s", sinceReady.Seconds()), "within jitter window", nil)
	r.rep.add("storm", "handshakes/s (mean)", fmt.Sprintf("%.0f", rate), "", nil)
	r.rep.add("storm", "failed attempts once ready (retried)", fmt.Sprint(fails), "0", ptr(fails == 0))
	r.rep.add("storm", "gave up", fmt.Sprint(st.GaveUp-st0.GaveUp), "0", ptr(st.GaveUp == st0.GaveUp))
	r.rep.Details["storm"] = map[string]any{"back": back, "restart_s": ready.Sub(t0).Seconds(), "all_back_s": sinceReady.Seconds(),
		"handshakes_per_s": rate, "failed_attempts": fails, "missing": missing}
	if missing > 0 {
		r.rep.fail("storm: %d devices did not come back", missing)
	}
	return nil
}
