package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/deskside/deskside/server/internal/auth"
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

const maxBadFrames = 3   // invalid frames before close 4005
const maxRateStrikes = 5 // over-limit frames before close 4006

// serverCaps are the capabilities this server offers in welcome.
var serverCaps = []string{protocol.CapTelemetry, protocol.CapScreenshot, protocol.CapAnnouncement}

// capabilities adds "update" when the release service is wired in.
func (a *API) capabilities() []string {
	if a.updates == nil {
		return serverCaps
	}
	return append(append([]string(nil), serverCaps...), protocol.CapUpdate)
}

func (a *API) deviceWS(w http.ResponseWriter, r *http.Request) {
	id, secret, err := protocol.ParseDeviceAuth(r.Header.Get("Authorization"))
	if err != nil {
		writeErr(w, http.StatusUnauthorized, "bad_credentials", "This device has no valid credentials; enrol it again.")
		return
	}
	d, err := a.st.Device(r.Context(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.internal(w, r, err)
		return
	}
	if err != nil || !auth.Equal(d.SecretHash, auth.Hash(secret)) {
		a.log.Warn("device refused: unknown id or wrong secret", "device", id, "remote", r.RemoteAddr)
		writeErr(w, http.StatusUnauthorized, "bad_credentials", "The server does not know this device or its secret; enrol it again.")
		return
	}
	if d.Revoked {
		writeErr(w, http.StatusForbidden, "revoked", "IT removed this device from the help desk. Ask IT if this is a mistake.")
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
	if l := a.deviceSetup(ws, d); l != nil {
		go l.readLoop()
	}
}

// deviceLink is the state of one device link, owned by its read goroutine.
type deviceLink struct {
	a       *API
	p       *hub.Peer
	dev     store.Device
	lim     *rate.Limiter
	bad     int
	strikes int
	struck  time.Time
}

func (a *API) readTimeout() time.Duration {
	ping := a.hub.Config().PingInterval
	return ping + ping/2 + 5*time.Second
}

// deviceSetup reads hello, registers the link, queues welcome and the
// replay, and tells the consoles; nil when the link was refused or closed.
func (a *API) deviceSetup(ws *websocket.Conn, dev store.Device) *deviceLink {
	_ = ws.SetReadDeadline(time.Now().Add(a.opt.HelloTimeout))
	hello, ok := a.readHello(ws, dev.ID)
	if !ok {
		_ = ws.Close()
		return nil
	}
	dev.SecretHash = nil
	p := a.hub.AddDevice(ws, dev.ID)
	l := &deviceLink{a: a, p: p, dev: dev, lim: rate.NewLimiter(a.opt.DeviceRate, a.opt.DeviceBurst)}
	// Revoked between the check at upgrade and now? Then go at once.
	if d, err := a.st.Device(ctxBG(), dev.ID); err != nil || d.Revoked {
		p.CloseNow(protocol.CloseRevoked, "this device was removed from the help desk by IT")
		l.gone()
		return nil
	}
	now := time.Now().UTC()
	a.seen.Add(dev.ID, hello.AgentVersion, hello.OS, hello.Arch, now) // written within seenInterval
	after := max(hello.LastSeq, a.cursors.Of(dev.ID))                 // a cursor not yet applied to the store still counts
	err := a.hub.ResumeAfter(p, after, func(ds []store.Delivery) []byte {
		wel := protocol.Welcome{DeviceID: dev.ID, ServerVersion: version.Version, Capabilities: a.capabilities(),
			PingSeconds: int(a.hub.Config().PingInterval / time.Second), ServerName: a.opt.ServerName}
		if len(ds) > 0 {
			wel.ReplayFrom, wel.ReplayTo = ds[0].Seq, ds[len(ds)-1].Seq
		}
		return frame(protocol.KindWelcome, wel)
	}, func() ([]store.Delivery, error) {
		return a.st.Replay(ctxBG(), dev.ID, after)
	})
	if err != nil {
		a.log.Error("replay", "device", dev.ID, "err", err)
		p.CloseNow(websocket.CloseInternalServerErr, "the server could not read your messages; it will retry")
		l.gone()
		return nil
	}
	a.hub.Presence(protocol.Presence{DeviceID: dev.ID, Hostname: dev.Hostname, User: dev.User,
		OS: firstNonEmpty(hello.OS, dev.OS), Online: true, At: now})
	a.log.Debug("device online", "device", dev.ID, "last_seq", hello.LastSeq)
	ld := LinkedDevice{ID: dev.ID, OS: firstNonEmpty(hello.OS, dev.OS), Arch: firstNonEmpty(hello.Arch, dev.Arch),
		Version: firstNonEmpty(hello.AgentVersion, dev.AgentVersion)}
	a.linked.add(p, ld)
	ctx, cancel := context.WithTimeout(ctxBG(), storeTimeout)
	l.offerOnHello(ctx, ld) // after welcome and the replay
	cancel()
	timeout := a.readTimeout()
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(timeout)) })
	return l
}

// readLoop reads frames until the link ends. It is the only long-lived
// goroutine of a device link; keep its frame small.
func (l *deviceLink) readLoop() {
	defer l.gone()
	ws, timeout := l.p.WS, l.a.readTimeout()
	for {
		_ = ws.SetReadDeadline(time.Now().Add(timeout))
		_, data, err := ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				l.a.metrics.badFrames.WithLabelValues("too_large").Inc()
				l.a.log.Warn("device frame over the size limit; closed 1009", "device", l.dev.ID)
			}
			return
		}
		l.handle(data)
	}
}

// gone unregisters the link and tells the consoles.
func (l *deviceLink) gone() {
	l.p.CloseNow(websocket.CloseNormalClosure, "")
	l.a.linked.remove(l.p)
	if l.a.hub.RemoveDevice(l.p) {
		l.a.hub.Presence(protocol.Presence{DeviceID: l.dev.ID, Hostname: l.dev.Hostname,
			User: l.dev.User, OS: l.dev.OS, Online: false, At: time.Now().UTC()})
	}
}

// readHello reads the first frame, which must be a hello of our version.
func (a *API) readHello(ws *websocket.Conn, id string) (protocol.Hello, bool) {
	var h protocol.Hello
	closeWith := func(code int, reason string) (protocol.Hello, bool) {
		a.log.Warn("device refused at hello", "device", id, "reason", reason)
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		return h, false
	}
	_, data, err := ws.ReadMessage()
	if err != nil {
		return h, false
	}
	env, err := protocol.Parse(data)
	switch {
	case errors.Is(err, protocol.ErrVersion):
		a.metrics.badFrames.WithLabelValues("wrong_version").Inc()
		return closeWith(protocol.CloseBadVersion, versionReason(env.V))
	case err != nil:
		a.metrics.badFrames.WithLabelValues("bad_json").Inc()
		return closeWith(protocol.CloseTooManyBad, "the first frame must be a valid hello")
	case env.Type != protocol.KindHello:
		return closeWith(protocol.CloseTooManyBad, "the first frame must be hello")
	}
	if err := env.Decode(&h); err != nil {
		return closeWith(protocol.CloseTooManyBad, "the hello frame is not valid")
	}
	return h, true
}

func versionReason(v int) string {
	return "this server speaks Deskside protocol v1, not v" + itoa(v) + "; please update Deskside"
}

// send queues a frame to this device.
func (l *deviceLink) send(k protocol.Kind, body any) { l.p.Send(frame(k, body)) }

func (l *deviceLink) refuse(code, msg, ref string) {
	l.a.metrics.badFrames.WithLabelValues(code).Inc()
	l.a.log.Info("device frame refused", "device", l.dev.ID, "code", code, "ref", ref, "reason", msg)
	l.send(protocol.KindError, protocol.Error{Code: code, Message: msg, Ref: ref})
}

func (l *deviceLink) handle(data []byte) {
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
		l.a.metrics.badFrames.WithLabelValues("wrong_version").Inc()
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
	l.a.metrics.framesIn.WithLabelValues(kindLabel(env.Type)).Inc()
	l.dispatch(env)
}

func (l *deviceLink) ack(env protocol.Envelope, res store.Result) {
	l.send(protocol.KindAck, protocol.Ack{ID: env.ID, Ref: res.Ref, Duplicate: res.Duplicate})
}

// storeFailed answers a store error: forbidden and not-found are the
// device's fault; anything else is ours, and no ack means the device retries.
func (l *deviceLink) storeFailed(env protocol.Envelope, err error) {
	switch {
	case errors.Is(err, store.ErrForbidden):
		l.a.log.Warn("device named another device's request", "device", l.dev.ID, "frame", env.ID)
		l.refuse(protocol.ErrForbidden, "That request belongs to another device.", env.ID)
	case errors.Is(err, store.ErrNotFound):
		l.refuse(protocol.ErrNotFound, "There is no such request.", env.ID)
	case errors.Is(err, store.ErrNotResolved):
		l.refuse(protocol.ErrBadBody, "You can rate a request once it is solved.", env.ID)
	default:
		l.a.log.Error("store device frame", "device", l.dev.ID, "kind", env.Type, "err", err)
		l.send(protocol.KindError, protocol.Error{Code: protocol.ErrInternal, Ref: env.ID,
			Message: "The server could not save this just now; it will be retried."})
	}
}

func frame(k protocol.Kind, body any) []byte {
	env, err := protocol.New(k, body)
	if err != nil {
		panic(err) // our own bodies always encode
	}
	b, err := json.Marshal(env)
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
		protocol.KindDeliveryCursor:
		return string(k)
	}
	return "unknown"
}
