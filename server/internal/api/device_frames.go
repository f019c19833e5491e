package api

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// storeTimeout bounds one device frame's store work.
const storeTimeout = 15 * time.Second

func ctxBG() context.Context { return context.Background() }

func itoa(v int) string { return strconv.Itoa(v) }

// dispatch handles one parsed device frame. Every state-changing frame is
// acknowledged only after the store call returned (a durable commit).
func (l *deviceLink) dispatch(env protocol.Envelope) {
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
		res, err := l.a.st.AddUserMessage(ctx, env.ID, store.Message{ID: b.MessageID, RequestID: b.RequestID, DeviceID: l.dev.ID,
			AuthorName: firstNonEmpty(l.dev.User, l.dev.Hostname), FromUser: true, Text: b.Text, CreatedAt: orNow(b.CreatedAt)})
		if err != nil {
			l.storeFailed(env, err)
			return
		}
		l.ack(env, res)
		if !res.Duplicate {
			l.a.hub.Broadcast(protocol.KindDeviceMessage, protocol.Message{RequestID: b.RequestID, MessageID: b.MessageID,
				DeviceID: l.dev.ID, Author: protocol.Person{Name: firstNonEmpty(l.dev.User, l.dev.Hostname)}, FromUser: true,
				Text: b.Text, CreatedAt: orNow(b.CreatedAt)})
			l.updated(ctx, b.RequestID)
		}
	case protocol.KindRequestRate:
		var b protocol.RequestRate
		if !l.decode(env, &b) {
			return
		}
		res, err := l.a.st.RateRequest(ctx, env.ID, l.dev.ID, b.RequestID, b.Rating, b.Comment)
		l.finish(ctx, env, res, err, b.RequestID)
	case protocol.KindRequestReopen:
		var b protocol.RequestReopen
		if !l.decode(env, &b) {
			return
		}
		res, err := l.a.st.ReopenRequest(ctx, env.ID, l.dev.ID, b.RequestID, b.Text, time.Now().UTC())
		l.finish(ctx, env, res, err, b.RequestID)
	case protocol.KindSnapshot:
		var b protocol.Snapshot
		if !l.decode(env, &b) {
			return
		}
		res, err := l.a.st.SaveSnapshot(ctx, env.ID, l.dev.ID, env.Body)
		if err != nil {
			l.storeFailed(env, err)
			return
		}
		l.ack(env, res)
		if !res.Duplicate {
			l.a.hub.Broadcast(protocol.KindDeviceSnapshot, protocol.DeviceSnapshot{DeviceID: l.dev.ID, Snapshot: b})
		}
	case protocol.KindTelemetry:
		var b protocol.Telemetry
		if !l.decode(env, &b) {
			return
		}
		b.DeviceID = l.dev.ID // never trust a device to name itself
		l.a.hub.Broadcast(protocol.KindDeviceTelem, b)
	case protocol.KindDeliveryCursor:
		var b protocol.DeliveryCursor
		if !l.decode(env, &b) {
			return
		}
		// Coalesced and applied in batches (see cursors): ack at once.
		l.a.cursors.Add(l.dev.ID, b.Seq)
		l.ack(env, store.Result{})
	case protocol.KindUpdateReport:
		var b protocol.UpdateReport
		if !l.decode(env, &b) {
			return
		}
		l.updateReport(ctx, env, b)
	case protocol.KindHello:
		l.refuse(protocol.ErrBadBody, "hello was already received on this link", env.ID)
	default:
		l.refuse(protocol.ErrUnknownType, "unknown message type "+strconv.Quote(string(env.Type)), env.ID)
	}
}

func (l *deviceLink) decode(env protocol.Envelope, v any) bool {
	if err := env.Decode(v); err != nil {
		l.refuse(protocol.ErrBadBody, err.Error(), env.ID)
		return false
	}
	return true
}

// finish acks a request change and tells the consoles.
func (l *deviceLink) finish(ctx context.Context, env protocol.Envelope, res store.Result, err error, requestID string) {
	if err != nil {
		l.storeFailed(env, err)
		return
	}
	l.ack(env, res)
	if !res.Duplicate {
		l.updated(ctx, requestID)
	}
}

func (l *deviceLink) updated(ctx context.Context, requestID string) {
	r, err := l.a.st.Request(ctx, requestID)
	if err != nil {
		l.a.log.Error("read request for console", "request", requestID, "err", err)
		return
	}
	l.a.hub.Broadcast(protocol.KindRequestUpdated, summary(r))
}

func (l *deviceLink) requestNew(ctx context.Context, env protocol.Envelope) {
	var b protocol.RequestNew
	if !l.decode(env, &b) {
		return
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	r := store.Request{ID: b.RequestID, DeviceID: l.dev.ID, Hostname: l.dev.Hostname, User: l.dev.User,
		Category: string(b.Category), Urgency: string(b.Urgency), Status: string(protocol.StatusNew), Text: b.Text,
		CreatedAt: orNow(b.CreatedAt), UpdatedAt: now}
	if b.Snapshot != nil {
		snap, err := json.Marshal(b.Snapshot)
		if err != nil {
			l.refuse(protocol.ErrBadBody, "the snapshot could not be encoded", env.ID)
			return
		}
		r.Snapshot = snap
		if b.Snapshot.Host.User != "" {
			r.User = b.Snapshot.Host.User
		}
	}
	var shot []byte
	if b.Screenshot != nil {
		shot, r.ScreenshotType = b.Screenshot.Data, b.Screenshot.Type
	}
	res, err := l.a.st.CreateRequest(ctx, env.ID, r, shot)
	if err != nil {
		l.storeFailed(env, err)
		return
	}
	l.ack(env, res)
	if res.Duplicate {
		return
	}
	l.a.metrics.requestsCreated.Inc()
	l.a.log.Info("request created", "device", l.dev.ID, "request", r.ID, "category", r.Category, "urgency", r.Urgency)
	l.a.hub.Broadcast(protocol.KindRequestCreated, summary(r))
}

func orNow(t time.Time) time.Time {
	if t.IsZero() || t.After(time.Now().Add(time.Hour)) {
		return time.Now().UTC().Truncate(time.Millisecond)
	}
	return t.UTC()
}
