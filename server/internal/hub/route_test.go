package hub

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/internal/bus"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// outbox is a fake store outbox shared by the nodes of a test.
type outbox struct {
	mu sync.Mutex
	m  map[string][]store.Delivery
}

func (o *outbox) add(d store.Delivery) store.Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.m[d.DeviceID] = append(o.m[d.DeviceID], d)
	return d
}

func (o *outbox) replay(_ context.Context, id string, after uint64) ([]store.Delivery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []store.Delivery
	for _, d := range o.m[id] {
		if d.Seq > after {
			out = append(out, d)
		}
	}
	return out, nil
}

func frameSeq(n uint64) store.Delivery {
	return store.Delivery{DeviceID: "d1", Seq: n, Frame: fmt.Appendf(nil, `{"type":"message","seq":%d}`, n)}
}

// Two hubs on one in-process bus: frames stored "on" node B reach the
// device linked to node A in seq order, a frame announced ahead of one
// still on its way makes A read the store, and console events reach the
// consoles of both nodes once.
func TestRouteBetweenNodes(t *testing.T) {
	net := bus.NewMem()
	ob := &outbox{m: map[string][]store.Delivery{}}
	a, b := newTestHub(t, Config{}), newTestHub(t, Config{})
	for _, th := range []*testHub{a, b} {
		if err := th.h.Attach(net.Node(), ob.replay); err != nil {
			t.Fatal(err)
		}
	}
	dev := a.dial(t, "device", "d1")
	conA, conB := a.dial(t, "console", "ta"), b.dial(t, "console", "tb")

	b.h.Deliver(ob.add(frameSeq(1)))
	ob.add(frameSeq(2)) // stored on a third node; its notice is late
	b.h.Deliver(ob.add(frameSeq(3)))
	b.h.Deliver(frameSeq(2)) // the late notice: already sent
	for n := 1; n <= 3; n++ {
		if got, want := read(t, dev), fmt.Sprintf(`"seq":%d`, n); !strings.Contains(got, want) {
			t.Fatalf("frame %d: %q, want %s", n, got, want)
		}
	}

	// An announcement through the fan-out path: one Fanout on the bus.
	sf, err := protocol.NewSeqFrame(protocol.Envelope{V: 1, Type: protocol.KindAnnouncement, ID: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	ds := []store.Delivery{ob.add(store.Delivery{DeviceID: "d1", Seq: 4, Shared: sf})}
	for i := range fanOutMin {
		ds = append(ds, store.Delivery{DeviceID: fmt.Sprint("offline-", i), Seq: 1, Shared: sf})
	}
	b.h.Deliver(ds...)
	if got := read(t, dev); !strings.Contains(got, `"announcement"`) || !strings.Contains(got, `"seq":4`) {
		t.Fatalf("announcement: %q", got)
	}

	// An unstored frame asked for on B goes to A's link.
	if !b.h.SendLive("d1", []byte(`{"type":"snapshot.want"}`)) || b.h.SendLive("nobody", []byte(`{}`)) {
		t.Fatal("SendLive across nodes: want true for d1, false for an unknown device")
	}
	if got := read(t, dev); !strings.Contains(got, "snapshot.want") {
		t.Fatalf("live frame: %q", got)
	}

	b.h.Broadcast(protocol.KindRequestCreated, map[string]string{"request_id": "r1"})
	b.h.Broadcast(protocol.KindRequestUpdated, map[string]string{"request_id": "r1"})
	for name, ws := range map[string]*websocket.Conn{"A": conA, "B": conB} {
		// Each console gets each event once: created, then updated.
		for _, want := range []protocol.Kind{protocol.KindRequestCreated, protocol.KindRequestUpdated} {
			if got := read(t, ws); !strings.Contains(got, `"`+string(want)+`"`) {
				t.Fatalf("console on %s: %q, want %s", name, got, want)
			}
		}
	}
}
