package hub

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/internal/bus"
	"github.com/deskside/deskside/shared/protocol"
)

// Ending a technician's sessions on node B closes their console links on
// node A through the bus, except the session kept; other technicians'
// consoles keep their feed.
func TestCloseConsolesAcrossNodes(t *testing.T) {
	net := bus.NewMem()
	a, b := newTestHub(t, Config{}), newTestHub(t, Config{})
	for _, th := range []*testHub{a, b} {
		if err := th.h.Attach(net.Node(), nil); err != nil {
			t.Fatal(err)
		}
	}
	ended := a.dialSession(t, "t1", "s1")
	kept := a.dialSession(t, "t1", "s2")
	other := a.dialSession(t, "t2", "s3")
	local := b.dialSession(t, "t1", "s4")
	waitFor(t, func() bool { _, na := a.h.Counts(); _, nb := b.h.Counts(); return na == 3 && nb == 1 })

	b.h.CloseConsoles(Consoles{Technician: "t1", Except: "s2", Code: 4010, Reason: "signed out"})
	for name, ws := range map[string]*websocket.Conn{"A/s1": ended, "B/s4": local} {
		if code := closeCode(t, ws); code != 4010 {
			t.Fatalf("%s: close code %d, want 4010", name, code)
		}
	}
	b.h.Broadcast(protocol.KindRequestCreated, map[string]string{"request_id": "r1"})
	for name, ws := range map[string]*websocket.Conn{"kept session": kept, "other technician": other} {
		if got := read(t, ws); !strings.Contains(got, string(protocol.KindRequestCreated)) {
			t.Fatalf("%s: %q, want the event", name, got)
		}
	}
	waitFor(t, func() bool { _, n := a.h.Counts(); return n == 2 })
}

// dialSession opens a console link for a technician's sign-in session.
func (th *testHub) dialSession(t *testing.T, tech, session string) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(th.srv.URL, "http") + "/console?" + url.Values{"id": {tech}, "session": {session}}.Encode()
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s/%s: %v", tech, session, err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}
