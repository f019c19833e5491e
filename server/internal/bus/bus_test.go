package bus_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/deskside/deskside/server/internal/bus"
)

// recorder is a Handler that keeps what it is given and takes device
// messages for the ids in hold.
type recorder struct {
	mu       sync.Mutex
	hold     map[string]bool
	devices  []string // "id kind seq frame"
	consoles []string
	fanouts  []bus.Fanout
	reconn   int
	got      chan struct{}
}

func newRecorder(hold ...string) *recorder {
	r := &recorder{hold: map[string]bool{}, got: make(chan struct{}, 100)}
	for _, id := range hold {
		r.hold[id] = true
	}
	return r
}

func (r *recorder) Device(id string, m bus.Device) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.devices = append(r.devices, fmt.Sprintf("%s %s %d %s %d %s", id, m.Kind, m.Seq, m.Frame, m.Code, m.Reason))
	r.got <- struct{}{}
	return r.hold[id]
}

func (r *recorder) Console(frame []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.consoles = append(r.consoles, string(frame))
	r.got <- struct{}{}
}

func (r *recorder) Fanout(f bus.Fanout) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fanouts = append(r.fanouts, f)
	r.got <- struct{}{}
}

func (r *recorder) Reconnected() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reconn++
}

func (r *recorder) snapshot() (devices, consoles []string, fanouts []bus.Fanout) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.devices...), append([]string(nil), r.consoles...), append([]bus.Fanout(nil), r.fanouts...)
}

func TestMemRoutesToWatchersOnly(t *testing.T) {
	m := bus.NewMem()
	a, b := m.Node(), m.Node()
	ra, rb := newRecorder("dev_1"), newRecorder()
	if err := a.Handle(ra); err != nil {
		t.Fatal(err)
	}
	if err := b.Handle(rb); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Nobody watches dev_1 yet: nothing arrives, Ask says not taken.
	_ = b.Notify("dev_1", bus.Device{Kind: bus.Deliver, Seq: 1, Frame: []byte("f1")})
	if ok, err := b.Ask(ctx, "dev_1", bus.Device{Kind: bus.Live, Frame: []byte("want")}); ok || err != nil {
		t.Fatalf("ask with no watcher: %v %v", ok, err)
	}

	stop1, _ := a.Watch("dev_1")
	stop2, _ := a.Watch("dev_1") // a second link of the same device, say
	_ = b.Notify("dev_1", bus.Device{Kind: bus.Deliver, Seq: 2, Frame: []byte("f2")})
	stop1()
	stop1() // twice is once
	if ok, _ := b.Ask(ctx, "dev_1", bus.Device{Kind: bus.Live, Frame: []byte("want")}); !ok {
		t.Fatal("ask: still watched once, want taken")
	}
	stop2()
	_ = b.Notify("dev_1", bus.Device{Kind: bus.Kick, Code: 4001, Reason: "gone"})

	_ = a.Console([]byte("from a"))
	_ = b.Console([]byte("from b"))
	f := bus.Fanout{Template: []byte(`{"type":"announcement"}`), Devices: []string{"dev_1"}, Seqs: []uint64{3}}
	_ = b.Fanout(f)

	devA, conA, fanA := ra.snapshot()
	devB, conB, fanB := rb.snapshot()
	if want := []string{"dev_1 deliver 2 f2 0 ", "dev_1 live 0 want 0 "}; !reflect.DeepEqual(devA, want) {
		t.Errorf("node a device messages %q, want %q", devA, want)
	}
	if len(devB) != 0 {
		t.Errorf("node b got device messages %q", devB)
	}
	if !reflect.DeepEqual(conA, []string{"from b"}) || !reflect.DeepEqual(conB, []string{"from a"}) {
		t.Errorf("console: a got %q, b got %q; each wants only the other's", conA, conB)
	}
	if len(fanA) != 1 || !reflect.DeepEqual(fanA[0], f) || len(fanB) != 0 {
		t.Errorf("fanout: a %+v, b %+v", fanA, fanB)
	}

	// A closed node gets nothing more.
	_ = a.Close()
	_, _ = a.Watch("dev_1")
	_ = b.Console([]byte("after close"))
	if _, con, _ := ra.snapshot(); len(con) != 1 {
		t.Errorf("closed node got %q", con)
	}
}

func TestFanoutSplit(t *testing.T) {
	f := bus.Fanout{Template: []byte("t")}
	for i := range 12 {
		f.Devices = append(f.Devices, fmt.Sprint("d", i))
		f.Seqs = append(f.Seqs, uint64(i))
	}
	parts := f.Split(5)
	if len(parts) != 3 || len(parts[2].Devices) != 2 || parts[2].Seqs[1] != 11 || parts[1].Devices[0] != "d5" {
		t.Fatalf("split: %+v", parts)
	}
	if len(f.Split(0)) != 1 || len(f.Split(12)) != 1 {
		t.Fatal("no split expected")
	}
}
