package link

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// fakeHandler is an in-memory outbox and inbox.
type fakeHandler struct {
	mu      sync.Mutex
	outbox  []Frame
	stored  []protocol.Envelope
	acks    []string
	lastSeq uint64
	states  chan stateChange
}

type stateChange struct {
	s   agentapi.ConnState
	err error
}

func newFakeHandler() *fakeHandler { return &fakeHandler{states: make(chan stateChange, 100)} }

func (f *fakeHandler) Hello(ctx context.Context) (protocol.Hello, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return protocol.Hello{LastSeq: f.lastSeq}, nil
}
func (f *fakeHandler) Pending(ctx context.Context) ([]Frame, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Frame(nil), f.outbox...), nil
}
func (f *fakeHandler) State(s agentapi.ConnState, err error, _ time.Time) {
	f.states <- stateChange{s, err}
}
func (f *fakeHandler) Welcome(ctx context.Context, w protocol.Welcome) {}
func (f *fakeHandler) Ack(ctx context.Context, a protocol.Ack) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acks = append(f.acks, a.ID)
	for i, it := range f.outbox {
		if it.ID == a.ID {
			f.outbox = append(f.outbox[:i], f.outbox[i+1:]...)
			break
		}
	}
}
func (f *fakeHandler) Refused(ctx context.Context, e protocol.Error) {}
func (f *fakeHandler) Store(ctx context.Context, env protocol.Envelope) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stored = append(f.stored, env)
	f.lastSeq = env.Seq
	return nil
}
func (f *fakeHandler) Control(ctx context.Context, env protocol.Envelope) {}

func (f *fakeHandler) waitState(t *testing.T, want agentapi.ConnState) stateChange {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case sc := <-f.states:
			if sc.s == want {
				return sc
			}
		case <-timeout:
			t.Fatalf("state %s never came", want)
		}
	}
}

// fakeServer speaks just enough of the device protocol.
type fakeServer struct {
	t       *testing.T
	mu      sync.Mutex
	frames  []protocol.Envelope
	conns   int
	onFrame func(conn *websocket.Conn, n int, env protocol.Envelope) // n: connection number
	onOpen  func(conn *websocket.Conn, n int)
	status  int
}

func (s *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.status != 0 {
		http.Error(w, "no", s.status)
		return
	}
	if r.Header.Get("Authorization") != protocol.DeviceAuthHeader("dev_1", "s3cret") {
		http.Error(w, "who are you", http.StatusUnauthorized)
		return
	}
	up := websocket.Upgrader{}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	s.mu.Lock()
	s.conns++
	n := s.conns
	s.mu.Unlock()
	_, data, err := conn.ReadMessage()
	if err != nil {
		return
	}
	if env, err := protocol.Parse(data); err != nil || env.Type != protocol.KindHello {
		return
	}
	env, _ := protocol.New(protocol.KindWelcome, protocol.Welcome{DeviceID: "dev_1", PingSeconds: 30})
	b, _ := env.Marshal()
	_ = conn.WriteMessage(websocket.TextMessage, b)
	if s.onOpen != nil {
		s.onOpen(conn, n)
	}
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		env, err := protocol.Parse(data)
		if err != nil {
			continue
		}
		s.mu.Lock()
		s.frames = append(s.frames, env)
		s.mu.Unlock()
		if s.onFrame != nil {
			s.onFrame(conn, n, env)
		}
	}
}

func ack(conn *websocket.Conn, id string) {
	env, _ := protocol.New(protocol.KindAck, protocol.Ack{ID: id})
	b, _ := env.Marshal()
	_ = conn.WriteMessage(websocket.TextMessage, b)
}

func startLink(t *testing.T, url string, h Handler, mod func(*Config)) context.CancelFunc {
	t.Helper()
	cfg := Config{Server: url, DeviceID: "dev_1", Secret: "s3cret", Handler: h,
		BackoffBase: time.Millisecond, BackoffCap: 20 * time.Millisecond, CursorDelay: 10 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

func TestRefusesPlainTextToRemoteHost(t *testing.T) {
	for _, u := range []string{"http://help.example.com", "ws://10.0.0.1:8080"} {
		if _, err := New(Config{Server: u, Handler: newFakeHandler()}); !errors.Is(err, ErrInsecure) {
			t.Errorf("%s: err = %v, want ErrInsecure", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2", "https://help.example.com"} {
		if _, err := New(Config{Server: u, Handler: newFakeHandler()}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestBackoffFullJitterCapped(t *testing.T) {
	base, cap := time.Second, 60*time.Second
	cases := []struct {
		n    int
		r    float64
		want time.Duration
	}{{0, 1, time.Second}, {3, 0.5, 4 * time.Second}, {10, 1, cap}, {100, 0.999999, time.Duration(0.999999 * float64(cap))}, {5, 0, 0}}
	for _, c := range cases {
		if got := Backoff(c.n, base, cap, c.r); got != c.want {
			t.Errorf("Backoff(%d, r=%v) = %v, want %v", c.n, c.r, got, c.want)
		}
	}
}

func TestOutboxResentAfterReconnectUntilAcked(t *testing.T) {
	fs := &fakeServer{t: t}
	fs.onFrame = func(conn *websocket.Conn, n int, env protocol.Envelope) {
		if env.Type != protocol.KindRequestNew {
			return
		}
		if n == 1 {
			conn.Close() // lost before the ack
			return
		}
		ack(conn, env.ID)
	}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	h := newFakeHandler()
	env, _ := protocol.New(protocol.KindRequestNew, protocol.RequestNew{RequestID: "r1"})
	b, _ := env.Marshal()
	h.outbox = []Frame{{ID: env.ID, Data: b}}
	startLink(t, srv.URL, h, nil)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		done := len(h.outbox) == 0
		h.mu.Unlock()
		if done {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(h.outbox) != 0 || len(h.acks) != 1 || fs.conns < 2 {
		t.Fatalf("outbox %d, acks %d, connections %d", len(h.outbox), len(h.acks), fs.conns)
	}
	sent := 0
	for _, f := range fs.frames {
		if f.ID == env.ID {
			sent++
		}
	}
	if sent != 2 {
		t.Fatalf("frame sent %d times, want 2 (once per connection)", sent)
	}
}

func TestStoresServerFramesAndSendsCursor(t *testing.T) {
	cursor := make(chan uint64, 1)
	fs := &fakeServer{t: t}
	fs.onOpen = func(conn *websocket.Conn, n int) {
		for seq := uint64(1); seq <= 3; seq++ {
			env, _ := protocol.New(protocol.KindMessage, protocol.Message{RequestID: "r1", MessageID: "m", Text: "hi"})
			env.Seq = seq
			b, _ := env.Marshal()
			_ = conn.WriteMessage(websocket.TextMessage, b)
		}
	}
	fs.onFrame = func(conn *websocket.Conn, n int, env protocol.Envelope) {
		if env.Type == protocol.KindDeliveryCursor {
			var c protocol.DeliveryCursor
			_ = env.Decode(&c)
			cursor <- c.Seq
		}
	}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	h := newFakeHandler()
	startLink(t, srv.URL, h, nil)
	select {
	case seq := <-cursor:
		if seq != 3 {
			t.Fatalf("cursor %d, want 3", seq)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery.cursor")
	}
}

func TestWrongCredentialsAndGarbage(t *testing.T) {
	t.Run("unauthorized", func(t *testing.T) {
		srv := httptest.NewServer(&fakeServer{t: t, status: http.StatusUnauthorized})
		defer srv.Close()
		h := newFakeHandler()
		startLink(t, srv.URL, h, nil)
		if sc := h.waitState(t, agentapi.ConnOffline); !errors.Is(sc.err, ErrUnauthorized) {
			t.Fatalf("err = %v", sc.err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		fs := &fakeServer{t: t, onOpen: func(conn *websocket.Conn, n int) {
			for range 3 {
				_ = conn.WriteMessage(websocket.TextMessage, []byte("{not json"))
			}
		}}
		srv := httptest.NewServer(fs)
		defer srv.Close()
		h := newFakeHandler()
		startLink(t, srv.URL, h, nil)
		h.waitState(t, agentapi.ConnOnline)
		if sc := h.waitState(t, agentapi.ConnOffline); !errors.Is(sc.err, ErrGarbage) {
			t.Fatalf("err = %v", sc.err)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		fs := &fakeServer{t: t, onOpen: func(conn *websocket.Conn, n int) {
			_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(protocol.CloseRevoked, "removed by IT"))
		}}
		srv := httptest.NewServer(fs)
		defer srv.Close()
		h := newFakeHandler()
		startLink(t, srv.URL, h, nil)
		if sc := h.waitState(t, agentapi.ConnOffline); !errors.Is(sc.err, ErrRevoked) {
			t.Fatalf("err = %v", sc.err)
		}
	})
}

func TestCertificatePin(t *testing.T) {
	srv := httptest.NewTLSServer(&fakeServer{t: t})
	defer srv.Close()
	good := sha256.Sum256(srv.Certificate().Raw)
	t.Run("match", func(t *testing.T) {
		h := newFakeHandler()
		startLink(t, srv.URL, h, func(c *Config) { c.Pin = good[:] })
		h.waitState(t, agentapi.ConnOnline)
	})
	t.Run("mismatch", func(t *testing.T) {
		bad := sha256.Sum256([]byte("someone else's certificate"))
		h := newFakeHandler()
		startLink(t, srv.URL, h, func(c *Config) { c.Pin = bad[:] })
		sc := h.waitState(t, agentapi.ConnOffline)
		if !errors.Is(sc.err, ErrPinMismatch) {
			t.Fatalf("err = %v", sc.err)
		}
	})
	t.Run("no pin, untrusted certificate", func(t *testing.T) {
		h := newFakeHandler()
		startLink(t, srv.URL, h, nil)
		sc := h.waitState(t, agentapi.ConnOffline)
		if sc.err == nil || !strings.Contains(sc.err.Error(), "certificate") {
			t.Fatalf("err = %v", sc.err)
		}
	})
}
