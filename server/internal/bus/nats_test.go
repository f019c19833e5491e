package bus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/bus"
)

// natsURL is the test NATS server; the test is skipped without one unless
// CI=true.
func natsURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("DESKSIDE_TEST_NATS_URL")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	p, err := url.Parse(u)
	if err == nil {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", p.Host, 2*time.Second); err == nil {
			c.Close()
			return u
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("NATS at %s is unreachable and CI=true: %v", u, err)
	}
	t.Skipf("no NATS at %s (set DESKSIDE_TEST_NATS_URL): %v", u, err)
	return ""
}

func freshCluster() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "test-" + hex.EncodeToString(b)
}

func dial(t *testing.T, cluster, node string, h bus.Handler) *bus.NATS {
	t.Helper()
	b, err := bus.DialNATS(bus.NATSOptions{URL: natsURL(t), Cluster: cluster, Node: node})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if err := b.Handle(h); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNATSSubjects(t *testing.T) {
	b := dial(t, "acme", "n1", newRecorder())
	for id, want := range map[string]string{
		"dev_0c1e2a5e-1111-4e1b-9c7f-000000000001": "deskside.acme.device.dev_0c1e2a5e-1111-4e1b-9c7f-000000000001",
		"a.b":  "deskside.acme.device.x-612e62", // a dot would split the token
		"x-41": "deskside.acme.device.x-782d3431",
		"*":    "deskside.acme.device.x-2a",
	} {
		if got := b.DeviceSubject(id); got != want {
			t.Errorf("DeviceSubject(%q) = %q, want %q", id, got, want)
		}
	}
	if got := b.NodesSubject(); got != "deskside.acme.nodes" {
		t.Errorf("NodesSubject = %q", got)
	}
	if _, err := bus.DialNATS(bus.NATSOptions{URL: natsURL(t), Cluster: "a.b", Node: "n"}); err == nil {
		t.Error("a cluster name with a dot was accepted")
	}
}

// wait waits for n messages on r.
func wait(t *testing.T, r *recorder, n int) {
	t.Helper()
	for range n {
		select {
		case <-r.got:
		case <-time.After(5 * time.Second):
			t.Fatal("timed out waiting for a bus message")
		}
	}
}

func TestNATSRoutesBetweenNodes(t *testing.T) {
	cluster := freshCluster()
	ra, rb := newRecorder("dev_1"), newRecorder()
	a := dial(t, cluster, "node-a", ra)
	b := dial(t, cluster, "node-b", rb)
	other := newRecorder("dev_1")
	dial(t, freshCluster(), "node-elsewhere", other) // another help desk on the same NATS
	ctx := context.Background()

	if ok, err := b.Ask(ctx, "dev_1", bus.Device{Kind: bus.Live, Frame: []byte("want")}); ok || err != nil {
		t.Fatalf("ask with no holder: %v %v", ok, err)
	}
	stop, err := a.Watch("dev_1")
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Notify("dev_1", bus.Device{Kind: bus.Deliver, Seq: 7, Frame: []byte(`{"seq":7}`)})
	_ = b.Notify("dev_1", bus.Device{Kind: bus.Kick, Code: 4001, Reason: "removed by IT"})
	if ok, err := b.Ask(ctx, "dev_1", bus.Device{Kind: bus.Live, Frame: []byte("want")}); !ok || err != nil {
		t.Fatalf("ask with a holder: %v %v", ok, err)
	}
	_ = a.Console([]byte("from a")) // b only: a ignores its own
	f := bus.Fanout{Template: []byte(`{"type":"announcement"}`), Devices: []string{"dev_1", "dev_2"}, Seqs: []uint64{8, 3}}
	_ = b.Fanout(f)
	wait(t, ra, 4)
	wait(t, rb, 1)

	dev, con, fan := ra.snapshot()
	want := []string{"dev_1 deliver 7 {\"seq\":7} 0 ", "dev_1 kick 0  4001 removed by IT", "dev_1 live 0 want 0 "}
	if !reflect.DeepEqual(dev, want) {
		t.Errorf("node a: %q, want %q", dev, want)
	}
	if len(con) != 0 || len(fan) != 1 || !reflect.DeepEqual(fan[0], f) {
		t.Errorf("node a: consoles %q fanouts %+v", con, fan)
	}
	if _, con, _ := rb.snapshot(); !reflect.DeepEqual(con, []string{"from a"}) {
		t.Errorf("node b consoles %q", con)
	}

	stop()
	if ok, _ := b.Ask(ctx, "dev_1", bus.Device{Kind: bus.Live, Frame: []byte("want")}); ok {
		t.Error("ask after unwatch: taken")
	}
	if d, c, f := other.snapshot(); len(d)+len(c)+len(f) > 0 {
		t.Errorf("another cluster heard %q %q %+v", d, c, f)
	}
}
