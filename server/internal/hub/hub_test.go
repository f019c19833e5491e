package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// testHub serves a WebSocket endpoint whose links are registered with a
// hub: /device?id=X as a device (ready for live deliveries after an empty
// replay), /console?id=X as a console. Clients are real gorilla clients.
type testHub struct {
	h       *Hub
	srv     *httptest.Server
	handler http.Handler

	mu    sync.Mutex
	peers map[string]*Peer // by id, latest link
}

func newTestHub(t *testing.T, cfg Config) *testHub {
	t.Helper()
	th := &testHub{h: New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil))), peers: map[string]*Peer{}}
	up := websocket.Upgrader{}
	th.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		id := r.URL.Query().Get("id")
		var p *Peer
		if strings.HasPrefix(r.URL.Path, "/console") {
			p = th.h.AddSessionConsole(ws, id, r.URL.Query().Get("session"))
		} else {
			p = th.h.AddDevice(ws, id)
			_ = th.h.Resume(p, func([]store.Delivery) []byte { return []byte(`{"type":"welcome"}`) },
				func() ([]store.Delivery, error) { return nil, nil })
		}
		th.mu.Lock()
		th.peers[id] = p
		th.mu.Unlock()
		// The read loop, as the API's: it ends when the link closes.
		go func() {
			defer func() {
				p.CloseNow(websocket.CloseNormalClosure, "")
				th.h.RemoveDevice(p)
				th.h.RemoveConsole(p)
			}()
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
	})
	th.srv = httptest.NewServer(th.handler)
	t.Cleanup(func() {
		th.h.Close()
		th.srv.Close()
	})
	return th
}

func (th *testHub) peer(id string) *Peer {
	th.mu.Lock()
	defer th.mu.Unlock()
	return th.peers[id]
}

// dial opens a link and, for a device, reads its welcome.
func (th *testHub) dial(t *testing.T, kind, id string) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(th.srv.URL, "http") + "/" + kind + "?id=" + id
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", id, err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	if kind == "device" {
		if got := read(t, ws); !strings.Contains(got, "welcome") {
			t.Fatalf("%s: first frame %q, want welcome", id, got)
		}
	}
	waitFor(t, func() bool { return th.peer(id) != nil })
	return ws
}

func read(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// closeCode reads until the link closes and returns the close code.
func closeCode(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		t.Fatalf("link ended without a close frame: %v", err)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not met within 5 s")
}

func announcement(t *testing.T) *protocol.SeqFrame { return announcementFrame(t) }

func announcementFrame(t testing.TB) *protocol.SeqFrame {
	t.Helper()
	env, err := protocol.New(protocol.KindAnnouncement, protocol.Announcement{AnnouncementID: "ann_1", Title: "Outage", Text: "Mail is down."})
	if err != nil {
		t.Fatal(err)
	}
	f, err := protocol.NewSeqFrame(env)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestBroadcastReachesEveryConsole(t *testing.T) {
	th := newTestHub(t, Config{})
	a, b := th.dial(t, "console", "tech_a"), th.dial(t, "console", "tech_b")
	dev := th.dial(t, "device", "dev_1")
	th.h.Broadcast(protocol.KindRequestCreated, map[string]string{"id": "req_1"})
	for _, ws := range []*websocket.Conn{a, b} {
		if got := read(t, ws); !strings.Contains(got, `"req_1"`) || !strings.Contains(got, string(protocol.KindRequestCreated)) {
			t.Fatalf("console got %q", got)
		}
	}
	// Console events do not go to devices.
	_ = dev.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, b, err := dev.ReadMessage(); err == nil {
		t.Fatalf("device got a console event: %s", b)
	}
	if d, c := th.h.Counts(); d != 1 || c != 2 {
		t.Fatalf("counts = %d devices, %d consoles; want 1, 2", d, c)
	}
}

func TestSendLiveRoutesToTheDevice(t *testing.T) {
	th := newTestHub(t, Config{})
	one, two := th.dial(t, "device", "dev_1"), th.dial(t, "device", "dev_2")
	if !th.h.SendLive("dev_2", []byte(`{"to":"two"}`)) {
		t.Fatal("SendLive to an online device returned false")
	}
	if th.h.SendLive("dev_offline", []byte(`{}`)) {
		t.Fatal("SendLive to an offline device returned true")
	}
	if got := read(t, two); got != `{"to":"two"}` {
		t.Fatalf("dev_2 got %q", got)
	}
	_ = one.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, b, err := one.ReadMessage(); err == nil {
		t.Fatalf("dev_1 got another device's frame: %s", b)
	}
}

func TestSecondConnectionReplacesTheFirst(t *testing.T) {
	th := newTestHub(t, Config{})
	first := th.dial(t, "device", "dev_1")
	old := th.peer("dev_1")
	second := th.dial(t, "device", "dev_1")
	waitFor(t, func() bool { return th.peer("dev_1") != old })
	if code := closeCode(t, first); code != CloseReplaced {
		t.Fatalf("first link closed with %d, want %d", code, CloseReplaced)
	}
	if !old.Closed() {
		t.Fatal("the replaced peer is not closed")
	}
	// The old link going away must not unregister the new one.
	if th.h.RemoveDevice(old) {
		t.Fatal("RemoveDevice of the replaced peer removed the current link")
	}
	if !th.h.Online("dev_1") || !th.h.SendLive("dev_1", []byte(`"still here"`)) {
		t.Fatal("the device is not online through its second link")
	}
	if got := read(t, second); got != `"still here"` {
		t.Fatalf("second link got %q", got)
	}
}

func TestQueueOverflowClosesWith4003(t *testing.T) {
	th := newTestHub(t, Config{QueueLen: 4})
	ws := th.dial(t, "device", "dev_slow")
	p := th.peer("dev_slow")
	// The client does not read; frames pile up in its socket, then in the
	// queue, which overflows long before 4,000 frames of 16 KB.
	big := make([]byte, 16<<10)
	for i := range 4000 {
		if !p.Send(big) {
			break
		}
		if i == 3999 {
			t.Fatal("4,000 frames of 16 KB queued to a link that does not read; want a 4003 close")
		}
	}
	waitFor(t, p.Closed)
	if n := th.h.SlowConsumerCloses(); n != 1 {
		t.Fatalf("SlowConsumerCloses = %d, want 1", n)
	}
	if code := closeCode(t, ws); code != CloseSlowConsumer {
		t.Fatalf("closed with %d, want %d", code, CloseSlowConsumer)
	}
}

func TestDeliverOncePerDevice(t *testing.T) {
	for _, n := range []int{3, fanOutMin * 3} { // the per-link path and the sender workers
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			th := newTestHub(t, Config{})
			links := make([]*websocket.Conn, n)
			ds := make([]store.Delivery, 0, n+1)
			f := announcement(t)
			for i := range links {
				id := fmt.Sprintf("dev_%d", i)
				links[i] = th.dial(t, "device", id)
				ds = append(ds, store.Delivery{DeviceID: id, Seq: 7, Shared: f})
			}
			ds = append(ds, store.Delivery{DeviceID: "dev_offline", Seq: 7, Shared: f})
			unlock := th.h.LockAll()
			live := th.h.Deliver(ds...)
			unlock()
			if live != n {
				t.Fatalf("Deliver sent %d live, want %d", live, n)
			}
			// The same seq again (a retried delivery) is not sent twice.
			if again := th.h.Deliver(ds...); again != 0 {
				t.Fatalf("second Deliver of the same seq sent %d live", again)
			}
			// A later frame arrives after the announcement, in seq order.
			for i := range links {
				th.h.Deliver(store.Delivery{DeviceID: fmt.Sprintf("dev_%d", i), Seq: 8, Frame: []byte(`{"seq":8}`)})
			}
			want := string(f.Frame(7))
			for i, ws := range links {
				if got := read(t, ws); got != want {
					t.Fatalf("dev_%d got %q, want %q", i, got, want)
				}
				var env struct{ Seq uint64 }
				if got := read(t, ws); json.Unmarshal([]byte(got), &env) != nil || env.Seq != 8 {
					t.Fatalf("dev_%d: after the announcement got %q, want seq 8 (no duplicate)", i, got)
				}
			}
		})
	}
}

func TestDeliverWaitsForResume(t *testing.T) {
	th := newTestHub(t, Config{})
	th.dial(t, "device", "dev_1")
	// A link registered but not resumed takes no live frames: the replay
	// that Resume runs under its lock will include them.
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		th.h.AddDevice(ws, "dev_new")
	}))
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	waitFor(t, func() bool { return th.h.Online("dev_new") })
	if live := th.h.Deliver(store.Delivery{DeviceID: "dev_new", Seq: 1, Frame: []byte(`{}`)}); live != 0 {
		t.Fatalf("a link not yet resumed got %d live frames", live)
	}
}

func TestCloseIsSafeTwice(t *testing.T) {
	th := newTestHub(t, Config{})
	dev := th.dial(t, "device", "dev_1")
	con := th.dial(t, "console", "tech_1")
	th.h.Close()
	th.h.Close()
	for _, ws := range []*websocket.Conn{dev, con} {
		if code := closeCode(t, ws); code != websocket.CloseGoingAway {
			t.Fatalf("closed with %d, want %d", code, websocket.CloseGoingAway)
		}
	}
	p := th.peer("dev_1")
	p.CloseNow(websocket.CloseNormalClosure, "")
	p.CloseNow(websocket.CloseNormalClosure, "")
	if p.Send([]byte(`{}`)) {
		t.Fatal("Send on a closed link returned true")
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("Done is not closed")
	}
}

// pipeListener serves HTTP over in-memory pipes: a write to a client that
// does not read blocks at once (no socket buffer), as a stuck device's
// write does once its buffers are full.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func (l *pipeListener) dial(context.Context, string, string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// A device that stopped reading must not hold back a broadcast: its
// sender worker gives up after directTimeout, closes it as a slow consumer
// (it resumes from its seq), and every other device has the frame long
// before that.
func TestFanOutStuckLinkIsClosedOthersGetIt(t *testing.T) {
	th := newTestHub(t, Config{})
	pl := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	srv := &http.Server{Handler: th.handler}
	go func() { _ = srv.Serve(pl) }()
	t.Cleanup(func() { _ = srv.Close() })
	d := websocket.Dialer{NetDialContext: pl.dial}
	stuck, _, err := d.Dial("ws://pipe/device?id=dev_stuck", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stuck.Close() })
	if got := read(t, stuck); !strings.Contains(got, "welcome") {
		t.Fatalf("first frame %q", got)
	}
	waitFor(t, func() bool { p := th.peer("dev_stuck"); return p != nil && th.h.Online("dev_stuck") })
	// From here dev_stuck reads nothing.

	f := announcement(t)
	n := fanOutMin + 8
	links := make([]*websocket.Conn, n)
	ds := []store.Delivery{{DeviceID: "dev_stuck", Seq: 1, Shared: f}} // first, so a worker meets it early
	for i := range links {
		id := fmt.Sprintf("dev_%d", i)
		links[i] = th.dial(t, "device", id)
		ds = append(ds, store.Delivery{DeviceID: id, Seq: 1, Shared: f})
	}
	t0 := time.Now()
	if live := th.h.Deliver(ds...); live != n+1 {
		t.Fatalf("Deliver sent %d live, want %d", live, n+1)
	}
	for i, ws := range links {
		if got := read(t, ws); got != string(f.Frame(1)) {
			t.Fatalf("dev_%d got %q", i, got)
		}
	}
	// Ordering, not timing: had the others waited for the stuck link, it
	// would already have been closed at its write deadline.
	p := th.peer("dev_stuck")
	if p.Closed() {
		t.Fatal("the other devices got the frame only after the stuck link was closed")
	}
	waitFor(t, p.Closed)
	if took := time.Since(t0); took < directTimeout {
		t.Fatalf("the stuck link was closed after %v, before the %v limit", took, directTimeout)
	}
	if got := th.h.SlowConsumerCloses(); got != 1 {
		t.Fatalf("SlowConsumerCloses = %d, want 1", got)
	}
}
