package bus

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Subjects, under deskside.<cluster>:
//
//	deskside.<cluster>.device.<device id>   Deliver, Live (request/reply), Kick;
//	                                        subscribed by the node holding the link
//	deskside.<cluster>.nodes                console events and announcements;
//	                                        every node, its own echoes ignored
//
// Headers carry the kind, the publishing node and the numbers; the data is
// the frame itself (or a Fanout as JSON), so nothing is encoded twice.
const (
	hdrNode   = "Deskside-Node"
	hdrKind   = "Deskside-Kind"
	hdrDevice = "Deskside-Device"
	hdrSeq    = "Deskside-Seq"
	hdrCode   = "Deskside-Code"
	hdrReason = "Deskside-Reason"

	kindConsole = "console"
	kindFanout  = "fanout"

	// fanoutPart keeps an announcement part well under NATS's 1 MB
	// default message cap (~50 bytes a device).
	fanoutPart = 5000
	// deviceWorkers handle device messages, sharded by device so one
	// device's messages stay in order while a slow one holds up few others.
	deviceWorkers = 8
	deviceQueue   = 8192
)

// NATSOptions configure a NATS bus.
type NATSOptions struct {
	URL     string // nats://host:4222 (comma-separated for a cluster)
	Cluster string // subject namespace shared by the nodes of one help desk; default "default"
	Node    string // this node's id, unique among the nodes; required
	Log     *slog.Logger
}

// NATS is a bus over a NATS server. nats.go reconnects on its own and
// re-subscribes; messages published meanwhile are buffered, and after a
// reconnect the handler's Reconnected catches links up from the store.
type NATS struct {
	nc     *nats.Conn
	node   string
	prefix string
	log    *slog.Logger

	mu      sync.Mutex
	h       Handler
	all     *nats.Subscription
	watches map[string]*watch
	work    [deviceWorkers]chan *nats.Msg
	closed  bool
	done    chan struct{}
	wg      sync.WaitGroup
}

type watch struct {
	sub *nats.Subscription
	n   int
}

// DialNATS connects to the NATS server at o.URL.
func DialNATS(o NATSOptions) (*NATS, error) {
	if o.Cluster == "" {
		o.Cluster = "default"
	}
	if !validToken(o.Cluster) {
		return nil, fmt.Errorf("cluster name %q: use letters, digits, - and _", o.Cluster)
	}
	if o.Node == "" {
		return nil, errors.New("nats bus: a node id is required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	b := &NATS{node: o.Node, prefix: "deskside." + o.Cluster, log: o.Log, watches: map[string]*watch{}, done: make(chan struct{})}
	nc, err := nats.Connect(o.URL, nats.Name("deskside "+o.Node), nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond), nats.Timeout(5*time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("bus: NATS link lost; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("bus: NATS reconnected; catching links up from the store", "url", nc.ConnectedUrl())
			b.mu.Lock()
			h := b.h
			b.mu.Unlock()
			if h != nil {
				go h.Reconnected()
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", o.URL, err)
	}
	b.nc = nc
	return b, nil
}

// DeviceSubject is the subject of deviceID's messages.
func (b *NATS) DeviceSubject(deviceID string) string {
	return b.prefix + ".device." + subjectToken(deviceID)
}

// NodesSubject is the subject every node listens on.
func (b *NATS) NodesSubject() string { return b.prefix + ".nodes" }

// Handle subscribes to the nodes subject and starts the device workers.
func (b *NATS) Handle(h Handler) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.h = h
	for i := range b.work {
		ch := make(chan *nats.Msg, deviceQueue)
		b.work[i] = ch
		b.wg.Go(func() { b.deviceLoop(ch) })
	}
	sub, err := b.nc.Subscribe(b.NodesSubject(), b.onNodes)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", b.NodesSubject(), err)
	}
	b.all = sub
	if err := b.nc.FlushTimeout(5 * time.Second); err != nil {
		return fmt.Errorf("subscribe %s: %w", b.NodesSubject(), err)
	}
	return nil
}

func (b *NATS) onNodes(msg *nats.Msg) {
	if msg.Header.Get(hdrNode) == b.node {
		return // our own
	}
	switch msg.Header.Get(hdrKind) {
	case kindConsole:
		b.h.Console(msg.Data)
	case kindFanout:
		var f Fanout
		if err := json.Unmarshal(msg.Data, &f); err != nil || len(f.Devices) != len(f.Seqs) {
			b.log.Error("bus: bad announcement message", "from", msg.Header.Get(hdrNode), "err", err)
			return
		}
		b.h.Fanout(f)
	}
}

func (b *NATS) deviceLoop(ch chan *nats.Msg) {
	for {
		select {
		case <-b.done:
			return
		case msg := <-ch:
			b.onDevice(msg)
		}
	}
}

func (b *NATS) onDevice(msg *nats.Msg) {
	m, id, err := decodeDevice(msg)
	if err != nil {
		b.log.Error("bus: bad device message", "subject", msg.Subject, "err", err)
		return
	}
	taken := b.h.Device(id, m)
	if msg.Reply != "" && taken {
		_ = msg.Respond([]byte("taken"))
	}
}

// Watch subscribes to deviceID's subject (once, however often it is
// watched) and waits until the server has the subscription.
func (b *NATS) Watch(deviceID string) (func(), error) {
	b.mu.Lock()
	if b.closed || b.h == nil {
		b.mu.Unlock()
		return func() {}, ErrClosed
	}
	w := b.watches[deviceID]
	if w == nil {
		sub, err := b.nc.ChanSubscribe(b.DeviceSubject(deviceID), b.work[shard(deviceID)])
		if err != nil {
			b.mu.Unlock()
			return func() {}, fmt.Errorf("watch device %s: %w", deviceID, err)
		}
		w = &watch{sub: sub}
		b.watches[deviceID] = w
	}
	w.n++
	b.mu.Unlock()
	var once sync.Once
	unwatch := func() { once.Do(func() { b.unwatch(deviceID, w) }) }
	// The round trip makes sure the server routes to us from now on.
	if err := b.nc.FlushTimeout(5 * time.Second); err != nil {
		return unwatch, fmt.Errorf("watch device %s: %w", deviceID, err)
	}
	return unwatch, nil
}

func (b *NATS) unwatch(deviceID string, w *watch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w.n--; w.n > 0 || b.watches[deviceID] != w {
		return
	}
	delete(b.watches, deviceID)
	_ = w.sub.Unsubscribe()
}

func (b *NATS) Notify(deviceID string, m Device) error {
	if err := b.nc.PublishMsg(b.deviceMsg(deviceID, m)); err != nil {
		return fmt.Errorf("notify device %s: %w", deviceID, err)
	}
	return nil
}

// askTimeout bounds an Ask whose context has no deadline. NATS answers "no
// responders" at once only when no subscription exists; a holder that has
// just unwatched (its unsubscribe still in flight) or that declines never
// replies, so without a bound the caller would wait for ever.
const askTimeout = 3 * time.Second

func (b *NATS) Ask(ctx context.Context, deviceID string, m Device) (bool, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, askTimeout)
		defer cancel()
	}
	_, err := b.nc.RequestMsgWithContext(ctx, b.deviceMsg(deviceID, m))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return false, nil // nobody holds it, or the holder did not take it
	}
	return false, fmt.Errorf("ask device %s: %w", deviceID, err)
}

func (b *NATS) Console(frame []byte) error {
	msg := b.nodesMsg(kindConsole)
	msg.Data = frame
	if err := b.nc.PublishMsg(msg); err != nil {
		return fmt.Errorf("publish console event: %w", err)
	}
	return nil
}

func (b *NATS) Fanout(f Fanout) error {
	for _, part := range f.Split(fanoutPart) {
		data, err := json.Marshal(part)
		if err != nil {
			return fmt.Errorf("encode announcement: %w", err)
		}
		msg := b.nodesMsg(kindFanout)
		msg.Data = data
		if err := b.nc.PublishMsg(msg); err != nil {
			return fmt.Errorf("publish announcement: %w", err)
		}
	}
	return nil
}

// Close drains nothing: what is in flight is in the store. Safe to call twice.
func (b *NATS) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	b.nc.Close()
	close(b.done)
	b.wg.Wait()
	return nil
}

func (b *NATS) nodesMsg(kind string) *nats.Msg {
	msg := nats.NewMsg(b.NodesSubject())
	msg.Header.Set(hdrNode, b.node)
	msg.Header.Set(hdrKind, kind)
	return msg
}

func (b *NATS) deviceMsg(deviceID string, m Device) *nats.Msg {
	msg := nats.NewMsg(b.DeviceSubject(deviceID))
	msg.Header.Set(hdrNode, b.node)
	msg.Header.Set(hdrKind, m.Kind.String())
	msg.Header.Set(hdrDevice, deviceID)
	switch m.Kind {
	case Deliver:
		msg.Header.Set(hdrSeq, strconv.FormatUint(m.Seq, 10))
	case Kick:
		msg.Header.Set(hdrCode, strconv.Itoa(m.Code))
		msg.Header.Set(hdrReason, m.Reason)
	}
	msg.Data = m.Frame
	return msg
}

func decodeDevice(msg *nats.Msg) (Device, string, error) {
	id := msg.Header.Get(hdrDevice)
	if id == "" {
		return Device{}, "", errors.New("no device id")
	}
	m := Device{Frame: msg.Data}
	var err error
	switch msg.Header.Get(hdrKind) {
	case "deliver":
		m.Kind = Deliver
		m.Seq, err = strconv.ParseUint(msg.Header.Get(hdrSeq), 10, 64)
	case "live":
		m.Kind = Live
	case "kick":
		m.Kind = Kick
		m.Code, err = strconv.Atoi(msg.Header.Get(hdrCode))
		m.Reason = msg.Header.Get(hdrReason)
	default:
		err = fmt.Errorf("unknown kind %q", msg.Header.Get(hdrKind))
	}
	return m, id, err
}

func shard(deviceID string) int {
	f := fnv.New32a()
	_, _ = f.Write([]byte(deviceID))
	return int(f.Sum32() % deviceWorkers)
}

// validToken reports whether s can be one subject token as it is.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !ok {
			return false
		}
	}
	return true
}

// subjectToken is deviceID as one subject token: as it is when it can be
// ("dev_<uuid>"), else hex behind a prefix no valid id starts with.
func subjectToken(deviceID string) string {
	if validToken(deviceID) && !strings.HasPrefix(deviceID, "x-") {
		return deviceID
	}
	return "x-" + hex.EncodeToString([]byte(deviceID))
}
