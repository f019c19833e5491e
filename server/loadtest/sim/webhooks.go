package sim

import (
	"context"
	"encoding/json"

	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Scenario webhooks: a Standard Webhooks receiver runs inside the
// simulator, registered as an endpoint for request.created and
// request.updated; the route load runs again (every stored probe is a
// request.created, every technician reply a request.updated) and the
// report gives the route latencies beside the route scenario's, and each
// delivery's delay from the event's timestamp to its arrival.

// hookReceiver verifies each delivery's signature and measures its delay.
type hookReceiver struct {
	wh       *standardwebhooks.Webhook
	delay    *Hist
	got      atomic.Int64
	bad      atomic.Int64
	mu       sync.Mutex
	seen     map[string]bool
	dups     atomic.Int64
	lastSeen atomic.Int64 // unix nanos of the last arrival
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		h.bad.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if h.wh == nil || h.wh.Verify(body, r.Header) != nil {
		h.bad.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev struct {
		At time.Time `json:"timestamp"`
	}
	_ = json.Unmarshal(body, &ev)
	id := r.Header.Get("webhook-id")
	h.mu.Lock()
	dup := h.seen[id]
	h.seen[id] = true
	h.mu.Unlock()
	if dup {
		h.dups.Add(1)
	} else {
		h.got.Add(1)
		if !ev.At.IsZero() {
			h.delay.Record(now.Sub(ev.At))
		}
	}
	h.lastSeen.Store(now.UnixNano())
	w.WriteHeader(http.StatusNoContent)
}

// webhookFigures is what the scenario measured.
type webhookFigures struct {
	Route      routeFigures `json:"route"`
	Delivered  int64        `json:"delivered"`
	Duplicates int64        `json:"duplicates"`
	BadSigs    int64        `json:"bad_signatures"`
	Delay      Summary      `json:"delivery_delay"`
	Drain      float64      `json:"drain_s"`
}

func (r *Runner) webhooks(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("webhook receiver: %w", err)
	}
	rcv := &hookReceiver{delay: NewHist(), seen: map[string]bool{}}
	srv := &http.Server{Handler: rcv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	var made struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	st, err := r.Techs[0].Do(ctx, "POST", "/api/v1/webhooks", map[string]any{"url": "http://" + ln.Addr().String() + "/hook",
		"allow_private": true, "description": "loadtest receiver", "events": []string{"request.created", "request.updated"}}, &made)
	if err != nil || st != http.StatusCreated {
		return fmt.Errorf("register the webhook receiver: HTTP %d %v", st, err)
	}
	defer func() { _, _ = r.Techs[0].Do(context.Background(), "DELETE", "/api/v1/webhooks/"+made.ID, nil, nil) }()
	if rcv.wh, err = standardwebhooks.NewWebhook(made.Secret); err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}

	for _, t := range r.Techs {
		if again, err := t.EnsureOpen(ctx, 8); err != nil {
			return err
		} else if again {
			r.rep.add("webhooks", "technician console reopened (the server had closed it as a slow consumer)", "yes", "", nil)
		}
	}
	f, err := r.load(ctx, 0)
	if err != nil {
		return err
	}
	// Wait for the queue to drain: no arrival for 3 s (at most 60 s).
	start := time.Now()
	for time.Since(start) < 60*time.Second {
		last := time.Unix(0, rcv.lastSeen.Load())
		if time.Since(last) > 3*time.Second {
			break
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
	wf := webhookFigures{Route: f, Delivered: rcv.got.Load(), Duplicates: rcv.dups.Load(), BadSigs: rcv.bad.Load(),
		Delay: rcv.delay.Summary(), Drain: time.Since(start).Seconds()}

	r.rep.add("webhooks", "background", fmt.Sprintf("%.0f telemetry/s + %.0f stored requests/s", f.TelemRate, f.ProbeRate), "", nil)
	base, _ := r.rep.Details["route"].(routeFigures)
	cmp := func(name string, with, without Summary) {
		target, note := "p99 ≤ route +20 %", ""
		var met *bool
		if with.Count > 0 && without.Count > 0 && without.P99 > 0 {
			note = fmt.Sprintf(" (route: p99 %.2f ms, %+.0f %%)", without.P99, 100*(with.P99/without.P99-1))
			met = ptr(with.P99 <= 1.2*without.P99)
		}
		r.rep.add("webhooks", name, with.String()+note, target, met)
	}
	cmp("persisted: request device → technician", f.DevToTech, base.DevToTech)
	cmp("persisted: reply technician → device", f.TechToDev, base.TechToDev)
	// Measured on the devices alone (no console needed): the write path
	// the webhook sink joins.
	cmp("request stored and acked", f.Ack, base.Ack)
	r.rep.add("webhooks", "deliveries received (signed, verified)", fmt.Sprintf("%d (%d duplicates, %d bad signatures)", wf.Delivered, wf.Duplicates, wf.BadSigs),
		"", ptr(wf.Delivered > 0 && wf.BadSigs == 0))
	r.rep.add("webhooks", "delivery delay (event → receiver)", wf.Delay.String(), "p99 < 1 s", ptr(wf.Delay.Count > 0 && wf.Delay.P99 < 1000))
	r.rep.add("webhooks", "queue drained after the load", fmt.Sprintf("%.1f s", wf.Drain), "", nil)
	r.rep.Details["webhooks"] = wf
	if wf.Delivered == 0 {
		r.rep.fail("webhooks: the receiver got no delivery")
	}
	if wf.BadSigs > 0 {
		r.rep.fail("webhooks: %d deliveries failed signature verification", wf.BadSigs)
	}
	if f.Unexpected > 0 {
		r.rep.fail("webhooks: %d unexpected disconnects", f.Unexpected)
	}
	return nil
}
