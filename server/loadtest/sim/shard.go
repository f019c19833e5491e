package sim

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Shard is a group of simulated devices the coordinator drives: a Fleet in
// this process, or a worker process speaking JSON over its pipes.
type Shard interface {
	Enroll(ctx context.Context, token string) (EnrollResult, error)
	Connect(ctx context.Context) (ConnectResult, error)
	Status(ctx context.Context) (Status, error)
	Expect(ctx context.Context, on bool) error
	Announcement(ctx context.Context, id string, t0 time.Time) (AnnouncementResult, error)
	Load(ctx context.Context, req LoadRequest) (LoadResult, error)
	SetSlow(ctx context.Context, fraction float64, on bool) ([]string, error)
	Close() error
}

// EnrollResult is one shard's enrolment.
type EnrollResult struct {
	Devices  int     `json:"devices"`
	Failures int     `json:"failures"`
	Cached   bool    `json:"cached"`
	Seconds  float64 `json:"seconds"`
}

// ConnectResult is one shard's first connect.
type ConnectResult struct {
	Connected int       `json:"connected"`
	Failed    int       `json:"failed"`
	Seconds   float64   `json:"seconds"`
	Handshake *Snapshot `json:"handshake"`
}

// Status counts a shard's links.
type Status struct {
	Devices             int   `json:"devices"`
	Online              int   `json:"online"`
	Welcomes            int   `json:"welcomes"`
	DialFailures        int   `json:"dial_failures"`
	Unexpected          int   `json:"unexpected_disconnects"`
	Expected            int   `json:"expected_disconnects"`
	SlowCloses          int   `json:"slow_consumer_closes"`
	GaveUp              int   `json:"gave_up"`
	PendingCursors      int   `json:"pending_cursors"` // delivery.cursor frames sent, not yet acked
	LastWelcomeUnixNano int64 `json:"last_welcome_unix_nano"`
}

// Add sums statuses (the last welcome is the latest).
func (s Status) Add(o Status) Status {
	s.Devices += o.Devices
	s.Online += o.Online
	s.Welcomes += o.Welcomes
	s.DialFailures += o.DialFailures
	s.Unexpected += o.Unexpected
	s.Expected += o.Expected
	s.SlowCloses += o.SlowCloses
	s.GaveUp += o.GaveUp
	s.PendingCursors += o.PendingCursors
	s.LastWelcomeUnixNano = max(s.LastWelcomeUnixNano, o.LastWelcomeUnixNano)
	return s
}

// AnnouncementResult is one shard's view of one announcement.
type AnnouncementResult struct {
	Received     int       `json:"received"`
	LastUnixNano int64     `json:"last_unix_nano"`
	Latency      *Snapshot `json:"latency"`
}

// LoadRequest asks a shard for background traffic and probes for Seconds.
type LoadRequest struct {
	Seconds       float64 `json:"seconds"`
	TelemetryRate float64 `json:"telemetry_per_s"` // in-memory route: device → console
	ProbeRate     float64 `json:"probes_per_s"`    // persisted route: request.new → technician → reply
	// CheckWindow, when set, has every live device send one check.report
	// at a random moment within it (a fleet's heads-up change arriving
	// within one agent jitter window), on top of the traffic above.
	CheckWindow float64 `json:"check_window_s,omitempty"`
	// SoftwareWindow, when set, has every live device send its first full
	// software inventory at a random moment within it (see software.go).
	SoftwareWindow float64 `json:"software_window_s,omitempty"`
}

// LoadResult is what the shard's devices measured.
type LoadResult struct {
	Telemetry  int       `json:"telemetry_sent"`
	Probes     int       `json:"probes_sent"`
	SendErrors int       `json:"send_errors"`
	Ack        *Snapshot `json:"ack"`         // request.new → ack (stored)
	TechToDev  *Snapshot `json:"tech_to_dev"` // technician's POST → message at the device
	RoundTrip  *Snapshot `json:"round_trip"`  // request.new → technician → reply at the device
	// Checks counts the check.report frames sent; CheckAck is their
	// report → ack (stored) latency.
	Checks   int       `json:"checks_sent,omitempty"`
	CheckAck *Snapshot `json:"check_ack,omitempty"`
	Software *swResult `json:"software,omitempty"`
}

// counts is what one kind of load traffic did.
type counts struct{ sent, errs int }

// LocalShard drives a Fleet in this process.
type LocalShard struct{ F *Fleet }

// Enrol implements Shard.
func (s LocalShard) Enroll(ctx context.Context, token string) (EnrollResult, error) {
	return s.F.Enroll(ctx, token)
}

// Connect implements Shard.
func (s LocalShard) Connect(ctx context.Context) (ConnectResult, error) { return s.F.Connect(ctx) }

// Status implements Shard.
func (s LocalShard) Status(context.Context) (Status, error) { return s.F.Status(), nil }

// Expect implements Shard.
func (s LocalShard) Expect(_ context.Context, on bool) error { s.F.Expect(on); return nil }

// Announcement implements Shard.
func (s LocalShard) Announcement(_ context.Context, id string, t0 time.Time) (AnnouncementResult, error) {
	return s.F.Announcement(id, t0), nil
}

// Load implements Shard.
func (s LocalShard) Load(ctx context.Context, req LoadRequest) (LoadResult, error) {
	return s.F.Load(ctx, req), nil
}

// SetSlow implements Shard.
func (s LocalShard) SetSlow(_ context.Context, fraction float64, on bool) ([]string, error) {
	return s.F.SetSlow(fraction, on), nil
}

// Close implements Shard.
func (s LocalShard) Close() error { s.F.Close(); return nil }

// Load sends telemetry and request probes from random reading devices at
// the given rates for req.Seconds, then waits up to 5 s for the replies.
func (f *Fleet) Load(ctx context.Context, req LoadRequest) LoadResult {
	f.ackH.Reset()
	f.techToD.Reset()
	f.roundH.Reset()
	f.checkH.Reset()
	dur := time.Duration(req.Seconds * float64(time.Second))
	checks := make(chan counts, 1)
	go func() { checks <- f.checkBurst(ctx, req.CheckWindow) }()
	software := make(chan *swResult, 1)
	go func() { software <- f.softwareBurst(ctx, req.SoftwareWindow) }()
	var res LoadResult
	run := func(rate float64, send func(d *device, now int64) error) counts {
		var c counts
		if rate <= 0 || len(f.devs) == 0 {
			return c
		}
		every := time.Duration(float64(time.Second) / rate)
		start := time.Now()
		for i := 0; ; i++ {
			at := start.Add(time.Duration(i) * every)
			if at.Sub(start) >= dur || ctx.Err() != nil {
				return c
			}
			if w := time.Until(at); w > 0 {
				time.Sleep(w)
			}
			d := f.devs[rand.IntN(len(f.devs))]
			if d.slow.Load() || !d.live.Load() {
				continue
			}
			if err := send(d, time.Now().UnixNano()); err != nil {
				c.errs++
				continue
			}
			c.sent++
		}
	}
	done := make(chan counts, 1)
	go func() {
		done <- run(req.TelemetryRate, func(d *device, now int64) error {
			return d.sendFrame(protocol.KindTelemetry, "", protocol.Telemetry{At: time.Unix(0, now), CPUPct: 12, MemPct: 40, DiskPct: 55})
		})
	}()
	pc := run(req.ProbeRate, func(d *device, now int64) error {
		id := protocol.NewID()
		f.probes.Store(id, now)
		err := d.sendFrame(protocol.KindRequestNew, id, protocol.RequestNew{RequestID: protocol.NewID(),
			Category: protocol.CategoryQuestion, Urgency: protocol.UrgencyWhenYouCan, Text: probeText(now, 0), CreatedAt: time.Unix(0, now)})
		if err != nil {
			f.probes.Delete(id)
		}
		return err
	})
	tc, cc := <-done, <-checks
	res.Software = <-software
	res.Telemetry, res.Probes, res.Checks, res.SendErrors = tc.sent, pc.sent, cc.sent, tc.errs+pc.errs+cc.errs
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && f.roundH.Summary().Count < int64(pc.sent) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	for time.Now().Before(deadline) && f.checkH.Summary().Count < int64(cc.sent) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	res.Ack, res.TechToDev, res.RoundTrip = f.ackH.Export(), f.techToD.Export(), f.roundH.Export()
	if cc.sent > 0 {
		res.CheckAck = f.checkH.Export()
	}
	return res
}

// checkBurst has every live device send one check.report at a random
// moment within window seconds (none when window is 0): the disk check
// turning to warn across the fleet, as agents report it after their jitter.
func (f *Fleet) checkBurst(ctx context.Context, window float64) counts {
	var c counts
	if window <= 0 || len(f.devs) == 0 {
		return c
	}
	w := time.Duration(window * float64(time.Second))
	order := rand.Perm(len(f.devs))
	offsets := make([]time.Duration, len(order))
	for i := range offsets {
		offsets[i] = time.Duration(rand.Int64N(int64(w)))
	}
	slices.Sort(offsets)
	start := time.Now()
	for i, at := range offsets {
		if ctx.Err() != nil {
			break
		}
		if d := time.Until(start.Add(at)); d > 0 {
			time.Sleep(d)
		}
		d := f.devs[order[i]]
		if d.slow.Load() || !d.live.Load() {
			continue
		}
		id, now := protocol.NewID(), time.Now()
		f.checkIDs.Store(id, now.UnixNano())
		err := d.sendFrame(protocol.KindCheckReport, id, protocol.CheckReport{Check: protocol.CheckDiskSpace, State: protocol.CheckWarn,
			Summary: "Your disk is almost full: 3.1 GB left.", Evidence: map[string]string{"free_gb": "3.1", "mount": "/"}, ObservedAt: now})
		if err != nil {
			f.checkIDs.Delete(id)
			c.errs++
			continue
		}
		c.sent++
	}
	return c
}
