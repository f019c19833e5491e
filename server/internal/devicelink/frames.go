package devicelink

import (
	"context"
	"github.com/deskside/deskside/server/internal/events"
	"math"
	"strconv"
	"time"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// storeTimeout bounds one device frame's store work.
const storeTimeout = 15 * time.Second

// maxSeq is the highest seq the store can hold (a signed 64-bit column). A
// device naming a higher one (a cursor, hello's last_seq) is refused: the
// store could not read its replay, and a cursor batch holding it would fail
// for every device in the batch.
const maxSeq = math.MaxInt64

// dispatch handles one parsed device frame. Every state-changing frame is
// acknowledged only after the store call returned (a durable commit).
func (l *link) dispatch(env protocol.Envelope) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	switch env.Type {
	case protocol.KindRequestNew:
		l.requestNew(ctx, env)
	case protocol.KindRequestReply:
		var b protocol.RequestReply
		if !l.decode(env, &b) {
			return
		}
		m := userMessageFromWire(b, l.dev)
		res, err := l.g.st.AddUserMessage(ctx, env.ID, m)
		if err != nil {
			l.storeFailed(env, err)
			return
		}
		l.ack(env, res)
		if !res.Duplicate {
			l.g.hub.Broadcast(protocol.KindDeviceMessage, m.ToWire())
			l.g.hub.Broadcast(protocol.KindRequestUpdated, res.Request.ToWire())
			l.g.publish(ctx, events.RequestUpdated, res.Request)
		}
	case protocol.KindRequestRate:
		var b protocol.RequestRate
		if !l.decode(env, &b) {
			return
		}
		res, err := l.g.st.RateRequest(ctx, env.ID, l.dev.ID, b.RequestID, b.Rating, b.Comment)
		l.finish(env, res, err)
		if err == nil && !res.Duplicate {
			l.g.publish(ctx, events.RequestRated, res.Request)
		}
	case protocol.KindRequestReopen:
		var b protocol.RequestReopen
		if !l.decode(env, &b) {
			return
		}
		at := time.Now().UTC().Truncate(time.Millisecond)
		res, err := l.g.st.ReopenRequest(ctx, env.ID, l.dev.ID, b.RequestID, b.Text, at)
		if err == nil && !res.Duplicate && b.Text != "" {
			// The user's word why is in the thread now: consoles add it
			// live, as they do a reply.
			l.g.hub.Broadcast(protocol.KindDeviceMessage, reopenMessage(env.ID, b, l.dev, at).ToWire())
		}
		l.finish(env, res, err)
		if err == nil && !res.Duplicate {
			l.g.publish(ctx, events.RequestUpdated, res.Request)
		}
	case protocol.KindSnapshot:
		var b protocol.Snapshot
		if !l.decode(env, &b) {
			return
		}
		res, err := l.g.st.SaveSnapshot(ctx, env.ID, l.dev.ID, env.Body)
		if err != nil {
			l.storeFailed(env, err)
			return
		}
		l.ack(env, res)
		if !res.Duplicate {
			l.g.hub.Broadcast(protocol.KindDeviceSnapshot, protocol.DeviceSnapshot{DeviceID: l.dev.ID, Snapshot: b})
		}
	case protocol.KindTelemetry:
		var b protocol.Telemetry
		if !l.decode(env, &b) {
			return
		}
		b.DeviceID = l.dev.ID // never trust a device to name itself
		l.g.hub.Broadcast(protocol.KindDeviceTelem, b)
	case protocol.KindDeliveryCursor:
		var b protocol.DeliveryCursor
		if !l.decode(env, &b) {
			return
		}
		if b.Seq > maxSeq {
			l.refuse(protocol.ErrBadBody, "seq is beyond any the server assigns", env.ID)
			return
		}
		// Coalesced and applied in batches (see cursors): ack at once.
		l.g.cursors.Add(l.dev.ID, b.Seq)
		l.ack(env, store.Result{})
	case protocol.KindUpdateReport:
		var b protocol.UpdateReport
		if !l.decode(env, &b) {
			return
		}
		l.updateReport(ctx, env, b)
	case protocol.KindCheckReport:
		l.checkReport(env)
	case protocol.KindArticleFeedback:
		l.articleFeedback(ctx, env)
	case protocol.KindAnnouncementMeToo:
		l.meToo(ctx, env)
	case protocol.KindSoftwareInventory:
		l.softwareInventory(env)
	case protocol.KindSoftwareAnswer:
		l.softwareAnswer(ctx, env)
	case protocol.KindHello:
		l.refuse(protocol.ErrBadBody, "hello was already received on this link", env.ID)
	default:
		l.refuse(protocol.ErrUnknownType, "unknown message type "+strconv.Quote(string(env.Type)), env.ID)
	}
}

func (l *link) decode(env protocol.Envelope, v any) bool {
	if err := env.Decode(v); err != nil {
		l.refuse(protocol.ErrBadBody, err.Error(), env.ID)
		return false
	}
	return true
}

// finish acks a request change and tells the consoles.
func (l *link) finish(env protocol.Envelope, res store.Result, err error) {
	if err != nil {
		l.storeFailed(env, err)
		return
	}
	l.ack(env, res)
	if !res.Duplicate {
		l.g.hub.Broadcast(protocol.KindRequestUpdated, res.Request.ToWire())
	}
}

func (l *link) requestNew(ctx context.Context, env protocol.Envelope) {
	var b protocol.RequestNew
	if !l.decode(env, &b) {
		return
	}
	r, shot, err := requestFromWire(b, l.dev)
	if err != nil {
		l.refuse(protocol.ErrBadBody, "the snapshot could not be encoded", env.ID)
		return
	}
	if l.g.opt.Targets != nil {
		// The clock starts when IT can see the request (received now), not
		// when the agent wrote it: one queued offline is not born late.
		r.FirstResponseDue, r.ResolutionDue = l.g.opt.Targets.Dues(l.dev.Group, r.Urgency, r.UpdatedAt)
	}
	res, err := l.g.st.CreateRequest(ctx, env.ID, r, shot)
	if err != nil {
		l.storeFailed(env, err)
		return
	}
	l.ack(env, res)
	if res.Duplicate {
		return
	}
	l.g.metrics.requestsCreated.Inc()
	l.g.log.Info("request created", "device", l.dev.ID, "request", r.ID, "category", r.Category, "urgency", r.Urgency)
	l.g.hub.Broadcast(protocol.KindRequestCreated, r.ToWire())
	l.g.publish(ctx, events.RequestCreated, r)
}

// publish tells the event sinks about a request a device changed.
func (g *Gateway) publish(ctx context.Context, t events.Type, r store.Request) {
	wire := r.ToWire()
	d := events.Data{Request: &wire}
	if g.opt.PublicURL != "" {
		d.URL = g.opt.PublicURL + "/#/requests/" + r.ID
	}
	g.opt.Events.Publish(ctx, events.New(t, d))
}
