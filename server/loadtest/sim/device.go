package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/shared/protocol"
)

// device is one simulated agent link. Its only long-lived goroutine is the
// read loop; writes happen on the caller's goroutine under mu.
type device struct {
	f      *Fleet
	g      int // global index
	id     string
	secret string

	mu        sync.Mutex // guards conn writes, conn and the cursor timer
	conn      *websocket.Conn
	cursorDue bool
	lastSeq   atomic.Uint64
	acked     atomic.Uint64 // highest seq sent in a delivery.cursor
	slow      atomic.Bool
	live      atomic.Bool
}

// connect dials, says hello with the last seq it holds, reads the welcome
// and starts the read loop.
func (d *device) connect(ctx context.Context) error {
	dl := d.f.dialer
	if la := sourceAddr(d.g, d.f.cfg.PerSourceIP); la != nil {
		nd := &net.Dialer{LocalAddr: la, Timeout: 10 * time.Second}
		dl.NetDialContext = nd.DialContext
	}
	h := http.Header{}
	h.Set("Authorization", protocol.DeviceAuthHeader(d.id, d.secret))
	u := "ws" + strings.TrimPrefix(d.f.cfg.URL, "http") + protocol.DevicePath
	conn, resp, err := dl.DialContext(ctx, u, h)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("dial device socket: %w (status %d)", err, resp.StatusCode)
		}
		return fmt.Errorf("dial device socket: %w", err)
	}
	hello, _ := protocol.New(protocol.KindHello, protocol.Hello{AgentVersion: "1.0.0-sim", OS: "linux", Arch: "amd64",
		Capabilities: []string{protocol.CapTelemetry, protocol.CapAnnouncement}, LastSeq: d.lastSeq.Load()})
	b, _ := hello.Marshal()
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
		conn.Close()
		return fmt.Errorf("send hello: %w", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, data, err := conn.ReadMessage()
	if err != nil {
		conn.Close()
		return fmt.Errorf("read welcome: %w", err)
	}
	env, err := protocol.Parse(data)
	if err != nil || env.Type != protocol.KindWelcome {
		conn.Close()
		return fmt.Errorf("first frame is %q, not welcome: %v", env.Type, err)
	}
	var w protocol.Welcome
	if err := env.Decode(&w); err != nil {
		conn.Close()
		return fmt.Errorf("welcome: %w", err)
	}
	idle := 2*time.Duration(max(w.PingSeconds, 1))*time.Second + 10*time.Second
	_ = conn.SetReadDeadline(time.Now().Add(idle))
	conn.SetPingHandler(func(s string) error {
		_ = conn.SetReadDeadline(time.Now().Add(idle))
		err := conn.WriteControl(websocket.PongMessage, []byte(s), time.Now().Add(10*time.Second))
		if err == websocket.ErrCloseSent {
			return nil
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil
		}
		return err
	})
	d.mu.Lock()
	d.conn = conn
	d.mu.Unlock()
	d.live.Store(true)
	d.f.online.Add(1)
	d.f.welcomes.Add(1)
	d.f.lastWelcome.Store(time.Now().UnixNano())
	go d.readLoop(conn, idle)
	return nil
}

func (d *device) readLoop(conn *websocket.Conn, idle time.Duration) {
	for {
		if d.slow.Load() {
			if ch := d.f.resumeChan(); ch != nil {
				select {
				case <-ch:
				case <-d.f.ctx.Done():
				}
			}
		}
		_, data, err := conn.ReadMessage()
		if err != nil {
			d.mu.Lock()
			if d.conn == conn {
				d.conn = nil
			}
			d.mu.Unlock()
			conn.Close()
			if d.live.Swap(false) {
				d.f.online.Add(-1)
			}
			d.f.dropped(d, err)
			return
		}
		_ = conn.SetReadDeadline(time.Now().Add(idle))
		d.handle(data)
	}
}

// handle records what arrived and answers as an agent would.
func (d *device) handle(data []byte) {
	now := time.Now().UnixNano()
	env, err := protocol.Parse(data)
	if err != nil {
		d.f.logErr("bad frame from server", err)
		return
	}
	if env.Seq > 0 {
		if env.Seq > d.lastSeq.Load() {
			d.lastSeq.Store(env.Seq)
		}
		d.scheduleCursor()
	}
	if run := d.f.sw.Load(); run != nil && (env.Type == protocol.KindAck || env.Type == protocol.KindError || env.Type == protocol.KindSoftwareWant) {
		run.answered(d, env, now)
	}
	switch env.Type {
	case protocol.KindAck:
		var a protocol.Ack
		if env.Decode(&a) == nil {
			if t0, ok := d.f.probes.LoadAndDelete(a.ID); ok {
				d.f.ackH.Record(time.Duration(now - t0.(int64)))
			} else if t0, ok := d.f.checkIDs.LoadAndDelete(a.ID); ok {
				d.f.checkH.Record(time.Duration(now - t0.(int64)))
			}
			d.f.cursorDone(a.ID)
		}
	case protocol.KindAnnouncement:
		var a protocol.Announcement
		if env.Decode(&a) == nil {
			d.f.annMu.Lock()
			d.f.ann[a.AnnouncementID] = append(d.f.ann[a.AnnouncementID], now)
			d.f.annMu.Unlock()
		}
	case protocol.KindMessage:
		var m protocol.Message
		if env.Decode(&m) == nil {
			if t0, t1, ok := parseProbe(m.Text); ok {
				d.f.techToD.Record(time.Duration(now - t1))
				d.f.roundH.Record(time.Duration(now - t0))
			}
		}
	case protocol.KindError:
		var e protocol.Error
		if env.Decode(&e) == nil {
			d.f.cursorDone(e.Ref)
		}
		d.f.logErr("error frame", fmt.Errorf("%s", env.Body))
	}
}

// scheduleCursor sends one delivery.cursor CursorDelay after the first
// unacknowledged seq, as the agent batches them.
func (d *device) scheduleCursor() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cursorDue {
		return
	}
	d.cursorDue = true
	delay := d.f.cfg.CursorDelay/2 + time.Duration(rand.Int64N(int64(d.f.cfg.CursorDelay)))
	time.AfterFunc(delay, func() {
		d.mu.Lock()
		d.cursorDue = false
		d.mu.Unlock()
		seq := d.lastSeq.Load()
		if seq <= d.acked.Load() {
			return
		}
		id := protocol.NewID()
		d.f.cursors.Store(id, struct{}{})
		d.f.pendCur.Add(1)
		if d.sendFrame(protocol.KindDeliveryCursor, id, protocol.DeliveryCursor{Seq: seq}) == nil {
			d.acked.Store(seq)
		} else {
			d.f.cursorDone(id)
		}
	})
}

// sendFrame writes one frame; id "" means a fresh one.
func (d *device) sendFrame(k protocol.Kind, id string, body any) error {
	if id == "" {
		id = protocol.NewID()
	}
	env, err := protocol.NewWithID(k, id, body)
	if err != nil {
		return err
	}
	b, err := env.Marshal()
	if err != nil {
		return fmt.Errorf("encode %s: %w", k, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return errOffline
	}
	_ = d.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := d.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		return fmt.Errorf("write %s: %w", k, err)
	}
	return nil
}

// cursorDone forgets a delivery.cursor frame once answered (ack or error).
func (f *Fleet) cursorDone(id string) {
	if _, ok := f.cursors.LoadAndDelete(id); ok {
		f.pendCur.Add(-1)
	}
}

type simError string

func (e simError) Error() string { return string(e) }

const errOffline = simError("device is offline")

// reconnect retries with full jitter over min(cap, base·2^n) until the
// link is back, the fleet stops, or 30 attempts failed.
func (d *device) reconnect() {
	f := d.f
	for n := 0; n < 30; n++ {
		win := min(f.cfg.BackoffCap, f.cfg.BackoffBase<<min(n, 20))
		select {
		case <-f.ctx.Done():
			return
		case <-time.After(time.Duration(rand.Int64N(int64(win)) + 1)):
		}
		if d.slow.Load() {
			if ch := f.resumeChan(); ch != nil {
				select {
				case <-ch:
				case <-f.ctx.Done():
					return
				}
			}
		}
		if err := d.connect(f.ctx); err == nil {
			return
		} else if f.ctx.Err() == nil {
			f.dialFails.Add(1)
			if !f.expect.Load() {
				f.logErr("reconnect", err)
			}
		}
	}
	f.gaveUp.Add(1)
}

func (d *device) close() {
	d.mu.Lock()
	c := d.conn
	d.conn = nil
	d.mu.Unlock()
	if c != nil {
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "simulator done"),
			time.Now().Add(time.Second))
		c.Close()
	}
}

// Probe text carries the send times so any process on this machine can
// measure the leg it sees: "probe t0=<unix ns> t1=<unix ns>".
func probeText(t0, t1 int64) string {
	s := "probe t0=" + strconv.FormatInt(t0, 10)
	if t1 > 0 {
		s += " t1=" + strconv.FormatInt(t1, 10)
	}
	return s
}

func parseProbe(s string) (t0, t1 int64, ok bool) {
	var err0, err1 error
	for _, f := range strings.Fields(s) {
		if v, found := strings.CutPrefix(f, "t0="); found {
			t0, err0 = strconv.ParseInt(v, 10, 64)
		}
		if v, found := strings.CutPrefix(f, "t1="); found {
			t1, err1 = strconv.ParseInt(v, 10, 64)
		}
	}
	return t0, t1, t0 > 0 && err0 == nil && err1 == nil
}

// marshal is json.Marshal for bodies we build ourselves.
func marshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
