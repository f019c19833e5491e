package link

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/version"
)

// maxBadFrames unreadable frames in a row end the connection.
const maxBadFrames = 3

// session is one welcomed connection: a read loop (this goroutine), a write
// loop, a watcher for sleep and network changes.
type session struct {
	out    chan []byte
	closed chan struct{}
	once   sync.Once
}

func (s *session) enqueue(b []byte) error {
	select {
	case s.out <- b:
		return nil
	case <-s.closed:
		return ErrOffline
	default:
		return errors.New("send queue full")
	}
}

func (s *session) close() { s.once.Do(func() { close(s.closed) }) }

// session dials, says hello, waits for welcome and runs until the link
// fails. welcomed tells Run to reset the backoff.
func (l *Link) session(ctx context.Context) (welcomed bool, err error) {
	h := l.cfg.Handler
	hctx, cancel := context.WithTimeout(ctx, l.cfg.HandshakeTimeout)
	defer cancel()
	d := websocket.Dialer{
		TLSClientConfig:  l.tls,
		HandshakeTimeout: l.cfg.HandshakeTimeout,
		Proxy:            http.ProxyFromEnvironment,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
	}
	hdr := http.Header{}
	hdr.Set("Authorization", protocol.DeviceAuthHeader(l.cfg.DeviceID, l.cfg.Secret))
	hdr.Set("User-Agent", "deskside-agent/"+version.Version)
	conn, resp, err := d.DialContext(hctx, l.wsURL, hdr)
	if err != nil {
		return false, dialError(err, resp)
	}
	defer conn.Close()
	conn.SetReadLimit(protocol.MaxFrameBytes)

	hello, err := h.Hello(ctx)
	if err != nil {
		return false, fmt.Errorf("build hello: %w", err)
	}
	if hello.AgentVersion == "" {
		hello.AgentVersion = version.Version
	}
	hello.OS, hello.Arch = runtime.GOOS, runtime.GOARCH
	env, err := protocol.New(protocol.KindHello, hello)
	if err != nil {
		return false, err
	}
	b, _ := env.Marshal()
	_ = conn.SetWriteDeadline(time.Now().Add(l.cfg.HandshakeTimeout))
	if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
		return false, fmt.Errorf("send hello: %w", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(l.cfg.HandshakeTimeout))
	w, err := readWelcome(conn)
	if err != nil {
		return false, err
	}
	ping := l.cfg.PingInterval
	if w.PingSeconds > 0 {
		ping = time.Duration(w.PingSeconds) * time.Second
	}
	// Hearing nothing (no frame, no ping) for two intervals means the link is dead.
	deadline := 2*ping + 10*time.Second
	var heard atomic.Int64 // unix nanos of the last frame or ping heard
	extend := func() {
		now := time.Now()
		heard.Store(now.UnixNano())
		_ = conn.SetReadDeadline(now.Add(deadline))
	}
	extend()
	conn.SetPingHandler(func(data string) error {
		extend()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
		var ne net.Error
		if errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	conn.SetPongHandler(func(string) error { extend(); return nil })

	s := &session{out: make(chan []byte, 64), closed: make(chan struct{})}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	defer s.close()
	h.Welcome(ctx, w)
	l.mu.Lock()
	l.conn = s
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.conn = nil
		l.mu.Unlock()
	}()
	h.State(agentapi.ConnOnline, nil, time.Time{})
	l.log.Info("link up", "server", l.wsURL, "ping", ping, "replay_from", w.ReplayFrom, "replay_to", w.ReplayTo)

	cursor := make(chan uint64, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.writeLoop(sctx, conn, s, ping, &heard, cursor) }()
	go func() { defer wg.Done(); l.watch(sctx, conn) }()
	err = l.readLoop(sctx, conn, extend, cursor)
	stop()
	s.close()
	conn.Close()
	wg.Wait()
	return true, err
}

func dialError(err error, resp *http.Response) error {
	if errors.Is(err, ErrPinMismatch) {
		return err
	}
	if resp != nil {
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w (HTTP %d)", ErrUnauthorized, resp.StatusCode)
		}
		return fmt.Errorf("connect: server answered HTTP %d", resp.StatusCode)
	}
	if strings.Contains(err.Error(), ErrPinMismatch.Error()) {
		return fmt.Errorf("%w: %v", ErrPinMismatch, err)
	}
	return fmt.Errorf("connect: %w", err)
}

func readWelcome(conn *websocket.Conn) (protocol.Welcome, error) {
	var w protocol.Welcome
	_, data, err := conn.ReadMessage()
	if err != nil {
		return w, closeError("wait for welcome", err)
	}
	env, err := protocol.Parse(data)
	if err != nil {
		return w, fmt.Errorf("%w: %v", ErrGarbage, err)
	}
	switch env.Type {
	case protocol.KindWelcome:
		if err := env.Decode(&w); err != nil {
			return w, fmt.Errorf("%w: %v", ErrGarbage, err)
		}
		return w, nil
	case protocol.KindError:
		var e protocol.Error
		_ = env.Decode(&e)
		return w, fmt.Errorf("server refused hello: %s: %s", e.Code, e.Message)
	}
	return w, fmt.Errorf("%w: expected welcome, got %q", ErrGarbage, env.Type)
}

// closeError names why the server closed the link.
func closeError(what string, err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case protocol.CloseRevoked:
			return fmt.Errorf("%w: %s", ErrRevoked, ce.Text)
		case protocol.CloseTooManyBad:
			return fmt.Errorf("%w: server said: %s", ErrGarbage, ce.Text)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (l *Link) readLoop(ctx context.Context, conn *websocket.Conn, extend func(), cursor chan uint64) error {
	h := l.cfg.Handler
	bad := 0
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("link closed: %w", context.Cause(ctx))
			}
			return closeError("read", err)
		}
		extend()
		env, err := protocol.Parse(data)
		if err != nil {
			bad++
			l.log.Warn("unreadable frame", "err", err, "bytes", len(data), "in_a_row", bad)
			if bad >= maxBadFrames {
				_ = conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(protocol.CloseTooManyBad, "agent could not read the server's frames"), time.Now().Add(time.Second))
				return fmt.Errorf("%w: %v", ErrGarbage, err)
			}
			continue
		}
		bad = 0
		switch env.Type {
		case protocol.KindAck:
			var a protocol.Ack
			if err := env.Decode(&a); err == nil {
				h.Ack(ctx, a)
			}
		case protocol.KindError:
			var e protocol.Error
			if err := env.Decode(&e); err == nil {
				h.Refused(ctx, e)
			}
		case protocol.KindSnapshotWant, protocol.KindTelemetryStart, protocol.KindTelemetryStop:
			h.Control(ctx, env)
		default:
			if env.Seq == 0 {
				h.Control(ctx, env)
				continue
			}
			if err := h.Store(ctx, env); err != nil {
				// Not stored: do not advance the cursor; the server replays it
				// on the next connection.
				l.log.Error("store server frame", "type", env.Type, "seq", env.Seq, "err", err)
				return fmt.Errorf("store %s: %w", env.Type, err)
			}
			select {
			case <-cursor:
			default:
			}
			cursor <- env.Seq
		}
	}
}

// writeLoop is the connection's only writer of data frames: it resends the
// outbox (each frame once per connection), sends volatile frames, a
// delivery cursor after a quiet CursorDelay, and a ping when the server
// has been silent for a whole interval.
func (l *Link) writeLoop(ctx context.Context, conn *websocket.Conn, s *session, ping time.Duration, heard *atomic.Int64, cursor chan uint64) {
	sent := map[string]bool{}
	write := func(b []byte) bool {
		_ = conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
			l.log.Warn("write", "err", err)
			conn.Close()
			return false
		}
		return true
	}
	drain := func() bool {
		items, err := l.cfg.Handler.Pending(ctx)
		if err != nil {
			l.log.Error("read outbox", "err", err)
			return true
		}
		for _, it := range items {
			if sent[it.ID] {
				continue
			}
			if !write(it.Data) {
				return false
			}
			sent[it.ID] = true
		}
		return true
	}
	if !drain() {
		return
	}
	pingT := time.NewTicker(ping)
	defer pingT.Stop()
	var cursorT <-chan time.Time
	var pendingSeq uint64
	for {
		select {
		case <-ctx.Done():
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, "agent stopping"), time.Now().Add(time.Second))
			return
		case <-l.kick:
			if !drain() {
				return
			}
		case b := <-s.out:
			if !write(b) {
				return
			}
		case seq := <-cursor:
			pendingSeq = max(pendingSeq, seq)
			if cursorT == nil {
				cursorT = time.After(l.cfg.CursorDelay)
			}
		case <-cursorT:
			cursorT = nil
			env, _ := protocol.New(protocol.KindDeliveryCursor, protocol.DeliveryCursor{Seq: pendingSeq})
			b, _ := env.Marshal()
			if !write(b) {
				return
			}
		case <-pingT.C:
			// The server pings every interval; only when it has been quiet
			// does the agent ask, so an idle link costs one ping per interval.
			if time.Since(time.Unix(0, heard.Load())) < ping {
				continue
			}
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second)); err != nil {
				conn.Close()
				return
			}
		}
	}
}

// watch closes the connection when the machine slept (the wall clock
// jumped ahead of the monotonic clock) or the network addresses changed, so
// the agent reconnects at once instead of waiting for a dead read.
func (l *Link) watch(ctx context.Context, conn *websocket.Conn) {
	t := time.NewTicker(l.cfg.WatchInterval)
	defer t.Stop()
	last := time.Now()
	addrs := addrFingerprint()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		wallGap := now.Round(0).Sub(last.Round(0)) - now.Sub(last)
		last = now
		if wallGap > 10*time.Second || wallGap < -10*time.Second {
			l.log.Info("machine slept; reconnecting", "gap", wallGap.Round(time.Second))
			conn.Close()
			return
		}
		if a := addrFingerprint(); a != addrs {
			l.log.Info("network changed; reconnecting")
			conn.Close()
			return
		}
	}
}

func addrFingerprint() string {
	ifs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	var s []string
	for _, a := range ifs {
		s = append(s, a.String())
	}
	sort.Strings(s)
	return strings.Join(slices.Compact(s), ",")
}
