// Package sim is Deskside's fleet simulator: simulated devices that speak
// the real device protocol (enrol, Authorization header, hello/welcome,
// acks, seq and delivery.cursor, pongs), simulated technicians on the real
// console socket and REST API, and the scenarios that measure a server with
// them. It does no process management: server/loadtest wires it to server
// processes and worker processes; its smoke test wires it to servertest.
package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/shared/protocol"
)

// FleetConfig describes one shard of simulated devices.
type FleetConfig struct {
	URL   string // server base URL, http://127.0.0.1:port
	First int    // global index of the shard's first device (names, source addresses)
	Count int    // devices in this shard
	// PerSourceIP devices share one 127.x.y.z source address (0: the
	// kernel's choice). Many addresses keep clear of ephemeral port limits.
	PerSourceIP int
	// CredsFile caches enrolled credentials between runs ("" : no cache).
	CredsFile string
	// DialConcurrency bounds handshakes in flight at the first connect.
	DialConcurrency int
	// CursorDelay batches delivery.cursor frames as the agent does (2 s).
	CursorDelay time.Duration
	// BackoffBase and BackoffCap shape reconnects: full jitter over
	// min(cap, base·2^attempt), as the agent does (1 s, 60 s).
	BackoffBase, BackoffCap time.Duration
	Log                     *slog.Logger `json:"-"`
}

// Fleet is one shard of simulated devices, all in this process.
type Fleet struct {
	cfg    FleetConfig
	log    *slog.Logger
	dialer websocket.Dialer
	http   *http.Client
	devs   []*device
	ctx    context.Context
	cancel context.CancelFunc

	online       atomic.Int64
	welcomes     atomic.Int64
	dialFails    atomic.Int64
	unexpected   atomic.Int64
	expectedDrop atomic.Int64
	slowCloses   atomic.Int64
	gaveUp       atomic.Int64
	expect       atomic.Bool
	stopping     atomic.Bool
	lastWelcome  atomic.Int64 // unix nanos

	slowMu     sync.Mutex
	slowResume chan struct{}

	annMu sync.Mutex
	ann   map[string][]int64 // announcement id → receive times (unix nanos)

	probes   sync.Map // frame id → send time (unix nanos), for ack latency
	checkIDs sync.Map // check.report frame id → send time (unix nanos)
	checkH   *Hist
	sw       atomic.Pointer[swRun] // the software burst in progress, if any
	cursors  sync.Map              // delivery.cursor frame ids not yet acked
	pendCur  atomic.Int64
	ackH     *Hist
	techToD  *Hist
	roundH   *Hist
	errLogMu sync.Mutex
	errLogs  int
}

// NewFleet prepares a shard; Enrol and Connect bring it up.
func NewFleet(cfg FleetConfig) *Fleet {
	if cfg.DialConcurrency <= 0 {
		cfg.DialConcurrency = 64
	}
	if cfg.CursorDelay <= 0 {
		cfg.CursorDelay = 2 * time.Second
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = time.Second
	}
	if cfg.BackoffCap <= 0 {
		cfg.BackoffCap = 60 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	f := &Fleet{cfg: cfg, log: cfg.Log, ann: map[string][]int64{}, ackH: NewHist(), techToD: NewHist(), roundH: NewHist(), checkH: NewHist()}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.dialer = websocket.Dialer{HandshakeTimeout: 15 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024,
		WriteBufferPool: &sync.Pool{}}
	tr := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	f.http = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	return f
}

// sourceAddr is the loopback address device g dials from: 127.1.0.1,
// 127.1.0.2, … (never outside 127.0.0.0/8).
func sourceAddr(g, per int) *net.TCPAddr {
	if per <= 0 {
		return nil
	}
	b := g / per
	return &net.TCPAddr{IP: net.IPv4(127, byte(1+b/(250*250)), byte(b/250%250), byte(b%250+1))}
}

type creds struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// Enrol trades token for credentials for every device of the shard (or
// loads them from CredsFile when it holds enough).
func (f *Fleet) Enroll(ctx context.Context, token string) (EnrollResult, error) {
	start := time.Now()
	var cs []creds
	if f.cfg.CredsFile != "" {
		if b, err := os.ReadFile(f.cfg.CredsFile); err == nil && json.Unmarshal(b, &cs) == nil && len(cs) >= f.cfg.Count {
			f.setCreds(cs[:f.cfg.Count])
			return EnrollResult{Devices: f.cfg.Count, Cached: true}, nil
		}
	}
	cs = make([]creds, f.cfg.Count)
	var fails atomic.Int64
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				var err error
				for try := 0; try < 3; try++ {
					if cs[i], err = f.enrollOne(ctx, token, f.cfg.First+i); err == nil {
						break
					}
				}
				if err != nil {
					fails.Add(1)
					f.logErr("enrol", err)
				}
			}
		})
	}
	for i := range cs {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if n := fails.Load(); n > 0 {
		return EnrollResult{Failures: int(n)}, fmt.Errorf("enrol: %d of %d devices failed", n, len(cs))
	}
	f.setCreds(cs)
	if f.cfg.CredsFile != "" {
		b, _ := json.Marshal(cs)
		if err := os.WriteFile(f.cfg.CredsFile, b, 0o600); err != nil {
			return EnrollResult{}, fmt.Errorf("save credentials: %w", err)
		}
	}
	return EnrollResult{Devices: len(cs), Seconds: time.Since(start).Seconds()}, nil
}

func (f *Fleet) setCreds(cs []creds) {
	f.devs = make([]*device, len(cs))
	for i, c := range cs {
		f.devs[i] = &device{f: f, g: f.cfg.First + i, id: c.ID, secret: c.Secret}
	}
}

func (f *Fleet) enrollOne(ctx context.Context, token string, g int) (creds, error) {
	body, _ := json.Marshal(protocol.EnrollRequest{Token: token, Hostname: fmt.Sprintf("sim-%05d", g), User: "sim",
		OS: "linux", Arch: "amd64", AgentVersion: "1.0.0-sim"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.cfg.URL+protocol.EnrollPath, strings.NewReader(string(body)))
	if err != nil {
		return creds{}, fmt.Errorf("enrol request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.http.Do(req)
	if err != nil {
		return creds{}, fmt.Errorf("enrol: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return creds{}, fmt.Errorf("enrol: status %s", resp.Status)
	}
	var out protocol.EnrollResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return creds{}, fmt.Errorf("enrol answer: %w", err)
	}
	return creds{ID: out.DeviceID, Secret: out.DeviceSecret}, nil
}

// Connect links every device (bounded handshakes in flight, three tries
// each) and waits for every welcome.
func (f *Fleet) Connect(ctx context.Context) (ConnectResult, error) {
	start := time.Now()
	h := NewHist()
	sem := make(chan struct{}, f.cfg.DialConcurrency)
	var wg sync.WaitGroup
	var fails atomic.Int64
	for _, d := range f.devs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var err error
			for try := 0; try < 3 && ctx.Err() == nil; try++ {
				t0 := time.Now()
				if err = d.connect(ctx); err == nil {
					h.Record(time.Since(t0))
					return
				}
				f.dialFails.Add(1)
				time.Sleep(time.Duration(rand.Int64N(int64(time.Second))))
			}
			fails.Add(1)
			f.logErr("connect", err)
		})
	}
	wg.Wait()
	res := ConnectResult{Connected: int(f.online.Load()), Failed: int(fails.Load()), Seconds: time.Since(start).Seconds(),
		Handshake: h.Export()}
	return res, nil
}

// Status counts what happened to the shard's links so far.
func (f *Fleet) Status() Status {
	return Status{Devices: len(f.devs), Online: int(f.online.Load()), Welcomes: int(f.welcomes.Load()),
		DialFailures: int(f.dialFails.Load()), Unexpected: int(f.unexpected.Load()), Expected: int(f.expectedDrop.Load()),
		SlowCloses: int(f.slowCloses.Load()), PendingCursors: int(f.pendCur.Load()), GaveUp: int(f.gaveUp.Load()), LastWelcomeUnixNano: f.lastWelcome.Load()}
}

// Expect marks a window in which disconnects are planned (server restart).
func (f *Fleet) Expect(on bool) { f.expect.Store(on) }

// Announcement reports how many devices received announcement id and how
// long after t0 each did.
func (f *Fleet) Announcement(id string, t0 time.Time) AnnouncementResult {
	f.annMu.Lock()
	ts := append([]int64(nil), f.ann[id]...)
	f.annMu.Unlock()
	h := NewHist()
	var last int64
	for _, t := range ts {
		h.Record(time.Duration(t - t0.UnixNano()))
		last = max(last, t)
	}
	return AnnouncementResult{Received: len(ts), LastUnixNano: last, Latency: h.Export()}
}

// SetSlow makes the first fraction of the shard's devices stop reading (on)
// or read again (off), and returns their device ids.
func (f *Fleet) SetSlow(fraction float64, on bool) []string {
	n := int(float64(len(f.devs))*fraction + 0.5)
	f.slowMu.Lock()
	defer f.slowMu.Unlock()
	if on {
		f.slowResume = make(chan struct{})
	} else if f.slowResume != nil {
		close(f.slowResume)
		f.slowResume = nil
	}
	ids := make([]string, 0, n)
	for _, d := range f.devs[:n] {
		d.slow.Store(on)
		ids = append(ids, d.id)
	}
	return ids
}

func (f *Fleet) resumeChan() chan struct{} {
	f.slowMu.Lock()
	defer f.slowMu.Unlock()
	return f.slowResume
}

// Close stops every device without counting it as a disconnect.
func (f *Fleet) Close() {
	f.stopping.Store(true)
	f.cancel()
	f.SetSlow(0, false)
	for _, d := range f.devs {
		d.close()
	}
}

func (f *Fleet) logErr(what string, err error) {
	f.errLogMu.Lock()
	defer f.errLogMu.Unlock()
	if f.errLogs < 10 {
		f.errLogs++
		f.log.Warn("simulator: "+what, "err", err)
	}
}

// dropped sorts a lost link: planned, slow consumer or unexpected.
func (f *Fleet) dropped(d *device, err error) {
	var ce *websocket.CloseError
	isClose := errors.As(err, &ce)
	switch {
	case f.stopping.Load():
		return
	case f.expect.Load():
		f.expectedDrop.Add(1)
	case isClose && ce.Code == protocol.CloseSlowConsumer:
		f.slowCloses.Add(1)
		if !d.slow.Load() {
			f.unexpected.Add(1)
		}
	default:
		f.unexpected.Add(1)
		f.logErr("unexpected disconnect "+d.id, err)
	}
	go d.reconnect()
}
