// Package devicelink is the device gateway: the WebSocket every desk keeps
// open at protocol.DevicePath. It checks the device's credentials, reads
// hello, replays the device's outbox, turns each frame from the device into
// a store call acknowledged only after the commit, tells the consoles
// through the hub, offers agent updates, and coalesces the frequent small
// writes (delivery cursors, hellos) into batches.
package devicelink

import (
	"cmp"
	"context"
	"errors"
	"github.com/deskside/deskside/server/internal/events"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/hub"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/version"
)

// Idle links dominate a fleet, so the device upgrader keeps per-link memory
// small: a 512-byte read buffer, write buffers borrowed from a pool only while a
// frame is being written, and the HTTP handler returns right after the
// upgrade (one read goroutine per link; writers exist only while writing).
var deviceUpgrader = websocket.Upgrader{
	ReadBufferSize:  512,
	WriteBufferSize: 4096,
	WriteBufferPool: &sync.Pool{},
	// Browsers cannot set the Authorization header on a WebSocket, so a
	// cross-site page cannot ride on device credentials: any Origin is fine.
	CheckOrigin: func(*http.Request) bool { return true },
}

// Options wires the gateway to its collaborators. Zero values take defaults.
type Options struct {
	Store store.Store
	Hub   *hub.Hub
	Log   *slog.Logger
	// ServerName is how the help desk calls itself in welcome ("Acme IT").
	ServerName string
	// Rate and Burst limit frames per second per device link.
	Rate  rate.Limit
	Burst int
	// HelloTimeout is how long a device has to send hello after the upgrade.
	HelloTimeout time.Duration
	// Events hears what devices did after it is stored (nil: nobody).
	Events events.Sink
	// PublicURL is the server's base URL, for console links in events.
	PublicURL string
	// Targets sets new requests' due times and tells devices at hello how
	// soon IT usually answers (nil: no targets, no expectations).
	Targets Targets
}

// Targets is the response-target clock as the gateway uses it
// (targets.Service). Both calls answer from memory.
type Targets interface {
	// Dues are the due times of a request of urgency u from a device in
	// enrolment group group, received at at (zero: no target).
	Dues(group string, u protocol.Urgency, at time.Time) (firstResponse, resolution time.Time)
	// Expectations are what a device in group hears at hello.
	Expectations(group string, now time.Time) []protocol.Expectation
}

// Gateway serves the device WebSocket. Create with New, wire the release
// service with SetUpdates before serving, Close after the hub is closed.
type Gateway struct {
	opt     Options
	st      store.Store
	hub     *hub.Hub
	log     *slog.Logger
	metrics *metrics
	updates Updates // nil: no release service
	linked  linked  // connected devices' hello, for rollout nudges
	cursors *cursors
	seen    *seen
	checks  *checkBatcher
	// inventories is the software.inventory group commit.
	inventories *invBatcher
	pruned      atomic.Int64 // unix nanoseconds of the last heads-up history pruning
	artRev      articlesRev  // published articles' revision, for welcome
}

// New builds the gateway and registers its metrics on reg.
func New(opt Options, reg prometheus.Registerer) *Gateway {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Rate == 0 {
		opt.Rate = 20
	}
	if opt.Burst == 0 {
		opt.Burst = 50
	}
	if opt.HelloTimeout == 0 {
		opt.HelloTimeout = 15 * time.Second
	}
	if opt.Events == nil {
		opt.Events = events.Discard
	}
	g := &Gateway{opt: opt, st: opt.Store, hub: opt.Hub, log: opt.Log, metrics: newMetrics(reg)}
	g.cursors = newCursors(opt.Store, opt.Log, cursorInterval)
	g.seen = newSeen(opt.Store, opt.Log, seenInterval)
	g.checks = newCheckBatcher(g)
	g.inventories = newInvBatcher(g)
	return g
}

// Close applies the delivery cursors and hellos still in memory and stops
// the heads-up group commit; call it after the hub is closed and before
// the store is. Safe to call twice.
func (g *Gateway) Close() error {
	g.checks.Close()
	g.inventories.Close()
	return errors.Join(g.cursors.Close(), g.seen.Close())
}

// FlushCursors applies the delivery cursors still in memory, for a reader
// of what they count (announcement deliveries).
func (g *Gateway) FlushCursors(ctx context.Context) error { return g.cursors.Flush(ctx) }

// WithPendingHello returns d with what the device said in a hello not yet
// written to the store (last seen, agent version, OS, arch).
func (g *Gateway) WithPendingHello(d store.Device) store.Device { return g.seen.Overlay(d) }

const maxBadFrames = 3   // invalid frames before close 4005
const maxRateStrikes = 5 // over-limit frames before close 4006

// serverCaps are the capabilities this server offers in welcome.
var serverCaps = []string{protocol.CapTelemetry, protocol.CapScreenshot, protocol.CapAnnouncement, protocol.CapChecks, protocol.CapArticles,
	protocol.CapSoftware}

// capabilities adds "update" when the release service is wired in.
func (g *Gateway) capabilities() []string {
	if g.updates == nil {
		return serverCaps
	}
	return append(append([]string(nil), serverCaps...), protocol.CapUpdate)
}

// ServeHTTP upgrades an authenticated device to its WebSocket link.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, secret, err := protocol.ParseDeviceAuth(r.Header.Get("Authorization"))
	if err != nil {
		httpjson.Error(w, http.StatusUnauthorized, "bad_credentials", "This device has no valid credentials; enrol it again.")
		return
	}
	d, err := g.st.Device(r.Context(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		g.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		httpjson.Error(w, http.StatusInternalServerError, "internal", "Something went wrong on the server; it has been logged. Please try again.")
		return
	}
	if err != nil || !auth.Equal(d.SecretHash, auth.Hash(secret)) {
		g.log.Warn("device refused: unknown id or wrong secret", "device", id, "remote", r.RemoteAddr)
		httpjson.Error(w, http.StatusUnauthorized, "bad_credentials", "The server does not know this device or its secret; enrol it again.")
		return
	}
	if d.Revoked {
		httpjson.Error(w, http.StatusForbidden, "revoked", "IT removed this device from the help desk. Ask IT if this is a mistake.")
		return
	}
	ws, err := deviceUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws.SetReadLimit(protocol.MaxFrameBytes)
	// Hello, replay and presence run here, on the handler's goroutine,
	// whose deep stack then goes away; the long-lived read loop starts on a
	// fresh goroutine with a small stack. An idle link costs ~1 KB of stack
	// instead of the 8 KB the setup needed.
	if l := g.setup(ws, d); l != nil {
		go l.readLoop()
	}
}

// link is the state of one device link, owned by its read goroutine.
type link struct {
	g       *Gateway
	p       *hub.Peer
	dev     store.Device
	lim     *rate.Limiter
	bad     int
	strikes int
	struck  time.Time
}

// setup reads hello, registers the link, queues welcome and the replay,
// and tells the consoles; nil when the link was refused or closed.
func (g *Gateway) setup(ws *websocket.Conn, dev store.Device) *link {
	_ = ws.SetReadDeadline(time.Now().Add(g.opt.HelloTimeout))
	hello, ok := g.readHello(ws, dev.ID)
	if !ok {
		_ = ws.Close()
		return nil
	}
	dev.SecretHash = nil
	p := g.hub.AddDevice(ws, dev.ID)
	l := &link{g: g, p: p, dev: dev, lim: rate.NewLimiter(g.opt.Rate, g.opt.Burst)}
	// The link outlives the upgrade request, whose context the server may
	// cancel once the handler returns: the link's store calls do not use it.
	bg := context.Background()
	// Revoked between the check at upgrade and now? Then go at once.
	if d, err := g.st.Device(bg, dev.ID); err != nil || d.Revoked {
		p.CloseNow(protocol.CloseRevoked, "this device was removed from the help desk by IT")
		l.gone()
		return nil
	}
	swHash := g.softwareHash(bg, dev.ID, hello.Capabilities)
	now := time.Now().UTC()
	g.seen.Add(dev.ID, hello.AgentVersion, hello.OS, hello.Arch, now) // written within seenInterval
	after := max(hello.LastSeq, g.cursors.Of(dev.ID))                 // a cursor not yet applied to the store still counts
	err := g.hub.ResumeAfter(p, after, func(ds []store.Delivery) []byte {
		wel := protocol.Welcome{DeviceID: dev.ID, ServerVersion: version.Version, Capabilities: g.capabilities(),
			PingSeconds: int(g.hub.Config().PingInterval / time.Second), ServerName: g.opt.ServerName,
			Revision: protocol.Revision, ArticlesRevision: g.articlesRevision(bg), SoftwareHash: swHash}
		if g.opt.Targets != nil {
			wel.Expectations = g.opt.Targets.Expectations(dev.Group, now)
		}
		if len(ds) > 0 {
			wel.ReplayFrom, wel.ReplayTo = ds[0].Seq, ds[len(ds)-1].Seq
		}
		return encodeFrame(protocol.KindWelcome, wel)
	}, func() ([]store.Delivery, error) {
		return g.st.Replay(bg, dev.ID, after)
	})
	if err != nil {
		g.log.Error("replay", "device", dev.ID, "err", err)
		p.CloseNow(websocket.CloseInternalServerErr, "the server could not read your messages; it will retry")
		l.gone()
		return nil
	}
	g.hub.Presence(protocol.Presence{DeviceID: dev.ID, Hostname: dev.Hostname, User: dev.User,
		OS: cmp.Or(hello.OS, dev.OS), Online: true, At: now})
	g.log.Debug("device online", "device", dev.ID, "last_seq", hello.LastSeq)
	ld := LinkedDevice{ID: dev.ID, OS: cmp.Or(hello.OS, dev.OS), Arch: cmp.Or(hello.Arch, dev.Arch),
		Version: cmp.Or(hello.AgentVersion, dev.AgentVersion), Caps: hello.Capabilities}
	g.linked.add(p, ld)
	ctx, cancel := context.WithTimeout(bg, storeTimeout)
	l.offerOnHello(ctx, ld) // after welcome and the replay
	l.checksOnHello(ctx, hello)
	cancel()
	timeout := g.hub.Config().ReadTimeout()
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(timeout)) })
	return l
}

// readLoop reads frames until the link ends. It is the only long-lived
// goroutine of a device link; keep its frame small.
func (l *link) readLoop() {
	defer l.gone()
	ws, timeout := l.p.WS, l.g.hub.Config().ReadTimeout()
	for {
		_ = ws.SetReadDeadline(time.Now().Add(timeout))
		_, data, err := ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				l.g.tooLarge(l.p, l.dev.ID)
			}
			return
		}
		l.handle(data)
	}
}

// tooLarge closes a link whose frame claims more than MaxFrameBytes with
// 1009. Gorilla sends that close itself only for a length it can hold in
// an int64; a header claiming 2^63 or more ends the read with the same
// ErrReadLimit and no close frame, so the close is sent here (a second
// close frame after gorilla's is ignored by the peer).
func (g *Gateway) tooLarge(p *hub.Peer, deviceID string) {
	g.metrics.badFrames.WithLabelValues("too_large").Inc()
	g.log.Warn("device frame over the size limit; closed 1009", "device", deviceID)
	p.CloseNow(websocket.CloseMessageTooBig, "frame over the size limit")
}

// gone unregisters the link and tells the consoles.
func (l *link) gone() {
	l.p.CloseNow(websocket.CloseNormalClosure, "")
	l.g.linked.remove(l.p)
	if l.g.hub.RemoveDevice(l.p) {
		l.g.hub.Presence(protocol.Presence{DeviceID: l.dev.ID, Hostname: l.dev.Hostname,
			User: l.dev.User, OS: l.dev.OS, Online: false, At: time.Now().UTC()})
	}
}

// readHello reads the first frame, which must be a hello of our version.
func (g *Gateway) readHello(ws *websocket.Conn, id string) (protocol.Hello, bool) {
	var h protocol.Hello
	closeWith := func(code int, reason string) (protocol.Hello, bool) {
		g.log.Warn("device refused at hello", "device", id, "reason", reason)
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		return h, false
	}
	_, data, err := ws.ReadMessage()
	if errors.Is(err, websocket.ErrReadLimit) {
		g.metrics.badFrames.WithLabelValues("too_large").Inc()
		return closeWith(websocket.CloseMessageTooBig, "frame over the size limit")
	}
	if err != nil {
		return h, false
	}
	env, err := protocol.Parse(data)
	switch {
	case errors.Is(err, protocol.ErrVersion):
		g.metrics.badFrames.WithLabelValues("wrong_version").Inc()
		return closeWith(protocol.CloseBadVersion, versionReason(env.V))
	case err != nil:
		g.metrics.badFrames.WithLabelValues("bad_json").Inc()
		return closeWith(protocol.CloseTooManyBad, "the first frame must be a valid hello")
	case env.Type != protocol.KindHello:
		return closeWith(protocol.CloseTooManyBad, "the first frame must be hello")
	}
	if err := env.Decode(&h); err != nil || h.LastSeq > maxSeq {
		return closeWith(protocol.CloseTooManyBad, "the hello frame is not valid")
	}
	return h, true
}

func versionReason(v int) string {
	return "this server speaks Deskside protocol v1, not v" + strconv.Itoa(v) + "; please update Deskside"
}

// send queues a frame to this device.
func (l *link) send(k protocol.Kind, body any) { l.p.Send(encodeFrame(k, body)) }

func (l *link) refuse(code, msg, ref string) {
	l.g.metrics.badFrames.WithLabelValues(code).Inc()
	l.g.log.Info("device frame refused", "device", l.dev.ID, "code", code, "ref", ref, "reason", msg)
	l.send(protocol.KindError, protocol.Error{Code: code, Message: msg, Ref: ref})
}

func (l *link) handle(data []byte) {
	if !l.lim.Allow() {
		if time.Since(l.struck) > 10*time.Second {
			l.strikes = 0
		}
		l.strikes++
		l.struck = time.Now()
		l.refuse(protocol.ErrRateLimited, "You are sending too fast; this frame was dropped. Slow down and re-send.", "")
		if l.strikes >= maxRateStrikes {
			l.p.CloseAfter(protocol.CloseRateLimited, "too many frames per second; reconnect in a little while")
		}
		return
	}
	env, err := protocol.Parse(data)
	switch {
	case errors.Is(err, protocol.ErrVersion):
		l.g.metrics.badFrames.WithLabelValues("wrong_version").Inc()
		l.p.CloseAfter(protocol.CloseBadVersion, versionReason(env.V))
		return
	case err != nil:
		l.bad++
		code := protocol.ErrBadBody
		if !errors.Is(err, protocol.ErrNoType) && !errors.Is(err, protocol.ErrNoID) {
			code = protocol.ErrBadJSON
		}
		l.refuse(code, "This frame could not be read: "+err.Error(), env.ID)
		if l.bad >= maxBadFrames {
			l.p.CloseAfter(protocol.CloseTooManyBad, "too many invalid frames; check the agent version")
		}
		return
	}
	l.g.metrics.framesIn.WithLabelValues(kindLabel(env.Type)).Inc()
	l.dispatch(env)
}

func (l *link) ack(env protocol.Envelope, res store.Result) {
	l.send(protocol.KindAck, protocol.Ack{ID: env.ID, Ref: res.Ref, Duplicate: res.Duplicate})
}

// storeFailed answers a store error: forbidden and not-found are the
// device's fault; anything else is ours, and no ack means the device retries.
func (l *link) storeFailed(env protocol.Envelope, err error) {
	switch {
	case errors.Is(err, store.ErrForbidden):
		l.g.log.Warn("device named another device's request", "device", l.dev.ID, "frame", env.ID)
		l.refuse(protocol.ErrForbidden, "That request belongs to another device.", env.ID)
	case errors.Is(err, store.ErrNotFound):
		l.refuse(protocol.ErrNotFound, "There is no such request.", env.ID)
	case errors.Is(err, store.ErrNotResolved):
		l.refuse(protocol.ErrBadBody, "You can rate a request once it is solved.", env.ID)
	default:
		l.g.log.Error("store device frame", "device", l.dev.ID, "kind", env.Type, "err", err)
		l.send(protocol.KindError, protocol.Error{Code: protocol.ErrInternal, Ref: env.ID,
			Message: "The server could not save this just now; it will be retried."})
	}
}

// encodeFrame encodes a server → device frame; our own bodies always encode.
func encodeFrame(k protocol.Kind, body any) []byte {
	env, err := protocol.New(k, body)
	if err != nil {
		panic(err) // our own bodies always encode
	}
	b, err := env.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// kindLabel keeps metric cardinality bounded: unknown kinds share a label.
func kindLabel(k protocol.Kind) string {
	switch k {
	case protocol.KindHello, protocol.KindRequestNew, protocol.KindRequestReply, protocol.KindRequestRate,
		protocol.KindRequestReopen, protocol.KindSnapshot, protocol.KindTelemetry, protocol.KindUpdateReport,
		protocol.KindDeliveryCursor, protocol.KindCheckReport, protocol.KindSoftwareInventory, protocol.KindSoftwareAnswer:
		return string(k)
	}
	return "unknown"
}
